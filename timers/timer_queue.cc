#include "timers/timer_queue.h"

#include "timers/heap_timer_queue.h"
#include "timers/sweep_timer_queue.h"
#include "timers/timer_wheel.h"

namespace tapstack::timers {

std::string_view TimerQueueKindName(TimerQueueKind kind) {
  switch (kind) {
    case TimerQueueKind::kWheel: return "wheel";
    case TimerQueueKind::kHeap: return "heap";
    case TimerQueueKind::kSweep: return "sweep";
  }
  return "?";
}

std::optional<TimerQueueKind> ParseTimerQueueKind(std::string_view name) {
  for (TimerQueueKind kind : {TimerQueueKind::kWheel, TimerQueueKind::kHeap,
                              TimerQueueKind::kSweep}) {
    if (name == TimerQueueKindName(kind)) return kind;
  }
  return std::nullopt;
}

std::unique_ptr<TimerQueue> MakeTimerQueue(TimerQueueKind kind, TimePoint origin,
                                           Duration resolution) {
  switch (kind) {
    case TimerQueueKind::kHeap: return std::make_unique<HeapTimerQueue>(origin, resolution);
    case TimerQueueKind::kSweep: return std::make_unique<SweepTimerQueue>(origin, resolution);
    case TimerQueueKind::kWheel: break;
  }
  return std::make_unique<TimerWheel>(origin, TimerWheelOptions{.resolution = resolution});
}

}  // namespace tapstack::timers
