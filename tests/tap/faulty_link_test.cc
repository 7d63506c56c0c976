// FaultyLink: each fault, measured over many frames against its setting, plus determinism.
//
// Rates are checked within 5 standard deviations of a binomial with the configured probability:
// with a fixed seed the outcome is deterministic anyway, and the bound says the seed is not a
// lucky one.
#include "tap/faulty_link.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>
#include <vector>

#include "tap/memory_link.h"
#include "tests/tap/test_frames.h"

namespace tapstack::tap {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using test_frames::MakeFrame;
using test_frames::SeqOf;

constexpr int kFrames = 100'000;
const timers::TimePoint kT0 = timers::TimePoint{} + std::chrono::hours(1);

struct Received {
  std::vector<std::uint8_t> bytes;
  timers::TimePoint stamp;  // the time the frame was handed to the inner link
  bool operator==(const Received&) const = default;
};

// A FaultyLink in front of one end of a MemoryLink, and the other end to read what came through.
class FaultyLinkTest : public ::testing::Test {
 protected:
  void Build(FaultOptions options) {
    auto [a, b] = MemoryLink::CreatePair(1500, 4 * kFrames);
    link_ = std::make_unique<FaultyLink>(std::move(a), options);
    peer_ = std::move(b);
  }

  // Everything the peer has, with the time each frame was released (its ready time).
  std::vector<Received> Drain() {
    std::vector<Received> out;
    std::vector<std::uint8_t> buffer(MaxFrameSize(1500));
    while (std::optional<timers::TimePoint> ready = peer_->NextReadyTime()) {
      Result<std::size_t> n = peer_->Receive(buffer, *ready);
      EXPECT_TRUE(n.ok() && *n > 0);
      if (!n.ok() || *n == 0) break;
      out.push_back({std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + *n), *ready});
    }
    return out;
  }

  void SendAll(int count, timers::TimePoint now) {
    for (int i = 0; i < count; ++i) ASSERT_FALSE(link_->Send(MakeFrame(i), now));
  }

  static void ExpectRate(double measured, double p, int n, const char* what) {
    const double sigma = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(measured, p, 5 * sigma) << what << ": measured " << measured << ", set " << p;
  }

  std::unique_ptr<FaultyLink> link_;
  std::unique_ptr<Device> peer_;
};

TEST_F(FaultyLinkTest, NoFaultsPassesEverythingThroughInOrder) {
  Build({.seed = 1});
  SendAll(1000, kT0);
  std::vector<Received> out = Drain();
  ASSERT_EQ(out.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(out[i].bytes, MakeFrame(i));
    EXPECT_EQ(out[i].stamp, kT0);
  }
}

TEST_F(FaultyLinkTest, LossRateMatchesSetting) {
  Build({.seed = 42, .loss = 0.1});
  SendAll(kFrames, kT0);
  std::vector<Received> out = Drain();
  ExpectRate(1.0 - static_cast<double>(out.size()) / kFrames, 0.1, kFrames, "loss");
  EXPECT_EQ(link_->fault_stats().lost, kFrames - out.size());
  // What survives keeps its order.
  for (std::size_t i = 1; i < out.size(); ++i) {
    ASSERT_LT(SeqOf(out[i - 1].bytes), SeqOf(out[i].bytes));
  }
}

