#include "timers/sweep_timer_queue.h"

#include "timers/timer_list.h"

namespace tapstack::timers {

SweepTimerQueue::SweepTimerQueue(TimePoint origin, Duration resolution)
    : clock_(origin, resolution) {
  TimerListOps::InitHead(pending_, &pending_count_);
  TimerListOps::InitHead(due_, &pending_count_);
}

SweepTimerQueue::~SweepTimerQueue() {
  while (!TimerListOps::Empty(pending_)) TimerListOps::PopFront(pending_);
  while (!TimerListOps::Empty(due_)) TimerListOps::PopFront(due_);
}

void SweepTimerQueue::Schedule(Timer& timer, TimePoint deadline) {
  if (timer.is_scheduled()) {
    TimerListOps::Unlink(timer);
  } else {
    ++pending_count_;
  }
  ++stats_.scheduled;
  const Tick tick = clock_.DeadlineToTick(deadline);
  TimerListOps::DeadlineOf(timer) = tick;
  TimerListOps::PushBack(tick <= now_ ? due_ : pending_, timer);
}

void SweepTimerQueue::Cancel(Timer& timer) {
  if (!timer.is_scheduled()) return;
  TimerListOps::Unlink(timer);
  --pending_count_;
  ++stats_.cancelled;
}

std::optional<Tick> SweepTimerQueue::EarliestTick() const {
  std::optional<Tick> earliest;
  for (TimerLink* link = pending_.next; link != &pending_; link = link->next) {
    ++stats_.visited;
    const Tick tick = TimerListOps::DeadlineOf(TimerListOps::Of(link));
    if (!earliest || tick < *earliest) earliest = tick;
  }
  return earliest;
}

std::size_t SweepTimerQueue::FireList(TimerListHead& list) {
  std::size_t fired = 0;
  while (!TimerListOps::Empty(list)) {
    Timer& timer = TimerListOps::PopFront(list);
    --pending_count_;
    ++fired;
    TimerListOps::Fire(timer);  // may destroy `timer`
  }
  stats_.fired += fired;
  return fired;
}

std::size_t SweepTimerQueue::Advance(TimePoint now) {
  Tick target = clock_.TimeToTick(now);
  if (target < now_) target = now_;
  std::size_t fired = 0;
  TimerListHead firing;
  TimerListOps::InitHead(firing, &pending_count_);
  TimerListOps::TakeAll(due_, firing);
  fired += FireList(firing);
  // One scan finds the earliest tick, a second collects the timers due at it, in scheduling
  // order; repeat while that tick is within reach.
  for (std::optional<Tick> tick = EarliestTick(); tick && *tick <= target; tick = EarliestTick()) {
    now_ = *tick;
    TimerListOps::InitHead(firing, &pending_count_);
    TimerLink* link = pending_.next;
    while (link != &pending_) {
      TimerLink* next = link->next;
      ++stats_.visited;
      Timer& timer = TimerListOps::Of(link);
      if (TimerListOps::DeadlineOf(timer) == now_) {
        TimerListOps::Unlink(timer);
        TimerListOps::PushBack(firing, timer);
      }
      link = next;
    }
    fired += FireList(firing);
  }
  now_ = target;
  return fired;
}

std::optional<TimePoint> SweepTimerQueue::NextDeadline() const {
  if (!TimerListOps::Empty(due_)) return clock_.TickToTime(now_);
  const std::optional<Tick> tick = EarliestTick();
  if (!tick) return std::nullopt;
  return clock_.TickToTime(*tick);
}

}  // namespace tapstack::timers
