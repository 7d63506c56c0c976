// How the TCP engine reaches its timer queue on the hot path. When the queue is the TimerWheel
// (the stack's default, a final class) every call goes straight to it: no virtual call, and
// Schedule inlines. The heap and the sweep, which exist only to be compared with the wheel, are
// reached through the TimerQueue interface. The choice is made once, at construction.
#ifndef TAPSTACK_TIMERS_TIMER_QUEUE_REF_H_
#define TAPSTACK_TIMERS_TIMER_QUEUE_REF_H_

#include "timers/timer.h"
#include "timers/timer_queue.h"
#include "timers/timer_wheel.h"

namespace tapstack::timers {

class TimerQueueRef {
 public:
  explicit TimerQueueRef(TimerQueue& queue)
      : queue_(queue), wheel_(dynamic_cast<TimerWheel*>(&queue)) {}

  void Schedule(Timer& timer, TimePoint deadline) {
    if (wheel_ != nullptr) {
      wheel_->Schedule(timer, deadline);
    } else {
      queue_.Schedule(timer, deadline);
    }
  }
  void ScheduleAfter(Timer& timer, Duration delay) { Schedule(timer, now() + delay); }
  void Cancel(Timer& timer) {
    if (wheel_ != nullptr) {
      wheel_->Cancel(timer);
    } else {
      queue_.Cancel(timer);
    }
  }
  TimePoint now() const { return wheel_ != nullptr ? wheel_->now() : queue_.now(); }

 private:
  TimerQueue& queue_;
  TimerWheel* wheel_;  // the same object as queue_ when it is the wheel, else null
};

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_TIMER_QUEUE_REF_H_
