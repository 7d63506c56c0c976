// ARP, IPv4 and ICMP echo on a virtual clock: every frame in is hand-built, every frame out is
// parsed back and checked field by field, and every drop must show in its named counter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "stack/stack.h"
#include "stack/wire/arp.h"
#include "stack/wire/checksum.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmp.h"
#include "stack/wire/ipv4.h"

namespace tapstack {
namespace {

using std::chrono::milliseconds;
using Bytes = std::vector<std::uint8_t>;

const wire::MacAddress kOurMac = *wire::MacAddress::Parse("02:00:00:00:00:02");
const wire::MacAddress kPeerMac = *wire::MacAddress::Parse("02:00:00:00:00:01");
const wire::Ipv4Address kOurIp = *wire::Ipv4Address::Parse("192.0.2.2");
const wire::Ipv4Address kPeerIp = *wire::Ipv4Address::Parse("192.0.2.1");
const wire::Ipv4Address kRouterIp = *wire::Ipv4Address::Parse("192.0.2.254");
const timers::TimePoint kStart = timers::TimePoint{} + std::chrono::hours(1);

Bytes Ethernet(const wire::MacAddress& dst, std::uint16_t ethertype, const Bytes& payload) {
  Bytes frame(wire::kEthernetHeaderLen + payload.size());
  wire::WriteEthernet(wire::EthernetRepr{dst, kPeerMac, ethertype}, frame);
  std::copy(payload.begin(), payload.end(), frame.begin() + wire::kEthernetHeaderLen);
  return frame;
}

Bytes Arp(wire::ArpOp op, wire::Ipv4Address sender_ip, wire::Ipv4Address target_ip,
          const wire::MacAddress& target_mac = wire::MacAddress()) {
  Bytes packet(wire::kArpPacketLen);
  wire::WriteArp(wire::ArpRepr{op, kPeerMac, sender_ip, target_mac, target_ip}, packet);
  return packet;
}

Bytes Ipv4(wire::Ipv4Address src, wire::Ipv4Address dst, std::uint8_t protocol,
           const Bytes& payload) {
  wire::Ipv4Repr header;
  header.src = src;
  header.dst = dst;
  header.protocol = protocol;
  header.payload_len = static_cast<std::uint16_t>(payload.size());
  Bytes packet(wire::kIpv4MinHeaderLen + payload.size());
  wire::WriteIpv4Header(header, packet);
  std::copy(payload.begin(), payload.end(), packet.begin() + wire::kIpv4MinHeaderLen);
  return packet;
}

Bytes EchoRequest(std::uint16_t id, std::uint16_t seq, const Bytes& data) {
  Bytes message(wire::kIcmpHeaderLen + data.size());
  message.resize(wire::WriteIcmpEcho(wire::IcmpType::kEchoRequest, id, seq, data, message));
  return message;
}

class LowerLayersTest : public ::testing::Test {
 protected:
  LowerLayersTest()
      : stack_(Config(), kStart, [this](std::span<const std::uint8_t> frame) {
          sent_.emplace_back(frame.begin(), frame.end());
        }) {}

  static StackConfig Config() {
    StackConfig config;
    config.interface.mac = kOurMac;
    config.interface.address = kOurIp;
    config.interface.prefix_len = 24;
    config.interface.gateway = kRouterIp;
    config.arp.retry_interval = milliseconds(1000);
    config.arp.max_requests = 3;
    config.arp.max_pending_packets = 2;
    config.random_seed = 42;
    return config;
  }

  void Ingest(const Bytes& frame) { stack_.Ingest(frame, now_); }
  void AdvanceBy(milliseconds d) {
    now_ += d;
    stack_.Advance(now_);
  }
  std::uint64_t Count(Counter c) const { return stack_.counters()[c]; }

  // Teaches the stack the peer's MAC through an ARP request the peer sends for our address.
  void PeerArpsForUs() {
    Ingest(Ethernet(wire::MacAddress::Broadcast(), wire::EtherType::kArp,
                    Arp(wire::ArpOp::kRequest, kPeerIp, kOurIp)));
  }

