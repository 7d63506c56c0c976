// IPv6 input and ICMPv6 on a virtual clock: what the stack accepts (its addresses, all-nodes, its
// solicited-node groups), the extension headers it walks, every malformed packet a named drop,
// echo both ways, and the rate-limited Parameter Problem for an upper layer it lacks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "stack/wire/arp.h"
#include "stack/wire/icmp.h"
#include "stack/wire/ipv4.h"
#include "tests/stack/ipv6_fixture.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;

class Ipv6InputTest : public Ipv6StackTest {
 protected:
  // The peer's address is known, so answers go out at once.
  void SetUp() override {
    Ipv6StackTest::SetUp();
    ResolvePeer();
  }
  Bytes Echo(const wire::Ipv6Address& dst, std::uint16_t seq = 1) {
    return EchoV6(wire::Icmpv6Type::kEchoRequest, kPeerGlobal, dst, 0x4242, seq, {'h', 'i'});
  }
  // An extension header of `type`'s shape (next header, length, padding) of 8 * (units + 1)
  // bytes in front of `packet`'s payload.
  static Bytes WithExtension(const Bytes& packet, std::uint8_t type, std::uint8_t units = 0) {
    Bytes out(packet.begin(), packet.begin() + wire::kIpv6HeaderLen);
    Bytes extension((units + 1) * 8, 0);
    extension[0] = out[6];
    extension[1] = units;
    if (type != wire::IpProtocol::kIpv6Fragment) extension[2] = 1;  // a PadN option
    if (type != wire::IpProtocol::kIpv6Fragment)
      extension[3] = static_cast<std::uint8_t>(extension.size() - 4);
    out[6] = type;
    out.insert(out.end(), extension.begin(), extension.end());
    out.insert(out.end(), packet.begin() + wire::kIpv6HeaderLen, packet.end());
    wire::StoreBe16(&out[4], static_cast<std::uint16_t>(out.size() - wire::kIpv6HeaderLen));
    return out;
  }
};

TEST_F(Ipv6InputTest, AnswersEchoRequestWithSameIdentifierSequenceAndData) {
  IngestPacket(Echo(kOurGlobal, 5));
  const std::vector<SentIpv6> sent = SentIpv6Frames();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].dst_mac, kPeerMac);
  EXPECT_EQ(sent[0].ip.src, kOurGlobal);
  EXPECT_EQ(sent[0].ip.dst, kPeerGlobal);
  EXPECT_EQ(sent[0].ip.hop_limit, 64);
  EXPECT_EQ(sent[0].ip.flow_label, 0u) << "RFC 6437 2: 0 is no flow";
  // RFC 4443 4.2.
  const auto reply = wire::Icmpv6View::Parse(sent[0].upper);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->type(), wire::Icmpv6Type::kEchoReply);
  EXPECT_EQ(reply->echo_identifier(), 0x4242);
  EXPECT_EQ(reply->echo_sequence(), 5);
  EXPECT_THAT(reply->payload(), ::testing::ElementsAre('h', 'i'));
  EXPECT_EQ(Count(Counter::kTxIcmpv6EchoReplies), 1u);
  EXPECT_EQ(Count(Counter::kRxIpv6), 2u);  // the advertisement and the request
}

TEST_F(Ipv6InputTest, EchoToAllNodesIsAnsweredFromAUnicastAddress) {
  IngestPacket(Echo(wire::Ipv6Address::AllNodes()));
  const std::vector<SentIpv6> sent = SentIpv6Frames();
  ASSERT_EQ(sent.size(), 1u);
  // RFC 4443 4.2: the reply to a group's request comes from a unicast address of ours.
  EXPECT_EQ(sent[0].ip.src, kOurGlobal);
}

TEST_F(Ipv6InputTest, EchoFromUnspecifiedAddressIsNotAnswered) {
  IngestPacket(EchoV6(wire::Icmpv6Type::kEchoRequest, wire::Ipv6Address(), kOurGlobal, 1, 1, {}));
  EXPECT_EQ(Count(Counter::kRxIcmpv6), 2u) << "received (after the advertisement)";
  EXPECT_TRUE(sent_.empty()) << "but there is no one to answer";
}

TEST_F(Ipv6InputTest, EchoReplyReachesTheHandler) {
  std::vector<Icmpv6EchoReply> replies;
  stack_->set_icmpv6_echo_reply_handler(
      [&](const Icmpv6EchoReply& reply) { replies.push_back(reply); });
  ASSERT_TRUE(Ping(kPeerGlobal, 3));
  const std::vector<SentIpv6> sent = SentIpv6Frames();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].icmp_type(), 128);
  EXPECT_EQ(sent[0].ip.src, kOurGlobal) << "RFC 6724: the global address for a global peer";
  IngestPacket(EchoV6(wire::Icmpv6Type::kEchoReply, kPeerGlobal, kOurGlobal, 7, 3, {1, 2, 3}));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].from, kPeerGlobal);
  EXPECT_EQ(replies[0].identifier, 7);
  EXPECT_EQ(replies[0].sequence, 3);
  EXPECT_EQ(replies[0].payload_len, 3u);
}

