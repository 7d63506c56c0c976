// Ipv4View and WriteIpv4Header (RFC 791 3.1).
#include "stack/wire/ipv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "stack/wire/checksum.h"
#include "tests/wire/random_wire.h"

namespace tapstack::wire {
namespace {

using testing::RandomBytes;
using testing::RandomInt;
using testing::RandomIpv4Repr;
using testing::Rng;

// 192.168.0.1 -> 192.168.0.199, UDP, DF, TTL 64, total length 0x73 = 115.
std::vector<std::uint8_t> KnownDatagram() {
  std::vector<std::uint8_t> datagram = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                        0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  for (int i = 0; i < 95; ++i) datagram.push_back(static_cast<std::uint8_t>(i));
  return datagram;
}

ParseError ParseErrorOf(const std::vector<std::uint8_t>& bytes) {
  return Ipv4View::Parse(bytes).error();
}

TEST(Ipv4Test, ParsesKnownDatagram) {
  const std::vector<std::uint8_t> datagram = KnownDatagram();
  const Parsed<Ipv4View> view = Ipv4View::Parse(datagram);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->version(), 4);
  EXPECT_EQ(view->header_len(), 20u);
  EXPECT_EQ(view->dscp_ecn(), 0);
  EXPECT_EQ(view->total_length(), 115);
  EXPECT_EQ(view->identification(), 0);
  EXPECT_TRUE(view->dont_fragment());
  EXPECT_FALSE(view->more_fragments());
  EXPECT_EQ(view->fragment_offset(), 0);
  EXPECT_FALSE(view->is_fragment());
  EXPECT_EQ(view->ttl(), 64);
  EXPECT_EQ(view->protocol(), IpProtocol::kUdp);
  EXPECT_EQ(view->header_checksum(), 0xb861);
  EXPECT_TRUE(view->header_checksum_valid());
  EXPECT_EQ(view->src(), Ipv4Address(192, 168, 0, 1));
  EXPECT_EQ(view->dst(), Ipv4Address(192, 168, 0, 199));
  EXPECT_TRUE(view->options().empty());
  ASSERT_EQ(view->payload().size(), 95u);
  EXPECT_EQ(view->payload()[94], 94);
}

TEST(Ipv4Test, DetectsCorruptHeaderChecksum) {
  std::vector<std::uint8_t> datagram = KnownDatagram();
  datagram[8] = 63;  // TTL changed without fixing the checksum
  const Parsed<Ipv4View> view = Ipv4View::Parse(datagram);
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->header_checksum_valid());
}

TEST(Ipv4Test, PayloadEndsAtTotalLengthNotAtFrameEnd) {
  std::vector<std::uint8_t> datagram = KnownDatagram();
  datagram.resize(datagram.size() + 18, 0xee);  // Ethernet padding
  const Parsed<Ipv4View> view = Ipv4View::Parse(datagram);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->payload().size(), 95u);
  EXPECT_EQ(view->bytes().size(), 115u);
}

TEST(Ipv4Test, SkipsOptionsAndChecksumsThem) {
  // IHL 7: NOP, an empty record route (RFC 791 3.1: type 7, length 3, pointer 4), end of list,
  // padding; all covered by the header checksum.
  std::vector<std::uint8_t> datagram = {0x47, 0x00, 0x00, 0x20, 0x12, 0x34, 0x20, 0x05,
                                        0x01, 0x06, 0x00, 0x00, 10,   0,    0,    1,
                                        10,   0,    0,    2,    0x01, 0x07, 0x03, 0x04,
                                        0x00, 0x00, 0x00, 0x00, 0xaa, 0xbb, 0xcc, 0xdd};
  StoreBe16(&datagram[10], InternetChecksum(std::span(datagram).first(28)));
  const Parsed<Ipv4View> view = Ipv4View::Parse(datagram);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->header_len(), 28u);
  EXPECT_EQ(view->options().size(), 8u);
  EXPECT_EQ(view->options()[1], 0x07);
  EXPECT_TRUE(view->header_checksum_valid());
  EXPECT_EQ(std::vector<std::uint8_t>(view->payload().begin(), view->payload().end()),
            (std::vector<std::uint8_t>{0xaa, 0xbb, 0xcc, 0xdd}));
  // Flags byte 0x20: MF set, offset 5 (40 bytes): a fragment.
  EXPECT_TRUE(view->more_fragments());
  EXPECT_FALSE(view->dont_fragment());
  EXPECT_EQ(view->fragment_offset(), 5);
  EXPECT_TRUE(view->is_fragment());
  datagram[10] ^= 0xff;
  EXPECT_FALSE(Ipv4View::Parse(datagram)->header_checksum_valid());
}

TEST(Ipv4Test, LastFragmentIsAFragmentToo) {
  std::vector<std::uint8_t> datagram = KnownDatagram();
  StoreBe16(&datagram[6], 0x0010);  // MF clear, offset 16
  EXPECT_TRUE(Ipv4View::Parse(datagram)->is_fragment());
  StoreBe16(&datagram[6], 0x2000);  // MF set, offset 0
  EXPECT_TRUE(Ipv4View::Parse(datagram)->is_fragment());
}