  timers::TimePoint now_ = kStart;
  std::vector<Bytes> sent_;
  Stack stack_;
};

TEST_F(LowerLayersTest, AnswersArpRequestForOurAddress) {
  PeerArpsForUs();
  ASSERT_EQ(sent_.size(), 1u);
  const auto eth = wire::EthernetView::Parse(sent_[0]);
  ASSERT_TRUE(eth.ok());
  EXPECT_EQ(eth->dst(), kPeerMac);
  EXPECT_EQ(eth->src(), kOurMac);
  EXPECT_EQ(eth->ethertype(), wire::EtherType::kArp);
  EXPECT_GE(sent_[0].size(), 60u) << "padded to the Ethernet minimum";
  const auto arp = wire::ArpView::Parse(eth->payload());
  ASSERT_TRUE(arp.ok());
  const wire::ArpRepr reply = arp->Repr();
  EXPECT_EQ(reply.op, wire::ArpOp::kReply);
  EXPECT_EQ(reply.sender_mac, kOurMac);
  EXPECT_EQ(reply.sender_ip, kOurIp);
  EXPECT_EQ(reply.target_mac, kPeerMac);
  EXPECT_EQ(reply.target_ip, kPeerIp);
  EXPECT_EQ(stack_.arp().Lookup(kPeerIp), kPeerMac) << "RFC 826: the requester is learned";
  EXPECT_EQ(Count(Counter::kTxArpReplies), 1u);
}

TEST_F(LowerLayersTest, IgnoresArpForOtherHostsWithoutLearningThem) {
  Ingest(Ethernet(wire::MacAddress::Broadcast(), wire::EtherType::kArp,
                  Arp(wire::ArpOp::kRequest, kPeerIp, *wire::Ipv4Address::Parse("192.0.2.77"))));
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(stack_.arp().Lookup(kPeerIp), std::nullopt);
  EXPECT_EQ(Count(Counter::kDropArpNotForUs), 1u);
}

TEST_F(LowerLayersTest, RepliesToEchoRequestWithSameIdSequenceAndData) {
  PeerArpsForUs();
  sent_.clear();
  const Bytes data = {'t', 'a', 'p', 's', 't', 'a', 'c', 'k'};
  Ingest(Ethernet(kOurMac, wire::EtherType::kIpv4,
                  Ipv4(kPeerIp, kOurIp, wire::IpProtocol::kIcmp, EchoRequest(0x1234, 7, data))));
  ASSERT_EQ(sent_.size(), 1u);
  const auto eth = wire::EthernetView::Parse(sent_[0]);
  ASSERT_TRUE(eth.ok());
  EXPECT_EQ(eth->dst(), kPeerMac);
  const auto ip = wire::Ipv4View::Parse(eth->payload());
  ASSERT_TRUE(ip.ok());
  EXPECT_TRUE(ip->header_checksum_valid());
  EXPECT_EQ(ip->src(), kOurIp);
  EXPECT_EQ(ip->dst(), kPeerIp);
  EXPECT_EQ(ip->ttl(), 64);
  const auto icmp = wire::IcmpView::Parse(ip->payload());
  ASSERT_TRUE(icmp.ok());
  EXPECT_TRUE(icmp->checksum_valid());
  EXPECT_EQ(icmp->type(), wire::IcmpType::kEchoReply);
  EXPECT_EQ(icmp->echo_identifier(), 0x1234);
  EXPECT_EQ(icmp->echo_sequence(), 7);
  EXPECT_EQ(Bytes(icmp->payload().begin(), icmp->payload().end()), data);
}

TEST_F(LowerLayersTest, ResolvesNextHopQueuesThenFlushesInOrder) {
  EXPECT_TRUE(stack_.SendEchoRequest(kPeerIp, 1, 1, {}, now_));
  EXPECT_TRUE(stack_.SendEchoRequest(kPeerIp, 1, 2, {}, now_));
  ASSERT_EQ(sent_.size(), 1u) << "one ARP request, the echo requests wait";
  const auto request = wire::ArpView::Parse(wire::EthernetView::Parse(sent_[0])->payload());
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->Repr().op, wire::ArpOp::kRequest);
  EXPECT_EQ(request->Repr().target_ip, kPeerIp);
  EXPECT_TRUE(wire::EthernetView::Parse(sent_[0])->dst().IsBroadcast());

