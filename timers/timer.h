// The intrusive timer node that every timer of tapstack embeds in its owner.
//
// A Timer is 32 bytes: two list links, a deadline tick and a callback. It is embedded in the object
// that owns it (a TCP connection holds one per timer kind), so scheduling never allocates and an
// expiring timer finds its owner with pointer arithmetic instead of a lookup (see OwnerOf).
#ifndef TAPSTACK_TIMERS_TIMER_H_
#define TAPSTACK_TIMERS_TIMER_H_

#include <cstddef>
#include <cstdint>

namespace tapstack::timers {

// Integer time inside the wheel; one tick is the wheel's resolution (1 ms by default).
using Tick = std::uint64_t;

// Links of a circular doubly linked list. A wheel slot is a bare TimerLink acting as the list head;
// every Timer is a TimerLink too, so unlinking needs no knowledge of which list holds the node.
struct TimerLink {
  TimerLink* next = nullptr;
  TimerLink* prev = nullptr;
};

class TimerWheel;

class Timer : private TimerLink {
 public:
  // Called once when the timer expires, after the timer has been unscheduled, so the callback may
  // schedule it again, cancel others or destroy the owner (and with it this timer).
  using Callback = void (*)(Timer& timer);

  explicit Timer(Callback callback) noexcept : callback_(callback) {}
  // Destroying a pending timer unlinks it: the wheel never calls a callback on a dead owner.
  ~Timer() { Unlink(); }

  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool is_scheduled() const { return next != nullptr; }
  // The tick the timer is due at; meaningful while it is scheduled.
  Tick deadline_tick() const { return deadline_; }

 private:
  friend class TimerWheel;
  friend class HeapTimerQueue;
  friend class SweepTimerQueue;
  friend struct TimerListOps;

  void Unlink() {
    if (next == nullptr) return;
    next->prev = prev;
    prev->next = next;
    next = prev = nullptr;
  }

  Tick deadline_ = 0;
  Callback callback_;
};

static_assert(sizeof(Timer) <= 32, "the timer node budget is 32 bytes");

// Recovers the owner of an embedded timer: `OwnerOf<&Conn::keepalive_timer>(timer)` returns the
// Conn whose member `keepalive_timer` is `timer`. Owners must not use virtual inheritance.
template <typename Owner>
Owner& OwnerOfImpl(Timer& timer, std::size_t offset) {
  return *reinterpret_cast<Owner*>(reinterpret_cast<char*>(&timer) - offset);
}

template <auto Member>
struct MemberTraits;
template <typename Owner, Timer Owner::*Member>
struct MemberTraits<Member> {
  using OwnerType = Owner;
  static std::size_t Offset() {
    // The offset of a data member is a constant of the layout; computing it from a pointer to
    // member on an aligned dummy address avoids offsetof's standard-layout restriction.
    alignas(Owner) static char storage[sizeof(Owner)];
    auto* owner = reinterpret_cast<Owner*>(storage);
    return static_cast<std::size_t>(reinterpret_cast<char*>(&(owner->*Member)) - storage);
  }
};

template <auto Member>
typename MemberTraits<Member>::OwnerType& OwnerOf(Timer& timer) {
  using Traits = MemberTraits<Member>;
  static const std::size_t offset = Traits::Offset();
  return OwnerOfImpl<typename Traits::OwnerType>(timer, offset);
}

}  // namespace tapstack::timers

#endif  // TAPSTACK_TIMERS_TIMER_H_
