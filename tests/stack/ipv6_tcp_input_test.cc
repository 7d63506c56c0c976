// TCP over IPv6 at the input, on a virtual clock with the peer played by hand: what a SYN to a
// listener, to a closed port and to a group gets back, and that the checksum is the IPv6 one
// (RFC 9293 3.1 with the pseudo-header of RFC 8200 8.1).
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>

#include "stack/wire/tcp.h"
#include "tests/stack/ipv6_fixture.h"

namespace tapstack::testing {
namespace {

constexpr std::uint16_t kListenPort = 5001;
constexpr std::uint16_t kPeerPort = 40000;
constexpr std::uint32_t kPeerIss = 1000;

class Ipv6TcpInputTest : public Ipv6StackTest {
 protected:
  // The peer's address is known, so answers go out at once.
  void SetUp() override {
    Ipv6StackTest::SetUp();
    ResolvePeer();
  }

  // The peer's segment to `dst`, checksummed over the IPv6 pseudo-header.
  static Bytes Segment(const wire::Ipv6Address& dst, std::uint16_t dst_port, std::uint8_t flags,
                       std::uint32_t seq, std::uint32_t ack = 0,
                       const wire::TcpOptions& options = {}) {
    wire::TcpRepr repr{.src_port = kPeerPort,
                       .dst_port = dst_port,
                       .seq = seq,
                       .ack = ack,
                       .flags = flags,
                       .window = 65535,
                       .options = options};
    Bytes segment(wire::TcpHeaderLen(options));
    EXPECT_EQ(wire::WriteTcp(repr, kPeerGlobal, dst, segment), segment.size());
    return Ipv6Packet(kPeerGlobal, dst, wire::IpProtocol::kTcp, segment);
  }

  // The TCP segments we sent, each checked to be TCP over IPv6 from our address to the peer with a
  // checksum right for the IPv6 pseudo-header.
  std::vector<wire::TcpRepr> SentSegments() {
    std::vector<wire::TcpRepr> segments;
    sent_ipv6_ = SentIpv6Frames();
    for (const SentIpv6& frame : sent_ipv6_) {
      if (frame.ip.next_header != wire::IpProtocol::kTcp) continue;
      EXPECT_EQ(frame.ip.src, kOurGlobal);
      EXPECT_EQ(frame.ip.dst, kPeerGlobal);
      const auto view = wire::TcpView::Parse(frame.upper);
      EXPECT_TRUE(view.ok());
      if (!view.ok()) continue;
      EXPECT_TRUE(view->checksum_valid(kOurGlobal, kPeerGlobal));
      const auto repr = view->Repr();
      EXPECT_TRUE(repr.ok());
      if (repr.ok()) segments.push_back(*repr);
    }
    return segments;
  }

  std::vector<SentIpv6> sent_ipv6_;  // owns what SentSegments' payload spans point into
};

TEST_F(Ipv6TcpInputTest, SynToAListenerGetsASynAckWithTheIpv6Mss) {
  ASSERT_FALSE(stack_->Listen(kListenPort, 4, now_));
  wire::TcpOptions options;
  options.mss = 1440;
  options.sack_permitted = true;
  options.timestamps = wire::TcpOptions::Timestamps{.value = 77, .echo_reply = 0};
  IngestPacket(Segment(kOurGlobal, kListenPort, wire::TcpFlags::kSyn, kPeerIss, 0, options));
  const std::vector<wire::TcpRepr> sent = SentSegments();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].flags, wire::TcpFlags::kSyn | wire::TcpFlags::kAck);
  EXPECT_EQ(sent[0].ack, kPeerIss + 1);
  EXPECT_EQ(sent[0].src_port, kListenPort);
  EXPECT_EQ(sent[0].dst_port, kPeerPort);
  // RFC 8200 8.3: the MTU less 40 bytes of IPv6 header and 20 of TCP, where IPv4 offers 1460.
  EXPECT_EQ(sent[0].options.mss, 1440);
  EXPECT_TRUE(sent[0].options.sack_permitted);
  ASSERT_TRUE(sent[0].options.timestamps.has_value());
  EXPECT_EQ(sent[0].options.timestamps->echo_reply, 77u);
  EXPECT_EQ(stack_->tcp_half_open_count(), 1u);

  // The handshake's ACK makes a connection whose Info names the IPv6 addresses.
  options = {};
  options.timestamps =
      wire::TcpOptions::Timestamps{.value = 78, .echo_reply = sent[0].options.timestamps->value};
  std::optional<tcp::ConnectionId> accepted;
  stack_->set_tcp_event_handler([&](const tcp::Event& event) {
    if (event.type == tcp::EventType::kAcceptReady) accepted = stack_->Accept(kListenPort);
  });
  IngestPacket(Segment(kOurGlobal, kListenPort, wire::TcpFlags::kAck, kPeerIss + 1, sent[0].seq + 1,
                       options));
  ASSERT_TRUE(accepted.has_value());
  const std::optional<tcp::ConnectionInfo> info = stack_->Info(*accepted);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->state, tcp::State::kEstablished);
  EXPECT_EQ(info->local_address, wire::IpAddress(kOurGlobal));
  EXPECT_EQ(info->remote_address, wire::IpAddress(kPeerGlobal));
  EXPECT_EQ(info->mss, 1440u - 12u);  // the timestamps option's 12 bytes in every segment
  EXPECT_TRUE(info->timestamps);
}

