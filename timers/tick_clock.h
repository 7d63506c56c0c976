// Conversions between time points and integer ticks, shared by every timer queue so that all of
// them round the same way: a deadline rounds up to a whole tick (a timer never fires early), the
// current time rounds down.
#ifndef TAPSTACK_TIMERS_TICK_CLOCK_H_
#define TAPSTACK_TIMERS_TICK_CLOCK_H_

#include "timers/timer_queue.h"

namespace tapstack::timers {

class TickClock {
 public:
  TickClock(TimePoint origin, Duration resolution)
      : origin_(origin),
        resolution_(resolution),
        max_ticks_(static_cast<Tick>((TimePoint::max() - origin) / resolution)) {}

  Tick DeadlineToTick(TimePoint deadline) const {
    if (deadline <= origin_) return 0;
    const Duration since_origin = deadline - origin_;
    const auto whole = static_cast<Tick>(since_origin / resolution_);
    return whole + (since_origin % resolution_ != Duration::zero() ? 1 : 0);
  }
  Tick TimeToTick(TimePoint now) const {
    if (now <= origin_) return 0;
    return static_cast<Tick>((now - origin_) / resolution_);
  }
  // Saturates instead of overflowing the clock's representation for far-future ticks.
  TimePoint TickToTime(Tick tick) const {
    if (tick >= max_ticks_) return TimePoint::max();
    return origin_ + resolution_ * static_cast<Duration::rep>(tick);
  }
  Duration resolution() const { return resolution_; }

 private:
  TimePoint origin_;
  Duration resolution_;
  Tick max_ticks_;  // the first tick past TimePoint::max(), computed once: a division is not free
};

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_TICK_CLOCK_H_
