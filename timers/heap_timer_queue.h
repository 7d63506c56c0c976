// A binary min-heap of timers, for comparison with the wheel only (see timer_queue.h).
// O(log n) schedule, cancel and fire: the structure behind libevent's and libuv's timers.
//
// Pending timers are also kept on a membership list (their links), so a pending Timer that is
// destroyed unlinks itself safely; its heap entry is then stale, so owners must cancel pending
// timers before destroying them while the queue is in use (the stack always does). A pending
// timer's deadline field holds its heap index: the entry keeps the deadline.
#ifndef TAPSTACK_TIMERS_HEAP_TIMER_QUEUE_H_
#define TAPSTACK_TIMERS_HEAP_TIMER_QUEUE_H_

#include <vector>

#include "timers/tick_clock.h"
#include "timers/timer_queue.h"

namespace tapstack::timers {

class HeapTimerQueue final : public TimerQueue {
 public:
  HeapTimerQueue(TimePoint origin, Duration resolution);
  ~HeapTimerQueue() override;

  void Schedule(Timer& timer, TimePoint deadline) override;
  void Cancel(Timer& timer) override;
  std::size_t Advance(TimePoint now) override;
  std::optional<TimePoint> NextDeadline() const override;
  TimePoint now() const override { return clock_.TickToTime(now_); }
  const TimerQueueStats& stats() const override { return stats_; }

 private:
  // Ordered by deadline tick, then by scheduling sequence: the wheel's firing order.
  struct Entry {
    Tick deadline;
    std::uint64_t sequence;
    Timer* timer;
  };
  static bool Before(const Entry& a, const Entry& b) {
    return a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence;
  }
  void Remove(std::size_t index);
  void SiftUp(std::size_t index);
  void SiftDown(std::size_t index);
  void Place(std::size_t index, const Entry& entry);

  TickClock clock_;
  Tick now_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::vector<Entry> heap_;
  // Timers scheduled at or before now_: they fire at the start of the next Advance().
  TimerListHead due_;
  TimerListHead members_;  // every timer pending in the heap
  bool advancing_ = false;
  TimerQueueStats stats_;
};

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_HEAP_TIMER_QUEUE_H_
