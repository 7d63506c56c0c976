#include "timers/timer_wheel.h"

#include <bit>
#include <cassert>
#include <cstdint>

#include "timers/timer_list.h"

namespace tapstack::timers {

namespace {

constexpr Tick kSlotMask = TimerWheel::kSlotsPerLevel - 1;

constexpr int Shift(int level) { return level * TimerWheel::kBitsPerLevel; }

// Slot index of `tick` on `level`.
constexpr int SlotOf(Tick tick, int level) {
  return static_cast<int>((tick >> Shift(level)) & kSlotMask);
}

// Bits of a level's bitmap strictly above `slot`.
constexpr std::uint64_t BitsAbove(int slot) {
  return slot == TimerWheel::kSlotsPerLevel - 1 ? 0 : ~std::uint64_t{0} << (slot + 1);
}

}  // namespace

void ForgetDestroyedWheelTimer(Timer& timer) {
  reinterpret_cast<TimerWheel*>(timer.prev)->Forget(timer);
}

TimerWheel::TimerWheel(TimePoint origin, TimerWheelOptions options)
    : TickTimerQueue(origin, options.resolution) {}

TimerWheel::~TimerWheel() {
  // Detach pending timers so their destructors, which may run later, do not reach a dead wheel.
  // The due list is the base's to detach.
  for (TimerSlotArray& slot : slots_) {
    slot.ForEach([](Timer& timer) { timer.next = timer.prev = nullptr; });
    slot.Release(pool_);
  }
}

void TimerWheel::ScheduleTickSlow(Timer& timer, Tick deadline) {
  const auto word = reinterpret_cast<std::uintptr_t>(timer.next);
  if (deadline > now_) {
    memo_ = MemoFor(deadline);
    if ((word >> kAddressBits) == memo_.position_key) {  // re-armed within its slot
      timer.deadline = deadline;
      ++stats_.scheduled;
      return;
    }
  }
  if (timer.InSlotArray()) {
    Leave(timer);
  } else if (timer.is_scheduled()) {
    timer.Unlink();  // on the due list
  } else {
    ++pending_count_;
  }
  ++stats_.scheduled;
  if (deadline <= now_) {
    ScheduleDue(timer, deadline);
    return;
  }
  timer.deadline = deadline;
  Place(timer);
}

void TimerWheel::Forget(Timer& timer) {
  Leave(timer);
  --pending_count_;
}

void TimerWheel::SlotShrank(int slot_id) {
  TimerSlotArray& slot = slots_[slot_id];
  if (slot.empty()) {
    slot.Release(pool_);
    MarkEmpty(slot_id);
  } else if (slot.TrimFront(pool_)) {
    // Dropping the leading chunks of holes was not enough: squeeze out the rest, telling every
    // timer that moves its new entry.
    const std::uintptr_t position_bits = PositionKey(slot_id) << kAddressBits;
    slot.Compact(pool_, [this, position_bits](Timer& moved, Timer** new_entry) {
      SetPosition(moved, position_bits, new_entry);
    });
  }
}

void TimerWheel::Place(Timer& timer) {
  assert(timer.deadline >= now_);
  PlaceIn(timer, SlotIdFor(timer.deadline));
}

std::optional<Tick> TimerWheel::NextEventAfterNow() const {
  // Occupied slots on a lower level all start before any occupied slot of a higher level (a level's
  // slots lie inside the current slot of the level above), so the first hit from the bottom wins.
  for (int level = 0; level < kLevels; ++level) {
    const std::uint64_t candidates = occupied_[level] & BitsAbove(SlotOf(now_, level));
    if (candidates == 0) continue;
    const int slot = std::countr_zero(candidates);
    const int above = Shift(level) + kBitsPerLevel;
    const Tick base = above >= 64 ? 0 : (now_ >> above) << above;
    return base | (static_cast<Tick>(slot) << Shift(level));
  }
  return std::nullopt;
}

TimerChunk* TimerWheel::TakeSlot(int slot_id) {
  MarkEmpty(slot_id);
  return slots_[slot_id].TakeAllForWalk();
}

template <typename OnTimer>
void TimerWheel::ForEachInChain(TimerChunk* chain, OnTimer&& on_timer) {
  for (TimerChunk* chunk = chain; chunk != nullptr; chunk = chunk->next) {
    for (std::size_t i = 0; i < chunk->count; ++i) {
      // Ask for the timer kPrefetchAhead entries on, in this chunk or the next.
      const std::size_t ahead = i + kPrefetchAhead;
      if (ahead < chunk->count) {
        __builtin_prefetch(chunk->entries[ahead], 1);
      } else if (chunk->next != nullptr && ahead - chunk->count < chunk->next->count) {
        __builtin_prefetch(chunk->next->entries[ahead - chunk->count], 1);
      }
      if (Timer* timer = chunk->entries[i]) on_timer(*timer);
    }
  }
}

void TimerWheel::CascadeAtNow() {
  // Highest level first: a timer moved down may land in a lower slot that also starts now.
  for (int level = kLevels - 1; level >= 1; --level) {
    const int shift = Shift(level);
    if ((now_ & ((Tick{1} << shift) - 1)) != 0) continue;  // not at this level's slot boundary
    const int slot = SlotOf(now_, level);
    if ((occupied_[level] & (std::uint64_t{1} << slot)) == 0) continue;
    const int slot_id = level * kSlotsPerLevel + slot;
    TimerChunk* chain = TakeSlot(slot_id);
    ForEachInChain(chain, [this](Timer& timer) {
      Place(timer);
      ++stats_.cascaded;
    });
    slots_[slot_id].EndWalk();
    TimerSlotArray::PutChain(chain, pool_);
  }
}

std::size_t TimerWheel::ExpireAtNow() {
  CascadeAtNow();
  const int slot = SlotOf(now_, 0);
  if ((occupied_[0] & (std::uint64_t{1} << slot)) == 0) return 0;  // only a cascade was due
  TimerChunk* chain = TakeSlot(slot);
  std::size_t fired = 0;
  // Callbacks may cancel, move or destroy timers further on in the chain (each leaves a hole,
  // which is why entries are read at their turn) but never add to it: a deadline after now_ lands
  // in another slot and one at or before now_ on the due list.
  ForEachInChain(chain, [this, &fired](Timer& timer) {
    timer.next = timer.prev = nullptr;
    --pending_count_;
    ++fired;
    TimerListOps::Fire(timer);  // may destroy `timer`: do not touch it afterwards
  });
  slots_[slot].EndWalk();
  TimerSlotArray::PutChain(chain, pool_);
  stats_.fired += fired;
  return fired;
}

template class TickTimerQueue<TimerWheel>;

}  // namespace tapstack::timers
