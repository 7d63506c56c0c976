// The non-cascading wheel is not exact, so its property test checks the bound it documents
// instead of the reference model's ticks: over the same random workload as the exact queues'
// (queue_property_run.h), every timer fires, never before its deadline, and late by less than
// 8/63 of the delay it was armed with. The bound comes from the design (the levels and ranges of
// kernel/time/timer.c since Linux 4.8, whose slack is usually quoted as 12.5%) and is derived in
// non_cascading_timer_wheel.h: a level of granularity 8^L is used only for delays of at least
// 63 * 8^(L-1) ticks, and rounding a deadline up to that granularity adds at most 8^L - 1 ticks.
#include "timers/non_cascading_timer_wheel.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "tests/timers/firing_recorder.h"
#include "tests/timers/queue_property_run.h"

namespace tapstack::timers {
namespace {

// Whether firing at `tick` keeps the documented bound for a timer armed at `armed_at` for
// `deadline`: never early, and 63 x lateness < 8 x delay.
bool WithinBound(Tick armed_at, Tick deadline, Tick tick) {
  return tick >= deadline && 63 * (tick - deadline) < 8 * (deadline - armed_at);
}

// The oracle of the property test (queue_property_run.h): what may fire, and by when.
class BoundedLatenessOracle {
 public:
  void Schedule(int id, Tick deadline, Tick now) {
    Cancel(id);
    if (deadline <= now) {
      due_.insert(id);  // fires at the start of the next advance, like every queue's due list
      return;
    }
    const Armed armed{deadline, now};
    armed_[id] = armed;
    by_latest_.insert({Latest(armed), id});
  }

  void Cancel(int id) {
    due_.erase(id);
    firing_due_.erase(id);
    const auto it = armed_.find(id);
    if (it == armed_.end()) return;
    by_latest_.erase({Latest(it->second), id});
    armed_.erase(it);
  }

  bool IsScheduled(int id) const {
    return armed_.contains(id) || due_.contains(id) || firing_due_.contains(id);
  }
  std::size_t pending() const { return armed_.size() + due_.size() + firing_due_.size(); }
  Tick now() const { return now_; }

  void BeginAdvance(Tick target) {
    target_ = std::max(target, now_);
    firing_due_.merge(due_);
    last_fired_ = now_;
    slot_fired_ = false;
  }

  void CheckFired(int id, Tick tick) {
    if (firing_due_.erase(id) == 1) {
      ASSERT_EQ(tick, now_) << "a due timer fires at the start of the advance, timer " << id;
      ASSERT_FALSE(slot_fired_) << "due timer " << id << " fired after a slot's timer";
      return;
    }
    const auto it = armed_.find(id);
    ASSERT_NE(it, armed_.end()) << "fired timer " << id << " at " << tick << ", not pending";
    const Armed armed = it->second;
    Cancel(id);
    ASSERT_GE(tick, armed.deadline) << "timer " << id << " fired early";
    ASSERT_TRUE(WithinBound(armed.armed_at, armed.deadline, tick))
        << "timer " << id << " armed at " << armed.armed_at << " for " << armed.deadline
        << " fired at " << tick << ": later than 8/63 of its delay";
    ASSERT_LE(tick, target_);
    ASSERT_GE(tick, last_fired_) << "ticks go backwards within an advance";
    last_fired_ = tick;
    slot_fired_ = true;
  }

  void EndAdvance() {
    ASSERT_TRUE(firing_due_.empty()) << "a due timer did not fire at the start of the advance";
    if (!by_latest_.empty()) {
      ASSERT_GT(by_latest_.begin()->first, target_)
          << "timer " << by_latest_.begin()->second << " should have fired by "
          << by_latest_.begin()->first;
    }
    now_ = target_;
  }

 private:
  struct Armed {
    Tick deadline;
    Tick armed_at;
  };
  // The last tick WithinBound allows.
  static Tick Latest(const Armed& armed) {
    return armed.deadline + (8 * (armed.deadline - armed.armed_at) - 1) / 63;
  }

