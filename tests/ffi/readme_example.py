#!/usr/bin/env python3
"""Runs the LuaJIT example of the README's FFI section and checks its output,
so the documented example cannot rot.

usage: readme_example.py <luajit> <markdown file>...
The first file that has the section is used (README.md, or the section kept
beside the tests until it is merged into README.md).
"""
import re
import subprocess
import sys

HEADING = "## Calling socketkit through an FFI"

luajit, files = sys.argv[1], sys.argv[2:]
for path in files:
    try:
        text = open(path).read()
    except OSError:
        continue
    if HEADING not in text:
        continue
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    m = re.search(r"```lua\n(.*?)```", section, re.S)
    if not m:
        sys.exit("%s: the FFI section has no ```lua block" % path)
    r = subprocess.run([luajit, "-"], input=m.group(1), capture_output=True, text=True,
                       timeout=60)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    if r.returncode != 0 or r.stdout.strip() != "hello":
        sys.exit("%s: the LuaJIT example failed (exit %d)" % (path, r.returncode))
    print("README example from %s: ok" % path)
    sys.exit(0)
sys.exit("no file has the section %r" % HEADING)
