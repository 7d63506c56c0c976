// A hierarchical timing wheel (Varghese & Lauck 1987, scheme 7) for intrusive Timers.
//
// Eleven levels of 64 slots cover the whole 64-bit tick range: level L holds timers whose deadline
// differs from the current tick first in bits [6L, 6L+6). A timer sits in exactly one slot; when
// time reaches the start of a higher-level slot, the slot is "cascaded": each of its timers is
// placed again, now on a lower level, until it lands on level 0 and fires at its exact tick.
// One 64-bit occupancy bitmap per level lets Advance() jump from occupied slot to occupied slot, so
// a jump over hours of virtual time costs the slots it passes and the timers it fires, never the
// ticks in between.
//
// Guarantees (docs/timer-wheel.md explains why they hold):
//   - Schedule, Cancel and Reschedule are O(1), whatever the number of pending timers.
//   - A timer never fires before its deadline, and fires in the Advance() that first reaches the
//     deadline's tick: with deadlines rounded up to whole ticks it fires at most one tick late.
//   - Timers due in the same tick fire in scheduling order; a Reschedule counts as a new schedule.
//   - A deadline at or before the current tick is due at once: the timer fires at the start of the
//     next Advance() call. A callback that re-arms its own timer for "now" therefore waits for the
//     next Advance() instead of looping forever in this one.
//   - Callbacks may schedule, reschedule, cancel or destroy any timer, including themselves and
//     timers due in the same Advance(). They must not call Advance() themselves.
#ifndef TAPSTACK_TIMERS_TIMER_WHEEL_H_
#define TAPSTACK_TIMERS_TIMER_WHEEL_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "timers/tick_timer_queue.h"
#include "timers/timer.h"
#include "timers/timer_queue.h"

namespace tapstack::timers {

struct TimerWheelOptions {
  // Length of one tick. Deadlines are rounded up to a whole tick, the current time down.
  Duration resolution = std::chrono::milliseconds(1);
};

using TimerWheelStats = TimerQueueStats;

class TimerWheel final : public TickTimerQueue<TimerWheel> {
 public:
  static constexpr int kBitsPerLevel = 6;
  static constexpr int kSlotsPerLevel = 1 << kBitsPerLevel;
  static constexpr int kLevels = (64 + kBitsPerLevel - 1) / kBitsPerLevel;

  // `origin` is tick 0: the wheel's clock starts there.
  explicit TimerWheel(TimePoint origin, TimerWheelOptions options = {});
  ~TimerWheel() override;

  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Schedule(timer, deadline) arms `timer` to fire at `deadline`; a timer that is already pending
  // is moved (as Reschedule). It ends here, with the deadline in ticks.
  void ScheduleTick(Timer& timer, Tick deadline);
  void Reschedule(Timer& timer, TimePoint deadline) { Schedule(timer, deadline); }
  // Disarms `timer`; a timer that is not pending is left alone.
  void Cancel(Timer& timer) override;

  // Advance(now) moves the clock to `now` and fires every timer due at or before it, in deadline
  // order. A time earlier than the current one is treated as the current one. It returns how many
  // timers fired.
  //
  // NextDeadline() is the earliest time at which Advance() has work to do, or nullopt when no timer
  // is pending. It is never later than the earliest deadline; it is earlier when the earliest timer
  // still sits on a higher level (then it is the time that level's slot cascades), so an event loop
  // that sleeps until it wakes at most once per level on the way to a far deadline.

 private:
  friend class TickTimerQueue<TimerWheel>;
  using Slots = std::array<TimerListHead, kSlotsPerLevel>;

  // Puts an unlinked timer whose deadline is after now_ (or equal during a cascade) on its level.
  void Place(Timer& timer);
  // The next tick after now_ at which a level-0 slot fires or a higher slot cascades.
  std::optional<Tick> NextEventAfterNow() const;
  // At now_ (just set to a tick NextEventAfterNow() returned): cascades the higher-level slots
  // that start there, then fires the level-0 slot. Returns how many timers fired.
  std::size_t ExpireAtNow();
  // At now_, moves the timers of every higher-level slot that starts at now_ down the wheel.
  void CascadeAtNow();
  // If `head` is a slot head whose list just became empty, clears its occupancy bit.
  void ClearBitIfSlotEmptied(TimerLink* head);

  // Occupancy per level: bit i set when slot i may hold timers. A bit can outlive its timers when a
  // pending Timer is destroyed (it cannot reach the wheel); such stale bits are cleared when found.
  mutable std::array<std::uint64_t, kLevels> occupied_{};
  std::array<Slots, kLevels> slots_;
};

// One copy of the shared Advance() loop, compiled in timer_wheel.cc where the wheel's
// NextEventAfterNow() and ExpireAtNow() inline into it.
extern template class TickTimerQueue<TimerWheel>;

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_TIMER_WHEEL_H_