// receive_loss drops frames coming in from the wrapped device, at its rate, in order, and draws
// from a generator of its own: the send side's faults come out the same with or without it.
TEST_F(FaultyLinkTest, ReceiveLossDropsIncomingFramesAtItsRateAndLeavesSendingAlone) {
  Build({.seed = 42, .loss = 0.1, .receive_loss = 0.2});
  // Frames for the wrapped end come from its peer.
  for (int i = 0; i < kFrames; ++i) ASSERT_FALSE(peer_->Send(MakeFrame(i), kT0));
  std::vector<std::uint8_t> buffer(MaxFrameSize(1500));
  std::vector<std::uint64_t> received;
  for (;;) {
    Result<std::size_t> n = link_->Receive(buffer, kT0);
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    received.push_back(SeqOf(std::span(buffer).first(*n)));
  }
  ExpectRate(1.0 - static_cast<double>(received.size()) / kFrames, 0.2, kFrames, "receive loss");
  EXPECT_EQ(link_->fault_stats().received_lost, kFrames - received.size());
  for (std::size_t i = 1; i < received.size(); ++i) {
    ASSERT_LT(received[i - 1], received[i]);
  }
  // Sending after all those receive draws loses exactly the frames a link without receive_loss
  // loses.
  SendAll(10'000, kT0);
  const std::vector<Received> sent = Drain();
  auto [a, b] = MemoryLink::CreatePair(1500, 4 * kFrames);
  FaultyLink plain(*a, {.seed = 42, .loss = 0.1});
  for (int i = 0; i < 10'000; ++i) ASSERT_FALSE(plain.Send(MakeFrame(i), kT0));
  std::size_t same = 0;
  while (b->NextReadyTime()) {
    Result<std::size_t> n = b->Receive(buffer, kT0);
    if (!n.ok() || *n == 0) break;
    ASSERT_LT(same, sent.size());
    EXPECT_EQ(std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + *n), sent[same].bytes);
    ++same;
  }
  EXPECT_EQ(same, sent.size());
}

// Offloaded frames: with faults on the send side they are cut in software so that the faults
// apply to the frames a wire carries; without, frame and offload go to the wrapped device whole.
TEST(FaultyLinkOffloadTest, CutsWithSendFaultsAndPassesThroughWithout) {
  const auto super_frame = [] {
    // Ethernet + IPv4 + TCP (20) + 3000 bytes, checksum partial: 0 in the field is a valid
    // partial sum for the software cut, which recomputes the checksums anyway.
    std::vector<std::uint8_t> frame(14 + 20 + 20 + 3000, 0);
    frame[12] = 0x08;
    frame[14] = 0x45;
    frame[16] = static_cast<std::uint8_t>((20 + 20 + 3000) >> 8);
    frame[17] = static_cast<std::uint8_t>((20 + 20 + 3000) & 0xff);
    frame[14 + 9] = 6;
    frame[34 + 12] = 0x50;
    return frame;
  }();
  const TxOffload tso{.tcp_segment_size = 1000, .tcp_checksum_partial = true};
  {
    auto [a, b] = MemoryLink::CreatePair(1500, 100, /*tx_offloads=*/true);
    FaultyLink link(*a, {.seed = 1, .receive_loss = 0.5});  // receive faults only
    ASSERT_FALSE(link.SendWithOffload(super_frame, tso, kT0));
    EXPECT_EQ(link.fault_stats().frames_in, 1u);
    EXPECT_EQ(link.fault_stats().released, 1u);
    // The wrapped device did the cutting (it is the one offering TSO).
    EXPECT_EQ(a->stats().tx_software_offloaded, 3u);
  }
  {
    auto [a, b] = MemoryLink::CreatePair(1500, 100, /*tx_offloads=*/true);
    FaultyLink link(*a, {.seed = 1, .loss = 0.000001});
    ASSERT_FALSE(link.SendWithOffload(super_frame, tso, kT0));
    EXPECT_EQ(link.fault_stats().frames_in, 3u) << "the faults saw the three cut frames";
    EXPECT_EQ(a->stats().tx_software_offloaded, 0u);
    EXPECT_EQ(a->stats().frames_sent, 3u);
  }
}

TEST_F(FaultyLinkTest, DuplicateRateMatchesSettingAndCopiesAreAdjacent) {
  Build({.seed = 43, .duplicate = 0.05});
  SendAll(kFrames, kT0);
  std::vector<Received> out = Drain();
  int duplicates = 0;
  std::uint64_t expected = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::uint64_t seq = SeqOf(out[i].bytes);
    if (i > 0 && seq == SeqOf(out[i - 1].bytes)) {
      ++duplicates;
      continue;
    }
    ASSERT_EQ(seq, expected++);
  }
  EXPECT_EQ(expected, static_cast<std::uint64_t>(kFrames));
  EXPECT_EQ(static_cast<std::uint64_t>(duplicates), link_->fault_stats().duplicated);
  ExpectRate(static_cast<double>(duplicates) / kFrames, 0.05, kFrames, "duplicate");
}

TEST_F(FaultyLinkTest, ReorderRateMatchesSettingAndNothingIsLost) {
  Build({.seed = 44, .reorder = 0.1});
  SendAll(kFrames, kT0);
  // The last frame may be held with nothing behind it to overtake it: it waits reorder_timeout.
  ASSERT_FALSE(link_->Flush(kT0 + milliseconds(10)));
  EXPECT_EQ(link_->pending_frames(), 0u);
  std::vector<Received> out = Drain();
  ASSERT_EQ(out.size(), static_cast<std::size_t>(kFrames));
  // A frame is reordered when it arrives after a frame that was sent after it.
  int late = 0;
  std::uint64_t highest = 0;
  std::vector<std::uint64_t> seqs;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::uint64_t seq = SeqOf(out[i].bytes);
    seqs.push_back(seq);
    if (i > 0 && seq < highest) ++late;
    highest = std::max(highest, seq);
  }
  EXPECT_EQ(static_cast<std::uint64_t>(late), link_->fault_stats().reordered);
  ExpectRate(static_cast<double>(late) / kFrames, 0.1, kFrames, "reorder");
  std::sort(seqs.begin(), seqs.end());
  for (int i = 0; i < kFrames; ++i) ASSERT_EQ(seqs[i], static_cast<std::uint64_t>(i));
}

