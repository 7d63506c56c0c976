// The RFC 9293 state machine on a virtual clock: each transition of the state diagram and the
// events of section 3.10, with every emitted segment inspected (flags, seq, ack, window, options).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <numeric>

#include "tests/support/tcp_harness.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using tcp::State;
using wire::TcpFlags;

constexpr std::uint16_t kPort = 8000;
constexpr std::uint8_t kSA = TcpFlags::kSyn | TcpFlags::kAck;
constexpr std::uint8_t kFA = TcpFlags::kFin | TcpFlags::kAck;
constexpr std::uint8_t kPA = TcpFlags::kPsh | TcpFlags::kAck;

Bytes Pattern(std::size_t n, std::uint8_t seed = 0) {
  Bytes bytes(n);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + seed);
  return bytes;
}

std::vector<tcp::EventType> EventTypes(const TcpHarness& h) {
  std::vector<tcp::EventType> types;
  for (const tcp::Event& e : h.events()) types.push_back(e.type);
  return types;
}

std::optional<std::error_code> ClosedError(const TcpHarness& h) {
  for (const tcp::Event& e : h.events()) {
    if (e.type == tcp::EventType::kClosed) return e.error;
  }
  return std::nullopt;
}

TEST(TcpOpen, PassiveOpenSendsSynAckWithOptionsAndQueuesForAccept) {
  TcpHarness h;
  ASSERT_FALSE(h.stack().Listen(kPort, 4, h.now()));
  wire::TcpOptions options;
  options.mss = 1200;
  options.window_scale = 7;
  h.Inject(kPort, TcpFlags::kSyn, 1000, 0, 65535, {}, options);
  const Segment syn_ack = h.TakeOne();
  EXPECT_TRUE(syn_ack.Only(kSA)) << syn_ack.Describe();
  EXPECT_EQ(syn_ack.ack, 1001u);
  EXPECT_EQ(syn_ack.options.mss, 1460) << "our MSS: MTU 1500 - 40";
  EXPECT_TRUE(syn_ack.options.window_scale.has_value()) << "the peer offered scaling";
  EXPECT_GT(syn_ack.window, 0);
  EXPECT_FALSE(h.stack().Accept(kPort).has_value()) << "not established yet";
  h.Inject(kPort, TcpFlags::kAck, 1001, syn_ack.seq + 1, 512);
  EXPECT_TRUE(h.Take().empty());
  const std::optional<tcp::ConnectionId> id = h.stack().Accept(kPort);
  ASSERT_TRUE(id.has_value());
  const tcp::ConnectionInfo info = *h.stack().Info(*id);
  EXPECT_EQ(info.state, State::kEstablished);
  EXPECT_EQ(info.mss, 1200u) << "the peer's MSS bounds ours";
  EXPECT_EQ(info.snd_wnd, 512u << 7) << "the peer's window, scaled";
  EXPECT_THAT(EventTypes(h), ::testing::ElementsAre(tcp::EventType::kAcceptReady));
}

TEST(TcpOpen, SynAckWithoutPeerScalingOffersNone) {
  TcpHarness h;
  ASSERT_FALSE(h.stack().Listen(kPort, 4, h.now()));
  h.Inject(kPort, TcpFlags::kSyn, 1000, 0, 65535);
  const Segment syn_ack = h.TakeOne();
  EXPECT_FALSE(syn_ack.options.window_scale.has_value());
}

TEST(TcpOpen, ActiveOpenOffersMssAndScalingThenConnects) {
  TcpHarness h;
  h.set_peer_port(9);
  const tcp::Result<tcp::ConnectionId> id = h.stack().Connect(TcpHarness::kPeerAddress, 9, h.now());
  ASSERT_TRUE(id.ok());
  const Segment syn = h.TakeOne();
  EXPECT_TRUE(syn.Only(TcpFlags::kSyn));
  EXPECT_EQ(syn.options.mss, 1460);
  EXPECT_TRUE(syn.options.window_scale.has_value());
  EXPECT_GE(syn.src_port, 32768);
  EXPECT_EQ(h.stack().Info(*id)->state, State::kSynSent);
  h.Inject(syn.src_port, kSA, 777, syn.seq + 1, 1000);
  const Segment ack = h.TakeOne();
  EXPECT_TRUE(ack.Only(TcpFlags::kAck));
  EXPECT_EQ(ack.seq, syn.seq + 1);
  EXPECT_EQ(ack.ack, 778u);
  EXPECT_EQ(h.stack().Info(*id)->state, State::kEstablished);
  EXPECT_THAT(EventTypes(h), ::testing::ElementsAre(tcp::EventType::kConnected));
}

TEST(TcpOpen, SynRetriesThenTimesOut) {
  HarnessOptions options;
  options.tcp.syn_retries = 2;
  TcpHarness h(options);
  ASSERT_TRUE(h.stack().Connect(TcpHarness::kPeerAddress, 9, h.now()).ok());
  EXPECT_EQ(h.Take().size(), 1u);
  h.AdvanceBy(seconds(1));  // initial RTO 1 s (RFC 6298 2.1)
  EXPECT_EQ(h.Take().size(), 1u);
  h.AdvanceBy(seconds(2));  // backed off
  EXPECT_EQ(h.Take().size(), 1u);
  h.AdvanceBy(seconds(4));
  EXPECT_TRUE(h.Take().empty()) << "no RST for a connection that never opened";
  EXPECT_EQ(ClosedError(h), std::make_error_code(std::errc::timed_out));
  EXPECT_EQ(h.stack().tcp_connection_count(), 0u);
}

