// `tapstack sim` as a whole: the connections split into shards, one thread each, and their
// results merged into one report.
#include "tools/simulation.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <type_traits>
#include <vector>

#include "tools/sim_shard.h"

namespace tapstack::tools {

namespace {

// `total` split into `parts` shares that differ by at most one, the larger ones first.
std::size_t ShareOf(std::size_t total, std::size_t parts, std::size_t index) {
  return total / parts + (index < total % parts ? 1 : 0);
}

// Adds one shard's counts and samples to the merged report.
void MergeShard(const SimReport& shard, SimReport& merged) {
  static_assert(std::is_same_v<std::size_t, std::uint64_t>, "the counts share one type");
  for (std::size_t SimReport::*count :
       {&SimReport::connections, &SimReport::established, &SimReport::dead,
        &SimReport::aborted_dead_exact, &SimReport::aborted_dead_late,
        &SimReport::aborted_dead_inexact, &SimReport::aborted_live, &SimReport::dead_not_aborted,
        &SimReport::probes_sent, &SimReport::probes_answered, &SimReport::segments_delivered,
        &SimReport::timer_operations}) {
    merged.*count += shard.*count;
  }
  merged.virtual_seconds = std::max(merged.virtual_seconds, shard.virtual_seconds);
  merged.tcb_bytes = shard.tcb_bytes;
  merged.late_bound_ms = shard.late_bound_ms;
  merged.max_late_ms = std::max(merged.max_late_ms, shard.max_late_ms);
  merged.lateness_ns.insert(merged.lateness_ns.end(), shard.lateness_ns.begin(),
                            shard.lateness_ns.end());
  merged.shards.push_back(ShardSummary{shard.connections, shard.dead, shard.ok()});
}

}  // namespace

double SimReport::LatenessMs(double q) const {
  if (lateness_ns.empty()) return 0;
  // The same rank as timer_bench's lateness counters: q of the way from the first to the last.
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(lateness_ns.size() - 1));
  return static_cast<double>(lateness_ns[rank]) / 1e6;
}

SimReport RunSimulation(const SimOptions& options,
                        const std::function<void(double, std::size_t)>& progress) {
  const std::size_t shard_count = std::max<std::size_t>(1, options.threads);
  const auto dead_total = static_cast<std::size_t>(
      options.dead_fraction * static_cast<double>(options.connections) + 0.5);
  PhaseBarrier barrier(static_cast<std::ptrdiff_t>(shard_count));
  std::atomic<std::size_t> alive{options.connections};
  std::vector<ShardResult> results(shard_count);
  const auto run_shard = [&](std::size_t index) {
    const ShardSpec spec{.index = index,
                         .connections = ShareOf(options.connections, shard_count, index),
                         .dead = ShareOf(dead_total, shard_count, index),
                         .seed = options.seed + index};
    results[index] = RunShard(options, spec, barrier, alive,
                              index == 0 ? progress : std::function<void(double, std::size_t)>());
  };
  {
    // The first shard runs on the calling thread, the others on threads of their own.
    std::vector<std::jthread> threads;
    threads.reserve(shard_count - 1);
    for (std::size_t index = 1; index < shard_count; ++index)
      threads.emplace_back(run_shard, index);
    run_shard(0);
  }

  SimReport report;
  std::size_t accepted = 0;
  for (const ShardResult& result : results) {
    MergeShard(result.report, report);
    accepted += result.accepted;
  }
  std::sort(report.lateness_ns.begin(), report.lateness_ns.end());
  report.phases = barrier.phases();
  report.bytes_per_connection =
      static_cast<double>(barrier.resident_kib_after(SimPhase::kEstablish) -
                          barrier.resident_kib_after(SimPhase::kSetup)) *
      1024.0 / (2.0 * static_cast<double>(std::max<std::size_t>(1, accepted)));
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  report.peak_rss_kib = usage.ru_maxrss;
  return report;
}

}  // namespace tapstack::tools
