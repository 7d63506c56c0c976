// The in-place send path (IpOutput -> ArpCache -> EthernetOutput with a writer): every frame must
// be byte for byte the frame the layers used to build by copying (a TCP segment written on its
// own, copied behind an IPv4 header, copied behind an Ethernet header, padded to 60 bytes), and
// nothing may be lost or reordered while ARP resolves the next hop.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "stack/arp.h"
#include "stack/counters.h"
#include "stack/ethernet_output.h"
#include "stack/interface.h"
#include "stack/ip_output.h"
#include "stack/wire/arp.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/tcp.h"
#include "tests/wire/random_wire.h"
#include "timers/timer_queue.h"

namespace tapstack {
namespace {

using Bytes = std::vector<std::uint8_t>;
using wire::testing::RandomBytes;
using wire::testing::RandomInt;
using wire::testing::RandomTcpRepr;
using wire::testing::Rng;

const wire::MacAddress kOurMac = *wire::MacAddress::Parse("02:00:00:00:00:02");
const wire::MacAddress kPeerMac = *wire::MacAddress::Parse("02:00:00:00:00:01");
const wire::Ipv4Address kOurIp = *wire::Ipv4Address::Parse("192.0.2.2");
const wire::Ipv4Address kPeerIp = *wire::Ipv4Address::Parse("192.0.2.1");
constexpr std::uint16_t kFirstIdentification = 0xfff0;  // wraps during the tests
const timers::TimePoint kStart = timers::TimePoint{} + std::chrono::hours(1);

// The frame as the copying path built it.
Bytes FrameTheOldWay(const wire::TcpRepr& segment, std::uint16_t identification) {
  Bytes tcp(wire::TcpHeaderLen(segment.options) + segment.payload.size());
  tcp.resize(wire::WriteTcp(segment, kOurIp, kPeerIp, tcp));
  wire::Ipv4Repr header;
  header.src = kOurIp;
  header.dst = kPeerIp;
  header.protocol = wire::IpProtocol::kTcp;
  header.ttl = 64;
  header.identification = identification;
  header.dont_fragment = true;
  header.payload_len = static_cast<std::uint16_t>(tcp.size());
  Bytes packet(wire::kIpv4MinHeaderLen + tcp.size());
  wire::WriteIpv4Header(header, packet);
  std::copy(tcp.begin(), tcp.end(), packet.begin() + wire::kIpv4MinHeaderLen);
  Bytes frame(std::max<std::size_t>(60, wire::kEthernetHeaderLen + packet.size()), 0);
  wire::WriteEthernet(wire::EthernetRepr{kPeerMac, kOurMac, wire::EtherType::kIpv4}, frame);
  std::copy(packet.begin(), packet.end(), frame.begin() + wire::kEthernetHeaderLen);
  return frame;
}

class OutputPathTest : public ::testing::Test {
 protected:
  OutputPathTest()
      : timers_(timers::MakeTimerQueue(timers::TimerQueueKind::kWheel, kStart,
                                       std::chrono::milliseconds(1))),
        ethernet_(
            kOurMac,
            [this](std::span<const std::uint8_t> frame) {
              sent_.emplace_back(frame.begin(), frame.end());
            },
            counters_),
        arp_(ArpConfig{.max_pending_packets = 4}, interface_, ethernet_, *timers_, counters_),
        ip_(interface_, arp_, counters_, kFirstIdentification) {}

  static InterfaceConfig Interface() {
    InterfaceConfig interface;
    interface.mac = kOurMac;
    interface.address = kOurIp;
    interface.prefix_len = 24;
    return interface;
  }

  // The peer's ARP reply to us, which resolves it.
  void ResolvePeer() {
    Bytes reply(wire::kArpPacketLen);
    wire::WriteArp(wire::ArpRepr{wire::ArpOp::kReply, kPeerMac, kPeerIp, kOurMac, kOurIp}, reply);
    arp_.Ingest(reply);
  }

  // Sends `segment` the way TcpEngine::Transmit does.
  bool SendInPlace(const wire::TcpRepr& segment) {
    return ip_.Send(
        kOurIp, kPeerIp, wire::IpProtocol::kTcp,
        wire::TcpHeaderLen(segment.options) + segment.payload.size(),
        [&](std::span<std::uint8_t> out) { return wire::WriteTcp(segment, kOurIp, kPeerIp, out); });
  }