TEST_F(Ipv6InputTest, SkipsHopByHopRoutingAndDestinationOptionsInOrder) {
  // RFC 8200 4.1: hop-by-hop first, then routing, then destination options.
  Bytes packet = Echo(kOurGlobal);
  packet = WithExtension(packet, wire::IpProtocol::kIpv6DestinationOptions, 1);
  packet = WithExtension(packet, wire::IpProtocol::kIpv6Routing);
  packet = WithExtension(packet, wire::IpProtocol::kIpv6HopByHop);
  IngestPacket(packet);
  ASSERT_EQ(SentIpv6Frames().size(), 1u);
  EXPECT_EQ(SentIpv6Frames()[0].icmp_type(), 129);
  EXPECT_EQ(Count(Counter::kDropIpv6ExtensionChain), 0u);
}

TEST_F(Ipv6InputTest, MalformedPacketsAreCountedDrops) {
  const Bytes good = Echo(kOurGlobal);
  // Under 40 bytes; version 4 in an IPv6 frame; payload length past the frame.
  IngestPacket(Bytes(good.begin(), good.begin() + 39));
  Bytes version = good;
  version[0] = 0x40;
  IngestPacket(version);
  Bytes past = good;
  wire::StoreBe16(&past[4], static_cast<std::uint16_t>(good.size()));
  IngestPacket(past);
  EXPECT_EQ(Count(Counter::kDropIpv6Malformed), 3u);
  // A multicast source (RFC 4291 2.7).
  Bytes multicast_source = good;
  wire::Ipv6Address::AllNodes().ToBytes(&multicast_source[8]);
  IngestPacket(multicast_source);
  EXPECT_EQ(Count(Counter::kDropIpv6Malformed), 4u);
  // The loopback address as a source (RFC 4291 2.5.3: it never crosses a link).
  Bytes loopback_source = good;
  wire::Ipv6Address::Loopback().ToBytes(&loopback_source[8]);
  IngestPacket(loopback_source);
  EXPECT_EQ(Count(Counter::kDropIpv6Malformed), 5u);
  // Truncated extension chains: a header running past the payload, one cut before its length
  // byte, hop-by-hop not first.
  Bytes past_payload = WithExtension(good, wire::IpProtocol::kIpv6DestinationOptions);
  past_payload[wire::kIpv6HeaderLen + 1] = 40;
  IngestPacket(past_payload);
  Bytes cut = Ipv6Packet(kPeerGlobal, kOurGlobal, wire::IpProtocol::kIpv6Routing, {58});
  IngestPacket(cut);
  Bytes hop_by_hop_second = WithExtension(good, wire::IpProtocol::kIpv6HopByHop);
  hop_by_hop_second = WithExtension(hop_by_hop_second, wire::IpProtocol::kIpv6DestinationOptions);
  IngestPacket(hop_by_hop_second);
  EXPECT_EQ(Count(Counter::kDropIpv6ExtensionChain), 3u);
  // A fragment (RFC 8200 4.5): not reassembled.
  IngestPacket(WithExtension(good, wire::IpProtocol::kIpv6Fragment));
  EXPECT_EQ(Count(Counter::kDropIpv6Fragment), 1u);
  // A bad ICMPv6 checksum and a message under 8 bytes.
  Bytes bad_checksum = good;
  bad_checksum[wire::kIpv6HeaderLen + 2] ^= 0x55;
  IngestPacket(bad_checksum);
  EXPECT_EQ(Count(Counter::kDropIcmpv6BadChecksum), 1u);
  IngestPacket(Ipv6Packet(kPeerGlobal, kOurGlobal, wire::IpProtocol::kIcmpv6, {128, 0, 0}));
  EXPECT_EQ(Count(Counter::kDropIcmpv6Malformed), 1u);
  EXPECT_TRUE(sent_.empty());
}

TEST_F(Ipv6InputTest, AcceptsOnlyOurAddressesAndGroups) {
  // Another host's unicast address, to our MAC.
  IngestPacket(Echo(*wire::Ipv6Address::Parse("2001:db8::99")));
  EXPECT_EQ(Count(Counter::kDropIpv6NotForUs), 1u);
  // A group we are not in, to its MAC: dropped at Ethernet.
  const wire::Ipv6Address other_group = wire::SolicitedNodeMulticast(kPeerGlobal);
  IngestPacket(Echo(other_group));
  EXPECT_EQ(Count(Counter::kDropEthernetNotForUs), 1u);
  // The solicited-node group of our address is heard (RFC 4861 7.2.1).
  IngestPacket(
      Solicitation(kPeerGlobal, wire::SolicitedNodeMulticast(kOurGlobal), kOurGlobal, kPeerMac));
  EXPECT_EQ(Count(Counter::kTxNdpAdvertisements), 1u);
  EXPECT_EQ(SentIpv6Frames().size(), 1u);
}

