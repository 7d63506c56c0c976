// A binary min-heap of timers with handles: the textbook alternative to a timer wheel, written here
// only as a baseline for bench/timer_bench.cc.
//
// Each HeapTimer remembers its position in the heap, so Cancel and Reschedule find it in O(1) and
// restore the heap order in O(log n), and nothing is ever searched for. A heap slot carries the
// deadline next to the timer pointer: sifting compares keys inside the contiguous slot array
// instead of loading every timer it passes, which keeps the baseline a strong one. Unlike the
// wheel, it does not keep scheduling order among timers due in the same tick.
#ifndef TAPSTACK_BENCH_INDEXED_HEAP_H_
#define TAPSTACK_BENCH_INDEXED_HEAP_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace tapstack::bench {

using HeapTick = std::uint64_t;

class IndexedTimerHeap;

// The per-owner part of a heap timer: its slot index and callback, 16 bytes. It must not be
// destroyed while scheduled (the benchmark cancels everything first; a production heap would unlink
// itself).
class HeapTimer {
 public:
  using Callback = void (*)(HeapTimer& timer);

  explicit HeapTimer(Callback callback) noexcept : callback_(callback) {}
  HeapTimer(const HeapTimer&) = delete;
  HeapTimer& operator=(const HeapTimer&) = delete;

  bool is_scheduled() const { return heap_index_ != kNotInHeap; }

 private:
  friend class IndexedTimerHeap;
  static constexpr std::uint32_t kNotInHeap = std::numeric_limits<std::uint32_t>::max();

  std::uint32_t heap_index_ = kNotInHeap;
  Callback callback_;
};

class IndexedTimerHeap {
 public:
  // One entry of the heap array; the benchmark counts it in the memory each timer needs.
  struct Slot {
    HeapTick deadline;
    HeapTimer* timer;
  };

  // Arms `timer` for `deadline`, or moves it there if it is already pending.
  void Schedule(HeapTimer& timer, HeapTick deadline) {
    if (timer.is_scheduled()) {
      const std::size_t index = timer.heap_index_;
      const HeapTick old_deadline = slots_[index].deadline;
      slots_[index].deadline = deadline;
      if (deadline < old_deadline) {
        SiftUp(index);
      } else {
        SiftDown(index);
      }
      return;
    }
    assert(slots_.size() < HeapTimer::kNotInHeap);
    slots_.push_back(Slot{deadline, &timer});
    timer.heap_index_ = static_cast<std::uint32_t>(slots_.size() - 1);
    SiftUp(slots_.size() - 1);
  }

  // Disarms `timer`; a timer that is not pending is left alone.
  void Cancel(HeapTimer& timer) {
    if (!timer.is_scheduled()) return;
    const std::size_t index = timer.heap_index_;
    timer.heap_index_ = HeapTimer::kNotInHeap;
    const Slot last = slots_.back();
    slots_.pop_back();
    if (index == slots_.size()) return;  // it was the last slot
    // The last slot fills the hole; it may belong above or below it.
    Put(index, last);
    if (index > 0 && last.deadline < slots_[Parent(index)].deadline) {
      SiftUp(index);
    } else {
      SiftDown(index);
    }
  }

  // Moves the clock to `now` (never backwards) and fires every timer due at or before it, earliest
  // first. A callback that arms a timer for a tick at or before `now` sees it fire in this same
  // call.
  std::size_t Advance(HeapTick now) {
    if (now > now_) now_ = now;
    std::size_t fired = 0;
    while (!slots_.empty() && slots_.front().deadline <= now_) {
      HeapTimer& timer = *slots_.front().timer;
      Cancel(timer);
      ++fired;
      timer.callback_(timer);
    }
    return fired;
  }

  std::optional<HeapTick> NextDeadline() const {
    if (slots_.empty()) return std::nullopt;
    return slots_.front().deadline;
  }

  HeapTick now() const { return now_; }
  std::size_t size() const { return slots_.size(); }
  void Reserve(std::size_t timers) { slots_.reserve(timers); }

 private:
  static std::size_t Parent(std::size_t index) { return (index - 1) / 2; }

  void Put(std::size_t index, const Slot& slot) {
    slots_[index] = slot;
    slot.timer->heap_index_ = static_cast<std::uint32_t>(index);
  }

  // Both sifts carry the moving slot in a local and write each displaced slot once ("hole" moves),
  // instead of swapping pairs.
  void SiftUp(std::size_t index) {
    const Slot moving = slots_[index];
    while (index > 0) {
      const std::size_t parent = Parent(index);
      if (slots_[parent].deadline <= moving.deadline) break;
      Put(index, slots_[parent]);
      index = parent;
    }
    Put(index, moving);
  }

  void SiftDown(std::size_t index) {
    const Slot moving = slots_[index];
    const std::size_t size = slots_.size();
    while (true) {
      std::size_t child = 2 * index + 1;
      if (child >= size) break;
      if (child + 1 < size && slots_[child + 1].deadline < slots_[child].deadline) ++child;
      if (moving.deadline <= slots_[child].deadline) break;
      Put(index, slots_[child]);
      index = child;
    }
    Put(index, moving);
  }

  std::vector<Slot> slots_;
  HeapTick now_ = 0;
};

}  // namespace tapstack::bench

#endif  // TAPSTACK_BENCH_INDEXED_HEAP_H_
