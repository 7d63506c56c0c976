// The sweep and the hashed wheel must fire exactly what the heap fires, at the same ticks and in
// the same order, for the same calls: a long random workload (callbacks mutating the queue
// included) is run on each and their firing logs compared. The hierarchical wheel promises exact
// ticks but not the order within a tick, so its callbacks would see another order and the runs
// would part ways; it is checked against the reference model in timer_wheel_property_test.cc. The
// non-cascading wheel is not exact and has its own bounded-lateness test
// (non_cascading_timer_wheel_test.cc).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "timers/timer_queue.h"

namespace tapstack::timers {
namespace {

using std::chrono::milliseconds;

struct Fired {
  int id;
  std::int64_t at_ms;
  friend bool operator==(const Fired&, const Fired&) = default;
};

class Workload;

struct Owner {
  int id = 0;
  Workload* workload = nullptr;
  Timer timer{&Owner::OnFire};
  static void OnFire(Timer& timer);
};

class Workload {
 public:
  Workload(TimerQueueKind kind, std::uint64_t seed, int timers)
      : queue_(MakeTimerQueue(kind, TimePoint{})), rng_(seed), owners_(timers) {
    for (int i = 0; i < timers; ++i) {
      owners_[i].id = i;
      owners_[i].workload = this;
    }
  }
  ~Workload() {
    for (Owner& owner : owners_) queue_->Cancel(owner.timer);  // heap: cancel before destroying
  }

  std::vector<Fired> Run(int operations) {
    for (int op = 0; op < operations; ++op) {
      const int choice = Uniform(0, 99);
      if (choice < 45) {
        Schedule(RandomId(), RandomDelay());
      } else if (choice < 60) {
        queue_->Cancel(owners_[RandomId()].timer);
      } else if (choice < 70) {
        // Sub-tick deadlines: rounding must agree too.
        queue_->Schedule(owners_[RandomId()].timer,
                         queue_->now() + std::chrono::microseconds(Uniform(0, 5000)));
      } else {
        const std::int64_t jump = Uniform(0, 19) == 0 ? Uniform(0, 1'000'000) : Uniform(0, 300);
        queue_->Advance(queue_->now() + milliseconds(jump) +
                        std::chrono::microseconds(Uniform(0, 999)));
        // NextDeadline never after the earliest deadline: advancing to it must not skip work.
        if (const auto next = queue_->NextDeadline()) {
          EXPECT_GE(*next, queue_->now());
        }
      }
      if (op % 256 == 0) {
        EXPECT_EQ(queue_->pending_count(), ScheduledOwners()) << "op " << op;
      }
    }
    while (const auto next = queue_->NextDeadline()) queue_->Advance(*next);
    EXPECT_EQ(queue_->pending_count(), 0u);
    return log_;
  }

  void OnFire(Owner& owner) {
    log_.push_back(Fired{owner.id, (queue_->now() - TimePoint{}) / milliseconds(1)});
    const int choice = Uniform(0, 99);
    if (choice < 20) {
      Schedule(owner.id, Uniform(0, 300));  // re-arm, sometimes for "now"
    } else if (choice < 30) {
      queue_->Cancel(owners_[RandomId()].timer);
    } else if (choice < 40) {
      Schedule(RandomId(), Uniform(0, 5000));
    }
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  int RandomId() { return Uniform(0, static_cast<int>(owners_.size()) - 1); }
  std::size_t ScheduledOwners() const {
    std::size_t scheduled = 0;
    for (const Owner& owner : owners_) scheduled += owner.timer.is_scheduled() ? 1 : 0;
    return scheduled;
  }
  std::int64_t RandomDelay() {
    switch (Uniform(0, 9)) {
      case 0:
        return -Uniform(0, 100);  // in the past
      case 1:
        return 0;
      case 2:
        return Uniform(0, 1 << 30);
      default:
        return Uniform(1, 5000);
    }
  }
  void Schedule(int id, std::int64_t delay_ms) {
    queue_->Schedule(owners_[id].timer, queue_->now() + milliseconds(delay_ms));
  }

  std::unique_ptr<TimerQueue> queue_;
  std::mt19937_64 rng_;
  std::vector<Owner> owners_;
  std::vector<Fired> log_;
};

void Owner::OnFire(Timer& timer) {
  Owner& self = OwnerOf<&Owner::timer>(timer);
  self.workload->OnFire(self);
}

class TimerQueueEquivalenceTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(TimerQueueEquivalenceTest, OrderedExactQueuesFireExactlyWhatTheHeapFires) {
  constexpr int kOperations = 100'000;
  constexpr int kTimers = 500;
  const std::vector<Fired> heap =
      Workload(TimerQueueKind::kHeap, GetParam(), kTimers).Run(kOperations);
  ASSERT_GT(heap.size(), 10'000u);
  for (TimerQueueKind kind : {TimerQueueKind::kSweep, TimerQueueKind::kHashedWheel}) {
    const std::vector<Fired> other = Workload(kind, GetParam(), kTimers).Run(kOperations);
    ASSERT_EQ(other.size(), heap.size()) << TimerQueueKindName(kind);
    for (std::size_t i = 0; i < heap.size(); ++i) {
      ASSERT_EQ(other[i], heap[i]) << TimerQueueKindName(kind) << " diverges at firing " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, TimerQueueEquivalenceTest, ::testing::Values(1, 2, 3));

TEST(TimerQueueKindTest, NamesRoundTrip) {
  for (TimerQueueKind kind : kTimerQueueKinds) {
    EXPECT_EQ(ParseTimerQueueKind(TimerQueueKindName(kind)), kind);
  }
  EXPECT_EQ(ParseTimerQueueKind("calendar"), std::nullopt);
  EXPECT_EQ(TimerQueueKindNames(), "wheel, heap, sweep, hashed_wheel, linux_wheel");
}

}  // namespace
}  // namespace tapstack::timers
