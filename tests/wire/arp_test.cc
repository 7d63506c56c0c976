// ArpView and WriteArp (RFC 826).
#include "stack/wire/arp.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tests/wire/random_wire.h"

namespace tapstack::wire {
namespace {

using testing::RandomArpRepr;
using testing::Rng;

// who-has 10.0.0.2 tell 10.0.0.1, from 02:00:00:00:00:01.
const std::vector<std::uint8_t> kRequest = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,         // Ethernet, IPv4, 6, 4, request
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10,   0,    0, 1,   // sender
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10,   0,    0, 2};  // target

TEST(ArpTest, ParsesKnownRequest) {
  const Parsed<ArpView> view = ArpView::Parse(kRequest);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->op(), ArpOp::kRequest);
  EXPECT_EQ(view->sender_mac(), MacAddress({0x02, 0, 0, 0, 0, 0x01}));
  EXPECT_EQ(view->sender_ip(), Ipv4Address(10, 0, 0, 1));
  EXPECT_EQ(view->target_mac(), MacAddress());
  EXPECT_EQ(view->target_ip(), Ipv4Address(10, 0, 0, 2));
}

TEST(ArpTest, WritesKnownRequest) {
  std::vector<std::uint8_t> out(kArpPacketLen);
  const ArpRepr repr{ArpOp::kRequest, MacAddress({0x02, 0, 0, 0, 0, 0x01}),
                     Ipv4Address(10, 0, 0, 1), MacAddress(), Ipv4Address(10, 0, 0, 2)};
  ASSERT_EQ(WriteArp(repr, out), kArpPacketLen);
  EXPECT_EQ(out, kRequest);
}

TEST(ArpTest, IgnoresEthernetPadding) {
  std::vector<std::uint8_t> padded = kRequest;
  padded.resize(46, 0);
  const Parsed<ArpView> view = ArpView::Parse(padded);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->Repr(), ArpView::Parse(kRequest)->Repr());
}

TEST(ArpTest, RejectsOtherHardwareAndProtocols) {
  struct Case {
    std::size_t offset;
    std::vector<std::uint8_t> bytes;
  };
  const Case cases[] = {
      {0, {0x00, 0x06}},                     // IEEE 802 networks
      {0, {0x00, 0x00}}, {2, {0x86, 0xdd}},  // IPv6
      {2, {0x08, 0x06}}, {4, {0x08}},        // hardware address length
      {5, {0x10}},                           // protocol address length
      {4, {0x04, 0x06}},
  };
  for (const Case& c : cases) {
    std::vector<std::uint8_t> packet = kRequest;
    std::copy(c.bytes.begin(), c.bytes.end(), packet.begin() + c.offset);
    const Parsed<ArpView> view = ArpView::Parse(packet);
    ASSERT_FALSE(view.ok()) << c.offset;
    const ParseError expected = c.offset == 0   ? ParseError::kUnsupportedHardwareType
                                : c.offset == 2 ? ParseError::kUnsupportedProtocolType
                                                : ParseError::kBadAddressLength;
    EXPECT_EQ(view.error(), expected) << c.offset;
  }
}

TEST(ArpTest, RejectsTruncatedPackets) {
  for (std::size_t len = 0; len < kArpPacketLen; ++len) {
    const std::vector<std::uint8_t> packet(kRequest.begin(), kRequest.begin() + len);
    EXPECT_FALSE(ArpView::Parse(packet).ok()) << len;
  }
}

TEST(ArpTest, WriteIntoShortBufferWritesNothing) {
  std::vector<std::uint8_t> out(kArpPacketLen - 1, 0xee);
  EXPECT_EQ(WriteArp(ArpRepr{}, out), 0u);
  EXPECT_EQ(out, std::vector<std::uint8_t>(kArpPacketLen - 1, 0xee));
}

TEST(ArpTest, RoundTripsRandomPackets) {
  Rng rng(826);
  for (int i = 0; i < 2000; ++i) {
    const ArpRepr repr = RandomArpRepr(rng);
    std::vector<std::uint8_t> packet(kArpPacketLen);
    ASSERT_EQ(WriteArp(repr, packet), kArpPacketLen);
    const Parsed<ArpView> view = ArpView::Parse(packet);
    ASSERT_TRUE(view.ok()) << view.error();
    EXPECT_EQ(view->Repr(), repr);
  }
}

}  // namespace
}  // namespace tapstack::wire
