#!/usr/bin/env python3
"""Writes socketkit.abi.json, the machine-readable ABI of socketkit.h.

Everything comes from the real header, so the description cannot drift from
it: prototypes and the sk_addr field list are parsed from the preprocessed
header (the preprocessor has already expanded SK_API and SK_ADDR_HOSTLEN),
while constant values, type sizes and field offsets are printed by a small C
program compiled against the header with the same compiler as the library.

Each function carries the symbol version the version script gives it
(SOCKETKIT_1 for 1.0, SOCKETKIT_1.N for what 1.N added), so that an FFI
caller can bind it with dlvsym; a function in no node has none, and the
abi_description test reports it. The top-level symbol_version is the first
node, which every later one inherits.

usage: gen_abi.py --header socketkit.h --cc cc --out socketkit.abi.json
                  [--soname libsocketkit.so.1] [--symbol-version SOCKETKIT_1]
                  [--version-script socketkit.map]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

SCALARS = {"void", "char", "signed char", "unsigned char", "short", "unsigned short",
           "int", "unsigned int", "long", "unsigned long", "long long",
           "unsigned long long", "size_t", "float", "double"}


def fail(msg):
    sys.exit("gen_abi.py: " + msg)


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        fail("%s failed:\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r.stdout


def header_text(cc, header):
    """The header after preprocessing, keeping only lines that came from the
    header itself (not stddef.h), as one string."""
    out = run([cc, "-E", "-std=c99", header])
    want = os.path.realpath(header)
    keep, mine = [], False
    for line in out.splitlines():
        m = re.match(r'#\s*\d+\s+"([^"]*)"', line)
        if m:
            mine = os.path.exists(m.group(1)) and os.path.realpath(m.group(1)) == want
            continue
        if mine:
            keep.append(line)
    return " ".join(keep)


def statements(text):
    """Top-level declarations: split on ';' outside braces."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == ";" and depth == 0:
            out.append(re.sub(r"\s+", " ", "".join(cur)).strip())
            cur = []
        else:
            cur.append(ch)
    return [s for s in out if s]


def norm_type(t):
    """Canonical spelling: 'const char *', 'sk_socket **', 'unsigned int'."""
    t = re.sub(r"\s*\*\s*", " *", t.strip())
    t = re.sub(r"\s+", " ", t)
    # A bare "unsigned" is C's "unsigned int".
    t = re.sub(r"\bunsigned\b(?!\s+(?:int|char|short|long)\b)", "unsigned int", t)
    return re.sub(r"\*\s+\*", "**", t).strip()


def split_decl(decl):
    """'const char *host' -> ('const char *', 'host'); 'int' -> ('int', '')."""
    decl = decl.strip()
    m = re.match(r"^(.*?)\b([A-Za-z_]\w*)$", decl)
    if m and m.group(1).strip() and not (m.group(1).strip() in ("unsigned", "signed") and
                                         m.group(2) in ("int", "char", "short", "long")):
        return norm_type(m.group(1)), m.group(2)
    return norm_type(decl), ""


def split_params(s):
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def parse(text):
    functions, typedefs, structs, callbacks = [], {}, {}, {}
    for st in statements(text):
        if st.startswith("typedef "):
            body = st[len("typedef "):]
            m = re.match(r"^struct (\w+) \{(.*)\} (\w+)$", body)
            if m:
                fields = []
                for f in m.group(2).split(";"):
                    f = f.strip()
                    if not f:
                        continue
                    # "int family, type, proto": one type, several names.
                    first, *more = [d.strip() for d in f.split(",")]
                    fm = re.match(r"^(.*?)\b(\w+)\s*(?:\[\s*(\d+)\s*\])?$", first)
                    if not fm or not all(re.match(r"^\w+$", d) for d in more):
                        fail("cannot parse field %r" % f)
                    for name in [fm.group(2)] + more:
                        fields.append({"name": name, "c": norm_type(fm.group(1)),
                                       "count": int(fm.group(3)) if fm.group(3) else None})
                structs[m.group(3)] = fields
                typedefs[m.group(3)] = "struct " + m.group(1)
                continue
            m = re.match(r"^struct (\w+) (\w+)$", body)
            if m:
                typedefs[m.group(2)] = "opaque struct " + m.group(1)
                continue
            m = re.match(r"^(.*)\(\s*\*\s*(\w+)\s*\)\s*\((.*)\)$", body)
            if m:
                typedefs[m.group(2)] = "function pointer"
                params = split_params(m.group(3))
                callbacks[m.group(2)] = {
                    "c": norm_type(m.group(1)),
                    "params": [dict(zip(("c", "name"), split_decl(p)))
                               for p in params if p != "void"]}
                continue
            fail("cannot parse typedef %r" % st)
        m = re.match(r"^(.*?)\b(sk_\w+)\s*\((.*)\)$", st)
        if not m:
            fail("cannot parse declaration %r" % st)
        params = split_params(m.group(3))
        if params == ["void"]:
            params = []
        plist = []
        for p in params:
            ptype, pname = split_decl(p)
            plist.append({"name": pname, "c": ptype})
        functions.append({"name": m.group(2), "c": norm_type(m.group(1)), "params": plist})
    return functions, typedefs, structs, callbacks


