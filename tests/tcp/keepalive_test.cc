// Keepalive (RFC 1122 4.2.3.6, RFC 9293 3.8.4) on a virtual clock: every probe is inspected, every
// time is exact.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>

#include "tests/support/tcp_harness.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using wire::TcpFlags;

constexpr std::uint16_t kPort = 7000;
constexpr std::uint32_t kPeerIss = 5000;

class KeepaliveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    id_ = harness_.EstablishPassive(kPort, kPeerIss);
    established_at_ = harness_.now();
  }

  tcp::KeepaliveOptions Canonical() {
    return tcp::KeepaliveOptions{.enabled = true, .idle = seconds(3), .interval = seconds(2),
                                 .count = 4};
  }

  // The peer's next sequence number and what it acknowledges of ours.
  std::uint32_t PeerSeq() const { return kPeerIss + 1; }
  std::uint32_t OurNext() const { return harness_.our_iss() + 1; }

  // The peer answers a probe as RFC 9293 3.10.7.4 says: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
  void PeerAnswers() { harness_.Inject(kPort, TcpFlags::kAck, PeerSeq(), OurNext(), 65535); }

  void ExpectProbe(const Segment& probe) {
    EXPECT_TRUE(probe.Only(TcpFlags::kAck)) << probe.Describe();
    EXPECT_EQ(probe.seq, OurNext() - 1) << "SEQ = SND.NXT - 1";
    EXPECT_EQ(probe.ack, PeerSeq()) << "ACK = RCV.NXT";
    EXPECT_TRUE(probe.payload.empty());
    EXPECT_GT(probe.window, 0);
  }

  std::vector<tcp::Event> ClosedEvents() const {
    std::vector<tcp::Event> closed;
    for (const tcp::Event& e : harness_.events()) {
      if (e.type == tcp::EventType::kClosed) closed.push_back(e);
    }
    return closed;
  }

  TcpHarness harness_;
  tcp::ConnectionId id_;
  timers::TimePoint established_at_;
};

TEST_F(KeepaliveTest, CanonicalSequenceAgainstASilentPeer) {
  ASSERT_FALSE(harness_.stack().SetKeepalive(id_, Canonical(), harness_.now()));
  const timers::TimePoint last_received = established_at_;
  // Probes at +3, +5, +7, +9 s after the last segment received; nothing in between.
  for (int probe = 1; probe <= 4; ++probe) {
    const timers::TimePoint due = last_received + seconds(3) + seconds(2) * (probe - 1);
    harness_.AdvanceTo(due - milliseconds(1));
    EXPECT_TRUE(harness_.Take().empty()) << "probe " << probe << " sent early";
    harness_.AdvanceTo(due);
    ExpectProbe(harness_.TakeOne());
    EXPECT_EQ(harness_.stack().Info(id_)->keepalive_probes_unanswered, probe);
  }
  // RST at +11 s, ETIMEDOUT, and the connection is gone.
  harness_.AdvanceTo(last_received + seconds(11) - milliseconds(1));
  EXPECT_TRUE(harness_.Take().empty());
  EXPECT_TRUE(ClosedEvents().empty());
  harness_.AdvanceTo(last_received + seconds(11));
  const Segment reset = harness_.TakeOne();
  EXPECT_TRUE(reset.Has(TcpFlags::kRst)) << reset.Describe();
  EXPECT_EQ(reset.seq, OurNext());
  ASSERT_EQ(ClosedEvents().size(), 1u);
  EXPECT_EQ(ClosedEvents()[0].error, std::errc::timed_out);
  EXPECT_EQ(harness_.stack().tcp_connection_count(), 0u) << "gone from the demux table";
  EXPECT_FALSE(harness_.stack().Info(id_).has_value());
  EXPECT_EQ(harness_.Count(Counter::kTcpKeepaliveProbesSent), 4u);
  EXPECT_EQ(harness_.Count(Counter::kTcpKeepaliveAborts), 1u);
  // A later segment from the "peer" finds no connection and gets a RST.
  PeerAnswers();
  EXPECT_TRUE(harness_.TakeOne().Has(TcpFlags::kRst));
}

