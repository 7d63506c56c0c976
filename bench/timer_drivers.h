// The timer implementations that bench/timer_bench.cc compares, behind one small interface.
//
// A driver owns `connections` connection structs, each holding exactly the timer node its
// implementation needs (nothing else, so the memory each one touches is the timer's own), and all
// timers start unarmed. Every driver provides:
//
//   kName, BytesPerTimer()     the label in results, and the memory per connection's timer
//   kVirtualClock              true: time moves only when the benchmark says so (AdvanceTicks);
//                              false: the library reads the real monotonic clock itself
//   ArmIdle(c)                 arm or re-arm connection c's timer for now + keepalive idle
//   ArmBackground(c, offset)   arm for now + idle/2 + offset: the pending population
//   ArmDueNow(c)               arm so that it fires at the next Tick()
//   ArmIn(c, ticks)            arm for now + ticks (fill-then-fire-all)
//   AdvanceToNextDeadline()    (tapstack queues) move the clock to the next deadline and fire
//   Cancel(c), Tick()          disarm; one step of the clock or event loop, firing what is due
//   fired()                    timers fired so far; callbacks re-arm for idle when rearm_on_fire
//   now_tick()                 (virtual-clock drivers) the driver's clock, in ticks
//   set_lateness_log(log)      (virtual-clock drivers) record in `log` how late each timer fires
//
// Callbacks reach their driver through a static pointer (one driver of a type lives at a time, the
// benchmark is single-threaded) so that the connection holds nothing but the timer.
#ifndef TAPSTACK_BENCH_TIMER_DRIVERS_H_
#define TAPSTACK_BENCH_TIMER_DRIVERS_H_

#include <event2/event.h>
#include <event2/event_struct.h>
#include <sys/time.h>
#include <uv.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "bench/indexed_heap.h"
#include "timers/hashed_timer_wheel.h"
#include "timers/non_cascading_timer_wheel.h"
#include "timers/timer_wheel.h"

namespace tapstack::bench {

// One tick is 1 ms for every implementation (the wheel's default resolution, libuv's unit).
using Ticks = std::uint64_t;
// TCP keepalive's idle time before the first probe: RFC 1122 4.2.3.6 asks for at least two hours.
inline constexpr Ticks kKeepaliveIdleTicks = 2 * 60 * 60 * 1000;
inline constexpr std::uint64_t kNoDeadline = std::numeric_limits<std::uint64_t>::max();

// How late each timer of a fill-then-fire cycle fires, against the exact deadline it was armed
// for. The benchmark records each deadline as it arms (from the driver's clock, not from the
// queue), and a driver given the log records each lateness as it fires; the deadlines sit in an
// array of their own, so drivers keep the log off while they are timed. Arming never looks at the
// log: the check would cost every timed schedule a load, a test and a branch.
class LatenessLog {
 public:
  explicit LatenessLog(std::size_t connections) : deadlines_(connections) {
    lateness_.reserve(connections);
  }
  void Armed(std::size_t connection, Ticks deadline) { deadlines_[connection] = deadline; }
  void Fired(std::size_t connection, Ticks now) {
    lateness_.push_back(now - deadlines_[connection]);
  }
  // The lateness at quantile `q` (0 to 1) of the timers fired so far, in ticks.
  Ticks Quantile(double q) {
    if (lateness_.empty()) return 0;
    const auto rank = static_cast<std::size_t>(q * static_cast<double>(lateness_.size() - 1));
    std::nth_element(lateness_.begin(), lateness_.begin() + rank, lateness_.end());
    return lateness_[rank];
  }

 private:
  std::vector<Ticks> deadlines_;
  std::vector<Ticks> lateness_;
};

// The name of a tapstack queue in results: its TimerQueueKind name, with '_' only (the results'
// names are parsed as workload/implementation/pending).
template <typename Queue>
inline constexpr std::string_view kQueueName = Queue::kName;
template <>
inline constexpr std::string_view kQueueName<timers::TimerWheel> = "wheel";

// A tapstack timer queue through its tick interface (Schedule/ScheduleAfter add the conversion
// from std::chrono time points on top; the tick interface is what they end in): the wheel, the
// hashed wheel and the non-cascading wheel.
template <typename Queue>
class TickQueueDriver {
 public:
  static constexpr std::string_view kName = kQueueName<Queue>;
  static constexpr bool kVirtualClock = true;
  static std::size_t BytesPerTimer() { return sizeof(timers::Timer); }
  // Memory the queue holds besides the timers (the hierarchical wheel's slot arrays).
  std::size_t slot_bytes() const requires requires(const Queue& queue) { queue.slot_bytes(); }
  { return queue_.slot_bytes(); }

