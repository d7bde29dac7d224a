#!/usr/bin/env bash
# gem build + gem install of the local file, from a copy of bindings/,
# against libsocketkit installed in a temporary prefix, into a temporary
# gem home, offline; the gem then loads with a plain require.
# Usage: gem.sh BUILD_DIR BINDINGS_SRC GEM RUBY
set -euo pipefail
build=$1 src=$2 gem=$3 ruby=$4
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
cp -r "$src" "$tmp/src"
cd "$tmp/src"
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
"$gem" build socketkit.gemspec >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
"$gem" install --local --no-document --install-dir "$tmp/gems" ./socketkit-1.0.0.gem \
  -- --with-socketkit-dir="$tmp/prefix" >"$tmp/gem-install.log" 2>&1 \
  || { cat "$tmp/gem-install.log"; find "$tmp/gems" -name mkmf.log -exec cat {} +; exit 1; }
GEM_HOME="$tmp/gems" GEM_PATH="$tmp/gems" "$ruby" "$here/smoke.rb"
echo "gem build + install: ok"