// Only an acceptable segment proves the peer alive (as in Linux): anyone on the path can forge an
// off-window segment with the connection's 4-tuple without knowing its sequence space, and that
// must not keep a dead connection open. A forged segment every 300 ms changes nothing: the same
// probes at the same times, then RST and ETIMEDOUT at idle + count x interval.
TEST_F(KeepaliveTest, ForgedOffWindowSegmentsDoNotKeepADeadPeerAlive) {
  ASSERT_FALSE(harness_.stack().SetKeepalive(id_, Canonical(), harness_.now()));
  const timers::TimePoint last_received = established_at_;
  std::vector<timers::TimePoint> probe_times;
  std::optional<timers::TimePoint> reset_at;
  for (timers::TimePoint t = last_received; t <= last_received + seconds(12);
       t += milliseconds(100)) {
    harness_.AdvanceTo(t);
    for (const Segment& segment : harness_.Take()) {
      if (segment.Has(TcpFlags::kRst)) {
        reset_at = t;
      } else if (segment.seq == OurNext() - 1) {
        probe_times.push_back(t);
      } else {
        EXPECT_EQ(segment.seq, OurNext()) << "only challenge ACKs besides the probes";
      }
    }
    if ((t - last_received) % milliseconds(300) == milliseconds(0) && !reset_at) {
      // Far outside the receive window, and an ACK of nothing new: RFC 9293 3.10.7.4 drops it.
      harness_.Inject(kPort, TcpFlags::kAck, PeerSeq() + 0x4000'0000u, OurNext(), 65535);
    }
  }
  ASSERT_EQ(probe_times.size(), 4u);
  for (int probe = 0; probe < 4; ++probe) {
    EXPECT_EQ(probe_times[probe], last_received + seconds(3) + seconds(2) * probe);
  }
  ASSERT_TRUE(reset_at.has_value());
  EXPECT_EQ(*reset_at, last_received + seconds(11));
  ASSERT_EQ(ClosedEvents().size(), 1u);
  EXPECT_EQ(ClosedEvents()[0].error, std::make_error_code(std::errc::timed_out));
  EXPECT_GT(harness_.Count(Counter::kDropTcpUnacceptable), 30u);
}

TEST_F(KeepaliveTest, AnswerResetsTheCountAndTheIdlePeriod) {
  ASSERT_FALSE(harness_.stack().SetKeepalive(id_, Canonical(), harness_.now()));
  harness_.AdvanceTo(established_at_ + seconds(3));
  ExpectProbe(harness_.TakeOne());
  harness_.AdvanceTo(established_at_ + seconds(5));
  ExpectProbe(harness_.TakeOne());
  harness_.AdvanceBy(milliseconds(40));
  PeerAnswers();  // the second probe is answered
  const timers::TimePoint answered_at = harness_.now();
  EXPECT_TRUE(harness_.Take().empty()) << "an answer to a probe needs no reply";
  EXPECT_EQ(harness_.stack().Info(id_)->keepalive_probes_unanswered, 0);
  EXPECT_EQ(harness_.Count(Counter::kTcpKeepaliveProbesAnswered), 1u);
  // The next probe comes a full idle period after the answer, not an interval after the probe.
  harness_.AdvanceTo(answered_at + seconds(3) - milliseconds(1));
  EXPECT_TRUE(harness_.Take().empty());
  harness_.AdvanceTo(answered_at + seconds(3));
  ExpectProbe(harness_.TakeOne());
  EXPECT_EQ(harness_.stack().Info(id_)->keepalive_probes_unanswered, 1);
}

TEST_F(KeepaliveTest, TrafficPostponesProbesWithoutReschedulingPerSegment) {
  ASSERT_FALSE(harness_.stack().SetKeepalive(id_, Canonical(), harness_.now()));
  const std::uint64_t scheduled_before = harness_.stack().timers().stats().scheduled;
  // The peer sends a byte every second for ten seconds; we never probe.
  std::uint32_t peer_seq = PeerSeq();
  for (int i = 0; i < 10; ++i) {
    harness_.AdvanceBy(seconds(1));
    const std::uint8_t byte = 'x';
    harness_.Inject(kPort, TcpFlags::kAck | TcpFlags::kPsh, peer_seq, OurNext(), 65535,
                    std::span(&byte, 1));
    ++peer_seq;
    for (const Segment& s : harness_.Take()) EXPECT_FALSE(s.seq == OurNext() - 1) << s.Describe();
  }
  // Lazy re-arming: the keepalive timer moved about once per idle period, not per segment
  // (each segment here also arms a delayed ACK, which fires; those are counted separately).
  const std::uint64_t scheduled = harness_.stack().timers().stats().scheduled - scheduled_before;
  EXPECT_LE(scheduled, 10u /*delayed ACKs*/ + 4u /*keepalive re-arms*/);
  const timers::TimePoint last = harness_.now();
  harness_.AdvanceTo(last + seconds(3) - milliseconds(1));
  for (const Segment& s : harness_.Take()) EXPECT_NE(s.seq, OurNext() - 1) << "early probe";
  harness_.AdvanceTo(last + seconds(3));
  std::vector<Segment> sent = harness_.Take();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.back().seq, OurNext() - 1);
  EXPECT_EQ(sent.back().ack, peer_seq);
}