// RFC 6298 5.7: after the SYN had to be retransmitted, data transfer starts with a 3 s timeout
// instead of what the backed-off SYN timer or the 1 s initial value would give.
TEST(TcpOpen, RetransmissionTimeoutIsThreeSecondsAfterALostSyn) {
  TcpHarness h;
  const tcp::Result<tcp::ConnectionId> id =
      h.stack().Connect(TcpHarness::kPeerAddress, h.peer_port(), h.now());
  ASSERT_TRUE(id.ok());
  const Segment syn = h.TakeOne();
  h.AdvanceBy(seconds(1));  // the first SYN is lost; RFC 6298 2.1's 1 s timeout resends it
  EXPECT_EQ(h.TakeOne().seq, syn.seq);
  h.Inject(syn.src_port, TcpFlags::kSyn | TcpFlags::kAck, 7000, syn.seq + 1, 65535);
  ASSERT_EQ(h.stack().Info(*id)->state, State::kEstablished);
  h.Take();  // the ACK
  ASSERT_EQ(h.stack().Send(*id, Pattern(100), h.now()).bytes, 100u);
  ASSERT_EQ(h.TakeOne().payload.size(), 100u);
  h.AdvanceBy(seconds(3) - milliseconds(1));
  EXPECT_TRUE(h.Take().empty()) << "no retransmission before 3 s";
  h.AdvanceBy(milliseconds(1));
  EXPECT_EQ(h.TakeOne().payload.size(), 100u) << "retransmitted at 3 s";
}

TEST(TcpOpen, ConnectionRefusedByReset) {
  TcpHarness h;
  h.set_peer_port(9);
  ASSERT_TRUE(h.stack().Connect(TcpHarness::kPeerAddress, 9, h.now()).ok());
  const Segment syn = h.TakeOne();
  h.Inject(syn.src_port, TcpFlags::kRst | TcpFlags::kAck, 0, syn.seq + 1, 0);
  EXPECT_EQ(ClosedError(h), std::make_error_code(std::errc::connection_refused));
  EXPECT_EQ(h.stack().tcp_connection_count(), 0u);
}

TEST(TcpOpen, ResetWithUnacceptableAckInSynSentIsIgnored) {
  TcpHarness h;
  h.set_peer_port(9);
  ASSERT_TRUE(h.stack().Connect(TcpHarness::kPeerAddress, 9, h.now()).ok());
  const Segment syn = h.TakeOne();
  h.Inject(syn.src_port, TcpFlags::kRst | TcpFlags::kAck, 0, syn.seq + 100, 0);
  EXPECT_FALSE(ClosedError(h).has_value());
  EXPECT_EQ(h.stack().tcp_connection_count(), 1u);
}

TEST(TcpOpen, SimultaneousOpen) {
  TcpHarness h;
  h.set_peer_port(9);
  const tcp::Result<tcp::ConnectionId> id = h.stack().Connect(TcpHarness::kPeerAddress, 9, h.now());
  const Segment syn = h.TakeOne();
  // The peer's own SYN crosses ours.
  h.Inject(syn.src_port, TcpFlags::kSyn, 3000, 0, 1000);
  const Segment syn_ack = h.TakeOne();
  EXPECT_TRUE(syn_ack.Only(kSA));
  EXPECT_EQ(syn_ack.seq, syn.seq);
  EXPECT_EQ(syn_ack.ack, 3001u);
  EXPECT_EQ(h.stack().Info(*id)->state, State::kSynReceived);
  h.Inject(syn.src_port, kSA, 3000, syn.seq + 1, 1000);  // the peer's SYN-ACK
  h.Take();
  EXPECT_EQ(h.stack().Info(*id)->state, State::kEstablished);
  EXPECT_THAT(EventTypes(h), ::testing::Contains(tcp::EventType::kConnected));
}

TEST(TcpOpen, CloseInSynReceivedSendsFinOnceTheHandshakeCompletes) {
  TcpHarness h;
  h.set_peer_port(9);
  const tcp::Result<tcp::ConnectionId> id = h.stack().Connect(TcpHarness::kPeerAddress, 9, h.now());
  const Segment syn = h.TakeOne();
  h.Inject(syn.src_port, TcpFlags::kSyn, 3000, 0, 1000);  // simultaneous open
  h.Take();
  ASSERT_EQ(h.stack().Info(*id)->state, State::kSynReceived);
  ASSERT_FALSE(h.stack().Shutdown(*id, h.now()));
  EXPECT_TRUE(h.Take().empty()) << "no FIN before the handshake completes";
  h.Inject(syn.src_port, TcpFlags::kAck, 3001, syn.seq + 1, 1000);
  const Segment fin = h.TakeOne();
  EXPECT_EQ(fin.flags, kFA);
  EXPECT_EQ(fin.seq, syn.seq + 1);
  EXPECT_EQ(h.stack().Info(*id)->state, State::kFinWait1);
}

TEST(TcpOpen, CloseInSynSentFreesTheConnectionWithoutReset) {
  TcpHarness h;
  h.set_peer_port(9);
  const tcp::Result<tcp::ConnectionId> id = h.stack().Connect(TcpHarness::kPeerAddress, 9, h.now());
  h.TakeOne();
  ASSERT_FALSE(h.stack().Close(*id, h.now()));
  EXPECT_TRUE(h.Take().empty());
  EXPECT_EQ(h.stack().tcp_connection_count(), 0u);
  h.AdvanceBy(seconds(10));
  EXPECT_TRUE(h.Take().empty()) << "no SYN retransmission after the close";
}