  explicit TickQueueDriver(std::size_t connections)
      : queue_(timers::TimePoint{}),
        connections_(new Connection[connections]),
        connection_count_(connections) {
    active_ = this;
  }
  ~TickQueueDriver() {
    // Cancel before the timers are destroyed: a Timer destroyed while pending walks its slot's
    // list to keep the queue's pending count right, which for a million timers in a few slots is
    // quadratic (timers/timer.h). Cancel is O(1).
    for (std::size_t c = 0; c < connection_count_; ++c) queue_.Cancel(connections_[c].timer);
    active_ = nullptr;
  }
  TickQueueDriver(const TickQueueDriver&) = delete;
  TickQueueDriver& operator=(const TickQueueDriver&) = delete;

  void ArmIdle(std::size_t c) { ArmIn(c, kKeepaliveIdleTicks); }
  void ArmBackground(std::size_t c, Ticks offset) { ArmIn(c, kKeepaliveIdleTicks / 2 + offset); }
  void ArmDueNow(std::size_t c) { ArmIn(c, 0); }
  void ArmIn(std::size_t c, Ticks ticks) {
    queue_.ScheduleTick(connections_[c].timer, queue_.now_tick() + ticks);
  }
  Ticks now_tick() const { return queue_.now_tick(); }
  void Cancel(std::size_t c) { queue_.Cancel(connections_[c].timer); }
  void Tick() { AdvanceTicks(1); }
  void AdvanceTicks(Ticks ticks) { queue_.AdvanceToTick(queue_.now_tick() + ticks); }
  std::uint64_t NextDeadline() const { return queue_.NextDeadlineTick().value_or(kNoDeadline); }
  // What an event loop does when it sleeps until the queue has work. False when nothing is pending.
  bool AdvanceToNextDeadline() {
    const std::optional<timers::Tick> next = queue_.NextDeadlineTick();
    if (next) queue_.AdvanceToTick(*next);
    return next.has_value();
  }

  std::uint64_t fired() const { return queue_.stats().fired; }
  std::uint64_t cascaded() const { return queue_.stats().cascaded; }
  void set_rearm_on_fire(bool rearm) { rearm_on_fire_ = rearm; }
  void set_lateness_log(LatenessLog* log) { lateness_log_ = log; }

 private:
  struct Connection {
    timers::Timer timer{&OnFire};
  };

  static void OnFire(timers::Timer& timer) {
    TickQueueDriver& self = *active_;
    if (self.lateness_log_ != nullptr) {
      const Connection& connection = timers::OwnerOf<&Connection::timer>(timer);
      self.lateness_log_->Fired(static_cast<std::size_t>(&connection - self.connections_.get()),
                                self.queue_.now_tick());
    }
    if (self.rearm_on_fire_) {
      self.queue_.ScheduleTick(timer, self.queue_.now_tick() + kKeepaliveIdleTicks);
    }
  }

  static inline TickQueueDriver* active_ = nullptr;
  // Declared before the connections so that it outlives them: a destroyed pending Timer unlinks
  // itself from the queue's lists.
  Queue queue_;
  std::unique_ptr<Connection[]> connections_;
  std::size_t connection_count_;
  bool rearm_on_fire_ = false;
  LatenessLog* lateness_log_ = nullptr;
};

using WheelDriver = TickQueueDriver<timers::TimerWheel>;
using HashedWheelDriver = TickQueueDriver<timers::HashedTimerWheel>;
using LinuxWheelDriver = TickQueueDriver<timers::NonCascadingTimerWheel>;

// The indexed binary heap of bench/indexed_heap.h, with the same integer ticks as the wheel.
class HeapDriver {
 public:
  static constexpr std::string_view kName = "heap";
  static constexpr bool kVirtualClock = true;
  static std::size_t BytesPerTimer() { return sizeof(HeapTimer) + sizeof(IndexedTimerHeap::Slot); }

  explicit HeapDriver(std::size_t connections) : connections_(new Connection[connections]) {
    heap_.Reserve(connections);
    active_ = this;
  }
  ~HeapDriver() { active_ = nullptr; }
  HeapDriver(const HeapDriver&) = delete;
  HeapDriver& operator=(const HeapDriver&) = delete;

