#!/usr/bin/env python3
"""Turns the benchmarks' output into DIR/report.md and PNG charts.

Reads the "bench<TAB>key=value..." lines every benchmark prints (format in
bench/bench.h) and the syscall counts bench/run.sh adds, so a new benchmark
that prints such lines shows up without a change here:
  ratio-to-raw.png   each C case's ratio to the raw-syscall baseline, with
                     the min-max over the rounds and its target;
  incumbents.png     per workload, C (vs raw C), Lua (vs LuaSocket) and Ruby
                     (vs Ruby's socket) side by side;
  concurrency.png    rate against the number of connections, one line per
                     case, once a benchmark prints points with connections=.
Charts are drawn with matplotlib; without it the report has the tables only.

usage: report.py --results results.txt --root REPO --out DIR [--quick]
"""
import argparse
import datetime
import os
import platform
import re
import subprocess
import sys


def parse(path):
    """([record dict], [(kind, per-round-trip, detail)])"""
    records, syscalls, in_sys = [], [], False
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("bench\t"):
            rec = {}
            for field in line.split("\t")[1:]:
                k, _, v = field.partition("=")
                rec[k] = v
            for k in ("rate", "ratio", "min", "max", "cpu_ratio", "target", "n", "connections"):
                if k in rec:
                    try:
                        rec[k] = float(rec[k])
                    except ValueError:
                        del rec[k]
            records.append(rec)
        elif line.startswith("syscalls per"):
            in_sys = True
        elif in_sys:
            m = re.match(r"^\s+(\S+)\s+([0-9.]+)(.*)$", line)
            if m:
                syscalls.append((m.group(1), float(m.group(2)), m.group(3).strip()))
            else:
                in_sys = False
    return records, syscalls


def sh(cmd, cwd=None):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd).stdout.strip()
    except OSError:
        return ""


def machine_facts(root, meta):
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1))
        mem = "%.1f GiB" % (kb / 1048576)
    except (OSError, AttributeError):
        pass
    distro = ""
    try:
        distro = re.search(r'PRETTY_NAME="([^"]*)"', open("/etc/os-release").read()).group(1)
    except (OSError, AttributeError):
        pass
    # bench/run.sh notes when the run started and at which commit; without
    # that line, the report's own time and the checkout's commit.
    commit = meta.get("commit")
    if not commit:
        commit = sh(["git", "rev-parse", "--short=12", "HEAD"], root) or "unknown"
        if sh(["git", "status", "--porcelain", "--untracked-files=no"], root):
            commit += " (with uncommitted changes)"
    date = meta.get("date") or datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")
    return [
        ("date", date),
        ("commit", commit),
        ("CPU", "%s, %d online" % (cpu or platform.machine(), os.cpu_count() or 0)),
        ("memory", mem),
        ("system", "%s, Linux %s" % (distro, platform.release())),
        ("compiler", sh(["cc", "--version"]).split("\n")[0]),
        ("load average when the report was written",
         " ".join(open("/proc/loadavg").read().split()[:3])),
    ]


def workload_key(rec):
    """The short workload name shared by the C, Lua and Ruby tables
    (pingpong, pingpong_timeout, bulk, readline, accept, ...)."""
    if rec.get("lang") != "c":
        return rec["workload"]
    first = rec["case"].split()[0]
    return first + ("_timeout" if "timeout" in rec["case"] else "")


def fmt(x, digits=3):
    return ("%%.%df" % digits) % x


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


# --------------------------------------------------------------- charts ---

