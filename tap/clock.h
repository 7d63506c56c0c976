// Where the event loop gets "now". Everything below the loop takes time as an argument; the loop
// reads it from a Clock, so the same loop runs on the real monotonic clock or on a VirtualClock
// that a test advances by hand.
#ifndef TAPSTACK_TAP_CLOCK_H_
#define TAPSTACK_TAP_CLOCK_H_

#include "timers/timer_wheel.h"

namespace tapstack::tap {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual timers::TimePoint Now() const = 0;
};

// std::chrono::steady_clock: monotonic, unaffected by wall-clock changes.
class RealClock : public Clock {
 public:
  timers::TimePoint Now() const override;
};

// A clock that moves only when told to, and never backwards: timers and delayed frames stay
// ordered whatever a test does.
class VirtualClock : public Clock {
 public:
  explicit VirtualClock(timers::TimePoint start = timers::TimePoint{}) : now_(start) {}

  timers::TimePoint Now() const override { return now_; }

  // Moves the clock forward by `d`; a negative duration is ignored.
  void Advance(timers::Duration d);
  // Moves the clock to `t`; a time before the current one is ignored.
  void Set(timers::TimePoint t);

 private:
  timers::TimePoint now_;
};

}  // namespace tapstack::tap

#endif  // TAPSTACK_TAP_CLOCK_H_
