#include "tools/sim_shard.h"


#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <random>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "stack/tcp/tcb.h"
#include "tap/stack_pair.h"
#include "tools/process_usage.h"

namespace tapstack::tools {

namespace {

using std::chrono::milliseconds;

constexpr std::uint16_t kFirstServerPort = 10000;
constexpr std::size_t kConnectionsPerServerPort = 25'000;  // within the 28232 ephemeral ports
constexpr std::size_t kConnectBatch = 1000;                // per virtual millisecond
constexpr auto kTrafficTick = milliseconds(100);

}  // namespace

PhaseBarrier::PhaseBarrier(std::ptrdiff_t shards)
    : barrier_(shards, Crossing{this}),
      wall_mark_(MonotonicSeconds()),
      cpu_mark_(ProcessCpuSeconds()) {
  phases_.reserve(3);
  resident_kib_.reserve(4);
}

void PhaseBarrier::Cross() noexcept {
  static constexpr const char* kNames[] = {"", "establish", "traffic+idle+probing", "teardown"};
  const double wall = MonotonicSeconds();
  const double cpu = ProcessCpuSeconds();
  if (crossed_ > 0 && crossed_ < std::size(kNames)) {
    phases_.push_back(PhaseCost{kNames[crossed_], wall - wall_mark_, cpu - cpu_mark_});
  }
  resident_kib_.push_back(ResidentKib());
  ++crossed_;
  // Measured after the resident memory: reading /proc is not part of the next phase.
  wall_mark_ = MonotonicSeconds();
  cpu_mark_ = ProcessCpuSeconds();
}

namespace {

struct Connection {
  tcp::ConnectionId ours;    // on stack A, with keepalive
  tcp::ConnectionId theirs;  // on stack B, the peer
  std::uint32_t key = 0;
  bool dead = false;
  bool closed = false;
};

}  // namespace

ShardResult RunShard(const SimOptions& options, const ShardSpec& spec, PhaseBarrier& barrier,
                     std::atomic<std::size_t>& alive,
                     const std::function<void(double, std::size_t)>& progress) {
  ShardResult result;
  SimReport& report = result.report;
  std::size_t& accepted = result.accepted;
  report.connections = spec.connections;
  report.tcb_bytes = sizeof(tcp::Tcb);

  absl::flat_hash_set<std::uint32_t> dead_keys;
  absl::flat_hash_map<std::uint32_t, timers::TimePoint> last_from_peer;
  tap::StackPairOptions pair_options;
  pair_options.timer_queue = options.timers;
  pair_options.queue_limit = 1 << 22;
  pair_options.tcp.max_connections = spec.connections + 16;
  pair_options.tcp.max_half_open = spec.connections + 16;
  pair_options.tcp.defaults.send_buffer = 16 * 1024;
  pair_options.tcp.defaults.receive_buffer = 16 * 1024;
  pair_options.drop_a_to_b = [&](std::span<const std::uint8_t> frame) {
    return !dead_keys.empty() &&
           dead_keys.contains(tap::StackPair::ConnectionKey(frame, /*from_a=*/true));
  };
  pair_options.drop_b_to_a = [&](std::span<const std::uint8_t> frame) {
    return !dead_keys.empty() &&
           dead_keys.contains(tap::StackPair::ConnectionKey(frame, /*from_a=*/false));
  };
  pair_options.observe_b_to_a = [&](std::span<const std::uint8_t> frame, timers::TimePoint now) {
    ++report.segments_delivered;
    if (const std::uint32_t key = tap::StackPair::ConnectionKey(frame, /*from_a=*/false);
        key != 0) {
      last_from_peer[key] = now;
    }
  };
  tap::StackPair pair(pair_options);
  Stack& a = pair.a();
  Stack& b = pair.b();

  std::vector<Connection> connections(spec.connections);
  absl::flat_hash_map<std::uint64_t, std::size_t> index_by_ours;
  absl::flat_hash_map<std::uint32_t, std::size_t> index_by_key;
  // The simulation's own bookkeeping is sized before the memory baseline below, so that the
  // figure is the stacks' memory alone.
  index_by_ours.reserve(spec.connections);
  index_by_key.reserve(spec.connections);
  std::vector<std::pair<tcp::Event, timers::TimePoint>> closed_events;
  std::vector<std::uint8_t> scratch(4096);

  a.set_tcp_event_handler([&](const tcp::Event& event) {
    switch (event.type) {
      case tcp::EventType::kConnected:
        ++report.established;
        break;
      case tcp::EventType::kReadable:
        while (a.Receive(event.connection, scratch, pair.now()).bytes > 0) {
        }
        break;
      case tcp::EventType::kClosed:
        closed_events.emplace_back(event, pair.now());
        break;
      default:
        break;
    }
  });
  b.set_tcp_event_handler([&](const tcp::Event& event) {
    if (event.type != tcp::EventType::kAcceptReady) return;
    while (std::optional<tcp::ConnectionId> id = b.Accept(event.listener_port)) {
      const std::optional<tcp::ConnectionInfo> info = b.Info(*id);
      const std::uint32_t key = (std::uint32_t{info->remote_port} << 16) | info->local_port;
      if (const auto it = index_by_key.find(key); it != index_by_key.end()) {
        connections[it->second].theirs = *id;
        ++accepted;
      }
    }
  });

  barrier.ArriveAndWait();  // end of setup: the memory baseline
  // Phase 1: establish, a batch per virtual millisecond so that idle periods (and so probes)
  // spread over time as they would in a real server.
  const std::size_t server_ports =
      (spec.connections + kConnectionsPerServerPort - 1) / kConnectionsPerServerPort;
  for (std::size_t port = 0; port < server_ports; ++port) {
    (void)b.Listen(static_cast<std::uint16_t>(kFirstServerPort + port), 4096, pair.now());
  }
  const tcp::KeepaliveOptions keepalive{
      .enabled = true, .idle = options.idle, .interval = options.interval, .count = options.count};
  for (std::size_t i = 0; i < spec.connections; ++i) {
    const auto port = static_cast<std::uint16_t>(kFirstServerPort + i / kConnectionsPerServerPort);
    tcp::Result<tcp::ConnectionId> id = a.Connect(tap::StackPair::kAddressB, port, pair.now());
    if (!id.ok()) break;
    Connection& connection = connections[i];
    connection.ours = *id;
    const std::optional<tcp::ConnectionInfo> info = a.Info(*id);
    connection.key = (std::uint32_t{info->local_port} << 16) | info->remote_port;
    index_by_ours[id->value] = i;
    index_by_key[connection.key] = i;
    (void)a.SetKeepalive(*id, keepalive, pair.now());
    if ((i + 1) % kConnectBatch == 0 || i + 1 == spec.connections) {
      pair.Step(pair.now() + milliseconds(1));
    }
  }
  // Until every connection is accepted, through any gap between events: a timer queue that fires
  // late (the non-cascading wheel) leaves a retransmitted SYN waiting longer than the others do.
  // SYN retries give up after about two minutes.
  pair.RunUntil([&] { return accepted >= spec.connections; }, std::chrono::minutes(3));
  barrier.ArriveAndWait();

  // Phase 2: traffic, idling and probing; at dead_at some peers go silent for good.
  std::mt19937_64 rng(spec.seed);
  const timers::TimePoint start = pair.now();
  const timers::TimePoint end = start + options.duration;
  const timers::TimePoint dead_time = start + options.dead_at;
  timers::TimePoint next_traffic = start + kTrafficTick;
  bool killed = false;
  // The idle timer and each probe interval's timer are armed when the previous one fires, so
  // their lateness adds up.
  const timers::Duration tick = std::chrono::milliseconds(1);
  const timers::Duration late_bound =
      timers::MaxLateness(options.timers, options.idle, tick) +
      timers::MaxLateness(options.timers, options.interval, tick) * options.count;
  report.late_bound_ms = std::chrono::duration<double, std::milli>(late_bound).count();
  const std::size_t traffic_per_tick =
      static_cast<std::size_t>(options.traffic * static_cast<double>(spec.connections) *
                                   std::chrono::duration<double>(kTrafficTick).count() +
                               0.5);
  const std::uint8_t byte = 'x';
  double last_progress = -1;
  while (pair.now() < end) {
    timers::TimePoint limit = std::min(end, next_traffic);
    if (!killed) limit = std::min(limit, dead_time);
    pair.Step(limit);
    if (!killed && pair.now() >= dead_time) {
      killed = true;
      std::vector<std::size_t> order(spec.connections);
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), rng);
      for (std::size_t i = 0; i < spec.dead && i < order.size(); ++i) {
        connections[order[i]].dead = true;
        dead_keys.insert(connections[order[i]].key);
      }
      report.dead = dead_keys.size();
    }
    if (pair.now() >= next_traffic) {
      next_traffic += kTrafficTick;
      std::uniform_int_distribution<std::size_t> pick(0, spec.connections - 1);
      for (std::size_t n = 0; n < traffic_per_tick; ++n) {
        const Connection& connection = connections[pick(rng)];
        if (connection.dead || connection.closed) continue;
        (void)b.Send(connection.theirs, std::span(&byte, 1), pair.now());
      }
    }
    for (const auto& [event, when] : closed_events) {
      const auto it = index_by_ours.find(event.connection.value);
      if (it == index_by_ours.end()) continue;
      Connection& connection = connections[it->second];
      connection.closed = true;
      alive.fetch_sub(1, std::memory_order_relaxed);
      if (!connection.dead) {
        ++report.aborted_live;
        continue;
      }
      const timers::TimePoint expected =
          last_from_peer[connection.key] + options.idle + options.interval * options.count;
      const bool timed_out = event.error == std::errc::timed_out;
      if (timed_out) report.lateness_ns.push_back((when - expected).count());
      if (timed_out && when == expected) {
        ++report.aborted_dead_exact;
      } else if (timed_out && when > expected && when - expected <= late_bound) {
        ++report.aborted_dead_late;
        report.max_late_ms = std::max(
            report.max_late_ms, std::chrono::duration<double, std::milli>(when - expected).count());
      } else {
        ++report.aborted_dead_inexact;
      }
    }
    closed_events.clear();
    const double fraction = std::chrono::duration<double>(pair.now() - start) /
                            std::chrono::duration<double>(options.duration);
    if (progress && fraction - last_progress >= 0.01) {
      last_progress = fraction;
      progress(fraction, alive.load(std::memory_order_relaxed));
    }
  }
  for (const Connection& connection : connections) {
    if (connection.dead && !connection.closed) ++report.dead_not_aborted;
  }
  report.virtual_seconds = std::chrono::duration<double>(pair.now() - start).count();
  report.probes_sent = a.counters()[Counter::kTcpKeepaliveProbesSent];
  report.probes_answered = a.counters()[Counter::kTcpKeepaliveProbesAnswered];
  for (const Stack* stack : {&a, &b}) {
    const timers::TimerQueueStats& stats = stack->timers().stats();
    report.timer_operations += stats.scheduled + stats.cancelled + stats.fired;
  }

  barrier.ArriveAndWait();

  // Phase 3: teardown: every remaining connection aborted on both sides.
  for (const Connection& connection : connections) {
    if (!connection.closed) (void)a.Abort(connection.ours, pair.now());
    (void)b.Abort(connection.theirs, pair.now());
  }
  pair.Pump();
  barrier.ArriveAndWait();
  return result;
}

}  // namespace tapstack::tools