  std::map<int, Armed> armed_;
  std::set<std::pair<Tick, int>> by_latest_;
  std::set<int> due_;
  std::set<int> firing_due_;
  Tick now_ = 0;
  Tick target_ = 0;
  Tick last_fired_ = 0;
  bool slot_fired_ = false;
};

class NonCascadingTimerWheelPropertyTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(NonCascadingTimerWheelPropertyTest, FiresEveryTimerWithinItsLatenessBound) {
  testing::QueuePropertyRun<NonCascadingTimerWheel, BoundedLatenessOracle> run(
      GetParam(), /*timer_count=*/2000);
  run.RunDefaultLength();
  // The workload's huge deadlines lie beyond the last level: clamping was exercised.
  EXPECT_GT(run.queue().stats().cascaded, 0u);
}

INSTANTIATE_TEST_SUITE_P(FixedSeeds, NonCascadingTimerWheelPropertyTest, testing::PropertySeeds());

using Recorder = testing::FiringRecorder;

TEST(NonCascadingTimerWheelTest, ShortDelaysAreExact) {
  NonCascadingTimerWheel wheel{TimePoint{}};
  std::vector<int> log;
  Recorder timer{&log, 1};
  wheel.ScheduleTick(timer.timer, 62);  // below 63 slots of level 0
  EXPECT_EQ(wheel.NextDeadlineTick(), 62u);
  EXPECT_EQ(wheel.AdvanceToTick(61), 0u);
  EXPECT_EQ(wheel.AdvanceToTick(62), 1u);
}

TEST(NonCascadingTimerWheelTest, ALongerDelayFiresAtTheEndOfItsSlotNeverBefore) {
  NonCascadingTimerWheel wheel{TimePoint{}};
  std::vector<int> log;
  Recorder timer{&log, 1};
  // 1000 ticks is at least 63 x 8 = 504: level 2, whose slots span 64 ticks. 1000 rounds up to
  // 1024, 24 ticks late, under 8/63 of 1000 (126).
  wheel.ScheduleTick(timer.timer, 1000);
  EXPECT_EQ(timer.timer.deadline_tick(), 1024u);
  EXPECT_EQ(wheel.NextDeadlineTick(), 1024u);
  EXPECT_EQ(wheel.AdvanceToTick(1023), 0u);
  EXPECT_EQ(wheel.AdvanceToTick(1024), 1u);
  EXPECT_EQ(wheel.stats().cascaded, 0u);
}

TEST(NonCascadingTimerWheelTest, EveryDelayFiresAtItsDeadlineRoundedUpToItsLevel) {
  // The placement rule written out independently of the wheel's code, for every delay up to
  // three levels and the clock at every phase of a level-2 slot: the level is the lowest L with
  // delay < 63 x 8^L, and the timer fires at its deadline rounded up to a multiple of 8^L. No
  // timer is ever found in a slot before its tick (stats().cascaded counts those; only clamped
  // timers may be).
  NonCascadingTimerWheel wheel{TimePoint{}};
  Tick fired_at = 0;
  struct Probe {
    Tick* fired_at;
    NonCascadingTimerWheel* wheel;
    Timer timer{[](Timer& timer) {
      Probe& self = OwnerOf<&Probe::timer>(timer);
      *self.fired_at = self.wheel->now_tick();
    }};
  } probe{&fired_at, &wheel};
  for (Tick delay = 1; delay < 63 * 64 + 200; ++delay) {
    for (Tick phase = 0; phase < 64; phase += 7) {
      wheel.AdvanceToTick(wheel.now_tick() + 1);  // shifts the clock's phase by one
      const Tick deadline = wheel.now_tick() + delay + phase;
      Tick granularity = 1;
      while (delay + phase >= 63 * granularity) granularity *= 8;
      const Tick expected = (deadline + granularity - 1) / granularity * granularity;
      wheel.ScheduleTick(probe.timer, deadline);
      while (probe.timer.is_scheduled()) wheel.AdvanceToTick(*wheel.NextDeadlineTick());
      ASSERT_EQ(fired_at, expected) << "armed " << delay + phase << " ahead for " << deadline;
    }
  }
  EXPECT_EQ(wheel.stats().cascaded, 0u);
}

TEST(NonCascadingTimerWheelTest, AReArmToTheSameSlotLeavesTheTimerInPlace) {
  NonCascadingTimerWheel wheel{TimePoint{}};
  std::vector<int> log;
  Recorder first{&log, 1}, second{&log, 2};
  wheel.ScheduleTick(first.timer, 1000);
  wheel.ScheduleTick(second.timer, 1000);
  wheel.ScheduleTick(first.timer, 1010);  // still fires at 1024: keeps its place, before second
  EXPECT_EQ(wheel.stats().scheduled, 3u);
  EXPECT_EQ(wheel.AdvanceToTick(1024), 2u);
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
  wheel.ScheduleTick(first.timer, 2000);
  wheel.ScheduleTick(second.timer, 2000);
  wheel.ScheduleTick(first.timer, 2100);  // a later slot: it moves
  EXPECT_EQ(wheel.AdvanceToTick(5000), 2u);
  EXPECT_EQ(log, (std::vector<int>{1, 2, 2, 1}));
}

TEST(NonCascadingTimerWheelTest, TimersBeyondTheLastLevelAreClampedButNeverFireEarly) {
  NonCascadingTimerWheel wheel{TimePoint{}};
  std::vector<int> log;
  Recorder timer{&log, 1};
  const Tick deadline = Tick{1} << 40;  // 35 years at 1 ms; the wheel holds about 12 days
  wheel.ScheduleTick(timer.timer, deadline);
  EXPECT_LT(*wheel.NextDeadlineTick(), NonCascadingTimerWheel::kMaxDelayTicks + (1u << 24));
  while (log.empty()) {
    const Tick next = *wheel.NextDeadlineTick();
    wheel.AdvanceToTick(next);
    if (log.empty()) {
      EXPECT_LT(next, deadline);
    }
  }
  EXPECT_TRUE(WithinBound(0, deadline, wheel.now_tick()));
  EXPECT_GT(wheel.stats().cascaded, 1000u);  // placed again once per clamped range crossed
}

TEST(NonCascadingTimerWheelTest, MaxLatenessIsUnderEightSixtyThirdsOfTheDelay) {
  for (Tick delay = 1; delay < 200'000; ++delay) {
    ASSERT_TRUE(WithinBound(0, delay, delay + NonCascadingTimerWheel::MaxLatenessTicks(delay)))
        << delay;
  }
  for (int level = 1; level < NonCascadingTimerWheel::kLevels; ++level) {
    // The first delay of each level, where the bound is tightest.
    const Tick first = Tick{63} << (3 * (level - 1));
    EXPECT_EQ(NonCascadingTimerWheel::MaxLatenessTicks(first), (Tick{1} << (3 * level)) - 1);
    EXPECT_EQ(NonCascadingTimerWheel::MaxLatenessTicks(first - 1),
              (Tick{1} << (3 * (level - 1))) - 1);
    EXPECT_TRUE(WithinBound(0, first, first + NonCascadingTimerWheel::MaxLatenessTicks(first)));
  }
  EXPECT_EQ(NonCascadingTimerWheel::MaxLatenessTicks(62), 0u);
}

}  // namespace
}  // namespace tapstack::timers