TEST(Ipv4Test, RejectsOtherVersions) {
  for (int version : {0, 5, 6, 15}) {
    std::vector<std::uint8_t> datagram = KnownDatagram();
    datagram[0] = static_cast<std::uint8_t>(version << 4 | 5);
    EXPECT_EQ(ParseErrorOf(datagram), ParseError::kBadVersion) << version;
  }
}

TEST(Ipv4Test, RejectsHeaderLengthBelowFive) {
  for (int ihl = 0; ihl < 5; ++ihl) {
    std::vector<std::uint8_t> datagram = KnownDatagram();
    datagram[0] = static_cast<std::uint8_t>(0x40 | ihl);
    EXPECT_EQ(ParseErrorOf(datagram), ParseError::kBadHeaderLength) << ihl;
  }
}

TEST(Ipv4Test, RejectsHeaderLengthBeyondTheBytes) {
  std::vector<std::uint8_t> datagram = KnownDatagram();
  datagram.resize(40);
  StoreBe16(&datagram[2], 40);
  datagram[0] = 0x4f;  // 60-byte header in 40 bytes
  const Parsed<Ipv4View> view = Ipv4View::Parse(datagram);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), ParseError::kHeaderPastBuffer);
}

TEST(Ipv4Test, RejectsTotalLengthBeyondTheBytes) {
  std::vector<std::uint8_t> datagram = KnownDatagram();
  datagram.resize(40);
  StoreBe16(&datagram[2], 60);
  const Parsed<Ipv4View> view = Ipv4View::Parse(datagram);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), ParseError::kTotalLengthPastBuffer);
}

TEST(Ipv4Test, RejectsTotalLengthBelowTheHeaderLength) {
  for (int total_length : {0, 1, 19}) {
    std::vector<std::uint8_t> datagram = KnownDatagram();
    StoreBe16(&datagram[2], static_cast<std::uint16_t>(total_length));
    EXPECT_EQ(ParseErrorOf(datagram), ParseError::kTotalLengthBelowHeader) << total_length;
  }
  std::vector<std::uint8_t> with_options = KnownDatagram();
  with_options[0] = 0x46;  // 24-byte header, total length 23
  StoreBe16(&with_options[2], 23);
  EXPECT_EQ(ParseErrorOf(with_options), ParseError::kTotalLengthBelowHeader);
  StoreBe16(&with_options[2], 24);  // header only: valid, empty payload
  ASSERT_TRUE(Ipv4View::Parse(with_options).ok());
  EXPECT_TRUE(Ipv4View::Parse(with_options)->payload().empty());
}

TEST(Ipv4Test, WritesKnownHeader) {
  Ipv4Repr repr;
  repr.src = Ipv4Address(192, 168, 0, 1);
  repr.dst = Ipv4Address(192, 168, 0, 199);
  repr.protocol = IpProtocol::kUdp;
  repr.ttl = 64;
  repr.identification = 0;
  repr.dont_fragment = true;
  repr.payload_len = 95;
  std::vector<std::uint8_t> out(20);
  ASSERT_EQ(WriteIpv4Header(repr, out), 20u);
  const std::vector<std::uint8_t> known = KnownDatagram();
  EXPECT_EQ(out, std::vector<std::uint8_t>(known.begin(), known.begin() + 20));
}

TEST(Ipv4Test, WriteRefusesShortBufferAndOversizePayload) {
  std::vector<std::uint8_t> out(19, 0xee);
  Ipv4Repr repr;
  repr.payload_len = 10;
  EXPECT_EQ(WriteIpv4Header(repr, out), 0u);
  EXPECT_EQ(out, std::vector<std::uint8_t>(19, 0xee));
  std::vector<std::uint8_t> big(20, 0xee);
  repr.payload_len = 65516;  // total length 65536
  EXPECT_EQ(WriteIpv4Header(repr, big), 0u);
  EXPECT_EQ(big, std::vector<std::uint8_t>(20, 0xee));
  repr.payload_len = 65515;
  EXPECT_EQ(WriteIpv4Header(repr, big), 20u);
  EXPECT_EQ(LoadBe16(&big[2]), 65535);
}

TEST(Ipv4Test, RoundTripsRandomHeaders) {
  Rng rng(791);
  for (int i = 0; i < 2000; ++i) {
    const std::vector<std::uint8_t> payload = RandomBytes(rng, RandomInt<std::size_t>(rng, 0, 100));
    const Ipv4Repr repr = RandomIpv4Repr(rng, static_cast<std::uint16_t>(payload.size()));
    // Sometimes followed by link-layer padding that must not become payload.
    std::vector<std::uint8_t> datagram(20 + payload.size() + RandomInt<std::size_t>(rng, 0, 3));
    ASSERT_EQ(WriteIpv4Header(repr, datagram), 20u);
    std::copy(payload.begin(), payload.end(), datagram.begin() + 20);
    const Parsed<Ipv4View> view = Ipv4View::Parse(datagram);
    ASSERT_TRUE(view.ok()) << view.error();
    EXPECT_EQ(view->Repr(), repr);
    EXPECT_TRUE(view->header_checksum_valid());
    EXPECT_FALSE(view->is_fragment());
    EXPECT_TRUE(
        std::equal(view->payload().begin(), view->payload().end(), payload.begin(), payload.end()));
  }
}

}  // namespace
}  // namespace tapstack::wire
