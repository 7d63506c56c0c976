// The timer facility as the stack sees it: schedule, cancel, advance, next deadline.
//
// TimerWheel is the implementation the stack uses. The others exist only for comparison, so that
// `tapstack sim --timers` and the benchmarks can show what each design costs: a binary heap
// (O(log n) per operation, what libevent and libuv use), a periodic sweep over every pending
// timer (O(n) per tick, the way lwIP's slow timer and smoltcp's polling visit every connection),
// a single-level hashed wheel (Netty's HashedWheelTimer) and the Linux kernel's non-cascading
// wheel. All follow the same rules (see timer_wheel.h): deadlines round up to a whole tick, a
// timer never fires early, a deadline at or before the current tick fires at the start of the
// next Advance(). All but the non-cascading wheel also fire each timer at its exact tick, timers
// of the same tick in scheduling order: given the same calls they fire the same timers at the
// same ticks in the same order, and only the cost differs. The non-cascading wheel trades that
// exactness for never moving a timer: it may fire late by a bounded fraction of the delay
// (non_cascading_timer_wheel.h, MaxLateness below).
#ifndef TAPSTACK_TIMERS_TIMER_QUEUE_H_
#define TAPSTACK_TIMERS_TIMER_QUEUE_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "timers/timer.h"

namespace tapstack::timers {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

// Counts of what a queue has done, for benchmarks and `--stats` output.
struct TimerQueueStats {
  std::uint64_t scheduled = 0;  // Schedule and Reschedule calls
  std::uint64_t cancelled = 0;  // Cancel calls that found the timer pending
  std::uint64_t fired = 0;
  std::uint64_t cascaded = 0;  // wheel: timers moved down a level
  std::uint64_t visited = 0;   // sweep: timers examined by scans
};

class TimerQueue {
 public:
  virtual ~TimerQueue() = default;

  // Arms `timer` to fire at `deadline`; a pending timer is moved.
  virtual void Schedule(Timer& timer, TimePoint deadline) = 0;
  void ScheduleAfter(Timer& timer, Duration delay) { Schedule(timer, now() + delay); }
  // Disarms `timer`; a timer that is not pending is left alone.
  virtual void Cancel(Timer& timer) = 0;
  // Moves the clock to `now` and fires every timer due by then. Returns how many fired.
  virtual std::size_t Advance(TimePoint now) = 0;
  // When Advance() next has work to do (never after the earliest deadline); nullopt when idle.
  virtual std::optional<TimePoint> NextDeadline() const = 0;
  virtual TimePoint now() const = 0;
  virtual const TimerQueueStats& stats() const = 0;
  bool empty() const { return !NextDeadline().has_value(); }
  // How many timers are scheduled right now: O(1), kept on every schedule, cancel and firing, and
  // when a pending Timer is destroyed (timer.h). Zero once every owner has let its timers go, which
  // is how tests check that nothing was left armed.
  std::size_t pending_count() const { return pending_count_; }

 protected:
  std::size_t pending_count_ = 0;
};

enum class TimerQueueKind { kWheel, kHeap, kSweep, kHashedWheel, kLinuxWheel };

// Every kind, for tools and benchmarks that offer or compare them all.
inline constexpr std::array kTimerQueueKinds = {
    TimerQueueKind::kWheel, TimerQueueKind::kHeap, TimerQueueKind::kSweep,
    TimerQueueKind::kHashedWheel, TimerQueueKind::kLinuxWheel};

// "wheel", "heap", "sweep", "hashed_wheel", "linux_wheel"
std::string_view TimerQueueKindName(TimerQueueKind kind);
std::optional<TimerQueueKind> ParseTimerQueueKind(std::string_view name);
// The names of every kind, separated by ", " (for usage messages).
std::string TimerQueueKindNames();

// The most a timer of `kind` armed `delay` ahead may fire after its deadline, beyond the rounding
// of deadlines up to whole ticks that every kind shares. Zero for every kind but the
// non-cascading wheel, whose bound is just under 8/63 of the delay.
Duration MaxLateness(TimerQueueKind kind, Duration delay, Duration resolution);

// A queue of `kind` whose tick 0 is `origin`, with ticks of `resolution`.
std::unique_ptr<TimerQueue> MakeTimerQueue(TimerQueueKind kind, TimePoint origin,
                                           Duration resolution = std::chrono::milliseconds(1));

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_TIMER_QUEUE_H_
