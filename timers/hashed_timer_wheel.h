// A single-level hashed timing wheel (Varghese & Lauck 1987, scheme 6; the design of Netty's
// HashedWheelTimer), for comparison with TimerWheel (see timer_queue.h).
//
// 512 slots of one tick each, as many as Netty's default. A timer due at tick d goes to slot
// d mod 512, whatever its distance, and stays there until it fires: a slot mixes timers of every
// future turn of the wheel. Scheme 6 keeps a count of remaining turns ("rounds") per timer and
// decrements it at each visit; here the timer keeps its deadline tick, from which the remaining
// turns follow, (d - now) / 512, so a visit reads the timer instead of writing it.
//
// Guarantees, the same as TimerWheel's: a timer fires at its exact deadline tick, never early;
// timers due in the same tick fire in scheduling order (a re-arm counts as a new schedule); a
// deadline at or before the current tick fires at the start of the next Advance(); callbacks may
// schedule, cancel or destroy any timer but must not call Advance().
//
// Cost: Schedule and Cancel are O(1). Firing a slot walks every timer in it, those of later turns
// included, so the cost of firing grows with (pending timers / 512) x (the turns they lie ahead).
// To let Advance() jump over long stretches of virtual time, each slot also keeps a lower bound
// of its timers' deadlines (exact after each visit; a cancel can leave it low, which costs at
// most a visit that fires nothing): the next tick with work is the smallest bound, found by
// scanning the occupied slots in the order the clock reaches them and stopping at the first whose
// bound is its very next visit. That scan is O(1) when timers are dense and at most O(512) when
// they are far away; its result is kept until the next visit (a schedule only lowers it), so
// NextDeadline() between two visits is O(1).
#ifndef TAPSTACK_TIMERS_HASHED_TIMER_WHEEL_H_
#define TAPSTACK_TIMERS_HASHED_TIMER_WHEEL_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

#include "timers/slot_lists.h"
#include "timers/tick_timer_queue.h"
#include "timers/timer.h"
#include "timers/timer_queue.h"

namespace tapstack::timers {

class HashedTimerWheel final : public TickTimerQueue<HashedTimerWheel> {
 public:
  static constexpr std::string_view kName = "hashed_wheel";
  static constexpr std::size_t kSlots = 512;

  explicit HashedTimerWheel(TimePoint origin, Duration resolution = std::chrono::milliseconds(1));

  // Arms `timer` for `deadline` (a tick); a pending timer is moved. Schedule() ends here.
  void ScheduleTick(Timer& timer, Tick deadline);
  void Cancel(Timer& timer) override;
  // stats().visited counts the timers examined by slot visits, fired or not.

 private:
  friend class TickTimerQueue<HashedTimerWheel>;

  static std::size_t SlotOf(Tick tick) { return static_cast<std::size_t>(tick % kSlots); }
  // The next tick after now_ at which a slot holds a timer that may be due (cached).
  std::optional<Tick> NextEventAfterNow() const;
  // The scan behind it: the smallest of the occupied slots' bounds.
  std::optional<Tick> ScanForNextVisit() const;
  // At now_, fires the timers of now_'s slot that are due and recomputes the slot's bound.
  std::size_t ExpireAtNow();

  SlotLists<kSlots> lists_;
  // Per slot, a lower bound of its timers' deadline ticks, and always one of the slot's own ticks
  // (congruent to the slot modulo kSlots). Meaningful while the slot holds timers.
  std::array<Tick, kSlots> earliest_{};
  // The smallest bound as last scanned, lowered by each schedule since; valid while
  // next_visit_known_. A slot visit changes bounds and forgets it.
  mutable std::optional<Tick> next_visit_;
  mutable bool next_visit_known_ = true;
};

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_HASHED_TIMER_WHEEL_H_
