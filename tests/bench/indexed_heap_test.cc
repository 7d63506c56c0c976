// The indexed heap is only a benchmark baseline, but a baseline that skipped work would flatter
// nobody honestly: random schedule, reschedule, cancel and advance sequences must fire exactly the
// timers a map of deadlines says are due, earliest first.
#include "bench/indexed_heap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

namespace tapstack::bench {
namespace {

struct Owner {
  HeapTimer timer{&OnFire};
  int id = 0;
  HeapTick deadline = 0;

  static void OnFire(HeapTimer& timer);
};

std::vector<const Owner*>* fired_log = nullptr;

void Owner::OnFire(HeapTimer& timer) {
  // The timer is the first member, so the owner starts at the timer's address.
  fired_log->push_back(reinterpret_cast<const Owner*>(&timer));
}

TEST(IndexedTimerHeapTest, MatchesAMapOfDeadlinesUnderRandomOperations) {
  constexpr int kTimers = 300;
  std::mt19937_64 random(20240611);
  auto owners = std::make_unique<Owner[]>(kTimers);
  for (int i = 0; i < kTimers; ++i) owners[i].id = i;
  std::map<int, HeapTick> pending;  // the model: id -> deadline
  std::vector<const Owner*> fired;
  fired_log = &fired;
  IndexedTimerHeap heap;

  for (int step = 0; step < 50'000; ++step) {
    Owner& owner = owners[random() % kTimers];
    switch (random() % 4) {
      case 0:
      case 1: {  // schedule or reschedule, earlier or later than before
        owner.deadline = heap.now() + 1 + random() % 200;
        heap.Schedule(owner.timer, owner.deadline);
        pending[owner.id] = owner.deadline;
        break;
      }
      case 2:
        heap.Cancel(owner.timer);
        pending.erase(owner.id);
        break;
      case 3: {
        const HeapTick target = heap.now() + random() % 20;
        fired.clear();
        heap.Advance(target);
        std::size_t expected = 0;
        for (auto it = pending.begin(); it != pending.end();) {
          if (it->second <= target) {
            ++expected;
            it = pending.erase(it);
          } else {
            ++it;
          }
        }
        ASSERT_EQ(fired.size(), expected) << "step " << step;
        for (std::size_t i = 0; i < fired.size(); ++i) {
          EXPECT_LE(fired[i]->deadline, target);
          EXPECT_FALSE(fired[i]->timer.is_scheduled());
          if (i > 0) {
            EXPECT_LE(fired[i - 1]->deadline, fired[i]->deadline) << "not earliest first";
          }
        }
        break;
      }
    }
    ASSERT_EQ(heap.size(), pending.size()) << "step " << step;
    ASSERT_EQ(owner.timer.is_scheduled(), pending.contains(owner.id));
    if (!pending.empty()) {
      HeapTick earliest = pending.begin()->second;
      for (const auto& [id, deadline] : pending) earliest = std::min(earliest, deadline);
      ASSERT_EQ(heap.NextDeadline(), earliest);
    } else {
      ASSERT_FALSE(heap.NextDeadline().has_value());
    }
  }
  for (int i = 0; i < kTimers; ++i) heap.Cancel(owners[i].timer);
  fired_log = nullptr;
}

}  // namespace
}  // namespace tapstack::bench
