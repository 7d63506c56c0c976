// Resource limits (TcpConfig) and SYN cookies (RFC 4987 3.6), on the virtual clock: what a stack
// does when a limit is reached, and that it counts it. docs/testing.md lists each limit tested.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "stack/tcp/receive_buffer.h"
#include "stack/tcp/syn_cookie.h"
#include "tests/support/tcp_harness.h"

namespace tapstack::testing {
namespace {

using std::chrono::seconds;
using wire::TcpFlags;

constexpr std::uint16_t kPort = 80;
constexpr std::uint32_t kClientIsn = 1000;
constexpr std::uint16_t kAckWindow = 60000;  // the client's window after its SYN

tcp::TcpConfig Limits(std::size_t max_connections, std::size_t max_half_open,
                      bool syn_cookies = true) {
  tcp::TcpConfig config;
  config.max_connections = max_connections;
  config.max_half_open = max_half_open;
  config.syn_cookies = syn_cookies;
  return config;
}

wire::TcpOptions SynOptions(std::uint16_t mss, std::optional<std::uint8_t> window_scale) {
  wire::TcpOptions options;
  options.mss = mss;
  options.window_scale = window_scale;
  return options;
}

Bytes Pattern(std::size_t size, std::uint8_t seed) {
  Bytes bytes(size);
  std::iota(bytes.begin(), bytes.end(), seed);
  return bytes;
}

// A client at the harness's peer address whose SYN comes from `port`; returns our SYN-ACK (or
// whatever we answered), nullopt when we answered nothing.
std::optional<Segment> SendSyn(TcpHarness& harness, std::uint16_t port,
                               const wire::TcpOptions& options = SynOptions(1460, 7)) {
  harness.set_peer_port(port);
  harness.Inject(kPort, TcpFlags::kSyn, kClientIsn, 0, 65535, {}, options);
  std::vector<Segment> sent = harness.Take();
  if (sent.empty()) return std::nullopt;
  EXPECT_EQ(sent.size(), 1u);
  return sent.front();
}

// The client completes the handshake from `port` by acknowledging `syn_ack`.
void SendHandshakeAck(TcpHarness& harness, std::uint16_t port, const Segment& syn_ack,
                      std::span<const std::uint8_t> data = {}, std::uint8_t extra_flags = 0) {
  harness.set_peer_port(port);
  harness.Inject(kPort, TcpFlags::kAck | extra_flags, kClientIsn + 1, syn_ack.seq + 1, kAckWindow,
                 data);
}

// --- Half-open connections and SYN cookies.

TEST(HalfOpenLimit, WithoutCookiesExtraSynsAreDroppedAndCounted) {
  TcpHarness harness({.tcp = Limits(100, 4, /*syn_cookies=*/false)});
  ASSERT_FALSE(harness.stack().Listen(kPort, 64, harness.now()));
  int syn_acks = 0;
  for (std::uint16_t port = 1; port <= 10; ++port) syn_acks += SendSyn(harness, port).has_value();
  EXPECT_EQ(syn_acks, 4);
  EXPECT_EQ(harness.stack().tcp_connection_count(), 4u);
  EXPECT_EQ(harness.Count(Counter::kDropTcpHalfOpenFull), 6u);
  EXPECT_EQ(harness.Count(Counter::kTcpSynCookiesSent), 0u);
}

TEST(HalfOpenLimit, BeyondItSynsGetStatelessCookies) {
  TcpHarness harness({.tcp = Limits(100, 2)});
  ASSERT_FALSE(harness.stack().Listen(kPort, 64, harness.now()));
  ASSERT_TRUE(SendSyn(harness, 1).has_value());
  ASSERT_TRUE(SendSyn(harness, 2).has_value());
  for (std::uint16_t port = 3; port < 103; ++port) {
    const std::optional<Segment> syn_ack = SendSyn(harness, port);
    ASSERT_TRUE(syn_ack.has_value());
    EXPECT_TRUE(syn_ack->Only(TcpFlags::kSyn | TcpFlags::kAck)) << syn_ack->Describe();
    EXPECT_EQ(syn_ack->ack, kClientIsn + 1);
    // The same options a SYN-RECEIVED connection would send.
    EXPECT_EQ(syn_ack->options.mss, 1460);
    EXPECT_TRUE(syn_ack->options.window_scale.has_value());
  }
  // No state was kept for the cookies: memory does not grow with the flood.
  EXPECT_EQ(harness.stack().tcp_connection_count(), 2u);
  EXPECT_EQ(harness.Count(Counter::kTcpSynCookiesSent), 100u);
  EXPECT_EQ(harness.Count(Counter::kTcpPassiveOpens), 2u);
}

TEST(HalfOpenLimit, ValidCookieAckBuildsTheConnectionWithItsData) {
  TcpHarness harness({.tcp = Limits(100, 1)});
  ASSERT_FALSE(harness.stack().Listen(kPort, 64, harness.now()));
  ASSERT_TRUE(SendSyn(harness, 1).has_value());  // fills the half-open queue
  // The client asks for MSS 1400 and window scale 3; both must survive the stateless round trip.
  const Segment cookie = *SendSyn(harness, 2, SynOptions(1400, 3));
  harness.AdvanceBy(seconds(1));
  const Bytes hello = Pattern(100, 1);
  SendHandshakeAck(harness, 2, cookie, hello);
  EXPECT_EQ(harness.Count(Counter::kTcpSynCookiesAccepted), 1u);

  const std::optional<tcp::ConnectionId> id = harness.stack().Accept(kPort);
  ASSERT_TRUE(id.has_value());
  const tcp::ConnectionInfo info = *harness.stack().Info(*id);
  EXPECT_EQ(info.state, tcp::State::kEstablished);
  EXPECT_EQ(info.remote_port, 2);
  EXPECT_EQ(info.iss, cookie.seq);
  EXPECT_EQ(info.snd_una, cookie.seq + 1);
  EXPECT_EQ(info.rcv_nxt, kClientIsn + 1 + hello.size());
  EXPECT_EQ(info.mss, 1400u);
  EXPECT_EQ(info.snd_wnd, std::uint32_t{kAckWindow} << 3);  // scaled by the client's shift
  EXPECT_EQ(harness.ReadAll(*id), std::string(hello.begin(), hello.end()));

  // The connection works both ways: our reply uses the remembered MSS and our advertised
  // window is scaled by the shift the cookie's SYN-ACK offered.
  harness.Take();
  const Bytes reply = Pattern(3000, 9);
  ASSERT_EQ(harness.stack().Send(*id, reply, harness.now()).bytes, reply.size());
  const std::vector<Segment> sent = harness.Take();
  ASSERT_GE(sent.size(), 2u);
  EXPECT_EQ(sent[0].payload.size(), 1400u);
  EXPECT_EQ(sent[0].seq, cookie.seq + 1);
  EXPECT_EQ(sent[0].window, harness.stack().Info(*id)->rcv_wnd >> *cookie.options.window_scale);
}

TEST(HalfOpenLimit, CookieWithoutWindowScaleKeepsScalingOff) {
  TcpHarness harness({.tcp = Limits(100, 0)});
  ASSERT_FALSE(harness.stack().Listen(kPort, 64, harness.now()));
  const Segment cookie = *SendSyn(harness, 5, SynOptions(1460, std::nullopt));
  EXPECT_FALSE(cookie.options.window_scale.has_value());  // RFC 7323 2.2: only echo an offer
  SendHandshakeAck(harness, 5, cookie);
  const std::optional<tcp::ConnectionId> id = harness.stack().Accept(kPort);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(harness.stack().Info(*id)->snd_wnd, kAckWindow);  // unscaled
}

TEST(HalfOpenLimit, ForgedOrExpiredCookieIsRefusedWithReset) {
  TcpHarness harness({.tcp = Limits(100, 0)});
  ASSERT_FALSE(harness.stack().Listen(kPort, 64, harness.now()));
  Segment cookie = *SendSyn(harness, 9);

  Segment forged = cookie;
  forged.seq ^= 1u << 20;
  SendHandshakeAck(harness, 9, forged);
  Segment reset = harness.TakeOne();
  EXPECT_TRUE(reset.Only(TcpFlags::kRst)) << reset.Describe();
  EXPECT_EQ(reset.seq, forged.seq + 1);  // RFC 9293 3.10.7.2: <SEQ=SEG.ACK><CTL=RST>
  EXPECT_EQ(harness.Count(Counter::kDropTcpBadSynCookie), 1u);

  // The right cookie from another port (another connection) fails too.
  SendHandshakeAck(harness, 10, cookie);
  EXPECT_TRUE(harness.TakeOne().Only(TcpFlags::kRst));
  EXPECT_EQ(harness.Count(Counter::kDropTcpBadSynCookie), 2u);

  // Two periods later the genuine cookie has expired (and cookies are no longer checked at all).
  harness.AdvanceBy(2 * tcp::SynCookies::kPeriod + seconds(1));
  SendHandshakeAck(harness, 9, cookie);
  EXPECT_TRUE(harness.TakeOne().Only(TcpFlags::kRst));
  EXPECT_EQ(harness.stack().tcp_connection_count(), 0u);
  EXPECT_EQ(harness.Count(Counter::kTcpSynCookiesAccepted), 0u);
}

TEST(HalfOpenLimit, CookieAckWaitsWhileTheAcceptQueueIsFull) {
  TcpHarness harness({.tcp = Limits(100, 0)});
  ASSERT_FALSE(harness.stack().Listen(kPort, 1, harness.now()));
  const Segment first = *SendSyn(harness, 1);
  const Segment second = *SendSyn(harness, 2);
  SendHandshakeAck(harness, 1, first);
  ASSERT_EQ(harness.stack().tcp_connection_count(), 1u);
  // The queue (backlog 1) is full: the second ACK is ignored, not refused.
  SendHandshakeAck(harness, 2, second);
  EXPECT_TRUE(harness.Take().empty());
  EXPECT_EQ(harness.Count(Counter::kDropTcpAcceptQueueFull), 1u);
  // Once the application accepts, the client's next segment (its retransmission) gets in.
  ASSERT_TRUE(harness.stack().Accept(kPort).has_value());
  SendHandshakeAck(harness, 2, second, Pattern(10, 0));
  EXPECT_EQ(harness.stack().tcp_connection_count(), 2u);
  EXPECT_TRUE(harness.stack().Accept(kPort).has_value());
}

// --- The connection limit.

TEST(ConnectionLimit, ListenerRefusesWithResetAndConnectFailsWithEnobufs) {
  TcpHarness harness({.tcp = Limits(2, 16)});
  ASSERT_FALSE(harness.stack().Listen(kPort, 64, harness.now()));
  const Segment first = *SendSyn(harness, 1);
  SendHandshakeAck(harness, 1, first);
  ASSERT_TRUE(SendSyn(harness, 2).has_value());
  ASSERT_EQ(harness.stack().tcp_connection_count(), 2u);

  const Segment refusal = *SendSyn(harness, 3);
  EXPECT_TRUE(refusal.Only(TcpFlags::kRst | TcpFlags::kAck)) << refusal.Describe();
  EXPECT_EQ(refusal.ack, kClientIsn + 1);
  EXPECT_EQ(harness.Count(Counter::kTcpRefusedConnectionLimit), 1u);

  const tcp::Result<tcp::ConnectionId> active =
      harness.stack().Connect(TcpHarness::kPeerAddress, 9999, harness.now());
  EXPECT_EQ(active.error(), std::errc::no_buffer_space);
  EXPECT_EQ(harness.stack().tcp_connection_count(), 2u);

  // Room again once one goes away.
  const std::optional<tcp::ConnectionId> id = harness.stack().Accept(kPort);
  ASSERT_TRUE(id.has_value());
  ASSERT_FALSE(harness.stack().Abort(*id, harness.now()));
  harness.Take();
  EXPECT_TRUE(SendSyn(harness, 3)->Only(TcpFlags::kSyn | TcpFlags::kAck));
}

TEST(ConnectionLimit, CookieAckAtTheLimitIsRefusedWithReset) {
  TcpHarness harness({.tcp = Limits(1, 0)});
  ASSERT_FALSE(harness.stack().Listen(kPort, 64, harness.now()));
  const Segment first = *SendSyn(harness, 1);
  const Segment second = *SendSyn(harness, 2);
  SendHandshakeAck(harness, 1, first);
  ASSERT_EQ(harness.stack().tcp_connection_count(), 1u);
  SendHandshakeAck(harness, 2, second);
  const Segment reset = harness.TakeOne();
  EXPECT_TRUE(reset.Only(TcpFlags::kRst)) << reset.Describe();
  EXPECT_EQ(harness.Count(Counter::kTcpRefusedConnectionLimit), 1u);
  EXPECT_EQ(harness.stack().tcp_connection_count(), 1u);
}

// --- Buffer memory: per connection, and for the whole stack.

class BufferLimits : public ::testing::Test {
 protected:
  static constexpr std::size_t kStackBudget = 64 * 1024;

