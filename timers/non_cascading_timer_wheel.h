// The non-cascading timer wheel of the Linux kernel (kernel/time/timer.c since Linux 4.8), written
// anew for intrusive Timers, for comparison with TimerWheel (see timer_queue.h).
//
// Nine levels of 64 slots; a slot of level L spans 8^L ticks, so each level is eight times
// coarser than the one below. A timer is placed once, on the lowest level whose range holds its
// delay, in the slot of its deadline rounded UP to that level's granularity, and it fires when the
// clock reaches that slot: it is never moved down a level (no cascade). The price is accuracy:
//   - A timer never fires before its deadline.
//   - It fires less than 8/63 of its delay late (just under 12.7%, usually quoted as 12.5%): see
//     MaxLatenessTicks. A delay under 63 ticks is exact.
//   - Timers past the last level (about 12 days at 1 ms ticks) are clamped to the last level's
//     farthest slot. The kernel fires them there, early; this wheel instead places them again when
//     that slot comes up (counted in stats().cascaded), so that no timer fires early.
//   - Order: timers fire in the order of the ticks they fire at, which is not the order of their
//     deadlines (two deadlines a tick apart can round to different slots). Timers that share a
//     slot fire in scheduling order, lower levels first; a re-arm that rounds to the same firing
//     tick leaves the timer where it is, as the kernel's mod_timer does, and keeps its place.
//   - A deadline at or before the current tick fires at the start of the next Advance(), and
//     callbacks may schedule, cancel or destroy any timer but must not call Advance(), as for every
//     TimerQueue.
// Schedule and Cancel are O(1); Advance costs the slots it visits and the timers it fires;
// NextDeadline looks at one bitmap word per level.
#ifndef TAPSTACK_TIMERS_NON_CASCADING_TIMER_WHEEL_H_
#define TAPSTACK_TIMERS_NON_CASCADING_TIMER_WHEEL_H_

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

#include "timers/slot_lists.h"
#include "timers/tick_timer_queue.h"
#include "timers/timer.h"
#include "timers/timer_queue.h"

namespace tapstack::timers {

class NonCascadingTimerWheel final : public TickTimerQueue<NonCascadingTimerWheel> {
 public:
  static constexpr std::string_view kName = "linux_wheel";
  static constexpr int kLevels = 9;  // the kernel's depth for HZ > 100
  static constexpr int kSlotsPerLevel = 64;
  static constexpr int kGranularityShift = 3;  // a level's slot spans 8 slots of the level below
  // A level holds delays below 63 of its slots: one slot short of a full turn, so that a deadline
  // rounded up to the slot's end still lies less than a turn ahead and cannot alias a slot the
  // clock reaches sooner.
  static constexpr Tick kSlotsOfRange = kSlotsPerLevel - 1;
  // Delays at or beyond this many ticks are clamped to the last level.
  static constexpr Tick kMaxDelayTicks = kSlotsOfRange << (kGranularityShift * (kLevels - 1));

  explicit NonCascadingTimerWheel(TimePoint origin,
                                  Duration resolution = std::chrono::milliseconds(1));

  // Arms `timer` for `deadline` (a tick); a pending timer is moved. Schedule() ends here.
  void ScheduleTick(Timer& timer, Tick deadline);
  void Cancel(Timer& timer) override;
  // NextDeadline() is the tick the first occupied slot fires at: exactly when Advance() next has
  // work, which may be after the earliest deadline by up to that timer's lateness.

  // The most a timer armed `delay` ticks ahead (delay > 0) fires after its deadline tick: one tick
  // less than the granularity of its level. Because a level is used only for delays of at least
  // 63 slots of the level below, this is always less than 8 * delay / 63.
  static Tick MaxLatenessTicks(Tick delay);

 private:
  friend class TickTimerQueue<NonCascadingTimerWheel>;
  static constexpr int kSlots = kLevels * kSlotsPerLevel;

  struct Placement {
    int slot;     // index into lists_: level * kSlotsPerLevel + position on the level
    Tick expiry;  // the tick that slot fires at
  };
  // Where a timer due at `deadline` (after now_) goes, and the tick it will fire at.
  Placement PlacementFor(Tick deadline) const;
  // The next tick after now_ at which an occupied slot fires.
  std::optional<Tick> NextEventAfterNow() const;
  // Fires the slots of every level whose boundary falls on now_.
  std::size_t ExpireAtNow();
  // Fires (or, for clamped timers not yet due, places again) every timer of `slot`, at now_.
  std::size_t ExpireSlot(int slot);

  // A pending timer's deadline field holds the tick its slot fires at, or for a clamped timer its
  // real deadline, which is later: a slot's timers with a later tick are placed again.
  SlotLists<kSlots> lists_;
};

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_NON_CASCADING_TIMER_WHEEL_H_
