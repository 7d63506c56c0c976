// FrameQueue: frames come out as they went in, across chunk boundaries, while the ring of chunks
// grows and wraps, and a steady flow reuses the chunks it has.
#include "tap/frame_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

namespace tapstack::tap {
namespace {

using std::chrono::microseconds;

constexpr std::size_t kMaxFrame = 1514;
const timers::TimePoint kT0 = timers::TimePoint{} + std::chrono::hours(1);

// A frame whose bytes are derived from its number, so that any mix-up shows.
std::vector<std::uint8_t> FrameNumbered(std::uint32_t number, std::size_t size) {
  std::vector<std::uint8_t> frame(size);
  for (std::size_t i = 0; i < size; ++i) frame[i] = static_cast<std::uint8_t>(number * 31 + i);
  return frame;
}

struct Expected {
  std::vector<std::uint8_t> bytes;
  timers::TimePoint ready;
};

void ExpectFront(const FrameQueue& queue, const Expected& expected) {
  ASSERT_FALSE(queue.empty());
  const std::span<const std::uint8_t> front = queue.front();
  EXPECT_EQ(std::vector<std::uint8_t>(front.begin(), front.end()), expected.bytes);
  EXPECT_EQ(queue.front_ready(), expected.ready);
}

TEST(FrameQueueTest, StartsEmpty) {
  FrameQueue queue(kMaxFrame);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_EQ(queue.chunk_count(), 0u);
}

TEST(FrameQueueTest, KeepsOrderSizesAndTimesAcrossManyChunks) {
  FrameQueue queue(kMaxFrame);
  std::deque<Expected> expected;
  // Sizes from empty to the largest, enough of them to fill many chunks.
  for (std::uint32_t i = 0; i < 20'000; ++i) {
    const std::size_t size = (i * 7919) % (kMaxFrame + 1);
    expected.push_back({FrameNumbered(i, size), kT0 + microseconds(i)});
    queue.Push(expected.back().bytes, expected.back().ready);
  }
  EXPECT_EQ(queue.size(), expected.size());
  EXPECT_GT(queue.chunk_count(), 10u);
  while (!expected.empty()) {
    ExpectFront(queue, expected.front());
    queue.Pop();
    expected.pop_front();
  }
  EXPECT_TRUE(queue.empty());
}

// Pushes and pops at random, so that the writing chunk catches up with the reading one in every
// position of the ring and the ring grows in the middle.
TEST(FrameQueueTest, RandomInterleavingMatchesAReferenceQueue) {
  FrameQueue queue(kMaxFrame);
  std::deque<Expected> expected;
  std::mt19937 rng(7);
  std::uint32_t number = 0;
  for (int step = 0; step < 200'000; ++step) {
    // Phases that mostly push and phases that mostly pop.
    const bool pushing_phase = (step / 5000) % 2 == 0;
    const bool push = expected.empty() || (rng() % 10) < (pushing_phase ? 7u : 3u);
    if (push) {
      const std::size_t size = rng() % 3 == 0 ? kMaxFrame : rng() % 128;
      expected.push_back({FrameNumbered(number, size), kT0 + microseconds(number)});
      ++number;
      queue.Push(expected.back().bytes, expected.back().ready);
    } else {
      ExpectFront(queue, expected.front());
      queue.Pop();
      expected.pop_front();
    }
    ASSERT_EQ(queue.size(), expected.size());
  }
}

TEST(FrameQueueTest, ASteadyFlowReusesItsChunks) {
  FrameQueue queue(kMaxFrame);
  const std::vector<std::uint8_t> frame = FrameNumbered(1, kMaxFrame);
  // Up to 500 full frames in flight (several chunks), the reading chunk lagging the writing one.
  const auto round = [&] {
    for (int i = 0; i < 500; ++i) queue.Push(frame, kT0);
    while (queue.size() > 250) queue.Pop();
    for (int i = 0; i < 250; ++i) queue.Push(frame, kT0);
    while (!queue.empty()) queue.Pop();
  };
  for (int i = 0; i < 3; ++i) round();
  const std::size_t chunks = queue.chunk_count();
  EXPECT_GT(chunks, 1u);
  for (int i = 0; i < 100; ++i) round();
  EXPECT_EQ(queue.chunk_count(), chunks);
}

TEST(FrameQueueTest, ClearEmptiesAndTheQueueWorksAfterwards) {
  FrameQueue queue(kMaxFrame);
  for (std::uint32_t i = 0; i < 1000; ++i) queue.Push(FrameNumbered(i, 1000), kT0);
  queue.Clear();
  EXPECT_TRUE(queue.empty());
  const Expected one{FrameNumbered(77, 60), kT0 + microseconds(5)};
  queue.Push(one.bytes, one.ready);
  ExpectFront(queue, one);
  queue.Pop();
  EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace tapstack::tap
