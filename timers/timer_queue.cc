#include "timers/timer_queue.h"

#include "timers/hashed_timer_wheel.h"
#include "timers/heap_timer_queue.h"
#include "timers/non_cascading_timer_wheel.h"
#include "timers/sweep_timer_queue.h"
#include "timers/timer_wheel.h"

namespace tapstack::timers {

std::string_view TimerQueueKindName(TimerQueueKind kind) {
  switch (kind) {
    case TimerQueueKind::kWheel:
      return "wheel";
    case TimerQueueKind::kHeap:
      return "heap";
    case TimerQueueKind::kSweep:
      return "sweep";
    case TimerQueueKind::kHashedWheel:
      return HashedTimerWheel::kName;
    case TimerQueueKind::kLinuxWheel:
      return NonCascadingTimerWheel::kName;
  }
  return "?";
}

std::optional<TimerQueueKind> ParseTimerQueueKind(std::string_view name) {
  for (TimerQueueKind kind : kTimerQueueKinds) {
    if (name == TimerQueueKindName(kind)) return kind;
  }
  return std::nullopt;
}

std::string TimerQueueKindNames() {
  std::string names;
  for (TimerQueueKind kind : kTimerQueueKinds) {
    if (!names.empty()) names += ", ";
    names += TimerQueueKindName(kind);
  }
  return names;
}

Duration MaxLateness(TimerQueueKind kind, Duration delay, Duration resolution) {
  if (kind != TimerQueueKind::kLinuxWheel || delay <= Duration::zero()) return Duration::zero();
  // The wheel counts the delay from the current tick, rounded down, to the deadline tick, rounded
  // up: up to two ticks more than `delay` itself.
  const auto ticks = static_cast<Tick>(delay / resolution) + 2;
  return resolution * static_cast<Duration::rep>(NonCascadingTimerWheel::MaxLatenessTicks(ticks));
}

std::unique_ptr<TimerQueue> MakeTimerQueue(TimerQueueKind kind, TimePoint origin,
                                           Duration resolution) {
  switch (kind) {
    case TimerQueueKind::kHeap:
      return std::make_unique<HeapTimerQueue>(origin, resolution);
    case TimerQueueKind::kSweep:
      return std::make_unique<SweepTimerQueue>(origin, resolution);
    case TimerQueueKind::kHashedWheel:
      return std::make_unique<HashedTimerWheel>(origin, resolution);
    case TimerQueueKind::kLinuxWheel:
      return std::make_unique<NonCascadingTimerWheel>(origin, resolution);
    case TimerQueueKind::kWheel:
      break;
  }
  return std::make_unique<TimerWheel>(origin, TimerWheelOptions{.resolution = resolution});
}

}  // namespace tapstack::timers
