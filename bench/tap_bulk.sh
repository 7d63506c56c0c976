#!/usr/bin/env bash
# Bulk TCP over a TAP device between the Linux kernel and `tapstack nc`, with the TAP's offloads on
# and off (--no-offload), and Linux to Linux over a veth pair with the same tool and size, in the
# same run: the comparison docs/benchmarks.md reports. netcat-openbsd is the Linux side.
#   bench/tap_bulk.sh [MIB] [ROUNDS] [LOSS]   (as root; defaults 256 MiB, 3 rounds, no loss)
# With LOSS (a percentage, 1 to 99), that share of the frames is dropped at random in each
# direction, where the receiver takes them in: by nftables on the kernel's input, by our stack's
# --receive-loss on ours. Every frame carries one segment so that single segments are lost: the
# veth with gso_max_segs 1, our stack with --no-offload (with offloads a drop would take a whole
# super-segment of up to 45 segments). Goodput under loss against Linux's own, for loss recovery.
# Each round runs every case once, in turn, so that the machine's load falls on all of them alike.
# The kernel's congestion control in both namespaces is the host's default unless KERNEL_CC names
# another from net.ipv4.tcp_allowed_congestion_control (set only inside the namespaces made here);
# the first line says which one ran. It matters for Linux -> us (docs/benchmarks.md).
# Prints one line per transfer: case, direction, seconds, Mbit/s, and for our stack the CPU
# seconds (user + system) it used and CPU seconds per GB moved. Namespaces are created here
# (RFC 5737 addresses) and deleted on exit.
set -euo pipefail
mib=${1:-256}
rounds=${2:-3}
loss=${3:-0}
cd "$(dirname "$0")/.."
bin=${TAPSTACK:-build/release/tools/tapstack}
# Extra flags for our side's `tapstack nc` in every case (say, --receive-buffer 1048576).
extra_flags=${TAPSTACK_FLAGS:-}
bytes=$((mib * 1024 * 1024))
ns=tsbench-$$
peer=tsbench-$$-b
cleanup() {
  ip netns del "$ns" 2>/dev/null || true
  ip netns del "$peer" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$ns"
ip netns add "$peer"
if [ -n "${KERNEL_CC:-}" ]; then
  for n in "$ns" "$peer"; do
    ip netns exec "$n" sysctl -qw net.ipv4.tcp_congestion_control="$KERNEL_CC"
  done
fi
kernel_cc=$(ip netns exec "$ns" sysctl -n net.ipv4.tcp_congestion_control)
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev tap0 mode tap
ip -n "$ns" addr add 192.0.2.1/24 dev tap0
ip -n "$ns" link set tap0 up
# The veth pair for the Linux-to-Linux baseline.
ip -n "$ns" link add veth0 type veth peer name veth1 netns "$peer"
ip -n "$ns" addr add 198.51.100.1/24 dev veth0
ip -n "$peer" addr add 198.51.100.2/24 dev veth1
ip -n "$ns" link set veth0 up
ip -n "$peer" link set veth1 up
ip -n "$peer" link set lo up
if [ "$loss" -gt 0 ]; then
  # numgen draws per packet: each frame is dropped with probability LOSS/100 where its receiver
  # takes it in. A drop on the sender's own output hook would not be a loss: the kernel reports it
  # to the sending TCP, which sends the segment again at once. So our frames are dropped on
  # tap0's input (the kernel receives them), the veth's data on veth1's input in the peer
  # namespace and its ACKs on veth0's input, and the kernel's frames to us by our own stack
  # (--receive-loss, below).
  # With one segment per GSO packet (gso_max_segs 1, which iproute2 sets without ethtool) the
  # veth carries one segment per frame, as the TAP does; a veth does no GRO unless asked to.
  ip -n "$ns" link set veth0 gso_max_segs 1
  ip -n "$peer" link set veth1 gso_max_segs 1
  ip netns exec "$ns" nft -f - <<EOF
table inet lossy {
  chain in { type filter hook input priority 0; iifname { "tap0", "veth0" } numgen random mod 100 < $loss drop; }
}
EOF
  ip netns exec "$peer" nft -f - <<EOF
table inet lossy {
  chain in { type filter hook input priority 0; iifname "veth1" numgen random mod 100 < $loss drop; }
}
EOF
fi

now() { date +%s.%N; }
report() {  # case direction start end [cpu_seconds]
  awk -v c="$1" -v d="$2" -v s="$3" -v e="$4" -v cpu="${5:-}" -v b="$bytes" 'BEGIN {
    t = e - s; line = sprintf("%-12s %-14s %7.2f s %8.0f Mbit/s", c, d, t, b * 8 / t / 1e6);
    if (cpu != "") line = line sprintf("  cpu %5.2f s  %5.2f s/GB", cpu, cpu / (b / 1e9));
    print line }'
}
# Runs "$@" and writes its user + system CPU seconds to the file $cpu_file; keeps its status.
timed() {
  local status=0
  /usr/bin/time -f "%U %S" -o "$cpu_file.raw" "$@" || status=$?
  awk '{ print $1 + $2 }' "$cpu_file.raw" | tail -n 1 >"$cpu_file"
  return "$status"
}
# Every transfer must deliver every byte: the receiver's output is counted.
expect_bytes() {
  local got; got=$(cat "$count_file")
  if [ "$got" != "$bytes" ]; then
    echo "$1: received $got bytes, expected $bytes" >&2
    exit 1
  fi
}
cpu_file=$(mktemp /tmp/tsbench-cpu.XXXXXX)
count_file=$(mktemp /tmp/tsbench-count.XXXXXX)
ready=$(mktemp -u /tmp/tsbench-ready.XXXXXX)

