// What the tick-based wheels (TimerWheel, the hashed wheel and the non-cascading wheel) share
// (internal to timers/): the clock in whole ticks, the due list, the firing loop and the shape of
// Advance(). `Derived` supplies where timers wait and when they fire:
//
//   void ScheduleTick(Timer&, Tick deadline)   arm or move a timer; a deadline at or before
//                                              now_tick() goes to the due list (ScheduleDue)
//   void Cancel(Timer&)
//   std::optional<Tick> NextEventAfterNow() const   the next tick after now_ with work, if any
//   std::size_t ExpireAtNow()                  at now_ (just set to that tick), fire what is due
//
// The rules every TimerQueue follows hold here by construction: the due list fires first, at the
// start of Advance(), and what callbacks put on it waits for the next call; Advance() moves from
// event to event, so a jump costs the events, not the ticks; callbacks must not call Advance().
#ifndef TAPSTACK_TIMERS_TICK_TIMER_QUEUE_H_
#define TAPSTACK_TIMERS_TICK_TIMER_QUEUE_H_

#include <cassert>
#include <cstddef>
#include <optional>

#include "timers/tick_clock.h"
#include "timers/timer.h"
#include "timers/timer_list.h"
#include "timers/timer_queue.h"

namespace tapstack::timers {

template <typename Derived>
class TickTimerQueue : public TimerQueue {
 public:
  void Schedule(Timer& timer, TimePoint deadline) final {
    derived().ScheduleTick(timer, clock_.DeadlineToTick(deadline));
  }
  std::size_t Advance(TimePoint now) final { return AdvanceToTick(clock_.TimeToTick(now)); }
  std::optional<TimePoint> NextDeadline() const final {
    const std::optional<Tick> tick = NextDeadlineTick();
    if (!tick) return std::nullopt;
    return clock_.TickToTime(*tick);
  }
  TimePoint now() const final { return clock_.TickToTime(now_); }
  const TimerQueueStats& stats() const final { return stats_; }

  // Tick-level interface, for callers that keep their own integer time.
  std::size_t AdvanceToTick(Tick target);
  std::optional<Tick> NextDeadlineTick() const {
    if (!TimerListOps::Empty(due_)) return now_;
    return derived().NextEventAfterNow();
  }
  Tick now_tick() const { return now_; }
  Duration resolution() const { return clock_.resolution(); }

  // Conversions between wall time and ticks: deadlines round up (never early), "now" rounds down.
  Tick DeadlineToTick(TimePoint deadline) const { return clock_.DeadlineToTick(deadline); }
  Tick TimeToTick(TimePoint now) const { return clock_.TimeToTick(now); }
  TimePoint TickToTime(Tick tick) const { return clock_.TickToTime(tick); }

 protected:
  TickTimerQueue(TimePoint origin, Duration resolution) : clock_(origin, resolution) {
    assert(resolution > Duration::zero());
    TimerListOps::InitHead(due_, &pending_count_);
  }
  // Detaches the due timers so that their destructors, which may run later, do not touch due_.
  ~TickTimerQueue() override {
    while (!TimerListOps::Empty(due_)) TimerListOps::PopFront(due_);
  }
  TickTimerQueue(const TickTimerQueue&) = delete;
  TickTimerQueue& operator=(const TickTimerQueue&) = delete;

  // Puts an unlinked timer due at or before now_ on the due list. Firing it in the next Advance()
  // rather than at once keeps a callback that re-arms its own timer for "now" from livelocking.
  void ScheduleDue(Timer& timer, Tick deadline) {
    TimerListOps::DeadlineOf(timer) = deadline;
    TimerListOps::PushBack(due_, timer);
  }

  // Fires every timer on `list` (a detached list), in order. Returns how many fired.
  std::size_t FireList(TimerListHead& list) {
    std::size_t fired = 0;
    // Pop one at a time: a callback may cancel or destroy timers still waiting on this list.
    while (!TimerListOps::Empty(list)) {
      Timer& timer = TimerListOps::PopFront(list);
      --pending_count_;
      ++fired;
      TimerListOps::Fire(timer);  // may destroy `timer`: do not touch it afterwards
    }
    // Counted once per list: the opaque callback would otherwise force a store per timer.
    stats_.fired += fired;
    return fired;
  }
  // Fires a timer already unlinked from every list.
  void Fire(Timer& timer) {
    --pending_count_;
    ++stats_.fired;
    TimerListOps::Fire(timer);  // may destroy `timer`: do not touch it afterwards
  }

  Tick now_ = 0;
  TimerQueueStats stats_;

 private:
  // Moves the clock, telling a queue that keeps something derived from it (OnClockSet).
  void SetNow(Tick tick) {
    now_ = tick;
    if constexpr (requires(Derived & queue) { queue.OnClockSet(); }) derived().OnClockSet();
  }

  Derived& derived() { return static_cast<Derived&>(*this); }
  const Derived& derived() const { return static_cast<const Derived&>(*this); }

  TickClock clock_;
  // Timers scheduled at or before now_: they fire at the start of the next Advance().
  TimerListHead due_;
  bool advancing_ = false;
};

// Defined outside the class, hence not implicitly inline: a queue that declares an explicit
// instantiation (extern template) gets one copy of this loop, compiled where its ExpireAtNow() and
// NextEventAfterNow() are visible and can be inlined into it, instead of a copy in every caller
// that makes them out-of-line calls.
template <typename Derived>
std::size_t TickTimerQueue<Derived>::AdvanceToTick(Tick target) {
  assert(!advancing_ && "Advance() must not be called from a timer callback");
  advancing_ = true;
  if (target < now_) target = now_;
  std::size_t fired = 0;
  // Timers made due at or before now_ since the last Advance(); those their callbacks make due
  // again wait for the next call.
  if (!TimerListOps::Empty(due_)) {
    TimerListHead firing;
    TimerListOps::InitHead(firing, &pending_count_);
    TimerListOps::TakeAll(due_, firing);
    fired += FireList(firing);
  }
  for (std::optional<Tick> tick = derived().NextEventAfterNow(); tick && *tick <= target;
       tick = derived().NextEventAfterNow()) {
    SetNow(*tick);
    fired += derived().ExpireAtNow();
  }
  SetNow(target);
  advancing_ = false;
  return fired;
}

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_TICK_TIMER_QUEUE_H_
