// Reference-model property test: long random sequences of schedule, cancel, reschedule and advance
// (small steps and huge jumps, with callbacks that mutate the wheel) must fire exactly the timers a
// simple ordered-map model fires, at the same ticks; within one tick in any order, which is all the
// wheel promises (queue_property_run.h).
//
// Seeds are fixed so failures reproduce; TAPSTACK_PROPERTY_SEED and TAPSTACK_PROPERTY_OPS in the
// environment run other seeds and longer sequences locally.
#include <gtest/gtest.h>

#include <cstdint>

#include "tests/timers/queue_property_run.h"
#include "timers/timer_wheel.h"

namespace tapstack::timers {
namespace {

class TimerWheelPropertyTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(TimerWheelPropertyTest, MatchesTheOrderedMapModel) {
  testing::QueuePropertyRun<TimerWheel, testing::SameTickAnyOrderOracle> run(GetParam(),
                                                                             /*timer_count=*/2000);
  run.RunDefaultLength();
}

INSTANTIATE_TEST_SUITE_P(FixedSeeds, TimerWheelPropertyTest, testing::PropertySeeds());

}  // namespace
}  // namespace tapstack::timers