TEST_F(FaultyLinkTest, HeldFrameFollowsTheNextOne) {
  // With reorder = 1 every frame would be held; the timeout releases the whole chain in order.
  Build({.seed = 5, .reorder = 1.0, .reorder_timeout = milliseconds(3)});
  SendAll(3, kT0);
  EXPECT_EQ(link_->NextReadyTime(), kT0 + milliseconds(3));
  ASSERT_FALSE(link_->Flush(kT0 + milliseconds(2)));
  EXPECT_TRUE(Drain().empty());
  ASSERT_FALSE(link_->Flush(kT0 + milliseconds(3)));
  std::vector<Received> out = Drain();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].stamp, kT0 + milliseconds(3));
}

TEST_F(FaultyLinkTest, DelaysAreWithinBoundsAndUniform) {
  const timers::Duration min = milliseconds(1), max = milliseconds(5);
  Build({.seed = 45, .min_delay = min, .max_delay = max});
  SendAll(kFrames, kT0);
  EXPECT_EQ(link_->NextReadyTime(), link_->NextReadyTime());  // const, no side effect
  ASSERT_FALSE(link_->Flush(kT0 + max));
  std::vector<Received> out = Drain();
  ASSERT_EQ(out.size(), static_cast<std::size_t>(kFrames));
  double sum_ms = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const timers::Duration delay = out[i].stamp - kT0;
    ASSERT_GE(delay, min);
    ASSERT_LE(delay, max);
    if (i > 0) {
      ASSERT_GE(out[i].stamp, out[i - 1].stamp) << "released out of time order";
    }
    sum_ms += std::chrono::duration<double, std::milli>(delay).count();
  }
  // Uniform on [1, 5] ms: mean 3 ms, standard deviation 4/sqrt(12) ms.
  const double sigma_of_mean = 4.0 / std::sqrt(12.0) / std::sqrt(kFrames);
  EXPECT_NEAR(sum_ms / kFrames, 3.0, 5 * sigma_of_mean);
  EXPECT_EQ(link_->fault_stats().delayed, static_cast<std::uint64_t>(kFrames));
}

TEST_F(FaultyLinkTest, DelayedFramesAreReleasedOnlyWhenTimeReachesThem) {
  const timers::Duration min = milliseconds(1), max = milliseconds(5);
  Build({.seed = 46, .min_delay = min, .max_delay = max});
  std::vector<timers::TimePoint> sent_at;
  timers::TimePoint now = kT0;
  std::size_t received = 0;
  std::vector<std::uint8_t> buffer(MaxFrameSize(1500));
  // Send one frame every 100 us for 2000 frames, then keep the clock going until all are in.
  for (int step = 0; received < 2000; ++step, now += microseconds(100)) {
    ASSERT_LT(step, 2100) << "frames never arrived";
    if (step < 2000) {
      sent_at.push_back(now);
      ASSERT_FALSE(link_->Send(MakeFrame(step), now));
    } else {
      // Receive is one of the calls that releases due frames.
      ASSERT_TRUE(link_->Receive(buffer, now).ok());
    }
    // Nothing handed to the inner link may be due later than now.
    if (std::optional<timers::TimePoint> ready = peer_->NextReadyTime()) {
      ASSERT_LE(*ready, now);
    }
    // And whatever is still held is due later than now.
    if (std::optional<timers::TimePoint> next = link_->NextReadyTime()) {
      ASSERT_GT(*next, now);
    }
    for (const Received& r : Drain()) {
      const timers::Duration delay = r.stamp - sent_at[SeqOf(r.bytes)];
      ASSERT_GE(delay, min);
      ASSERT_LE(delay, max);
      ++received;
    }
  }
}