TEST(TcpOpen, ShutdownInSynSentSendsTheQueuedDataThenTheFinAfterTheHandshake) {
  // Found by the soak test: data queued in SYN-SENT (RFC 9293 3.10.2) was thrown away when the
  // application shut down its side before the SYN-ACK came, and the connection ended as if
  // closed cleanly. The FIN must wait for the handshake and follow the data (3.10.4).
  TcpHarness h;
  h.set_peer_port(9);
  const tcp::Result<tcp::ConnectionId> id = h.stack().Connect(TcpHarness::kPeerAddress, 9, h.now());
  const Segment syn = h.TakeOne();
  const Bytes request = Pattern(100);
  ASSERT_EQ(h.stack().Send(*id, request, h.now()).bytes, request.size());
  ASSERT_FALSE(h.stack().Shutdown(*id, h.now()));
  EXPECT_TRUE(h.Take().empty()) << "nothing but the SYN before the handshake";
  ASSERT_EQ(h.stack().Info(*id)->state, State::kSynSent);
  EXPECT_EQ(h.stack().Send(*id, request, h.now()).error,
            std::make_error_code(std::errc::broken_pipe))
      << "no data after the shutdown";

  h.Inject(syn.src_port, kSA, 777, syn.seq + 1, 1000);
  Bytes data;
  std::optional<std::uint32_t> fin_seq;
  for (const Segment& segment : h.Take()) {
    EXPECT_EQ(segment.ack, 778u);
    if (!segment.payload.empty()) {
      EXPECT_EQ(segment.seq, syn.seq + 1 + data.size());
      data.insert(data.end(), segment.payload.begin(), segment.payload.end());
    }
    if (segment.Has(TcpFlags::kFin)) fin_seq = segment.seq + segment.payload.size();
  }
  EXPECT_EQ(data, request);
  EXPECT_EQ(fin_seq, syn.seq + 1 + request.size()) << "the FIN follows the data";
  EXPECT_EQ(h.stack().Info(*id)->state, State::kFinWait1);
  h.Inject(syn.src_port, TcpFlags::kAck, 778, syn.seq + 2 + request.size(), 1000);
  EXPECT_EQ(h.stack().Info(*id)->state, State::kFinWait2);
  EXPECT_THAT(EventTypes(h), ::testing::ElementsAre(tcp::EventType::kConnected));
}

TEST(TcpOpen, CloseInSynSentWithQueuedDataDeliversItAsAnOrphan) {
  TcpHarness h;
  h.set_peer_port(9);
  const tcp::Result<tcp::ConnectionId> id = h.stack().Connect(TcpHarness::kPeerAddress, 9, h.now());
  const Segment syn = h.TakeOne();
  ASSERT_EQ(h.stack().Send(*id, Pattern(10), h.now()).bytes, 10u);
  ASSERT_FALSE(h.stack().Close(*id, h.now()));
  EXPECT_EQ(h.stack().tcp_connection_count(), 1u) << "kept until the data and FIN are sent";
  h.Inject(syn.src_port, kSA, 777, syn.seq + 1, 1000);
  bool fin = false;
  std::size_t bytes = 0;
  for (const Segment& segment : h.Take()) {
    bytes += segment.payload.size();
    fin = fin || segment.Has(TcpFlags::kFin);
  }
  EXPECT_EQ(bytes, 10u);
  EXPECT_TRUE(fin);
  EXPECT_TRUE(h.events().empty()) << "no events for a closed handle";
}

TEST(TcpOpen, BadAckInSynReceivedGetsReset) {
  TcpHarness h;
  ASSERT_FALSE(h.stack().Listen(kPort, 4, h.now()));
  h.Inject(kPort, TcpFlags::kSyn, 1000, 0, 65535);
  const Segment syn_ack = h.TakeOne();
  h.Inject(kPort, TcpFlags::kAck, 1001, syn_ack.seq + 50, 65535);
  const Segment reset = h.TakeOne();
  EXPECT_TRUE(reset.Only(TcpFlags::kRst));
  EXPECT_EQ(reset.seq, syn_ack.seq + 50) << "<SEQ=SEG.ACK><CTL=RST>";
}

TEST(TcpOpen, ClosedPortAnswersReset) {
  TcpHarness h;
  h.Inject(4444, TcpFlags::kSyn, 1000, 0, 65535, Pattern(5));
  Segment reset = h.TakeOne();
  EXPECT_EQ(reset.flags, TcpFlags::kRst | TcpFlags::kAck);
  EXPECT_EQ(reset.seq, 0u);
  EXPECT_EQ(reset.ack, 1006u) << "SEG.SEQ + SEG.LEN, the SYN counting one";
  h.Inject(4444, TcpFlags::kAck, 1000, 5555, 65535);
  reset = h.TakeOne();
  EXPECT_EQ(reset.flags, TcpFlags::kRst);
  EXPECT_EQ(reset.seq, 5555u);
  h.Inject(4444, TcpFlags::kRst, 1000, 0, 0);
  EXPECT_TRUE(h.Take().empty()) << "never a RST for a RST";
}

class Established : public ::testing::Test {
 protected:
  void SetUp() override { id_ = h_.EstablishPassive(kPort, kPeerIss); }
  std::uint32_t PeerSeq() const { return kPeerIss + 1 + peer_sent_; }
  std::uint32_t Ours() const { return h_.our_iss() + 1; }
  void PeerSends(const Bytes& data, std::uint8_t flags = kPA) {
    h_.Inject(kPort, flags, PeerSeq(), Ours() + acked_, 65535, data);
    peer_sent_ += static_cast<std::uint32_t>(data.size());
  }
  static constexpr std::uint32_t kPeerIss = 0x10000;
  TcpHarness h_;
  tcp::ConnectionId id_;
  std::uint32_t peer_sent_ = 0;
  std::uint32_t acked_ = 0;
};

// RFC 9293 3.10.7.4: RCV.WND is the window we advertised, not the room in the buffer. Without
// window scaling the field stops at 65,535 while the buffer has 256 KiB: a segment at the
// advertised right edge is not acceptable, and one that straddles it is cut there.
TEST_F(Established, DataBeyondTheAdvertisedWindowIsRefusedEvenWithRoomInTheBuffer) {
  const std::uint32_t rcv_nxt = PeerSeq();
  ASSERT_GT(h_.stack().Info(id_)->rcv_wnd, 65535u) << "the buffer has more room than advertised";
  h_.Inject(kPort, kPA, rcv_nxt + 65535, Ours(), 65535, Pattern(10));
  const Segment answer = h_.TakeOne();
  EXPECT_EQ(answer.ack, rcv_nxt) << "unacceptable: answered with an ACK";
  EXPECT_EQ(h_.Count(Counter::kDropTcpUnacceptable), 1u);
  h_.Inject(kPort, kPA, rcv_nxt + 65000, Ours(), 65535, Pattern(1000));
  EXPECT_EQ(h_.Count(Counter::kTcpBytesBeyondWindow), 465u) << "cut at the advertised edge";
  h_.Inject(kPort, kPA, rcv_nxt, Ours(), 65535, Pattern(65000));
  EXPECT_EQ(h_.ReadAll(id_).size(), 65535u);
}