linux_to_us() {  # mode flag
  rm -f "$ready"
  (timed "$bin" nc -l --netns "$ns" --tap tap0 --addr 192.0.2.2/24 --ready-file "$ready" $2 $extra_flags 5001 \
     </dev/null | wc -c >"$count_file") &
  local stack=$!
  until [ -e "$ready" ]; do sleep 0.05; done
  until ip netns exec "$ns" cat /sys/class/net/tap0/operstate | grep -q up; do sleep 0.05; done
  local start; start=$(now)
  head -c "$bytes" /dev/zero | ip netns exec "$ns" nc -N 192.0.2.2 5001 >/dev/null
  wait "$stack"
  local end; end=$(now)
  expect_bytes "$1 linux->us"
  report "$1" "linux->us" "$start" "$end" "$(cat "$cpu_file")"
}

us_to_linux() {  # mode flag
  (ip netns exec "$ns" nc -l -d 192.0.2.1 5002 | wc -c >"$count_file") &
  local sink=$!
  until ip netns exec "$ns" ss -ltn | grep -q ':5002'; do sleep 0.05; done
  local start; start=$(now)
  head -c "$bytes" /dev/zero |
    timed "$bin" nc --netns "$ns" --tap tap0 --addr 192.0.2.2/24 $2 $extra_flags 192.0.2.1 5002 >/dev/null
  wait "$sink"
  local end; end=$(now)
  expect_bytes "$1 us->linux"
  report "$1" "us->linux" "$start" "$end" "$(cat "$cpu_file")"
}

veth() {
  (ip netns exec "$peer" nc -l -d 198.51.100.2 5003 | wc -c >"$count_file") &
  local sink=$!
  until ip netns exec "$peer" ss -ltn | grep -q ':5003'; do sleep 0.05; done
  local start; start=$(now)
  head -c "$bytes" /dev/zero | ip netns exec "$ns" nc -N 198.51.100.2 5003 >/dev/null
  wait "$sink"
  local end; end=$(now)
  expect_bytes "veth"
  report "veth" "linux->linux" "$start" "$end"
}

echo "# $mib MiB per transfer, $rounds rounds, ${loss}% loss each way;" \
  "the kernel's TCP: $kernel_cc; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  if [ "$loss" -gt 0 ]; then
    linux_to_us single-seg "--no-offload --receive-loss $loss"
    us_to_linux single-seg "--no-offload --receive-loss $loss"
  else
    linux_to_us offload ""
    linux_to_us no-offload --no-offload
    us_to_linux offload ""
    us_to_linux no-offload --no-offload
  fi
  veth
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$cpu_file" "$cpu_file.raw" "$count_file"
