// Loss recovery with SACK (RFC 6675) on the virtual clock: the peer is the hand-driven harness,
// which ACKs our segments with SACK blocks chosen by each test, and every segment we send back is
// checked: when recovery starts, which hole goes out and when, how pipe holds new data back, when
// recovery ends, and how a retransmission timeout treats the scoreboard (RFC 2018 8, RFC 6675
// 5.1). Our segments are numbered from 0, each kMss bytes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include "tests/support/tcp_harness.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using wire::TcpFlags;
using Block = wire::TcpOptions::SackBlock;

constexpr std::uint16_t kPort = 8000;
constexpr std::uint32_t kPeerIss = 0x20000;
constexpr std::uint32_t kMss = 1460;  // the harness's peer offers this MSS

// The peer offers SACK; the congestion controller is `algorithm`, chosen by the engine's
// configuration, or by the connection's options when `per_connection` (which then override an
// engine default of the other algorithm).
HarnessOptions WithSack(tcp::CongestionAlgorithm algorithm, bool per_connection = false) {
  HarnessOptions options{.peer_offers_sack = true};
  if (per_connection) {
    options.tcp.congestion_control = algorithm == tcp::CongestionAlgorithm::kCubic
                                         ? tcp::CongestionAlgorithm::kNewReno
                                         : tcp::CongestionAlgorithm::kCubic;
    options.tcp.defaults.congestion_control = algorithm;
  } else {
    options.tcp.congestion_control = algorithm;
  }
  return options;
}

// The recovery numbers of the SackSender tests are NewReno's (ssthresh = FlightSize / 2, RFC 5681
// eq. 4); CubicSackSender checks CUBIC's (RFC 9438 4.6) in the same scenes.
class SackSender : public ::testing::Test {
 protected:
  explicit SackSender(HarnessOptions options = WithSack(tcp::CongestionAlgorithm::kNewReno))
      : h_(std::move(options)) {}
  void SetUp() override {
    id_ = h_.EstablishPassive(kPort, kPeerIss);
    ASSERT_TRUE(h_.stack().Info(id_)->sack_permitted);
    ASSERT_FALSE(h_.stack().SetNoDelay(id_, true, h_.now()));
  }

  // Our sequence number at the start of segment `n`.
  std::uint32_t Seg(std::uint32_t n) const { return h_.our_iss() + 1 + n * kMss; }
  // The segment number a sequence number starts.
  std::uint32_t SegmentOf(std::uint32_t seq) const { return (seq - (h_.our_iss() + 1)) / kMss; }

  // Queues `segments` full segments; returns the numbers of those sent at once.
  std::vector<std::uint32_t> Write(std::uint32_t segments) {
    const Bytes data(segments * kMss, 0x5a);
    EXPECT_EQ(h_.stack().Send(id_, data, h_.now()).bytes, data.size());
    return Sent();
  }
  // The peer ACKs `ack` (a segment number) and SACKs the segment ranges [from, to) in `blocks`.
  std::vector<std::uint32_t> Ack(
      std::uint32_t ack,
      std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> blocks = {}) {
    wire::TcpOptions options;
    for (const auto& [from, to] : blocks) {
      options.sack_blocks[options.sack_block_count++] = Block{Seg(from), Seg(to)};
    }
    h_.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, Seg(ack), 65535, {}, options);
    return Sent();
  }
  // The numbers of the segments we sent since last asked; every one must be full-sized.
  std::vector<std::uint32_t> Sent() {
    std::vector<std::uint32_t> numbers;
    for (const Segment& segment : h_.Take()) {
      if (segment.payload.empty()) continue;
      EXPECT_EQ(segment.payload.size(), kMss) << segment.Describe();
      numbers.push_back(SegmentOf(segment.seq));
    }
    return numbers;
  }
  // Advances the clock until the retransmission timer sends something.
  std::vector<std::uint32_t> AwaitTimeout() {
    for (int step = 0; step < 1000; ++step) {
      h_.AdvanceBy(milliseconds(10));
      if (std::vector<std::uint32_t> sent = Sent(); !sent.empty()) return sent;
    }
    ADD_FAILURE() << "no retransmission within 10 s";
    return {};
  }
  std::uint32_t Cwnd() { return h_.stack().Info(id_)->cwnd; }
  std::vector<tcp::Trace> TracesOf(tcp::TraceType type) const {
    std::vector<tcp::Trace> found;
    for (const tcp::Trace& trace : h_.traces()) {
      if (trace.type == type) found.push_back(trace);
    }
    return found;
  }

  TcpHarness h_;
  tcp::ConnectionId id_;
};

