// The random workload behind the timer queues' property tests: long sequences of schedule, cancel,
// reschedule and advance (small steps and huge jumps, with callbacks that mutate the queue), each
// call made on the queue and on an oracle that says what the queue may fire, and when.
//
// `Queue` offers the tick interface of TimerWheel (ScheduleTick, Cancel, AdvanceToTick, now_tick,
// pending_count, empty). `Oracle` offers:
//   Schedule(id, deadline, now), Cancel(id), IsScheduled(id), pending(), now()
//   BeginAdvance(target)   an advance to `target` begins
//   CheckFired(id, tick)   the queue fired `id` at `tick`: fail (ASSERT) if it may not
//   EndAdvance()           the advance is over: fail if a timer that had to fire did not
// ExactOracle, below, is the reference model of the exact queues.
#ifndef TAPSTACK_TESTS_TIMERS_QUEUE_PROPERTY_RUN_H_
#define TAPSTACK_TESTS_TIMERS_QUEUE_PROPERTY_RUN_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "tests/timers/reference_model.h"
#include "timers/timer.h"
#include "timers/timer_queue.h"

namespace tapstack::timers::testing {

// Every timer at its exact tick, in the model's order.
class ExactOracle {
 public:
  void Schedule(int id, Tick deadline, Tick /*now*/) { model_.Schedule(id, deadline); }
  void Cancel(int id) { model_.Cancel(id); }
  bool IsScheduled(int id) const { return model_.IsScheduled(id); }
  std::size_t pending() const { return model_.pending(); }
  Tick now() const { return model_.now(); }
  void BeginAdvance(Tick target) { model_.BeginAdvance(target); }
  void CheckFired(int id, Tick tick) {
    const std::optional<std::pair<int, Tick>> expected = model_.PopNext();
    ASSERT_TRUE(expected.has_value())
        << "the queue fired timer " << id << " at tick " << tick << "; the model fires nothing";
    ASSERT_EQ(id, expected->first) << "at tick " << tick;
    ASSERT_EQ(tick, expected->second) << "timer " << id;
  }
  void EndAdvance() {
    ASSERT_FALSE(model_.PopNext().has_value()) << "the model still had a timer due at this advance";
    model_.EndAdvance();
  }

 private:
  Model model_;
};

// Every timer at its exact tick, the due list in order, any order among the timers of one tick
// (TimerWheel's promise).
class SameTickAnyOrderOracle {
 public:
  void Schedule(int id, Tick deadline, Tick /*now*/) { model_.Schedule(id, deadline); }
  void Cancel(int id) { model_.Cancel(id); }
  bool IsScheduled(int id) const { return model_.IsScheduled(id); }
  std::size_t pending() const { return model_.pending(); }
  Tick now() const { return model_.now(); }
  void BeginAdvance(Tick target) { model_.BeginAdvance(target); }
  void CheckFired(int id, Tick tick) {
    const std::optional<Tick> expected = model_.PopIfDueAtEarliestTick(id);
    ASSERT_TRUE(expected.has_value())
        << "the queue fired timer " << id << " at tick " << tick
        << "; the model has other timers to fire first, or none due by then";
    ASSERT_EQ(tick, *expected) << "timer " << id;
  }
  void EndAdvance() {
    ASSERT_FALSE(model_.PopNext().has_value()) << "the model still had a timer due at this advance";
    model_.EndAdvance();
  }

 private:
  Model model_;
};

// Runs other seeds and longer sequences locally: TAPSTACK_PROPERTY_SEED, TAPSTACK_PROPERTY_OPS.
inline std::uint64_t EnvOr(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtoull(value, nullptr, 10) : fallback;
}

// The fixed seeds every property test runs, plus TAPSTACK_PROPERTY_SEED.
inline auto PropertySeeds() {
  return ::testing::Values(1, 2, 3, EnvOr("TAPSTACK_PROPERTY_SEED", 20261126));
}

template <typename Queue, typename Oracle>
class QueuePropertyRun {
 public:
  QueuePropertyRun(std::uint64_t seed, int timer_count) : rng_(seed), owners_(timer_count) {
    for (int i = 0; i < timer_count; ++i) {
      owners_[i].id = i;
      owners_[i].run = this;
    }
  }

