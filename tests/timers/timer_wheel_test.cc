// Edge cases of the hierarchical timer wheel, each on a hand-advanced virtual clock.
#include "timers/timer_wheel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace tapstack::timers {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

const TimePoint kOrigin = TimePoint{} + std::chrono::hours(1000);

// A timer owner that records when and in what order its timer fired.
struct Probe {
  explicit Probe(int id, std::vector<int>* log, TimerWheel* wheel)
      : id(id), log(log), wheel(wheel) {}
  int id;
  std::vector<int>* log;
  TimerWheel* wheel;
  std::vector<Tick> fired_at;
  Timer timer{[](Timer& t) {
    Probe& self = OwnerOf<&Probe::timer>(t);
    self.fired_at.push_back(self.wheel->now_tick());
    if (self.log != nullptr) self.log->push_back(self.id);
  }};
};

class TimerWheelTest : public ::testing::Test {
 protected:
  Probe& NewProbe() {
    probes_.push_back(std::make_unique<Probe>(static_cast<int>(probes_.size()), &log_, &wheel_));
    return *probes_.back();
  }
  TimerWheel wheel_{kOrigin};
  std::vector<int> log_;
  std::vector<std::unique_ptr<Probe>> probes_;
};

TEST_F(TimerWheelTest, TimerNodeFitsTheMemoryBudget) { EXPECT_LE(sizeof(Timer), 32u); }

TEST_F(TimerWheelTest, FiresAtItsTickAndNotBefore) {
  Probe& p = NewProbe();
  wheel_.ScheduleTick(p.timer, 1000);
  EXPECT_TRUE(p.timer.is_scheduled());
  EXPECT_EQ(wheel_.AdvanceToTick(999), 0u);
  EXPECT_TRUE(p.fired_at.empty());
  EXPECT_EQ(wheel_.AdvanceToTick(1000), 1u);
  EXPECT_THAT(p.fired_at, ElementsAre(1000u));
  EXPECT_FALSE(p.timer.is_scheduled());
}

TEST_F(TimerWheelTest, SubTickDeadlineRoundsUpSoItNeverFiresEarly) {
  Probe& p = NewProbe();
  const TimePoint deadline = kOrigin + milliseconds(5) + std::chrono::microseconds(300);
  wheel_.Schedule(p.timer, deadline);
  wheel_.Advance(kOrigin + milliseconds(5) + std::chrono::microseconds(999));
  EXPECT_TRUE(p.fired_at.empty()) << "fired before its deadline";
  wheel_.Advance(kOrigin + milliseconds(6));
  ASSERT_THAT(p.fired_at, ElementsAre(6u));
  // Fired no later than one tick after the deadline.
  EXPECT_LE(wheel_.TickToTime(p.fired_at[0]) - deadline, wheel_.resolution());
}

TEST_F(TimerWheelTest, ResolutionIsConfigurable) {
  TimerWheel coarse(kOrigin, {.resolution = milliseconds(10)});
  Probe p(0, nullptr, &coarse);
  coarse.Schedule(p.timer, kOrigin + milliseconds(25));
  EXPECT_EQ(p.timer.deadline_tick(), 3u);
  coarse.Advance(kOrigin + milliseconds(29));
  EXPECT_TRUE(p.fired_at.empty());
  coarse.Advance(kOrigin + milliseconds(30));
  EXPECT_THAT(p.fired_at, ElementsAre(3u));
}

TEST_F(TimerWheelTest, DeadlineNowOrInThePastFiresOnTheNextAdvance) {
  wheel_.AdvanceToTick(500);
  Probe& now = NewProbe();
  Probe& past = NewProbe();
  wheel_.ScheduleTick(now.timer, 500);
  wheel_.ScheduleTick(past.timer, 10);
  wheel_.Schedule(NewProbe().timer, kOrigin - std::chrono::hours(1));  // before the origin
  EXPECT_EQ(wheel_.NextDeadlineTick(), 500u);
  EXPECT_EQ(wheel_.AdvanceToTick(500), 3u);  // the same tick: still fires
  EXPECT_THAT(log_, ElementsAre(0, 1, 2));
  EXPECT_THAT(past.fired_at, ElementsAre(500u));
}