// The benchmark-only naive design (Stack::RearmKeepaliveOnEverySegmentForBenchmark) must behave exactly as
// the lazy one, or bench/keepalive_bench.cc would compare different things; only its timer work
// differs.
TEST(KeepaliveRearmPerSegmentTest, SameProbeTimesWithATimerMovePerSegment) {
  TcpHarness harness;
  harness.stack().RearmKeepaliveOnEverySegmentForBenchmark(true);
  const tcp::ConnectionId id = harness.EstablishPassive(kPort, kPeerIss);
  const std::uint32_t our_next = harness.our_iss() + 1;
  ASSERT_FALSE(harness.stack().SetKeepalive(
      id,
      tcp::KeepaliveOptions{
          .enabled = true, .idle = seconds(3), .interval = seconds(2), .count = 4},
      harness.now()));
  const std::uint64_t scheduled_before = harness.stack().timers().stats().scheduled;
  std::uint32_t peer_seq = kPeerIss + 1;
  for (int i = 0; i < 10; ++i) {
    harness.AdvanceBy(seconds(1));
    const std::uint8_t byte = 'x';
    harness.Inject(kPort, TcpFlags::kAck | TcpFlags::kPsh, peer_seq, our_next, 65535,
                   std::span(&byte, 1));
    ++peer_seq;
    for (const Segment& s : harness.Take()) EXPECT_NE(s.seq, our_next - 1) << s.Describe();
  }
  // Every segment moved the keepalive timer (and armed a delayed ACK).
  EXPECT_GE(harness.stack().timers().stats().scheduled - scheduled_before, 20u);
  const timers::TimePoint last = harness.now();
  harness.AdvanceTo(last + seconds(3) - milliseconds(1));
  for (const Segment& s : harness.Take()) EXPECT_NE(s.seq, our_next - 1) << "early probe";
  harness.AdvanceTo(last + seconds(3));
  std::vector<Segment> sent = harness.Take();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.back().seq, our_next - 1);
  EXPECT_EQ(sent.back().ack, peer_seq);
}

TEST_F(KeepaliveTest, OffByDefaultNothingSentForDays) {
  harness_.AdvanceBy(std::chrono::hours(24 * 3));
  EXPECT_TRUE(harness_.Take().empty());
  EXPECT_EQ(harness_.stack().Info(id_)->state, tcp::State::kEstablished);
  EXPECT_EQ(harness_.stack().Info(id_)->timers_pending, 0) << "no timer on an idle connection";
}

TEST_F(KeepaliveTest, NoProbeWhileDataIsUnacknowledged) {
  ASSERT_FALSE(harness_.stack().SetKeepalive(id_, Canonical(), harness_.now()));
  const Bytes data(100, 'd');
  ASSERT_EQ(harness_.stack().Send(id_, data, harness_.now()).bytes, 100u);
  const Segment sent = harness_.TakeOne();
  EXPECT_EQ(sent.payload.size(), 100u);
  // The peer never acknowledges: only retransmissions go out, never a keepalive probe.
  harness_.AdvanceBy(seconds(8));
  for (const Segment& s : harness_.Take()) {
    EXPECT_EQ(s.seq, OurNext()) << "only retransmissions of the data: " << s.Describe();
    EXPECT_EQ(s.payload.size(), 100u);
  }
  // Once acknowledged, keepalive takes over again from the last segment received.
  harness_.Inject(kPort, TcpFlags::kAck, PeerSeq(), OurNext() + 100, 65535);
  const timers::TimePoint acked_at = harness_.now();
  harness_.Take();
  harness_.AdvanceTo(acked_at + seconds(3));
  const std::vector<Segment> after = harness_.Take();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].seq, OurNext() + 100 - 1);
  EXPECT_TRUE(after[0].payload.empty());
}

