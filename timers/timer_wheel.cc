#include "timers/timer_wheel.h"

#include <bit>
#include <cassert>
#include <functional>
#include <limits>

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

TimerWheel::TimerWheel(TimePoint origin, TimerWheelOptions options)
    : TickTimerQueue(origin, options.resolution) {
  for (Slots& level : slots_) {
    for (TimerListHead& head : level) TimerListOps::InitHead(head, &pending_count_);
  }
}

TimerWheel::~TimerWheel() {
  // Detach pending timers so their destructors, which may run later, do not touch freed slots.
  // The due list is the base's to detach.
  for (Slots& level : slots_) {
    for (TimerListHead& head : level) {
      while (!TimerListOps::Empty(head)) TimerListOps::PopFront(head);
    }
  }
}

void TimerWheel::ScheduleTick(Timer& timer, Tick deadline) {
  if (timer.is_scheduled()) {
    TimerLink* prev = timer.prev;
    timer.Unlink();
    ClearBitIfSlotEmptied(prev);
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

void TimerWheel::Cancel(Timer& timer) {
  if (!timer.is_scheduled()) return;
  TimerLink* prev = timer.prev;
  timer.Unlink();
  ClearBitIfSlotEmptied(prev);
  --pending_count_;
  ++stats_.cancelled;
}

void TimerWheel::ClearBitIfSlotEmptied(TimerLink* head) {
  // After an unlink, the list is empty exactly when the neighbour is its own successor. Whether it
  // is a slot head (and which one) follows from its address inside slots_.
  if (head->next != head) return;
  const auto address = reinterpret_cast<std::uintptr_t>(head);
  const auto first = reinterpret_cast<std::uintptr_t>(&slots_[0][0]);
  const auto end = first + sizeof(slots_);
  if (address < first || address >= end) return;
  const std::size_t index = (address - first) / sizeof(TimerListHead);
  occupied_[index / kSlotsPerLevel] &= ~(std::uint64_t{1} << (index % kSlotsPerLevel));
}

void TimerWheel::Place(Timer& timer) {
  const Tick deadline = timer.deadline;
  assert(deadline >= now_);
  const Tick differing = deadline ^ now_;
  // The level is the 6-bit group holding the highest bit in which deadline and now differ; the
  // slot is the deadline's digit on that level. Equal ticks (a cascade reaching its timer's own
  // tick) go to level 0, the slot about to fire.
  const int level = differing == 0 ? 0 : (63 - std::countl_zero(differing)) / kBitsPerLevel;
  const int slot = SlotOf(deadline, level);
  TimerListOps::PushBack(slots_[level][slot], timer);
  occupied_[level] |= std::uint64_t{1} << slot;
}

std::optional<Tick> TimerWheel::NextEventAfterNow() const {
  // Occupied slots on a lower level all start before any occupied slot of a higher level (a level's
  // slots lie inside the current slot of the level above), so the first hit from the bottom wins.
  for (int level = 0; level < kLevels; ++level) {
    std::uint64_t candidates = occupied_[level] & BitsAbove(SlotOf(now_, level));
    while (candidates != 0) {
      const int slot = std::countr_zero(candidates);
      if (!TimerListOps::Empty(slots_[level][slot])) {
        const int above = Shift(level) + kBitsPerLevel;
        const Tick base = above >= 64 ? 0 : (now_ >> above) << above;
        return base | (static_cast<Tick>(slot) << Shift(level));
      }
      occupied_[level] &= ~(std::uint64_t{1} << slot);  // stale: its timers were destroyed
      candidates &= candidates - 1;
    }
  }
  return std::nullopt;
}

void TimerWheel::CascadeAtNow() {
  // Highest level first: a timer moved down may land in a lower slot that also starts now.
  for (int level = kLevels - 1; level >= 1; --level) {
    const int shift = Shift(level);
    if ((now_ & ((Tick{1} << shift) - 1)) != 0) continue;  // not at this level's slot boundary
    const int slot = SlotOf(now_, level);
    const std::uint64_t bit = std::uint64_t{1} << slot;
    if ((occupied_[level] & bit) == 0) continue;
    occupied_[level] &= ~bit;
    TimerListHead moving;
    TimerListOps::InitHead(moving, &pending_count_);
    TimerListOps::TakeAll(slots_[level][slot], moving);
    while (!TimerListOps::Empty(moving)) {
      Timer& timer = TimerListOps::PopFront(moving);
      Place(timer);
      ++stats_.cascaded;
    }
  }
}

std::size_t TimerWheel::ExpireAtNow() {
  CascadeAtNow();
  const int slot = SlotOf(now_, 0);
  const std::uint64_t bit = std::uint64_t{1} << slot;
  if ((occupied_[0] & bit) == 0) return 0;  // only a cascade was due
  occupied_[0] &= ~bit;
  TimerListHead firing;
  TimerListOps::InitHead(firing, &pending_count_);
  TimerListOps::TakeAll(slots_[0][slot], firing);
  return FireList(firing);
}

template class TickTimerQueue<TimerWheel>;

}  // namespace tapstack::timers