TEST_F(TimerWheelTest, SameTickFiresTogetherAcrossLevels) {
  // Scheduled from different "now"s, the timers start on different levels and cascade down; they
  // must all fire at the tick they share (in some order: the wheel does not promise which), after
  // the timer due a tick earlier.
  const Tick deadline = 5 * 4096 + 70;
  Probe& a = NewProbe();
  wheel_.ScheduleTick(a.timer, deadline);  // level 2
  wheel_.AdvanceToTick(5 * 4096 + 3);
  Probe& b = NewProbe();
  wheel_.ScheduleTick(b.timer, deadline);  // level 1
  wheel_.AdvanceToTick(5 * 4096 + 65);
  Probe& c = NewProbe();
  wheel_.ScheduleTick(c.timer, deadline);  // level 0
  Probe& d = NewProbe();
  wheel_.ScheduleTick(d.timer, deadline - 1);
  wheel_.AdvanceToTick(deadline + 100);
  ASSERT_EQ(log_.size(), 4u);
  EXPECT_EQ(log_[0], 3);
  EXPECT_THAT(std::vector<int>(log_.begin() + 1, log_.end()), UnorderedElementsAre(0, 1, 2));
  EXPECT_THAT(a.fired_at, ElementsAre(deadline));
  EXPECT_THAT(b.fired_at, ElementsAre(deadline));
  EXPECT_THAT(c.fired_at, ElementsAre(deadline));
}

