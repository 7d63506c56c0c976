// TCP timestamps on the virtual clock (RFC 7323): negotiation (3.2), what TSval and TSecr carry
// (3.2, 4.3), PAWS (5.3, 5.5), round trips measured from the echo (4.1, Appendix G) and what the
// option costs each segment. The peer is the hand-driven harness.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/tcp_harness.h"

namespace tapstack::testing {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using wire::TcpFlags;
using Timestamps = wire::TcpOptions::Timestamps;

constexpr std::uint16_t kPort = 8000;
constexpr std::uint32_t kPeerIss = 0x20000;
constexpr std::uint8_t kSA = TcpFlags::kSyn | TcpFlags::kAck;
constexpr std::uint8_t kPA = TcpFlags::kPsh | TcpFlags::kAck;

Bytes Pattern(std::size_t n) {
  Bytes bytes(n);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(i * 13);
  return bytes;
}

wire::TcpOptions SynOptions(std::optional<Timestamps> timestamps, bool sack = false,
                            std::optional<std::uint8_t> window_scale = std::nullopt) {
  wire::TcpOptions options;
  options.mss = 1460;
  options.sack_permitted = sack;
  options.window_scale = window_scale;
  options.timestamps = timestamps;
  return options;
}

wire::TcpOptions Stamp(std::uint32_t tsval, std::uint32_t tsecr) {
  wire::TcpOptions options;
  options.timestamps = Timestamps{tsval, tsecr};
  return options;
}

// A passive open on kPort from a peer whose SYN carries TSval `peer_tsval` (when set), completed
// `handshake_rtt` after our SYN-ACK with an ACK carrying `peer_tsval + 1`. Stores our ISS and our
// SYN-ACK's timestamps.
class TimestampsTest : public ::testing::Test {
 protected:
  explicit TimestampsTest(HarnessOptions options = {}) : h_(options) {}

  // `window_scale`: the shift the peer's SYN offers (none by default: its windows are then at
  // most 65,535 bytes).
  tcp::ConnectionId OpenPassive(std::optional<std::uint32_t> peer_tsval, bool sack = false,
                                tcp::Duration handshake_rtt = tcp::Duration::zero(),
                                std::optional<std::uint8_t> window_scale = std::nullopt) {
    EXPECT_FALSE(h_.stack().Listen(kPort, 4, h_.now()));
    h_.Inject(kPort, TcpFlags::kSyn, kPeerIss, 0, 65535, {},
              SynOptions(
                  peer_tsval ? std::optional<Timestamps>(Timestamps{*peer_tsval, 0}) : std::nullopt,
                  sack, window_scale));
    syn_ack_ = h_.TakeOne();
    EXPECT_TRUE(syn_ack_.Only(kSA));
    our_next_ = syn_ack_.seq + 1;
    h_.AdvanceBy(handshake_rtt);
    h_.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, our_next_, 65535, {},
              peer_tsval ? Stamp(*peer_tsval + 1, syn_ack_.options.timestamps->value)
                         : wire::TcpOptions{});
    const std::optional<tcp::ConnectionId> id = h_.stack().Accept(kPort);
    EXPECT_TRUE(id.has_value());
    return id.value_or(tcp::ConnectionId{});
  }

  // The peer's data at `offset` from its ISS + 1, stamped `tsval`, echoing `tsecr`.
  void PeerData(std::uint32_t offset, std::size_t length, std::uint32_t tsval,
                std::uint32_t tsecr = 0) {
    h_.Inject(kPort, kPA, kPeerIss + 1 + offset, our_next_, 65535, Pattern(length),
              Stamp(tsval, tsecr));
  }

  std::uint32_t OurTsval(const Segment& segment) const {
    EXPECT_TRUE(segment.options.timestamps.has_value()) << segment.Describe();
    return segment.options.timestamps ? segment.options.timestamps->value : 0;
  }
  std::uint32_t Echo(const Segment& segment) const {
    EXPECT_TRUE(segment.options.timestamps.has_value()) << segment.Describe();
    return segment.options.timestamps ? segment.options.timestamps->echo_reply : 0;
  }

