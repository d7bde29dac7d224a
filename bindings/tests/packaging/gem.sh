#!/usr/bin/env bash
# gem build + gem install of the local file, from a copy of bindings/,
# against libsocketkit installed in a temporary prefix, into a temporary
# gem home, offline; the gem then loads with a plain require. The gemspec
# reads the version from ../capi/include/socketkit.h, so the header comes
# along in the copy; VERSION is the one the build read from it.
# Usage: gem.sh BUILD_DIR SOURCE_DIR GEM RUBY VERSION
set -euo pipefail
build=$1 src=$2 gem=$3 ruby=$4 version=$5
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
mkdir -p "$tmp/src/capi/include"
cp -r "$src/bindings" "$tmp/src/bindings"
cp "$src/capi/include/socketkit.h" "$tmp/src/capi/include/"
cd "$tmp/src/bindings"
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
"$gem" build socketkit.gemspec >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
"$gem" install --local --no-document --install-dir "$tmp/gems" "./socketkit-$version.gem" \
  -- --with-socketkit-dir="$tmp/prefix" >"$tmp/gem-install.log" 2>&1 \
  || { cat "$tmp/gem-install.log"; find "$tmp/gems" -name mkmf.log -exec cat {} +; exit 1; }
GEM_HOME="$tmp/gems" GEM_PATH="$tmp/gems" "$ruby" "$here/smoke.rb"
echo "gem build + install: ok"
