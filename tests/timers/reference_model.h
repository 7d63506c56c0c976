// The reference model of the exact timer queues: pending timers keyed by (deadline tick,
// scheduling sequence number); timers scheduled at or before "now" wait on a due list for the
// start of the next advance. It fires what the exact queues promise: every timer at its exact tick,
// the due list first. PopNext also keeps the timers of one tick in scheduling order, as the heap,
// the sweep and the hashed wheel do; PopIfDueAtEarliestTick accepts any order within a tick, which
// is what TimerWheel promises (timer_wheel.h).
#ifndef TAPSTACK_TESTS_TIMERS_REFERENCE_MODEL_H_
#define TAPSTACK_TESTS_TIMERS_REFERENCE_MODEL_H_

#include <algorithm>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <utility>

#include "timers/timer.h"

namespace tapstack::timers::testing {

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
      case Place::kPending:
        pending_.erase(it->second.key);
        break;
      case Place::kDue:
        due_.erase(it->second.due_pos);
        break;
      case Place::kFiring:
        firing_.erase(it->second.due_pos);
        break;
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

  // Removes `id` if it may fire next in this advance when the order within a tick is free: it is
  // at the front of the due list, or (the due list done) pending at the earliest tick still to
  // fire. Returns the tick it fires at, or nullopt if it may not fire now.
  std::optional<Tick> PopIfDueAtEarliestTick(int id) {
    if (!firing_.empty()) {
      if (firing_.front() != id) return std::nullopt;
      Cancel(id);
      return now_;
    }
    if (pending_.empty()) return std::nullopt;
    const Tick earliest = pending_.begin()->first.first;
    const auto it = where_.find(id);
    if (earliest > target_ || it == where_.end() || it->second.place != Place::kPending ||
        it->second.key.first != earliest) {
      return std::nullopt;
    }
    now_ = earliest;
    Cancel(id);
    return now_;
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

}  // namespace tapstack::timers::testing

#endif  // TAPSTACK_TESTS_TIMERS_REFERENCE_MODEL_H_