  TcpHarness h_;
  Segment syn_ack_;
  std::uint32_t our_next_ = 0;
};

// --- Negotiation (RFC 7323 3.2).

TEST_F(TimestampsTest, ActiveOpenOffersTimestampsAndEchoesTheSynAcks) {
  h_.set_peer_port(9);
  const tcp::Result<tcp::ConnectionId> id =
      h_.stack().Connect(TcpHarness::kPeerAddress, 9, h_.now());
  ASSERT_TRUE(id.ok());
  const Segment syn = h_.TakeOne();
  ASSERT_TRUE(syn.Only(TcpFlags::kSyn));
  ASSERT_TRUE(syn.options.timestamps.has_value());
  EXPECT_EQ(syn.options.timestamps->echo_reply, 0u) << "TSecr is 0 without ACK";
  h_.AdvanceBy(milliseconds(30));
  h_.Inject(syn.src_port, kSA, kPeerIss, syn.seq + 1, 65535, {},
            SynOptions(Timestamps{777, OurTsval(syn)}));
  const Segment ack = h_.TakeOne();
  ASSERT_TRUE(ack.Only(TcpFlags::kAck));
  EXPECT_EQ(Echo(ack), 777u);
  EXPECT_EQ(OurTsval(ack) - OurTsval(syn), 30u) << "one tick per millisecond";
  EXPECT_TRUE(h_.stack().Info(*id)->timestamps);
  EXPECT_EQ(h_.stack().Info(*id)->mss, 1460u - 12) << "the option's 12 bytes come off the payload";
}

TEST_F(TimestampsTest, ActiveOpenWithoutTheSynAcksOptionSendsNoTimestamps) {
  h_.set_peer_port(9);
  const tcp::Result<tcp::ConnectionId> id =
      h_.stack().Connect(TcpHarness::kPeerAddress, 9, h_.now());
  ASSERT_TRUE(id.ok());
  const Segment syn = h_.TakeOne();
  h_.Inject(syn.src_port, kSA, kPeerIss, syn.seq + 1, 65535, {}, SynOptions(std::nullopt));
  const Segment ack = h_.TakeOne();
  EXPECT_FALSE(ack.options.timestamps.has_value());
  EXPECT_FALSE(h_.stack().Info(*id)->timestamps);
  EXPECT_EQ(h_.stack().Info(*id)->mss, 1460u);
  // Segments without the option are fine here.
  h_.Inject(syn.src_port, kPA, kPeerIss + 1, syn.seq + 1, 65535, Pattern(10));
  EXPECT_EQ(h_.ReadAll(*id).size(), 10u);
}

TEST_F(TimestampsTest, PassiveOpenEchoesTheSynsTimestamp) {
  const tcp::ConnectionId id = OpenPassive(5000);
  ASSERT_TRUE(syn_ack_.options.timestamps.has_value());
  EXPECT_EQ(syn_ack_.options.timestamps->echo_reply, 5000u);
  EXPECT_TRUE(h_.stack().Info(id)->timestamps);
}

TEST_F(TimestampsTest, PassiveOpenAnswersASynWithoutTimestampsWithout) {
  const tcp::ConnectionId id = OpenPassive(std::nullopt);
  EXPECT_FALSE(syn_ack_.options.timestamps.has_value());
  EXPECT_FALSE(h_.stack().Info(id)->timestamps);
}

class TimestampsOffTest : public TimestampsTest {
 protected:
  static HarnessOptions Off() {
    HarnessOptions options;
    options.tcp.timestamps = false;
    return options;
  }
  TimestampsOffTest() : TimestampsTest(Off()) {}
};

TEST_F(TimestampsOffTest, TheSwitchOffNeitherOffersNorEchoes) {
  h_.set_peer_port(9);
  ASSERT_TRUE(h_.stack().Connect(TcpHarness::kPeerAddress, 9, h_.now()).ok());
  EXPECT_FALSE(h_.TakeOne().options.timestamps.has_value());
  h_.set_peer_port(40000);
  const tcp::ConnectionId id = OpenPassive(5000);
  EXPECT_FALSE(syn_ack_.options.timestamps.has_value());
  EXPECT_FALSE(h_.stack().Info(id)->timestamps);
}

