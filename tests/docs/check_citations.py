#!/usr/bin/env python3
"""Every rule a tracked file cites exists in this repository:

- no file cites a document the repository does not have: the project's
  planning documents (named here only in pieces, so that this file passes
  its own check) or "rule N" of some outside contract;
- every "convention N" (also "conventions 3 and 4", "conventions 1-8") is
  one of the numbered conventions at the top of capi/include/socketkit.h;
- every docs/<page>.md a file names exists.

Tracked files come from `git ls-files`; when that lists nothing (a source
tarball, unpacked anywhere) every file under the source directory except
build trees and .git is read.

usage: check_citations.py <source dir>
"""
import os
import re
import subprocess
import sys

root = sys.argv[1]
problems = []

OUTSIDE = ["SP" + "EC", "DES" + "IGN"]
outside_re = re.compile(r"\b(?:%s)(?:\.md\b|\b)" % "|".join(OUTSIDE))
rule_re = re.compile(r"\b[Rr]ules? \d+\b")
convention_re = re.compile(r"\b[Cc]onventions? (\d+(?:\s*(?:,|-|–|and|or|to)\s*\d+)*)")
docs_re = re.compile(r"\bdocs/([\w.-]+\.md)\b")


def tracked_files():
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], capture_output=True,
                             check=True).stdout.decode()
        listed = [f for f in out.split("\0") if f]
        if listed:  # empty: a tree unpacked inside some other repository
            return listed
    except (OSError, subprocess.CalledProcessError):
        pass
    found = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x != ".git" and not x.startswith("build")]
        found += [os.path.relpath(os.path.join(d, f), root) for f in files]
    return found


def header_conventions():
    text = open(os.path.join(root, "capi/include/socketkit.h")).read()
    intro = text[:text.index("*/")]
    start = intro.find("Conventions that hold for every function")
    if start < 0:
        problems.append("socketkit.h: no 'Conventions that hold for every function' list")
        return set()
    numbers = [int(n) for n in re.findall(r"^ \*\s+(\d+)\.\s", intro[start:], re.M)]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append("socketkit.h: conventions are numbered %s, not 1..N in order" % numbers)
    return set(numbers)


def cited_numbers(spec):
    numbers = set()
    for a, b in re.findall(r"(\d+)\s*(?:-|–|to)\s*(\d+)", spec):
        numbers.update(range(int(a), int(b) + 1))
    numbers.update(int(n) for n in re.findall(r"\d+", spec))
    return numbers


conventions = header_conventions()
me = os.path.relpath(os.path.abspath(__file__), os.path.abspath(root))
files = 0
for rel in tracked_files():
    path = os.path.join(root, rel)
    if rel == me or not os.path.isfile(path):
        continue
    try:
        text = open(path, encoding="utf-8").read()
    except (UnicodeDecodeError, OSError):
        continue  # binary
    files += 1
    for no, line in enumerate(text.splitlines(), 1):
        where = "%s:%d" % (rel, no)
        m = outside_re.search(line)
        if m:
            problems.append("%s cites %s, which is not in this repository: cite the header's "
                            "'convention N' or a page of docs/ instead" % (where, m.group(0)))
        m = rule_re.search(line)
        if m:
            problems.append("%s cites '%s': cite the header's 'convention N'" % (where, m.group(0)))
        for spec in convention_re.findall(line):
            for n in sorted(cited_numbers(spec) - conventions):
                problems.append("%s cites convention %d, which socketkit.h does not have"
                                % (where, n))
        for page in docs_re.findall(line):
            if not os.path.isfile(os.path.join(root, "docs", page)):
                problems.append("%s names docs/%s, which does not exist" % (where, page))

print("%d text files read; socketkit.h has conventions %s"
      % (files, ", ".join(map(str, sorted(conventions))) or "none"))
for p in problems:
    print("FAIL:", p)
sys.exit(1 if problems or not files or not conventions else 0)
