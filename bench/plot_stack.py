#!/usr/bin/env python3
"""Plots keepalive_bench results (Google Benchmark JSON) as PNGs with gnuplot.

Usage: bench/plot_stack.py keepalive.json [--out docs/img]

Writes keepalive_round.png, keepalive_segment.png, keepalive_dead.png and keepalive_memory.png:
cost per connection (or per segment, per abort) against N for wheel, heap and sweep, both axes
logarithmic, and bytes per idle connection against N. Only the standard library and the gnuplot
binary are needed, so the script runs anywhere the benchmarks do.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile


def load(path):
    """Returns {(benchmark, series): {n: counters}} from a Google Benchmark JSON file."""
    with open(path) as f:
        data = json.load(f)
    results = collections.defaultdict(dict)
    for run in data["benchmarks"]:
        if run.get("run_type") == "aggregate" or run.get("error_occurred"):
            continue
        # e.g. "keepalive_segment/wheel/lazy/n:1000/iterations:3/real_time"
        parts = [p for p in run["name"].split("/")
                 if not p.startswith(("iterations:", "real_time", "min_time"))]
        n_parts = [p for p in parts if p.startswith("n:")]
        if not n_parts:
            continue
        n = int(n_parts[0][2:])
        labels = [p for p in parts if not p.startswith("n:")]
        results[(labels[0], "/".join(labels[1:]))][n] = run
    return results


def plot(results, benchmark, counter, title, ylabel, path, logy=True, goal=None):
    series = sorted(s for (b, s) in results if b == benchmark)
    if not series:
        print(f"no {benchmark} results, skipping {path}", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        plots = []
        for s in series:
            points = sorted(results[(benchmark, s)].items())
            data_path = os.path.join(tmp, s.replace("/", "_") + ".dat")
            with open(data_path, "w") as f:
                for n, run in points:
                    f.write(f"{n} {run[counter]}\n")
            plots.append(f"'{data_path}' using 1:2 with linespoints lw 2 pt 7 title '{s}'")
        if goal is not None:
            plots.append(f"{goal[0]} with lines dt 2 lc rgb 'red' title '{goal[1]}'")
        script = "\n".join([
            "set terminal pngcairo size 900,560 font 'sans,11'",
            f"set output '{path}'",
            f"set title '{title}'",
            "set xlabel 'established connections (N)'",
            f"set ylabel '{ylabel}'",
            "set logscale x 10",
            "set logscale y 10" if logy else "set yrange [0:*]",
            "set format x '10^{%L}'",
            "set grid xtics ytics mytics",
            "set key top left",
            "plot " + ", ".join(plots),
        ])
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", help="keepalive_bench --benchmark_format=json output")
    parser.add_argument("--out", default="docs/img", help="directory for the PNGs")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    results = load(args.json)
    out = lambda name: os.path.join(args.out, name)
    plot(results, "keepalive_round", "ns_per_connection",
         "Full keepalive round (probe + answer), CPU per connection, both stacks",
         "CPU ns per connection", out("keepalive_round.png"), goal=(1000, "goal: 1 us at 1e6"))
    plot(results, "keepalive_segment", "ns_per_segment",
         "Receive path per segment: lazy keepalive vs re-arm per segment",
         "CPU ns per received segment", out("keepalive_segment.png"))
    plot(results, "keepalive_dead", "ns_per_abort",
         "1% dead peers: probes 2..count and the abort, CPU per abort",
         "CPU ns per abort", out("keepalive_dead.png"))
    plot(results, "keepalive_memory", "rss_bytes_per_connection",
         "Memory per idle established connection (RSS delta / connections, per side)",
         "bytes per connection", out("keepalive_memory.png"), logy=False,
         goal=(1024, "goal: 1 KiB"))


if __name__ == "__main__":
    main()