def macro_names(cc, header):
    """Object-like SK_ macros with a value, in header order."""
    names = []
    with open(header) as f:
        for line in f:
            m = re.match(r"^\s*#\s*define\s+(SK_\w+)(\(?)\s*(.*)$", line)
            if m and not m.group(2) and m.group(3).strip() and m.group(1) not in names:
                names.append(m.group(1))
    # Keep only what the preprocessor really defines for a user of the header
    # (SK_API, for one, expands to nothing outside the library build).
    defined = {}
    for line in run([cc, "-dM", "-E", "-std=c99", header]).splitlines():
        m = re.match(r"^#define (SK_\w+) (.+)$", line)
        if m:
            defined[m.group(1)] = m.group(2)
    return [n for n in names if n in defined]


def probe(cc, header, consts, scalar_types, structs):
    """Compiles and runs a C program that prints what only the compiler knows."""
    lines = ["#include <stddef.h>", "#include <stdio.h>",
             '#include "%s"' % os.path.abspath(header), "int main(void) {"]
    for n in consts:
        # _Generic tells an integer constant from a floating one.
        lines.append('  printf("const %s %%s %%.17g\\n", _Generic((%s), float: "double", '
                     'double: "double", long double: "double", default: "int"), (double)(%s));'
                     % (n, n, n))
        lines.append('  if (_Generic((%s), float: 0, double: 0, long double: 0, default: 1)) '
                     'printf("int %s %%lld\\n", (long long)(%s));' % (n, n, n))
    for t in scalar_types:
        if t == "void":
            continue
        lines.append('  printf("type %s|%%zu|%%zu|%%d|%%d\\n", sizeof(%s), _Alignof(%s), '
                     '(int)((%s)-1 < (%s)0), (int)((%s)0.5 != 0));' % (t, t, t, t, t, t))
    lines.append('  printf("type pointer|%zu|%zu|0|0\\n", sizeof(void *), _Alignof(void *));')
    for sname, fields in structs.items():
        lines.append('  printf("struct %s %%zu %%zu\\n", sizeof(%s), _Alignof(%s));'
                     % (sname, sname, sname))
        for f in fields:
            lines.append('  printf("field %s %s %%zu %%zu\\n", offsetof(%s, %s), '
                         'sizeof(((%s *)0)->%s));' % (sname, f["name"], sname, f["name"],
                                                      sname, f["name"]))
    lines += ["  return 0;", "}"]
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "probe.c"), os.path.join(d, "probe")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        run([cc, "-std=c11", "-o", exe, src])
        return run([exe])


def symbol_versions(path):
    """{function name: version node} from a version script's global lists."""
    text = re.sub(r"#[^\n]*|/\*.*?\*/", " ", open(path).read(), flags=re.S)
    found = {}
    for m in re.finditer(r"([A-Za-z_][\w.]*)\s*\{(.*?)\}", text, re.S):
        node, body = m.group(1), m.group(2)
        for part in re.split(r"\blocal\s*:", body)[:1]:
            for name in re.findall(r"\b(sk_\w+)\s*;", part):
                found[name] = node
    return found


