#include "timers/non_cascading_timer_wheel.h"

#include <bit>
#include <cassert>

#include "timers/timer_list.h"

namespace tapstack::timers {

namespace {

constexpr int Shift(int level) { return level * NonCascadingTimerWheel::kGranularityShift; }
constexpr Tick kPositionMask = NonCascadingTimerWheel::kSlotsPerLevel - 1;

// The level whose range holds `delay` (0 < delay < kMaxDelayTicks): the lowest L with
// delay < 63 * 8^L. Dividing by 63 first turns the test into a comparison with a power of two:
// delay < 63 * 8^L exactly when delay / 63 < 8^L, that is when delay / 63 has at most 3L bits.
int LevelOf(Tick delay) {
  const int bits = std::bit_width(delay / NonCascadingTimerWheel::kSlotsOfRange);
  return (bits + NonCascadingTimerWheel::kGranularityShift - 1) /
         NonCascadingTimerWheel::kGranularityShift;
}

}  // namespace

NonCascadingTimerWheel::NonCascadingTimerWheel(TimePoint origin, Duration resolution)
    : TickTimerQueue(origin, resolution), lists_(&pending_count_) {}

Tick NonCascadingTimerWheel::MaxLatenessTicks(Tick delay) {
  if (delay >= kMaxDelayTicks) delay = kMaxDelayTicks - 1;  // clamped, then placed again
  return (Tick{1} << Shift(LevelOf(delay))) - 1;
}

NonCascadingTimerWheel::Placement NonCascadingTimerWheel::PlacementFor(Tick deadline) const {
  assert(deadline > now_);
  // A clamped timer goes where the farthest delay the wheel holds would go.
  const Tick target = deadline - now_ >= kMaxDelayTicks ? now_ + kMaxDelayTicks - 1 : deadline;
  const int level = LevelOf(target - now_);
  const int shift = Shift(level);
  // Rounding up is what keeps the timer from firing early; it is also all of its lateness.
  const Tick expiry = ((target + (Tick{1} << shift) - 1) >> shift) << shift;
  const int position = static_cast<int>((expiry >> shift) & kPositionMask);
  return Placement{level * kSlotsPerLevel + position, expiry};
}

void NonCascadingTimerWheel::ScheduleTick(Timer& timer, Tick deadline) {
  ++stats_.scheduled;
  if (deadline <= now_) {
    if (timer.is_scheduled()) {
      lists_.Unlink(timer);
    } else {
      ++pending_count_;
    }
    ScheduleDue(timer, deadline);
    return;
  }
  const Placement placement = PlacementFor(deadline);
  const Tick stored = deadline - now_ >= kMaxDelayTicks ? deadline : placement.expiry;
  if (timer.is_scheduled()) {
    // A re-arm that fires at the same tick (or, clamped, for the same deadline) changes nothing:
    // the keepalive pattern, whose deadline moves by less than a slot of its level, costs a load
    // and a compare. A timer on the due list holds a tick at or before now_, never equal.
    if (TimerListOps::DeadlineOf(timer) == stored) return;
    lists_.Unlink(timer);
  } else {
    ++pending_count_;
  }
  TimerListOps::DeadlineOf(timer) = stored;
  lists_.PushBack(static_cast<std::size_t>(placement.slot), timer);
}

void NonCascadingTimerWheel::Cancel(Timer& timer) {
  if (!timer.is_scheduled()) return;
  lists_.Unlink(timer);
  --pending_count_;
  ++stats_.cancelled;
}

std::optional<Tick> NonCascadingTimerWheel::NextEventAfterNow() const {
  std::optional<Tick> earliest;
  for (int level = 0; level < kLevels; ++level) {
    const int shift = Shift(level);
    const Tick turns_and_position = now_ >> shift;  // the slot of this level the clock is in
    // This level fires nothing before its next slot boundary; if that is not sooner, skip it.
    if (earliest && ((turns_and_position + 1) << shift) >= *earliest) continue;
    const auto position = static_cast<std::size_t>(turns_and_position & kPositionMask);
    const std::size_t first = static_cast<std::size_t>(level) * kSlotsPerLevel;
    // Slots after the clock's position fire in this turn of the level; those at or before it fire
    // in the next turn.
    Tick ahead;
    if (const auto slot = lists_.FirstOccupied(first + position + 1, first + kSlotsPerLevel)) {
      ahead = *slot - first - position;
    } else if (const auto wrapped = lists_.FirstOccupied(first, first + position + 1)) {
      ahead = kSlotsPerLevel + (*wrapped - first) - position;
    } else {
      continue;
    }
    const Tick expiry = (turns_and_position + ahead) << shift;
    if (!earliest || expiry < *earliest) earliest = expiry;
  }
  return earliest;
}

std::size_t NonCascadingTimerWheel::ExpireSlot(int slot) {
  TimerListHead expiring;
  TimerListOps::InitHead(expiring, &pending_count_);
  lists_.TakeAll(static_cast<std::size_t>(slot), expiring);
  // One pass, popping one timer at a time (a callback may cancel or destroy the ones after it):
  // a second walk of the list would cost a second chain of cache misses.
  std::size_t fired = 0;
  while (!TimerListOps::Empty(expiring)) {
    Timer& timer = TimerListOps::PopFront(expiring);
    const Tick deadline = TimerListOps::DeadlineOf(timer);
    if (deadline > now_) {
      // Clamped: its deadline was beyond the wheel's range. Place it again from here.
      lists_.PushBack(static_cast<std::size_t>(PlacementFor(deadline).slot), timer);
      ++stats_.cascaded;
      continue;
    }
    Fire(timer);
    ++fired;
  }
  return fired;
}

std::size_t NonCascadingTimerWheel::ExpireAtNow() {
  std::size_t fired = 0;
  // Every level whose slot boundary falls on now_ has a slot firing now; a level's boundaries are
  // also boundaries of every level below, so the first level not on one ends the scan.
  for (int level = 0; level < kLevels; ++level) {
    const int shift = Shift(level);
    if ((now_ & ((Tick{1} << shift) - 1)) != 0) break;
    const int slot = level * kSlotsPerLevel + static_cast<int>((now_ >> shift) & kPositionMask);
    if (!lists_.Empty(static_cast<std::size_t>(slot))) fired += ExpireSlot(slot);
  }
  return fired;
}

}  // namespace tapstack::timers