TEST_F(Ipv6InputTest, UnknownNextHeaderGetsRateLimitedParameterProblem) {
  const Bytes udp = Ipv6Packet(kPeerGlobal, kOurGlobal, 17, Bytes(8, 0));
  IngestPacket(WithExtension(udp, wire::IpProtocol::kIpv6DestinationOptions));
  std::vector<SentIpv6> sent = SentIpv6Frames();
  ASSERT_EQ(sent.size(), 1u);
  // RFC 8200 4, RFC 4443 3.4: code 1, pointing at the next header field that named UDP (the
  // destination options header's first byte, at 40), the invoking packet quoted.
  const auto problem = wire::Icmpv6View::Parse(sent[0].upper);
  ASSERT_TRUE(problem.ok());
  EXPECT_EQ(problem->type(), wire::Icmpv6Type::kParameterProblem);
  EXPECT_EQ(problem->code(), 1);
  EXPECT_EQ(wire::LoadBe32(&sent[0].upper[4]), 40u);
  EXPECT_EQ(problem->payload().size(), udp.size() + 8);
  EXPECT_EQ(Count(Counter::kDropIpv6UnsupportedProtocol), 1u);
  // RFC 4443 2.4 (f): a burst of 6, then one a second.
  for (int i = 0; i < 9; ++i) IngestPacket(udp);
  EXPECT_EQ(Count(Counter::kTxIcmpv6Errors), 6u);
  EXPECT_EQ(Count(Counter::kIcmpv6ErrorsRateLimited), 4u);
  AdvanceBy(milliseconds(1'000));
  IngestPacket(udp);
  IngestPacket(udp);
  EXPECT_EQ(Count(Counter::kTxIcmpv6Errors), 7u);
  // RFC 4443 2.4 (e): never for a packet to a group.
  sent_.clear();
  AdvanceBy(milliseconds(10'000));
  IngestPacket(Ipv6Packet(kPeerGlobal, wire::Ipv6Address::AllNodes(), 17, Bytes(8, 0)));
  EXPECT_TRUE(sent_.empty());
}

TEST_F(Ipv6InputTest, Ipv4WorksAsBeforeBesideIpv6) {
  // The peer's ARP request and ping over IPv4: answered, nothing of IPv6's touched or sent.
  const wire::Ipv4Address ours = *wire::Ipv4Address::Parse("192.0.2.2");
  const wire::Ipv4Address peer = *wire::Ipv4Address::Parse("192.0.2.1");
  Bytes arp(wire::kArpPacketLen);
  wire::WriteArp(wire::ArpRepr{wire::ArpOp::kRequest, kPeerMac, peer, wire::MacAddress(), ours},
                 arp);
  IngestFrame(EthernetFrame(wire::MacAddress::Broadcast(), arp, kPeerMac, wire::EtherType::kArp));
  Bytes echo(wire::kIcmpHeaderLen + 4);
  wire::WriteIcmpEcho(wire::IcmpType::kEchoRequest, 1, 1, Bytes{1, 2, 3, 4}, echo);
  wire::Ipv4Repr ip;
  ip.src = peer;
  ip.dst = ours;
  ip.protocol = wire::IpProtocol::kIcmp;
  ip.payload_len = static_cast<std::uint16_t>(echo.size());
  Bytes packet(wire::kIpv4MinHeaderLen + echo.size());
  wire::WriteIpv4Header(ip, packet);
  std::copy(echo.begin(), echo.end(), packet.begin() + wire::kIpv4MinHeaderLen);
  const std::uint64_t ipv6_before = Count(Counter::kRxIpv6);
  IngestFrame(EthernetFrame(kOurMac, packet, kPeerMac, wire::EtherType::kIpv4));
  EXPECT_EQ(Count(Counter::kTxArpReplies), 1u);
  EXPECT_EQ(Count(Counter::kTxIcmpEchoReplies), 1u);
  EXPECT_EQ(sent_.size(), 2u);
  EXPECT_TRUE(SentIpv6Frames().empty());
  EXPECT_EQ(Count(Counter::kRxIpv6), ipv6_before);
}

TEST_F(Ipv6InputTest, Ipv4OnlyStackDropsIpv6AsUnsupported) {
  StackConfig config = Config();
  config.interface.ipv6.enabled = false;
  Start(config);
  EXPECT_EQ(stack_->ipv6(), nullptr);
  IngestPacket(Echo(kOurGlobal));
  IngestPacket(
      Solicitation(kPeerGlobal, wire::SolicitedNodeMulticast(kOurGlobal), kOurGlobal, kPeerMac));
  EXPECT_EQ(Count(Counter::kDropEthernetUnsupportedType), 1u);
  EXPECT_EQ(Count(Counter::kDropEthernetNotForUs), 1u);
  EXPECT_FALSE(Ping(kPeerGlobal));
  AdvanceBy(milliseconds(5'000));
  EXPECT_TRUE(sent_.empty());
}

}  // namespace
}  // namespace tapstack::testing