  InterfaceConfig interface_ = Interface();
  Counters counters_;
  std::unique_ptr<timers::TimerQueue> timers_;
  EthernetOutput ethernet_;
  ArpCache arp_;
  IpOutput ip_;
  std::vector<Bytes> sent_;
};

TEST_F(OutputPathTest, InPlaceFramesAreByteIdenticalToCopiedFrames) {
  ResolvePeer();
  Rng rng(791);
  std::uint16_t identification = kFirstIdentification;
  for (int i = 0; i < 500; ++i) {
    wire::TcpRepr segment = RandomTcpRepr(rng);
    // Full segments, empty ones and everything between, in random order: a short frame after a
    // long one must still be padded with zeros, not with the previous frame's bytes.
    const std::size_t max_payload = 1500 - 20 - wire::TcpHeaderLen(segment.options);
    const Bytes payload = RandomBytes(
        rng, RandomInt<int>(rng, 0, 3) == 0 ? 0 : RandomInt<std::size_t>(rng, 0, max_payload));
    segment.payload = payload;
    sent_.clear();
    ASSERT_TRUE(SendInPlace(segment)) << i;
    ASSERT_EQ(sent_.size(), 1u) << i;
    EXPECT_EQ(sent_[0], FrameTheOldWay(segment, identification++)) << i;
  }
  EXPECT_EQ(counters_[Counter::kTxFrames], 500u);
}

TEST_F(OutputPathTest, SpanSendStillMatches) {
  // ICMP and the ARP queue use the span-taking Send, now a wrapper over the in-place one.
  ResolvePeer();
  Rng rng(792);
  wire::TcpRepr segment = RandomTcpRepr(rng);
  const Bytes payload = RandomBytes(rng, 100);
  segment.payload = payload;
  Bytes tcp(wire::TcpHeaderLen(segment.options) + payload.size());
  tcp.resize(wire::WriteTcp(segment, kOurIp, kPeerIp, tcp));
  ASSERT_TRUE(ip_.Send(kOurIp, kPeerIp, wire::IpProtocol::kTcp, tcp));
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0], FrameTheOldWay(segment, kFirstIdentification));
}

TEST_F(OutputPathTest, UnresolvedNextHopQueuesEveryPacketThenSendsThemInOrder) {
  Rng rng(826);
  std::vector<Bytes> expected;
  std::uint16_t identification = kFirstIdentification;
  for (int i = 0; i < 4; ++i) {  // max_pending_packets
    wire::TcpRepr segment = RandomTcpRepr(rng);
    const Bytes payload = RandomBytes(rng, RandomInt<std::size_t>(rng, 0, 1400));
    segment.payload = payload;
    ASSERT_TRUE(SendInPlace(segment)) << i;
    expected.push_back(FrameTheOldWay(segment, identification++));
  }
  ASSERT_EQ(sent_.size(), 1u) << "only the ARP request goes out while resolving";
  EXPECT_EQ(wire::EthernetView::Parse(sent_[0])->ethertype(), wire::EtherType::kArp);

  // The fifth does not fit the queue: refused and counted, not silently lost.
  wire::TcpRepr extra = RandomTcpRepr(rng);
  EXPECT_FALSE(SendInPlace(extra));
  EXPECT_EQ(counters_[Counter::kDropArpQueueFull], 1u);

  sent_.clear();
  ResolvePeer();
  ASSERT_EQ(sent_.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(sent_[i], expected[i]) << i;

  // Resolved now: the next one goes straight out.
  sent_.clear();
  wire::TcpRepr next = RandomTcpRepr(rng);
  ASSERT_TRUE(SendInPlace(next));
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0], FrameTheOldWay(next, static_cast<std::uint16_t>(identification + 1)));
}

TEST_F(OutputPathTest, AWriterThatFallsShortSendsAndQueuesNothing) {
  auto short_writer = [](std::span<std::uint8_t> out) { return out.size() - 1; };
  // Unresolved: nothing may wait in the queue half-written.
  EXPECT_FALSE(ip_.Send(kOurIp, kPeerIp, wire::IpProtocol::kTcp, 40, short_writer));
  sent_.clear();
  ResolvePeer();
  EXPECT_TRUE(sent_.empty());
  // Resolved: nothing goes out.
  EXPECT_FALSE(ip_.Send(kOurIp, kPeerIp, wire::IpProtocol::kTcp, 40, short_writer));
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(counters_[Counter::kTxFrames], 1u) << "only the ARP request";
}

}  // namespace
}  // namespace tapstack
