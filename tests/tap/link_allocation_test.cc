// The in-memory links recycle their frame storage: once warmed up, a steady flow of frames through
// a MemoryLink, or through a FaultyLink that loses, duplicates, corrupts, delays and reorders them,
// makes no call to operator new at all. This binary links tests/support/heap_counter.cc, which
// replaces the global operator new to count the calls. The event loop's burst path is held to the
// same rule: a wakeup that drains a device allocates nothing.
//
// Nothing inside a measured stretch asserts (a failed assertion builds a message): mismatches are
// counted and checked afterwards.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tap/clock.h"
#include "tap/event_loop.h"
#include "tap/faulty_link.h"
#include "tap/memory_link.h"
#include "tests/support/heap_counter.h"
#include "tests/tap/test_frames.h"

namespace tapstack::tap {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using test_frames::MakeFrame;
using test_frames::SeqOf;
using testing::CurrentHeapUsage;
using testing::HeapCountingActive;

const timers::TimePoint kT0 = timers::TimePoint{} + std::chrono::hours(1);

// Frames of every size from a minimal one to a full 1514-byte frame, made before any measuring.
std::vector<std::vector<std::uint8_t>> Frames(std::size_t count) {
  std::vector<std::vector<std::uint8_t>> frames;
  frames.reserve(count);
  for (std::size_t i = 0; i < count; ++i) frames.push_back(MakeFrame(i, 60 + (i * 97) % 1455));
  return frames;
}

struct Flow {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::uint64_t out_of_order = 0;  // a sequence number not above the one before
  std::uint64_t last_seq = 0;
};

// Sends `count` frames on `sender`, `per_step` at a time, 250 µs apart, and receives everything
// ready on `receiver` after each step.
void RunFlow(Device& sender, Device& receiver, const std::vector<std::vector<std::uint8_t>>& frames,
             std::size_t count, std::size_t per_step, timers::TimePoint& now,
             std::vector<std::uint8_t>& buffer, Flow& flow) {
  std::size_t next = 0;
  while (next < count) {
    for (std::size_t i = 0; i < per_step && next < count; ++i, ++next) {
      (void)sender.Send(frames[next % frames.size()], now);
      ++flow.sent;
    }
    now += microseconds(250);
    (void)sender.Receive(buffer, now);  // a FaultyLink releases what is due here
    while (true) {
      const Result<std::size_t> n = receiver.Receive(buffer, now);
      if (!n.ok() || *n == 0) break;
      const std::uint64_t seq = SeqOf(std::span(buffer.data(), *n));
      if (flow.received > 0 && seq <= flow.last_seq) ++flow.out_of_order;
      flow.last_seq = seq;
      ++flow.received;
    }
  }
}

TEST(LinkAllocationTest, MemoryLinkAllocatesNothingAfterWarmUp) {
  ASSERT_TRUE(HeapCountingActive()) << "this binary must link tests/support/heap_counter.cc";
  const std::vector<std::vector<std::uint8_t>> frames = Frames(1000);
  auto [a, b] = MemoryLink::CreatePair(1500, 256);
  std::vector<std::uint8_t> buffer(MaxFrameSize(1500));
  timers::TimePoint now = kT0;
  Flow warm_up;
  RunFlow(*a, *b, frames, 2000, 64, now, buffer, warm_up);

  Flow flow;
  const std::uint64_t before = CurrentHeapUsage().allocations;
  RunFlow(*a, *b, frames, 10'000, 64, now, buffer, flow);
  const std::uint64_t allocations = CurrentHeapUsage().allocations - before;

  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(flow.received, 10'000u);
  EXPECT_EQ(flow.out_of_order, 9u) << "only where the sequence numbers wrap at 1000";
  EXPECT_EQ(a->stats().tx_dropped(), 0u);
}

TEST(LinkAllocationTest, FaultyLinkAllocatesNothingAfterWarmUp) {
  ASSERT_TRUE(HeapCountingActive()) << "this binary must link tests/support/heap_counter.cc";
  const std::vector<std::vector<std::uint8_t>> frames = Frames(1000);
  auto [a, b] = MemoryLink::CreatePair(1500, 1024);
  FaultyLink faulty(std::move(a), FaultOptions{.seed = 7,
                                               .loss = 0.05,
                                               .duplicate = 0.05,
                                               .reorder = 0.1,
                                               .corrupt = 0.02,
                                               .min_delay = milliseconds(0),
                                               .max_delay = milliseconds(5),
                                               .reorder_timeout = milliseconds(2)});
  std::vector<std::uint8_t> buffer(MaxFrameSize(1500));
  timers::TimePoint now = kT0;
  // Warm-up means reaching the most frames ever in flight at once (queued, held, duplicated):
  // the faults are random, so that takes a long run. The seed makes it the same run every time.
  Flow warm_up;
  RunFlow(faulty, *b, frames, 100'000, 8, now, buffer, warm_up);

  Flow flow;
  const FaultStats stats_before = faulty.fault_stats();
  const std::uint64_t before = CurrentHeapUsage().allocations;
  RunFlow(faulty, *b, frames, 10'000, 8, now, buffer, flow);
  const std::uint64_t allocations = CurrentHeapUsage().allocations - before;
  const FaultStats& stats = faulty.fault_stats();

  EXPECT_EQ(allocations, 0u);
  // Every fault really happened during the measured stretch.
  EXPECT_GT(stats.lost, stats_before.lost);
  EXPECT_GT(stats.duplicated, stats_before.duplicated);
  EXPECT_GT(stats.reordered, stats_before.reordered);
  EXPECT_GT(stats.corrupted, stats_before.corrupted);
  EXPECT_GT(stats.delayed, stats_before.delayed);
  EXPECT_GT(flow.out_of_order, 9u);
  EXPECT_GT(flow.received, 9'000u);
}

TEST(LinkAllocationTest, EventLoopBurstWakeupsAllocateNothing) {
  ASSERT_TRUE(HeapCountingActive()) << "this binary must link tests/support/heap_counter.cc";
  const std::vector<std::vector<std::uint8_t>> frames = Frames(100);
  VirtualClock clock(kT0);
  EventLoop loop(clock);
  auto [a, b] = MemoryLink::CreatePair(1500, 256);
  std::uint64_t delivered = 0;
  std::uint64_t largest_burst = 0;
  ASSERT_FALSE(loop.AttachDeviceBursts(
      *b, [&](std::span<const std::span<const std::uint8_t>> burst, timers::TimePoint, auto) {
        delivered += burst.size();
        largest_burst = std::max<std::uint64_t>(largest_burst, burst.size());
      }));
  // Each wakeup finds 100 frames ready: two bursts, 64 and 36.
  auto wakeups = [&](int count) {
    for (int i = 0; i < count; ++i) {
      for (const std::vector<std::uint8_t>& frame : frames) (void)a->Send(frame, clock.Now());
      (void)loop.RunOnce(timers::Duration::zero());
      clock.Advance(microseconds(100));
    }
  };
  wakeups(10);
  const std::uint64_t before = CurrentHeapUsage().allocations;
  wakeups(100);
  const std::uint64_t allocations = CurrentHeapUsage().allocations - before;

  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(delivered, 110u * 100u);
  EXPECT_EQ(largest_burst, EventLoop::kMaxBurstFrames);
  EXPECT_EQ(loop.stats().bursts, 110u * 2u);
}

}  // namespace
}  // namespace tapstack::tap
