#!/usr/bin/env bash
# Builds the Debian packages from debian/ and proves they work installed:
#   1. copies the checkout to a scratch directory (dpkg-buildpackage writes
#      its results next to the source tree) and runs
#      `dpkg-buildpackage -us -uc -b` there, offline, tests included
#      (debian/rules says which);
#   2. runs lintian on the result: any error fails, warnings are printed;
#   3. installs the four .debs with dpkg -i into a private copy of /usr,
#      /etc and /var (an overlay in a mount namespace of its own, so the
#      machine itself is untouched and nothing needs removing afterwards),
#      in a network namespace of its own (loopback only), and there builds
#      the README's C example with `pkg-config socketkit` against /usr, runs
#      it against a local echo peer, asks dpkg-shlibdeps what it needs, runs
#      a Lua and a Ruby one-liner against the installed modules and opens an
#      installed man page.
# Usage (as root): bash tests/packaging/deb.sh [OUTDIR]
#   OUTDIR (default /tmp/socketkit-deb) receives the .debs and the logs.
# Environment: JOBS (default 2) for the package build.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:-/tmp/socketkit-deb}
jobs=${JOBS:-2}
fail() { echo "deb: FAIL: $*"; exit 1; }
((EUID == 0)) || fail "run as root (dpkg -i into a private overlay needs it)"
# OUTDIR is emptied first: never the root, the checkout or a directory in it.
out=$(realpath -m "$out")
[[ $out != / && $out != "$root" && $out != "$root"/* ]] || fail "choose an OUTDIR outside $root"

rm -rf "$out"
mkdir -p "$out/src/socketkit"
# The files git knows about, committed or not (no build trees, no .git).
git -C "$root" ls-files -z -co --exclude-standard \
  | (cd "$root" && tar --null -T - -cf -) | tar -xf - -C "$out/src/socketkit"

echo "== dpkg-buildpackage -us -uc -b (log: $out/build.log)"
(cd "$out/src/socketkit" && DEB_BUILD_OPTIONS="parallel=$jobs" \
  dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 \
  || { tail -n 60 "$out/build.log"; fail "dpkg-buildpackage failed (see $out/build.log)"; }
grep -E '^[0-9]+% tests passed|tests? failed out of' "$out/build.log" || true
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/ 2>/dev/null || true
for pkg in libsocketkit1 libsocketkit-dev lua-socketkit ruby-socketkit; do
  ls "$out/${pkg}_"*.deb >/dev/null 2>&1 || fail "no $pkg package"
done
echo "built: $(cd "$out" && ls ./*.deb | tr '\n' ' ')"

echo "== lintian"
lintian --tag-display-limit 0 "$out"/*.changes >"$out/lintian.log" 2>&1 || true
cat "$out/lintian.log"
if grep -q '^E: ' "$out/lintian.log"; then
  fail "lintian reports errors"
fi
echo "lintian: no errors ($(grep -c '^W: ' "$out/lintian.log" || true) warnings)"

echo "== installing into a private /usr, /etc and /var and using the packages"
# The README's C example, exactly as the README shows it.
awk '/^## A short C example/ { f = 1 } f && /^```c$/ { c = 1; next } c && /^```$/ { exit } c' \
  "$root/README.md" >"$out/example.c"
[[ -s $out/example.c ]] || fail "no C example found in README.md"

cat >"$out/inside.sh" <<'EOF'
set -euo pipefail
out=$1
fail() { echo "deb: FAIL: $*"; exit 1; }
scratch=$(mktemp -d)
mount -t tmpfs tmpfs "$scratch"
for d in usr etc var; do
  mkdir -p "$scratch/$d.up" "$scratch/$d.work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$scratch/$d.up,workdir=$scratch/$d.work" "/$d"
done
ip link set lo up

dpkg -i "$out"/*.deb >"$out/install.log" 2>&1 || { cat "$out/install.log"; fail "dpkg -i failed"; }
dpkg -l libsocketkit1 libsocketkit-dev lua-socketkit ruby-socketkit | grep '^ii' \
  || fail "packages not installed"

cd "$(mktemp -d)"
cp "$out/example.c" .
flags=$(pkg-config --cflags --libs socketkit)
echo "pkg-config socketkit: $flags (version $(pkg-config --modversion socketkit))"
cc -Wall -Werror -o example example.c $flags || fail "the README example does not build"
# (/lib is /usr/lib on a merged-/usr system.)
ldd ./example | grep -qE 'libsocketkit.so.1 => (/usr)?/lib/[^ ]*/libsocketkit.so.1' \
  || fail "example does not load the installed library: $(ldd ./example)"
# The example talks to 127.0.0.1:7000: an echo peer there, in this
# network namespace only.
python3 -c '
import socket
l = socket.create_server(("127.0.0.1", 7000))
l.settimeout(30)
c, _ = l.accept()
c.settimeout(30)
c.sendall(c.recv(64))
' &
peer=$!
reply=
for _ in $(seq 50); do
  if reply=$(timeout 10 ./example 2>&1); then break; fi
  sleep 0.1
done
wait "$peer" || true
[[ $reply == hello ]] || fail "example printed '$reply', not 'hello'"
echo "README example: built against /usr with pkg-config, echoed: $reply"

# dpkg-shlibdeps reads the installed symbols file: the example uses 1.0
# functions only, so it needs libsocketkit1 from 1.0.0 on.
mkdir -p debian && printf 'Source: x\n\nPackage: x\nArchitecture: any\n' >debian/control
dep=$(dpkg-shlibdeps -O example 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
echo "dpkg-shlibdeps: $dep"
[[ $dep == *"libsocketkit1 (>= 1.0.0)"* ]] || fail "dpkg-shlibdeps gave '$dep'"
# A program that uses a symbol added later needs that version: take the
# installed symbols file's newest function and link against it.
read -r newest since < <(awk '$1 ~ /^sk_/ { split($1, s, "@"); print s[1], $2 }' \
  /var/lib/dpkg/info/libsocketkit1:*.symbols | sort -k2,2V | tail -n1)
if [[ $since != 1.0.0 ]]; then
  printf 'extern void %s(void);\nint main(void) { void (*volatile f)(void) = %s; return f == 0; }\n' \
    "$newest" "$newest" >newer.c
  cc -o newer newer.c $flags || fail "a program using $newest does not link"
  dep=$(dpkg-shlibdeps -O newer 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
  echo "dpkg-shlibdeps for a program using $newest: $dep"
  [[ $dep == *"libsocketkit1 (>= $since)"* ]] || fail "dpkg-shlibdeps gave '$dep', not >= $since"
fi

lua=$(lua5.4 -e 'local sk = require "socketkit"
  local a, b = assert(sk.socketpair()); assert(a:sendall("ping")); io.write(b:recv(4), " ", sk.version(),
  " ", package.searchpath("socketkit", package.cpath))')
echo "lua5.4: $lua"
[[ $lua == "ping "*" /usr/lib/"*"/lua/5.4/socketkit.so" ]] || fail "Lua one-liner: $lua"
luajit=$(luajit -e 'local sk = require "socketkit"; local a, b = assert(sk.socketpair());
  assert(a:sendall("pong")); io.write(b:recv(4))')
[[ $luajit == pong ]] || fail "LuaJIT one-liner: $luajit"
echo "luajit: $luajit"

rb=$(ruby -e 'require "socketkit"; a, b = SocketKit::Socket.pair; a.sendall("ping");
  print b.recv(4), " ", SocketKit.version, " ", $LOADED_FEATURES.grep(/socketkit_ext/).first')
echo "ruby: $rb"
[[ $rb == "ping "*" /usr/lib/"*"/socketkit_ext.so" ]] || fail "Ruby one-liner: $rb"

page=$(man -w sk_recv)
echo "man -w sk_recv: $page"
[[ $page == /usr/share/man/man3/sk_recv.3* ]] || fail "sk_recv(3) not installed"
man --warnings -l "$page" 2>&1 >/dev/null | grep . && fail "sk_recv(3) renders with warnings"
man -P cat socketkit 2>/dev/null | grep -q 'CONVENTIONS' || fail "socketkit(7) not found by man"
echo "man pages: sk_recv(3) and socketkit(7) installed and render"
EOF
unshare --mount --net --propagation private bash "$out/inside.sh" "$out" \
  || fail "the installed packages do not work"
echo "deb: OK ($out)"
