#!/usr/bin/env python3
"""Checks the generated man pages against the built library and the header.

- every sk_* function the library exports (nm -D) has a section 3 page, and
  every page is for an exported function;
- every page, socketkit(7) included, renders with groff -ww without a
  single warning, and has a NAME line and a non-empty DESCRIPTION;
- each page's SYNOPSIS, as rendered, declares exactly what the header
  declares for the functions it names (read here from the raw header, not
  through the generator's parser);
- socketkit(7) lists the header's conventions 1 to 8 and every function.
Then it proves it can fail: a copy of the pages with one page removed, one
SYNOPSIS changed and one page broken must each be rejected.

usage: check_man.py LIBRARY HEADER MANDIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def exported(lib):
    r = run(["nm", "-D", "--defined-only", lib])
    if r.returncode != 0:
        sys.exit("nm failed: " + r.stderr)
    names = set()
    for line in r.stdout.splitlines():
        w = line.split()
        if len(w) >= 3 and w[2].startswith("sk_"):
            names.add(w[2].split("@")[0])
    return names


def squash(decl):
    """A declaration with insignificant spacing removed."""
    decl = re.sub(r"\s+", " ", decl).strip()
    return re.sub(r"\s*([*(),;])\s*", r"\1", decl)


def header_declarations(header):
    """{name: squashed declaration} for every SK_API declaration."""
    text = re.sub(r"/\*.*?\*/", " ", open(header).read(), flags=re.S)
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)
    decls = {}
    for m in re.finditer(r"\bSK_API\b([^;]*;)", text):
        d = squash(m.group(1))
        name = re.search(r"\b(sk_\w+)\(", d)
        if name:
            decls[name.group(1)] = d
    return decls


_rendered = {}


def render(page):
    """(plain text at a width that never wraps a declaration, groff -ww
    warnings). Remembered by content: the self-test's copies differ from
    the real pages in one page only."""
    with open(page, "rb") as f:
        key = f.read()
    if key not in _rendered:
        _rendered[key] = render_now(page)
    return _rendered[key]


def render_now(page):
    lint = run(["groff", "-ww", "-man", "-z", page])
    warnings = (lint.stderr.strip() + ("\nexit %d" % lint.returncode if lint.returncode else "")).strip()
    text = run(["groff", "-man", "-Tascii", "-P-cbou", "-rLL=250n", page]).stdout
    return text, warnings


def sections(text):
    """{SECTION: body text} of a rendered page."""
    out, cur = {}, None
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z ]+$", line):
            cur = line.strip()
            out[cur] = []
        elif cur:
            out[cur].append(line)
    return {k: "\n".join(v).strip() for k, v in out.items()}


def check(lib, header, mandir):
    problems = []
    names = exported(lib)
    decls = header_declarations(header)
    if not names:
        problems.append("%s exports no sk_ function" % lib)
    man3 = os.path.join(mandir, "man3")
    pages = {f[:-2] for f in os.listdir(man3) if f.endswith(".3")} if os.path.isdir(man3) else set()
    for n in sorted(names - pages):
        problems.append("%s is exported but has no page" % n)
    for n in sorted(pages - names):
        problems.append("man3/%s.3 is not an exported function" % n)
    for n in sorted(names - set(decls)):
        problems.append("%s is exported but not declared in the header" % n)

    for n in sorted(pages):
        text, warnings = render(os.path.join(man3, n + ".3"))
        if warnings:
            problems.append("%s.3 renders with warnings: %s" % (n, warnings))
        sec = sections(text)
        named = re.match(r"^([\w, ]+?)\s+-\s+\S", sec.get("NAME", ""))
        if not named or n not in [x.strip() for x in named.group(1).split(",")]:
            problems.append("%s.3: NAME does not name %s: %r" % (n, n, sec.get("NAME")))
            continue
        if not sec.get("DESCRIPTION"):
            problems.append("%s.3: empty DESCRIPTION (no doc comment in the header?)" % n)
        syn = sec.get("SYNOPSIS", "").replace("#include <socketkit.h>", "")
        if "#include <socketkit.h>" not in sec.get("SYNOPSIS", ""):
            problems.append("%s.3: SYNOPSIS does not include <socketkit.h>" % n)
        shown = [d + ";" for d in squash(syn).split(";") if d.strip()]
        want = [decls.get(x.strip(), "(%s not in header)" % x.strip())
                for x in named.group(1).split(",")]
        if shown != want:
            problems.append("%s.3: SYNOPSIS %s differs from the header's %s" % (n, shown, want))

    overview = os.path.join(mandir, "man7", "socketkit.7")
    if not os.path.exists(overview):
        problems.append("no socketkit.7")
    else:
        text, warnings = render(overview)
        if warnings:
            problems.append("socketkit.7 renders with warnings: %s" % warnings)
        sec = sections(text)
        conv = sec.get("CONVENTIONS", "")
        for i in range(1, 9):
            if not re.search(r"^\s*%d\.?\s+\S" % i, conv, re.M):
                problems.append("socketkit.7: convention %d missing" % i)
        listed = set(re.findall(r"\b(sk_\w+)\(3\)", sec.get("FUNCTIONS", "")))
        for n in sorted(names - listed):
            problems.append("socketkit.7 does not list %s" % n)
    return problems


def must_fail(what, lib, header, mandir, damage):
    """The checker must reject a copy of the pages damaged by damage(dir)."""
    with tempfile.TemporaryDirectory() as d:
        copy = os.path.join(d, "man")
        shutil.copytree(mandir, copy)
        damage(copy)
        if not check(lib, header, copy):
            return ["self-test: the checker accepted pages with %s" % what]
    return []


def main():
    lib, header, mandir = sys.argv[1:4]
    problems = check(lib, header, mandir)
    if problems:
        print("\n".join(problems))
        print("man pages: %d problem(s)" % len(problems))
        return 1
    n = len(os.listdir(os.path.join(mandir, "man3")))
    print("man pages: %d function pages and socketkit(7) are complete and render cleanly" % n)

    page = os.path.join("man3", "sk_close.3")

    def drop(d):
        os.remove(os.path.join(d, page))

    def change_synopsis(d):
        p = os.path.join(d, page)
        s = open(p).read().replace("(sk_socket *", "(const sk_socket *", 1)
        open(p, "w").write(s)

    def break_roff(d):
        p = os.path.join(d, page)
        open(p, "a").write(".XYZZY unknown macro\n\\fQ\n")

    self_test = (must_fail("a missing page", lib, header, mandir, drop)
                 + must_fail("a changed SYNOPSIS", lib, header, mandir, change_synopsis)
                 + must_fail("a page that warns", lib, header, mandir, break_roff))
    if self_test:
        print("\n".join(self_test))
        return 1
    print("man pages: the checker rejects a missing page, a wrong SYNOPSIS and a warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
