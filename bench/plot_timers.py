#!/usr/bin/env python3
"""Plots and tabulates timer_bench results.

Reads the JSON that `timer_bench --benchmark_out=FILE --benchmark_out_format=json` (or
`--benchmark_format=json`) writes and produces, for each workload, a log-log PNG of ns/op against
pending timers with one line per implementation (drawn by gnuplot from a generated script), plus
markdown tables. Only the Python standard library and gnuplot are needed.

    python3 bench/plot_timers.py RESULTS.json [--img-dir docs/img] [--doc docs/timer-wheel.md]
    python3 bench/plot_timers.py RESULTS.json --spread [--doc docs/timer-wheel.md]

With --doc, the tables replace what stands between the markers
`<!-- timer-bench-results:begin -->` and `<!-- timer-bench-results:end -->` in that file, and the
cost-against-accuracy table (the queues with a virtual clock, whose lateness the benchmark
records) what stands between `<!-- timer-bench-accuracy:begin -->` and its end marker; a plot of
the same, timer-bench-cost-accuracy.png, joins the per-workload plots. Without --doc the tables
are printed. --spread draws nothing and instead tabulates, for a run made without
--benchmark_report_aggregates_only, the minimum, median and maximum over repetitions of each
benchmark (markers `timer-bench-spread`).
"""

import argparse
import json
import pathlib
import re
import statistics
import subprocess
import sys

# Workloads in the order the tables show them, with what one operation is.
WORKLOADS = {
    "schedule": "arm an unarmed timer",
    "cancel": "disarm a pending timer",
    "reschedule": "re-arm a pending timer to now + idle",
    "keepalive_mix": "99 re-arms, 1 expiry in 100 operations, ticks included",
    "next_deadline": "ask for the earliest deadline",
    "fire_all": "fire one timer, after arming them all",
}

# Implementations: label and colour; also their order in legends and tables.
IMPLEMENTATIONS = {
    "wheel": ("tapstack wheel", "#1b7837"),
    "wheel_from_idle": ("tapstack wheel, deadlines 2 h ahead", "#7fbf7b"),
    "hashed_wheel": ("hashed wheel, 512 slots", "#8c510a"),
    "hashed_wheel_from_idle": ("hashed wheel, deadlines 2 h ahead", "#d8b365"),
    "linux_wheel": ("non-cascading wheel (Linux)", "#01665e"),
    "linux_wheel_from_idle": ("non-cascading wheel, deadlines 2 h ahead", "#5ab4ac"),
    "heap": ("indexed binary heap", "#762a83"),
    "libevent": ("libevent 2.1 heap", "#d6604d"),
    "libevent_common": ("libevent 2.1 common timeouts", "#f4a582"),
    "libuv": ("libuv 1.44", "#2166ac"),
    "memory": ("one dependent load (memory floor)", "#888888"),
}

# Reference lines drawn on a workload's plot from another "workload" of the binary.
REFERENCES = {"fire_all": ["dependent_load/memory"]}

NAME = re.compile(r"^(?P<workload>[a-z_]+)/(?P<impl>[a-z_]+)/(?P<pending>\d+)(?:/manual_time)?$")

RESULTS_SECTION = "timer-bench-results"
ACCURACY_SECTION = "timer-bench-accuracy"

KEPT_COUNTERS = ("ns_per_op", "bytes_per_timer", "lateness_p50", "lateness_p99", "lateness_max")

# The queues with a virtual clock: fire_all records how late each of their timers fired.
ACCURACY_IMPLS = ["wheel", "hashed_wheel", "linux_wheel", "heap"]
SPREAD_SECTION = "timer-bench-spread"


