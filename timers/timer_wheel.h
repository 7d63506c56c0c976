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
#include <bit>
#include <cassert>
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
  // is moved (as Reschedule). It ends here, with the deadline in ticks. Inline, as is Cancel: at a
  // million timers each call is one cache miss on the timer, and the fewer instructions sit between
  // two calls' misses, the more of them the processor overlaps (docs/timer-wheel.md).
  inline void ScheduleTick(Timer& timer, Tick deadline);
  void Reschedule(Timer& timer, TimePoint deadline) { Schedule(timer, deadline); }
  // Disarms `timer`; a timer that is not pending is left alone.
  inline void Cancel(Timer& timer) override;

  // Memory the slot arrays hold, chunks in use and kept free, beyond the Timers themselves.
  std::size_t slot_bytes() const { return pool_.chunks() * TimerChunk::kBytes; }
  // Chunks the slots hold now (the pool keeps some free besides).
  std::size_t chunks_in_use() const { return pool_.in_use(); }

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

  // A timer's position word holds the address of its entry in the low bits and its slot above
  // them, under the tag bit (timer.h). x86-64 and AArch64 user-space addresses fit in 47 bits.
  static constexpr int kAddressBits = 47;
  static constexpr std::uintptr_t kAddressMask = (std::uintptr_t{1} << kAddressBits) - 1;
  static_assert(kSlots < (1 << (63 - kAddressBits)));

  // The slot a timer's position word (SetPosition) names.
  static int SlotIdOf(std::uintptr_t position_word) {
    return static_cast<int>((position_word & ~Timer::kInSlotArray) >> kAddressBits);
  }
  static Timer** EntryOf(std::uintptr_t position_word) {
    return reinterpret_cast<Timer**>(position_word & kAddressMask);
  }
  // The slot (level * kSlotsPerLevel + slot) where a deadline at or after now_ belongs.
  int SlotIdFor(Tick deadline) const {
    const Tick differing = deadline ^ now_;
    // The level is the 6-bit group holding the highest bit in which deadline and now differ; the
    // slot is the deadline's digit on that level. Equal ticks (a cascade reaching its timer's own
    // tick) go to level 0, the slot about to fire.
    const int level = differing == 0 ? 0 : (63 - std::countl_zero(differing)) / kBitsPerLevel;
    return level * kSlotsPerLevel +
           static_cast<int>((deadline >> (level * kBitsPerLevel)) & (kSlotsPerLevel - 1));
  }
  // ScheduleTick when the memo does not know the deadline's slot, or the timer is pending
  // elsewhere (another slot or the due list).
  void ScheduleTickSlow(Timer& timer, Tick deadline);
  // Appends a timer that is in no slot to slot `slot_id`.
  void PlaceIn(Timer& timer, int slot_id) {
    AppendTo(timer, slots_[slot_id], slot_id, PositionKey(slot_id) << kAddressBits);
  }
  // PlaceIn with the slot's address and position bits already worked out (the memo keeps them).
  void AppendTo(Timer& timer, TimerSlotArray& slot, int slot_id, std::uintptr_t position_bits) {
    if (slot.empty()) MarkOccupied(slot_id);
    SetPosition(timer, position_bits, slot.Append(&timer, pool_));
  }
  void MarkOccupied(int slot_id) { occupied_[slot_id / kSlotsPerLevel] |= OccupancyBit(slot_id); }
  void MarkEmpty(int slot_id) { occupied_[slot_id / kSlotsPerLevel] &= ~OccupancyBit(slot_id); }
  static std::uint64_t OccupancyBit(int slot_id) {
    return std::uint64_t{1} << (slot_id % kSlotsPerLevel);
  }
  // Leave's rare ends: the slot emptied (its chunks go back to the pool), or its holes are worth
  // getting rid of (the leading chunks of holes dropped, the rest squeezed out if need be).
  void SlotShrank(int slot_id);
  // Puts a timer that is in no slot, with a deadline after now_ (or equal during a cascade), on
  // its level.
  void Place(Timer& timer);
  // Takes a timer out of the slot that holds it (a hole in the chunks being cascaded or fired, if
  // it is theirs); it is then in no slot and not scheduled.
  void Leave(Timer& timer);
  // A pending timer is being destroyed: take it out and uncount it.
  void Forget(Timer& timer);
  // Records in the timer's link words that it sits at `entry` of the slot whose position bits
  // (PositionKey shifted into place) are `position_bits`, in this wheel.
  void SetPosition(Timer& timer, std::uintptr_t position_bits, Timer** entry) {
    assert((reinterpret_cast<std::uintptr_t>(entry) & ~kAddressMask) == 0);
    timer.next =
        reinterpret_cast<TimerLink*>(position_bits | reinterpret_cast<std::uintptr_t>(entry));
    timer.prev = reinterpret_cast<TimerLink*>(this);
  }
  // The bits of a position word above the entry's address: the tag and the slot.
  static std::uintptr_t PositionKey(int slot_id) {
    return (Timer::kInSlotArray >> kAddressBits) | static_cast<std::uintptr_t>(slot_id);
  }
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
  // Detaches slot `slot_id`'s chunks for a cascade or a firing and clears its occupancy bit. Its
  // timers keep their entries until the walk reaches them, so that a callback cancelling one of
  // them leaves a hole there; EndWalk on the slot when the walk is done.
  TimerChunk* TakeSlot(int slot_id);

  // Occupancy per level: bit i set exactly when slot i of that level holds a timer.
  std::array<std::uint64_t, kLevels> occupied_{};
  // Declared before the slots, so that it outlives them.
  TimerChunkPool pool_;
  // Slot i of level L is slots_[L * kSlotsPerLevel + i].
  std::array<TimerSlotArray, kSlots> slots_;
  // The slot of the last deadline ScheduleTick placed. Within one tick most schedules ask for the
  // same deadline (every keepalive re-arm is "now + idle"), and remembering its slot turns the
  // level and slot arithmetic into one compare: at a million timers each call waits on one cache
  // miss, and the fewer instructions stand between two calls' misses, the more of them the
  // processor overlaps (docs/timer-wheel.md). A deadline's slot depends on the clock as well, so
  // the memo is reset whenever the clock moves. It is never empty (an empty value is one a real
  // call could match): it starts as, and is reset to, the slot of the tick after now. At the last
  // tick of the range there is no tick after now, and the memo names no slot (a null slot, and a
  // key no position word has). The wheel cannot be copied or moved, so the slot's address stays
  // good.
  struct SlotMemo {
    Tick deadline;  // after now_, unless slot is null
    std::uintptr_t position_key;
    TimerSlotArray* slot;  // slots_[slot_id], so that a schedule needs no index arithmetic
    int slot_id;
  };
  SlotMemo MemoFor(Tick deadline) {
    const int slot_id = SlotIdFor(deadline);
    return {.deadline = deadline,
            .position_key = PositionKey(slot_id),
            .slot = &slots_[slot_id],
            .slot_id = slot_id};
  }
  void OnClockSet() {
    memo_ = now_ != ~Tick{0} ? MemoFor(now_ + 1)
                             : SlotMemo{.deadline = now_,
                                        .position_key = ~std::uintptr_t{0},
                                        .slot = nullptr,
                                        .slot_id = -1};
  }
  SlotMemo memo_ = MemoFor(1);
};

