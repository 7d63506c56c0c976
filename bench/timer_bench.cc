// Timer benchmarks: the tapstack wheel, the hashed wheel and the non-cascading (Linux-style) wheel
// against libevent (heap and common timeouts), libuv and an indexed binary heap, at 1e3 to 1e6
// pending timers (results in docs/timer-wheel.md).
//
// Every workload follows the same rules, so the implementations differ only in their timers:
//  - each timer belongs to one connection struct (bench/timer_drivers.h), and connections are
//    visited in a random order fixed by a seed, so that at 1e6 timers each visit is a cache miss as
//    it would be for a server's connections;
//  - the clock advances one tick (1 ms) every kOpsPerTick operations;
//  - one benchmark iteration is a batch of operations timed with the steady clock (manual
//    time); the bookkeeping between batches (keeping the pending count constant, ticking the
//    clock in the pure operation workloads) is outside the timed part. The counter ns_per_op is
//    the median over batches of timed ns / operations (see TimedOps); for fire_all an operation
//    is one fired timer.
#include <benchmark/benchmark.h>
#include <event2/event.h>
#include <time.h>
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/timer_drivers.h"

namespace tapstack::bench {
namespace {

constexpr std::size_t kOpsPerTick = 1000;
// In the keepalive mix, one operation in this many arms a timer that expires at the next tick.
constexpr std::size_t kExpiryEvery = 100;
constexpr std::int64_t kPendingCounts[] = {1'000, 10'000, 100'000, 1'000'000};

using SteadyClock = std::chrono::steady_clock;

// Operations per timed batch: a full tick's worth, but small enough next to the pending count that
// schedule and cancel batches move it by at most an eighth.
std::size_t BatchSize(std::size_t pending) { return std::min(kOpsPerTick, pending / 8); }

// The order connections are visited in: a permutation of [0, count) from a fixed seed, built
// once per count (a benchmark's setup runs again for every iteration count it tries).
const std::vector<std::uint32_t>& ShuffledOrder(std::size_t count) {
  static std::map<std::size_t, std::vector<std::uint32_t>> orders;
  std::vector<std::uint32_t>& order = orders[count];
  if (order.size() != count) {
    order.resize(count);
    for (std::size_t i = 0; i < count; ++i) order[i] = static_cast<std::uint32_t>(i);
    std::mt19937_64 random(0x7a9574c3);
    std::shuffle(order.begin(), order.end(), random);
  }
  return order;
}

// A pseudo-random value in [0, range) derived from `i` (SplitMix64's output mix): fixed offsets for
// the pending population without a random generator's state in the loop.
Ticks SpreadOf(std::size_t i, Ticks range) {
  std::uint64_t z = i + 0x9e3779b97f4a7c15;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return (z ^ (z >> 31)) % range;
}

// Walks the shuffled order round and round; wraps with a compare instead of a modulo so the timed
// loops pay no division. It keeps the order's first element and size by value: through a
// reference to the vector, every call reloaded both (the queue's stores in between could, as far
// as the compiler knew, have changed the vector), four instructions of harness in each timed
// operation.
class Cursor {
 public:
  Cursor(const std::vector<std::uint32_t>& order, std::size_t position)
      : order_(order.data()), size_(order.size()), position_(position % order.size()) {}
  std::size_t Next() {
    const std::size_t connection = order_[position_];
    if (++position_ == size_) position_ = 0;
    return connection;
  }
  // Calls `visit` with each of the next `count` connections: Next() in a loop, but checking for
  // the wrap once per stretch up to the order's end instead of once per connection. The timed
  // loops use it, so that between two operations on the queue the harness adds a load and an
  // increment, no compare and move besides the loop's own.
  template <typename Visit>
  void ForNext(std::size_t count, Visit&& visit) {
    while (count > 0) {
      const std::size_t stretch = std::min(count, size_ - position_);
      const std::uint32_t* const first = order_ + position_;
      for (std::size_t i = 0; i < stretch; ++i) visit(std::size_t{first[i]});
      position_ += stretch;
      if (position_ == size_) position_ = 0;
      count -= stretch;
    }
  }

 private:
  const std::uint32_t* order_;
  std::size_t size_;
  std::size_t position_;
};

// Counts operations and ticks the driver's clock once per kOpsPerTick of them.
template <typename Driver>
class TickPacer {
 public:
  explicit TickPacer(Driver& driver) : driver_(driver) {}
  void Count(std::size_t ops) {
    ops_since_tick_ += ops;
    while (ops_since_tick_ >= kOpsPerTick) {
      driver_.Tick();
      ops_since_tick_ -= kOpsPerTick;
    }
  }

 private:
  Driver& driver_;
  std::size_t ops_since_tick_ = 0;
};

// Accumulates the timed batches of a benchmark and reports them. The headline counter, ns_per_op,
// is the median over batches of each batch's ns per operation: on a machine shared with other
// work, a batch during which the thread was preempted counts milliseconds of someone else's time,
// and a handful of those move a mean far more than the timers do. ns_per_op_mean keeps the mean.
class TimedOps {
 public:
  explicit TimedOps(benchmark::State& state) : state_(state) {}
  void Start() { start_ = SteadyClock::now(); }
  void Stop(std::size_t ops) {
    const std::chrono::duration<double> elapsed = SteadyClock::now() - start_;
    state_.SetIterationTime(elapsed.count());
    seconds_ += elapsed.count();
    ops_ += ops;
    batch_ns_per_op_.push_back(elapsed.count() * 1e9 / static_cast<double>(ops));
  }
  void Report(std::size_t pending, double bytes_per_timer) {
    state_.SetItemsProcessed(static_cast<std::int64_t>(ops_));
    state_.counters["ns_per_op"] = MedianBatch();
    state_.counters["ns_per_op_mean"] =
        ops_ == 0 ? 0.0 : seconds_ * 1e9 / static_cast<double>(ops_);
    state_.counters["bytes_per_timer"] = bytes_per_timer;
    state_.counters["pending"] = static_cast<double>(pending);
  }

 private:
  double MedianBatch() {
    if (batch_ns_per_op_.empty()) return 0.0;
    const auto middle = batch_ns_per_op_.begin() + batch_ns_per_op_.size() / 2;
    std::nth_element(batch_ns_per_op_.begin(), middle, batch_ns_per_op_.end());
    return *middle;
  }

  benchmark::State& state_;
  SteadyClock::time_point start_;
  double seconds_ = 0;
  std::size_t ops_ = 0;
  std::vector<double> batch_ns_per_op_;
};

// Arms `count` timers, in the shuffled order from `first`, over the second half of the idle time:
// a spread-out population none of which expires during a run.
template <typename Driver>
void ArmPopulation(Driver& driver, const std::vector<std::uint32_t>& order, std::size_t first,
                   std::size_t count) {
  Cursor cursor(order, first);
  for (std::size_t i = 0; i < count; ++i) {
    driver.ArmBackground(cursor.Next(), SpreadOf(i, kKeepaliveIdleTicks / 2));
  }
}

// What the steady-state benchmarks start from: the connections in shuffled ring order, `pending`
// timers armed over the second half of the idle time, and in front of them an unarmed window of
// pending / window_divisor connections (none when 0); plus the tick pacing and the timing.
template <typename Driver>
struct SteadyState {
  SteadyState(benchmark::State& state, std::size_t window_divisor)
      : pending(static_cast<std::size_t>(state.range(0))),
        batch(BatchSize(pending)),
        window(window_divisor == 0 ? 0 : pending / window_divisor),
        order(ShuffledOrder(pending + window)),
        driver(order.size()),
        pacer(driver),
        timed(state) {
    ArmPopulation(driver, order, window, pending);
  }
  // Bytes per timer: the timer itself, plus what the queue holds besides (the wheel's slot
  // arrays) spread over the pending timers, as it stands at the end of the run.
  void Report() {
    double bytes = static_cast<double>(Driver::BytesPerTimer());
    if constexpr (requires { driver.slot_bytes(); }) {
      bytes += static_cast<double>(driver.slot_bytes()) / static_cast<double>(pending);
    }
    timed.Report(pending, bytes);
  }

  const std::size_t pending;
  const std::size_t batch;
  const std::size_t window;
  const std::vector<std::uint32_t>& order;
  Driver driver;
  TickPacer<Driver> pacer;
  TimedOps timed;
};

// schedule: arm timers that are not pending, with `pending` others pending. The connections form a
// ring in shuffled order: a window of pending/8 of them is unarmed; each batch arms the window's
// first `batch` connections (timed) and disarms as many just past its end (untimed), so the window
// moves on and a connection is armed long after it was last touched, with a cold cache.
template <typename Driver>
void BM_Schedule(benchmark::State& state) {
  SteadyState<Driver> run(state, /*window_divisor=*/8);
  Cursor window_front(run.order, 0);
  Cursor window_end(run.order, run.window);
  for (auto _ : state) {
    run.timed.Start();
    window_front.ForNext(run.batch, [&](std::size_t c) { run.driver.ArmIdle(c); });
    run.timed.Stop(run.batch);
    window_end.ForNext(run.batch, [&](std::size_t c) { run.driver.Cancel(c); });
    run.pacer.Count(run.batch);
  }
  run.Report();
}

// cancel: disarm pending timers, the mirror image of schedule: each batch disarms the connections
// just past the unarmed window (timed) and re-arms as many at its front (untimed).
template <typename Driver>
void BM_Cancel(benchmark::State& state) {
  SteadyState<Driver> run(state, /*window_divisor=*/8);
  Cursor window_front(run.order, 0);
  Cursor window_end(run.order, run.window);
  for (auto _ : state) {
    run.timed.Start();
    window_end.ForNext(run.batch, [&](std::size_t c) { run.driver.Cancel(c); });
    run.timed.Stop(run.batch);
    window_front.ForNext(run.batch, [&](std::size_t c) { run.driver.ArmIdle(c); });
    run.pacer.Count(run.batch);
  }
  run.Report();
}

// reschedule: the keepalive pattern. Traffic on a connection pushes its pending timer to
// now + idle; every timer stays pending.
template <typename Driver>
void BM_Reschedule(benchmark::State& state) {
  SteadyState<Driver> run(state, /*window_divisor=*/0);
  Cursor cursor(run.order, 0);
  for (auto _ : state) {
    run.timed.Start();
    cursor.ForNext(run.batch, [&](std::size_t c) { run.driver.ArmIdle(c); });
    run.timed.Stop(run.batch);
    run.pacer.Count(run.batch);
  }
  run.Report();
}

// next_deadline: what an event loop asks before it sleeps. Between timed batches of queries, a few
// untimed re-arms and the clock change what the answer has to be found from. Only a few: a query
// costs a nanosecond or so where a re-arm can cost hundreds, and the untimed part would otherwise
// stretch the run a hundredfold.
template <typename Driver>
void BM_NextDeadline(benchmark::State& state) {
  SteadyState<Driver> run(state, /*window_divisor=*/0);
  Cursor cursor(run.order, 0);
  const std::size_t rearms = std::max<std::size_t>(1, run.batch / 100);
  for (auto _ : state) {
    run.timed.Start();
    for (std::size_t i = 0; i < run.batch; ++i) benchmark::DoNotOptimize(run.driver.NextDeadline());
    run.timed.Stop(run.batch);
    for (std::size_t i = 0; i < rearms; ++i) run.driver.ArmIdle(cursor.Next());
    run.pacer.Count(run.batch);
  }
  run.Report();
}

// keepalive_mix: mostly re-arms to now + idle, and one operation in kExpiryEvery arms its timer to
// expire at the next tick, whose callback re-arms it for idle (a probe answered). The ticks, with
// their expiries and callbacks, are timed too.
template <typename Driver>
void BM_KeepaliveMix(benchmark::State& state) {
  SteadyState<Driver> run(state, /*window_divisor=*/0);
  run.driver.set_rearm_on_fire(true);
  Cursor cursor(run.order, 0);
  std::size_t op = 0;
  const std::uint64_t fired_before = run.driver.fired();
  for (auto _ : state) {
    run.timed.Start();
    for (std::size_t i = 0; i < run.batch; ++i, ++op) {
      if (op % kExpiryEvery == 0) {
        run.driver.ArmDueNow(cursor.Next());
      } else {
        run.driver.ArmIdle(cursor.Next());
      }
    }
    run.pacer.Count(run.batch);
    run.timed.Stop(run.batch);
  }
  run.Report();
  state.counters["fired_per_op"] =
      op == 0 ? 0.0
              : static_cast<double>(run.driver.fired() - fired_before) / static_cast<double>(op);
}

// How long after its last event_add or uv_timer_start a real-clock library surely sees `ticks`
// milliseconds as passed: both may read CLOCK_MONOTONIC_COARSE, which lags by up to its resolution.
SteadyClock::duration RealClockWait(Ticks ticks) {
  timespec resolution{};
  clock_getres(CLOCK_MONOTONIC_COARSE, &resolution);
  return std::chrono::milliseconds(ticks + 1) + std::chrono::seconds(resolution.tv_sec) +
         std::chrono::nanoseconds(resolution.tv_nsec);
}

// fire_all: arm `pending` timers (untimed), then fire them all (timed); ns_per_op is per fired
// timer. Deadlines are now + lead + a spread of pending/kOpsPerTick ticks, so about kOpsPerTick
// timers share each tick. The virtual-clock queues advance their clock to the first deadline and
// then tick by tick over the spread; a design that fires late then moves its clock from deadline
// to deadline until every timer has fired. libevent
// and libuv cannot be given a time: the benchmark sleeps (untimed) until every deadline has passed
// on the real clock, and one pass of their loop fires everything.
//
// For the virtual-clock queues, one more cycle after the timed ones, untimed, records how late
// each timer fires against its exact deadline: counters lateness_p50, lateness_p99 and
// lateness_max, in ticks (ms). Only the non-cascading wheel is ever late by more than nothing.
template <typename Driver>
class FireAllCycle {
 public:
  FireAllCycle(Driver& driver, const std::vector<std::uint32_t>& order, std::size_t pending,
               Ticks lead)
      : driver_(driver),
        order_(order),
        pending_(pending),
        lead_(lead),
        span_(std::max<Ticks>(1, pending / kOpsPerTick)) {}

  // Arms the cycle's timers; with a `lateness` log, records each one's exact deadline there too.
  void Arm(LatenessLog* lateness = nullptr) {
    Cursor cursor(order_, 0);
    for (std::size_t i = 0; i < pending_; ++i) {
      const std::size_t connection = cursor.Next();
      const Ticks ticks = lead_ + SpreadOf(i, span_);
      if constexpr (Driver::kVirtualClock) {
        if (lateness != nullptr) lateness->Armed(connection, driver_.now_tick() + ticks);
      }
      driver_.ArmIn(connection, ticks);
    }
    if constexpr (!Driver::kVirtualClock) std::this_thread::sleep_for(RealClockWait(lead_ + span_));
  }

  // Fires what Arm() armed. Returns false when some timer did not fire.
  bool Fire() {
    const std::uint64_t fired_before = driver_.fired();
    if constexpr (Driver::kVirtualClock) {
      driver_.AdvanceTicks(lead_ - 1);  // nothing is due yet, but far timers cascade on the way
      for (Ticks tick = 0; tick < span_; ++tick) driver_.Tick();
      // A design that fires late still holds timers: rather than tick through the wait, do what
      // an event loop does and sleep until the queue says it has work.
      if constexpr (requires { driver_.AdvanceToNextDeadline(); }) {
        while (driver_.fired() - fired_before < pending_ && driver_.AdvanceToNextDeadline()) {
        }
      }
    } else {
      driver_.Tick();
    }
    return driver_.fired() - fired_before == pending_;
  }

 private:
  Driver& driver_;
  const std::vector<std::uint32_t>& order_;
  const std::size_t pending_;
  const Ticks lead_;
  const Ticks span_;
};

template <typename Driver>
void BM_FireAll(benchmark::State& state, Ticks lead) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  const auto& order = ShuffledOrder(pending);
  Driver driver(pending);
  FireAllCycle<Driver> cycle(driver, order, pending, lead);
  TimedOps timed(state);
  std::uint64_t cascaded = 0;
  std::size_t armed_slot_bytes = 0;
  for (auto _ : state) {
    cycle.Arm();
    std::uint64_t cascaded_before = 0;
    if constexpr (requires { driver.cascaded(); }) cascaded_before = driver.cascaded();
    if constexpr (requires { driver.slot_bytes(); }) {
      armed_slot_bytes = std::max(armed_slot_bytes, driver.slot_bytes());
    }

    timed.Start();
    const bool all_fired = cycle.Fire();
    timed.Stop(pending);

    if (!all_fired) {
      state.SkipWithError("fire_all: not every armed timer fired");
      return;
    }
    if constexpr (requires { driver.cascaded(); }) cascaded += driver.cascaded() - cascaded_before;
  }
  // With every timer armed, what the queue holds besides the timers is at its peak.
  timed.Report(pending, static_cast<double>(Driver::BytesPerTimer()) +
                            static_cast<double>(armed_slot_bytes) / static_cast<double>(pending));
  if constexpr (requires { driver.cascaded(); }) {
    const auto timers = static_cast<double>(state.iterations()) * static_cast<double>(pending);
    state.counters["cascades_per_timer"] =
        timers == 0 ? 0.0 : static_cast<double>(cascaded) / timers;
  }
  if constexpr (requires(LatenessLog * log) { driver.set_lateness_log(log); }) {
    LatenessLog lateness(pending);
    driver.set_lateness_log(&lateness);
    cycle.Arm(&lateness);
    cycle.Fire();
    driver.set_lateness_log(nullptr);
    state.counters["lateness_p50"] = static_cast<double>(lateness.Quantile(0.5));
    state.counters["lateness_p99"] = static_cast<double>(lateness.Quantile(0.99));
    state.counters["lateness_max"] = static_cast<double>(lateness.Quantile(1.0));
  }
}

// dependent_load/memory: not a timer structure but the floor under any that reaches its timers
// one from the other, as walking a linked list does. The same count of 32-byte nodes (a Timer's
// size) as connections, linked into one cycle in the shuffled order and followed pointer by
// pointer: each load's address comes from the previous load, so cache misses cannot overlap.
void BM_DependentLoad(benchmark::State& state) {
  struct alignas(32) Node {
    const Node* next;
  };
  const auto pending = static_cast<std::size_t>(state.range(0));
  const auto& order = ShuffledOrder(pending);
  std::vector<Node> nodes(pending);
  for (std::size_t i = 0; i < pending; ++i) {
    nodes[order[i]].next = &nodes[order[i + 1 == pending ? 0 : i + 1]];
  }
  const Node* node = &nodes[order[0]];
  TimedOps timed(state);
  for (auto _ : state) {
    timed.Start();
    for (std::size_t i = 0; i < kOpsPerTick; ++i) node = node->next;
    benchmark::DoNotOptimize(node);
    timed.Stop(kOpsPerTick);
  }
  timed.Report(pending, static_cast<double>(sizeof(Node)));
}

template <typename Function>
void Register(std::string_view workload, std::string_view implementation, Function function) {
  const std::string name = std::string(workload) + "/" + std::string(implementation);
  benchmark::internal::Benchmark* benchmark = benchmark::RegisterBenchmark(name.c_str(), function);
  for (const std::int64_t pending : kPendingCounts) benchmark->Arg(pending);
  benchmark->UseManualTime()->Unit(benchmark::kMicrosecond);
}

template <typename Driver>
void RegisterWorkload(std::string_view workload, void (*function)(benchmark::State&)) {
  Register(workload, Driver::kName, function);
}

// libevent has no public call that returns its next timeout, so it has no next_deadline line.
template <typename Driver>
void RegisterNextDeadline() {
  if constexpr (requires(const Driver& driver) { driver.NextDeadline(); }) {
    RegisterWorkload<Driver>("next_deadline", &BM_NextDeadline<Driver>);
  }
}

template <typename Driver>
void RegisterFireAll() {
  Register("fire_all", Driver::kName,
           [](benchmark::State& state) { BM_FireAll<Driver>(state, 1); });
}

// The wheels' cost depends on how far away deadlines are (each level crossed is one cascade of the
// hierarchical wheel), and the non-cascading wheel's lateness grows with the delay; the heaps'
// cost does not. This line arms the same spread two hours ahead, as keepalive does.
template <typename Driver>
void RegisterFireAllFromIdle() {
  Register("fire_all", std::string(Driver::kName) + "_from_idle",
           [](benchmark::State& state) { BM_FireAll<Driver>(state, kKeepaliveIdleTicks); });
}

// One line per implementation and workload; run order is workload by workload.
template <typename... Drivers>
void RegisterAll() {
  (RegisterWorkload<Drivers>("schedule", &BM_Schedule<Drivers>), ...);
  (RegisterWorkload<Drivers>("cancel", &BM_Cancel<Drivers>), ...);
  (RegisterWorkload<Drivers>("reschedule", &BM_Reschedule<Drivers>), ...);
  (RegisterWorkload<Drivers>("keepalive_mix", &BM_KeepaliveMix<Drivers>), ...);
  (RegisterNextDeadline<Drivers>(), ...);
  (RegisterFireAll<Drivers>(), ...);
  RegisterFireAllFromIdle<WheelDriver>();
  RegisterFireAllFromIdle<HashedWheelDriver>();
  RegisterFireAllFromIdle<LinuxWheelDriver>();
  Register("dependent_load", "memory", &BM_DependentLoad);
}

// The processor for the results' context, as /proc/cpuinfo names it plus its family and model
// numbers (a virtual machine often reports only a generic name). Google Benchmark records caches
// and clock, not the model.
std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string name = "unknown", family, model;
  for (std::string line; std::getline(cpuinfo, line) && line != "";) {
    const std::size_t colon = line.find(": ");
    if (colon == std::string::npos) continue;
    const std::string value = line.substr(colon + 2);
    if (line.rfind("model name", 0) == 0) name = value;
    if (line.rfind("cpu family", 0) == 0) family = value;
    if (line.rfind("model\t", 0) == 0) model = value;
  }
  return name + " (family " + family + ", model " + model + ")";
}

}  // namespace
}  // namespace tapstack::bench

int main(int argc, char** argv) {
  using namespace tapstack::bench;
  RegisterAll<WheelDriver, HashedWheelDriver, LinuxWheelDriver, HeapDriver, LibeventDriver<false>,
              LibeventDriver<true>, LibuvDriver>();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("cpu_model", CpuModel());
  benchmark::AddCustomContext("ops_per_tick", std::to_string(kOpsPerTick));
  benchmark::AddCustomContext("keepalive_idle_ms", std::to_string(kKeepaliveIdleTicks));
  benchmark::AddCustomContext("libevent_version", event_get_version());
  benchmark::AddCustomContext("libuv_version", uv_version_string());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
