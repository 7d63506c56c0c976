// One shard of `tapstack sim`: its own pair of stacks, timer queues and connections, run on one
// thread. Shards share nothing but the moments they cross from one phase to the next (so that
// the phases are timed, and the memory of establishment measured, once for the whole process)
// and a count of the connections still alive, for the progress display.
#ifndef TAPSTACK_TOOLS_SIM_SHARD_H_
#define TAPSTACK_TOOLS_SIM_SHARD_H_

#include <atomic>
#include <barrier>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "tools/simulation.h"

namespace tapstack::tools {

// The phases every shard goes through, in order, each ended by PhaseBarrier::ArriveAndWait().
enum class SimPhase { kSetup, kEstablish, kRun, kTeardown };

// Where the shards wait for each other at the end of each phase. The last to arrive records, for
// the process as a whole, the phase's wall time, its CPU time (every thread's) and the resident
// memory at that moment.
class PhaseBarrier {
 public:
  explicit PhaseBarrier(std::ptrdiff_t shards);
  void ArriveAndWait() { barrier_.arrive_and_wait(); }

  // The phases ended so far but setup, which is not timed: establish, traffic+idle+probing,
  // teardown.
  const std::vector<PhaseCost>& phases() const { return phases_; }
  // Resident memory, in KiB, when `phase` ended.
  long resident_kib_after(SimPhase phase) const {
    return resident_kib_[static_cast<std::size_t>(phase)];
  }

 private:
  struct Crossing {
    PhaseBarrier* barrier;
    void operator()() const noexcept { barrier->Cross(); }
  };
  void Cross() noexcept;

  std::barrier<Crossing> barrier_;
  std::size_t crossed_ = 0;
  double wall_mark_ = 0;
  double cpu_mark_ = 0;
  std::vector<PhaseCost> phases_;
  std::vector<long> resident_kib_;
};

struct ShardSpec {
  std::size_t index = 0;
  std::size_t connections = 0;
  std::size_t dead = 0;  // peers of this shard that go silent at dead_at
  std::uint64_t seed = 0;
};

struct ShardResult {
  SimReport report;  // this shard's counts and checks; phases and memory are the barrier's
  std::size_t accepted = 0;
};

// Runs shard `spec` of the simulation `options` describes, crossing `barrier` at the end of each
// phase. Keeps `alive` (shared by every shard) down to date; `progress`, when set, is called now
// and then with the fraction of this shard's virtual time covered and the value of `alive`.
ShardResult RunShard(const SimOptions& options, const ShardSpec& spec, PhaseBarrier& barrier,
                     std::atomic<std::size_t>& alive,
                     const std::function<void(double, std::size_t)>& progress);

}  // namespace tapstack::tools

#endif  // TAPSTACK_TOOLS_SIM_SHARD_H_