def ffi_name(info):
    size, signed, floating = info
    if floating:
        return {4: "float", 8: "double"}.get(size) or fail("no ffi type for float of %d" % size)
    return ("sint%d" if signed else "uint%d") % (size * 8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--header", required=True)
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--out", required=True)
    ap.add_argument("--soname", default="libsocketkit.so.1")
    ap.add_argument("--symbol-version", default="SOCKETKIT_1")
    ap.add_argument("--version-script")
    a = ap.parse_args()
    versions = symbol_versions(a.version_script) if a.version_script else {}

    functions, typedefs, structs, callbacks = parse(header_text(a.cc, a.header))
    if not functions:
        fail("no sk_ function found in " + a.header)

    def base(t):
        return re.sub(r"\bconst\b", "", t).replace("*", "").strip()

    used = set()
    for fn in functions:
        for t in [fn["c"]] + [p["c"] for p in fn["params"]]:
            if "*" not in t and base(t) not in typedefs:
                used.add(base(t))
    for fields in structs.values():
        for f in fields:
            # Pointers are described as pointers; a nested struct on its own.
            if "*" not in f["c"] and base(f["c"]) not in structs:
                used.add(base(f["c"]))
    for cb in callbacks.values():
        for t in [cb["c"]] + [p["c"] for p in cb["params"]]:
            if "*" not in t:
                used.add(base(t))
    unknown = [t for t in used if t not in SCALARS and t not in typedefs]
    if unknown:
        fail("types the generator does not know: %s" % unknown)

    consts = macro_names(a.cc, a.header)
    info, const_vals, struct_info = {}, {}, {}
    for line in probe(a.cc, a.header, consts, sorted(used), structs).splitlines():
        w = line.split(" ")
        if w[0] == "const":
            const_vals[w[1]] = float(w[3])
        elif w[0] == "int":
            const_vals[w[1]] = int(w[2])
        elif w[0] == "type":
            t, size, align, signed, floating = line[5:].split("|")
            info[t] = (int(size), signed == "1", floating == "1", int(align))
        elif w[0] == "struct":
            struct_info[w[1]] = {"size": int(w[2]), "align": int(w[3]), "offsets": {}}
        elif w[0] == "field":
            struct_info[w[1]]["offsets"][w[2]] = (int(w[3]), int(w[4]))

    def describe(t, by_value_ok=False):
        """A C type in libffi terms: pointers (and function pointer typedefs)
        are 'pointer', scalars are sized by the compiler."""
        b = base(t)
        if "*" in t or typedefs.get(b) == "function pointer":
            return "pointer"
        if b == "void":
            return "void"
        if b in typedefs and b in structs and not by_value_ok:
            fail("type %s passed by value is not supported" % t)
        if b in structs:
            return "struct"  # only as a field of another struct
        if b in typedefs:
            fail("type %s passed by value is not supported" % t)
        size, signed, floating, _ = info[b]
        return ffi_name((size, signed, floating))

    out = {
        "format": "socketkit-abi",
        "format_version": 1,
        "library": "socketkit",
        "soname": a.soname,
        "symbol_version": a.symbol_version,
        "version": "%d.%d.%d" % (const_vals["SK_VERSION_MAJOR"], const_vals["SK_VERSION_MINOR"],
                                 const_vals["SK_VERSION_PATCH"]),
        "version_major": const_vals["SK_VERSION_MAJOR"],
        "version_minor": const_vals["SK_VERSION_MINOR"],
        "version_patch": const_vals["SK_VERSION_PATCH"],
        "pointer_size": info["pointer"][0],
        "functions": [],
        "constants": [],
        "types": [],
    }
    for fn in functions:
        entry = {
            "name": fn["name"],
            "returns": {"c": fn["c"], "ffi": describe(fn["c"])},
            "params": [{"name": p["name"], "c": p["c"], "ffi": describe(p["c"])}
                       for p in fn["params"]],
        }
        if not a.version_script:
            entry["symbol_version"] = a.symbol_version
        elif fn["name"] in versions:
            entry["symbol_version"] = versions[fn["name"]]
        out["functions"].append(entry)
    for n in consts:
        v = const_vals[n]
        kind = "double" if isinstance(v, float) else "int"
        out["constants"].append({"name": n, "type": kind, "value": v})
    for sname, fields in structs.items():
        si = struct_info[sname]
        desc = {"name": sname, "kind": "struct", "size": si["size"], "align": si["align"],
                "fields": []}
        for f in fields:
            off, size = si["offsets"][f["name"]]
            fd = {"name": f["name"], "c": f["c"] + ("[%d]" % f["count"] if f["count"] else ""),
                  "ffi": describe(f["c"], by_value_ok=True), "offset": off, "size": size}
            if f["count"]:
                fd["count"] = f["count"]
            desc["fields"].append(fd)
        out["types"].append(desc)
    for name, kind in typedefs.items():
        if kind.startswith("opaque"):
            out["types"].append({"name": name, "kind": "opaque"})
        elif kind == "function pointer":
            cb = callbacks[name]
            out["types"].append({
                "name": name, "kind": "function pointer", "ffi": "pointer",
                "returns": {"c": cb["c"], "ffi": describe(cb["c"])},
                "params": [{"name": p["name"], "c": p["c"], "ffi": describe(p["c"])}
                           for p in cb["params"]]})

    text = json.dumps(out, indent=1) + "\n"
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
