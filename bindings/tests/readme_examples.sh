#!/usr/bin/env bash
# The Lua and Ruby examples in README.md run and print what their comments
# say. Usage: readme_examples.sh README LUA RUBY (modules on LUA_CPATH/RUBYLIB)
set -euo pipefail
readme=$1 lua=$2 ruby=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# extract HEADING LANG: the first ```LANG block after "## HEADING"
extract() {
  awk -v h="## $1" -v fence="\`\`\`$2" '
    $0 == h { in_section = 1; next }
    in_section && /^## / { exit }
    in_section && $0 == fence { in_block = 1; next }
    in_block && $0 == "```" { exit }
    in_block { print }' "$readme"
}
extract Lua lua >"$tmp/example.lua"
extract Ruby ruby >"$tmp/example.rb"
[[ -s $tmp/example.lua && -s $tmp/example.rb ]] || { echo "examples not found in $readme"; exit 1; }

"$lua" "$tmp/example.lua" >"$tmp/lua.out"
printf '12\nnil\tconnect 127.0.0.1:1: Connection refused\tECONNREFUSED\n' >"$tmp/lua.want"
diff -u "$tmp/lua.want" "$tmp/lua.out"

"$ruby" "$tmp/example.rb" >"$tmp/ruby.out"
printf '"hello\\x00world\\n"\nconnect 127.0.0.1:1: Connection refused\n' >"$tmp/ruby.want"
diff -u "$tmp/ruby.want" "$tmp/ruby.out"
echo "README examples: ok"
