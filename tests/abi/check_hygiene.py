#!/usr/bin/env python3
"""ABI hygiene of the built libsocketkit.so.1:

- `nm -D --defined-only` shows only sk_* functions, every one at version
  SOCKETKIT_1 (plus the version node itself): no C++ or libstdc++ symbol, no
  libgcc unwinder symbol, nothing the version script should have hidden;
- the library does not need libgcc_s (it is linked with -static-libgcc);
- .init_array holds nothing but the toolchain's frame_dummy: no global
  constructor of socketkit runs at load time, so loading it has no side
  effects and needs no initialisation call.

usage: check_hygiene.py <libsocketkit.so.1> <symbol version> [later version nodes...]
"""
import re
import subprocess
import sys

lib, version = sys.argv[1], sys.argv[2]
versions = set(sys.argv[2:])  # the base node and the nodes that inherit it
problems = []


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


exported = 0
for line in run("nm", "-D", "--defined-only", "--with-symbol-versions", lib).splitlines():
    parts = line.split()
    if len(parts) < 3:
        continue
    kind, sym = parts[-2], parts[-1]
    if kind == "A" and sym in versions:
        continue
    m = re.match(r"^(\w+)@@?([\w.]+)$", sym)
    name, ver = (m.group(1), m.group(2)) if m else (sym, None)
    if not name.startswith("sk_"):
        why = "C++ symbol" if name.startswith("_Z") else "not an sk_ symbol"
        problems.append("exported %s: %s (%s)" % (why, sym, kind))
    elif ver not in versions:
        problems.append("%s is at version %s, not one of %s" % (name, ver, " ".join(sorted(versions))))
    elif kind not in ("T",):
        problems.append("%s has nm type %s, expected a plain function (T)" % (name, kind))
    else:
        exported += 1
if exported == 0:
    problems.append("no sk_ function exported at all")

needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", run("readelf", "-dW", lib))
for n in needed:
    if n.startswith("libgcc_s"):
        problems.append("needs %s although it is linked with -static-libgcc" % n)

# .init_array entries are R_*_RELATIVE relocations whose addend is the
# function's address; name them through the full symbol table.
sections = run("readelf", "-SW", lib)
m = re.search(r"\.init_array\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", sections)
init_funcs = []
if m:
    start, size = int(m.group(1), 16), int(m.group(2), 16)
    symbols = {}
    for line in run("nm", lib).splitlines():
        p = line.split()
        if len(p) == 3:
            symbols.setdefault(int(p[0], 16), p[2])
    if not symbols:
        problems.append("no symbol table: cannot name the .init_array entries")
    for line in run("readelf", "-rW", lib).splitlines():
        p = line.split()
        if len(p) >= 4 and re.match(r"^[0-9a-f]+$", p[0]) and "RELATIVE" in p[2]:
            off = int(p[0], 16)
            if start <= off < start + size:
                init_funcs.append(symbols.get(int(p[-1], 16), "0x" + p[-1]))
    for f in init_funcs:
        if f != "frame_dummy":
            problems.append(".init_array runs %s at load time (a global constructor)" % f)

print("%d sk_ functions exported at %s; needed: %s; .init_array: %s"
      % (exported, version, ", ".join(needed), ", ".join(init_funcs) or "empty"))
for p in problems:
    print("FAIL:", p)
sys.exit(1 if problems else 0)
