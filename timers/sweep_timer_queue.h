// A periodic sweep over every pending timer, for comparison with the wheel only (see
// timer_queue.h). Scheduling and cancelling are O(1) list operations, but finding what is due
// means visiting every pending timer: O(n) per tick with work, the cost lwIP's slow timer and
// smoltcp's polling pay for every connection.
#ifndef TAPSTACK_TIMERS_SWEEP_TIMER_QUEUE_H_
#define TAPSTACK_TIMERS_SWEEP_TIMER_QUEUE_H_

#include "timers/tick_clock.h"
#include "timers/timer_queue.h"

namespace tapstack::timers {

class SweepTimerQueue final : public TimerQueue {
 public:
  SweepTimerQueue(TimePoint origin, Duration resolution);
  ~SweepTimerQueue() override;

  void Schedule(Timer& timer, TimePoint deadline) override;
  void Cancel(Timer& timer) override;
  std::size_t Advance(TimePoint now) override;
  std::optional<TimePoint> NextDeadline() const override;
  TimePoint now() const override { return clock_.TickToTime(now_); }
  const TimerQueueStats& stats() const override { return stats_; }

 private:
  // The earliest deadline among pending timers: a full scan.
  std::optional<Tick> EarliestTick() const;
  std::size_t FireList(TimerListHead& list);

  TickClock clock_;
  Tick now_ = 0;
  TimerListHead pending_;  // every pending timer, in scheduling order
  TimerListHead due_;      // scheduled at or before now_: fire at the start of the next Advance()
  mutable TimerQueueStats stats_;
};

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_SWEEP_TIMER_QUEUE_H_
