#!/usr/bin/env python3
"""debian/libsocketkit1.symbols against the built library.

The symbols file tells dpkg-shlibdeps the minimum libsocketkit1 version a
program needs: each exported symbol with the version of the library that
introduced it, which is the symbol-version node it lives in (SOCKETKIT_1:
1.0.0, SOCKETKIT_1.1: 1.1.0, ...). It is checked in, as Debian wants (it is
the record of when each symbol appeared), and this script keeps it honest.

usage: deb_symbols.py LIBRARY SYMBOLS_FILE CHANGELOG PROJECT_VERSION
         check: every symbol nm -D shows is listed, at its node's version,
         and nothing else; the changelog's version is the project's.
       deb_symbols.py --write LIBRARY SYMBOLS_FILE
         rewrite the file from the library (after adding functions).
"""
import re
import subprocess
import sys

HEADER = ["libsocketkit.so.1 libsocketkit1 #MINVER#",
          "* Build-Depends-Package: libsocketkit-dev"]


def node_version(node):
    """SOCKETKIT_1 -> 1.0.0, SOCKETKIT_1.1 -> 1.1.0."""
    m = re.match(r"^SOCKETKIT_(\d+)(?:\.(\d+))?$", node)
    if not m:
        sys.exit("deb_symbols.py: unexpected version node %r" % node)
    return "%s.%s.0" % (m.group(1), m.group(2) or "0")


def exported(lib):
    """{'sym@NODE': version} for every defined dynamic symbol, the version
    nodes themselves included (dpkg-gensymbols lists them too)."""
    out = subprocess.run(["nm", "-D", "--defined-only", "--with-symbol-versions", lib],
                         capture_output=True, text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        w = line.split()
        if len(w) < 3:
            continue
        kind, name = w[1], w[2]
        if kind == "A":  # a version node: "SOCKETKIT_1" (or "SOCKETKIT_1@@SOCKETKIT_1")
            node = name.split("@")[0]
            syms["%s@%s" % (node, node)] = node_version(node)
            continue
        m = re.match(r"^([^@]+)@@?(.+)$", name)
        if not m:
            sys.exit("deb_symbols.py: %s has no symbol version (is the version script applied?)" % name)
        syms["%s@%s" % (m.group(1), m.group(2))] = node_version(m.group(2))
    return syms


def listed(path):
    syms = {}
    for line in open(path):
        if line.startswith(" "):
            w = line.split()
            syms[w[0]] = w[1]
    return syms


def render(syms):
    # Version nodes first, then functions, each by version and name.
    keys = sorted(syms, key=lambda k: (not k.split("@")[0].startswith("SOCKETKIT_"),
                                       [int(x) for x in syms[k].split(".")], k))
    return "\n".join(HEADER + [" %s %s" % (k, syms[k]) for k in keys]) + "\n"


def main():
    if sys.argv[1] == "--write":
        lib, path = sys.argv[2:4]
        open(path, "w").write(render(exported(lib)))
        return 0
    lib, path, changelog, version = sys.argv[1:5]
    have, want = listed(path), exported(lib)
    problems = []
    for k in sorted(set(want) - set(have)):
        problems.append("%s is exported but not in %s" % (k, path))
    for k in sorted(set(have) - set(want)):
        problems.append("%s is in %s but not exported" % (k, path))
    for k in sorted(set(have) & set(want)):
        if have[k] != want[k]:
            problems.append("%s: listed at %s, its node says %s" % (k, have[k], want[k]))
    if not any(k.startswith("sk_") for k in want):
        problems.append("%s exports no sk_ function" % lib)
    first = open(changelog).readline()
    m = re.match(r"^socketkit \(([^)-]+)(?:-[^)]*)?\)", first)
    if not m or m.group(1) != version:
        problems.append("debian/changelog's version (%s) is not the project's %s: add an entry"
                        % (m.group(1) if m else first.strip(), version))
    if problems:
        print("\n".join(problems))
        print("update with: python3 tests/packaging/deb_symbols.py --write LIBRARY %s" % path)
        return 1
    print("%s lists the %d exported symbols at their nodes' versions" % (path, len(want)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
