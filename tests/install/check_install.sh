#!/usr/bin/env bash
# Installs a built tree into a scratch prefix and builds a consumer against
# it the two ways users do: find_package(socketkit CONFIG) and pkg-config.
# Usage: check_install.sh BUILD_DIR CONSUMER_SRC C_COMPILER CXX_COMPILER [SANITIZE]
set -euo pipefail
build=$1 src=$2 cc=$3 cxx=$4 sanitize=${5:-}

tmp=$(mktemp -d /tmp/sk-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# DESTDIR as well as --prefix: a component that installs to an absolute
# path (an interpreter's module directory) then still lands in the scratch
# tree instead of the real system.
stage=$tmp/stage
prefix=/opt/socketkit
P=$stage$prefix
DESTDIR=$stage cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
echo "installed into $P"

fail() { echo "FAIL: $*"; exit 1; }

# Only the public header may be installed, and only as include/socketkit.h.
headers=$(cd "$stage" && find . -type f \( -name '*.h' -o -name '*.hpp' -o -name '*.hh' \
  -o -name '*.hxx' -o -name '*.ipp' -o -name '*.tcc' \) | sort)
[[ "$headers" == "./${prefix#/}/include/socketkit.h" ]] \
  || fail "installed headers should be exactly include/socketkit.h, got: ${headers:-none}"

lib=$(find "$P" -name 'libsocketkit.so.1' | head -n1)
[[ -n $lib ]] || fail "libsocketkit.so.1 not installed"
libdir=$(dirname "$lib")
[[ -e $libdir/libsocketkit.so ]] || fail "no libsocketkit.so development link in $libdir"
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
[[ $soname == libsocketkit.so.1 ]] || fail "SONAME is '$soname'"

extra_flags=()
if [[ -n $sanitize ]]; then
  extra_flags=("-DCMAKE_C_FLAGS=-fsanitize=$sanitize" "-DCMAKE_CXX_FLAGS=-fsanitize=$sanitize")
fi

# 1. CMake package, found through CMAKE_PREFIX_PATH only.
cmake -S "$src" -B "$tmp/cmake-consumer" -DCMAKE_PREFIX_PATH="$P" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" "${extra_flags[@]}" \
  >"$tmp/cmake-consumer.log" 2>&1 || { cat "$tmp/cmake-consumer.log"; fail "find_package(socketkit CONFIG) consumer did not configure"; }
cmake --build "$tmp/cmake-consumer" >>"$tmp/cmake-consumer.log" 2>&1 \
  || { cat "$tmp/cmake-consumer.log"; fail "find_package consumer did not build"; }
for exe in consumer consumer_cxx; do
  deps=$(ldd "$tmp/cmake-consumer/$exe")
  [[ $deps == *"libsocketkit.so.1 => $libdir/"* ]] \
    || fail "$exe does not load the installed library: $deps"
  "$tmp/cmake-consumer/$exe" || fail "find_package $exe failed"
done

# 2. pkg-config. The .pc file names its paths relative to ${prefix}; point
#    prefix at the scratch tree the way a staged install is inspected.
pc=$(find "$P" -name socketkit.pc | head -n1)
[[ -n $pc ]] || fail "socketkit.pc not installed"
export PKG_CONFIG_PATH=$(dirname "$pc")
pkgflags=(--define-variable=prefix="$P")
pkg-config "${pkgflags[@]}" --exists socketkit || fail "pkg-config does not find socketkit"
# The version is written only in the header's SK_VERSION_* lines.
hdr_version=$(awk '$1 == "#define" && $2 ~ /^SK_VERSION_(MAJOR|MINOR|PATCH)$/ {v[$2] = $3}
  END {print v["SK_VERSION_MAJOR"] "." v["SK_VERSION_MINOR"] "." v["SK_VERSION_PATCH"]}' \
  "$P/include/socketkit.h")
[[ $hdr_version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "no version in the installed header: '$hdr_version'"
pc_version=$(pkg-config "${pkgflags[@]}" --modversion socketkit)
[[ $pc_version == "$hdr_version" ]] || fail "pkg-config version is $pc_version, the header says $hdr_version"
cmake_version=$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")$/\1/p' "$libdir/cmake/socketkit/socketkitConfigVersion.cmake")
[[ $cmake_version == "$hdr_version" ]] || fail "CMake package version is '$cmake_version', the header says $hdr_version"
flags=$(pkg-config "${pkgflags[@]}" --cflags --libs socketkit)
[[ $flags == *"-I$P/"* && $flags == *"-L$P/"* ]] || fail "pkg-config flags do not point into the prefix: $flags"
pclibdir=$(pkg-config "${pkgflags[@]}" --variable=libdir socketkit)
# shellcheck disable=SC2086  # pkg-config output is a word list by design
"$cc" -std=c99 -Wall -Wextra -Werror ${sanitize:+-fsanitize=$sanitize} "$src/consumer.c" -o "$tmp/pc-consumer" \
  $flags -Wl,-rpath,"$pclibdir" || fail "pkg-config consumer did not build"
deps=$(ldd "$tmp/pc-consumer")
[[ $deps == *"libsocketkit.so.1 => $libdir/"* ]] || fail "pkg-config consumer does not load the installed library: $deps"
"$tmp/pc-consumer" || fail "pkg-config consumer failed"

echo "install check passed"
