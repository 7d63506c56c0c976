// Reference-model property test: long random sequences of schedule, cancel, reschedule and advance
// (small steps and huge jumps, with callbacks that mutate the wheel) must fire exactly the timers a
// simple ordered-map model fires, at the same ticks, in the same order.
//
// Seeds are fixed so failures reproduce; TAPSTACK_PROPERTY_SEED and TAPSTACK_PROPERTY_OPS in the
// environment run other seeds and longer sequences locally.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <list>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "timers/timer_wheel.h"

namespace tapstack::timers {
namespace {

// The model: pending timers keyed by (deadline tick, scheduling sequence number); timers scheduled
// at or before "now" wait on a due list for the start of the next advance.
class Model {
 public:
  using Key = std::pair<Tick, std::uint64_t>;

  void Schedule(int id, Tick deadline) {
    Cancel(id);
    if (deadline <= now_) {
      where_[id] = Where{Place::kDue, {}, due_.insert(due_.end(), id)};
    } else {
      const Key key{deadline, next_seq_++};
      pending_[key] = id;
      where_[id] = Where{Place::kPending, key, {}};
    }
  }

  void Cancel(int id) {
    auto it = where_.find(id);
    if (it == where_.end()) return;
    switch (it->second.place) {
      case Place::kPending: pending_.erase(it->second.key); break;
      case Place::kDue: due_.erase(it->second.due_pos); break;
      case Place::kFiring: firing_.erase(it->second.due_pos); break;
    }
    where_.erase(it);
  }

  bool IsScheduled(int id) const { return where_.contains(id); }
  std::size_t pending() const { return where_.size(); }

  void BeginAdvance(Tick target) {
    target_ = std::max(target, now_);
    firing_.splice(firing_.end(), due_);
    for (auto pos = firing_.begin(); pos != firing_.end(); ++pos) {
      where_[*pos] = Where{Place::kFiring, {}, pos};
    }
  }

  // The timer that must fire next in this advance and the tick it fires at, removed from the model.
  std::optional<std::pair<int, Tick>> PopNext() {
    if (!firing_.empty()) {
      const int id = firing_.front();
      Cancel(id);
      return std::make_pair(id, now_);
    }
    if (pending_.empty() || pending_.begin()->first.first > target_) return std::nullopt;
    const auto [key, id] = *pending_.begin();
    now_ = key.first;
    Cancel(id);
    return std::make_pair(id, now_);
  }

  void EndAdvance() { now_ = target_; }
  Tick now() const { return now_; }

 private:
  enum class Place { kPending, kDue, kFiring };
  struct Where {
    Place place;
    Key key;
    std::list<int>::iterator due_pos;
  };

  Tick now_ = 0;
  Tick target_ = 0;
  std::uint64_t next_seq_ = 0;
  std::map<Key, int> pending_;
  std::list<int> due_;
  std::list<int> firing_;
  std::map<int, Where> where_;
};

class PropertyRun;

struct Owner {
  int id = 0;
  PropertyRun* run = nullptr;
  Timer timer{&Owner::OnFire};
  static void OnFire(Timer& timer);
};

class PropertyRun {
 public:
  PropertyRun(std::uint64_t seed, int timer_count) : rng_(seed), owners_(timer_count) {
    for (int i = 0; i < timer_count; ++i) {
      owners_[i].id = i;
      owners_[i].run = this;
    }
  }

  void Run(int operations) {
    for (int op = 0; op < operations && !::testing::Test::HasFatalFailure(); ++op) {
      const int choice = Uniform(0, 99);
      if (choice < 45) {
        Schedule(RandomId(), RandomDeadline());
      } else if (choice < 60) {
        Cancel(RandomId());
      } else if (choice < 75) {
        // Reschedule a pending timer (the keepalive re-arm pattern).
        const int id = RandomId();
        if (model_.IsScheduled(id)) Schedule(id, RandomDeadline());
      } else {
        Advance(RandomAdvanceTarget());
      }
      ASSERT_EQ(wheel_.now_tick(), model_.now());
      ASSERT_EQ(wheel_.pending_count(), model_.pending());
    }
    // Drain: everything still pending must fire exactly as the model says.
    Advance(std::numeric_limits<Tick>::max());
    Advance(std::numeric_limits<Tick>::max());
    ASSERT_TRUE(wheel_.empty());
    ASSERT_EQ(wheel_.pending_count(), 0u);
  }

