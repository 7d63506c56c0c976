// A hierarchical timing wheel (Varghese & Lauck 1987, scheme 7) for intrusive Timers.
//
// Eleven levels of 64 slots cover the whole 64-bit tick range: level L holds timers whose deadline
// differs from the current tick first in bits [6L, 6L+6). A timer sits in exactly one slot; when
// time reaches the start of a higher-level slot, the slot is "cascaded": each of its timers is
// placed again, now on a lower level, until it lands on level 0 and fires at its exact tick.
// A slot is an array of timer pointers rather than a list (timer_slot_array.h), so the loops that
// cascade and fire a slot prefetch ahead and overlap their cache misses.
// One 64-bit occupancy bitmap per level lets Advance() jump from occupied slot to occupied slot, so
// a jump over hours of virtual time costs the slots it passes and the timers it fires, never the
// ticks in between.
//
// Guarantees (docs/timer-wheel.md explains why they hold):
//   - Schedule, Cancel and Reschedule are O(1), whatever the number of pending timers (amortized:
//     a slot's holes are squeezed out once they outnumber its timers). So is destroying a pending
//     Timer without cancelling it.
//   - A timer never fires before its deadline, and fires in the Advance() that first reaches the
//     deadline's tick: with deadlines rounded up to whole ticks it fires at most one tick late.
//   - Across ticks, timers fire in deadline order. Within one tick the order is deterministic (the
//     same calls give the same order) but it is not scheduling order: a timer keeps its place in
//     its slot when a re-arm leaves it in that slot, which is what makes keepalive's re-arms cheap.
//     Timers made due at or before the current tick (the due list) fire first, in the order they
//     were made due.
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
#include "timers/timer_slot_array.h"

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

  // Memory the slot arrays hold, chunks in use and kept free, beyond the Timers themselves.
  std::size_t slot_bytes() const { return pool_.chunks() * TimerChunk::kBytes; }

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
  friend void ForgetDestroyedWheelTimer(Timer& timer);

  static constexpr int kSlots = kLevels * kSlotsPerLevel;
  // How far ahead the cascading and firing loops prefetch: enough misses in flight to cover
  // memory latency, few enough that the lines are still in cache when their turn comes.
  static constexpr std::size_t kPrefetchAhead = 16;

  // The slot a timer's position word (SetPosition) names.
  static int SlotIdOf(std::uintptr_t position_word);
  // The slot (level * kSlotsPerLevel + slot) where a deadline at or after now_ belongs.
  int SlotIdFor(Tick deadline) const;
  // Puts a timer that is in no slot, with a deadline after now_ (or equal during a cascade), on
  // its level.
  void Place(Timer& timer);
  // Takes a timer out of the slot that holds it (a hole in the chunks being cascaded or fired, if
  // it is theirs); it is then in no slot and not scheduled.
  void Leave(Timer& timer);
  // A pending timer is being destroyed: take it out and uncount it.
  void Forget(Timer& timer);
  // Records in the timer's link words that it sits in slot `slot_id` of this wheel at `entry`.
  void SetPosition(Timer& timer, int slot_id, Timer** entry);
  // Runs `on_timer` on every timer of a chain of chunks taken from a slot, in order, reading each
  // entry at its turn (a callback may have emptied it since) and prefetching timers ahead.
  template <typename OnTimer>
  void ForEachInChain(TimerChunk* chain, OnTimer&& on_timer);
  // The next tick after now_ at which a level-0 slot fires or a higher slot cascades.
  std::optional<Tick> NextEventAfterNow() const;
  // At now_ (just set to a tick NextEventAfterNow() returned): cascades the higher-level slots
  // that start there, then fires the level-0 slot. Returns how many timers fired.
  std::size_t ExpireAtNow();
  // At now_, moves the timers of every higher-level slot that starts at now_ down the wheel.
  void CascadeAtNow();
  // Detaches slot `slot_id`'s chunks for a cascade or a firing and clears its occupancy bit.
  TimerChunk* TakeSlot(int slot_id);

  // Occupancy per level: bit i set exactly when slot i of that level holds a timer.
  std::array<std::uint64_t, kLevels> occupied_{};
  // Declared before the slots, so that it outlives them.
  TimerChunkPool pool_;
  // Slot i of level L is slots_[L * kSlotsPerLevel + i].
  std::array<TimerSlotArray, kSlots> slots_;
  // The slot whose chunks are being cascaded or fired, or -1. Its timers keep their entries
  // while the loop runs, so that a callback cancelling one of them leaves a hole there.
  int batch_slot_ = -1;
};

// One copy of the shared Advance() loop, compiled in timer_wheel.cc where the wheel's
// NextEventAfterNow() and ExpireAtNow() inline into it.
extern template class TickTimerQueue<TimerWheel>;

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_TIMER_WHEEL_H_