// Different hosts see different clocks (RFC 7323 7.1: the offset hides our uptime), while one
// host sees one clock across connections.
TEST_F(TimestampsTest, TheClockIsOffsetPerPeerAddressAndSharedAcrossItsConnections) {
  h_.set_peer_port(9);
  ASSERT_TRUE(h_.stack().Connect(TcpHarness::kPeerAddress, 9, h_.now()).ok());
  const std::uint32_t first = OurTsval(h_.TakeOne());
  h_.set_peer_port(10);
  ASSERT_TRUE(h_.stack().Connect(TcpHarness::kPeerAddress, 10, h_.now()).ok());
  EXPECT_EQ(OurTsval(h_.TakeOne()), first);
  const std::uint32_t uptime_ms = static_cast<std::uint32_t>(
      std::chrono::duration_cast<milliseconds>(h_.now().time_since_epoch()).count());
  EXPECT_NE(first, uptime_ms);
  EXPECT_NE(first, 0u);
}

// --- What we echo (RFC 7323 4.3).

// Delayed ACKs echo the earliest segment the ACK covers, so that the sender's measurement
// includes the delay.
TEST_F(TimestampsTest, ADelayedAckEchoesTheEarliestSegmentItAcknowledges) {
  OpenPassive(100);
  PeerData(0, 100, 110);
  EXPECT_TRUE(h_.Take().empty()) << "delayed";
  PeerData(100, 100, 120);
  const Segment ack = h_.TakeOne();  // every second segment
  EXPECT_EQ(ack.ack, kPeerIss + 1 + 200);
  EXPECT_EQ(Echo(ack), 110u);
  PeerData(200, 100, 130);
  h_.AdvanceBy(milliseconds(40));
  const Segment delayed = h_.TakeOne();
  EXPECT_EQ(delayed.ack, kPeerIss + 1 + 300);
  EXPECT_EQ(Echo(delayed), 130u);
}

// An out-of-order segment does not update TS.Recent; the one that fills the hole does (RFC 7323
// 4.3, case 3): the echo then times the retransmission, not the segment sent before the loss.
TEST_F(TimestampsTest, OutOfOrderDataKeepsTheEchoAndTheGapFillerTakesIt) {
  OpenPassive(100);
  PeerData(1000, 100, 140);  // ahead of a hole at 0
  const Segment dup = h_.TakeOne();
  EXPECT_EQ(dup.ack, kPeerIss + 1);
  EXPECT_EQ(Echo(dup), 101u) << "still the handshake ACK's";
  PeerData(0, 1000, 150);  // the retransmission filling the hole
  const Segment ack = h_.TakeOne();
  EXPECT_EQ(ack.ack, kPeerIss + 1 + 1100);
  EXPECT_EQ(Echo(ack), 150u);
}

// --- PAWS (RFC 7323 5.3 and 5.5).

TEST_F(TimestampsTest, PawsDropsAnOldDuplicateAndAcknowledges) {
  const tcp::ConnectionId id = OpenPassive(100);
  PeerData(0, 100, 200);
  PeerData(100, 100, 210);
  h_.Take();
  // An old segment from an earlier wrap of the sequence space, apparently in the window: its
  // timestamp gives it away.
  PeerData(200, 100, 150);
  const Segment ack = h_.TakeOne();
  EXPECT_TRUE(ack.Only(TcpFlags::kAck));
  EXPECT_EQ(ack.ack, kPeerIss + 1 + 200) << "the old segment's data was not taken";
  EXPECT_EQ(h_.Count(Counter::kDropTcpPaws), 1u);
  EXPECT_EQ(h_.ReadAll(id).size(), 200u);
  // Timestamps compare modulo 2^32 (RFC 7323 5.2): 2^31 - 1 ahead of TS.Recent is later, not
  // earlier. TS.Recent is 200, the first segment our ACK covered.
  PeerData(200, 100, 200 + 0x7fffffffu);
  h_.AdvanceBy(milliseconds(40));  // the delayed ACK
  EXPECT_EQ(h_.TakeOne().ack, kPeerIss + 1 + 300);
  EXPECT_EQ(h_.Count(Counter::kDropTcpPaws), 1u);
}

