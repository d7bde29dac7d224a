#!/usr/bin/env python3
"""Checks socketkit.abi.json against the library and the header, each seen
independently of the generator:

- the set of described functions equals the set `nm -D --defined-only`
  shows (exported but not described, or described but not exported, fails:
  a function the header declares but no node of capi/socketkit.map lists is
  hidden, and so caught here), and each function's described symbol version
  is the one it is exported at;
- every described signature is the header's: a C file is generated from the
  description's C types and compiled against socketkit.h with
  __builtin_types_compatible_p on each function, so the compiler itself
  compares the two; the same file checks each ffi type's size, signedness
  and pointer-ness, every constant's value, and sk_addr's size and offsets;
- every constant of the documented list below (what bindings and FFI
  callers rely on) and every SK_ macro of the header is described; the
  version fields agree.

usage: check_description.py <socketkit.abi.json> <libsocketkit.so.1> <socketkit.h> <cc>
"""
import json
import os
import re
import subprocess
import sys
import tempfile

desc_path, lib, header, cc = sys.argv[1:5]
problems = []
desc = json.load(open(desc_path))

DOCUMENTED_CONSTANTS = """AF_INET AF_INET6 AF_UNIX SOCK_STREAM SOCK_DGRAM SOL_SOCKET SO_REUSEADDR
SO_REUSEPORT SO_KEEPALIVE SO_BROADCAST SO_RCVBUF SO_SNDBUF SO_ERROR SO_TYPE SO_LINGER
SO_RCVLOWAT IPPROTO_IP IPPROTO_IPV6 IPPROTO_TCP IPPROTO_UDP TCP_NODELAY IPV6_V6ONLY IP_TTL
MSG_PEEK MSG_OOB MSG_WAITALL MSG_DONTWAIT SHUT_RD SHUT_WR SHUT_RDWR SOMAXCONN ADDR_HOSTLEN
TIMEOUT_NONE VERSION_MAJOR VERSION_MINOR VERSION_PATCH ERR_BASE EAI_NONAME EAI_AGAIN""".split()

FFI = {  # ffi name -> (size, signed or None for non-integers, class)
    "sint8": (1, 1, "int"), "uint8": (1, 0, "int"), "sint16": (2, 1, "int"),
    "uint16": (2, 0, "int"), "sint32": (4, 1, "int"), "uint32": (4, 0, "int"),
    "sint64": (8, 1, "int"), "uint64": (8, 0, "int"), "float": (4, None, "real"),
    "double": (8, None, "real"), "pointer": (None, None, "pointer"),
}

# 1. Described versus exported, with symbol versions.
exported = {}
out = subprocess.run(["nm", "-D", "--defined-only", "--with-symbol-versions", lib],
                     capture_output=True, text=True, check=True).stdout
for line in out.splitlines():
    p = line.split()
    if len(p) == 3 and p[1] in "TtWiI":
        name, _, ver = p[2].partition("@")
        exported[name] = ver.lstrip("@") or None
described = [f["name"] for f in desc["functions"]]
for n in sorted(set(exported) - set(described)):
    problems.append("exported but not described: " + n)
for n in sorted(set(described) - set(exported)):
    problems.append("described but not exported: %s (declared in the header; is it listed in "
                    "the newest node of capi/socketkit.map?)" % n)
for f in desc["functions"]:
    if f["name"] in exported and f.get("symbol_version") != exported[f["name"]]:
        problems.append("%s is described at symbol version %s but exported at %s"
                        % (f["name"], f.get("symbol_version"), exported[f["name"]]))
if len(set(described)) != len(described):
    problems.append("a function is described twice")

# 2. Constants: the documented list and every SK_ macro of the header.
names = {c["name"] for c in desc["constants"]}
for n in DOCUMENTED_CONSTANTS:
    if "SK_" + n not in names:
        problems.append("documented constant not described: SK_" + n)
for line in open(header):
    m = re.match(r"^\s*#\s*define\s+(SK_\w+)\s+\S", line)
    if m and m.group(1) != "SK_API" and m.group(1) not in names:
        problems.append("header constant not described: " + m.group(1))
if desc.get("version") != "%s.%s.%s" % (desc.get("version_major"), desc.get("version_minor"),
                                        desc.get("version_patch")):
    problems.append("version fields disagree")