TEST_F(KeepaliveTest, NoProbeWhileThePeerWindowIsZeroAndDataWaits) {
  ASSERT_FALSE(harness_.stack().SetKeepalive(id_, Canonical(), harness_.now()));
  harness_.Inject(kPort, TcpFlags::kAck, PeerSeq(), OurNext(), 0);  // window closes
  const timers::TimePoint closed_at = harness_.now();
  const Bytes data(10, 'z');
  ASSERT_EQ(harness_.stack().Send(id_, data, harness_.now()).bytes, 10u);
  EXPECT_TRUE(harness_.Take().empty()) << "zero window: nothing may be sent";
  harness_.AdvanceTo(closed_at + seconds(6));
  for (const Segment& s : harness_.Take()) {
    EXPECT_EQ(s.seq, OurNext()) << "only zero-window probes (new data), never keepalive";
    EXPECT_EQ(s.payload.size(), 1u);
  }
  EXPECT_EQ(harness_.Count(Counter::kTcpKeepaliveProbesSent), 0u);
  EXPECT_GT(harness_.Count(Counter::kTcpZeroWindowProbes), 0u);
}

TEST_F(KeepaliveTest, UserTimeoutOvertakesTheCount) {
  ASSERT_FALSE(harness_.stack().SetKeepalive(id_, Canonical(), harness_.now()));
  ASSERT_FALSE(harness_.stack().SetUserTimeout(id_, seconds(6), harness_.now()));
  harness_.AdvanceTo(established_at_ + seconds(3));
  ExpectProbe(harness_.TakeOne());
  harness_.AdvanceTo(established_at_ + seconds(5));
  ExpectProbe(harness_.TakeOne());
  // At +7 s the user timeout (6 s since the last segment) has passed with probes unanswered:
  // abort, although the count (4) is not reached.
  harness_.AdvanceTo(established_at_ + seconds(7));
  EXPECT_TRUE(harness_.TakeOne().Has(TcpFlags::kRst));
  ASSERT_EQ(ClosedEvents().size(), 1u);
  EXPECT_EQ(ClosedEvents()[0].error, std::errc::timed_out);
}

TEST_F(KeepaliveTest, ResetInAnswerToAProbeGivesConnectionReset) {
  ASSERT_FALSE(harness_.stack().SetKeepalive(id_, Canonical(), harness_.now()));
  harness_.AdvanceTo(established_at_ + seconds(3));
  const Segment probe = harness_.TakeOne();
  // The peer rebooted: it knows nothing of the connection and answers the probe's ACK with
  // <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.1).
  harness_.Inject(kPort, TcpFlags::kRst, probe.ack, 0, 0);
  ASSERT_EQ(ClosedEvents().size(), 1u);
  EXPECT_EQ(ClosedEvents()[0].error, std::errc::connection_reset);
  EXPECT_EQ(harness_.stack().tcp_connection_count(), 0u);
  EXPECT_TRUE(harness_.Take().empty()) << "no RST in answer to a RST";
}

TEST_F(KeepaliveTest, GarbageByteProbe) {
  tcp::KeepaliveOptions options = Canonical();
  options.send_garbage_byte = true;
  ASSERT_FALSE(harness_.stack().SetKeepalive(id_, options, harness_.now()));
  harness_.AdvanceTo(established_at_ + seconds(3));
  const Segment probe = harness_.TakeOne();
  EXPECT_EQ(probe.seq, OurNext() - 1);
  EXPECT_EQ(probe.payload.size(), 1u);
}

TEST_F(KeepaliveTest, AnswersThePeersProbesOfZeroAndOneByte) {
  // The peer's probe: SEQ = RCV.NXT - 1, zero or one byte. Our answer: <SEQ=SND.NXT><ACK=RCV.NXT>.
  harness_.Inject(kPort, TcpFlags::kAck, PeerSeq() - 1, OurNext(), 65535);
  Segment answer = harness_.TakeOne();
  EXPECT_TRUE(answer.Only(TcpFlags::kAck));
  EXPECT_EQ(answer.seq, OurNext());
  EXPECT_EQ(answer.ack, PeerSeq());
  EXPECT_TRUE(answer.payload.empty());
  harness_.AdvanceBy(seconds(1));
  const std::uint8_t garbage = 0;
  harness_.Inject(kPort, TcpFlags::kAck, PeerSeq() - 1, OurNext(), 65535, std::span(&garbage, 1));
  answer = harness_.TakeOne();
  EXPECT_EQ(answer.ack, PeerSeq()) << "the garbage byte is not taken as data";
  EXPECT_EQ(harness_.stack().Info(id_)->receive_buffered, 0u);
  EXPECT_EQ(harness_.Count(Counter::kTcpPeerProbesAnswered), 2u);
}