// RFC 7661 (RFC 9438 4.2 for CUBIC): cwnd grows only while it limits the sender. Forty
// exchanges of 100 bytes, each ACKed, leave the initial window as it was (slow start would have
// added the 4,000 bytes acknowledged); a burst that fills the window then grows it.
TEST_F(Established, TheWindowGrowsOnlyWhileItLimitsTheSender) {
  const std::uint32_t initial_window = h_.stack().Info(id_)->cwnd;
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(h_.stack().Send(id_, Pattern(100), h_.now()).bytes, 100u);
    const Segment request = h_.TakeOne();
    h_.AdvanceBy(milliseconds(10));
    acked_ += 100;
    h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours() + acked_, 65535);
    ASSERT_EQ(request.seq + 100, Ours() + acked_);
  }
  EXPECT_EQ(h_.stack().Info(id_)->cwnd, initial_window) << "never more than 100 bytes in flight";

  const std::uint32_t mss = h_.stack().Info(id_)->mss;
  ASSERT_EQ(h_.stack().Send(id_, Pattern(20 * mss), h_.now()).bytes, 20 * mss);
  const std::vector<Segment> window = h_.Take();
  ASSERT_EQ(window.size() * mss, initial_window);
  h_.AdvanceBy(milliseconds(10));
  acked_ += 2 * mss;
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours() + acked_, 65535);
  EXPECT_EQ(h_.stack().Info(id_)->cwnd, initial_window + 2 * mss) << "slow start";
}

TEST_F(Established, ReceivesDataWithDelayedAck) {
  PeerSends(Pattern(100));
  EXPECT_TRUE(h_.Take().empty()) << "one segment: the ACK is delayed";
  h_.AdvanceBy(milliseconds(39));
  EXPECT_TRUE(h_.Take().empty());
  h_.AdvanceBy(milliseconds(1));
  const Segment ack = h_.TakeOne();
  EXPECT_TRUE(ack.Only(TcpFlags::kAck));
  EXPECT_EQ(ack.ack, PeerSeq());
  Bytes out(200);
  const tcp::IoResult read = h_.stack().Receive(id_, out, h_.now());
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(Bytes(out.begin(), out.begin() + read.bytes), Pattern(100));
  EXPECT_THAT(EventTypes(h_), ::testing::Contains(tcp::EventType::kReadable));
  EXPECT_EQ(h_.stack().Receive(id_, out, h_.now()).error,
            std::errc::resource_unavailable_try_again);
}

TEST_F(Established, AcksEverySecondFullSegmentAtOnce) {
  PeerSends(Pattern(1460));
  EXPECT_TRUE(h_.Take().empty());
  PeerSends(Pattern(1460));
  const Segment ack = h_.TakeOne();
  EXPECT_EQ(ack.ack, PeerSeq());
}

// RFC 1122 4.2.3.2 and 4.2.3.3: an application that reads every segment as it arrives must not
// turn each read into a window update. In bulk receive, at most one pure ACK per two full-size
// segments goes out.
TEST_F(Established, ReaderThatKeepsUpDoesNotAcknowledgeEverySegment) {
  Bytes out(1 << 16);
  std::size_t acks = 0;
  constexpr int kSegments = 100;
  for (int i = 0; i < kSegments; ++i) {
    PeerSends(Pattern(1460));
    ASSERT_EQ(h_.stack().Receive(id_, out, h_.now()).bytes, 1460u);
    for (const Segment& segment : h_.Take()) {
      EXPECT_TRUE(segment.payload.empty());
      ++acks;
    }
  }
  EXPECT_EQ(acks, kSegments / 2u);
}

// RFC 1122 4.2.3.3: once the window is nearly closed, reading opens it, but the update goes only
// when the right edge can move by at least one MSS; and then it goes at once, so the sender is not
// left waiting on a window it cannot use.
TEST_F(Established, WindowUpdateWaitsUntilTheEdgeMovesByAnMss) {
  const std::size_t buffer = tcp::ConnectionOptions{}.receive_buffer;
  // Fill the receive buffer without reading (the ACKs carry a shrinking window).
  std::size_t filled = 0;
  while (filled < buffer) {
    const std::size_t n = std::min<std::size_t>(1460, buffer - filled);
    PeerSends(Pattern(n));
    filled += n;
  }
  h_.AdvanceBy(milliseconds(40));
  h_.Take();
  EXPECT_EQ(h_.stack().Info(id_)->rcv_wnd, 0u);
  Bytes out(1000);
  ASSERT_EQ(h_.stack().Receive(id_, out, h_.now()).bytes, 1000u);
  EXPECT_TRUE(h_.Take().empty()) << "1000 bytes of room is less than an MSS: no update";
  ASSERT_EQ(h_.stack().Receive(id_, out, h_.now()).bytes, 1000u);
  const Segment update = h_.TakeOne();
  EXPECT_TRUE(update.Only(TcpFlags::kAck));
  EXPECT_EQ(update.ack, PeerSeq());
  EXPECT_GT(update.window, 0);
}

