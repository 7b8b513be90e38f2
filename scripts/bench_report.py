#!/usr/bin/env python3
"""Turns scripts/bench.sh's raw results into report.md (medians and ratios)
and throughput.svg (messages/s against connections, a line per server).
Standard library only."""
import argparse
import json
import math
import os
import statistics
from collections import defaultdict

parser = argparse.ArgumentParser()
parser.add_argument("--results", required=True)
parser.add_argument("--memory", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--machine", default="")
parser.add_argument("--seconds", default="")
args = parser.parse_args()

runs = defaultdict(list)  # (mode, conns, size, depth, server) -> [result]
servers = {"echo": [], "app": []}
for line in open(args.results):
    row = json.loads(line)
    r = row["result"]
    size = r["size"] if r["mode"] == "echo" else 0
    runs[(r["mode"], r["conns"], size, r["depth"], row["server"])].append(r)
    if row["server"] not in servers[r["mode"]]:
        servers[r["mode"]].append(row["server"])
memory = [json.loads(line) for line in open(args.memory)] if os.path.exists(args.memory) else []

OURS = {"echo": "ours", "app": "ours-app"}


def median(results, key):
    values = [r[key] for r in results if r.get(key) is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def cells(mode):
    return sorted({k[1:4] for k in runs if k[0] == mode}, key=lambda c: (c[1], c[2], c[0]))


lines = ["# Benchmark report", ""]
lines.append(f"Machine: {args.machine}. Run took {args.seconds} s. Server pinned to one core, "
             "loadgen to the other. Each cell is the median of the rounds; `rate` is messages/s, "
             "`per CPU-s` is messages per second of the server's own CPU time over the measured "
             "window (the fair comparison on two cores, where the client is the limit). Ratios are "
             "ours / peer: above 1.0 means ours is better. Errors count every mismatched byte, "
             "refused connect or stall.")
lines.append("")
headroom = []
for mode in ("echo", "app"):
    ours = OURS[mode]
    peers = [s for s in servers[mode] if s != ours]
    if not servers[mode]:
        continue
    lines.append(f"## {mode}")
    lines.append("")
    head = "| conns | size | depth |" + "".join(f" {s} rate | {s} per CPU-s |" for s in servers[mode])
    head += "".join(f" {ours}/{p} per CPU-s |" for p in peers) + " errors |"
    lines.append(head)
    lines.append("|" + " --- |" * (3 + 2 * len(servers[mode]) + len(peers) + 1))
    for conns, size, depth in cells(mode):
        row = f"| {conns} | {size if mode == 'echo' else 'request'} | {depth} |"
        per_cpu = {}
        errors = 0
        for s in servers[mode]:
            rs = runs.get((mode, conns, size, depth, s), [])
            errors += sum(r["errors"] for r in rs)
            per_cpu[s] = median(rs, "msgs_per_server_cpu_sec")
            row += f" {fmt(median(rs, 'msgs_per_sec'))} | {fmt(per_cpu[s])} |"
            for r in rs:
                headroom.append((r["msgs_per_sec"], r["loadgen_cpu_sec"] / r["seconds"], mode, s, conns, size, depth))
        for p in peers:
            a, b = per_cpu.get(ours), per_cpu.get(p)
            row += f" {fmt(a / b, 2) if a and b else '-'} |"
        lines.append(row + f" {errors} |")
    lines.append("")

# Issue 5's goals, at 50 connections and depth 16, per server CPU second.
GOALS = [("echo", 64, "bare-epoll", 0.95), ("echo", 64, "mio", 1.0), ("echo", 64, "tokio", 1.0),
         ("echo", 4096, "bare-epoll", 0.95), ("echo", 4096, "mio", 1.0), ("echo", 4096, "tokio", 1.0),
         ("app", 0, "tokio-app", 1.2)]
goal_rows = []
for mode, size, peer, goal in GOALS:
    ours = runs.get((mode, 50, size, 16, OURS[mode]), [])
    theirs = runs.get((mode, 50, size, 16, peer), [])
    a, b = median(ours, "msgs_per_server_cpu_sec"), median(theirs, "msgs_per_server_cpu_sec")
    if a and b:
        what = f"{mode} {size} B" if mode == "echo" else "app"
        goal_rows.append(f"| {what} | {peer} | {fmt(a)} | {fmt(b)} | {a / b:.2f} | {goal:.2f} | "
                         f"{'met' if a / b >= goal else 'missed'} |")
if goal_rows:
    lines.append("## Goals: 50 connections, depth 16, messages per server CPU second")
    lines.append("")
    lines.append("| load | peer | ours | peer | ours / peer | goal | |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- |")
    lines += goal_rows
    lines.append("")
    lines.append("Medians of the goal rounds, servers interleaved within each round.")
    lines.append("")

if memory:
    lines.append("## Idle cost")
    lines.append("")
    lines.append("Connections that each made one exchange, then sit idle (fresh server per row).")
    lines.append("")
    lines.append("Goal: at most 0.25 KiB per idle connection at 10,000 connections, and no CPU while idle.")
    lines.append("")
    lines.append("| server | connections | RSS growth per connection (KiB) | server CPU while idle |")
    lines.append("| --- | --- | --- | --- |")
    for m in memory:
        lines.append(f"| {m['server']} | {m['conns']} | {m['kib_per_conn']:.3f} | "
                     f"{m['idle_cpu_seconds']:.2f} s over {m['idle_seconds']:.0f} s |")
    lines.append("")

if headroom:
    top = max(headroom)
    lines.append("## loadgen headroom")
    lines.append("")
    lines.append(f"At the highest rate measured ({fmt(top[0])} msg/s, {top[2]} against {top[3]}, "
                 f"{top[4]} conns, size {top[5]}, depth {top[6]}) loadgen used {top[1] * 100:.0f}% "
                 "of its core.")
    lines.append("")

lines.append("![messages per second against connections](throughput.svg)")
with open(os.path.join(args.out, "report.md"), "w") as f:
    f.write("\n".join(lines) + "\n")

# The plot: two panels (echo 64 B depth 16, app depth 16), log x axis.
W, H, PAD = 520, 320, 60
RIGHT = 110  # the legend's margin, right of each panel's plot
COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
panels = [("echo", 64, 16, "echo, 64 B, depth 16"), ("app", 0, 16, "app, depth 16")]
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{H}" '
       'font-family="sans-serif" font-size="11">', f'<rect width="{2 * W}" height="{H}" fill="white"/>']
for i, (mode, size, depth, title) in enumerate(panels):
    x0 = i * W
    series = {}
    for s in servers[mode]:
        pts = [(c, median(runs[(mode, c, size, depth, s)], "msgs_per_sec"))
               for (c, sz, d) in cells(mode) if sz == size and d == depth and (mode, c, size, depth, s) in runs]
        if pts:
            series[s] = pts
    all_c = sorted({c for pts in series.values() for c, _ in pts})
    ymax = max([v for pts in series.values() for _, v in pts if v] or [1]) * 1.1
    cmin, cmax = (min(all_c), max(all_c)) if all_c else (1, 10)
    span = math.log10(cmax) - math.log10(cmin) or 1

    def px(c):
        return x0 + PAD + (math.log10(c) - math.log10(cmin)) / span * (W - PAD - RIGHT - 10)

    def py(v):
        return H - PAD + 10 - v / ymax * (H - 1.6 * PAD)

    svg.append(f'<text x="{x0 + W / 2}" y="20" text-anchor="middle" font-size="13">{title}: messages/s</text>')
    svg.append(f'<line x1="{x0 + PAD}" y1="{H - PAD + 10}" x2="{x0 + W - RIGHT}" y2="{H - PAD + 10}" stroke="black"/>')
    svg.append(f'<line x1="{x0 + PAD}" y1="{H - PAD + 10}" x2="{x0 + PAD}" y2="{0.6 * PAD}" stroke="black"/>')
    for c in all_c:
        svg.append(f'<text x="{px(c)}" y="{H - PAD + 25}" text-anchor="middle">{c}</text>')
    svg.append(f'<text x="{x0 + W / 2}" y="{H - 15}" text-anchor="middle">connections</text>')
    for k in range(5):
        v = ymax * k / 4
        svg.append(f'<text x="{x0 + PAD - 5}" y="{py(v) + 4}" text-anchor="end">{v / 1000:.0f}k</text>')
    for j, (s, pts) in enumerate(series.items()):
        color = COLORS[j % len(COLORS)]
        path = " ".join(f"{px(c):.1f},{py(v):.1f}" for c, v in pts if v is not None)
        svg.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for c, v in pts:
            if v is not None:
                svg.append(f'<circle cx="{px(c):.1f}" cy="{py(v):.1f}" r="3" fill="{color}"/>')
        svg.append(f'<text x="{x0 + W - RIGHT + 10}" y="{0.6 * PAD + 14 * j + 10}" fill="{color}">{s}</text>')
svg.append("</svg>")
with open(os.path.join(args.out, "throughput.svg"), "w") as f:
    f.write("\n".join(svg) + "\n")