TEST_F(KeepaliveTest, ProbeAnswersAreRateLimitedButNeverAtOnePerSecond) {
  harness_.Inject(kPort, TcpFlags::kAck, PeerSeq() - 1, OurNext(), 65535);
  EXPECT_EQ(harness_.Take().size(), 1u);
  harness_.AdvanceBy(milliseconds(10));
  harness_.Inject(kPort, TcpFlags::kAck, PeerSeq() - 1, OurNext(), 65535);
  EXPECT_TRUE(harness_.Take().empty()) << "a flood of probes is not answered one for one";
  EXPECT_EQ(harness_.Count(Counter::kTcpRateLimitedAcks), 1u);
  for (int i = 0; i < 5; ++i) {
    harness_.AdvanceBy(seconds(1));
    harness_.Inject(kPort, TcpFlags::kAck, PeerSeq() - 1, OurNext(), 65535);
    EXPECT_EQ(harness_.Take().size(), 1u) << "probe " << i << " at one per second unanswered";
  }
}

TEST_F(KeepaliveTest, OptionValidation) {
  Stack& stack = harness_.stack();
  tcp::KeepaliveOptions bad = Canonical();
  bad.count = 0;
  EXPECT_EQ(stack.SetKeepalive(id_, bad, harness_.now()), std::errc::invalid_argument);
  bad.count = 128;
  EXPECT_EQ(stack.SetKeepalive(id_, bad, harness_.now()), std::errc::invalid_argument);
  bad = Canonical();
  bad.idle = seconds(32768);
  EXPECT_EQ(stack.SetKeepalive(id_, bad, harness_.now()), std::errc::invalid_argument);
  bad = Canonical();
  bad.interval = milliseconds(0);
  EXPECT_EQ(stack.SetKeepalive(id_, bad, harness_.now()), std::errc::invalid_argument);
  tcp::KeepaliveOptions edge = Canonical();
  edge.idle = seconds(32767);
  edge.count = 127;
  EXPECT_FALSE(stack.SetKeepalive(id_, edge, harness_.now()));
  EXPECT_EQ(stack.SetKeepalive(tcp::ConnectionId{999}, Canonical(), harness_.now()),
            std::errc::not_connected);
}

TEST_F(KeepaliveTest, ChangingIdleOnALiveConnectionRearmsForTheRemainder) {
  tcp::KeepaliveOptions options = Canonical();
  options.idle = seconds(100);
  ASSERT_FALSE(harness_.stack().SetKeepalive(id_, options, harness_.now()));
  harness_.AdvanceTo(established_at_ + seconds(10));
  EXPECT_TRUE(harness_.Take().empty());
  // Idle becomes 15 s: the probe is due 15 s after the last segment, i.e. 5 s from now.
  options.idle = seconds(15);
  ASSERT_FALSE(harness_.stack().SetKeepalive(id_, options, harness_.now()));
  harness_.AdvanceTo(established_at_ + seconds(15) - milliseconds(1));
  EXPECT_TRUE(harness_.Take().empty());
  harness_.AdvanceTo(established_at_ + seconds(15));
  ExpectProbe(harness_.TakeOne());
  // Idle shorter than what already elapsed: probe at once.
  TcpHarness other;
  const tcp::ConnectionId id = other.EstablishPassive(kPort, kPeerIss);
  const timers::TimePoint start = other.now();
  tcp::KeepaliveOptions late = Canonical();
  late.idle = seconds(100);
  ASSERT_FALSE(other.stack().SetKeepalive(id, late, other.now()));
  other.AdvanceTo(start + seconds(20));
  late.idle = seconds(5);
  ASSERT_FALSE(other.stack().SetKeepalive(id, late, other.now()));
  other.AdvanceBy(milliseconds(1));
  EXPECT_EQ(other.Take().size(), 1u);
  // Turning keepalive off stops it.
  late.enabled = false;
  ASSERT_FALSE(other.stack().SetKeepalive(id, late, other.now()));
  other.AdvanceBy(std::chrono::hours(1));
  EXPECT_TRUE(other.Take().empty());
}

TEST_F(KeepaliveTest, RunsInCloseWait) {
  ASSERT_FALSE(harness_.stack().SetKeepalive(id_, Canonical(), harness_.now()));
  harness_.Inject(kPort, TcpFlags::kAck | TcpFlags::kFin, PeerSeq(), OurNext(), 65535);
  const timers::TimePoint fin_at = harness_.now();
  harness_.Take();
  EXPECT_EQ(harness_.stack().Info(id_)->state, tcp::State::kCloseWait);
  harness_.AdvanceTo(fin_at + seconds(3));
  const Segment probe = harness_.TakeOne();
  EXPECT_EQ(probe.seq, OurNext() - 1);
  EXPECT_EQ(probe.ack, PeerSeq() + 1);
}

}  // namespace
}  // namespace tapstack::testing