TEST_F(Established, RetransmittedOldDataIsAcknowledgedEveryTime) {
  // Our ACK was lost, so the peer sends data we already have again, several times in quick
  // succession (a go-back-N after its timeout). Each copy is answered at once: rate-limiting these
  // ACKs like challenge ACKs stalls the peer until its next, backed-off, timeout.
  const std::uint32_t first = PeerSeq();
  PeerSends(Pattern(1460));
  PeerSends(Pattern(1460));
  EXPECT_EQ(h_.TakeOne().ack, PeerSeq()) << "every second full segment is acknowledged at once";
  for (int copy = 0; copy < 3; ++copy) {
    h_.AdvanceBy(milliseconds(1));
    h_.Inject(kPort, kPA, first, Ours(), 65535, Pattern(1460));
    const Segment ack = h_.TakeOne();
    EXPECT_TRUE(ack.Only(TcpFlags::kAck)) << ack.Describe();
    EXPECT_EQ(ack.ack, PeerSeq()) << "copy " << copy;
  }
  EXPECT_EQ(h_.Count(Counter::kTcpRateLimitedAcks), 0u);
  EXPECT_EQ(h_.stack().Info(id_)->receive_buffered, 2u * 1460) << "no byte taken twice";
}

TEST_F(Established, ReassemblesOutOfOrderSegments) {
  const Bytes first = Pattern(500, 1);
  const Bytes second = Pattern(500, 2);
  // The second segment arrives first: an immediate duplicate ACK (RFC 5681 4.2).
  h_.Inject(kPort, kPA, PeerSeq() + 500, Ours(), 65535, second);
  Segment ack = h_.TakeOne();
  EXPECT_EQ(ack.ack, PeerSeq());
  h_.Inject(kPort, kPA, PeerSeq(), Ours(), 65535, first);
  ack = h_.TakeOne();
  EXPECT_EQ(ack.ack, PeerSeq() + 1000) << "the hole filled: everything acknowledged at once";
  Bytes out(1000);
  ASSERT_EQ(h_.stack().Receive(id_, out, h_.now()).bytes, 1000u);
  Bytes expected = first;
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(out, expected);
}

TEST_F(Established, SendsDataAndRetransmitsWithBackoffUntilTimeout) {
  const Bytes data = Pattern(300);
  ASSERT_EQ(h_.stack().Send(id_, data, h_.now()).bytes, 300u);
  const Segment segment = h_.TakeOne();
  EXPECT_EQ(segment.flags, kPA);
  EXPECT_EQ(segment.seq, Ours());
  EXPECT_EQ(segment.payload, data);
  // The handshake's RTT sample was 0 ms, so the RTO is the 200 ms minimum; then it doubles.
  std::vector<tcp::Duration> gaps;
  timers::TimePoint last = h_.now();
  for (int i = 0; i < 4; ++i) {
    while (h_.Take().empty()) h_.AdvanceBy(milliseconds(1));
    gaps.push_back(h_.now() - last);
    last = h_.now();
  }
  EXPECT_THAT(gaps, ::testing::ElementsAre(milliseconds(200), milliseconds(400), milliseconds(800),
                                           milliseconds(1600)));
  EXPECT_EQ(h_.Count(Counter::kTcpRetransmits), 4u);
  // Still unanswered after max_retransmissions (15): ETIMEDOUT and a RST.
  h_.AdvanceBy(std::chrono::hours(1));
  EXPECT_EQ(ClosedError(h_), std::make_error_code(std::errc::timed_out));
  const std::vector<Segment> tail = h_.Take();
  ASSERT_FALSE(tail.empty());
  EXPECT_TRUE(tail.back().Has(TcpFlags::kRst)) << tail.back().Describe();
}

TEST_F(Established, AcksAfterATimeoutCarryTheHighestSequenceSent) {
  // Regression: after a retransmission timeout rewinds SND.NXT (go-back-N), a pure ACK must still
  // carry the highest sequence number sent, or the peer finds it below RCV.NXT and drops it.
  ASSERT_FALSE(h_.stack().SetNoDelay(id_, true, h_.now()));
  ASSERT_EQ(h_.stack().Send(id_, Pattern(2920), h_.now()).bytes, 2920u);
  ASSERT_EQ(h_.Take().size(), 2u);
  h_.AdvanceBy(milliseconds(200));  // RTO: the first segment again
  const Segment retransmission = h_.TakeOne();
  EXPECT_EQ(retransmission.seq, Ours());
  PeerSends(Pattern(10));  // peer data: we must ACK it
  h_.AdvanceBy(milliseconds(40));
  const Segment ack = h_.TakeOne();
  EXPECT_TRUE(ack.payload.empty()) << ack.Describe();
  EXPECT_EQ(ack.seq, Ours() + 2920) << "SEQ = the highest sequence number sent";
}

TEST_F(Established, NagleHoldsSmallSegmentsUntilAcked) {
  ASSERT_EQ(h_.stack().Send(id_, Pattern(10), h_.now()).bytes, 10u);
  EXPECT_EQ(h_.TakeOne().payload.size(), 10u);
  ASSERT_EQ(h_.stack().Send(id_, Pattern(10), h_.now()).bytes, 10u);
  ASSERT_EQ(h_.stack().Send(id_, Pattern(10), h_.now()).bytes, 10u);
  EXPECT_TRUE(h_.Take().empty()) << "Nagle: small data waits while data is unacknowledged";
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours() + 10, 65535);
  const Segment coalesced = h_.TakeOne();
  EXPECT_EQ(coalesced.payload.size(), 20u);
  // With no-delay, every write goes at once.
  ASSERT_FALSE(h_.stack().SetNoDelay(id_, true, h_.now()));
  ASSERT_EQ(h_.stack().Send(id_, Pattern(5), h_.now()).bytes, 5u);
  EXPECT_EQ(h_.TakeOne().payload.size(), 5u);
}

TEST_F(Established, FastRetransmitOnThreeDuplicateAcks) {
  ASSERT_FALSE(h_.stack().SetNoDelay(id_, true, h_.now()));
  ASSERT_EQ(h_.stack().Send(id_, Pattern(1460 * 5), h_.now()).bytes, 1460u * 5);
  ASSERT_EQ(h_.Take().size(), 5u);
  for (int i = 0; i < 2; ++i) {
    h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours(), 65535);
    EXPECT_TRUE(h_.Take().empty());
  }
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours(), 65535);
  const Segment retransmission = h_.TakeOne();
  EXPECT_EQ(retransmission.seq, Ours());
  EXPECT_EQ(retransmission.payload.size(), 1460u);
  EXPECT_EQ(h_.Count(Counter::kTcpFastRetransmits), 1u);
}