def charts(out, c_cases, bindings, points):
    """Writes the PNGs; returns their file names (empty without matplotlib)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report: no matplotlib (python3-matplotlib); tables only", file=sys.stderr)
        return []
    made = []

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(os.path.join(out, name), dpi=100)
        plt.close(fig)
        made.append(name)

    if c_cases:
        # On a busy machine a single round can be far off; the axis follows
        # the medians and targets, whiskers are cut at its edges, and the
        # true min-max is written beside each bar.
        fig, ax = plt.subplots(figsize=(8.5, 0.55 * len(c_cases) + 1.6))
        labels = [r["case"] for r in c_cases]
        y = list(range(len(c_cases)))[::-1]
        vals = [r["ratio"] for r in c_cases]
        targets = [r["target"] for r in c_cases if r.get("target", 0) > 0]
        lo = max(0.0, min(vals + targets + [1.0]) - 0.15)
        hi = max(vals + targets + [1.0]) + 0.15
        err = [[r["ratio"] - max(r["min"], lo) for r in c_cases],
               [min(r["max"], hi) - r["ratio"] for r in c_cases]]
        colors = ["#9e9e9e" if r.get("target", 0) < 0 else
                  ("#2e7d32" if r["ratio"] >= r.get("target", 0) else "#c62828") for r in c_cases]
        ax.barh(y, vals, xerr=err, color=colors, ecolor="#444444", capsize=3, height=0.6)
        for yi, r in zip(y, c_cases):
            if r.get("target", 0) > 0:
                ax.plot([r["target"]], [yi + 0.42], marker="v", color="black", ls="none",
                        markersize=7)
            ax.text(1.01, yi, "%.3f  (%.2f–%.2f)" % (r["ratio"], r["min"], r["max"]),
                    transform=ax.get_yaxis_transform(), va="center", fontsize=9)
        ax.axvline(1.0, color="black", lw=0.8, ls="--")
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.set_xlim(lo, hi)
        ax.set_xlabel("rate relative to raw system calls (1.0 = as fast as raw C)\n"
                      "bar: median of the rounds; whisker and brackets: min–max (whisker cut "
                      "at the axis)", fontsize=9)
        ax.set_title("socketkit against raw C, same process, alternating rounds\n"
                     "green: meets its target (triangle), red: below, grey: context only",
                     fontsize=10)
        save(fig, "ratio-to-raw.png")

    # C vs raw, Lua vs LuaSocket, Ruby vs Ruby's socket, per workload.
    langs = [("c", "C vs raw syscalls", "#1565c0"), ("lua", "Lua vs LuaSocket", "#6a1b9a"),
             ("ruby", "Ruby vs Ruby socket", "#c62828")]
    by = {}
    for r in [c for c in c_cases if c.get("target", 0) >= 0] + bindings:
        by.setdefault(workload_key(r), {})[r["lang"]] = r
    keys = [k for k in by if any(l in by[k] for l, _, _ in langs[1:])] or list(by)
    if keys and bindings:
        fig, ax = plt.subplots(figsize=(8.5, 4.8))
        width = 0.26
        top = max(r["ratio"] for k in keys for r in by[k].values()) * 1.25 + 0.2
        for i, (lang, label, color) in enumerate(langs):
            xs, vs, lo, hi = [], [], [], []
            for j, k in enumerate(keys):
                r = by[k].get(lang)
                if r is None:
                    continue
                xs.append(j + (i - 1) * width)
                vs.append(r["ratio"])
                lo.append(r["ratio"] - max(r.get("min", r["ratio"]), 0))
                hi.append(min(r.get("max", r["ratio"]), top) - r["ratio"])
            if xs:
                ax.bar(xs, vs, width, yerr=[lo, hi], capsize=3, label=label, color=color,
                       ecolor="#444444")
                for x, v in zip(xs, vs):
                    ax.text(x, v + 0.03 * top, "%.2f" % v, ha="center", fontsize=8,
                            bbox=dict(facecolor="white", edgecolor="none", pad=0.5))
        ax.axhline(1.0, color="black", lw=0.8, ls="--")
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels(keys)
        ax.set_ylabel("incumbent time / socketkit time\n(> 1: socketkit faster)")
        ax.set_title("socketkit against what each language already has\n"
                     "bar: median (C) or best round (Lua, Ruby); whisker: min–max over the "
                     "rounds, cut at the axis", fontsize=10)
        ax.set_ylim(0, top)
        ax.legend(fontsize=9, loc="upper right")
        save(fig, "incumbents.png")

    if points:
        fig, ax = plt.subplots(figsize=(9, 4.8))
        cases = {}
        for p in points:
            cases.setdefault(p["case"], []).append((p["connections"], p["rate"]))
        for name, pts in cases.items():
            pts.sort()
            # socketkit's lines solid and heavier, the others dashed.
            mine = name.startswith("sk") or "socketkit" in name
            ax.plot([x for x, _ in pts], [v for _, v in pts], marker="o", label=name,
                    lw=2.2 if mine else 1.2, ls="-" if mine else "--")
        ax.set_xscale("log")
        ax.set_xticks(sorted({p["connections"] for p in points}))
        ax.get_xaxis().set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.get_xaxis().set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda v, _: "{:,.0f}".format(v)))
        rates = [p["rate"] for p in points if p["rate"] > 0]
        if rates and max(rates) > 20 * min(rates):
            # Servers an order of magnitude apart: a log axis keeps the slow
            # ones readable.
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
        ax.get_yaxis().set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda v, _: "{:,.0f}".format(v)))
        ax.set_xlabel("concurrent connections")
        ax.set_ylabel("%s/s" % points[0].get("unit", "messages"))
        ax.set_title(points[0]["workload"] + "\nsolid: socketkit; dashed: the others",
                     fontsize=10)
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
        ax.grid(alpha=0.3, which="both")
        save(fig, "concurrency.png")
    return made


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    records, syscalls = parse(a.results)
    if not records:
        sys.exit("report: no 'bench' lines in %s" % a.results)
    os.makedirs(a.out, exist_ok=True)

    points = [r for r in records if "connections" in r and "rate" in r]
    c_cases = [r for r in records if r.get("lang") == "c" and "ratio" in r and "connections" not in r]
    bindings = [r for r in records if r.get("lang") in ("lua", "ruby") and "ratio" in r]
    baselines = {r["workload"]: r for r in records
                 if r.get("lang") == "c" and "ratio" not in r and "connections" not in r}
    pngs = charts(a.out, c_cases, bindings, points)

    md = ["# socketkit benchmarks", ""]
    if a.quick:
        md += ["**Quick run** (`--quick`: smaller workloads, fewer rounds): the ratios are noisy.", ""]
    md += ["Written by `bash bench/run.sh --report DIR`. Each workload runs socketkit and",
           "its baseline alternately in one process; the ratio is the median over the",
           "rounds (min-max beside it). Absolute rates on a shared machine drift; the",
           "ratios taken side by side are what to read. Ratio > 1: socketkit faster.", ""]
    meta = next((r for r in records if r.get("lang") == "meta"), {})
    md += ["## Machine", "", table(["", ""], machine_facts(a.root, meta)), ""]
    if "ratio-to-raw.png" in pngs:
        md += ["## Against raw C", "", "![ratio to raw C](ratio-to-raw.png)", ""]
    if c_cases:
        rows = []
        for r in c_cases:
            base = baselines.get(r["workload"])
            target = r.get("target", 0)
            status = "context" if target < 0 else ("ok" if r["ratio"] >= target else "BELOW TARGET")
            rows.append([r["workload"], r["case"],
                         "{:,.0f} {}/s".format(r["rate"], r.get("unit", "")),
                         "{:,.0f}".format(base["rate"]) if base else "",
                         fmt(r["ratio"]), "%s–%s" % (fmt(r["min"]), fmt(r["max"])),
                         fmt(r.get("cpu_ratio", 0)),
                         ("≥ %.2f" % target) if target >= 0 else "—", status])
        md += [table(["workload", "case", "rate", "raw rate", "ratio", "min–max",
                      "by CPU time", "target", ""], rows), ""]
    if syscalls:
        md += ["Syscalls per 64-byte round trip (strace -f -c over two run lengths):", "",
               table(["case", "per round trip", "which"],
                     [[k, fmt(v, 2), d] for k, v, d in syscalls]), ""]
    if bindings or "incumbents.png" in pngs:
        md += ["## Against each language's incumbent", ""]
        if "incumbents.png" in pngs:
            md += ["![C, Lua and Ruby against their incumbents](incumbents.png)", ""]
        md += ["Lua: socketkit's module against LuaSocket; Ruby: against Ruby's own socket",
               "library; ratio = incumbent time / socketkit time of the best round, min–max",
               "over the rounds.", ""]
        md += [table(["language", "workload", "ratio", "min–max", "work"],
                     [[r["lang"], r["workload"], fmt(r["ratio"], 2),
                       "%s–%s" % (fmt(r["min"], 2), fmt(r["max"], 2)),
                       "{:,.0f} {}".format(r.get("n", 0), r.get("unit", ""))] for r in bindings]), ""]
    if points:
        md += ["## Concurrency", ""]
        if "concurrency.png" in pngs:
            md += ["![rate against connections](concurrency.png)", ""]
        md += [table(["workload", "case", "connections", "rate"],
                     [[p["workload"], p["case"], "{:,.0f}".format(p["connections"]),
                       "{:,.0f} {}/s".format(p["rate"], p.get("unit", ""))] for p in points]), ""]
    else:
        md += ["## Concurrency", "",
               "No benchmark printed a `connections=` point in this run, so there is no",
               "concurrency chart yet.", ""]
    # Every benchmark's verdict line ("ratio NAME VALUE target ..."), the
    # ones not drawn above included (echo ratios, wait cost, memory).
    verdicts = [l.rstrip("\n")[len("ratio "):] for l in open(a.results, errors="replace")
                if l.startswith("ratio ")]
    if verdicts:
        md += ["## Every target", "", "As `bench/run.sh` prints them (value, target, verdict):",
               "", "```"] + verdicts + ["```", ""]
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write("\n".join(md))
    print("report: %s (%s)" % (os.path.join(a.out, "report.md"), ", ".join(pngs) or "no charts"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
