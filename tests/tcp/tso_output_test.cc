// The sender with a TSO-capable device (stack/tx_offload.h), on the virtual clock: new data goes
// out as super-segments of whole MSS-sized segments within the congestion and peer's windows, a
// short tail only where Nagle would let it go alone, retransmissions one segment each, and the
// persist timer's probes a byte. The harness captures each frame as the stack hands it to the
// device; tests/tcp/transfer_test.cc moves data through a link that cuts them.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "stack/wire/tcp.h"
#include "tests/support/tcp_harness.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;
using wire::TcpFlags;

constexpr std::uint16_t kPort = 8100;
constexpr std::uint32_t kPeerIss = 0x30000;
constexpr std::uint32_t kMss = 1460;  // the harness's peer offers this MSS
constexpr std::uint32_t kInitialWindow = 10 * kMss;

HarnessOptions WithTso() {
  return HarnessOptions{.peer_offers_sack = true,
                        .tx_offload = TxOffloadSupport{
                            .max_tcp_segment_offload = 65535 - 20 - 60,  // as a TAP device offers
                            .tcp_checksum = true}};
}

class TsoOutput : public ::testing::Test {
 protected:
  explicit TsoOutput(HarnessOptions options = WithTso()) : h_(std::move(options)) {}

  void Open(std::uint16_t peer_window = 65535) {
    id_ = h_.EstablishPassive(kPort, kPeerIss, peer_window);
  }
  std::uint32_t Seq(std::uint32_t offset) const { return h_.our_iss() + 1 + offset; }
  void Write(std::size_t bytes) {
    const Bytes data(bytes, 0x3c);
    ASSERT_EQ(h_.stack().Send(id_, data, h_.now()).bytes, bytes);
  }
  // The peer acknowledges up to our byte `offset`, with `window` and SACK blocks of byte offsets.
  void Ack(std::uint32_t offset, std::uint16_t window = 65535,
           std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> sacked = {}) {
    wire::TcpOptions options;
    for (const auto& [from, to] : sacked) {
      options.sack_blocks[options.sack_block_count++] =
          wire::TcpOptions::SackBlock{Seq(from), Seq(to)};
    }
    h_.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, Seq(offset), window, {}, options);
  }
  std::vector<Segment> DataSent() {
    std::vector<Segment> data;
    for (Segment& segment : h_.Take()) {
      // Every TCP frame leaves with its checksum for the device to finish.
      EXPECT_TRUE(segment.offload.tcp_checksum_partial) << segment.Describe();
      if (!segment.payload.empty()) data.push_back(std::move(segment));
    }
    return data;
  }

  TcpHarness h_;
  tcp::ConnectionId id_;
};

TEST_F(TsoOutput, InitialWindowGoesAsOneSuperSegmentCutAtTheMss) {
  Open();
  Write(kInitialWindow + 500);
  const std::vector<Segment> sent = DataSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].seq, Seq(0));
  EXPECT_EQ(sent[0].payload.size(), kInitialWindow) << "cwnd bounds it: ten segments";
  EXPECT_EQ(sent[0].offload.tcp_segment_size, kMss);
  EXPECT_FALSE(sent[0].Has(TcpFlags::kPsh)) << "more data waits behind it";
  EXPECT_EQ(h_.Count(Counter::kTxTcpSuperSegments), 1u);
  // The ACK for it lets the window grow; the 500-byte tail now goes alone (nothing else waits).
  Ack(kInitialWindow);
  const std::vector<Segment> tail = DataSent();
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].seq, Seq(kInitialWindow));
  EXPECT_EQ(tail[0].payload.size(), 500u);
  EXPECT_EQ(tail[0].offload.tcp_segment_size, 0) << "one segment: nothing to cut";
  EXPECT_TRUE(tail[0].Has(TcpFlags::kPsh));
}

TEST_F(TsoOutput, NagleHoldsTheShortTailBackUntilTheAckAsItWouldAlone) {
  Open();
  Write(3 * kMss + 100);
  std::vector<Segment> sent = DataSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload.size(), 3 * kMss) << "the tail is not sent with data in flight";
  Ack(3 * kMss);
  sent = DataSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload.size(), 100u);
}

TEST_F(TsoOutput, WithoutNagleTheTailRidesAtTheEndOfTheSuperSegment) {
  Open();
  ASSERT_FALSE(h_.stack().SetNoDelay(id_, true, h_.now()));
  Write(3 * kMss + 100);
  const std::vector<Segment> sent = DataSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload.size(), 3 * kMss + 100);
  EXPECT_EQ(sent[0].offload.tcp_segment_size, kMss);
  EXPECT_TRUE(sent[0].Has(TcpFlags::kPsh)) << "it empties the buffer (the device keeps PSH last)";
}

