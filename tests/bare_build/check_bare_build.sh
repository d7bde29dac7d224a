#!/usr/bin/env bash
# The build a C user with only a compiler and CMake makes:
#   cmake -S . -B b && cmake --build b && cmake --install b
# with every optional part's tools hidden (CMAKE_DISABLE_FIND_PACKAGE_* for
# pkg-config, python3, SWIG and Ruby; the ABI checks and the libffi tests
# need python3 and pkg-config too). Configure must name each skipped part
# once, build and install must give a library a program links and runs
# against, and asking for a hidden part must make configure fail.
# Usage: check_bare_build.sh SOURCE_DIR C_COMPILER CXX_COMPILER GENERATOR
set -euo pipefail
src=$1 cc=$2 cxx=$3 generator=$4

tmp=$(mktemp -d /tmp/sk-bare.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

hide=(-DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON -DCMAKE_DISABLE_FIND_PACKAGE_Python3=ON
      -DCMAKE_DISABLE_FIND_PACKAGE_SWIG=ON -DCMAKE_DISABLE_FIND_PACKAGE_Ruby=ON)
b=$tmp/b
cmake -S "$src" -B "$b" -G "$generator" -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  "${hide[@]}" >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; fail "bare configure failed"; }

for part in "the C test suites" "the ABI description" "the libffi tests" "the ABI checks" \
            "the Lua and Ruby modules" "the man pages"; do
  n=$(grep -c "socketkit: not building $part" "$tmp/configure.log" || true)
  [[ $n == 1 ]] || { cat "$tmp/configure.log"; fail "expected one message skipping $part, got $n"; }
done
echo "configure skipped each part once"

cmake --build "$b" -j 2 >"$tmp/build.log" 2>&1 || { tail -n 40 "$tmp/build.log"; fail "bare build failed"; }
DESTDIR=$tmp/stage cmake --install "$b" --prefix /usr/local >"$tmp/install.log" 2>&1 \
  || { cat "$tmp/install.log"; fail "bare install failed"; }
P=$tmp/stage/usr/local
lib=$(find "$P" -name libsocketkit.so.1 | head -n1)
[[ -n $lib ]] || fail "libsocketkit.so.1 not installed"
for f in include/socketkit.h "$(dirname "${lib#"$P"/}")/pkgconfig/socketkit.pc"; do
  [[ -f $P/$f ]] || fail "$f not installed"
done
[[ -n $(find "$P" -name socketkitConfig.cmake) ]] || fail "the CMake package is not installed"
[[ -z $(find "$P" -name 'socketkit.abi.json' -o -name 'socketkit_ext.so' -o -path '*lua*' -o -path '*/man/*') ]] \
  || fail "a skipped part was installed: $(find "$P" -type f)"
"$cc" -std=c99 -I"$P/include" "$src/tests/install/consumer/consumer.c" -o "$tmp/consumer" \
  -L"$(dirname "$lib")" -lsocketkit -Wl,-rpath,"$(dirname "$lib")" || fail "consumer did not build"
"$tmp/consumer" || fail "consumer failed against the bare install"
echo "bare build installed a working library"

# Asked for explicitly, a part whose tools are missing fails the configure
# and says what is missing.
asked() {  # asked OPTION WORD: configure must fail and mention WORD
  local parts=(-DSOCKETKIT_TESTS=AUTO -DSOCKETKIT_ABI_JSON=AUTO -DSOCKETKIT_FFI=AUTO
               -DSOCKETKIT_ABI_CHECKS=AUTO -DSOCKETKIT_BINDINGS=AUTO -DSOCKETKIT_MAN=AUTO)
  if cmake -S "$src" -B "$b" "${hide[@]}" "${parts[@]}" "-D$1=ON" >"$tmp/asked.log" 2>&1; then
    cat "$tmp/asked.log"; fail "-D$1=ON configured without its tools"
  fi
  # CMake wraps the message's lines.
  tr -s ' \n' '  ' <"$tmp/asked.log" | grep -q "$1=ON asks for .*$2" \
    || { cat "$tmp/asked.log"; fail "-D$1=ON failed without naming $2"; }
}
asked SOCKETKIT_BINDINGS SWIG
asked SOCKETKIT_TESTS pkg-config
asked SOCKETKIT_ABI_JSON python3
asked SOCKETKIT_FFI pkg-config
asked SOCKETKIT_ABI_CHECKS python3
asked SOCKETKIT_MAN python3
echo "each part asked for with ON fails loudly without its tools"
