// The hashed wheel (scheme 6) is exact: the same reference model as the hierarchical wheel's
// property test must agree with it firing for firing, at the same ticks, in the same order. Plus
// the cases its design makes special: timers of different turns in one slot, and jumps over many
// turns that must not visit every slot on the way.
#include "timers/hashed_timer_wheel.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tests/timers/firing_recorder.h"
#include "tests/timers/queue_property_run.h"

namespace tapstack::timers {
namespace {

constexpr Tick kTurn = HashedTimerWheel::kSlots;

class HashedTimerWheelPropertyTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(HashedTimerWheelPropertyTest, MatchesTheOrderedMapModel) {
  testing::QueuePropertyRun<HashedTimerWheel, testing::ExactOracle> run(GetParam(),
                                                                        /*timer_count=*/2000);
  run.RunDefaultLength();
}

INSTANTIATE_TEST_SUITE_P(FixedSeeds, HashedTimerWheelPropertyTest, testing::PropertySeeds());

using Recorder = testing::FiringRecorder;

TEST(HashedTimerWheelTest, TimersOfLaterTurnsWaitInTheirSlot) {
  HashedTimerWheel wheel{TimePoint{}};
  std::vector<int> log;
  Recorder near{&log, 1}, far{&log, 2}, farther{&log, 3};
  wheel.ScheduleTick(far.timer, 3 * kTurn + 7);
  wheel.ScheduleTick(near.timer, 7);  // same slot, this turn: the slot's bound drops to 7
  wheel.ScheduleTick(farther.timer, 5 * kTurn + 7);
  EXPECT_EQ(wheel.NextDeadlineTick(), 7u);
  EXPECT_EQ(wheel.AdvanceToTick(6), 0u);
  EXPECT_EQ(wheel.AdvanceToTick(7), 1u);
  EXPECT_EQ(log, std::vector<int>{1});
  // The visit at 7 walked all three and left the slot's bound at the next turn that has work.
  EXPECT_EQ(wheel.stats().visited, 3u);
  EXPECT_EQ(wheel.NextDeadlineTick(), 3 * kTurn + 7);
  EXPECT_EQ(wheel.AdvanceToTick(3 * kTurn + 6), 0u);
  EXPECT_EQ(wheel.AdvanceToTick(6 * kTurn), 2u);
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(wheel.stats().visited, 3u + 2u + 1u);
  EXPECT_TRUE(wheel.empty());
}

TEST(HashedTimerWheelTest, AJumpOverManyTurnsVisitsOnlySlotsWithDueTimers) {
  HashedTimerWheel wheel{TimePoint{}};
  std::vector<int> log;
  std::vector<Recorder> timers(100);
  for (int i = 0; i < 100; ++i) {
    timers[i].log = &log;
    timers[i].id = i;
    // Every slot is occupied, but each timer lies thousands of turns ahead of the clock.
    wheel.ScheduleTick(timers[i].timer, 7'200'000 + static_cast<Tick>(i) * 37);
  }
  EXPECT_EQ(wheel.NextDeadlineTick(), 7'200'000u);
  EXPECT_EQ(wheel.AdvanceToTick(7'199'999), 0u);
  EXPECT_EQ(wheel.stats().visited, 0u);
  EXPECT_EQ(wheel.AdvanceToTick(7'200'000 + 99 * 37), 100u);
  EXPECT_EQ(wheel.stats().visited, 100u);  // one visit per timer, no empty walks
  for (int i = 0; i < 100; ++i) EXPECT_EQ(log[i], i);
}

TEST(HashedTimerWheelTest, ACancelLeavesALowBoundThatCostsOneEmptyVisit) {
  HashedTimerWheel wheel{TimePoint{}};
  std::vector<int> log;
  Recorder early{&log, 1}, late{&log, 2};
  wheel.ScheduleTick(late.timer, 2 * kTurn + 5);
  wheel.ScheduleTick(early.timer, 5);
  wheel.Cancel(early.timer);
  EXPECT_EQ(wheel.NextDeadlineTick(), 5u);  // a lower bound: never after the earliest deadline
  EXPECT_EQ(wheel.AdvanceToTick(5), 0u);
  EXPECT_EQ(wheel.NextDeadlineTick(), 2 * kTurn + 5);
  EXPECT_EQ(wheel.AdvanceToTick(2 * kTurn + 5), 1u);
  EXPECT_EQ(log, std::vector<int>{2});
}

}  // namespace
}  // namespace tapstack::timers
