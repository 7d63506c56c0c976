#!/usr/bin/env python3
"""Figures for `tapstack load`: N connections held over TAP through a Linux NAT (or a plain
router), with keepalive, and `tapstack sim` for the same N in the same run.

Needs root (it creates one network namespace and deletes it again). For each N:
  1. a namespace with tap0 (192.0.2.1/24) and tap1 (198.51.100.1/24); with --mode nat, the
     masquerade and conntrack settings of docs/cli.md's example, with --mode router plain
     forwarding (no conntrack in the namespace at all);
  2. `tapstack load --listen` on tap1, then the client on tap0 with enough source addresses and
     destination ports for N;
  3. once the client holds all N, --hold seconds of keepalive, sampling the NAT's
     nf_conntrack_count every second; then SIGTERM to the client and the server;
  4. `tapstack sim` with the same N and keepalive settings.
It prints one Markdown row per N and, with --json, every report.

Example: sudo bench/load_nat.py --connections 100000 250000 --mode nat
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

PROGRESS = re.compile(r"established (\d+)/(\d+), connecting (\d+), failed (\d+), held (\d+)")
# Ephemeral ports per (source address, destination port) pair: 32768-60999.
EPHEMERAL_PORTS = 60999 - 32768 + 1
FIRST_PORT = 7000


def ip(netns, *args):
    subprocess.run(["ip", "-n", netns, *args], check=True)


def netns_exec(netns, *args, **kwargs):
    return subprocess.run(["ip", "netns", "exec", netns, *args], check=True, text=True,
                          capture_output=True, **kwargs).stdout


def make_namespace(name, mode, conntrack_timeout):
    subprocess.run(["ip", "netns", "add", name], check=True)
    ip(name, "link", "set", "lo", "up")
    for tap, address in (("tap0", "192.0.2.1/24"), ("tap1", "198.51.100.1/24")):
        ip(name, "tuntap", "add", "dev", tap, "mode", "tap")
        ip(name, "addr", "add", address, "dev", tap)
        ip(name, "link", "set", tap, "up")
    netns_exec(name, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    if mode == "nat":
        rules = ('table ip bench_nat {\n'
                 '  chain postrouting { type nat hook postrouting priority 100; '
                 'oifname "tap1" masquerade; }\n'
                 '  chain forward { type filter hook forward priority 0; '
                 'ct state invalid counter drop; }\n'
                 '}\n')
        netns_exec(name, "nft", "-f", "-", input=rules)
        netns_exec(name, "sysctl", "-qw",
                   f"net.netfilter.nf_conntrack_tcp_timeout_established={conntrack_timeout}",
                   "net.netfilter.nf_conntrack_tcp_loose=0")


def conntrack_count(netns):
    try:
        return int(netns_exec(netns, "cat", "/proc/sys/net/netfilter/nf_conntrack_count"))
    except (subprocess.CalledProcessError, ValueError):
        return None


def stop(process, timeout=120):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_load(args, n, workdir):
    netns = f"tsbench{os.getpid()}"
    ports = args.ports
    # Source addresses: enough that addresses × ports × ephemeral ports hold N with room.
    sources = max(1, -(-n * 5 // 4 // (ports * EPHEMERAL_PORTS)))
    extra = [] if sources == 1 else ["--addr", f"192.0.2.10-192.0.2.{10 + sources - 2}"]
    port_range = f"{FIRST_PORT}-{FIRST_PORT + ports - 1}"
    server_json = os.path.join(workdir, f"server-{n}.json")
    client_json = os.path.join(workdir, f"client-{n}.json")
    ready = os.path.join(workdir, f"server-{n}.ready")
    make_namespace(netns, args.mode, args.conntrack_timeout)
    server = client = None
    try:
        server = subprocess.Popen(
            [args.tapstack, "load", "--netns", netns, "--tap", "tap1", "--addr",
             "198.51.100.2/24", "--gateway", "198.51.100.1", "--listen", port_range,
             "--connections", str(n), "--progress", "0s", "--json", server_json,
             "--ready-file", ready], stdout=subprocess.DEVNULL)
        while not os.path.exists(ready):
            if server.poll() is not None:
                sys.exit("the server ended before it listened")
            time.sleep(0.1)
        client = subprocess.Popen(
            [args.tapstack, "load", "--netns", netns, "--tap", "tap0", "--addr", "192.0.2.2/24",
             *extra, "--gateway", "192.0.2.1", "--connections", str(n), "--keepalive",
             args.keepalive, "--progress", "1s", "--json", client_json,
             *(["--rate", args.rate] if args.rate else []),
             f"198.51.100.2:{port_range}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Every connection established (or failed), as the progress lines say. A thread reads
        # them to the end, so that the pipe never fills and blocks the client.
        opened = threading.Event()

        def read_progress():
            for line in client.stderr:
                if args.verbose:
                    print(line.rstrip(), file=sys.stderr)
                match = PROGRESS.search(line)
                if match and int(match[3]) == 0 and int(match[1]) + int(match[4]) == n:
                    opened.set()

        reader = threading.Thread(target=read_progress, daemon=True)
        reader.start()
        while not opened.wait(1):
            if client.poll() is not None:
                sys.exit("the client ended before it opened every connection")
        # Hold: keepalive only. The NAT's table is sampled once a second.
        counts = []
        hold_end = time.monotonic() + args.hold
        while time.monotonic() < hold_end:
            if args.mode == "nat":
                counts.append(conntrack_count(netns))
            time.sleep(1)
        stop(client)
        reader.join()
        stop(server)
        with open(client_json) as f:
            client_report = json.load(f)
        with open(server_json) as f:
            server_report = json.load(f)
        counts = [c for c in counts if c is not None]
        # Frames the kernel dropped at each TAP: tx_dropped are those it could not queue for our
        # process to read (the device's queue of txqueuelen frames was full).
        drops = {}
        for tap in ("tap0", "tap1"):
            for counter in ("tx_dropped", "rx_dropped"):
                drops[f"{tap}_{counter}"] = int(netns_exec(
                    netns, "cat", f"/sys/class/net/{tap}/statistics/{counter}"))
        return {
            "kernel_drops": drops,
            "sources": sources, "ports": ports, "client": client_report,
            "server": server_report,
            "conntrack_min": min(counts) if counts else None,
            "conntrack_max": max(counts) if counts else None,
        }
    finally:
        for process in (client, server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        subprocess.run(["ip", "netns", "del", netns], check=False)


def run_sim(args, n):
    idle, interval, count = args.keepalive.split(",")
    output = subprocess.run(
        [args.tapstack, "sim", "--connections", str(n), "--dead", "0", "--idle", idle,
         "--interval", interval, "--count", count, "--json"],
        check=True, capture_output=True, text=True).stdout
    return json.loads(output)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tapstack", default="build/release/tools/tapstack")
    parser.add_argument("--connections", type=int, nargs="+", default=[100000])
    parser.add_argument("--mode", choices=["nat", "router"], default="nat")
    parser.add_argument("--keepalive", default="10s,5s,3")
    parser.add_argument("--conntrack-timeout", type=int, default=30)
    parser.add_argument("--hold", type=float, default=40, help="seconds held after opening")
    parser.add_argument("--rate", help="the client's --rate (N/s); default 512 handshakes in "
                        "flight, which a NAT whose table is full stalls for the SYN timeout")
    parser.add_argument("--ports", type=int, default=16, help="destination ports")
    parser.add_argument("--no-sim", action="store_true")
    parser.add_argument("--json", help="write every report here")
    parser.add_argument("--verbose", action="store_true", help="echo the client's progress")
    args = parser.parse_args()
    # SIGTERM ends the run like ^C: the namespace and both processes go away.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    if os.geteuid() != 0:
        sys.exit("needs root: it creates a network namespace")

    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for n in args.connections:
            row = {"connections": n, "mode": args.mode, "load": run_load(args, n, workdir)}
            if not args.no_sim:
                row["sim"] = run_sim(args, n)
            rows.append(row)

    print("| N | mode | established | opened/s | handshake p50 / p99 | held at the end "
          "| NAT table min / max | lost | B/conn client / server | CPU ms per round client "
          "/ server | kernel drops at the TAPs | sim B/conn per side "
          "| sim CPU ms per round (both ends) |")
    print("|---:|---|---:|---:|---|---:|---|---|---|---|---:|---:|---:|")
    for row in rows:
        client, server = row["load"]["client"], row["load"]["server"]
        n = row["connections"]
        rounds = client["hold_keepalive_rounds"] or 0
        server_round = server["hold_cpu_seconds"] * 1e3 / rounds if rounds else 0
        table = ("-" if row["load"]["conntrack_min"] is None else
                 f'{row["load"]["conntrack_min"]} / {row["load"]["conntrack_max"]}')
        sim_cells = "- | -"
        if "sim" in row:
            sim = row["sim"]
            probing = next(p for p in sim["phases"] if p["name"] == "traffic+idle+probing")
            sim_rounds = sim["probes_sent"] / n
            sim_cells = (f'{sim["bytes_per_connection"]:.0f} | '
                         f'{probing["cpu_seconds"] * 1e3 / sim_rounds:.1f}')
        print(f'| {n} | {row["mode"]} | {client["established"]} | '
              f'{n / client["open_seconds"]:.0f} | '
              f'{client["handshake_ms"]["p50"]:.1f} / {client["handshake_ms"]["p99"]:.1f} ms | '
              f'{client["held"]} | {table} | {client["lost"] or "none"} | '
              f'{client["bytes_per_connection"]:.0f} / {server["bytes_per_connection"]:.0f} | '
              f'{client["cpu_ms_per_keepalive_round"]:.1f} / {server_round:.1f} | '
              f'{sum(row["load"]["kernel_drops"].values())} | {sim_cells} |')
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