// RFC 6675 5: the third duplicate ACK (each SACKing one more segment) starts recovery: cwnd =
// ssthresh = FlightSize / 2, the first segment is resent at once, and then pipe, not cwnd against
// the flight size, decides when new data may follow. Before it, limited transmit (RFC 3042): the
// first and second duplicates each send one new segment beyond cwnd.
TEST_F(SackSender, ThirdSackingDuplicateStartsRecoveryAndPipeGatesNewData) {
  ASSERT_THAT(Write(20), ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));  // the initial window
  // Segment 0 is lost; 1, 2 and 3 arrive.
  EXPECT_THAT(Ack(0, {{1, 2}}), ElementsAre(10));
  EXPECT_THAT(Ack(0, {{1, 3}}), ElementsAre(11));
  EXPECT_THAT(Ack(0, {{1, 4}}), ElementsAre(0)) << "the first segment, and nothing else";
  EXPECT_EQ(Cwnd(), 6 * kMss);
  EXPECT_EQ(h_.Count(Counter::kTcpRecoveries), 1u);
  EXPECT_EQ(h_.Count(Counter::kTcpFastRetransmits), 1u);
  const std::vector<tcp::Trace> started = TracesOf(tcp::TraceType::kRecoveryStarted);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].seq, Seg(0));
  EXPECT_EQ(started[0].length, 6 * kMss);
  EXPECT_EQ(started[0].number, static_cast<int>(6 * kMss));
  EXPECT_EQ(started[0].count, 1) << "SACK drives it";
  // pipe: segments 4 to 11 may be in the network, and the copy of 0: 9 segments, over cwnd's 6.
  // Each further SACKed segment takes one out; at 5 there is room for one new segment.
  for (std::uint32_t sacked_up_to = 5; sacked_up_to <= 7; ++sacked_up_to) {
    EXPECT_THAT(Ack(0, {{1, sacked_up_to}}), IsEmpty());
  }
  EXPECT_THAT(Ack(0, {{1, 8}}), ElementsAre(12));
  EXPECT_THAT(Ack(0, {{1, 9}}), ElementsAre(13));
  EXPECT_EQ(Cwnd(), 6 * kMss) << "no inflation in RFC 6675 recovery";
}

// CUBIC, the default: the same scenes with beta_cubic = 0.7 in place of NewReno's halving.
class CubicSackSender : public SackSender {
 protected:
  CubicSackSender() : SackSender(WithSack(tcp::CongestionAlgorithm::kCubic)) {}
};

// RFC 9438 4.6 with RFC 6675 5: recovery starts at the third SACKing duplicate with cwnd =
// ssthresh = 0.7 * FlightSize (twelve segments in flight, limited transmit's two included).
TEST_F(CubicSackSender, RecoveryStartsWithCwndAtSevenTenthsOfTheFlight) {
  ASSERT_THAT(Write(20), ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
  EXPECT_THAT(Ack(0, {{1, 2}}), ElementsAre(10));
  EXPECT_THAT(Ack(0, {{1, 3}}), ElementsAre(11));
  EXPECT_THAT(Ack(0, {{1, 4}}), ElementsAre(0));
  const std::uint32_t ssthresh = 12 * kMss * 7 / 10;
  EXPECT_EQ(Cwnd(), ssthresh);
  const std::vector<tcp::Trace> started = TracesOf(tcp::TraceType::kRecoveryStarted);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].length, ssthresh);
  EXPECT_EQ(started[0].number, static_cast<int>(ssthresh));
  // pipe: segments 4 to 11 and the copy of 0, nine segments over cwnd's 8.4; at 6 SACKed there is
  // room for a new segment (pipe 7 segments, 1.4 below cwnd).
  EXPECT_THAT(Ack(0, {{1, 5}}), IsEmpty());
  EXPECT_THAT(Ack(0, {{1, 6}}), ElementsAre(12));
  EXPECT_EQ(Cwnd(), ssthresh) << "no inflation in RFC 6675 recovery";
}

