// The intrusive timer node that every timer of tapstack embeds in its owner.
//
// A Timer is 32 bytes: two link words, a deadline tick and a callback. It is embedded in the object
// that owns it (a TCP connection holds one per timer kind), so scheduling never allocates and an
// expiring timer finds its owner with pointer arithmetic instead of a lookup (see OwnerOf).
#ifndef TAPSTACK_TIMERS_TIMER_H_
#define TAPSTACK_TIMERS_TIMER_H_

#include <cstddef>
#include <cstdint>

namespace tapstack::timers {

// Integer time inside the wheel; one tick is the wheel's resolution (1 ms by default).
using Tick = std::uint64_t;

// Links of a circular doubly linked list. Every Timer is a TimerLink, and so is the sentinel head
// of every list a queue keeps, so unlinking needs no knowledge of which list holds the node.
struct TimerLink {
  TimerLink* next = nullptr;
  TimerLink* prev = nullptr;
};

class Timer;
using TimerCallback = void (*)(Timer& timer);

// What every node on a queue's lists carries after its links: a Timer or a list head. The two are
// told apart by the callback (a head has none), so a walk along a list can find its head, and
// through it the count of pending timers of the queue that owns the list (see ~Timer).
struct TimerNode : TimerLink {
  TimerCallback callback = nullptr;
  union {
    Tick deadline = 0;           // a Timer's deadline tick (the heap: its heap index)
    std::size_t* pending_count;  // a head: its queue's count of pending timers
  };
};

// The sentinel head of one of a queue's lists (internal to timers/).
struct TimerListHead : TimerNode {};

class TimerWheel;
class Timer;
// Removes a timer that is being destroyed from the TimerWheel slot array that holds it
// (timer_wheel.cc).
void ForgetDestroyedWheelTimer(Timer& timer);

class Timer : private TimerNode {
 public:
  // Called once when the timer expires, after the timer has been unscheduled, so the callback may
  // schedule it again, cancel others or destroy the owner (and with it this timer).
  using Callback = TimerCallback;

  explicit Timer(Callback timer_callback) noexcept { callback = timer_callback; }
  // Destroying a pending timer takes it off its queue: the queue never calls a callback on a dead
  // owner. In a TimerWheel that is O(1) (the timer knows its slot, its index and its wheel). On
  // the other queues' lists the pending count is kept right by walking the list to its head, which
  // knows the count: O(timers on that list), paid only by owners that do not cancel before
  // destroying (the stack always cancels, which is O(1)).
  ~Timer() {
    if (next == nullptr) return;
    if (InSlotArray()) {
      ForgetDestroyedWheelTimer(*this);
      return;
    }
    TimerLink* link = next;
    while (static_cast<TimerNode*>(link)->callback != nullptr) link = link->next;
    if (std::size_t* count = static_cast<TimerNode*>(link)->pending_count) --*count;
    Unlink();
  }

  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool is_scheduled() const { return next != nullptr; }
  // The tick the timer is due at; meaningful while it is scheduled.
  Tick deadline_tick() const { return deadline; }

 private:
  friend class TimerWheel;
  friend class HeapTimerQueue;
  friend class SweepTimerQueue;
  friend struct TimerListOps;
  friend void ForgetDestroyedWheelTimer(Timer& timer);

  // A TimerWheel keeps its pending timers in slot arrays, not lists (timer_slot_array.h); while
  // a timer sits in one, the link words say where instead: `next` holds the slot and the index
  // in it under a tag bit that no user-space address has (the top one), `prev` the wheel. The tag
  // is how the destructor tells the two uses apart. Timers on a wheel's due list are linked.
  static constexpr std::uintptr_t kInSlotArray = std::uintptr_t{1} << 63;
  bool InSlotArray() const { return (reinterpret_cast<std::uintptr_t>(next) & kInSlotArray) != 0; }

  void Unlink() {
    if (next == nullptr) return;
    next->prev = prev;
    prev->next = next;
    next = prev = nullptr;
  }
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
