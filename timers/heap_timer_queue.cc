#include "timers/heap_timer_queue.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace tapstack::timers {

namespace {
// The `prev` of a timer waiting on the due list: not an index into the heap.
constexpr std::uintptr_t kDueIndex = std::numeric_limits<std::uintptr_t>::max();
}  // namespace

HeapTimerQueue::HeapTimerQueue(TimePoint origin, Duration resolution)
    : clock_(origin, resolution) {}

HeapTimerQueue::~HeapTimerQueue() {
  for (const Entry& entry : heap_) entry.timer->next = entry.timer->prev = nullptr;
  for (Timer* timer : due_) timer->next = timer->prev = nullptr;
}

void HeapTimerQueue::Place(std::size_t index, const Entry& entry) {
  heap_[index] = entry;
  entry.timer->prev = reinterpret_cast<TimerLink*>(static_cast<std::uintptr_t>(index));
}

void HeapTimerQueue::SiftUp(std::size_t index) {
  const Entry entry = heap_[index];
  while (index > 0) {
    const std::size_t parent = (index - 1) / 2;
    if (!Before(entry, heap_[parent])) break;
    Place(index, heap_[parent]);
    index = parent;
  }
  Place(index, entry);
}

void HeapTimerQueue::SiftDown(std::size_t index) {
  const Entry entry = heap_[index];
  const std::size_t size = heap_.size();
  while (true) {
    std::size_t child = 2 * index + 1;
    if (child >= size) break;
    if (child + 1 < size && Before(heap_[child + 1], heap_[child])) ++child;
    if (!Before(heap_[child], entry)) break;
    Place(index, heap_[child]);
    index = child;
  }
  Place(index, entry);
}

void HeapTimerQueue::Remove(std::size_t index) {
  const Entry last = heap_.back();
  heap_.pop_back();
  if (index == heap_.size()) return;
  Place(index, last);
  SiftUp(index);
  SiftDown(static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(last.timer->prev)));
}

void HeapTimerQueue::Cancel(Timer& timer) {
  if (timer.next != &marker_) return;
  const auto index = reinterpret_cast<std::uintptr_t>(timer.prev);
  if (index == kDueIndex) {
    // Not found: it sits in the batch Advance() is firing, which skips unlinked timers.
    const auto it = std::find(due_.begin(), due_.end(), &timer);
    if (it != due_.end()) due_.erase(it);
  } else {
    Remove(static_cast<std::size_t>(index));
  }
  timer.next = timer.prev = nullptr;
  ++stats_.cancelled;
}

void HeapTimerQueue::Schedule(Timer& timer, TimePoint deadline) {
  if (timer.next == &marker_) {
    const std::uint64_t cancelled = stats_.cancelled;
    Cancel(timer);
    stats_.cancelled = cancelled;
  }
  ++stats_.scheduled;
  const Tick tick = clock_.DeadlineToTick(deadline);
  timer.deadline_ = tick;
  timer.next = &marker_;
  if (tick <= now_) {
    timer.prev = reinterpret_cast<TimerLink*>(kDueIndex);
    due_.push_back(&timer);
    return;
  }
  heap_.push_back(Entry{tick, next_sequence_++, &timer});
  SiftUp(heap_.size() - 1);
}

std::size_t HeapTimerQueue::Advance(TimePoint now) {
  Tick target = clock_.TimeToTick(now);
  if (target < now_) target = now_;
  advancing_ = true;
  std::size_t fired = 0;
  std::vector<Timer*> firing;
  firing.swap(due_);
  for (std::size_t i = 0; i < firing.size(); ++i) {
    Timer* timer = firing[i];
    // Skip timers cancelled or moved by an earlier callback of this batch.
    if (timer->next != &marker_ || reinterpret_cast<std::uintptr_t>(timer->prev) != kDueIndex) {
      continue;
    }
    if (std::find(due_.begin(), due_.end(), timer) != due_.end()) continue;  // re-armed for now
    timer->next = timer->prev = nullptr;
    ++fired;
    timer->callback_(*timer);
  }
  while (!heap_.empty() && heap_.front().deadline <= target) {
    now_ = heap_.front().deadline;
    Timer* timer = heap_.front().timer;
    Remove(0);
    timer->next = timer->prev = nullptr;
    ++fired;
    timer->callback_(*timer);
  }
  now_ = target;
  advancing_ = false;
  stats_.fired += fired;
  return fired;
}

std::optional<TimePoint> HeapTimerQueue::NextDeadline() const {
  if (!due_.empty()) return clock_.TickToTime(now_);
  if (heap_.empty()) return std::nullopt;
  return clock_.TickToTime(heap_.front().deadline);
}

}  // namespace tapstack::timers