# 3. The compiler compares the description with the header.
src = ["#include <stddef.h>", '#include "%s"' % os.path.abspath(header),
       "#define SAME(a, b, what) _Static_assert(__builtin_types_compatible_p(a, b), what)",
       "#define IS_PTR(t) (__builtin_classify_type((t)0) == 5)"]


def ffi_checks(ctype, ffi, what):
    if ffi == "struct":  # a struct inside a struct: its own entry checks its layout
        if not any(t["name"] == ctype and t.get("kind") == "struct" for t in desc["types"]):
            problems.append("%s: ffi struct but %s is not a described struct" % (what, ctype))
        return
    if ffi not in FFI:
        problems.append("%s: unknown ffi type %r" % (what, ffi))
        return
    size, signed, cls = FFI[ffi]
    if cls == "pointer":
        src.append('_Static_assert(IS_PTR(%s), "%s: ffi pointer but C type is not");'
                   % (ctype, what))
        return
    src.append('_Static_assert(!IS_PTR(%s) && sizeof(%s) == %d, "%s: size differs from ffi %s");'
               % (ctype, ctype, size, what, ffi))
    if cls == "int":
        src.append('_Static_assert(((%s)0.5 == 0) && (((%s)-1 < (%s)0) == %d), '
                   '"%s: signedness or integer-ness differs from ffi %s");'
                   % (ctype, ctype, ctype, signed, what, ffi))
    else:
        src.append('_Static_assert((%s)0.5 != 0, "%s: not a floating type as ffi %s says");'
                   % (ctype, what, ffi))


for f in desc["functions"]:
    ps = [p["c"] for p in f["params"]]
    ftype = "%s (%s)" % (f["returns"]["c"], ", ".join(ps) if ps else "void")
    src.append('SAME(__typeof__(%s), %s, "%s: description %s differs from the header");'
               % (f["name"], ftype, f["name"], ftype))
    if f["returns"]["ffi"] == "void":
        src.append('SAME(%s, void, "%s returns void per ffi");' % (f["returns"]["c"], f["name"]))
    else:
        ffi_checks(f["returns"]["c"], f["returns"]["ffi"], f["name"] + " return")
    for i, p in enumerate(f["params"]):
        ffi_checks(p["c"], p["ffi"], "%s param %d" % (f["name"], i + 1))
for c in desc["constants"]:
    if c["type"] == "int":
        src.append('_Static_assert((%s) == %d, "%s value");' % (c["name"], c["value"], c["name"]))
    else:
        src.append('_Static_assert((%s) == %r, "%s value");' % (c["name"], c["value"], c["name"]))
for t in desc["types"]:
    if t.get("kind") == "function pointer":
        ps = [p["c"] for p in t.get("params", [])]
        ptype = "%s (*)(%s)" % (t["returns"]["c"], ", ".join(ps) if ps else "void")
        src.append('SAME(%s, %s, "%s: description %s differs from the header");'
                   % (t["name"], ptype, t["name"], ptype))
        ffi_checks(t["returns"]["c"], t["returns"]["ffi"], t["name"] + " return")
        for i, p in enumerate(t.get("params", [])):
            ffi_checks(p["c"], p["ffi"], "%s param %d" % (t["name"], i + 1))
        continue
    if t.get("kind") != "struct":
        continue
    src.append('_Static_assert(sizeof(%s) == %d && _Alignof(%s) == %d, "%s size/align");'
               % (t["name"], t["size"], t["name"], t["align"], t["name"]))
    for fld in t["fields"]:
        src.append('_Static_assert(offsetof(%s, %s) == %d && sizeof(((%s *)0)->%s) == %d, '
                   '"%s.%s offset/size");' % (t["name"], fld["name"], fld["offset"], t["name"],
                                              fld["name"], fld["size"], t["name"], fld["name"]))
        elem = re.sub(r"\[\d+\]$", "", fld["c"])
        ffi_checks(elem, fld["ffi"], "%s.%s" % (t["name"], fld["name"]))

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "check.c")
    open(path, "w").write("\n".join(src) + "\n")
    r = subprocess.run([cc, "-std=c11", "-fsyntax-only", path], capture_output=True, text=True)
    if r.returncode != 0:
        for line in r.stderr.splitlines():
            if "error" in line:
                problems.append("header vs description: " + line.split("error:", 1)[-1].strip())

print("%d functions described, %d exported, %d constants, %d compile-time checks"
      % (len(described), len(exported), len(names), len(src) - 4))
for p in problems:
    print("FAIL:", p)
sys.exit(1 if problems else 0)
