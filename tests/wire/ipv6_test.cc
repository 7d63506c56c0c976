// Ipv6Address (RFC 4291 2.2, RFC 5952), Ipv6View with its extension header walk and
// WriteIpv6Header (RFC 8200).
#include "stack/wire/ipv6.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stack/wire/ipv6_address.h"
#include "tests/wire/random_wire.h"

namespace tapstack::wire {
namespace {

using testing::RandomBytes;
using testing::RandomInt;
using testing::RandomIpv6;
using testing::RandomIpv6Repr;
using testing::Rng;

using Bytes = std::vector<std::uint8_t>;

Ipv6Address Addr(std::string_view text) { return Ipv6Address::Parse(text).value(); }

// --- Ipv6Address ------------------------------------------------------------------------------

TEST(Ipv6AddressTest, ParsesEveryTextForm) {
  const Ipv6Address expected =
      Ipv6Address::FromGroups({0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a});
  // RFC 4291 2.2: the preferred form, with and without leading zeros, and compressed.
  EXPECT_EQ(Ipv6Address::Parse("2001:DB8:0:0:8:800:200C:417A"), expected);
  EXPECT_EQ(Ipv6Address::Parse("2001:0db8:0000:0000:0008:0800:200c:417a"), expected);
  EXPECT_EQ(Ipv6Address::Parse("2001:db8::8:800:200c:417a"), expected);
  EXPECT_EQ(Ipv6Address::Parse("::"), Ipv6Address());
  EXPECT_EQ(Ipv6Address::Parse("::1"), Ipv6Address::Loopback());
  EXPECT_EQ(Ipv6Address::Parse("ff02::1"), Ipv6Address::AllNodes());
  EXPECT_EQ(Ipv6Address::Parse("1::"), Ipv6Address::FromGroups({1, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(Ipv6Address::Parse("1:2:3:4:5:6:7::"),
            Ipv6Address::FromGroups({1, 2, 3, 4, 5, 6, 7, 0}));
  EXPECT_EQ(Ipv6Address::Parse("::2:3:4:5:6:7:8"),
            Ipv6Address::FromGroups({0, 2, 3, 4, 5, 6, 7, 8}));
  // Form 3: IPv4 in the last 32 bits.
  EXPECT_EQ(Ipv6Address::Parse("::ffff:192.0.2.1"),
            Ipv6Address::FromGroups({0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201}));
  EXPECT_EQ(Ipv6Address::Parse("0:0:0:0:0:0:13.1.68.3"),
            Ipv6Address::FromGroups({0, 0, 0, 0, 0, 0, 0x0d01, 0x4403}));
  EXPECT_EQ(Ipv6Address::Parse("64:ff9b::192.0.2.33"),
            Ipv6Address::FromGroups({0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221}));
}

TEST(Ipv6AddressTest, RejectsMalformedText) {
  for (const char* text : {"",
                           ":",
                           ":::",
                           "1",
                           "1:2:3:4:5:6:7",
                           "1:2:3:4:5:6:7:8:9",
                           "1::2::3",
                           "1:::2",
                           ":1::2",
                           "1::2:",
                           ":1:2:3:4:5:6:7:8",
                           "1:2:3:4:5:6:7:8:",
                           "12345::",
                           "g::",
                           "1:2:3:4:5:6:7:8::",
                           "::1:2:3:4:5:6:7:8",
                           "1.2.3.4",
                           "::1.2.3",
                           "::1.2.3.256",
                           "::1.2.3.4:5",
                           "1.2.3.4::",
                           "1:2:3:4:5:6:7:1.2.3.4",
                           "fe80::1%eth0",
                           "2001:db8::/32",
                           " ::1",
                           "::1 ",
                           "::-1",
                           "0x1::"}) {
    EXPECT_EQ(Ipv6Address::Parse(text), std::nullopt) << text;
  }
}

TEST(Ipv6AddressTest, FormatsCanonicallyPerRfc5952) {
  // RFC 5952 4.1 (no leading zeros), 4.2.1 (longest run), 4.2.2 (not one group), 4.2.3 (first of
  // equal runs), 4.3 (lower case), 5 (IPv4-mapped in dotted decimal).
  const std::pair<const char*, const char*> cases[] = {
      {"2001:0db8::0001", "2001:db8::1"},
      {"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
      {"2001:DB8::AB:CD", "2001:db8::ab:cd"},
      {"0:0:0:0:0:0:0:0", "::"},
      {"0:0:0:0:0:0:0:1", "::1"},
      {"1:0:0:0:0:0:0:0", "1::"},
      {"0:1:2:3:4:5:6:0", "0:1:2:3:4:5:6:0"},
      {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
      {"::ffff:c000:201", "::ffff:192.0.2.1"},
      {"fe80::0200:00ff:fe00:0001", "fe80::200:ff:fe00:1"},
  };
  for (const auto& [text, canonical] : cases) {
    EXPECT_EQ(Addr(text).ToString(), canonical) << text;
  }
}

TEST(Ipv6AddressTest, RandomAddressesSurviveTextRoundTrips) {
  Rng rng(4291);
  for (int i = 0; i < 20000; ++i) {
    const Ipv6Address address = RandomIpv6(rng);
    const std::string text = address.ToString();
    EXPECT_EQ(Ipv6Address::Parse(text), address) << text;
    EXPECT_EQ(text.find(":::"), std::string::npos) << text;
  }
}

TEST(Ipv6AddressTest, ClassifiesAndComparesPrefixes) {
  EXPECT_TRUE(Ipv6Address().IsUnspecified());
  EXPECT_TRUE(Ipv6Address::Loopback().IsLoopback());
  EXPECT_TRUE(Ipv6Address::AllRouters().IsMulticast());
  EXPECT_FALSE(Addr("fe80::1").IsMulticast());
  EXPECT_TRUE(Addr("fe80::1").IsLinkLocalUnicast());
  EXPECT_TRUE(Addr("febf::1").IsLinkLocalUnicast());
  EXPECT_FALSE(Addr("fec0::1").IsLinkLocalUnicast());
  EXPECT_TRUE(Addr("::ffff:10.0.0.1").IsIpv4Mapped());
  EXPECT_FALSE(Addr("::fffe:10.0.0.1").IsIpv4Mapped());
  EXPECT_TRUE(Addr("2001:db8::1").InSameSubnet(Addr("2001:db8::2"), 64));
  EXPECT_TRUE(Addr("2001:db8:0:ff::").InSameSubnet(Addr("2001:db8:0:80::"), 57));
  EXPECT_FALSE(Addr("2001:db8:0:ff::").InSameSubnet(Addr("2001:db8:0:80::"), 58));
  EXPECT_TRUE(Addr("::1").InSameSubnet(Addr("ff::"), 0));
  EXPECT_FALSE(Addr("::1").InSameSubnet(Addr("::2"), 200));
  EXPECT_TRUE(Addr("::1") < Addr("::2"));
  EXPECT_TRUE(Addr("::ffff") < Addr("1::"));
}

TEST(Ipv6AddressTest, ReadsAndWritesBytes) {
  const Ipv6Address address = Addr("2001:db8::8:800:200c:417a");
  std::uint8_t bytes[Ipv6Address::kLength] = {};
  address.ToBytes(bytes);
  EXPECT_EQ(bytes[0], 0x20);
  EXPECT_EQ(bytes[3], 0xb8);
  EXPECT_EQ(bytes[15], 0x7a);
  EXPECT_EQ(Ipv6Address::FromBytes(bytes), address);
  EXPECT_EQ(address.group(6), 0x200c);
}

TEST(Ipv6AddressTest, DerivesSolicitedNodeMulticastAndItsMac) {
  // RFC 4291 2.7.1's example: 4037::01:800:200E:8C6C has FF02::1:FF0E:8C6C.
  const Ipv6Address solicited = SolicitedNodeMulticast(Addr("4037::01:800:200E:8C6C"));
  EXPECT_EQ(solicited, Addr("ff02::1:ff0e:8c6c"));
  EXPECT_TRUE(solicited.IsMulticast());
  // RFC 2464 7: 33:33 and the last four octets.
  EXPECT_EQ(Ipv6MulticastMac(solicited), *MacAddress::Parse("33:33:ff:0e:8c:6c"));
  EXPECT_EQ(Ipv6MulticastMac(Ipv6Address::AllNodes()), *MacAddress::Parse("33:33:00:00:00:01"));
  EXPECT_TRUE(Ipv6MulticastMac(solicited).IsMulticast());
}

TEST(Ipv6AddressTest, DerivesLinkLocalFromMac) {
  // RFC 4291 appendix A: ff:fe in the middle, the universal/local bit inverted.
  EXPECT_EQ(LinkLocalFromMac(*MacAddress::Parse("00:0c:29:0c:47:d5")),
            Addr("fe80::20c:29ff:fe0c:47d5"));
  EXPECT_EQ(LinkLocalFromMac(*MacAddress::Parse("02:00:00:00:00:02")), Addr("fe80::ff:fe00:2"));
  EXPECT_TRUE(LinkLocalFromMac(*MacAddress::Parse("34:56:78:9a:bc:de")).IsLinkLocalUnicast());
}

// --- Ipv6View ---------------------------------------------------------------------------------

// 2001:db8::1 -> 2001:db8::2, traffic class 0xb8, flow label 0x12345, hop limit 64, `next_header`,
// then `payload`.
Bytes Packet(std::uint8_t next_header, const Bytes& payload) {
  Bytes packet = {0x6b,
                  0x81,
                  0x23,
                  0x45,
                  static_cast<std::uint8_t>(payload.size() >> 8),
                  static_cast<std::uint8_t>(payload.size()),
                  next_header,
                  64,
                  0x20,
                  0x01,
                  0x0d,
                  0xb8,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  1,
                  0x20,
                  0x01,
                  0x0d,
                  0xb8,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  2};
  packet.insert(packet.end(), payload.begin(), payload.end());
  return packet;
}

// An extension header of `units` + 1 eight-byte units announcing `next_header`.
Bytes Extension(std::uint8_t next_header, std::uint8_t units) {
  Bytes header((std::size_t{units} + 1) * 8, 0);
  header[0] = next_header;
  header[1] = units;
  header[2] = 1;  // a PadN option (RFC 8200 4.2) filling the rest
  header[3] = static_cast<std::uint8_t>(header.size() - 4);
  return header;
}

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes all;
  for (const Bytes& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

TEST(Ipv6Test, ParsesKnownPacket) {
  const Bytes packet = Packet(IpProtocol::kTcp, {1, 2, 3, 4, 5});
  const Parsed<Ipv6View> view = Ipv6View::Parse(packet);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->version(), 6);
  EXPECT_EQ(view->traffic_class(), 0xb8);
  EXPECT_EQ(view->flow_label(), 0x12345u);
  EXPECT_EQ(view->payload_length(), 5);
  EXPECT_EQ(view->next_header(), IpProtocol::kTcp);
  EXPECT_EQ(view->upper_layer_protocol(), IpProtocol::kTcp);
  EXPECT_FALSE(view->is_fragment());
  EXPECT_EQ(view->hop_limit(), 64);
  EXPECT_EQ(view->src(), Addr("2001:db8::1"));
  EXPECT_EQ(view->dst(), Addr("2001:db8::2"));
  EXPECT_EQ(view->header().size(), kIpv6HeaderLen);
  EXPECT_TRUE(view->extension_headers().empty());
  EXPECT_EQ(Bytes(view->upper_layer_payload().begin(), view->upper_layer_payload().end()),
            (Bytes{1, 2, 3, 4, 5}));
  EXPECT_EQ(view->payload().size(), 5u);
}

TEST(Ipv6Test, PaddingBeyondThePayloadLengthIsNotPartOfThePacket) {
  Bytes frame_payload = Packet(IpProtocol::kIcmpv6, {9, 9});
  frame_payload.resize(60, 0);  // Ethernet's minimum frame pads short packets
  const Parsed<Ipv6View> view = Ipv6View::Parse(frame_payload);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->bytes().size(), kIpv6HeaderLen + 2);
  EXPECT_EQ(view->upper_layer_payload().size(), 2u);
}

TEST(Ipv6Test, SkipsExtensionHeadersInOrder) {
  const Bytes upper = {0xaa, 0xbb, 0xcc};
  const Bytes packet = Packet(
      IpProtocol::kIpv6HopByHop,
      Concat({Extension(IpProtocol::kIpv6DestinationOptions, 0),
              Extension(IpProtocol::kIpv6Routing, 2), Extension(IpProtocol::kIcmpv6, 1), upper}));
  const Parsed<Ipv6View> view = Ipv6View::Parse(packet);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->next_header(), IpProtocol::kIpv6HopByHop);
  EXPECT_EQ(view->upper_layer_protocol(), IpProtocol::kIcmpv6);
  EXPECT_EQ(view->extension_headers().size(), 8u + 24u + 16u);
  EXPECT_EQ(Bytes(view->upper_layer_payload().begin(), view->upper_layer_payload().end()), upper);
  EXPECT_EQ(view->Repr().payload_len, 8 + 24 + 16 + 3);
}

TEST(Ipv6Test, ReportsAFragmentWithoutLookingInside) {
  const Bytes fragment = {IpProtocol::kTcp, 0, 0x00, 0x09, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3};
  const Bytes packet = Packet(IpProtocol::kIpv6DestinationOptions,
                              Concat({Extension(IpProtocol::kIpv6Fragment, 0), fragment}));
  const Parsed<Ipv6View> view = Ipv6View::Parse(packet);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_TRUE(view->is_fragment());
  EXPECT_EQ(view->upper_layer_protocol(), IpProtocol::kIpv6Fragment);
  EXPECT_EQ(view->upper_layer_payload().size(), fragment.size());
}

TEST(Ipv6Test, NoNextHeaderAndUnknownProtocolsEndTheWalk) {
  // RFC 8200 4.7: nothing follows header 59; bytes after it are ignored.
  const Parsed<Ipv6View> none = Ipv6View::Parse(Packet(IpProtocol::kIpv6NoNextHeader, {1, 2}));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->upper_layer_protocol(), IpProtocol::kIpv6NoNextHeader);
  const Parsed<Ipv6View> other = Ipv6View::Parse(Packet(253, {}));  // RFC 3692 experimental
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->upper_layer_protocol(), 253);
  EXPECT_TRUE(other->upper_layer_payload().empty());
}

TEST(Ipv6Test, RefusesMalformedPacketsWithTheirReasons) {
  EXPECT_EQ(Ipv6View::Parse(Bytes(39, 0x60)).error(), ParseError::kTruncatedHeader);
  Bytes version4 = Packet(IpProtocol::kTcp, {});
  version4[0] = 0x45;
  EXPECT_EQ(Ipv6View::Parse(version4).error(), ParseError::kBadVersion);
  Bytes long_payload = Packet(IpProtocol::kTcp, {1, 2, 3});
  long_payload[5] = 4;
  EXPECT_EQ(Ipv6View::Parse(long_payload).error(), ParseError::kPayloadLengthPastBuffer);
  // A destination options header with one byte of it: no room for its length.
  EXPECT_EQ(Ipv6View::Parse(Packet(IpProtocol::kIpv6DestinationOptions, {6})).error(),
            ParseError::kExtensionHeaderTruncated);
  // Its length says 16 bytes, the payload holds 8.
  Bytes cut_routing = Extension(IpProtocol::kTcp, 1);
  cut_routing.resize(8);
  EXPECT_EQ(Ipv6View::Parse(Packet(IpProtocol::kIpv6Routing, cut_routing)).error(),
            ParseError::kExtensionHeaderPastPayload);
  // A second hop-by-hop header (RFC 8200 4.1).
  EXPECT_EQ(Ipv6View::Parse(
                Packet(IpProtocol::kIpv6HopByHop, Concat({Extension(IpProtocol::kIpv6HopByHop, 0),
                                                          Extension(IpProtocol::kTcp, 0)})))
                .error(),
            ParseError::kHopByHopNotFirst);
  // A fragment header cut short.
  EXPECT_EQ(Ipv6View::Parse(Packet(IpProtocol::kIpv6Fragment, {6, 0, 0, 0, 0, 0, 0})).error(),
            ParseError::kExtensionHeaderTruncated);
}

TEST(Ipv6Test, HeaderRoundTrips) {
  Rng rng(8200);
  for (int i = 0; i < 2000; ++i) {
    const Bytes payload = RandomBytes(rng, RandomInt<std::size_t>(rng, 0, 64));
    Ipv6Repr repr = RandomIpv6Repr(rng, static_cast<std::uint16_t>(payload.size()));
    // Protocols that end the walk, so the whole payload is the upper layer's.
    if (repr.next_header == 0 || repr.next_header == 43 || repr.next_header == 44 ||
        repr.next_header == 60) {
      repr.next_header = IpProtocol::kTcp;
    }
    Bytes packet(kIpv6HeaderLen + payload.size());
    ASSERT_EQ(WriteIpv6Header(repr, packet), kIpv6HeaderLen);
    std::copy(payload.begin(), payload.end(), packet.begin() + kIpv6HeaderLen);
    const Parsed<Ipv6View> view = Ipv6View::Parse(packet);
    ASSERT_TRUE(view.ok()) << view.error();
    EXPECT_EQ(view->Repr(), repr);
    EXPECT_EQ(Bytes(view->upper_layer_payload().begin(), view->upper_layer_payload().end()),
              payload);
  }
}

TEST(Ipv6Test, WriterCutsTheFlowLabelAndRefusesShortBuffers) {
  Ipv6Repr repr;
  repr.flow_label = 0xfff12345;
  repr.traffic_class = 0xff;
  repr.next_header = IpProtocol::kIpv6NoNextHeader;
  Bytes packet(kIpv6HeaderLen);
  ASSERT_EQ(WriteIpv6Header(repr, packet), kIpv6HeaderLen);
  ASSERT_TRUE(Ipv6View::Parse(packet).ok());
  EXPECT_EQ(packet[0], 0x6f);
  EXPECT_EQ(Ipv6View::Parse(packet)->flow_label(), 0x12345u);
  EXPECT_EQ(Ipv6View::Parse(packet)->traffic_class(), 0xff);
  Bytes short_buffer(kIpv6HeaderLen - 1, 0xee);
  EXPECT_EQ(WriteIpv6Header(repr, short_buffer), 0u);
  EXPECT_EQ(short_buffer, Bytes(kIpv6HeaderLen - 1, 0xee));
}

}  // namespace
}  // namespace tapstack::wire
