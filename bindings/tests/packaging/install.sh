#!/usr/bin/env bash
# cmake --install puts the Lua module and the Ruby extension where lua5.4
# and ruby look by default (for the /usr/local and /usr prefixes), and they
# load from there. Installs into a DESTDIR under a temporary directory.
# Usage: install.sh BUILD_DIR LUA RUBY
set -euo pipefail
build=$1 lua=$2 ruby=$3
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
prefix=$(cache CMAKE_INSTALL_PREFIX)
libdir=$(cache CMAKE_INSTALL_LIBDIR)
luadir=$prefix/$(cache SOCKETKIT_LUA_CMOD_DIR)
rblib=$prefix/$(cache SOCKETKIT_RUBY_LIB_DIR)
rbarch=$prefix/$(cache SOCKETKIT_RUBY_ARCH_DIR)

DESTDIR=$tmp cmake --install "$build" >"$tmp/install.log"
for f in "$luadir/socketkit.so" "$rblib/socketkit.rb" "$rbarch/socketkit_ext.so"; do
  [[ -f $tmp$f ]] || { echo "not installed: $f"; cat "$tmp/install.log"; exit 1; }
done

# The default search paths of the interpreters contain the install dirs.
if [[ $prefix == /usr/local || $prefix == /usr ]]; then
  "$lua" -e "assert(package.cpath:find('$luadir/?.so', 1, true), package.cpath)"
  "$ruby" -e "abort \$LOAD_PATH.inspect unless \$LOAD_PATH.include?('$rblib') && \$LOAD_PATH.include?('$rbarch')"
  echo "install dirs are on the default paths: $luadir, $rblib, $rbarch"
else
  echo "prefix $prefix: LUA_CPATH and RUBYLIB are needed (see README)"
fi

# The installed modules find the installed library through their RUNPATH.
for so in "$tmp$luadir/socketkit.so" "$tmp$rbarch/socketkit_ext.so"; do
  readelf -d "$so" | grep -Eq "(RUNPATH|RPATH).*$prefix/$libdir" \
    || { echo "$so has no RUNPATH to $prefix/$libdir"; exit 1; }
done
# Under DESTDIR that path is not there yet, so point the loader at it.
export LD_LIBRARY_PATH=$tmp$prefix/$libdir
LUA_CPATH="$tmp$luadir/?.so" "$lua" "$here/smoke.lua"
RUBYLIB="$tmp$rblib:$tmp$rbarch" "$ruby" "$here/smoke.rb"

# The Lua 5.1 module, when built, goes where lua5.1 and LuaJIT look.
if [[ -f $build/bindings/lua51/socketkit.so ]]; then
  lua51dir=$prefix/$(cache SOCKETKIT_LUA51_CMOD_DIR)
  [[ -f $tmp$lua51dir/socketkit.so ]] || { echo "not installed: $lua51dir/socketkit.so"; exit 1; }
  for interp in lua5.1 luajit; do
    command -v "$interp" >/dev/null || continue
    if [[ $prefix == /usr/local || $prefix == /usr ]]; then
      "$interp" -e "assert(package.cpath:find('$lua51dir/?.so', 1, true), package.cpath)"
    fi
    LUA_CPATH="$tmp$lua51dir/?.so" "$interp" -e '
      local sk = require "socketkit"
      local a, b = assert(sk.socketpair())
      assert(a:sendall("installed\0ok"))
      assert(b:recv(100) == "installed\0ok")
      print("lua 5.1 module under " .. (jit and jit.version or _VERSION))'
  done
fi
