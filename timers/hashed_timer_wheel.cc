#include "timers/hashed_timer_wheel.h"

#include <algorithm>
#include <utility>

#include "timers/timer_list.h"

namespace tapstack::timers {

HashedTimerWheel::HashedTimerWheel(TimePoint origin, Duration resolution)
    : TickTimerQueue(origin, resolution), lists_(&pending_count_) {}

void HashedTimerWheel::ScheduleTick(Timer& timer, Tick deadline) {
  if (timer.is_scheduled()) {
    lists_.Unlink(timer);
  } else {
    ++pending_count_;
  }
  ++stats_.scheduled;
  if (deadline <= now_) {
    ScheduleDue(timer, deadline);
    return;
  }
  TimerListOps::DeadlineOf(timer) = deadline;
  const std::size_t slot = SlotOf(deadline);
  earliest_[slot] = lists_.Empty(slot) ? deadline : std::min(earliest_[slot], deadline);
  lists_.PushBack(slot, timer);
  if (next_visit_known_ && (!next_visit_ || deadline < *next_visit_)) next_visit_ = deadline;
}

void HashedTimerWheel::Cancel(Timer& timer) {
  if (!timer.is_scheduled()) return;
  lists_.Unlink(timer);  // the slot's bound may now be low: it stays a lower bound
  --pending_count_;
  ++stats_.cancelled;
}

std::optional<Tick> HashedTimerWheel::NextEventAfterNow() const {
  if (!next_visit_known_) {
    next_visit_ = ScanForNextVisit();
    next_visit_known_ = true;
  }
  return next_visit_;
}

std::optional<Tick> HashedTimerWheel::ScanForNextVisit() const {
  // The occupied slots in the order the clock reaches them: from the slot after now_'s to the end
  // of the array, then from its start up to now_'s slot (whose next visit is a whole turn away).
  const std::size_t start = SlotOf(now_ + 1);
  std::optional<Tick> earliest;
  for (const auto& [from, end] : {std::pair{start, kSlots}, std::pair{std::size_t{0}, start}}) {
    for (std::optional<std::size_t> slot = lists_.FirstOccupied(from, end); slot;
         slot = lists_.FirstOccupied(*slot + 1, end)) {
      const Tick visit = now_ + 1 + (*slot + kSlots - start) % kSlots;
      // Later slots are visited later still, and their bounds are at least their visits.
      if (earliest && visit >= *earliest) return earliest;
      if (!earliest || earliest_[*slot] < *earliest) earliest = earliest_[*slot];
      if (earliest_[*slot] == visit) return earliest;
    }
  }
  return earliest;
}

std::size_t HashedTimerWheel::ExpireAtNow() {
  // One walk moves the due timers, in list (scheduling) order, to a detached list and finds the
  // bound of those of later turns; no callback runs until the walk is over.
  const std::size_t slot = SlotOf(now_);
  TimerListHead& head = lists_.head(slot);
  TimerListHead firing;
  TimerListOps::InitHead(firing, &pending_count_);
  std::optional<Tick> later;
  TimerLink* link = head.next;
  while (link != &head) {
    TimerLink* next = link->next;
    Timer& timer = TimerListOps::Of(link);
    const Tick deadline = TimerListOps::DeadlineOf(timer);
    ++stats_.visited;
    if (deadline <= now_) {
      lists_.Unlink(timer);
      TimerListOps::PushBack(firing, timer);
    } else if (!later || deadline < *later) {
      later = deadline;
    }
    link = next;
  }
  if (later) earliest_[slot] = *later;
  next_visit_known_ = false;
  return FireList(firing);
}

}  // namespace tapstack::timers
