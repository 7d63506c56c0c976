#!/usr/bin/env python3
"""Prints tapstack against lwIP from one run of transfer_bench and/or keepalive_bench.

Each argument is either a benchmark binary, run here with --benchmark_format=json (arguments
after `--` are passed to every binary), or a JSON file it wrote (--benchmark_out=FILE
--benchmark_out_format=json). With --benchmark_repetitions the median is used, otherwise the
single run.

  python3 bench/compare_lwip.py build/release/bench/transfer_bench \\
      build/release/bench/keepalive_bench -- --benchmark_repetitions=3

Python 3 standard library only.
"""
import json
import re
import subprocess
import sys


def load(source, extra_args):
    if source.endswith(".json"):
        with open(source, encoding="utf-8") as f:
            return json.load(f)
    out = subprocess.run([source, "--benchmark_format=json", *extra_args], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def figures(report):
    """run_name -> the benchmark's entry: the median aggregate if any, else the (last) run."""
    runs, medians = {}, {}
    for entry in report.get("benchmarks", []):
        name = entry.get("run_name", entry["name"])
        if entry.get("error_occurred"):
            continue
        if entry.get("run_type") == "aggregate":
            if entry.get("aggregate_name") == "median":
                medians[name] = entry
        else:
            runs[name] = entry
    runs.update(medians)
    return runs


def ratio(ours, theirs):
    return f"{ours / theirs:.3g}" if theirs else "-"


def transfer_table(results):
    rows = []
    for name, ours in sorted(results.items()):
        match = re.fullmatch(r"BM_Transfer/loss_pct:(\d+)", name)
        lwip = results.get(f"BM_TransferLwip/loss_pct:{match.group(1)}") if match else None
        if not lwip:
            continue
        rows.append((int(match.group(1)), ours, lwip))
    if not rows:
        return
    print("Bulk transfer, 16 MiB per iteration, both ends together (CPU time)")
    print(f"{'loss':>5} | {'CPU ns/segment':>21} | {'tapstack/lwIP':>13} | "
          f"{'MiB per CPU second':>21} | {'pure ACKs per data segment':>26}")
    print(f"{'':>5} | {'tapstack':>10} {'lwIP':>10} | {'':>13} | {'tapstack':>10} {'lwIP':>10} | "
          f"{'tapstack':>12} {'lwIP':>13}")
    for loss, ours, lwip in sorted(rows):
        print(f"{loss:>4}% | {ours['cpu_ns_per_segment']:>10.0f} {lwip['cpu_ns_per_segment']:>10.0f}"
              f" | {ratio(ours['cpu_ns_per_segment'], lwip['cpu_ns_per_segment']):>13} | "
              f"{ours['throughput_bytes_per_s'] / 2**20:>10.0f} "
              f"{lwip['throughput_bytes_per_s'] / 2**20:>10.0f} | "
              f"{ours['pure_acks_per_data_segment']:>12.3f} "
              f"{lwip['pure_acks_per_data_segment']:>13.3f}")
    print()


def keepalive_table(results):
    series = [("keepalive_idle", "ns_per_connection_second",
               "CPU ns per idle connection per second, no probe due (both ends)"),
              ("keepalive_round", "ns_per_connection",
               "CPU ns per connection for a keepalive round (both ends)"),
              ("keepalive_memory", "malloc_bytes_per_connection",
               "malloc'd bytes per idle connection per side")]
    for prefix, counter, title in series:
        by_n = {}
        for name, entry in results.items():
            match = re.fullmatch(rf"{prefix}/(wheel|lwip)/n:(\d+)(/.*)?", name)
            if match and counter in entry:
                by_n.setdefault(int(match.group(2)), {})[match.group(1)] = entry[counter]
        rows = [(n, v) for n, v in sorted(by_n.items()) if "wheel" in v and "lwip" in v]
        if not rows:
            continue
        print(title)
        print(f"{'N':>9} | {'tapstack (wheel)':>16} | {'lwIP':>12} | {'tapstack/lwIP':>13}")
        for n, v in rows:
            print(f"{n:>9} | {v['wheel']:>16.3f} | {v['lwip']:>12.3f} | "
                  f"{ratio(v['wheel'], v['lwip']):>13}")
        print()


def main(argv):
    if "--" in argv:
        split = argv.index("--")
        sources, extra_args = argv[:split], argv[split + 1:]
    else:
        sources, extra_args = argv, []
    if not sources:
        print(__doc__, file=sys.stderr)
        return 2
    results = {}
    for source in sources:
        results.update(figures(load(source, extra_args)))
    if not any(name.startswith(("BM_TransferLwip", "keepalive_round/lwip")) for name in results):
        print("no lwIP results: was the build configured with liblwip-dev installed?",
              file=sys.stderr)
        return 1
    transfer_table(results)
    keepalive_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