  void OnFire(Owner& owner) {
    const std::optional<std::pair<int, Tick>> expected = model_.PopNext();
    ASSERT_TRUE(expected.has_value()) << "wheel fired timer " << owner.id << " at tick "
                                      << wheel_.now_tick() << "; the model fires nothing";
    ASSERT_EQ(owner.id, expected->first) << "at tick " << wheel_.now_tick();
    ASSERT_EQ(wheel_.now_tick(), expected->second) << "timer " << owner.id;
    ++fired_;
    // Callbacks mutate the wheel too: re-arm self (sometimes for "now"), or touch another timer.
    const int choice = Uniform(0, 99);
    if (choice < 20) {
      Schedule(owner.id, wheel_.now_tick() + static_cast<Tick>(Uniform(0, 300)));
    } else if (choice < 30) {
      Cancel(RandomId());
    } else if (choice < 40) {
      Schedule(RandomId(), wheel_.now_tick() + static_cast<Tick>(Uniform(0, 5000)));
    }
  }

  std::uint64_t fired() const { return fired_; }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  int RandomId() { return Uniform(0, static_cast<int>(owners_.size()) - 1); }

  Tick RandomDeadline() {
    const Tick now = wheel_.now_tick();
    switch (Uniform(0, 9)) {
      case 0: return now > 0 ? now - static_cast<Tick>(Uniform(0, 100)) % (now + 1) : 0;  // past
      case 1: return now;
      case 2: return now + std::uniform_int_distribution<Tick>(0, Tick{1} << 40)(rng_);  // huge
      case 3: return now + std::uniform_int_distribution<Tick>(0, 1 << 22)(rng_);
      default: return now + static_cast<Tick>(Uniform(1, 5000));
    }
  }

  Tick RandomAdvanceTarget() {
    const Tick now = wheel_.now_tick();
    switch (Uniform(0, 19)) {
      case 0: return now + std::uniform_int_distribution<Tick>(0, Tick{1} << 41)(rng_);  // huge
      case 1: return now > 10 ? now - 10 : 0;  // backwards: treated as now
      case 2: return now + std::uniform_int_distribution<Tick>(0, 1 << 23)(rng_);
      default: return now + static_cast<Tick>(Uniform(0, 200));
    }
  }

  void Schedule(int id, Tick deadline) {
    model_.Schedule(id, deadline);
    wheel_.ScheduleTick(owners_[id].timer, deadline);
  }

  void Cancel(int id) {
    model_.Cancel(id);
    wheel_.Cancel(owners_[id].timer);
  }

  void Advance(Tick target) {
    model_.BeginAdvance(target);
    const std::uint64_t before = fired_;
    const std::size_t reported = wheel_.AdvanceToTick(target);
    if (::testing::Test::HasFatalFailure()) return;
    ASSERT_EQ(reported, fired_ - before);
    ASSERT_FALSE(model_.PopNext().has_value()) << "the model still had a timer due at this advance";
    model_.EndAdvance();
  }

  std::mt19937_64 rng_;
  Model model_;
  TimerWheel wheel_{TimePoint{}};
  std::vector<Owner> owners_;
  std::uint64_t fired_ = 0;
};

void Owner::OnFire(Timer& timer) {
  Owner& self = OwnerOf<&Owner::timer>(timer);
  self.run->OnFire(self);
}

std::uint64_t EnvOr(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtoull(value, nullptr, 10) : fallback;
}

class TimerWheelPropertyTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(TimerWheelPropertyTest, MatchesTheOrderedMapModel) {
  const int operations = static_cast<int>(EnvOr("TAPSTACK_PROPERTY_OPS", 1'000'000));
  PropertyRun run(GetParam(), /*timer_count=*/2000);
  run.Run(operations);
  EXPECT_GT(run.fired(), static_cast<std::uint64_t>(operations) / 10);
}

INSTANTIATE_TEST_SUITE_P(FixedSeeds, TimerWheelPropertyTest,
                         ::testing::Values(1, 2, 3, EnvOr("TAPSTACK_PROPERTY_SEED", 20261126)));

}  // namespace
}  // namespace tapstack::timers
