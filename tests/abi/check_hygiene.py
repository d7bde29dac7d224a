#!/usr/bin/env python3
"""ABI hygiene of the built libsocketkit.so.1:

- the version script names its nodes SOCKETKIT_1, SOCKETKIT_1.1, ... in
  order, each inheriting the one before, and lists every symbol by name (no
  wildcard, so a function added by mistake cannot slip into an old node);
- `nm -D --defined-only` shows only sk_* functions, each at the node the
  version script lists it in, and the version nodes themselves: no C++ or
  libstdc++ symbol, no libgcc unwinder symbol, nothing the script hides;
- every function of the 1.0 baseline (capi/abi/socketkit.abi.xml) is still
  exported at the version it had there, and every listed name is exported;
- the library does not need libgcc_s (it is linked with -static-libgcc);
- .init_array holds nothing but the toolchain's frame_dummy: no global
  constructor of socketkit runs at load time, so loading it has no side
  effects and needs no initialisation call.

usage: check_hygiene.py <libsocketkit.so.1> <socketkit.map> <socketkit.abi.xml>
"""
import re
import subprocess
import sys

lib, version_script, baseline = sys.argv[1], sys.argv[2], sys.argv[3]
problems = []


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def read_nodes(path):
    """[(node, parent or None, [names])] in file order."""
    text = re.sub(r"#[^\n]*|/\*.*?\*/", " ", open(path).read(), flags=re.S)
    nodes = []
    for m in re.finditer(r"([A-Za-z_][\w.]*)\s*\{(.*?)\}\s*([\w.]*)\s*;", text, re.S):
        name, body, parent = m.group(1), m.group(2), m.group(3) or None
        names, scope = [], "global"
        for tok in re.findall(r"global\s*:|local\s*:|[^\s;]+", body):
            if tok.startswith("global"):
                scope = "global"
            elif tok.startswith("local"):
                scope = "local"
            elif scope == "global":
                names.append(tok)
            elif tok != "*":
                problems.append("%s: local entry %s (only `local: *;` is expected)" % (name, tok))
        nodes.append((name, parent, names))
    return nodes


nodes = read_nodes(version_script)
node_of = {}
if not nodes or nodes[0][0] != "SOCKETKIT_1" or nodes[0][1] is not None:
    problems.append("the version script must begin with SOCKETKIT_1, inheriting nothing")
for i, (name, parent, names) in enumerate(nodes):
    if i > 0:
        if name != "SOCKETKIT_1.%d" % i:
            problems.append("node %d is %s, expected SOCKETKIT_1.%d" % (i + 1, name, i))
        if parent != nodes[i - 1][0]:
            problems.append("%s inherits %s, not the node before it (%s)"
                            % (name, parent, nodes[i - 1][0]))
    for n in names:
        if not re.match(r"^sk_\w+$", n):
            problems.append("%s lists %r: list each sk_ function by name, no pattern" % (name, n))
        elif n in node_of:
            problems.append("%s is listed in both %s and %s" % (n, node_of[n], name))
        else:
            node_of[n] = name
node_names = {n for n, _, _ in nodes}

exported = {}
defined_versions = set()
for line in run("nm", "-D", "--defined-only", "--with-symbol-versions", lib).splitlines():
    parts = line.split()
    if len(parts) < 3:
        continue
    kind, sym = parts[-2], parts[-1]
    if kind == "A" and sym in node_names:
        defined_versions.add(sym)
        continue
    m = re.match(r"^(\w+)@@?([\w.]+)$", sym)
    name, ver = (m.group(1), m.group(2)) if m else (sym, None)
    if not name.startswith("sk_"):
        why = "C++ symbol" if name.startswith("_Z") else "not an sk_ symbol"
        problems.append("exported %s: %s (%s)" % (why, sym, kind))
    elif name not in node_of:
        problems.append("%s is exported at %s but listed in no node of the version script"
                        % (name, ver))
    elif ver != node_of[name]:
        problems.append("%s is at version %s, but the version script lists it in %s"
                        % (name, ver, node_of[name]))
    elif kind not in ("T",):
        problems.append("%s has nm type %s, expected a plain function (T)" % (name, kind))
    else:
        exported[name] = ver
if not exported:
    problems.append("no sk_ function exported at all")
for n in sorted(node_names - defined_versions):
    problems.append("the library does not define version node %s" % n)
for n in sorted(set(node_of) - set(exported)):
    problems.append("%s is listed in %s but the library does not define it" % (n, node_of[n]))

# What 1.0 promised: each baseline function keeps its name and its version.
old = re.findall(r"<elf-symbol name='(sk_\w+)' version='([\w.]+)'", open(baseline).read())
if not old:
    problems.append("no sk_ function with a version in the baseline %s" % baseline)
for name, ver in old:
    if name not in exported:
        problems.append("%s (%s in the baseline) is no longer exported" % (name, ver))
    elif exported[name] != ver:
        problems.append("%s moved from %s (baseline) to %s" % (name, ver, exported[name]))

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

per_node = ", ".join("%s: %d" % (n, sum(1 for v in exported.values() if v == n))
                     for n, _, _ in nodes)
print("%d sk_ functions exported (%s); needed: %s; .init_array: %s"
      % (len(exported), per_node, ", ".join(needed), ", ".join(init_funcs) or "empty"))
for p in problems:
    print("FAIL:", p)
sys.exit(1 if problems else 0)