TEST_F(CubicSackSender, FullAckEndsRecoveryAtSevenTenths) {
  ASSERT_EQ(Write(10).size(), 10u);
  Ack(0, {{1, 2}});
  Ack(0, {{1, 3}});
  ASSERT_THAT(Ack(0, {{1, 4}}), ElementsAre(0));
  Ack(10, {});
  const std::vector<tcp::Trace> ended = TracesOf(tcp::TraceType::kRecoveryEnded);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].length, 7 * kMss);
  EXPECT_EQ(Cwnd(), 7 * kMss);
}

// ConnectionOptions::congestion_control overrides TcpConfig::congestion_control, both ways.
class PerConnectionNewReno : public SackSender {
 protected:
  PerConnectionNewReno()
      : SackSender(WithSack(tcp::CongestionAlgorithm::kNewReno, /*per_connection=*/true)) {}
};
class PerConnectionCubic : public SackSender {
 protected:
  PerConnectionCubic()
      : SackSender(WithSack(tcp::CongestionAlgorithm::kCubic, /*per_connection=*/true)) {}
};

TEST_F(PerConnectionNewReno, HalvesOnLoss) {
  EXPECT_EQ(h_.stack().Info(id_)->congestion_control, tcp::CongestionAlgorithm::kNewReno);
  ASSERT_EQ(Write(10).size(), 10u);
  ASSERT_THAT(Ack(0, {{1, 4}}), ElementsAre(0));
  EXPECT_EQ(Cwnd(), 5 * kMss);
  EXPECT_EQ(h_.stack().Info(id_)->ssthresh, 5 * kMss);
}

TEST_F(PerConnectionCubic, TakesSevenTenthsOnLoss) {
  EXPECT_EQ(h_.stack().Info(id_)->congestion_control, tcp::CongestionAlgorithm::kCubic);
  ASSERT_EQ(Write(10).size(), 10u);
  ASSERT_THAT(Ack(0, {{1, 4}}), ElementsAre(0));
  EXPECT_EQ(Cwnd(), 7 * kMss);
  EXPECT_EQ(h_.stack().Info(id_)->ssthresh, 7 * kMss);
}

// Limited transmit without SACK: RFC 3042 counts RFC 5681's duplicates (no data, the same
// window).
TEST(LimitedTransmit, WorksWithoutSackToo) {
  TcpHarness h;
  const tcp::ConnectionId id = h.EstablishPassive(kPort, kPeerIss);
  ASSERT_FALSE(h.stack().Info(id)->sack_permitted);
  ASSERT_FALSE(h.stack().SetNoDelay(id, true, h.now()));
  const std::uint32_t first = h.our_iss() + 1;
  ASSERT_EQ(h.stack().Send(id, Bytes(20 * kMss, 1), h.now()).bytes, 20 * kMss);
  ASSERT_EQ(h.Take().size(), 10u);
  for (std::uint32_t duplicate = 1; duplicate <= 3; ++duplicate) {
    h.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, first, 65535);
    const std::vector<Segment> sent = h.Take();
    ASSERT_EQ(sent.size(), 1u) << "duplicate " << duplicate;
    EXPECT_EQ(sent[0].seq, duplicate < 3 ? first + (9 + duplicate) * kMss : first);
  }
}

// RFC 6675 NextSeg rule 1: a second hole is resent as soon as the scoreboard takes it for lost
// (more than two segments SACKed above it), before any partial ACK, and never twice.
TEST_F(SackSender, LaterHoleGoesOutOnceTheScoreboardShowsItLost) {
  ASSERT_EQ(Write(20).size(), 10u);
  // Segments 0 and 2 are lost; 10 and 11 go by limited transmit.
  ASSERT_THAT(Ack(0, {{1, 2}}), ElementsAre(10));
  ASSERT_THAT(Ack(0, {{3, 4}, {1, 2}}), ElementsAre(11));
  ASSERT_THAT(Ack(0, {{3, 5}, {1, 2}}), ElementsAre(0));
  // Three segments SACKed above the hole at 2 make it lost, but pipe (6 to 11 and the copy of 0)
  // exceeds cwnd's six segments, and so on until one more segment has left the network.
  EXPECT_THAT(Ack(0, {{3, 6}, {1, 2}}), IsEmpty());
  EXPECT_THAT(Ack(0, {{3, 7}, {1, 2}}), IsEmpty());
  // Room for one: the hole goes before new data.
  EXPECT_THAT(Ack(0, {{3, 8}, {1, 2}}), ElementsAre(2));
  EXPECT_EQ(h_.Count(Counter::kTcpSackRetransmits), 1u);
  const std::vector<tcp::Trace> resent = TracesOf(tcp::TraceType::kRetransmit);
  ASSERT_EQ(resent.size(), 2u);
  EXPECT_EQ(resent[0].cause, tcp::RetransmitCause::kFast);
  EXPECT_EQ(resent[1].cause, tcp::RetransmitCause::kSack);
  EXPECT_EQ(resent[1].seq, Seg(2));
  // The copy of 0 arrives: a partial ACK up to the hole at 2, which was already resent. NewReno
  // would resend it again; RFC 6675 does not, and sends new data as pipe allows (one segment:
  // 8 to 11 and the copy of 2 remain in the network).
  EXPECT_THAT(Ack(2, {{3, 8}}), ElementsAre(12));
  EXPECT_EQ(h_.Count(Counter::kTcpSackRetransmits), 1u);
}

