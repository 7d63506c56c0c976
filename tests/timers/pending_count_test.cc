// TimerQueue::pending_count(), on every queue: it follows every schedule, reschedule,
// cancel and firing, and stays right when a pending Timer is destroyed without being cancelled
// (the timer then finds its queue's count by walking its list to the head, timer.h).
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "timers/timer_queue.h"

namespace tapstack::timers {
namespace {

using std::chrono::milliseconds;

const TimePoint kOrigin = TimePoint{} + std::chrono::hours(1);

// An owner whose callback runs `on_fire`, if set.
struct Owner {
  std::function<void()> on_fire;
  int fired = 0;
  Timer timer{[](Timer& t) {
    Owner& self = OwnerOf<&Owner::timer>(t);
    ++self.fired;
    if (self.on_fire) self.on_fire();
  }};
};

class PendingCountTest : public ::testing::TestWithParam<TimerQueueKind> {
 protected:
  std::unique_ptr<TimerQueue> queue_ = MakeTimerQueue(GetParam(), kOrigin);
};

TEST_P(PendingCountTest, FollowsScheduleCancelAndFiring) {
  Owner a, b, c;
  EXPECT_EQ(queue_->pending_count(), 0u);
  queue_->ScheduleAfter(a.timer, milliseconds(10));
  queue_->ScheduleAfter(b.timer, milliseconds(5000));
  queue_->ScheduleAfter(c.timer, milliseconds(0));  // due at once: the due list
  EXPECT_EQ(queue_->pending_count(), 3u);
  queue_->ScheduleAfter(a.timer, milliseconds(20));  // a move, not a new timer
  EXPECT_EQ(queue_->pending_count(), 3u);
  queue_->Cancel(b.timer);
  queue_->Cancel(b.timer);  // not pending: nothing changes
  EXPECT_EQ(queue_->pending_count(), 2u);
  queue_->Advance(kOrigin + milliseconds(10));  // fires c only
  EXPECT_EQ(c.fired, 1);
  EXPECT_EQ(queue_->pending_count(), 1u);
  queue_->Advance(kOrigin + milliseconds(20));
  EXPECT_EQ(a.fired, 1);
  EXPECT_EQ(queue_->pending_count(), 0u);
  EXPECT_TRUE(queue_->empty());
}

TEST_P(PendingCountTest, ACallbackThatRearmsItsTimerKeepsItCounted) {
  Owner self;
  int rearms = 3;
  self.on_fire = [&] {
    if (rearms-- > 0) queue_->ScheduleAfter(self.timer, milliseconds(7));
  };
  queue_->ScheduleAfter(self.timer, milliseconds(7));
  queue_->Advance(kOrigin + milliseconds(7));
  EXPECT_EQ(queue_->pending_count(), 1u);
  queue_->Advance(kOrigin + milliseconds(100));
  EXPECT_EQ(self.fired, 4);
  EXPECT_EQ(queue_->pending_count(), 0u);
}

TEST_P(PendingCountTest, DestroyingPendingTimersUncountsThem) {
  // Five timers on one list; destroying the middle one walks past two timers to find the head.
  std::vector<std::unique_ptr<Owner>> owners;
  for (int i = 0; i < 5; ++i) {
    owners.push_back(std::make_unique<Owner>());
    queue_->ScheduleAfter(owners.back()->timer, milliseconds(300));
  }
  Owner alone;
  queue_->ScheduleAfter(alone.timer, milliseconds(0));  // on the due list
  EXPECT_EQ(queue_->pending_count(), 6u);
  owners[2].reset();
  EXPECT_EQ(queue_->pending_count(), 5u);
  owners[4].reset();  // the last one: its successor is the head itself
  owners[0].reset();
  EXPECT_EQ(queue_->pending_count(), 3u);
  // The heap keeps a stale entry for a destroyed timer that any later heap operation would touch
  // (its owners must cancel first while the queue runs, heap_timer_queue.h), so there the rest
  // are destroyed too; the other queues go on to fire them.
  if (GetParam() == TimerQueueKind::kHeap) {
    owners.clear();
    EXPECT_EQ(queue_->pending_count(), 1u);
    queue_->Cancel(alone.timer);  // on the due list: no heap entry
  } else {
    // The non-cascading wheel may fire a 300 ms timer a little late (MaxLateness).
    const milliseconds delay(300);
    queue_->Advance(kOrigin + delay + MaxLateness(GetParam(), delay, milliseconds(1)));
    EXPECT_EQ(owners[1]->fired + owners[3]->fired + alone.fired, 3);
  }
  EXPECT_EQ(queue_->pending_count(), 0u);
}

TEST_P(PendingCountTest, ACallbackDestroyingATimerWaitingToFireInTheSameBatch) {
  // Both are due at once, so both sit on the list the queue fires from when the first runs: the
  // destroyed one must find that (local) list's head and its count.
  auto doomed = std::make_unique<Owner>();
  Owner killer;
  killer.on_fire = [&] { doomed.reset(); };
  queue_->ScheduleAfter(killer.timer, milliseconds(0));
  queue_->ScheduleAfter(doomed->timer, milliseconds(0));
  EXPECT_EQ(queue_->pending_count(), 2u);
  EXPECT_EQ(queue_->Advance(kOrigin), 1u);
  EXPECT_EQ(doomed, nullptr);
  EXPECT_EQ(queue_->pending_count(), 0u);
}

TEST(PendingCountWheelTest, ACallbackDestroyingATimerOfTheSameSlot) {
  // The wheel's slot batch: two timers due in the same future tick.
  std::unique_ptr<TimerQueue> queue = MakeTimerQueue(TimerQueueKind::kWheel, kOrigin);
  auto doomed = std::make_unique<Owner>();
  Owner killer;
  killer.on_fire = [&] { doomed.reset(); };
  queue->ScheduleAfter(killer.timer, milliseconds(90));
  queue->ScheduleAfter(doomed->timer, milliseconds(90));
  Owner later;
  queue->ScheduleAfter(later.timer, milliseconds(91));
  EXPECT_EQ(queue->Advance(kOrigin + milliseconds(90)), 1u);
  EXPECT_EQ(queue->pending_count(), 1u);
  queue->Cancel(later.timer);
  EXPECT_EQ(queue->pending_count(), 0u);
}

TEST(PendingCountWheelTest, TimersOutlivingTheirQueueDoNotTouchIt) {
  auto owner = std::make_unique<Owner>();
  {
    std::unique_ptr<TimerQueue> queue = MakeTimerQueue(TimerQueueKind::kWheel, kOrigin);
    queue->ScheduleAfter(owner->timer, milliseconds(5));
  }
  EXPECT_FALSE(owner->timer.is_scheduled());
  owner.reset();  // ASan would catch a write to the freed queue's count
}

INSTANTIATE_TEST_SUITE_P(Queues, PendingCountTest, ::testing::ValuesIn(kTimerQueueKinds),
                         [](const ::testing::TestParamInfo<TimerQueueKind>& info) {
                           return std::string(TimerQueueKindName(info.param));
                         });

}  // namespace
}  // namespace tapstack::timers