TEST_F(TsoOutput, PeerWindowBoundsTheSuperSegmentAndAZeroWindowIsProbedWithOneByte) {
  Open(/*peer_window=*/5000);
  Write(40'000);
  std::vector<Segment> sent = DataSent();
  ASSERT_EQ(sent.size(), 1u);
  // 5000 bytes of window hold three whole segments; the 620 left over would be a short segment
  // in the middle of the stream, which SWS avoidance holds back.
  EXPECT_EQ(sent[0].payload.size(), 3 * kMss);
  // The peer takes it all but its application reads nothing: the window closes.
  Ack(3 * kMss, /*window=*/0);
  EXPECT_TRUE(DataSent().empty());
  // RFC 9293 3.8.6.1: the persist timer probes with one byte, never a super-segment.
  std::vector<Segment> probe;
  for (int step = 0; step < 500 && probe.empty(); ++step) {
    h_.AdvanceBy(milliseconds(10));
    probe = DataSent();
  }
  ASSERT_EQ(probe.size(), 1u);
  EXPECT_EQ(probe[0].payload.size(), 1u);
  EXPECT_EQ(probe[0].offload.tcp_segment_size, 0);
  // The window opens wide: the next super-segment fills what cwnd allows again.
  Ack(3 * kMss, /*window=*/65535);
  sent = DataSent();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0].seq, Seq(3 * kMss));
  EXPECT_GT(sent[0].payload.size(), kMss);
  EXPECT_EQ(sent[0].payload.size() % kMss, 0u);
  EXPECT_EQ(sent[0].offload.tcp_segment_size, kMss);
}

TEST_F(TsoOutput, ALostSegmentInsideASuperSegmentIsResentAloneFromTheScoreboard) {
  Open();
  ASSERT_FALSE(h_.stack().SetNoDelay(id_, true, h_.now()));
  Write(kInitialWindow);
  ASSERT_EQ(DataSent().size(), 1u);
  // The device cut ten segments; the second was lost. The peer acknowledges the first and SACKs
  // the eight after the hole, in three ACKs as the segments arrive (RFC 6675 DupThresh).
  Ack(kMss, 65535, {{2 * kMss, 4 * kMss}});
  Ack(kMss, 65535, {{2 * kMss, 7 * kMss}});
  Ack(kMss, 65535, {{2 * kMss, 10 * kMss}});
  const std::vector<Segment> sent = DataSent();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0].seq, Seq(kMss)) << sent[0].Describe();
  EXPECT_EQ(sent[0].payload.size(), kMss) << "the hole, and no more";
  EXPECT_EQ(sent[0].offload.tcp_segment_size, 0);
  EXPECT_EQ(h_.Count(Counter::kTcpRetransmits), 1u);
  EXPECT_EQ(h_.Count(Counter::kTcpRetransmitTimeouts), 0u);
  // The retransmission repairs the hole: the ACK covers the whole super-segment.
  Ack(kInitialWindow);
  EXPECT_EQ(h_.stack().Info(id_)->snd_una, Seq(kInitialWindow));
}

TEST_F(TsoOutput, ATimeoutResendsOneSegmentNotTheSuperSegment) {
  Open();
  Write(kInitialWindow);
  ASSERT_EQ(DataSent().size(), 1u);
  // Nothing comes back: the probe timer, then the retransmission timer fire. Each sends one
  // segment: the tail loss probe the last, the timeout the first (go-back-N from SND.UNA).
  std::vector<Segment> resent;
  for (int step = 0; step < 1000 && resent.size() < 2; ++step) {
    h_.AdvanceBy(milliseconds(10));
    for (Segment& segment : DataSent()) resent.push_back(std::move(segment));
  }
  ASSERT_GE(resent.size(), 2u);
  for (const Segment& segment : resent) {
    EXPECT_EQ(segment.payload.size(), kMss) << segment.Describe();
    EXPECT_EQ(segment.offload.tcp_segment_size, 0);
  }
  EXPECT_EQ(resent.back().seq, Seq(0)) << "the timeout goes back to SND.UNA";
}

// Without TSO on offer, nothing changes: MSS-sized segments with complete checksums.
TEST(TsoOff, SegmentsStayMssSizedAndComplete) {
  TcpHarness h(HarnessOptions{.peer_offers_sack = true});
  const tcp::ConnectionId id = h.EstablishPassive(kPort, kPeerIss);
  const Bytes data(4 * kMss, 1);
  ASSERT_EQ(h.stack().Send(id, data, h.now()).bytes, data.size());
  const std::vector<Segment> sent = h.Take();
  ASSERT_EQ(sent.size(), 4u);
  for (const Segment& segment : sent) {
    EXPECT_EQ(segment.payload.size(), kMss);
    EXPECT_TRUE(segment.offload.none());
  }
  EXPECT_EQ(h.Count(Counter::kTxTcpSuperSegments), 0u);
  EXPECT_EQ(h.Count(Counter::kTxTcpChecksumOffloaded), 0u);
}

}  // namespace
}  // namespace tapstack::testing
