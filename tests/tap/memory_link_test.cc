// MemoryLink: order, readiness at the time sent, the bounded queue and its counted drops.
#include "tap/memory_link.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "tests/tap/test_frames.h"

namespace tapstack::tap {
namespace {

using std::chrono::milliseconds;
using test_frames::MakeFrame;
using test_frames::SeqOf;

const timers::TimePoint kT0 = timers::TimePoint{} + std::chrono::hours(1);

// Receives everything ready at `now`, returning the sequence numbers in order.
std::vector<std::uint64_t> ReceiveAll(Device& device, timers::TimePoint now) {
  std::vector<std::uint8_t> buffer(MaxFrameSize(device.mtu()));
  std::vector<std::uint64_t> seqs;
  for (;;) {
    Result<std::size_t> n = device.Receive(buffer, now);
    EXPECT_TRUE(n.ok()) << n.error().message();
    if (!n.ok() || *n == 0) return seqs;
    seqs.push_back(SeqOf(std::span(buffer.data(), *n)));
  }
}

TEST(MemoryLinkTest, DeliversInOrderToThePeer) {
  auto [a, b] = MemoryLink::CreatePair();
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_FALSE(a->Send(MakeFrame(i), kT0));
  EXPECT_TRUE(ReceiveAll(*a, kT0).empty()) << "a frame came back to its sender";
  std::vector<std::uint64_t> seqs = ReceiveAll(*b, kT0);
  ASSERT_EQ(seqs.size(), 100u);
  for (std::uint64_t i = 0; i < 100; ++i) EXPECT_EQ(seqs[i], i);
  EXPECT_EQ(a->stats().frames_sent, 100u);
  EXPECT_EQ(a->stats().bytes_sent, 6400u);
  EXPECT_EQ(b->stats().frames_received, 100u);
  EXPECT_EQ(b->stats().bytes_received, 6400u);
  EXPECT_EQ(a->poll_fd(), -1);
}

TEST(MemoryLinkTest, DirectionsAreIndependent) {
  auto [a, b] = MemoryLink::CreatePair();
  ASSERT_FALSE(a->Send(MakeFrame(1), kT0));
  ASSERT_FALSE(b->Send(MakeFrame(2), kT0));
  EXPECT_EQ(ReceiveAll(*a, kT0), std::vector<std::uint64_t>{2});
  EXPECT_EQ(ReceiveAll(*b, kT0), std::vector<std::uint64_t>{1});
}

TEST(MemoryLinkTest, FrameIsReadyAtTheTimeItWasSent) {
  auto [a, b] = MemoryLink::CreatePair();
  EXPECT_EQ(b->NextReadyTime(), std::nullopt);
  ASSERT_FALSE(a->Send(MakeFrame(7), kT0 + milliseconds(10)));
  EXPECT_EQ(b->NextReadyTime(), kT0 + milliseconds(10));
  EXPECT_TRUE(ReceiveAll(*b, kT0).empty());
  EXPECT_EQ(ReceiveAll(*b, kT0 + milliseconds(10)), std::vector<std::uint64_t>{7});
  EXPECT_EQ(b->NextReadyTime(), std::nullopt);
}

TEST(MemoryLinkTest, QueueIsBoundedAndDropsAreCounted) {
  auto [a, b] = MemoryLink::CreatePair(1500, 4);
  for (std::uint64_t i = 0; i < 6; ++i) ASSERT_FALSE(a->Send(MakeFrame(i), kT0));
  EXPECT_EQ(a->stats().frames_sent, 4u);
  EXPECT_EQ(a->stats().tx_dropped_queue_full, 2u);
  EXPECT_EQ(ReceiveAll(*b, kT0), (std::vector<std::uint64_t>{0, 1, 2, 3}));
  // Reading made room again.
  ASSERT_FALSE(a->Send(MakeFrame(9), kT0));
  EXPECT_EQ(ReceiveAll(*b, kT0), std::vector<std::uint64_t>{9});
  EXPECT_EQ(a->stats().tx_dropped_queue_full, 2u);
}

TEST(MemoryLinkTest, RejectsFramesOfImpossibleSize) {
  auto [a, b] = MemoryLink::CreatePair(1500);
  std::vector<std::uint8_t> runt(13);
  std::vector<std::uint8_t> giant(MaxFrameSize(1500) + 1);
  EXPECT_EQ(a->Send(runt, kT0), std::errc::invalid_argument);
  EXPECT_EQ(a->Send(giant, kT0), std::errc::message_size);
  EXPECT_FALSE(a->Send(MakeFrame(0, MaxFrameSize(1500)), kT0));
  EXPECT_EQ(a->stats().tx_dropped_invalid, 2u);
  EXPECT_EQ(a->stats().frames_sent, 1u);
}

TEST(MemoryLinkTest, FrameTooBigForTheBufferIsDroppedAndTheNextOneReturned) {
  auto [a, b] = MemoryLink::CreatePair();
  ASSERT_FALSE(a->Send(MakeFrame(1, 200), kT0));
  ASSERT_FALSE(a->Send(MakeFrame(2, 64), kT0));
  std::vector<std::uint8_t> small(100);
  Result<std::size_t> n = b->Receive(small, kT0);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 64u);
  EXPECT_EQ(SeqOf(small), 2u);
  EXPECT_EQ(b->stats().rx_dropped_too_big, 1u);
}

TEST(MemoryLinkTest, SendingToADestroyedPeerCountsLinkDown) {
  auto [a, b] = MemoryLink::CreatePair();
  b.reset();
  EXPECT_FALSE(a->Send(MakeFrame(1), kT0));
  EXPECT_EQ(a->stats().tx_dropped_link_down, 1u);
  EXPECT_EQ(a->stats().frames_sent, 0u);
}

}  // namespace
}  // namespace tapstack::tap