TEST_F(TimestampsTest, PawsDoesNotApplyToAReset) {
  const tcp::ConnectionId id = OpenPassive(100);
  PeerData(0, 100, 200);
  h_.Inject(kPort, TcpFlags::kRst, kPeerIss + 1 + 100, 0, 0, {}, Stamp(50, 0));
  EXPECT_EQ(h_.Count(Counter::kDropTcpPaws), 0u);
  EXPECT_FALSE(h_.stack().Info(id).has_value()) << "reset";
}

TEST_F(TimestampsTest, ASegmentWithoutTheOptionIsDroppedOnceAgreed) {
  const tcp::ConnectionId id = OpenPassive(100);
  h_.Inject(kPort, kPA, kPeerIss + 1, our_next_, 65535, Pattern(100));
  EXPECT_TRUE(h_.Take().empty()) << "dropped silently";
  EXPECT_EQ(h_.Count(Counter::kDropTcpNoTimestamp), 1u);
  EXPECT_TRUE(h_.ReadAll(id).empty());
  // A RST needs none.
  h_.Inject(kPort, TcpFlags::kRst, kPeerIss + 1, 0, 0);
  EXPECT_FALSE(h_.stack().Info(id).has_value());
}

// After 24 days without a segment TS.Recent is no longer trusted: the peer's clock may have run
// half its space since, and its next segment would look old.
TEST_F(TimestampsTest, AStaleTsRecentIsReplacedAfterTwentyFourDaysIdle) {
  const tcp::ConnectionId id = OpenPassive(0x10000000);
  h_.AdvanceBy(hours(24 * 24) + hours(1));
  h_.Take();
  PeerData(0, 100, 5);  // earlier than TS.Recent modulo 2^32
  EXPECT_EQ(h_.Count(Counter::kDropTcpPaws), 0u);
  EXPECT_EQ(h_.ReadAll(id).size(), 100u);
  // And 5 is TS.Recent now: an earlier one is old again.
  PeerData(100, 100, 4);
  EXPECT_EQ(h_.Count(Counter::kDropTcpPaws), 1u);
}

// --- Round trips from the echo (RFC 7323 4.1).

// Karn's rule forbids timing a retransmitted segment; the echo says which copy arrived, so the
// ACK of a retransmission still gives a sample. The handshake measured 0 ms, so the timer starts
// at its 200 ms floor and backs off to 400 ms after the first timeout; the ACK of the
// retransmission comes 300 ms later and echoes the retransmission's TSval. SRTT 37.5 ms and
// RTTVAR 75 ms then make the next timeout 337.5 ms, where without the sample it would be 200 ms.
TEST_F(TimestampsTest, TheAckOfARetransmissionGivesAnRttSample) {
  const tcp::ConnectionId id = OpenPassive(100);
  ASSERT_TRUE(h_.stack().Send(id, Pattern(100), h_.now()).ok());
  const Segment first = h_.TakeOne();
  h_.AdvanceBy(milliseconds(200));
  const Segment again = h_.TakeOne();
  ASSERT_EQ(again.seq, first.seq) << "the first timeout";
  h_.AdvanceBy(milliseconds(300));
  h_.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, first.seq + 100, 65535, {},
            Stamp(300, OurTsval(again)));
  ASSERT_TRUE(h_.stack().Send(id, Pattern(100), h_.now()).ok());
  const Segment next = h_.TakeOne();
  h_.AdvanceBy(milliseconds(330));
  EXPECT_TRUE(h_.Take().empty()) << "not the 200 ms of a timer without the sample";
  h_.AdvanceBy(milliseconds(10));
  EXPECT_EQ(h_.TakeOne().seq, next.seq);
}

