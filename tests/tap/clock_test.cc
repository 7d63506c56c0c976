// RealClock and VirtualClock: the virtual one moves only forward, only when told.
#include "tap/clock.h"

#include <gtest/gtest.h>

#include <chrono>

namespace tapstack::tap {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const timers::TimePoint kStart = timers::TimePoint{} + std::chrono::hours(1000);

TEST(VirtualClockTest, StartsWhereTold) {
  EXPECT_EQ(VirtualClock(kStart).Now(), kStart);
  EXPECT_EQ(VirtualClock().Now(), timers::TimePoint{});
}

TEST(VirtualClockTest, AdvanceMovesForwardOnly) {
  VirtualClock clock(kStart);
  clock.Advance(milliseconds(1500));
  EXPECT_EQ(clock.Now(), kStart + milliseconds(1500));
  clock.Advance(seconds(-10));
  EXPECT_EQ(clock.Now(), kStart + milliseconds(1500));
  clock.Advance(timers::Duration::zero());
  EXPECT_EQ(clock.Now(), kStart + milliseconds(1500));
}

TEST(VirtualClockTest, SetNeverGoesBackwards) {
  VirtualClock clock(kStart);
  clock.Set(kStart + seconds(5));
  EXPECT_EQ(clock.Now(), kStart + seconds(5));
  clock.Set(kStart + seconds(1));
  EXPECT_EQ(clock.Now(), kStart + seconds(5));
}

TEST(VirtualClockTest, UsableThroughTheInterface) {
  VirtualClock virtual_clock(kStart);
  const Clock& clock = virtual_clock;
  virtual_clock.Advance(seconds(1));
  EXPECT_EQ(clock.Now(), kStart + seconds(1));
}

TEST(RealClockTest, IsMonotonic) {
  RealClock clock;
  timers::TimePoint previous = clock.Now();
  for (int i = 0; i < 1000; ++i) {
    const timers::TimePoint now = clock.Now();
    EXPECT_GE(now, previous);
    previous = now;
  }
}

}  // namespace
}  // namespace tapstack::tap