// A resent first segment that is lost again: RFC 6675 leaves it to the retransmission timer.
// Here, as RACK (RFC 8985 6.2) in recovery on a path not seen to reorder, once data sent after
// the copy is SACKed while the copy is not, the copy is taken for lost and the segment goes out
// once more.
TEST_F(SackSender, LostRetransmissionOfTheFirstSegmentIsSentAgainWithoutATimeout) {
  ASSERT_EQ(Write(20).size(), 10u);
  Ack(0, {{1, 2}});
  Ack(0, {{1, 3}});
  ASSERT_THAT(Ack(0, {{1, 4}}), ElementsAre(0));  // sent when 11 was the last segment out
  for (std::uint32_t k = 5; k <= 7; ++k) ASSERT_THAT(Ack(0, {{1, k}}), IsEmpty());
  // Each SACKed segment lets one new one go; the copy of 0 is never acknowledged.
  for (std::uint32_t k = 8; k <= 12; ++k) ASSERT_THAT(Ack(0, {{1, k}}), ElementsAre(k + 4));
  EXPECT_EQ(h_.Count(Counter::kTcpLostRetransmits), 0u) << "nothing sent after the copy SACKed";
  // 12, sent after the copy, is SACKed: the copy is lost.
  EXPECT_THAT(Ack(0, {{1, 13}}), ElementsAre(0, 17));
  EXPECT_EQ(h_.Count(Counter::kTcpLostRetransmits), 1u);
  EXPECT_EQ(h_.Count(Counter::kTcpRetransmitTimeouts), 0u);
  EXPECT_EQ(TracesOf(tcp::TraceType::kRetransmit).back().cause, tcp::RetransmitCause::kSack);
}

// RACK's rule for every copy, not only the first segment's (RFC 8985 6.2): holes 0 and 2 are
// both lost, and so are both copies. Once data sent after the copies is SACKed, both go again,
// the later hole without waiting for the earlier one's cumulative ACK or for the timer.
TEST_F(SackSender, LostCopyOfALaterHoleIsSentAgainWithoutATimeout) {
  ASSERT_EQ(Write(40).size(), 10u);
  ASSERT_THAT(Ack(0, {{1, 2}}), ElementsAre(10));
  ASSERT_THAT(Ack(0, {{3, 4}, {1, 2}}), ElementsAre(11));
  ASSERT_THAT(Ack(0, {{3, 5}, {1, 2}}), ElementsAre(0));
  ASSERT_THAT(Ack(0, {{3, 6}, {1, 2}}), IsEmpty());
  ASSERT_THAT(Ack(0, {{3, 7}, {1, 2}}), IsEmpty());
  ASSERT_THAT(Ack(0, {{3, 8}, {1, 2}}), ElementsAre(2));  // both copies out when 11 was last
  // What was sent before the copies (8 to 11) arrives: no sign about the copies yet.
  std::uint32_t sacked_to = 8;
  std::vector<std::uint32_t> sent;
  while (sacked_to < 12) {
    for (const std::uint32_t n : Ack(0, {{3, ++sacked_to}, {1, 2}})) sent.push_back(n);
  }
  EXPECT_THAT(sent, ::testing::Not(::testing::Contains(2u)));
  EXPECT_EQ(h_.Count(Counter::kTcpLostRetransmits), 0u);
  // 12, sent after both copies, is SACKed: 0 goes again (the first segment), and 2 with it or
  // with the next ACK, as pipe allows: without the rule for every copy it waited for 0's ACK.
  sent.clear();
  for (int ack = 0; ack < 3 && !::testing::Value(sent, ::testing::Contains(2u)); ++ack) {
    for (const std::uint32_t n : Ack(0, {{3, ++sacked_to}, {1, 2}})) sent.push_back(n);
  }
  EXPECT_THAT(sent, ::testing::Contains(0u));
  EXPECT_THAT(sent, ::testing::Contains(2u));
  EXPECT_EQ(h_.Count(Counter::kTcpLostRetransmits), 2u);
  EXPECT_EQ(h_.Count(Counter::kTcpRetransmitTimeouts), 0u);
  // The new copies arrive: everything up to the highest SACKed segment is acknowledged.
  Ack(sacked_to);
  EXPECT_EQ(h_.stack().Info(id_)->snd_una, Seg(sacked_to));
}