TEST_F(FaultyLinkTest, CorruptionFlipsExactlyOneBit) {
  Build({.seed = 47, .corrupt = 0.2});
  // Sequence numbers would be corrupted too, so compare position by position (nothing is lost).
  SendAll(kFrames, kT0);
  std::vector<Received> out = Drain();
  ASSERT_EQ(out.size(), static_cast<std::size_t>(kFrames));
  int corrupted = 0;
  for (int i = 0; i < kFrames; ++i) {
    const std::vector<std::uint8_t> original = MakeFrame(i);
    ASSERT_EQ(out[i].bytes.size(), original.size());
    int flipped = 0;
    for (std::size_t j = 0; j < original.size(); ++j) {
      flipped += std::popcount(static_cast<unsigned>(original[j] ^ out[i].bytes[j]));
    }
    ASSERT_LE(flipped, 1) << "frame " << i;
    corrupted += flipped;
  }
  EXPECT_EQ(static_cast<std::uint64_t>(corrupted), link_->fault_stats().corrupted);
  ExpectRate(static_cast<double>(corrupted) / kFrames, 0.2, kFrames, "corrupt");
}

TEST_F(FaultyLinkTest, BlackholeDropsEverythingWhileOn) {
  Build({.seed = 48, .min_delay = milliseconds(2), .max_delay = milliseconds(2)});
  SendAll(10, kT0);
  ASSERT_FALSE(link_->Flush(kT0 + milliseconds(2)));
  EXPECT_EQ(Drain().size(), 10u);

  // In flight when the cable is pulled: dropped at release time too.
  SendAll(5, kT0 + milliseconds(3));
  link_->SetBlackhole(true);
  EXPECT_TRUE(link_->blackhole());
  SendAll(5, kT0 + milliseconds(4));
  ASSERT_FALSE(link_->Flush(kT0 + milliseconds(10)));
  EXPECT_TRUE(Drain().empty());
  EXPECT_EQ(link_->fault_stats().blackholed, 10u);

  link_->SetBlackhole(false);
  SendAll(10, kT0 + milliseconds(11));
  ASSERT_FALSE(link_->Flush(kT0 + milliseconds(13)));
  EXPECT_EQ(Drain().size(), 10u);
}

// Runs a fixed traffic pattern through a link with every fault on; returns what came out.
std::vector<Received> RunAllFaults(std::uint64_t seed, bool extra_flush_calls) {
  auto [a, b] = MemoryLink::CreatePair(1500, 100'000);
  FaultyLink link(*a, {.seed = seed,
                       .loss = 0.05,
                       .duplicate = 0.05,
                       .reorder = 0.05,
                       .corrupt = 0.05,
                       .min_delay = microseconds(100),
                       .max_delay = milliseconds(3)});
  std::vector<Received> out;
  std::vector<std::uint8_t> buffer(MaxFrameSize(1500));
  for (int i = 0; i < 20'000; ++i) {
    const timers::TimePoint now = kT0 + microseconds(50) * i;
    EXPECT_FALSE(link.Send(MakeFrame(i), now));
    // Extra Flush calls at the same time must not change anything.
    if (extra_flush_calls && i % 7 == 0) {
      EXPECT_FALSE(link.Flush(now));
    }
  }
  EXPECT_FALSE(link.Flush(kT0 + std::chrono::seconds(10)));
  while (std::optional<timers::TimePoint> ready = b->NextReadyTime()) {
    Result<std::size_t> n = b->Receive(buffer, *ready);
    if (!n.ok() || *n == 0) break;
    out.push_back({std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + *n), *ready});
  }
  return out;
}

TEST(FaultyLinkDeterminismTest, SameSeedSameOutput) {
  const std::vector<Received> first = RunAllFaults(7, false);
  const std::vector<Received> second = RunAllFaults(7, true);
  EXPECT_GT(first.size(), 15'000u);
  EXPECT_TRUE(first == second) << "same seed, different output";
  EXPECT_FALSE(first == RunAllFaults(8, false)) << "the seed is not used";
}

TEST(FaultyLinkWrapTest, OwnsOrBorrowsAndForwardsDeviceProperties) {
  auto [a, b] = MemoryLink::CreatePair(1400);
  FaultyLink borrowed(*a, {});
  EXPECT_EQ(borrowed.mtu(), 1400u);
  EXPECT_EQ(borrowed.poll_fd(), -1);
  EXPECT_EQ(&borrowed.inner(), a.get());
  ASSERT_FALSE(borrowed.Send(MakeFrame(1), kT0));
  EXPECT_EQ(borrowed.stats().frames_sent, 1u);
  EXPECT_EQ(borrowed.Send(std::vector<std::uint8_t>(5), kT0), std::errc::invalid_argument);
  EXPECT_EQ(borrowed.stats().tx_dropped_invalid, 1u);

  FaultyLink owning(std::move(b), {});
  ASSERT_FALSE(owning.Send(MakeFrame(2), kT0));
  std::vector<std::uint8_t> buffer(MaxFrameSize(1400));
  Result<std::size_t> n = a->Receive(buffer, kT0);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(SeqOf(buffer), 2u);
}

}  // namespace
}  // namespace tapstack::tap