// An echo of a time we never sent (ahead of our clock) is no measurement: the same exchange with
// such an echo leaves the timer at its 200 ms floor.
TEST_F(TimestampsTest, AnEchoFromTheFutureIsNoSample) {
  const tcp::ConnectionId id = OpenPassive(100);
  ASSERT_TRUE(h_.stack().Send(id, Pattern(100), h_.now()).ok());
  const Segment first = h_.TakeOne();
  h_.AdvanceBy(milliseconds(200));
  const Segment again = h_.TakeOne();
  h_.AdvanceBy(milliseconds(300));
  h_.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, first.seq + 100, 65535, {},
            Stamp(300, OurTsval(again) + 100000));
  ASSERT_TRUE(h_.stack().Send(id, Pattern(100), h_.now()).ok());
  const Segment next = h_.TakeOne();
  h_.AdvanceBy(milliseconds(200));
  EXPECT_EQ(h_.TakeOne().seq, next.seq);
}

// --- What the option costs.

// Full segments carry MSS - 12 bytes of data, and an ACK has room for three SACK blocks beside
// the option (RFC 2018 3).
TEST_F(TimestampsTest, FullSegmentsShrinkByTheOptionAndSackBlocksFitThreeBesideIt) {
  const tcp::ConnectionId id = OpenPassive(100, /*sack=*/true);
  ASSERT_TRUE(h_.stack().Send(id, Pattern(3000), h_.now()).ok());
  const std::vector<Segment> sent = h_.Take();
  ASSERT_GE(sent.size(), 2u);
  EXPECT_EQ(sent[0].payload.size(), 1448u);
  EXPECT_EQ(sent[1].payload.size(), 1448u);
  for (std::uint32_t i = 0; i < 4; ++i) PeerData(1000 + 200 * i, 100, 200 + i, OurTsval(sent[0]));
  const std::vector<Segment> acks = h_.Take();
  ASSERT_EQ(acks.size(), 4u);
  EXPECT_EQ(acks.back().options.sacks().size(), 3u);
  EXPECT_TRUE(acks.back().options.timestamps.has_value());
}

// Keepalive probes carry the option too, so that a peer applying PAWS answers them.
TEST_F(TimestampsTest, KeepaliveProbesCarryTheOption) {
  const tcp::ConnectionId id = OpenPassive(100);
  tcp::KeepaliveOptions keepalive;
  keepalive.enabled = true;
  keepalive.idle = std::chrono::seconds(10);
  ASSERT_FALSE(h_.stack().SetKeepalive(id, keepalive, h_.now()));
  h_.AdvanceBy(std::chrono::seconds(10));
  const Segment probe = h_.TakeOne();
  EXPECT_EQ(probe.seq, our_next_ - 1);
  EXPECT_EQ(Echo(probe), 101u);
}

// --- Spurious timeouts (RFC 3522 detection, RFC 4015 response, RFC 9438 4.9).

// Twenty segments queued after a 20 ms handshake: ten go out (the initial window), the probe
// timer sends the eleventh (RFC 8985 7.3), then the retransmission timer resends the first.
// The peer then acknowledges the first five, echoing `echo_of_original` ? the first
// transmission's TSval : the retransmission's.
class SpuriousTimeoutTest : public TimestampsTest {
 protected:
  static constexpr std::uint32_t kSegment = 1460 - 12;  // the MSS less the timestamps option

