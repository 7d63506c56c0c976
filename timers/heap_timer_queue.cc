#include "timers/heap_timer_queue.h"

#include "timers/timer_list.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace tapstack::timers {

namespace {
// The index of a timer waiting on the due list: not a position in the heap.
constexpr Tick kDueIndex = std::numeric_limits<Tick>::max();
}  // namespace

HeapTimerQueue::HeapTimerQueue(TimePoint origin, Duration resolution)
    : clock_(origin, resolution) {
  TimerListOps::InitHead(members_, &pending_count_);
  TimerListOps::InitHead(due_, &pending_count_);
}

HeapTimerQueue::~HeapTimerQueue() {
  // Only timers still alive are on the lists; heap entries may point at destroyed ones.
  while (!TimerListOps::Empty(members_)) TimerListOps::PopFront(members_);
  while (!TimerListOps::Empty(due_)) TimerListOps::PopFront(due_);
}

void HeapTimerQueue::Place(std::size_t index, const Entry& entry) {
  heap_[index] = entry;
  entry.timer->deadline = index;
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
  SiftDown(static_cast<std::size_t>(last.timer->deadline));
}

void HeapTimerQueue::Cancel(Timer& timer) {
  if (!timer.is_scheduled()) return;
  const Tick index = timer.deadline;
  if (index != kDueIndex) Remove(static_cast<std::size_t>(index));
  timer.Unlink();
  --pending_count_;
  ++stats_.cancelled;
}

void HeapTimerQueue::Schedule(Timer& timer, TimePoint deadline) {
  if (timer.is_scheduled()) {
    const std::uint64_t cancelled = stats_.cancelled;
    Cancel(timer);
    stats_.cancelled = cancelled;
  }
  ++stats_.scheduled;
  ++pending_count_;
  const Tick tick = clock_.DeadlineToTick(deadline);
  if (tick <= now_) {
    timer.deadline = kDueIndex;
    TimerListOps::PushBack(due_, timer);
    return;
  }
  TimerListOps::PushBack(members_, timer);
  heap_.push_back(Entry{tick, next_sequence_++, &timer});
  SiftUp(heap_.size() - 1);
}

std::size_t HeapTimerQueue::Advance(TimePoint now) {
  Tick target = clock_.TimeToTick(now);
  if (target < now_) target = now_;
  advancing_ = true;
  std::size_t fired = 0;
  // The due batch is detached first: what its callbacks make due again waits for the next call,
  // and a timer cancelled or destroyed meanwhile simply leaves the list.
  TimerListHead firing;
  TimerListOps::InitHead(firing, &pending_count_);
  TimerListOps::TakeAll(due_, firing);
  while (!TimerListOps::Empty(firing)) {
    Timer& timer = TimerListOps::PopFront(firing);
    --pending_count_;
    ++fired;
    timer.callback(timer);
  }
  while (!heap_.empty() && heap_.front().deadline <= target) {
    now_ = heap_.front().deadline;
    Timer* timer = heap_.front().timer;
    Remove(0);
    timer->Unlink();
    --pending_count_;
    ++fired;
    timer->callback(*timer);
  }
  now_ = target;
  advancing_ = false;
  stats_.fired += fired;
  return fired;
}

std::optional<TimePoint> HeapTimerQueue::NextDeadline() const {
  if (!TimerListOps::Empty(due_)) return clock_.TickToTime(now_);
  if (heap_.empty()) return std::nullopt;
  return clock_.TickToTime(heap_.front().deadline);
}

}  // namespace tapstack::timers