def load(path):
    """Returns (context, {(workload, impl, pending): {"ns_per_op", "bytes_per_timer"}},
    {(workload, impl, pending): [ns_per_op of each repetition]})."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    aggregates, iterations = {}, {}
    for run in data.get("benchmarks", []):
        if run.get("error_occurred"):
            print(f"skipping {run['name']}: {run.get('error_message')}", file=sys.stderr)
            continue
        match = NAME.match(run.get("run_name", run["name"]))
        if not match:
            continue
        key = (match["workload"], match["impl"], int(match["pending"]))
        if run.get("run_type") == "aggregate":
            # The median of the repetitions is least disturbed by a neighbour's burst of work.
            if run.get("aggregate_name") == "median":
                aggregates[key] = run
        else:
            iterations.setdefault(key, []).append(run)
    results = {}
    for key in set(aggregates) | set(iterations):
        if key in aggregates:
            run = aggregates[key]
            results[key] = {name: run[name] for name in KEPT_COUNTERS if name in run}
        else:
            runs = iterations[key]
            results[key] = {
                name: statistics.median(r[name] for r in runs) for name in KEPT_COUNTERS if name in runs[0]
            }
    repetitions = {key: [r["ns_per_op"] for r in runs] for key, runs in iterations.items()}
    return data.get("context", {}), results, repetitions


def machine(context):
    cpus = context.get("num_cpus", "?")
    model = context.get("cpu_model", "unknown CPU")
    return f"{model}, {cpus} CPUs"


def ordered_impls(results, workload):
    present = {impl for (w, impl, _) in results if w == workload}
    return [impl for impl in IMPLEMENTATIONS if impl in present]


def series(results, workload, impl):
    return sorted((p, v["ns_per_op"]) for (w, i, p), v in results.items() if (w, i) == (workload, impl))


def gnuplot_script(results, workload, output, context):
    lines = [
        'set terminal pngcairo size 900,680 font "DejaVu Sans,11"',
        f"set output '{output}'",
        # Underscores would turn into subscripts in gnuplot's enhanced text.
        f'set title "{workload.replace("_", " ")}: {WORKLOADS.get(workload, "")}'
        f'\\n{{/*0.85 {machine(context)}}}"',
        "set logscale xy",
        "set xlabel 'pending timers'",
        "set ylabel 'ns per operation (median of repetitions)'",
        "set format x '10^{%L}'",
        "set xrange [700:1.4e6]",
        "set grid xtics ytics mytics",
        "set key outside below center horizontal maxcols 2 Left reverse width -4",
    ]
    plots = []
    lines_to_draw = [(workload, impl) for impl in ordered_impls(results, workload)]
    for reference in REFERENCES.get(workload, []):
        ref_workload, ref_impl = reference.split("/")
        if series(results, ref_workload, ref_impl):
            lines_to_draw.append((ref_workload, ref_impl))
    for index, (w, impl) in enumerate(lines_to_draw):
        block = f"$data{index}"
        lines.append(f"{block} << EOD")
        lines.extend(f"{p} {ns:.4g}" for p, ns in series(results, w, impl))
        lines.append("EOD")
        label, colour = IMPLEMENTATIONS.get(impl, (impl, "#000000"))
        style = "dt 2 lw 1.5" if w != workload else "lw 2"
        plots.append(
            f"{block} using 1:2 with linespoints {style} pt 7 ps 0.9 lc rgb '{colour}' "
            f"title '{label}'"
        )
    lines.append("plot " + ", \\\n     ".join(plots))
    return "\n".join(lines) + "\n"


def format_ns(value):
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown(results, context):
    sizes = sorted({p for (_, _, p) in results})
    top = max(sizes) if sizes else 0
    out = [f"Machine: {machine(context)}; ns per operation, median of repetitions.", ""]

    # Headline: every workload at the largest pending count.
    workloads = [w for w in WORKLOADS if any(k[0] == w for k in results)]
    impls = [i for i in IMPLEMENTATIONS if i != "memory" and any(k[1] == i for k in results)]
    out.append(f"At {top:,} pending timers:")
    out.append("")
    out.append("| implementation | " + " | ".join(workloads) + " | bytes/timer |")
    out.append("|---|" + "---:|" * (len(workloads) + 1))
    for impl in impls:
        cells, size = [], None
        for w in workloads:
            value = results.get((w, impl, top))
            cells.append(format_ns(value["ns_per_op"]) if value else "n/a")
            if value and size is None:
                size = int(value["bytes_per_timer"])
        label = IMPLEMENTATIONS[impl][0]
        out.append(f"| {label} | " + " | ".join(cells) + f" | {size if size else 'n/a'} |")
    memory = results.get(("dependent_load", "memory", top))
    if memory:
        out.append("")
        out.append(
            f"One dependent load over {top:,} 32-byte nodes in shuffled order: "
            f"{format_ns(memory['ns_per_op'])} ns."
        )

    # Per workload, every size.
    for w in workloads:
        out.append("")
        out.append(f"**{w}** ({WORKLOADS[w]}), ns/op:")
        out.append("")
        out.append("| implementation | " + " | ".join(f"{p:,}" for p in sizes) + " |")
        out.append("|---|" + "---:|" * len(sizes))
        for impl in ordered_impls(results, w):
            cells = [format_ns(results[(w, impl, p)]["ns_per_op"]) if (w, impl, p) in results else "n/a"
                     for p in sizes]
            out.append(f"| {IMPLEMENTATIONS.get(impl, (impl,))[0]} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def lateness(results, workload, impl, pending):
    value = results.get((workload, impl, pending))
    if not value or "lateness_max" not in value:
        return None
    return tuple(value[f"lateness_{q}"] for q in ("p50", "p99", "max"))


def format_lateness(triple):
    if triple is None:
        return "n/a"
    return " / ".join(f"{v:g}" for v in triple)


def cost_accuracy(results, context):
    """The table of cost against accuracy: per queue and size, what a keepalive operation and a
    firing cost, the memory per timer, and how late timers fired (ms, p50 / p99 / max) in fire_all,
    for deadlines spread over the next seconds and for the same spread two hours ahead."""
    sizes = sorted({p for (w, i, p) in results if w == "fire_all" and i in ACCURACY_IMPLS})
    out = [
        f"Machine: {machine(context)}; ns per operation, median of repetitions; lateness in ms "
        "(p50 / p99 / max) against the exact deadline.",
        "",
        "| queue | pending | keepalive_mix ns/op | fire_all ns/timer | fire_all, 2 h ahead | bytes/timer "
        "| lateness | lateness, 2 h ahead |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for impl in ACCURACY_IMPLS:
        for p in sizes:
            fire = results.get(("fire_all", impl, p))
            if not fire:
                continue
            mix = results.get(("keepalive_mix", impl, p))
            idle = results.get(("fire_all", f"{impl}_from_idle", p))
            out.append(
                f"| {IMPLEMENTATIONS[impl][0]} | {p:,} | {format_ns(mix['ns_per_op']) if mix else 'n/a'} | "
                f"{format_ns(fire['ns_per_op'])} | {format_ns(idle['ns_per_op']) if idle else 'n/a'} | "
                f"{fire['bytes_per_timer']:.0f} | {format_lateness(lateness(results, 'fire_all', impl, p))} | "
                f"{format_lateness(lateness(results, 'fire_all', f'{impl}_from_idle', p))} |"
            )
    return "\n".join(out) + "\n"


def cost_accuracy_script(results, output, context):
    """A gnuplot script: one point per queue and size, firing cost across, worst lateness up."""
    lines = [
        'set terminal pngcairo size 900,680 font "DejaVu Sans,11"',
        f"set output '{output}'",
        f'set title "cost against accuracy: fire all, deadlines 2 h ahead\\n{{/*0.85 {machine(context)}}}"',
        "set logscale x",
        "set xlabel 'ns per fired timer (median of repetitions)'",
        "set ylabel 'latest firing, ms after the deadline'",
        "set yrange [-2e4:1.8e5]",
        "set grid xtics ytics",
        "set key outside below center horizontal maxcols 2 Left reverse width -4",
    ]
    plots = []
    for index, impl in enumerate(ACCURACY_IMPLS):
        workload_impl = f"{impl}_from_idle" if any(k[1] == f"{impl}_from_idle" for k in results) else impl
        points = []
        for (w, i, p), value in sorted(results.items()):
            if (w, i) == ("fire_all", workload_impl) and "lateness_max" in value:
                points.append(f"{value['ns_per_op']:.4g} {value['lateness_max']:g} {p:.0e}")
        if not points:
            continue
        block = f"$acc{index}"
        lines.append(f"{block} << EOD")
        lines.extend(points)
        lines.append("EOD")
        label, colour = IMPLEMENTATIONS[impl]
        plots.append(f"{block} using 1:2 with linespoints lw 2 pt 7 ps 1.1 lc rgb '{colour}' title '{label}'")
        # The exact queues share the zero line: stagger their labels so that each stays legible.
        plots.append(
            f"{block} using 1:2:3 with labels offset 0,{1 + 1.2 * index:g} font ',9' tc rgb '{colour}' notitle"
        )
    lines.append("plot " + ", \\\n     ".join(plots))
    return "\n".join(lines) + "\n"


def spread(repetitions, context):
    out = [
        f"Machine: {machine(context)}; ns per operation over repetitions "
        "(each repetition's value is its median over batches).",
        "",
        "| benchmark | pending | repetitions | min | median | max |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    order = list(WORKLOADS) + ["dependent_load"]
    impls = list(IMPLEMENTATIONS)
    for (w, impl, p), values in sorted(
        repetitions.items(),
        key=lambda item: (order.index(item[0][0]) if item[0][0] in order else len(order),
                          impls.index(item[0][1]) if item[0][1] in impls else len(impls),
                          item[0][2]),
    ):
        label = IMPLEMENTATIONS.get(impl, (impl,))[0]
        out.append(
            f"| {w}: {label} | {p:,} | {len(values)} | {format_ns(min(values))} | "
            f"{format_ns(statistics.median(values))} | {format_ns(max(values))} |"
        )
    return "\n".join(out) + "\n"


def update_doc(doc, section, table):
    begin_mark, end_mark = f"<!-- {section}:begin -->", f"<!-- {section}:end -->"
    text = doc.read_text(encoding="utf-8")
    begin, end = text.find(begin_mark), text.find(end_mark)
    if begin < 0 or end < begin:
        sys.exit(f"{doc}: markers {begin_mark} ... {end_mark} not found")
    text = text[: begin + len(begin_mark)] + "\n" + table + text[end:]
    doc.write_text(text, encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=pathlib.Path, help="timer_bench JSON output")
    parser.add_argument("--img-dir", type=pathlib.Path, default=pathlib.Path("docs/img"))
    parser.add_argument("--doc", type=pathlib.Path, help="markdown file whose results section to replace")
    parser.add_argument("--spread", action="store_true", help="tabulate min/median/max over repetitions")
    args = parser.parse_args()

    context, results, repetitions = load(args.results)
    if not results:
        sys.exit(f"{args.results}: no timer_bench results found")
    if args.spread:
        if not repetitions:
            sys.exit(f"{args.results}: no per-repetition results (run without aggregates only)")
        emit(spread(repetitions, context), args.doc, SPREAD_SECTION)
        return
    args.img_dir.mkdir(parents=True, exist_ok=True)
    for workload in WORKLOADS:
        if not ordered_impls(results, workload):
            continue
        output = args.img_dir / f"timer-bench-{workload.replace('_', '-')}.png"
        script = gnuplot_script(results, workload, output, context)
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
        print(f"wrote {output}", file=sys.stderr)

    emit(markdown(results, context), args.doc, RESULTS_SECTION)
    if any(k[0] == "fire_all" and k[1] in ACCURACY_IMPLS for k in results):
        output = args.img_dir / "timer-bench-cost-accuracy.png"
        subprocess.run(["gnuplot"], input=cost_accuracy_script(results, output, context), text=True, check=True)
        print(f"wrote {output}", file=sys.stderr)
        emit(cost_accuracy(results, context), args.doc, ACCURACY_SECTION)


def emit(table, doc, section):
    if doc:
        update_doc(doc, section, table)
        print(f"updated {doc}", file=sys.stderr)
    else:
        print(table, end="")


if __name__ == "__main__":
    main()