  void ArmIdle(std::size_t c) { ArmIn(c, kKeepaliveIdleTicks); }
  void ArmBackground(std::size_t c, Ticks offset) { ArmIn(c, kKeepaliveIdleTicks / 2 + offset); }
  void ArmDueNow(std::size_t c) { ArmIn(c, 0); }
  void ArmIn(std::size_t c, Ticks ticks) {
    heap_.Schedule(connections_[c].timer, heap_.now() + ticks);
  }
  Ticks now_tick() const { return heap_.now(); }
  void Cancel(std::size_t c) { heap_.Cancel(connections_[c].timer); }
  void Tick() { AdvanceTicks(1); }
  void AdvanceTicks(Ticks ticks) { fired_ += heap_.Advance(heap_.now() + ticks); }
  std::uint64_t NextDeadline() const { return heap_.NextDeadline().value_or(kNoDeadline); }

  std::uint64_t fired() const { return fired_; }
  void set_rearm_on_fire(bool rearm) { rearm_on_fire_ = rearm; }
  void set_lateness_log(LatenessLog* log) { lateness_log_ = log; }

 private:
  struct Connection {
    HeapTimer timer{&OnFire};
  };

  static void OnFire(HeapTimer& timer) {
    HeapDriver& self = *active_;
    if (self.lateness_log_ != nullptr) {
      // The timer is the connection's only member, so it sits at the connection's address.
      const auto* connection = reinterpret_cast<const Connection*>(&timer);
      self.lateness_log_->Fired(static_cast<std::size_t>(connection - self.connections_.get()),
                                self.heap_.now());
    }
    if (self.rearm_on_fire_) self.heap_.Schedule(timer, self.heap_.now() + kKeepaliveIdleTicks);
  }

  static inline HeapDriver* active_ = nullptr;
  std::unique_ptr<Connection[]> connections_;
  IndexedTimerHeap heap_;  // never touches its timers when destroyed
  std::uint64_t fired_ = 0;
  bool rearm_on_fire_ = false;
  LatenessLog* lateness_log_ = nullptr;
};

// libevent 2.1 timer events on an event_base. Two variants share this code:
//  - heap (kCommon false): every event_add with a timeout goes into libevent's binary min-heap of
//    struct event pointers;
//  - common timeouts (kCommon true): event_base_init_common_timeout() gives a duration its own
//    FIFO queue, an O(1) linked list that sits in the heap as one entry. It only works when every
//    timer of the queue has the same duration, so in this variant ArmBackground and ArmIn ignore
//    their offsets: the pending population all uses the idle duration, fill-then-fire-all one 1 ms
//    duration.
// libevent reads CLOCK_MONOTONIC (the coarse variant by default on Linux) on each event_add made
// outside its loop; time cannot be set, so Tick() is one non-blocking pass of the loop.
template <bool kCommon>
class LibeventDriver {
 public:
  static constexpr std::string_view kName = kCommon ? "libevent_common" : "libevent";
  static constexpr bool kVirtualClock = false;
  static std::size_t BytesPerTimer() { return event_get_struct_event_size(); }

  explicit LibeventDriver(std::size_t connections)
      : connections_(new Connection[connections]), base_(event_base_new()) {
    if (base_ == nullptr) throw std::runtime_error("event_base_new failed");
    const timeval idle = Timeval(kKeepaliveIdleTicks);
    const timeval fire_all = Timeval(1);
    idle_ = kCommon ? *event_base_init_common_timeout(base_, &idle) : idle;
    fire_all_ = kCommon ? *event_base_init_common_timeout(base_, &fire_all) : fire_all;
    for (std::size_t c = 0; c < connections; ++c) {
      event_assign(&connections_[c].timeout_event, base_, -1, 0, &OnFire, &connections_[c]);
    }
    active_ = this;
  }
  ~LibeventDriver() {
    active_ = nullptr;
    event_base_free(base_);  // deletes the pending events, which still live in connections_
  }
  LibeventDriver(const LibeventDriver&) = delete;
  LibeventDriver& operator=(const LibeventDriver&) = delete;

  void ArmIdle(std::size_t c) { event_add(&connections_[c].timeout_event, &idle_); }
  void ArmBackground(std::size_t c, Ticks offset) {
    if constexpr (kCommon) {
      ArmIdle(c);
    } else {
      const timeval timeout = Timeval(kKeepaliveIdleTicks / 2 + offset);
      event_add(&connections_[c].timeout_event, &timeout);
    }
  }
  void ArmDueNow(std::size_t c) {
    const timeval zero{};
    event_add(&connections_[c].timeout_event, &zero);
  }
  void ArmIn(std::size_t c, Ticks ticks) {
    if constexpr (kCommon) {
      event_add(&connections_[c].timeout_event, &fire_all_);
    } else {
      const timeval timeout = Timeval(ticks);
      event_add(&connections_[c].timeout_event, &timeout);
    }
  }
  void Cancel(std::size_t c) { event_del(&connections_[c].timeout_event); }
  void Tick() { event_base_loop(base_, EVLOOP_NONBLOCK | EVLOOP_ONCE); }

