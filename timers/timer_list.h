// Operations on circular doubly linked lists of Timers with a sentinel head, shared by the timer
// queues (internal to timers/).
#ifndef TAPSTACK_TIMERS_TIMER_LIST_H_
#define TAPSTACK_TIMERS_TIMER_LIST_H_

#include "timers/timer.h"

namespace tapstack::timers {

struct TimerListOps {
  // An empty list whose timers count in `*pending_count` (the owning queue's count).
  static void InitHead(TimerListHead& head, std::size_t* pending_count) {
    head.next = head.prev = &head;
    head.pending_count = pending_count;
  }
  static bool Empty(const TimerLink& head) { return head.next == &head; }

  static void PushBack(TimerLink& head, Timer& timer) {
    TimerLink* node = &timer;
    node->prev = head.prev;
    node->next = &head;
    head.prev->next = node;
    head.prev = node;
  }

  static Timer& PopFront(TimerLink& head) {
    Timer& timer = *static_cast<Timer*>(head.next);
    timer.Unlink();
    return timer;
  }

  static Timer& Front(TimerLink& head) { return *static_cast<Timer*>(head.next); }
  static Timer& Of(TimerLink* link) { return *static_cast<Timer*>(link); }
  static TimerLink* LinkOf(Timer& timer) { return &timer; }
  static void Unlink(Timer& timer) { timer.Unlink(); }
  static Tick& DeadlineOf(Timer& timer) { return timer.deadline; }
  static void Fire(Timer& timer) { timer.callback(timer); }

  // Moves every node of `from` to the empty list `to`, leaving `from` empty. Both heads keep
  // their count pointers: they must belong to the same queue.
  static void TakeAll(TimerListHead& from, TimerListHead& to) {
    if (Empty(from)) return;
    to.next = from.next;
    to.prev = from.prev;
    to.next->prev = &to;
    to.prev->next = &to;
    from.next = from.prev = &from;
  }
};

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_TIMER_LIST_H_
