#!/usr/bin/env python3
"""Runs the LuaJIT example of the README's FFI section and checks its output,
so the documented example cannot rot.

usage: readme_example.py <luajit> <README.md>
"""
import re
import subprocess
import sys

luajit, path = sys.argv[1], sys.argv[2]
text = open(path).read()
m = re.search(r"^## FFI\n(.*?)(?=^## |\Z)", text, re.S | re.M)
if not m:
    sys.exit("%s: no '## FFI' section" % path)
code = re.search(r"```lua\n(.*?)```", m.group(1), re.S)
if not code:
    sys.exit("%s: the FFI section has no ```lua block" % path)
r = subprocess.run([luajit, "-"], input=code.group(1), capture_output=True, text=True,
                   timeout=60)
sys.stdout.write(r.stdout)
sys.stderr.write(r.stderr)
if r.returncode != 0 or r.stdout.strip() != "hello":
    sys.exit("%s: the LuaJIT example failed (exit %d, printed %r)"
             % (path, r.returncode, r.stdout))
print("README FFI example: ok")
