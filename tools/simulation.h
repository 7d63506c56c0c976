// `tapstack sim`: many keepalive connections between two stacks on a virtual clock, some of whose
// peers die at a chosen moment. Each abort is checked against the exact time keepalive promises:
// the last segment from the peer + idle + count x interval (or, with a timer queue that may fire
// late, against that time plus the lateness the queue documents). With more than one thread the
// connections are split into shards, each with its own pair of stacks on its own thread, and
// their results merged.
#ifndef TAPSTACK_TOOLS_SIMULATION_H_
#define TAPSTACK_TOOLS_SIMULATION_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "timers/timer_queue.h"

namespace tapstack::tools {

struct SimOptions {
  std::size_t connections = 10'000;
  double dead_fraction = 0.0;
  std::chrono::nanoseconds idle = std::chrono::seconds(60);
  std::chrono::nanoseconds interval = std::chrono::seconds(10);
  int count = 3;
  double traffic = 0.0;  // segments per connection per virtual second, from the peer to us
  std::chrono::nanoseconds duration = std::chrono::minutes(3);  // virtual, after establishment
  std::chrono::nanoseconds dead_at = std::chrono::seconds(1);   // after establishment
  timers::TimerQueueKind timers = timers::TimerQueueKind::kWheel;
  std::uint64_t seed = 1;
  // Shards, each on its own thread with its own pair of stacks and timer queues, sharing nothing
  // (as a multi-queue TAP device splits connections by flow hash). Shard i gets an even share of
  // the connections and of the dead peers, and seed + i.
  std::size_t threads = 1;
};

struct PhaseCost {
  std::string name;
  double wall_seconds = 0;
  double cpu_seconds = 0;
};

// One shard's connections and whether every check held on it.
struct ShardSummary {
  std::size_t connections = 0;
  std::size_t dead = 0;
  bool ok = false;
};

// With several shards, counts are summed over them, lateness quantiles are over every shard's
// samples, and each phase's wall time runs from the moment every shard finished the phase before
// to the moment every shard finished it (CPU time is the whole process's).
struct SimReport {
  std::size_t connections = 0;
  std::size_t established = 0;
  std::size_t dead = 0;
  std::size_t aborted_dead_exact = 0;  // dead peers aborted at exactly the promised time
  // Dead peers aborted after the promised time, but by no more than the timer queue's documented
  // lateness allows (late_bound_ms): only a queue that is not exact (the non-cascading wheel).
  std::size_t aborted_dead_late = 0;
  std::size_t aborted_dead_inexact = 0;  // dead peers aborted at any other time
  std::size_t aborted_live = 0;          // live connections that were aborted: always an error
  std::size_t dead_not_aborted = 0;
  std::uint64_t probes_sent = 0;
  std::uint64_t probes_answered = 0;
  std::uint64_t segments_delivered = 0;
  std::uint64_t timer_operations = 0;
  double virtual_seconds = 0;
  std::vector<PhaseCost> phases;
  long peak_rss_kib = 0;
  double bytes_per_connection = 0;  // resident memory added per established connection, per side
  std::size_t tcb_bytes = 0;        // sizeof the connection state alone
  // The most an abort may come after the promised time with this timer queue: the lateness its
  // design allows on the idle timer plus on each of the `count` probe intervals. Zero when exact.
  double late_bound_ms = 0;
  double max_late_ms = 0;  // the latest of the aborts counted in aborted_dead_late
  // For every dead peer aborted with ETIMEDOUT, how long after the promised time it was aborted,
  // in nanoseconds (sorted once the run is over). The abort is the last of the keepalive timer's
  // expiries for that peer, and its lateness the sum of theirs: zero with an exact timer queue.
  std::vector<std::int64_t> lateness_ns;
  std::vector<ShardSummary> shards;

  // The lateness at quantile `q` (0 to 1) of lateness_ns, in milliseconds; 0 without samples.
  double LatenessMs(double q) const;

  bool ok() const {
    return established == connections && aborted_dead_exact + aborted_dead_late == dead &&
           aborted_dead_inexact == 0 && aborted_live == 0 && dead_not_aborted == 0 &&
           std::all_of(shards.begin(), shards.end(), [](const ShardSummary& s) { return s.ok; });
  }
};

// Runs the simulation. `progress(fraction_of_virtual_time, alive)` is called now and then, from
// one thread (the first shard's).
SimReport RunSimulation(const SimOptions& options,
                        const std::function<void(double, std::size_t)>& progress);

}  // namespace tapstack::tools

#endif  // TAPSTACK_TOOLS_SIMULATION_H_