TEST_F(TimerWheelTest, RescheduleWithinItsSlotKeepsThePlaceButTakesTheNewDeadline) {
  // Ticks 64 to 127 share one level-1 slot while the clock is at 0: a re-arm inside it only
  // changes the deadline (the timer keeps its place ahead of b), and the new deadline is exact.
  Probe& a = NewProbe();
  Probe& b = NewProbe();
  wheel_.ScheduleTick(a.timer, 100);
  wheel_.ScheduleTick(b.timer, 100);
  wheel_.ScheduleTick(a.timer, 110);
  EXPECT_EQ(wheel_.stats().scheduled, 3u);
  wheel_.AdvanceToTick(100);
  EXPECT_THAT(log_, ElementsAre(1));
  wheel_.ScheduleTick(a.timer, 100 + 1);  // now on level 0: a real move, before 110
  wheel_.AdvanceToTick(109);
  EXPECT_THAT(a.fired_at, ElementsAre(101u));
  wheel_.AdvanceToTick(110);
  EXPECT_THAT(a.fired_at, ElementsAre(101u)) << "the moved-away deadline must not fire";
  log_.clear();
  wheel_.ScheduleTick(a.timer, 10'000);
  wheel_.ScheduleTick(a.timer, 150);  // earlier, on another level
  wheel_.AdvanceToTick(149);
  EXPECT_TRUE(log_.empty());
  wheel_.AdvanceToTick(150);
  EXPECT_THAT(log_, ElementsAre(0));
  wheel_.AdvanceToTick(20'000);
  EXPECT_THAT(a.fired_at, ElementsAre(101u, 150u)) << "the moved-away deadline must not fire";
}

TEST_F(TimerWheelTest, TheSameDeadlineAfterTheClockMovedGoesToTheSlotForTheNewTime) {
  // The wheel remembers the slot of the last deadline it placed, but the slot of a deadline
  // depends on the clock too: at tick 0, 4100 is level-2 slot 1; at 4096 it is level-0 slot 4.
  // Scheduling 4100 again once the clock is at 4096 must not reuse the remembered slot (which
  // was cascaded at 4096 and will not be visited again for 262,144 ticks).
  Probe& early = NewProbe();
  Probe& late = NewProbe();
  Probe& rearmed = NewProbe();
  wheel_.ScheduleTick(early.timer, 4100);
  wheel_.ScheduleTick(rearmed.timer, 4100);
  wheel_.AdvanceToTick(4096);
  wheel_.ScheduleTick(late.timer, 4100);
  wheel_.ScheduleTick(rearmed.timer, 4100);  // a re-arm to the deadline it already has
  wheel_.AdvanceToTick(4099);
  EXPECT_TRUE(log_.empty());
  EXPECT_EQ(wheel_.AdvanceToTick(4100), 3u);
  EXPECT_THAT(late.fired_at, ElementsAre(4100u));
  EXPECT_THAT(rearmed.fired_at, ElementsAre(4100u));
  // And a deadline at or before now is due at once, even when it equals a remembered one.
  wheel_.ScheduleTick(early.timer, 4200);
  wheel_.AdvanceToTick(4200);
  wheel_.ScheduleTick(late.timer, 4200);
  EXPECT_EQ(wheel_.AdvanceToTick(4200), 1u);
  EXPECT_THAT(late.fired_at, ElementsAre(4100u, 4200u));
}

TEST_F(TimerWheelTest, CancelIsIdempotentAndForgetsTheTimer) {
  Probe& a = NewProbe();
  wheel_.Cancel(a.timer);  // not pending: nothing happens
  wheel_.ScheduleTick(a.timer, 300'000);
  wheel_.Cancel(a.timer);
  wheel_.Cancel(a.timer);
  EXPECT_FALSE(a.timer.is_scheduled());
  EXPECT_TRUE(wheel_.empty());
  EXPECT_EQ(wheel_.NextDeadlineTick(), std::nullopt);
  EXPECT_EQ(wheel_.AdvanceToTick(1'000'000), 0u);
  EXPECT_EQ(wheel_.stats().cancelled, 1u);
}

// A slot is a chain of 62-entry chunks filled through an append cursor, and once its holes
// outnumber its timers by more than a chunk, its leading chunks of holes are dropped and, if that
// is not enough, the holes are squeezed out (timers/timer_slot_array.h). 187 timers for one
// deadline fill three chunks and part of a fourth. Cancelling timers 1 to 125 keeps timer 0 in the
// first chunk, so no chunk is all holes: the 125th cancel compacts, the 62 survivors fill exactly
// one chunk and the cursor ends on a chunk boundary. A moved timer must then still cancel and
// re-arm from its new entry, and the next timer must start a new chunk. Everyone fires once, at the
// deadline, in the order it entered the slot.
TEST_F(TimerWheelTest, ASlotShrinksToAWholeChunkAndGrowsAgain) {
  constexpr Tick kDeadline = 5'000;
  constexpr int kFirst = 187;
  constexpr int kCancelledEnd = 126;  // timers 1 to 125
  constexpr int kLater = 70;
  for (int i = 0; i < kFirst; ++i) wheel_.ScheduleTick(NewProbe().timer, kDeadline);
  for (int i = 1; i < kCancelledEnd; ++i) wheel_.Cancel(probes_[i]->timer);
  Probe& moved = *probes_[130];
  wheel_.Cancel(moved.timer);
  for (int i = 0; i < kLater; ++i) wheel_.ScheduleTick(NewProbe().timer, kDeadline);
  wheel_.ScheduleTick(moved.timer, kDeadline);
  EXPECT_EQ(wheel_.pending_count(), static_cast<std::size_t>(kFirst - 125 + kLater));

  std::vector<int> expected = {0};
  for (int i = kCancelledEnd; i < kFirst + kLater; ++i) {
    if (i != moved.id) expected.push_back(i);
  }
  expected.push_back(moved.id);
  EXPECT_EQ(wheel_.AdvanceToTick(kDeadline - 1), 0u);
  EXPECT_EQ(wheel_.AdvanceToTick(kDeadline), expected.size());
  EXPECT_EQ(log_, expected);
  for (int i = 0; i < kFirst + kLater; ++i) {
    const bool cancelled = i >= 1 && i < kCancelledEnd;
    const std::vector<Tick> want = cancelled ? std::vector<Tick>{} : std::vector<Tick>{kDeadline};
    EXPECT_EQ(probes_[i]->fired_at, want) << "timer " << i;
  }
  EXPECT_TRUE(wheel_.empty());
}

// The same slot emptied from the front, as when timers leave in the order they came: the chunks
// of holes are dropped and the survivors keep their entries. Whichever way the holes went, the
// survivors cancel, re-arm and fire as before, in order.
TEST_F(TimerWheelTest, ASlotEmptiedFromTheFrontDropsItsChunksOfHoles) {
  constexpr Tick kDeadline = 5'000;
  constexpr int kFirst = 187;
  // Timers 0 to 125: the first two chunks and two more entries. The slot looks for holes worth
  // dropping from the 126th: the holes before the tail chunk then outnumber the timers by more
  // than a chunk.
  constexpr int kCancelled = 126;
  for (int i = 0; i < kFirst; ++i) wheel_.ScheduleTick(NewProbe().timer, kDeadline);
  const std::size_t chunks_before = wheel_.chunks_in_use();
  for (int i = 0; i < kCancelled; ++i) wheel_.Cancel(probes_[i]->timer);
  EXPECT_EQ(wheel_.chunks_in_use(), chunks_before - 2);
  wheel_.Cancel(probes_[150]->timer);
  wheel_.ScheduleTick(probes_[150]->timer, kDeadline);
  std::vector<int> expected;
  for (int i = kCancelled; i < kFirst; ++i) {
    if (i != 150) expected.push_back(i);
  }
  expected.push_back(150);
  EXPECT_EQ(wheel_.AdvanceToTick(kDeadline), expected.size());
  EXPECT_EQ(log_, expected);
  EXPECT_EQ(wheel_.chunks_in_use(), 0u);
}

TEST_F(TimerWheelTest, FarDeadlinesCascadeExactlyAcrossEveryLevel) {
  // One timer per level boundary and a few around 2^32 and the top of the range.
  std::vector<Tick> deadlines;
  for (int level = 1; level < TimerWheel::kLevels; ++level) {
    const int shift = level * TimerWheel::kBitsPerLevel;
    if (shift >= 64) break;
    const Tick boundary = Tick{1} << shift;
    deadlines.insert(deadlines.end(), {boundary - 1, boundary, boundary + 1});
  }
  deadlines.insert(deadlines.end(), {(Tick{1} << 32) - 1, Tick{1} << 32, (Tick{1} << 32) + 12345});
  std::sort(deadlines.begin(), deadlines.end());
  std::vector<Probe*> probes;
  for (Tick d : deadlines) {
    probes.push_back(&NewProbe());
    wheel_.ScheduleTick(probes.back()->timer, d);
  }
  // Jump straight to each deadline, then one tick before the next, checking nothing fires early.
  for (std::size_t i = 0; i < deadlines.size(); ++i) {
    if (deadlines[i] > 0) wheel_.AdvanceToTick(deadlines[i] - 1);
    EXPECT_TRUE(probes[i]->fired_at.empty()) << "deadline " << deadlines[i];
    wheel_.AdvanceToTick(deadlines[i]);
    EXPECT_THAT(probes[i]->fired_at, ElementsAre(deadlines[i]));
  }
}

TEST_F(TimerWheelTest, DeadlinesAtTheTopOfTheTickRange) {
  // The wheel covers all 2^64 ticks: nothing is out of range. Saturating time conversion turns a
  // deadline beyond what the clock can express into the last tick.
  const Tick top = std::numeric_limits<Tick>::max();
  Probe& last = NewProbe();
  Probe& near_last = NewProbe();
  wheel_.ScheduleTick(last.timer, top);
  wheel_.ScheduleTick(near_last.timer, top - 1);
  EXPECT_EQ(wheel_.NextDeadlineTick().has_value(), true);
  wheel_.AdvanceToTick(top - 2);
  EXPECT_TRUE(log_.empty());
  wheel_.AdvanceToTick(top);
  EXPECT_THAT(log_, ElementsAre(1, 0));

  Probe& saturated = NewProbe();
  wheel_.Schedule(saturated.timer, TimePoint::max());
  EXPECT_TRUE(saturated.timer.is_scheduled());
  // With the clock on the last tick every deadline is due, whatever the wheel remembers of the
  // last placement: both timers fire in the next Advance, the one scheduled twice once.
  log_.clear();
  wheel_.ScheduleTick(last.timer, top);
  wheel_.ScheduleTick(last.timer, top);
  EXPECT_EQ(wheel_.AdvanceToTick(top), 2u);
  EXPECT_THAT(log_, ElementsAre(2, 0));
}

TEST_F(TimerWheelTest, StartingNearTheTopAndCrossingTwoToThe32) {
  const Tick start = (Tick{1} << 32) - 10;
  wheel_.AdvanceToTick(start);
  Probe& a = NewProbe();
  wheel_.ScheduleTick(a.timer, start + 20);  // crosses the 2^32 boundary
  wheel_.AdvanceToTick(start + 19);
  EXPECT_TRUE(a.fired_at.empty());
  wheel_.AdvanceToTick(start + 20);
  EXPECT_THAT(a.fired_at, ElementsAre(start + 20));
}

TEST_F(TimerWheelTest, TimeGoingBackwardsIsTreatedAsNow) {
  wheel_.AdvanceToTick(1000);
  Probe& a = NewProbe();
  wheel_.ScheduleTick(a.timer, 1001);
  EXPECT_EQ(wheel_.AdvanceToTick(5), 0u);
  EXPECT_EQ(wheel_.now_tick(), 1000u);
  EXPECT_EQ(wheel_.AdvanceToTick(1001), 1u);
}

TEST_F(TimerWheelTest, NextDeadlineIsExactOnLevelZeroAndNeverLateAbove) {
  EXPECT_EQ(wheel_.NextDeadline(), std::nullopt);
  Probe& near = NewProbe();
  wheel_.ScheduleTick(near.timer, 40);
  EXPECT_EQ(wheel_.NextDeadlineTick(), 40u);
  EXPECT_EQ(wheel_.NextDeadline(), kOrigin + milliseconds(40));
  wheel_.Cancel(near.timer);

  Probe& far = NewProbe();
  const Tick deadline = 3 * 262'144 + 5'000;  // level 3
  wheel_.ScheduleTick(far.timer, deadline);
  // An event loop sleeping until NextDeadline() reaches the deadline in a few wakeups, each no
  // later than the deadline itself.
  int wakeups = 0;
  while (far.fired_at.empty()) {
    const std::optional<Tick> next = wheel_.NextDeadlineTick();
    ASSERT_TRUE(next.has_value());
    ASSERT_LE(*next, deadline);
    wheel_.AdvanceToTick(*next);
    ++wakeups;
  }
  EXPECT_THAT(far.fired_at, ElementsAre(deadline));
  EXPECT_LE(wakeups, TimerWheel::kLevels);
}

TEST_F(TimerWheelTest, LongJumpCostsSlotsNotTicks) {
  // A few timers spread over ~50 days of 1 ms ticks: the jump must visit a handful of slots, which
  // the cascade counter bounds (each timer moves down at most once per level).
  const Tick day = 86'400'000;
  for (int i = 1; i <= 5; ++i) wheel_.ScheduleTick(NewProbe().timer, i * 10 * day + i);
  EXPECT_EQ(wheel_.AdvanceToTick(60 * day), 5u);
  EXPECT_LE(wheel_.stats().cascaded, 5u * TimerWheel::kLevels);
  EXPECT_THAT(log_, ElementsAre(0, 1, 2, 3, 4));
}

// Callbacks that mutate the wheel.
struct Mutator {
  TimerWheel* wheel;
  std::vector<std::string>* log;
  std::function<void(Mutator&)> on_fire;
  Timer timer{[](Timer& t) {
    Mutator& self = OwnerOf<&Mutator::timer>(t);
    self.on_fire(self);
  }};
};

TEST_F(TimerWheelTest, CallbackReArmsItselfForLaterInTheSameAdvance) {
  std::vector<Tick> fired;
  Mutator m{&wheel_, nullptr, nullptr};
  m.on_fire = [&](Mutator& self) {
    fired.push_back(wheel_.now_tick());
    if (fired.size() < 5) wheel_.ScheduleTick(self.timer, wheel_.now_tick() + 100);
  };
  wheel_.ScheduleTick(m.timer, 100);
  EXPECT_EQ(wheel_.AdvanceToTick(10'000), 5u);
  EXPECT_THAT(fired, ElementsAre(100u, 200u, 300u, 400u, 500u));
}

TEST_F(TimerWheelTest, CallbackReArmingForNowWaitsForTheNextAdvance) {
  int fired = 0;
  Mutator m{&wheel_, nullptr, nullptr};
  m.on_fire = [&](Mutator& self) {
    ++fired;
    wheel_.ScheduleTick(self.timer, wheel_.now_tick());  // "again, now": must not livelock
  };
  wheel_.ScheduleTick(m.timer, 7);
  EXPECT_EQ(wheel_.AdvanceToTick(7), 1u);
  EXPECT_EQ(wheel_.AdvanceToTick(7), 1u);
  EXPECT_EQ(wheel_.AdvanceToTick(8), 1u);
  EXPECT_EQ(fired, 3);
  EXPECT_TRUE(m.timer.is_scheduled());
}

TEST_F(TimerWheelTest, CallbackCancelsAndReschedulesTimersDueInTheSameTick) {
  Probe& victim = NewProbe();
  Probe& moved = NewProbe();
  Probe& kept = NewProbe();
  Mutator m{&wheel_, nullptr, nullptr};
  m.on_fire = [&](Mutator&) {
    wheel_.Cancel(victim.timer);
    wheel_.ScheduleTick(moved.timer, 60);
  };
  wheel_.ScheduleTick(m.timer, 50);
  wheel_.ScheduleTick(victim.timer, 50);
  wheel_.ScheduleTick(moved.timer, 50);
  wheel_.ScheduleTick(kept.timer, 50);
  EXPECT_EQ(wheel_.AdvanceToTick(100), 3u);
  EXPECT_TRUE(victim.fired_at.empty());
  EXPECT_THAT(moved.fired_at, ElementsAre(60u));
  EXPECT_THAT(kept.fired_at, ElementsAre(50u));
}

TEST_F(TimerWheelTest, CallbackDestroysAnotherOwnerPendingInTheSameTick) {
  auto doomed = std::make_unique<Probe>(99, &log_, &wheel_);
  Mutator m{&wheel_, nullptr, nullptr};
  m.on_fire = [&](Mutator&) { doomed.reset(); };
  wheel_.ScheduleTick(m.timer, 20);
  wheel_.ScheduleTick(doomed->timer, 20);
  EXPECT_EQ(wheel_.AdvanceToTick(20), 1u);
  EXPECT_TRUE(log_.empty());
}

TEST_F(TimerWheelTest, CallbackMayDestroyItsOwnOwner) {
  struct SelfDestruct {
    std::unique_ptr<SelfDestruct>* holder;
    Timer timer{[](Timer& t) { OwnerOf<&SelfDestruct::timer>(t).holder->reset(); }};
  };
  auto owner = std::make_unique<SelfDestruct>();
  owner->holder = &owner;
  wheel_.ScheduleTick(owner->timer, 3);
  EXPECT_EQ(wheel_.AdvanceToTick(3), 1u);
  EXPECT_EQ(owner, nullptr);
}

TEST_F(TimerWheelTest, DestroyingAPendingOwnerUnlinksItsTimer) {
  {
    Probe gone(1, &log_, &wheel_);
    wheel_.ScheduleTick(gone.timer, 300);  // level 1, alone in its slot
  }
  Probe& stays = NewProbe();
  wheel_.ScheduleTick(stays.timer, 6000);
  // The stale occupancy bit left by the destroyed timer is skipped, not reported as a deadline.
  EXPECT_EQ(wheel_.NextDeadlineTick(), 4096u);  // the level-2 slot holding `stays` cascades here
  EXPECT_EQ(wheel_.AdvanceToTick(10'000), 1u);
  EXPECT_THAT(log_, ElementsAre(0));
  EXPECT_TRUE(wheel_.empty());
}

TEST_F(TimerWheelTest, WheelDestroyedBeforeItsTimers) {
  auto wheel = std::make_unique<TimerWheel>(kOrigin);
  Probe p(0, nullptr, wheel.get());
  wheel->ScheduleTick(p.timer, 10);
  wheel.reset();
  EXPECT_FALSE(p.timer.is_scheduled());  // and p's destructor must not touch the freed wheel
}

}  // namespace
}  // namespace tapstack::timers