inline void TimerWheel::ScheduleTick(Timer& timer, Tick deadline) {
  if (deadline == memo_.deadline) {
    // The slot for this deadline is the one worked out for the last call (SlotMemo).
    const auto word = reinterpret_cast<std::uintptr_t>(timer.next);
    if ((word >> kAddressBits) == memo_.position_key) {
      // The timer is already in that slot, so a move would be a hole and an append in the same
      // array. Most keepalive re-arms are this case: a deadline two hours ahead sits in a level-3
      // slot 4.4 minutes wide. Keeping the timer where it is makes them a compare and a store;
      // the price is that the timer keeps its place among the timers of that slot instead of
      // going to the back (the order the wheel promises allows this, above).
      timer.deadline = deadline;
      ++stats_.scheduled;
      return;
    }
    if (word == 0 && memo_.slot != nullptr && memo_.slot->has_room()) {
      // Not pending, and the slot's tail chunk has room: a plain schedule. The slot has a timer
      // already (has_room), so its occupancy bit is set. A slot that needs a chunk takes the slow
      // path, which keeps any call out of this one: the compiler then has no values to keep on
      // the stack across it.
      ++pending_count_;
      ++stats_.scheduled;
      timer.deadline = deadline;
      SetPosition(timer, memo_.position_key << kAddressBits, memo_.slot->AppendWithRoom(&timer));
      return;
    }
  }
  ScheduleTickSlow(timer, deadline);
}

inline void TimerWheel::Cancel(Timer& timer) {
  if (!timer.is_scheduled()) return;
  if (timer.InSlotArray()) {
    Leave(timer);
  } else {
    timer.Unlink();  // on the due list
  }
  --pending_count_;
  ++stats_.cancelled;
}

inline void TimerWheel::Leave(Timer& timer) {
  const auto word = reinterpret_cast<std::uintptr_t>(timer.next);
  const int slot_id = SlotIdOf(word);
  Timer** entry = EntryOf(word);
  timer.next = timer.prev = nullptr;
  // In a slot being cascaded or fired this only writes the hole, which the walk skips
  // (TakeAllForWalk).
  if (slots_[slot_id].Erase(entry)) SlotShrank(slot_id);
}

// One copy of the shared Advance() loop, compiled in timer_wheel.cc where the wheel's
// NextEventAfterNow() and ExpireAtNow() inline into it.
extern template class TickTimerQueue<TimerWheel>;

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_TIMER_WHEEL_H_
