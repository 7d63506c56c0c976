#include "tap/clock.h"

#include <chrono>

namespace tapstack::tap {

timers::TimePoint RealClock::Now() const { return std::chrono::steady_clock::now(); }

void VirtualClock::Advance(timers::Duration d) {
  if (d > timers::Duration::zero()) now_ += d;
}

void VirtualClock::Set(timers::TimePoint t) {
  if (t > now_) now_ = t;
}

}  // namespace tapstack::tap