// Once the path has reordered our segments (a hole filled without our resending it, RFC 8985 6.2
// step 2), the copy is taken for lost only when more than two segments' worth of data sent after
// it is SACKed: the margin RFC 6675's IsLost keeps against reordering.
TEST_F(SackSender, AfterReorderingALostCopyNeedsAMargin) {
  ASSERT_EQ(Write(2).size(), 2u);
  ASSERT_THAT(Ack(0, {{1, 2}}), IsEmpty());  // 1 overtook 0
  ASSERT_THAT(Ack(2), IsEmpty());            // and 0 arrived: reordering, no loss
  std::uint32_t highest_sent = 0;            // the highest segment number sent so far
  const auto note = [&highest_sent](const std::vector<std::uint32_t>& sent) {
    for (const std::uint32_t n : sent) highest_sent = std::max(highest_sent, n);
    return sent;
  };
  ASSERT_EQ(note(Write(20)).front(), 2u);
  note(Ack(2, {{3, 4}}));
  note(Ack(2, {{3, 5}}));
  const std::vector<std::uint32_t> with_copy = Ack(2, {{3, 6}});
  ASSERT_THAT(with_copy, ::testing::Contains(2u)) << "the copy of 2";
  note(with_copy);
  const std::uint32_t copy_after = highest_sent;  // the copy went out after this one
  // SACK everything sent before the copy, then one, two and three segments sent after it.
  std::uint32_t sacked_to = 6;
  while (sacked_to <= copy_after) note(Ack(2, {{3, ++sacked_to}}));
  EXPECT_EQ(h_.Count(Counter::kTcpLostRetransmits), 0u);
  note(Ack(2, {{3, ++sacked_to}}));
  note(Ack(2, {{3, ++sacked_to}}));
  EXPECT_EQ(h_.Count(Counter::kTcpLostRetransmits), 0u) << "two segments after it: not enough";
  EXPECT_THAT(Ack(2, {{3, ++sacked_to}}), ::testing::Contains(2u));
  EXPECT_EQ(h_.Count(Counter::kTcpLostRetransmits), 1u);
}

// NextSeg rule 3: with no new data to send, a hole below the highest SACKed byte goes out even
// before it counts as lost, so that the last holes of a transfer do not wait for the timer.
TEST_F(SackSender, WithNothingNewToSendAnUnreportedHoleIsResent) {
  ASSERT_EQ(Write(10).size(), 10u);
  // Segments 0 and 7 are lost; 8 and 9 arrive after the others.
  Ack(0, {{1, 2}});
  Ack(0, {{1, 3}});
  ASSERT_THAT(Ack(0, {{1, 4}}), ElementsAre(0));
  EXPECT_THAT(Ack(0, {{1, 5}}), IsEmpty());
  EXPECT_THAT(Ack(0, {{1, 6}}), IsEmpty());
  EXPECT_THAT(Ack(0, {{1, 7}}), IsEmpty());
  // 8 arrives: only one segment above the hole at 7, not lost, but rule 3 resends it once pipe
  // (the copy of 0, and 9) leaves room.
  EXPECT_THAT(Ack(0, {{8, 9}, {1, 7}}), ElementsAre(7));
  EXPECT_THAT(Ack(0, {{8, 10}, {1, 7}}), IsEmpty()) << "HighRxt is past it: not twice";
}