  static HarnessOptions Options() {
    HarnessOptions options;
    options.tcp.max_buffer_memory = kStackBudget;
    options.tcp.defaults.send_buffer = 48 * 1024;
    options.tcp.defaults.receive_buffer = 48 * 1024;
    return options;
  }

  // A second connection from another peer port, established passively on kPort.
  tcp::ConnectionId Establish(std::uint16_t port) {
    const Segment syn_ack = *SendSyn(harness_, port, SynOptions(1460, std::nullopt));
    SendHandshakeAck(harness_, port, syn_ack);
    const std::optional<tcp::ConnectionId> id = harness_.stack().Accept(kPort);
    EXPECT_TRUE(id.has_value());
    return id.value_or(tcp::ConnectionId{});
  }

  void SetUp() override {
    ASSERT_FALSE(harness_.stack().Listen(kPort, 64, harness_.now()));
    first_ = Establish(1);
    second_ = Establish(2);
    harness_.Take();
  }

  TcpHarness harness_{Options()};
  tcp::ConnectionId first_, second_;
};

TEST_F(BufferLimits, SendBeyondTheConnectionsBufferIsShortThenEagain) {
  const Bytes data = Pattern(60 * 1024, 0);
  const tcp::IoResult first = harness_.stack().Send(first_, data, harness_.now());
  EXPECT_EQ(first.bytes, 48u * 1024);  // the connection's own send_buffer
  const tcp::IoResult again = harness_.stack().Send(first_, data, harness_.now());
  EXPECT_EQ(again.bytes, 0u);
  EXPECT_EQ(again.error, tcp::Errno(EAGAIN));
  EXPECT_EQ(harness_.stack().tcp_buffered_bytes(), 48u * 1024);
}

TEST_F(BufferLimits, StackWideBudgetGivesEnobufsUntilMemoryIsFreed) {
  const Bytes data = Pattern(48 * 1024, 0);
  ASSERT_EQ(harness_.stack().Send(first_, data, harness_.now()).bytes, 48u * 1024);
  // 16 KiB of the 64 KiB budget are left: the second connection gets that much, then ENOBUFS
  // although its own buffer has room.
  EXPECT_EQ(harness_.stack().Send(second_, data, harness_.now()).bytes, 16u * 1024);
  const tcp::IoResult refused = harness_.stack().Send(second_, data, harness_.now());
  EXPECT_EQ(refused.bytes, 0u);
  EXPECT_EQ(refused.error, tcp::Errno(ENOBUFS));
  EXPECT_EQ(harness_.stack().tcp_buffered_bytes(), kStackBudget);

  // The peer acknowledges what the first connection sent so far (its initial window's worth):
  // that memory is free again, and the second connection may use it.
  const tcp::ConnectionInfo first = *harness_.stack().Info(first_);
  const std::uint32_t acked = first.snd_nxt - first.snd_una;
  ASSERT_GT(acked, 10'000u);
  harness_.set_peer_port(1);
  harness_.Inject(kPort, TcpFlags::kAck, kClientIsn + 1, first.snd_nxt, kAckWindow);
  EXPECT_EQ(harness_.stack().tcp_buffered_bytes(), kStackBudget - acked);
  EXPECT_EQ(harness_.stack().Send(second_, data, harness_.now()).bytes, acked);
}

TEST_F(BufferLimits, ArrivingDataBeyondTheBudgetIsDroppedCountedAndRetransmittable) {
  ASSERT_EQ(harness_.stack().Send(first_, Pattern(48 * 1024, 0), harness_.now()).bytes, 48u * 1024);
  ASSERT_EQ(harness_.stack().Send(second_, Pattern(16 * 1024 - 100, 0), harness_.now()).bytes,
            16u * 1024 - 100);
  harness_.Take();
  // 100 bytes of budget left: a 1000-byte segment on the second connection does not fit.
  const std::uint32_t rcv_nxt = harness_.stack().Info(second_)->rcv_nxt;
  const std::uint32_t snd_una = harness_.stack().Info(second_)->snd_una;
  const Bytes segment = Pattern(1000, 3);
  harness_.set_peer_port(2);
  harness_.Inject(kPort, TcpFlags::kAck, rcv_nxt, snd_una, 1024, segment);
  EXPECT_EQ(harness_.Count(Counter::kDropTcpMemoryLimit), 1u);
  EXPECT_EQ(harness_.stack().Info(second_)->rcv_nxt, rcv_nxt);  // not acknowledged: not kept
  const std::vector<Segment> answer = harness_.Take();
  ASSERT_FALSE(answer.empty());
  EXPECT_EQ(answer.back().ack, rcv_nxt);

  // The peer acknowledges everything on the first connection; its retransmission now fits.
  const std::uint32_t first_nxt = harness_.stack().Info(first_)->snd_nxt;
  harness_.set_peer_port(1);
  harness_.Inject(kPort, TcpFlags::kAck, kClientIsn + 1, first_nxt, kAckWindow);
  harness_.set_peer_port(2);
  harness_.Inject(kPort, TcpFlags::kAck, rcv_nxt, snd_una, 1024, segment);
  EXPECT_EQ(harness_.stack().Info(second_)->rcv_nxt, rcv_nxt + 1000);
  EXPECT_EQ(harness_.ReadAll(second_), std::string(segment.begin(), segment.end()));
}

TEST_F(BufferLimits, PeerCannotMakeAConnectionHoldMoreThanItsReceiveBuffer) {
  // The peer ignores our window and sends 66,000 bytes in a row into a 49,152-byte buffer.
  const std::uint32_t start = harness_.stack().Info(first_)->rcv_nxt;
  const std::uint32_t snd_una = harness_.stack().Info(first_)->snd_una;
  harness_.set_peer_port(1);
  const Bytes chunk = Pattern(1000, 5);
  for (std::uint32_t offset = 0; offset < 66'000; offset += 1000) {
    harness_.Inject(kPort, TcpFlags::kAck, start + offset, snd_una, 1024, chunk);
  }
  const tcp::ConnectionInfo info = *harness_.stack().Info(first_);
  EXPECT_EQ(info.receive_buffered, 48u * 1024);
  EXPECT_EQ(info.rcv_wnd, 0u);
  EXPECT_EQ(info.rcv_nxt, start + 48 * 1024);
  // The 50th segment straddles the window's edge: 152 bytes kept, 848 cut. The last 16 lie
  // wholly beyond it.
  EXPECT_EQ(harness_.Count(Counter::kTcpBytesBeyondWindow), 848u);
  EXPECT_EQ(harness_.Count(Counter::kDropTcpUnacceptable), 16u);
  EXPECT_EQ(harness_.stack().tcp_buffered_bytes(), 48u * 1024);
}

// Reassembly is bounded by memory, not by a count of ranges: each range held costs its bytes plus
// tcp::ReceiveBuffer::kRangeOverhead against the receive buffer. Holes of a whole block pay for
// that overhead many times over, so 200 scattered 100-byte blocks are all held, and the stream is
// whole once the holes are filled, in any order.
TEST_F(BufferLimits, OutOfOrderReassemblyHoldsAsManyRangesAsMemoryAllows) {
  const std::uint32_t start = harness_.stack().Info(first_)->rcv_nxt;
  const std::uint32_t snd_una = harness_.stack().Info(first_)->snd_una;
  harness_.set_peer_port(1);
  constexpr std::size_t kBlocks = 400;  // every other one sent first: 200 holes
  constexpr std::size_t kBlock = 100;
  Bytes stream(kBlocks * kBlock);
  for (std::size_t p = 0; p < stream.size(); ++p) {
    stream[p] = static_cast<std::uint8_t>(p * 131 + p / 256 + 7);
  }
  auto send_block = [&](std::size_t block) {
    const Bytes payload(stream.begin() + block * kBlock, stream.begin() + (block + 1) * kBlock);
    harness_.Inject(kPort, TcpFlags::kAck, start + static_cast<std::uint32_t>(block * kBlock),
                    snd_una, 1024, payload);
  };
  for (std::size_t block = 1; block < kBlocks; block += 2) send_block(block);
  EXPECT_EQ(harness_.Count(Counter::kDropTcpOutOfOrderFull), 0u);
  EXPECT_EQ(harness_.stack().tcp_buffered_bytes(), kBlocks / 2 * kBlock);
  EXPECT_EQ(harness_.stack().Info(first_)->rcv_nxt, start);

  std::vector<std::size_t> holes;
  for (std::size_t block = 0; block < kBlocks; block += 2) holes.push_back(block);
  std::shuffle(holes.begin(), holes.end(), std::mt19937(9293));
  for (std::size_t block : holes) send_block(block);
  EXPECT_EQ(harness_.Count(Counter::kDropTcpOutOfOrderFull), 0u);
  EXPECT_EQ(harness_.stack().Info(first_)->rcv_nxt, start + kBlocks * kBlock);
  EXPECT_EQ(harness_.ReadAll(first_), std::string(stream.begin(), stream.end()));
}

// The bound: 1-byte segments with 1-byte holes between them cost 1 + kRangeOverhead each, so the
// 48 KiB buffer holds 49152 / 65 = 756 of them, and the window advertised is not cut by the
// overhead. Sent from the left, the rest are dropped and counted; sent from the right, each new
// one evicts the furthest held, so the same 756 nearest RCV.NXT stay either way.
TEST_F(BufferLimits, OutOfOrderReassemblyIsBoundedPerConnection) {
  constexpr std::uint32_t kSegments = 1000;
  constexpr std::uint32_t kHeld = 48 * 1024 / (1 + tcp::ReceiveBuffer::kRangeOverhead);
  static_assert(kHeld == 756);
  const Bytes byte = Pattern(1, 1);
  for (const bool from_the_right : {false, true}) {
    SCOPED_TRACE(from_the_right ? "from the right" : "from the left");
    const tcp::ConnectionId id = from_the_right ? second_ : first_;
    const std::uint32_t start = harness_.stack().Info(id)->rcv_nxt;
    const std::uint32_t snd_una = harness_.stack().Info(id)->snd_una;
    const std::uint64_t dropped_before = harness_.Count(Counter::kDropTcpOutOfOrderFull);
    const std::size_t buffered_before = harness_.stack().tcp_buffered_bytes();
    harness_.set_peer_port(from_the_right ? 2 : 1);
    for (std::uint32_t i = 0; i < kSegments; ++i) {
      const std::uint32_t hole = from_the_right ? kSegments - 1 - i : i;
      harness_.Inject(kPort, TcpFlags::kAck, start + 2 * hole + 1, snd_una, 1024, byte);
    }
    EXPECT_EQ(harness_.Count(Counter::kDropTcpOutOfOrderFull) - dropped_before,
              from_the_right ? 0 : kSegments - kHeld);
    EXPECT_EQ(harness_.Count(Counter::kTcpOutOfOrderEvicted),
              from_the_right ? kSegments - kHeld : 0);
    EXPECT_EQ(harness_.stack().tcp_buffered_bytes() - buffered_before, kHeld);
    EXPECT_EQ(harness_.stack().Info(id)->rcv_nxt, start);
    EXPECT_EQ(harness_.stack().Info(id)->rcv_wnd, 48u * 1024);
    // The bytes kept are the ones nearest RCV.NXT: the first hole filled delivers [start, start +
    // 2 * 756), every other byte of which the peer sent.
    harness_.Inject(kPort, TcpFlags::kAck, start, snd_una, 1024, Pattern(2 * kHeld - 1, 0));
    EXPECT_EQ(harness_.stack().Info(id)->rcv_nxt, start + 2 * kHeld);
  }
  EXPECT_EQ(harness_.stack().tcp_buffered_bytes(), 2 * 2 * kHeld);
}

TEST_F(BufferLimits, FreedConnectionsReturnTheirMemory) {
  ASSERT_EQ(harness_.stack().Send(first_, Pattern(30000, 0), harness_.now()).bytes, 30000u);
  ASSERT_EQ(harness_.stack().Send(second_, Pattern(20000, 0), harness_.now()).bytes, 20000u);
  EXPECT_EQ(harness_.stack().tcp_buffered_bytes(), 50000u);
  ASSERT_FALSE(harness_.stack().Abort(first_, harness_.now()));
  EXPECT_EQ(harness_.stack().tcp_buffered_bytes(), 20000u);
  ASSERT_FALSE(harness_.stack().Abort(second_, harness_.now()));
  EXPECT_EQ(harness_.stack().tcp_buffered_bytes(), 0u);
}

}  // namespace
}  // namespace tapstack::testing
