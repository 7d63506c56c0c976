// Reference-model property test: long random sequences of schedule, cancel, reschedule and advance
// (small steps and huge jumps, with callbacks that mutate the wheel) must fire exactly the timers a
// simple ordered-map model fires, at the same ticks, in the same order (queue_property_run.h).
//
// Seeds are fixed so failures reproduce; TAPSTACK_PROPERTY_SEED and TAPSTACK_PROPERTY_OPS in the
// environment run other seeds and longer sequences locally.
#include <gtest/gtest.h>

#include <cstdint>

#include "tests/timers/queue_property_run.h"
#include "timers/timer_wheel.h"

namespace tapstack::timers {
namespace {

using testing::EnvOr;

class TimerWheelPropertyTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(TimerWheelPropertyTest, MatchesTheOrderedMapModel) {
  const int operations = static_cast<int>(EnvOr("TAPSTACK_PROPERTY_OPS", 1'000'000));
  testing::QueuePropertyRun<TimerWheel, testing::ExactOracle> run(GetParam(),
                                                                  /*timer_count=*/2000);
  run.Run(operations);
  EXPECT_GT(run.fired(), static_cast<std::uint64_t>(operations) / 10);
}

INSTANTIATE_TEST_SUITE_P(FixedSeeds, TimerWheelPropertyTest,
                         ::testing::Values(1, 2, 3, EnvOr("TAPSTACK_PROPERTY_SEED", 20261126)));

}  // namespace
}  // namespace tapstack::timers