TEST_F(Established, ZeroWindowIsProbedAndDataFlowsWhenItOpens) {
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours(), 0);
  ASSERT_EQ(h_.stack().Send(id_, Pattern(50), h_.now()).bytes, 50u);
  EXPECT_TRUE(h_.Take().empty());
  h_.AdvanceBy(milliseconds(200));
  const Segment probe = h_.TakeOne();
  EXPECT_EQ(probe.seq, Ours());
  EXPECT_EQ(probe.payload.size(), 1u);
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours(), 1000);  // window update
  const Segment data = h_.TakeOne();
  EXPECT_EQ(data.seq, Ours());
  EXPECT_EQ(data.payload.size(), 50u);
}

// The three below were found by the soak test (tests/tcp/soak_test.cc, slow readers and dead
// peers behind a closed window).

TEST_F(Established, ZeroWindowProbeByteKeptByThePeerIsAcknowledged) {
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours(), 0);
  const Bytes data = Pattern(50);
  ASSERT_EQ(h_.stack().Send(id_, data, h_.now()).bytes, 50u);
  h_.AdvanceBy(milliseconds(200));
  const Segment probe = h_.TakeOne();
  ASSERT_EQ(probe.payload.size(), 1u);
  // The window had reopened but its update was lost: the peer keeps the probe's byte and
  // acknowledges it. That ACK is for a byte we did send, not "unsent data" (RFC 5961 5.2).
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours() + 1, 1000);
  const Segment rest = h_.TakeOne();
  EXPECT_EQ(rest.seq, Ours() + 1);
  EXPECT_EQ(rest.payload, Bytes(data.begin() + 1, data.end()));
  EXPECT_EQ(h_.Count(Counter::kDropTcpBadAck), 0u);
}

TEST_F(Established, WindowTooSmallForSwsAvoidanceIsProbedToo) {
  // A window below one MSS, and data that does not fit: sender SWS avoidance holds it, and with
  // nothing in flight only the persist timer can wake the connection if the update is lost.
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours(), 100);
  ASSERT_EQ(h_.stack().Send(id_, Pattern(2000), h_.now()).bytes, 2000u);
  EXPECT_TRUE(h_.Take().empty()) << "SWS avoidance holds a 100-byte segment back";
  EXPECT_EQ(h_.stack().Info(id_)->timers_pending, 1) << "the persist timer";
  h_.AdvanceBy(milliseconds(200));
  const Segment forced = h_.TakeOne();  // the override timeout (RFC 1122 4.2.3.4)
  EXPECT_EQ(forced.seq, Ours());
  EXPECT_EQ(forced.payload.size(), 100u);
}

TEST_F(Established, UnansweredZeroWindowProbesTimeOut) {
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours(), 0);
  ASSERT_EQ(h_.stack().Send(id_, Pattern(50), h_.now()).bytes, 50u);
  h_.AdvanceBy(std::chrono::hours(1));
  const std::vector<Segment> sent = h_.Take();
  ASSERT_FALSE(sent.empty());
  std::size_t probes = 0;
  for (const Segment& segment : sent) probes += segment.payload.size() == 1 ? 1 : 0;
  EXPECT_EQ(probes, 15u) << "max_retransmissions unanswered probes";
  EXPECT_TRUE(sent.back().Has(TcpFlags::kRst));
  EXPECT_EQ(ClosedError(h_), std::make_error_code(std::errc::timed_out));
  EXPECT_EQ(h_.stack().tcp_connection_count(), 0u);
}

TEST_F(Established, AnsweredZeroWindowProbesKeepTheConnectionOpen) {
  // RFC 9293 3.8.6.1 (MUST-37): a window may stay closed indefinitely while the peer answers.
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours(), 0);
  ASSERT_EQ(h_.stack().Send(id_, Pattern(50), h_.now()).bytes, 50u);
  std::size_t probes = 0;
  for (int i = 0; i < 30; ++i) {
    h_.AdvanceBy(seconds(130));  // longer than the largest backoff (120 s)
    probes += h_.Take().size();
    h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours(), 0);  // still closed, but alive
  }
  EXPECT_GE(probes, 30u);
  EXPECT_EQ(h_.stack().Info(id_)->state, State::kEstablished);
  EXPECT_FALSE(ClosedError(h_).has_value());
}

TEST_F(Established, ActiveCloseThroughTimeWait) {
  ASSERT_FALSE(h_.stack().Close(id_, h_.now()));
  const Segment fin = h_.TakeOne();
  EXPECT_EQ(fin.flags, kFA);
  EXPECT_EQ(fin.seq, Ours());
  EXPECT_EQ(h_.stack().Info(id_)->state, State::kFinWait1);
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours() + 1, 65535);
  EXPECT_EQ(h_.stack().Info(id_)->state, State::kFinWait2);
  h_.Inject(kPort, kFA, PeerSeq(), Ours() + 1, 65535);
  const Segment ack = h_.TakeOne();
  EXPECT_EQ(ack.ack, PeerSeq() + 1);
  EXPECT_EQ(h_.stack().Info(id_)->state, State::kTimeWait);
  // A retransmitted FIN in TIME-WAIT is acknowledged again.
  h_.AdvanceBy(seconds(10));
  h_.Inject(kPort, kFA, PeerSeq(), Ours() + 1, 65535);
  EXPECT_EQ(h_.TakeOne().ack, PeerSeq() + 1);
  h_.AdvanceBy(seconds(60) - milliseconds(1));
  EXPECT_EQ(h_.stack().tcp_connection_count(), 1u);
  h_.AdvanceBy(milliseconds(1));
  EXPECT_EQ(h_.stack().tcp_connection_count(), 0u) << "2MSL after the last FIN";
}