TEST_F(Ipv6TcpInputTest, SynToAClosedPortGetsAResetAndNoIcmpv6Error) {
  IngestPacket(Segment(kOurGlobal, 9, wire::TcpFlags::kSyn, kPeerIss));
  const std::vector<wire::TcpRepr> sent = SentSegments();
  ASSERT_EQ(sent.size(), 1u);
  // RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Linux answers TCP to a closed
  // port with this and not with an ICMPv6 port unreachable (RFC 4443 3.1), and so do we.
  EXPECT_EQ(sent[0].flags, wire::TcpFlags::kRst | wire::TcpFlags::kAck);
  EXPECT_EQ(sent[0].seq, 0u);
  EXPECT_EQ(sent[0].ack, kPeerIss + 1);
  EXPECT_EQ(sent_ipv6_.size(), 1u) << "nothing but the RST";
  EXPECT_EQ(Count(Counter::kTxIcmpv6Errors), 0u);
  EXPECT_EQ(Count(Counter::kDropTcpNoConnection), 1u);
}

TEST_F(Ipv6TcpInputTest, SegmentToAGroupIsDroppedEvenOnAListeningPort) {
  ASSERT_FALSE(stack_->Listen(kListenPort, 4, now_));
  // RFC 9293 3.10.7.2: a SYN to a broadcast or multicast address is not for a connection.
  IngestPacket(Segment(wire::Ipv6Address::AllNodes(), kListenPort, wire::TcpFlags::kSyn, kPeerIss));
  IngestPacket(Segment(wire::SolicitedNodeMulticast(kOurGlobal), kListenPort, wire::TcpFlags::kSyn,
                       kPeerIss));
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(Count(Counter::kDropIpv6NotForUs), 2u);
  EXPECT_EQ(stack_->tcp_half_open_count(), 0u);
}

TEST_F(Ipv6TcpInputTest, ChecksumIsTheIpv6PseudoHeaders) {
  ASSERT_FALSE(stack_->Listen(kListenPort, 4, now_));
  // A segment checksummed for another destination than the packet's fails, and is a counted drop.
  Bytes packet = Segment(kOurGlobal, kListenPort, wire::TcpFlags::kSyn, kPeerIss);
  const Bytes other = Segment(kOurLinkLocal, kListenPort, wire::TcpFlags::kSyn, kPeerIss);
  ASSERT_NE(wire::LoadBe16(&packet[wire::kIpv6HeaderLen + 16]),
            wire::LoadBe16(&other[wire::kIpv6HeaderLen + 16]));
  std::copy(other.begin() + wire::kIpv6HeaderLen + 16, other.begin() + wire::kIpv6HeaderLen + 18,
            packet.begin() + wire::kIpv6HeaderLen + 16);
  IngestPacket(packet);
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(Count(Counter::kDropTcpBadChecksum), 1u);
  // The same SYN to the link-local address, for which it was checksummed, is a connection.
  IngestPacket(other);
  EXPECT_EQ(stack_->tcp_half_open_count(), 1u);
}

TEST_F(Ipv6TcpInputTest, ConnectOverIpv6SendsASynFromOurAddress) {
  const tcp::Result<tcp::ConnectionId> id = stack_->Connect(kPeerGlobal, 80, now_);
  ASSERT_TRUE(id.ok());
  const std::vector<wire::TcpRepr> sent = SentSegments();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].flags, wire::TcpFlags::kSyn);
  EXPECT_EQ(sent[0].dst_port, 80);
  EXPECT_EQ(sent[0].options.mss, 1440);
  const std::optional<tcp::ConnectionInfo> info = stack_->Info(*id);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->local_address, wire::IpAddress(kOurGlobal));
  EXPECT_EQ(info->remote_address, wire::IpAddress(kPeerGlobal));
  EXPECT_EQ(info->local_port, sent[0].src_port);
}

TEST_F(Ipv6TcpInputTest, ConnectWaitsForDuplicateAddressDetection) {
  // RFC 4862 5.4: a tentative address is not ours to send from.
  Start(Config(/*dad_transmits=*/1));
  const tcp::Result<tcp::ConnectionId> early = stack_->Connect(kPeerGlobal, 80, now_);
  EXPECT_EQ(early.error(), std::error_code(EADDRNOTAVAIL, std::generic_category()));
  AdvanceBy(std::chrono::milliseconds(5'000));
  EXPECT_TRUE(stack_->Connect(kPeerGlobal, 80, now_).ok());
}

TEST_F(Ipv6TcpInputTest, ConnectOverIpv6WithoutIpv6IsNotSupported) {
  StackConfig config = Config();
  config.interface.ipv6.enabled = false;
  Start(config);
  const tcp::Result<tcp::ConnectionId> id = stack_->Connect(kPeerGlobal, 80, now_);
  EXPECT_EQ(id.error(), std::error_code(EAFNOSUPPORT, std::generic_category()));
}

}  // namespace
}  // namespace tapstack::testing
