// A fixed array of timer lists with an occupancy bitmap: the storage of the non-cascading wheel and
// of the hashed wheel (internal to timers/).
//
// Bit i is set when list i may hold timers. Unlink clears the bit of the list it empties, but a
// Timer destroyed while pending unlinks itself without reaching the owner of its list, so a bit
// can outlive its timers. Such a stale bit is harmless: FirstOccupied checks the list behind
// every bit it finds and clears the bit when the list is empty.
#ifndef TAPSTACK_TIMERS_SLOT_LISTS_H_
#define TAPSTACK_TIMERS_SLOT_LISTS_H_

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "timers/timer.h"
#include "timers/timer_list.h"

namespace tapstack::timers {

template <std::size_t kSlots>
class SlotLists {
 public:
  static_assert(kSlots % 64 == 0, "the bitmap is made of whole 64-bit words");

  // Every list's timers count in `*pending_count`, the owning queue's count (timer.h).
  explicit SlotLists(std::size_t* pending_count) {
    for (TimerListHead& head : heads_) TimerListOps::InitHead(head, pending_count);
  }
  // Detaches the timers still on the lists, so that their destructors, which may run later, do
  // not touch freed heads.
  ~SlotLists() {
    for (TimerListHead& head : heads_) {
      while (!TimerListOps::Empty(head)) TimerListOps::PopFront(head);
    }
  }
  SlotLists(const SlotLists&) = delete;
  SlotLists& operator=(const SlotLists&) = delete;

  void PushBack(std::size_t slot, Timer& timer) {
    TimerListOps::PushBack(heads_[slot], timer);
    occupied_[slot / 64] |= Bit(slot);
  }

  // Unlinks a pending timer from whatever list holds it (one of these, or any other list of the
  // queue) and clears the bit of the slot it leaves empty.
  void Unlink(Timer& timer) {
    TimerLink* neighbour = TimerListOps::LinkOf(timer)->prev;
    TimerListOps::Unlink(timer);
    // The list is now empty exactly when the former neighbour is its own successor; whether that
    // neighbour is one of our heads (and which) follows from its address.
    if (neighbour->next != neighbour) return;
    const auto address = reinterpret_cast<std::uintptr_t>(neighbour);
    const auto first = reinterpret_cast<std::uintptr_t>(heads_.data());
    if (address < first || address >= first + sizeof(heads_)) return;
    const std::size_t slot = (address - first) / sizeof(TimerListHead);
    occupied_[slot / 64] &= ~Bit(slot);
  }

  bool Empty(std::size_t slot) const { return TimerListOps::Empty(heads_[slot]); }
  TimerListHead& head(std::size_t slot) { return heads_[slot]; }

  // Moves every timer of `slot`, in order, to the empty list `to`, and clears the slot's bit.
  void TakeAll(std::size_t slot, TimerListHead& to) {
    occupied_[slot / 64] &= ~Bit(slot);
    TimerListOps::TakeAll(heads_[slot], to);
  }

  // The first slot in [from, end) that holds timers, or nullopt. Clears the stale bits it passes.
  std::optional<std::size_t> FirstOccupied(std::size_t from, std::size_t end) const {
    for (std::size_t word = from / 64; word * 64 < end; ++word) {
      std::uint64_t candidates = occupied_[word];
      if (word == from / 64) candidates &= ~std::uint64_t{0} << (from % 64);
      while (candidates != 0) {
        const std::size_t slot = word * 64 + static_cast<std::size_t>(std::countr_zero(candidates));
        if (slot >= end) return std::nullopt;
        if (!TimerListOps::Empty(heads_[slot])) return slot;
        occupied_[word] &= ~Bit(slot);  // stale: its timers were destroyed while pending
        candidates &= candidates - 1;
      }
    }
    return std::nullopt;
  }

 private:
  static constexpr std::uint64_t Bit(std::size_t slot) { return std::uint64_t{1} << (slot % 64); }

  mutable std::array<std::uint64_t, kSlots / 64> occupied_{};
  std::array<TimerListHead, kSlots> heads_;
};

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_SLOT_LISTS_H_