// RFC 5482 / RFC 9293 3.8.3: data unacknowledged for the user timeout aborts the connection at
// that moment, not at the next backed-off retransmission (the RTO here reaches 1.6 s and more).
TEST_F(Established, UserTimeoutAbortsWhenDataWaitsThatLong) {
  ASSERT_FALSE(h_.stack().SetUserTimeout(id_, milliseconds(2500), h_.now()));
  const timers::TimePoint sent_at = h_.now();
  ASSERT_EQ(h_.stack().Send(id_, Pattern(100), h_.now()).bytes, 100u);
  EXPECT_EQ(h_.TakeOne().payload.size(), 100u);
  // Retransmissions at 200, 600, 1400 ms; the next would be at 3000 ms.
  while (!ClosedError(h_).has_value()) h_.AdvanceBy(milliseconds(1));
  EXPECT_EQ(h_.now() - sent_at, milliseconds(2500));
  EXPECT_EQ(ClosedError(h_), std::make_error_code(std::errc::timed_out));
  const std::vector<Segment> sent = h_.Take();
  ASSERT_FALSE(sent.empty());
  EXPECT_TRUE(sent.back().Has(TcpFlags::kRst)) << sent.back().Describe();
  EXPECT_EQ(h_.Count(Counter::kTcpRetransmits), 3u);
}

// An ACK of new data starts the user timeout over: progress, however slow, keeps the connection.
TEST_F(Established, UserTimeoutCountsFromTheLastProgress) {
  ASSERT_FALSE(h_.stack().SetUserTimeout(id_, seconds(2), h_.now()));
  ASSERT_EQ(h_.stack().Send(id_, Pattern(300), h_.now()).bytes, 300u);
  h_.Take();
  for (int i = 1; i <= 2; ++i) {
    h_.AdvanceBy(milliseconds(1500));
    h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours() + 100 * i, 65535);
  }
  EXPECT_FALSE(ClosedError(h_).has_value()) << "3 s after the send, but 0 s after progress";
  h_.AdvanceBy(milliseconds(1999));
  EXPECT_FALSE(ClosedError(h_).has_value());
  h_.AdvanceBy(milliseconds(1));
  EXPECT_EQ(ClosedError(h_), std::make_error_code(std::errc::timed_out));
}

// Keepalive that would find a dead peer 8 s after the last segment.
const tcp::KeepaliveOptions kFiveSecondKeepalive{
    .enabled = true, .idle = seconds(5), .interval = seconds(1), .count = 3};

// An application that closes and walks away leaves an orphan in FIN-WAIT-2 when the peer
// acknowledges our FIN but never sends its own: it is freed after the FIN-WAIT-2 timeout (Linux
// tcp_fin_timeout), without a RST, keepalive or not.
TEST_F(Established, OrphanInFinWait2IsFreedAfterTheTimeout) {
  ASSERT_FALSE(h_.stack().SetKeepalive(id_, kFiveSecondKeepalive, h_.now()));
  ASSERT_FALSE(h_.stack().Close(id_, h_.now()));
  EXPECT_EQ(h_.TakeOne().flags, kFA);
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours() + 1, 65535);
  EXPECT_EQ(h_.stack().tcp_connection_count(), 1u);
  h_.AdvanceBy(seconds(60) - milliseconds(1));
  EXPECT_EQ(h_.stack().tcp_connection_count(), 1u);
  EXPECT_TRUE(h_.Take().empty()) << "no keepalive probe on an orphan";
  h_.AdvanceBy(milliseconds(1));
  EXPECT_EQ(h_.stack().tcp_connection_count(), 0u);
  EXPECT_TRUE(h_.Take().empty()) << "no RST either";
}

// An application that still holds its half-closed connection keeps keepalive in FIN-WAIT-2: a
// dead peer is found after idle + count x interval.
TEST_F(Established, KeepaliveWatchesAHalfClosedConnectionInFinWait2) {
  ASSERT_FALSE(h_.stack().SetKeepalive(id_, kFiveSecondKeepalive, h_.now()));
  ASSERT_FALSE(h_.stack().Shutdown(id_, h_.now()));
  EXPECT_EQ(h_.TakeOne().flags, kFA);
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours() + 1, 65535);
  ASSERT_EQ(h_.stack().Info(id_)->state, State::kFinWait2);
  h_.AdvanceBy(seconds(5));
  const Segment probe = h_.TakeOne();
  EXPECT_EQ(probe.seq, Ours());  // SND.NXT - 1: the FIN's sequence number
  h_.AdvanceBy(seconds(3));
  EXPECT_EQ(ClosedError(h_), std::make_error_code(std::errc::timed_out));
}

TEST_F(Established, PassiveCloseThroughLastAck) {
  h_.Inject(kPort, kFA, PeerSeq(), Ours(), 65535);
  EXPECT_EQ(h_.TakeOne().ack, PeerSeq() + 1);
  EXPECT_EQ(h_.stack().Info(id_)->state, State::kCloseWait);
  EXPECT_THAT(EventTypes(h_), ::testing::Contains(tcp::EventType::kPeerClosed));
  Bytes out(10);
  const tcp::IoResult eof = h_.stack().Receive(id_, out, h_.now());
  EXPECT_TRUE(eof.ok());
  EXPECT_EQ(eof.bytes, 0u) << "end of stream";
  ASSERT_FALSE(h_.stack().Shutdown(id_, h_.now()));
  const Segment fin = h_.TakeOne();
  EXPECT_EQ(fin.flags, kFA);
  EXPECT_EQ(h_.stack().Info(id_)->state, State::kLastAck);
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq() + 1, Ours() + 1, 65535);
  EXPECT_EQ(h_.stack().tcp_connection_count(), 0u);
  EXPECT_EQ(ClosedError(h_), std::error_code()) << "a clean close";
}

