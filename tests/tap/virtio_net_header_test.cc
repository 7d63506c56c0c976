// The virtio-net header parser (tap/virtio_net_header.h): the headers the kernel sends us, and
// every reason to refuse one, checked against the frame length behind it.
#include "tap/virtio_net_header.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <variant>
#include <vector>

namespace tapstack::tap {
namespace {

// Offsets and sizes of an Ethernet/IPv4/TCP frame without options: the TCP header (csum_start)
// starts at 34, its checksum field 16 bytes in.
constexpr std::uint16_t kTcpStart = 14 + 20;
constexpr std::uint16_t kTcpChecksumOffset = 16;
constexpr std::size_t kHeaders = kTcpStart + 20;

struct Fields {
  std::uint8_t flags = 0;
  std::uint8_t gso_type = 0;
  std::uint16_t hdr_len = 0;
  std::uint16_t gso_size = 0;
  std::uint16_t csum_start = 0;
  std::uint16_t csum_offset = 0;
};

// The header as the kernel writes it: little-endian fields (TUNSETVNETLE).
std::array<std::uint8_t, kVirtioNetHeaderSize> Encode(const Fields& f) {
  const auto le = [](std::uint16_t v) {
    return std::array<std::uint8_t, 2>{static_cast<std::uint8_t>(v & 0xff),
                                       static_cast<std::uint8_t>(v >> 8)};
  };
  std::array<std::uint8_t, kVirtioNetHeaderSize> out{};
  out[0] = f.flags;
  out[1] = f.gso_type;
  const std::uint16_t values[4] = {f.hdr_len, f.gso_size, f.csum_start, f.csum_offset};
  for (int i = 0; i < 4; ++i) {
    const auto bytes = le(values[i]);
    out[2 + 2 * i] = bytes[0];
    out[3 + 2 * i] = bytes[1];
  }
  return out;
}

constexpr std::uint8_t kNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
constexpr std::uint8_t kDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
constexpr std::uint8_t kGsoTcpv4 = 1;   // VIRTIO_NET_HDR_GSO_TCPV4
constexpr std::uint8_t kGsoUdp = 3;     // VIRTIO_NET_HDR_GSO_UDP
constexpr std::uint8_t kGsoTcpv6 = 4;   // VIRTIO_NET_HDR_GSO_TCPV6
constexpr std::uint8_t kGsoEcn = 0x80;  // VIRTIO_NET_HDR_GSO_ECN

// A super-segment as Linux's TSO hands it to a TAP: 44 segments of 1448 bytes behind the headers.
Fields SuperSegment() {
  return Fields{.flags = kNeedsCsum,
                .gso_type = kGsoTcpv4,
                .hdr_len = kHeaders,
                .gso_size = 1448,
                .csum_start = kTcpStart,
                .csum_offset = kTcpChecksumOffset};
}
constexpr std::size_t kSuperFrameLength = kHeaders + 44 * 1448;

std::variant<VirtioNetHeader, VirtioNetHeaderError> Parse(const Fields& fields,
                                                          std::size_t frame_length) {
  const auto header = Encode(fields);
  return ParseVirtioNetHeader(header, frame_length);
}

VirtioNetHeaderError ErrorOf(const std::variant<VirtioNetHeader, VirtioNetHeaderError>& parsed) {
  EXPECT_TRUE(std::holds_alternative<VirtioNetHeaderError>(parsed)) << "the header was accepted";
  return std::holds_alternative<VirtioNetHeaderError>(parsed)
             ? std::get<VirtioNetHeaderError>(parsed)
             : VirtioNetHeaderError::kTruncated;
}

TEST(VirtioNetHeaderTest, PlainFrameHasNothingToSkip) {
  const auto parsed = Parse({}, 60);
  ASSERT_TRUE(std::holds_alternative<VirtioNetHeader>(parsed));
  const VirtioNetHeader& header = std::get<VirtioNetHeader>(parsed);
  EXPECT_FALSE(header.needs_csum);
  EXPECT_FALSE(header.data_valid);
  EXPECT_FALSE(header.gso_tcpv4);
  EXPECT_EQ(header.checksum(), RxChecksum::kUnverified);
}

TEST(VirtioNetHeaderTest, OurOwnZeroedHeaderParses) {
  const auto parsed = ParseVirtioNetHeader(kPlainVirtioNetHeader, 60);
  ASSERT_TRUE(std::holds_alternative<VirtioNetHeader>(parsed));
  EXPECT_EQ(std::get<VirtioNetHeader>(parsed).checksum(), RxChecksum::kUnverified);
}

TEST(VirtioNetHeaderTest, DataValidIsVerified) {
  const auto parsed = Parse({.flags = kDataValid}, 1514);
  ASSERT_TRUE(std::holds_alternative<VirtioNetHeader>(parsed));
  EXPECT_EQ(std::get<VirtioNetHeader>(parsed).checksum(), RxChecksum::kVerified);
}

TEST(VirtioNetHeaderTest, PartialChecksumOfOneSegment) {
  const auto parsed = Parse(
      {.flags = kNeedsCsum, .csum_start = kTcpStart, .csum_offset = kTcpChecksumOffset}, 1514);
  ASSERT_TRUE(std::holds_alternative<VirtioNetHeader>(parsed));
  const VirtioNetHeader& header = std::get<VirtioNetHeader>(parsed);
  EXPECT_EQ(header.checksum(), RxChecksum::kPartial);
  EXPECT_EQ(header.csum_start, kTcpStart);
  EXPECT_EQ(header.csum_offset, kTcpChecksumOffset);
}

TEST(VirtioNetHeaderTest, NeedsCsumWinsOverDataValid) {
  const auto parsed =
      Parse({.flags = kNeedsCsum | kDataValid, .csum_start = kTcpStart, .csum_offset = 16}, 100);
  ASSERT_TRUE(std::holds_alternative<VirtioNetHeader>(parsed));
  EXPECT_EQ(std::get<VirtioNetHeader>(parsed).checksum(), RxChecksum::kPartial);
}

TEST(VirtioNetHeaderTest, TcpSuperSegment) {
  const auto parsed = Parse(SuperSegment(), kSuperFrameLength);
  ASSERT_TRUE(std::holds_alternative<VirtioNetHeader>(parsed));
  const VirtioNetHeader& header = std::get<VirtioNetHeader>(parsed);
  EXPECT_TRUE(header.gso_tcpv4);
  EXPECT_FALSE(header.gso_ecn);
  EXPECT_EQ(header.gso_size, 1448);
  EXPECT_EQ(header.hdr_len, kHeaders);
  EXPECT_EQ(header.checksum(), RxChecksum::kPartial);
}

TEST(VirtioNetHeaderTest, TcpSuperSegmentWithEcn) {
  Fields fields = SuperSegment();
  fields.gso_type = kGsoTcpv4 | kGsoEcn;
  const auto parsed = Parse(fields, kSuperFrameLength);
  ASSERT_TRUE(std::holds_alternative<VirtioNetHeader>(parsed));
  EXPECT_TRUE(std::get<VirtioNetHeader>(parsed).gso_ecn);
}

TEST(VirtioNetHeaderTest, HeaderLengthMayCoverTheWholeFrame) {
  // hdr_len is skb_headlen, a hint: a linear super-segment reports all of it.
  Fields fields = SuperSegment();
  fields.hdr_len = static_cast<std::uint16_t>(kSuperFrameLength);
  EXPECT_TRUE(std::holds_alternative<VirtioNetHeader>(Parse(fields, kSuperFrameLength)));
}

TEST(VirtioNetHeaderTest, ChecksumFieldEndingExactlyAtTheFrameEnd) {
  const std::size_t frame_length = kTcpStart + kTcpChecksumOffset + 2;
  EXPECT_TRUE(std::holds_alternative<VirtioNetHeader>(
      Parse({.flags = kNeedsCsum, .csum_start = kTcpStart, .csum_offset = 16}, frame_length)));
  EXPECT_EQ(ErrorOf(Parse({.flags = kNeedsCsum, .csum_start = kTcpStart, .csum_offset = 16},
                          frame_length - 1)),
            VirtioNetHeaderError::kChecksumOutsideFrame);
}

TEST(VirtioNetHeaderTest, TruncatedHeaderOrEmptyFrame) {
  const auto header = Encode({});
  for (std::size_t length = 0; length < kVirtioNetHeaderSize; ++length) {
    EXPECT_EQ(ErrorOf(ParseVirtioNetHeader(std::span(header).first(length), 60)),
              VirtioNetHeaderError::kTruncated)
        << length << " bytes";
  }
  EXPECT_EQ(ErrorOf(ParseVirtioNetHeader(header, 0)), VirtioNetHeaderError::kTruncated);
}

TEST(VirtioNetHeaderTest, UnknownFlags) {
  EXPECT_EQ(ErrorOf(Parse({.flags = 4}, 60)), VirtioNetHeaderError::kUnknownFlags);  // RSC_INFO
  EXPECT_EQ(ErrorOf(Parse({.flags = 0x80}, 60)), VirtioNetHeaderError::kUnknownFlags);
}

TEST(VirtioNetHeaderTest, GsoTypesWeDidNotOffer) {
  for (std::uint8_t type : {kGsoUdp, kGsoTcpv6, std::uint8_t{5}, std::uint8_t{0x7f}}) {
    Fields fields = SuperSegment();
    fields.gso_type = type;
    EXPECT_EQ(ErrorOf(Parse(fields, kSuperFrameLength)), VirtioNetHeaderError::kUnsupportedGsoType)
        << "gso_type " << int{type};
  }
  // The ECN bit alone qualifies nothing.
  EXPECT_EQ(ErrorOf(Parse({.gso_type = kGsoEcn}, 60)), VirtioNetHeaderError::kUnsupportedGsoType);
}

TEST(VirtioNetHeaderTest, SuperSegmentWithoutPartialChecksum) {
  Fields fields = SuperSegment();
  fields.flags = 0;
  EXPECT_EQ(ErrorOf(Parse(fields, kSuperFrameLength)), VirtioNetHeaderError::kGsoWithoutChecksum);
  fields.flags = kDataValid;
  EXPECT_EQ(ErrorOf(Parse(fields, kSuperFrameLength)), VirtioNetHeaderError::kGsoWithoutChecksum);
}

TEST(VirtioNetHeaderTest, GsoSizeZero) {
  Fields fields = SuperSegment();
  fields.gso_size = 0;
  EXPECT_EQ(ErrorOf(Parse(fields, kSuperFrameLength)), VirtioNetHeaderError::kGsoSizeZero);
}

TEST(VirtioNetHeaderTest, GsoSizeBeyondTheFrame) {
  Fields fields = SuperSegment();
  // The payload after a 20-byte TCP header: exactly that much still parses, one more does not.
  fields.gso_size = static_cast<std::uint16_t>(kSuperFrameLength - kHeaders);
  EXPECT_TRUE(std::holds_alternative<VirtioNetHeader>(Parse(fields, kSuperFrameLength)));
  fields.gso_size += 1;
  EXPECT_EQ(ErrorOf(Parse(fields, kSuperFrameLength)), VirtioNetHeaderError::kGsoSizeBeyondFrame);
  fields.gso_size = 0xffff;
  EXPECT_EQ(ErrorOf(Parse(fields, kSuperFrameLength)), VirtioNetHeaderError::kGsoSizeBeyondFrame);
  // A frame too short for even a TCP header after csum_start.
  fields.gso_size = 1;
  fields.hdr_len = kTcpStart;
  EXPECT_EQ(ErrorOf(Parse(fields, kTcpStart + 19)), VirtioNetHeaderError::kGsoSizeBeyondFrame);
}

TEST(VirtioNetHeaderTest, HeaderLengthBeyondTheFrame) {
  Fields fields = SuperSegment();
  fields.hdr_len = static_cast<std::uint16_t>(kSuperFrameLength + 1);
  EXPECT_EQ(ErrorOf(Parse(fields, kSuperFrameLength)),
            VirtioNetHeaderError::kHeaderLengthBeyondFrame);
}

TEST(VirtioNetHeaderTest, ChecksumOutsideTheFrame) {
  // Inside the Ethernet header.
  EXPECT_EQ(ErrorOf(Parse({.flags = kNeedsCsum, .csum_start = 13, .csum_offset = 16}, 1514)),
            VirtioNetHeaderError::kChecksumOutsideFrame);
  // Past the end, by the start or by the offset; and the largest values, which must not wrap.
  EXPECT_EQ(ErrorOf(Parse({.flags = kNeedsCsum, .csum_start = 1514, .csum_offset = 0}, 1514)),
            VirtioNetHeaderError::kChecksumOutsideFrame);
  EXPECT_EQ(
      ErrorOf(Parse({.flags = kNeedsCsum, .csum_start = kTcpStart, .csum_offset = 1479}, 1514)),
      VirtioNetHeaderError::kChecksumOutsideFrame);
  EXPECT_EQ(
      ErrorOf(Parse({.flags = kNeedsCsum, .csum_start = 0xffff, .csum_offset = 0xffff}, 1514)),
      VirtioNetHeaderError::kChecksumOutsideFrame);
  Fields fields = SuperSegment();
  fields.csum_offset = 0xffff;
  EXPECT_EQ(ErrorOf(Parse(fields, kSuperFrameLength)), VirtioNetHeaderError::kChecksumOutsideFrame);
}

TEST(VirtioNetHeaderTest, ChecksumFieldsAreIgnoredWithoutNeedsCsum) {
  // The kernel leaves them zero then; whatever they hold means nothing.
  EXPECT_TRUE(std::holds_alternative<VirtioNetHeader>(
      Parse({.flags = kDataValid, .csum_start = 0xffff, .csum_offset = 0xffff}, 60)));
}

TEST(VirtioNetHeaderTest, EveryErrorHasAName) {
  for (std::size_t i = 0; i < kVirtioNetHeaderErrorCount; ++i) {
    EXPECT_NE(VirtioNetHeaderErrorName(static_cast<VirtioNetHeaderError>(i)),
              "unknown virtio-net header error")
        << i;
  }
}

}  // namespace
}  // namespace tapstack::tap