  void Run(int operations) {
    for (int op = 0; op < operations && !::testing::Test::HasFatalFailure(); ++op) {
      const int choice = Uniform(0, 99);
      if (choice < 45) {
        Schedule(RandomId(), RandomDeadline());
      } else if (choice < 60) {
        Cancel(RandomId());
      } else if (choice < 75) {
        // Reschedule a pending timer (the keepalive re-arm pattern).
        const int id = RandomId();
        if (oracle_.IsScheduled(id)) Schedule(id, RandomDeadline());
      } else {
        Advance(RandomAdvanceTarget());
      }
      ASSERT_EQ(queue_.now_tick(), oracle_.now());
      ASSERT_EQ(queue_.pending_count(), oracle_.pending());
    }
    // Drain: everything still pending must fire as the oracle says.
    Advance(std::numeric_limits<Tick>::max());
    Advance(std::numeric_limits<Tick>::max());
    ASSERT_TRUE(queue_.empty());
    ASSERT_EQ(queue_.pending_count(), 0u);
  }

  // Runs TAPSTACK_PROPERTY_OPS operations (a million by default) and checks that a good share of
  // them fired a timer, so that the run tested something.
  void RunDefaultLength() {
    const int operations = static_cast<int>(EnvOr("TAPSTACK_PROPERTY_OPS", 1'000'000));
    Run(operations);
    EXPECT_GT(fired_, static_cast<std::uint64_t>(operations) / 10);
  }

  std::uint64_t fired() const { return fired_; }
  const Queue& queue() const { return queue_; }

 private:
  struct Owner {
    int id = 0;
    QueuePropertyRun* run = nullptr;
    Timer timer{[](Timer& timer) {
      Owner& self = OwnerOf<&Owner::timer>(timer);
      self.run->OnFire(self);
    }};
  };

  void OnFire(Owner& owner) {
    oracle_.CheckFired(owner.id, queue_.now_tick());
    if (::testing::Test::HasFatalFailure()) return;
    ++fired_;
    // Callbacks mutate the queue too: re-arm self (sometimes for "now"), or touch another timer.
    const int choice = Uniform(0, 99);
    if (choice < 20) {
      Schedule(owner.id, queue_.now_tick() + static_cast<Tick>(Uniform(0, 300)));
    } else if (choice < 30) {
      Cancel(RandomId());
    } else if (choice < 40) {
      Schedule(RandomId(), queue_.now_tick() + static_cast<Tick>(Uniform(0, 5000)));
    }
  }

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  int RandomId() { return Uniform(0, static_cast<int>(owners_.size()) - 1); }

  Tick RandomDeadline() {
    const Tick now = queue_.now_tick();
    switch (Uniform(0, 9)) {
      case 0:
        return now > 0 ? now - static_cast<Tick>(Uniform(0, 100)) % (now + 1) : 0;  // past
      case 1:
        return now;
      case 2:
        return now + std::uniform_int_distribution<Tick>(0, Tick{1} << 40)(rng_);  // huge
      case 3:
        return now + std::uniform_int_distribution<Tick>(0, 1 << 22)(rng_);
      default:
        return now + static_cast<Tick>(Uniform(1, 5000));
    }
  }

  Tick RandomAdvanceTarget() {
    const Tick now = queue_.now_tick();
    switch (Uniform(0, 19)) {
      case 0:
        return now + std::uniform_int_distribution<Tick>(0, Tick{1} << 41)(rng_);  // huge
      case 1:
        return now > 10 ? now - 10 : 0;  // backwards: treated as now
      case 2:
        return now + std::uniform_int_distribution<Tick>(0, 1 << 23)(rng_);
      default:
        return now + static_cast<Tick>(Uniform(0, 200));
    }
  }

  void Schedule(int id, Tick deadline) {
    oracle_.Schedule(id, deadline, queue_.now_tick());
    queue_.ScheduleTick(owners_[id].timer, deadline);
  }

  void Cancel(int id) {
    oracle_.Cancel(id);
    queue_.Cancel(owners_[id].timer);
  }

  void Advance(Tick target) {
    oracle_.BeginAdvance(target);
    const std::uint64_t before = fired_;
    const std::size_t reported = queue_.AdvanceToTick(target);
    if (::testing::Test::HasFatalFailure()) return;
    ASSERT_EQ(reported, fired_ - before);
    oracle_.EndAdvance();
  }

  std::mt19937_64 rng_;
  Oracle oracle_;
  Queue queue_{TimePoint{}};
  std::vector<Owner> owners_;
  std::uint64_t fired_ = 0;
};

}  // namespace tapstack::timers::testing

#endif  // TAPSTACK_TESTS_TIMERS_QUEUE_PROPERTY_RUN_H_