TEST_F(Established, SimultaneousCloseThroughClosing) {
  ASSERT_FALSE(h_.stack().Shutdown(id_, h_.now()));
  EXPECT_EQ(h_.TakeOne().flags, kFA);
  h_.Inject(kPort, kFA, PeerSeq(), Ours(), 65535);  // the peer's FIN, not acking ours
  EXPECT_EQ(h_.TakeOne().ack, PeerSeq() + 1);
  EXPECT_EQ(h_.stack().Info(id_)->state, State::kClosing);
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq() + 1, Ours() + 1, 65535);
  EXPECT_EQ(h_.stack().Info(id_)->state, State::kTimeWait);
}

TEST_F(Established, HalfCloseStillReceives) {
  ASSERT_FALSE(h_.stack().Shutdown(id_, h_.now()));
  h_.Take();
  h_.Inject(kPort, TcpFlags::kAck, PeerSeq(), Ours() + 1, 65535);
  EXPECT_EQ(h_.stack().Info(id_)->state, State::kFinWait2);
  EXPECT_EQ(h_.stack().Send(id_, Pattern(3), h_.now()).error, std::errc::broken_pipe);
  acked_ = 1;
  PeerSends(Pattern(40));
  Bytes out(40);
  EXPECT_EQ(h_.stack().Receive(id_, out, h_.now()).bytes, 40u);
}

TEST_F(Established, InWindowResetWithWrongSequenceGetsChallengeAck) {
  h_.Inject(kPort, TcpFlags::kRst, PeerSeq() + 100, 0, 0);
  const Segment challenge = h_.TakeOne();
  EXPECT_TRUE(challenge.Only(TcpFlags::kAck));
  EXPECT_EQ(challenge.seq, Ours());
  EXPECT_EQ(challenge.ack, PeerSeq());
  EXPECT_EQ(h_.stack().Info(id_)->state, State::kEstablished);
  h_.Inject(kPort, TcpFlags::kRst, PeerSeq(), 0, 0);  // exact: resets
  EXPECT_EQ(ClosedError(h_), std::make_error_code(std::errc::connection_reset));
}

TEST_F(Established, SynInEstablishedGetsChallengeAck) {
  h_.Inject(kPort, TcpFlags::kSyn, PeerSeq() + 10, 0, 65535);
  const Segment challenge = h_.TakeOne();
  EXPECT_TRUE(challenge.Only(TcpFlags::kAck));
  EXPECT_EQ(challenge.ack, PeerSeq());
  EXPECT_EQ(h_.stack().Info(id_)->state, State::kEstablished);
}

TEST_F(Established, AckOfUnsentDataIsAnsweredAndDropped) {
  PeerSends(Pattern(10), TcpFlags::kAck);
  h_.Take();
  h_.Inject(kPort, kPA, PeerSeq(), Ours() + 1000, 65535, Pattern(5));
  const Segment ack = h_.TakeOne();
  EXPECT_EQ(ack.ack, PeerSeq()) << "the data of a segment with a bad ACK is not taken";
  EXPECT_EQ(h_.Count(Counter::kDropTcpBadAck), 1u);
}

TEST_F(Established, AbortSendsResetAndCloseWithUnreadDataToo) {
  PeerSends(Pattern(10));
  h_.Take();
  ASSERT_FALSE(h_.stack().Close(id_, h_.now()));
  const std::vector<Segment> sent = h_.Take();
  ASSERT_FALSE(sent.empty());
  EXPECT_TRUE(sent.back().Has(TcpFlags::kRst)) << "RFC 2525: unread data lost";
  EXPECT_EQ(h_.stack().tcp_connection_count(), 0u);
  EXPECT_FALSE(ClosedError(h_).has_value()) << "no event after the application closed";
}

TEST_F(Established, DataAfterOurCloseIsResetAndTheConnectionFreed) {
  // Regression (a use-after-free under ASan): the connection is freed while the segment that
  // freed it is still being processed.
  ASSERT_FALSE(h_.stack().Close(id_, h_.now()));
  EXPECT_EQ(h_.TakeOne().flags, kFA);
  acked_ = 1;
  PeerSends(Pattern(20));
  const std::vector<Segment> sent = h_.Take();
  ASSERT_FALSE(sent.empty());
  EXPECT_TRUE(sent.back().Has(TcpFlags::kRst)) << "nobody will read it (RFC 2525 2.17)";
  EXPECT_EQ(h_.stack().tcp_connection_count(), 0u);
}

TEST_F(Established, StaleHandlesGiveNotConnected) {
  ASSERT_FALSE(h_.stack().Abort(id_, h_.now()));
  EXPECT_EQ(h_.stack().Send(id_, Pattern(1), h_.now()).error, std::errc::not_connected);
  Bytes out(1);
  EXPECT_EQ(h_.stack().Receive(id_, out, h_.now()).error, std::errc::not_connected);
  EXPECT_EQ(h_.stack().Close(id_, h_.now()), std::errc::not_connected);
}

TEST(TcpWrap, SequenceNumbersWrapMidTransfer) {
  TcpHarness h;
  const std::uint32_t peer_iss = 0xffff'fe00u;  // wraps after 512 bytes
  const tcp::ConnectionId id = h.EstablishPassive(kPort, peer_iss);
  std::uint32_t seq = peer_iss + 1;
  Bytes received;
  for (int i = 0; i < 8; ++i) {
    const Bytes chunk = Pattern(200, static_cast<std::uint8_t>(i));
    h.Inject(kPort, kPA, seq, h.our_iss() + 1, 65535, chunk);
    seq += 200;
    Bytes out(200);
    ASSERT_EQ(h.stack().Receive(id, out, h.now()).bytes, 200u) << "chunk " << i;
    received.insert(received.end(), out.begin(), out.end());
  }
  h.AdvanceBy(milliseconds(100));
  const std::vector<Segment> acks = h.Take();
  ASSERT_FALSE(acks.empty());
  EXPECT_EQ(acks.back().ack, seq) << "acknowledged across the wrap";
  EXPECT_EQ(received.size(), 1600u);
}

}  // namespace
}  // namespace tapstack::testing