// RFC 6675 5: recovery ends when the cumulative ACK reaches the recovery point (everything sent
// when it began); cwnd stays at ssthresh, and a trace says so.
TEST_F(SackSender, FullAckEndsRecovery) {
  ASSERT_EQ(Write(10).size(), 10u);
  Ack(0, {{1, 2}});
  Ack(0, {{1, 3}});
  ASSERT_THAT(Ack(0, {{1, 4}}), ElementsAre(0));
  EXPECT_THAT(Ack(4, {}), IsEmpty()) << "a partial ACK; segments 4 to 9 are in flight";
  EXPECT_TRUE(TracesOf(tcp::TraceType::kRecoveryEnded).empty());
  Ack(10, {});
  const std::vector<tcp::Trace> ended = TracesOf(tcp::TraceType::kRecoveryEnded);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].seq, Seg(10));
  EXPECT_EQ(ended[0].length, 5 * kMss);
  EXPECT_EQ(Cwnd(), 5 * kMss);
  EXPECT_EQ(h_.stack().Info(id_)->send_buffered, 0u);
}

// RFC 6675 5 step 2: one ACK that SACKs more than two segments above the first shows it lost;
// recovery need not wait for three duplicates (an ACK may have been lost, or one covers several
// segments).
TEST_F(SackSender, OneAckShowingTheFirstSegmentLostStartsRecovery) {
  ASSERT_EQ(Write(10).size(), 10u);
  EXPECT_THAT(Ack(0, {{1, 4}}), ElementsAre(0));
  EXPECT_EQ(h_.Count(Counter::kTcpRecoveries), 1u);
}

// RFC 2018 8: after a timeout the scoreboard is forgotten (the receiver may have reneged), and
// RFC 6675 5.1: go-back-N skips what blocks reported since then.
TEST_F(SackSender, TimeoutForgetsTheScoreboardThenGoBackNSkipsWhatIsSackedAfterIt) {
  ASSERT_EQ(Write(10).size(), 10u);
  // Segment 0 is lost and only one duplicate makes it back: no recovery. The probe timer
  // resends the last segment first (RFC 8985 7.3); nothing answers it.
  EXPECT_THAT(Ack(0, {{1, 2}}), IsEmpty());
  ASSERT_EQ(h_.Count(Counter::kTcpRecoveries), 0u);
  EXPECT_THAT(AwaitTimeout(), ElementsAre(9)) << "the tail loss probe";
  EXPECT_THAT(AwaitTimeout(), ElementsAre(0)) << "cwnd is one segment after the timeout";
  EXPECT_EQ(h_.Count(Counter::kTcpRetransmitTimeouts), 1u);
  // The copy of 0 arrives, and 2 to 4 are reported held: 1 goes out, then go-back-N jumps over
  // 2 to 4 (cwnd, two segments now, holds 5 back until the next ACK).
  EXPECT_THAT(Ack(1, {{2, 5}}), ElementsAre(1));
  EXPECT_THAT(Ack(5, {}), ElementsAre(5, 6, 7));
}

// Tail loss probe (RFC 8985 7): the last segment of a flight is lost and nothing follows it, so
// no duplicate can come. The probe timer resends it about two round trips (here the 200 ms a
// lone segment's delayed ACK may take) after the last ACK, long before the retransmission
// timeout; once an ACK beyond the probe shows that the copy, not the original, got through, cwnd
// is reduced as for a loss (RFC 8985 7.4.2).
TEST_F(SackSender, TailLossIsRepairedByAProbeAndCwndIsReduced) {
  ASSERT_EQ(Write(10).size(), 10u);
  ASSERT_THAT(Ack(9, {}), IsEmpty());  // segment 9 is lost
  const timers::TimePoint acked = h_.now();
  EXPECT_THAT(AwaitTimeout(), ElementsAre(9));
  EXPECT_LE(h_.now() - acked, milliseconds(250));
  EXPECT_EQ(h_.Count(Counter::kTcpLossProbes), 1u);
  EXPECT_EQ(h_.Count(Counter::kTcpRetransmitTimeouts), 0u);
  const std::vector<tcp::Trace> probes = TracesOf(tcp::TraceType::kLossProbe);
  ASSERT_EQ(probes.size(), 1u);
  EXPECT_EQ(probes[0].seq, Seg(9));
  EXPECT_EQ(probes[0].count, 1) << "it resent the last segment";
  EXPECT_EQ(TracesOf(tcp::TraceType::kRetransmit).back().cause, tcp::RetransmitCause::kProbe);
  EXPECT_THAT(Ack(10, {}), IsEmpty());
  const std::uint32_t cwnd = Cwnd();
  EXPECT_TRUE(TracesOf(tcp::TraceType::kLossProbeRepaired).empty())
      << "an ACK up to the probe could be the original's";
  // More data, acknowledged with no D-SACK for the probe on the way: the copy repaired a loss.
  ASSERT_THAT(Write(2), ElementsAre(10, 11));
  Ack(12, {});
  EXPECT_EQ(h_.Count(Counter::kTcpLossProbeRepairs), 1u);
  EXPECT_LE(Cwnd(), cwnd / 2 + 2 * kMss) << "halved (the ACK of 10 and 11 grew it a little)";
  ASSERT_EQ(TracesOf(tcp::TraceType::kLossProbeRepaired).size(), 1u);
}