  std::uint64_t fired() const { return fired_; }
  void set_rearm_on_fire(bool rearm) { rearm_on_fire_ = rearm; }

 private:
  struct Connection {
    event timeout_event;
  };

  static timeval Timeval(Ticks milliseconds) {
    return timeval{static_cast<time_t>(milliseconds / 1000),
                   static_cast<suseconds_t>(milliseconds % 1000 * 1000)};
  }

  static void OnFire(evutil_socket_t /*fd*/, short /*what*/, void* arg) {
    LibeventDriver& self = *active_;
    ++self.fired_;
    if (self.rearm_on_fire_) event_add(&static_cast<Connection*>(arg)->timeout_event, &self.idle_);
  }

  static inline LibeventDriver* active_ = nullptr;
  std::unique_ptr<Connection[]> connections_;
  event_base* base_;
  timeval idle_;      // for kCommon, the magic value naming the idle queue
  timeval fire_all_;  // likewise for the 1 ms queue
  std::uint64_t fired_ = 0;
  bool rearm_on_fire_ = false;
};

// libuv 1.44 timers: a binary min-heap linked through nodes inside each uv_timer_t. The loop caches
// the time in milliseconds and refreshes it from the monotonic clock in uv_run; deadlines are that
// cached time plus the timeout. Tick() is uv_run(UV_RUN_NOWAIT): refresh, fire, poll without
// waiting.
class LibuvDriver {
 public:
  static constexpr std::string_view kName = "libuv";
  static constexpr bool kVirtualClock = false;
  static std::size_t BytesPerTimer() { return sizeof(uv_timer_t); }

  explicit LibuvDriver(std::size_t connections)
      : connections_count_(connections), connections_(new Connection[connections]) {
    if (uv_loop_init(&loop_) != 0) throw std::runtime_error("uv_loop_init failed");
    for (std::size_t c = 0; c < connections; ++c) uv_timer_init(&loop_, &connections_[c].timer);
    active_ = this;
  }
  ~LibuvDriver() {
    active_ = nullptr;
    // A loop closes only when all its handles are closed; closing stops the pending timers.
    for (std::size_t c = 0; c < connections_count_; ++c) {
      uv_close(reinterpret_cast<uv_handle_t*>(&connections_[c].timer), nullptr);
    }
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }
  LibuvDriver(const LibuvDriver&) = delete;
  LibuvDriver& operator=(const LibuvDriver&) = delete;

  void ArmIdle(std::size_t c) { ArmIn(c, kKeepaliveIdleTicks); }
  void ArmBackground(std::size_t c, Ticks offset) { ArmIn(c, kKeepaliveIdleTicks / 2 + offset); }
  void ArmDueNow(std::size_t c) { ArmIn(c, 0); }
  void ArmIn(std::size_t c, Ticks ticks) {
    uv_timer_start(&connections_[c].timer, &OnFire, ticks, 0);
  }
  void Cancel(std::size_t c) { uv_timer_stop(&connections_[c].timer); }
  void Tick() { uv_run(&loop_, UV_RUN_NOWAIT); }
  // Milliseconds until the earliest timer, from the heap's root (-1 when none is pending).
  std::uint64_t NextDeadline() const {
    return static_cast<std::uint64_t>(uv_backend_timeout(&loop_));
  }

  std::uint64_t fired() const { return fired_; }
  void set_rearm_on_fire(bool rearm) { rearm_on_fire_ = rearm; }

 private:
  struct Connection {
    uv_timer_t timer;
  };

  static void OnFire(uv_timer_t* timer) {
    LibuvDriver& self = *active_;
    ++self.fired_;
    if (self.rearm_on_fire_) uv_timer_start(timer, &OnFire, kKeepaliveIdleTicks, 0);
  }

  static inline LibuvDriver* active_ = nullptr;
  std::size_t connections_count_;
  std::unique_ptr<Connection[]> connections_;
  uv_loop_t loop_;
  std::uint64_t fired_ = 0;
  bool rearm_on_fire_ = false;
};

}  // namespace tapstack::bench

#endif  // TAPSTACK_BENCH_TIMER_DRIVERS_H_