  void TimeOutThenAckFive(bool echo_of_original) {
    id_ = OpenPassive(100, /*sack=*/true, milliseconds(20));
    ASSERT_EQ(h_.stack().Send(id_, Pattern(20 * kSegment), h_.now()).bytes, 20 * kSegment);
    const std::vector<Segment> window = h_.Take();
    ASSERT_EQ(window.size(), 10u);
    cwnd_before_ = h_.stack().Info(id_)->cwnd;
    h_.AdvanceBy(milliseconds(40));
    ASSERT_EQ(h_.TakeOne().seq, Seg(10)) << "the probe: new data";
    h_.AdvanceBy(milliseconds(250));
    const Segment again = h_.TakeOne();
    ASSERT_EQ(again.seq, Seg(0)) << "the timeout's retransmission";
    ASSERT_EQ(h_.Count(Counter::kTcpRetransmitTimeouts), 1u);
    ASSERT_LT(h_.stack().Info(id_)->cwnd, cwnd_before_);
    h_.AdvanceBy(milliseconds(10));
    h_.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, Seg(5), 65535, {},
              Stamp(200, OurTsval(echo_of_original ? window[0] : again)));
    after_ = h_.Take();
  }
  std::uint32_t Seg(std::uint32_t n) const { return our_next_ + n * kSegment; }

  tcp::ConnectionId id_{};
  std::uint32_t cwnd_before_ = 0;
  std::vector<Segment> after_;  // what we sent in answer to the ACK
};

// The ACK echoes the original transmission: it was delayed, not lost, and the timeout needed
// nothing. The window comes back (RFC 4015: the flight plus what the ACK acknowledged, at most
// the old window) and sending resumes with new data, where go-back-N would resend segments
// five to ten, which are in the network already.
TEST_F(SpuriousTimeoutTest, AnAckEchoingTheOriginalUndoesTheTimeout) {
  TimeOutThenAckFive(/*echo_of_original=*/true);
  EXPECT_EQ(h_.Count(Counter::kTcpSpuriousTimeouts), 1u);
  EXPECT_EQ(h_.stack().Info(id_)->cwnd, cwnd_before_);
  ASSERT_EQ(after_.size(), 4u) << "the old window less the six segments still in flight";
  for (std::size_t i = 0; i < after_.size(); ++i) {
    EXPECT_EQ(after_[i].seq, Seg(11 + static_cast<std::uint32_t>(i)));
  }
  const auto spurious = std::find_if(h_.traces().begin(), h_.traces().end(), [](const auto& t) {
    return t.type == tcp::TraceType::kSpuriousTimeout;
  });
  ASSERT_NE(spurious, h_.traces().end());
  EXPECT_EQ(spurious->seq, Seg(5));
  EXPECT_EQ(spurious->length, cwnd_before_);
}

// The ACK echoes the retransmission: the original was lost, the timeout was right, and its
// response stands: the window restarts from one segment and go-back-N resends from SND.UNA.
TEST_F(SpuriousTimeoutTest, AnAckEchoingTheRetransmissionLeavesTheTimeoutsResponse) {
  TimeOutThenAckFive(/*echo_of_original=*/false);
  EXPECT_EQ(h_.Count(Counter::kTcpSpuriousTimeouts), 0u);
  EXPECT_EQ(h_.stack().Info(id_)->cwnd, 2 * kSegment) << "slow start from the loss window";
  ASSERT_EQ(after_.size(), 2u);
  EXPECT_EQ(after_[0].seq, Seg(5));
  EXPECT_EQ(after_[1].seq, Seg(6));
}

// A tail loss probe that resent the last segment was the episode's first retransmission: the
// ACK that echoes it, after the timeout that followed, must not pass for the echo of an
// original, so nothing is undone.
TEST_F(SpuriousTimeoutTest, AfterAProbeThatResentTheEchoOfTheProbeUndoesNothing) {
  id_ = OpenPassive(100, /*sack=*/true, milliseconds(20));
  ASSERT_EQ(h_.stack().Send(id_, Pattern(10 * kSegment), h_.now()).bytes, 10 * kSegment);
  ASSERT_EQ(h_.Take().size(), 10u);
  h_.AdvanceBy(milliseconds(40));
  const Segment probe = h_.TakeOne();
  ASSERT_EQ(probe.seq, Seg(9)) << "the probe: the last segment again";
  h_.AdvanceBy(milliseconds(250));
  ASSERT_EQ(h_.TakeOne().seq, Seg(0)) << "the timeout's retransmission";
  h_.AdvanceBy(milliseconds(10));
  h_.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, Seg(10), 65535, {}, Stamp(200, OurTsval(probe)));
  EXPECT_EQ(h_.Count(Counter::kTcpSpuriousTimeouts), 0u);
  EXPECT_EQ(h_.stack().Info(id_)->cwnd, 2 * kSegment) << "slow start from the loss window";
}