  Ingest(
      Ethernet(kOurMac, wire::EtherType::kArp, Arp(wire::ArpOp::kReply, kPeerIp, kOurIp, kOurMac)));
  ASSERT_EQ(sent_.size(), 3u);
  for (std::uint16_t seq = 1; seq <= 2; ++seq) {
    const auto eth = wire::EthernetView::Parse(sent_[seq]);
    EXPECT_EQ(eth->dst(), kPeerMac);
    const auto icmp = wire::IcmpView::Parse(wire::Ipv4View::Parse(eth->payload())->payload());
    EXPECT_EQ(icmp->type(), wire::IcmpType::kEchoRequest);
    EXPECT_EQ(icmp->echo_sequence(), seq);
  }
}

TEST_F(LowerLayersTest, OffLinkDestinationsGoThroughTheGateway) {
  stack_.SendEchoRequest(*wire::Ipv4Address::Parse("198.51.100.2"), 1, 1, {}, now_);
  ASSERT_EQ(sent_.size(), 1u);
  const auto request = wire::ArpView::Parse(wire::EthernetView::Parse(sent_[0])->payload());
  EXPECT_EQ(request->Repr().target_ip, kRouterIp);
}

TEST_F(LowerLayersTest, UnansweredResolutionRetriesThenDropsAndCounts) {
  stack_.SendEchoRequest(kPeerIp, 1, 1, {}, now_);
  stack_.SendEchoRequest(kPeerIp, 1, 2, {}, now_);
  stack_.SendEchoRequest(kPeerIp, 1, 3, {}, now_);  // over the 2-packet queue
  EXPECT_EQ(Count(Counter::kDropArpQueueFull), 1u);
  EXPECT_EQ(Count(Counter::kTxArpRequests), 1u);
  AdvanceBy(milliseconds(999));
  EXPECT_EQ(Count(Counter::kTxArpRequests), 1u);
  AdvanceBy(milliseconds(1));
  EXPECT_EQ(Count(Counter::kTxArpRequests), 2u);
  AdvanceBy(milliseconds(1000));
  EXPECT_EQ(Count(Counter::kTxArpRequests), 3u);
  AdvanceBy(milliseconds(1000));
  EXPECT_EQ(Count(Counter::kTxArpRequests), 3u) << "max_requests is 3";
  EXPECT_EQ(Count(Counter::kDropArpUnresolved), 2u);
  EXPECT_EQ(stack_.arp().size(), 0u);
  EXPECT_TRUE(stack_.timers().empty());
}

TEST_F(LowerLayersTest, ExpiredEntriesAreConfirmedAgainThenForgotten) {
  PeerArpsForUs();
  sent_.clear();
  AdvanceBy(milliseconds(59'999));
  EXPECT_TRUE(sent_.empty());
  AdvanceBy(milliseconds(1));
  // Stale: still used, and asked for again.
  EXPECT_EQ(Count(Counter::kTxArpRequests), 1u);
  EXPECT_EQ(stack_.arp().Lookup(kPeerIp), kPeerMac);
  EXPECT_TRUE(stack_.SendEchoRequest(kPeerIp, 1, 1, {}, now_));
  EXPECT_EQ(wire::EthernetView::Parse(sent_.back())->dst(), kPeerMac);
  AdvanceBy(milliseconds(3000));
  EXPECT_EQ(Count(Counter::kTxArpRequests), 3u);
  EXPECT_EQ(stack_.arp().Lookup(kPeerIp), std::nullopt) << "three requests unanswered";
}

TEST_F(LowerLayersTest, ConfirmedStaleEntryStays) {
  PeerArpsForUs();
  AdvanceBy(milliseconds(60'000));
  Ingest(
      Ethernet(kOurMac, wire::EtherType::kArp, Arp(wire::ArpOp::kReply, kPeerIp, kOurIp, kOurMac)));
  AdvanceBy(milliseconds(10'000));
  EXPECT_EQ(Count(Counter::kTxArpRequests), 1u);
  EXPECT_EQ(stack_.arp().Lookup(kPeerIp), kPeerMac);
}

TEST_F(LowerLayersTest, EveryBadFrameIsDroppedAndCounted) {
  PeerArpsForUs();
  sent_.clear();
  const Bytes echo = EchoRequest(1, 1, {1, 2, 3});
  const Bytes good_ip = Ipv4(kPeerIp, kOurIp, wire::IpProtocol::kIcmp, echo);

  Ingest(Bytes(10, 0xff));  // shorter than an Ethernet header
  EXPECT_EQ(Count(Counter::kDropEthernetMalformed), 1u);

  Ingest(Ethernet(*wire::MacAddress::Parse("02:00:00:00:00:99"), wire::EtherType::kIpv4, good_ip));
  EXPECT_EQ(Count(Counter::kDropEthernetNotForUs), 1u);

  Ingest(Ethernet(kOurMac, 0x86dd, good_ip));  // IPv6
  EXPECT_EQ(Count(Counter::kDropEthernetUnsupportedType), 1u);

  Ingest(Ethernet(kOurMac, wire::EtherType::kArp, Bytes(12, 0)));
  EXPECT_EQ(Count(Counter::kDropArpMalformed), 1u);

  Bytes short_ihl = good_ip;
  short_ihl[0] = 0x44;  // IHL 4
  Ingest(Ethernet(kOurMac, wire::EtherType::kIpv4, short_ihl));
  Bytes long_total = good_ip;
  long_total[2] = 0x05;  // total length 1280+ beyond the frame
  Ingest(Ethernet(kOurMac, wire::EtherType::kIpv4, long_total));
  EXPECT_EQ(Count(Counter::kDropIpv4Malformed), 2u);

  Bytes bad_checksum = good_ip;
  bad_checksum[10] ^= 0xff;
  Ingest(Ethernet(kOurMac, wire::EtherType::kIpv4, bad_checksum));
  EXPECT_EQ(Count(Counter::kDropIpv4BadChecksum), 1u);

  Ingest(Ethernet(
      kOurMac, wire::EtherType::kIpv4,
      Ipv4(kPeerIp, *wire::Ipv4Address::Parse("192.0.2.3"), wire::IpProtocol::kIcmp, echo)));
  EXPECT_EQ(Count(Counter::kDropIpv4NotForUs), 1u);

  Ingest(Ethernet(kOurMac, wire::EtherType::kIpv4, Ipv4(kPeerIp, kOurIp, 17, Bytes(8, 0))));
  EXPECT_EQ(Count(Counter::kDropIpv4UnsupportedProtocol), 1u);

  Bytes fragment = Ipv4(kPeerIp, kOurIp, wire::IpProtocol::kIcmp, echo);
  fragment[6] = 0x20;  // more fragments
  fragment[10] = fragment[11] = 0;
  const std::uint16_t checksum = wire::InternetChecksum(std::span(fragment).first(20));
  fragment[10] = static_cast<std::uint8_t>(checksum >> 8);
  fragment[11] = static_cast<std::uint8_t>(checksum);
  Ingest(Ethernet(kOurMac, wire::EtherType::kIpv4, fragment));
  EXPECT_EQ(Count(Counter::kDropIpv4Fragment), 1u);

  Bytes bad_icmp = echo;
  bad_icmp[2] ^= 0x55;
  Ingest(Ethernet(kOurMac, wire::EtherType::kIpv4,
                  Ipv4(kPeerIp, kOurIp, wire::IpProtocol::kIcmp, bad_icmp)));
  EXPECT_EQ(Count(Counter::kDropIcmpBadChecksum), 1u);
  Ingest(Ethernet(kOurMac, wire::EtherType::kIpv4,
                  Ipv4(kPeerIp, kOurIp, wire::IpProtocol::kIcmp, Bytes(4, 0))));
  EXPECT_EQ(Count(Counter::kDropIcmpMalformed), 1u);

  EXPECT_TRUE(sent_.empty()) << "no bad frame may cause a reply";
  EXPECT_EQ(Count(Counter::kRxFrames), Count(Counter::kRxArp) + stack_.counters().TotalDrops());

  // And the stack still answers a good ping.
  Ingest(Ethernet(kOurMac, wire::EtherType::kIpv4, good_ip));
  EXPECT_EQ(sent_.size(), 1u);
}

TEST_F(LowerLayersTest, ReportsEchoRepliesToTheHandler) {
  std::vector<EchoReply> replies;
  stack_.set_echo_reply_handler([&](const EchoReply& r) { replies.push_back(r); });
  Bytes reply(wire::kIcmpHeaderLen + 4);
  reply.resize(wire::WriteIcmpEcho(wire::IcmpType::kEchoReply, 9, 3, Bytes{1, 2, 3, 4}, reply));
  Ingest(Ethernet(kOurMac, wire::EtherType::kIpv4,
                  Ipv4(kPeerIp, kOurIp, wire::IpProtocol::kIcmp, reply)));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].from, kPeerIp);
  EXPECT_EQ(replies[0].identifier, 9);
  EXPECT_EQ(replies[0].sequence, 3);
  EXPECT_EQ(replies[0].payload_len, 4u);
}

TEST(InterfaceTest, RandomMacIsLocallyAdministeredUnicast) {
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    const wire::MacAddress mac = RandomLocalMac(seed);
    EXPECT_FALSE(mac.IsMulticast());
    EXPECT_TRUE(mac.octets()[0] & 0x02);
  }
  EXPECT_NE(RandomLocalMac(1), RandomLocalMac(2));
}

TEST(InterfaceTest, ParsesAddressWithPrefix) {
  const auto parsed = ParseAddressWithPrefix("192.0.2.2/24");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->first, kOurIp);
  EXPECT_EQ(parsed->second, 24);
  EXPECT_EQ(ParseAddressWithPrefix("192.0.2.2/33").error(), std::errc::invalid_argument);
  EXPECT_EQ(ParseAddressWithPrefix("192.0.2/24").error(), std::errc::invalid_argument);
  EXPECT_EQ(ParseAddressWithPrefix("192.0.2.2/x").error(), std::errc::invalid_argument);
}

}  // namespace
}  // namespace tapstack