// RFC 8985 7.2: the probe timer restarts when new data goes out, so its timeout follows the
// flight. Armed with one segment in flight it allows 200 ms for the peer's delayed ACK; once four
// more follow, two round trips (here the 2 ms floor) are the wait.
TEST_F(SackSender, ProbeTimerFollowsTheFlightAsNewDataGoesOut) {
  ASSERT_THAT(Write(1), ElementsAre(0));
  ASSERT_THAT(Write(4), ElementsAre(1, 2, 3, 4));
  const timers::TimePoint sent = h_.now();
  EXPECT_THAT(AwaitTimeout(), ElementsAre(4)) << "the last segment, probed";
  EXPECT_LE(h_.now() - sent, milliseconds(20));
  EXPECT_EQ(h_.Count(Counter::kTcpLossProbes), 1u);
}

// RFC 8985 7.4.1: a D-SACK block for the probe's copy shows the original arrived: no loss, and
// cwnd stays.
TEST_F(SackSender, ProbeReportedAsDuplicateLeavesCwndAlone) {
  ASSERT_EQ(Write(10).size(), 10u);
  ASSERT_THAT(Ack(9, {}), IsEmpty());  // segment 9 is only late
  ASSERT_THAT(AwaitTimeout(), ElementsAre(9));
  Ack(10, {});         // the original
  Ack(10, {{9, 10}});  // the copy, reported as a duplicate
  const std::uint32_t cwnd = Cwnd();
  ASSERT_THAT(Write(2), ElementsAre(10, 11));
  Ack(12, {});
  EXPECT_EQ(h_.Count(Counter::kTcpLossProbeRepairs), 0u);
  EXPECT_GE(Cwnd(), cwnd);
}

// Blocks that report nothing we sent, or nothing above SND.UNA, change nothing: only a plausible
// block counts, and the duplicates still add up to a fast retransmit (RFC 5681 2 for the pure
// ACKs that repeat it).
TEST_F(SackSender, ImplausibleBlocksAreIgnored) {
  ASSERT_EQ(Write(5).size(), 5u);
  wire::TcpOptions options;
  options.sack_block_count = 4;
  options.sack_blocks = {Block{Seg(1), Seg(2)}, Block{Seg(4), Seg(4) + 99'999},
                         Block{Seg(0) + 500, Seg(0) + 100}, Block{1, 2}};
  for (int i = 0; i < 2; ++i) {
    h_.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, Seg(0), 65535, {}, options);
    EXPECT_THAT(Sent(), IsEmpty());
  }
  h_.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, Seg(0), 65535, {}, options);
  EXPECT_THAT(Sent(), ElementsAre(0));
  EXPECT_EQ(h_.Count(Counter::kDropTcpBadAck), 0u);
  EXPECT_EQ(h_.Count(Counter::kDropTcpMalformed), 0u);
  // SACK blocks never make us forget data: everything is still in flight until acknowledged.
  EXPECT_EQ(h_.stack().Info(id_)->send_buffered, 5u * kMss);
  Ack(5, {});
  EXPECT_EQ(h_.stack().Info(id_)->send_buffered, 0u);
}

}  // namespace
}  // namespace tapstack::testing