// --- What the echoes feed: HyStart++ (RFC 9406) in CUBIC's first slow start.

// Rounds of a bulk transfer, each segment ACKed `rtt` after it went out, echoing its TSval: every
// ACK is an RTT sample. Once the rounds' minimum RTT rises from 20 ms to 30 ms (by more than
// RttThresh, 4 ms here), CUBIC's slow start moves to CSS and an ACK of one segment grows cwnd by a
// quarter segment; NewReno, which runs no HyStart++, goes on growing a segment per segment.
class HyStartFromEchoes : public TimestampsTest,
                          public ::testing::WithParamInterface<tcp::CongestionAlgorithm> {
 protected:
  HyStartFromEchoes() : TimestampsTest(Options()) {}
  static HarnessOptions Options() {
    HarnessOptions options;
    options.tcp.congestion_control = GetParam();
    return options;
  }
};

TEST_P(HyStartFromEchoes, RisingRoundTripsMoveCubicToConservativeSlowStart) {
  // The handshake's round trip is the first sample (the SYN-ACK's echo), in HyStart++'s first
  // round.
  // The peer's window (65,535 bytes scaled by 2^4) and a send buffer kept full leave cwnd the
  // only limit: cwnd grows only then.
  const tcp::ConnectionId id =
      OpenPassive(/*peer_tsval=*/100, /*sack=*/false, milliseconds(20), /*window_scale=*/4);
  const Bytes data = Pattern(64 * 1024);
  auto fill = [&] {
    while (h_.stack().Send(id, data, h_.now()).bytes > 0) {
    }
  };
  fill();
  const std::uint32_t mss = h_.stack().Info(id)->mss;
  std::vector<Segment> in_flight = h_.Take();
  std::uint32_t peer_tsval = 200;
  // The cwnd growth of each round's last ACK. A round of ACKs straddles two of HyStart++'s
  // rounds (the segments sent in answer to the last ACK of one belong to the round after next),
  // so the rise takes two rounds at 30 ms to show in a whole round's minimum.
  std::vector<std::uint32_t> growth;
  for (const int rtt : {20, 20, 20, 30, 30}) {
    h_.AdvanceBy(milliseconds(rtt));
    std::vector<Segment> next;
    std::uint32_t last_growth = 0;
    for (const Segment& segment : in_flight) {
      if (segment.payload.empty()) continue;
      const std::uint32_t before = h_.stack().Info(id)->cwnd;
      h_.Inject(kPort, TcpFlags::kAck, kPeerIss + 1,
                segment.seq + static_cast<std::uint32_t>(segment.payload.size()), 65535, {},
                Stamp(++peer_tsval, OurTsval(segment)));
      last_growth = h_.stack().Info(id)->cwnd - before;
      fill();
      for (Segment& sent : h_.Take()) next.push_back(std::move(sent));
    }
    ASSERT_FALSE(next.empty()) << "the transfer stalled";
    in_flight = std::move(next);
    growth.push_back(last_growth);
  }
  EXPECT_EQ(growth[2], mss) << "slow start while the round trip holds at 20 ms";
  EXPECT_EQ(growth[4], GetParam() == tcp::CongestionAlgorithm::kCubic ? mss / 4 : mss);
  EXPECT_EQ(h_.Count(Counter::kTcpRetransmits), 0u);
}

INSTANTIATE_TEST_SUITE_P(Controllers, HyStartFromEchoes,
                         ::testing::Values(tcp::CongestionAlgorithm::kCubic,
                                           tcp::CongestionAlgorithm::kNewReno),
                         [](const ::testing::TestParamInfo<tcp::CongestionAlgorithm>& info) {
                           return std::string(tcp::CongestionAlgorithmName(info.param));
                         });

}  // namespace
}  // namespace tapstack::testing
