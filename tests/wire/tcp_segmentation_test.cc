// Software segmentation and checksum completion (stack/wire/tcp_segmentation.h), what a device
// with TSO and checksum offload does: the segments it cuts are checked field by field against
// libtins's parse of them, an independent implementation, and their checksums from scratch.
#include "stack/wire/tcp_segmentation.h"

#include <gtest/gtest.h>
#include <tins/tins.h>

#include <cstdint>
#include <span>
#include <vector>

#include "stack/wire/bytes.h"
#include "stack/wire/checksum.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ip_protocol.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/ipv6_address.h"
#include "stack/wire/tcp.h"

namespace tapstack::wire {
namespace {

const Ipv4Address kSource = *Ipv4Address::Parse("192.0.2.2");
const Ipv4Address kDestination = *Ipv4Address::Parse("192.0.2.1");
const Ipv6Address kSource6 = *Ipv6Address::Parse("2001:db8::2");
const Ipv6Address kDestination6 = *Ipv6Address::Parse("2001:db8::1");
constexpr std::uint32_t kFirstSeq = 0xfffff000;  // the cut wraps the sequence space
constexpr std::uint16_t kFirstIdentification = 0xfffe;

std::vector<std::uint8_t> Payload(std::size_t size) {
  std::vector<std::uint8_t> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
  return bytes;
}

TcpRepr Segment(std::span<const std::uint8_t> payload, std::uint8_t flags) {
  TcpRepr tcp{.src_port = 40000,
              .dst_port = 5001,
              .seq = kFirstSeq,
              .ack = 77,
              .flags = flags,
              .window = 512,
              .payload = payload};
  tcp.options.timestamps = TcpOptions::Timestamps{.value = 1234, .echo_reply = 5678};
  return tcp;
}

// Ethernet + IPv4 + TCP with the checksum left partial, as the engine hands a super-segment over.
std::vector<std::uint8_t> SuperFrame(std::span<const std::uint8_t> payload, std::uint8_t flags) {
  const TcpRepr tcp = Segment(payload, flags);
  const std::size_t tcp_length = TcpHeaderLen(tcp.options) + payload.size();
  std::vector<std::uint8_t> frame(kEthernetHeaderLen + kIpv4MinHeaderLen + tcp_length);
  const std::span<std::uint8_t> out(frame);
  WriteEthernet(EthernetRepr{MacAddress({2, 0, 0, 0, 0, 1}), MacAddress({2, 0, 0, 0, 0, 2}),
                             EtherType::kIpv4},
                out);
  WriteIpv4Header(Ipv4Repr{.src = kSource,
                           .dst = kDestination,
                           .protocol = IpProtocol::kTcp,
                           .identification = kFirstIdentification,
                           .payload_len = static_cast<std::uint16_t>(tcp_length)},
                  out.subspan(kEthernetHeaderLen));
  EXPECT_EQ(WriteTcp(tcp, kSource, kDestination, out.subspan(kEthernetHeaderLen + 20),
                     TcpChecksum::kPartial),
            tcp_length);
  return frame;
}

std::vector<std::vector<std::uint8_t>> Cut(std::span<const std::uint8_t> frame,
                                           const TxOffload& offload,
                                           std::optional<TcpFrameError>* error = nullptr) {
  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<std::uint8_t> scratch;
  const std::optional<TcpFrameError> refused = FinishTxOffload(
      frame, offload, scratch,
      [&](std::span<const std::uint8_t> out) { frames.emplace_back(out.begin(), out.end()); });
  if (error != nullptr) *error = refused;
  return frames;
}

TEST(TcpSegmentationTest, SuperSegmentIsCutAtTheSegmentSizeAsLinuxGsoCutsIt) {
  constexpr std::uint16_t kMss = 1448;
  const std::vector<std::uint8_t> payload = Payload(3 * kMss + 100);
  const std::vector<std::uint8_t> frame =
      SuperFrame(payload, TcpFlags::kAck | TcpFlags::kPsh | TcpFlags::kFin | TcpFlags::kCwr);
  const auto frames = Cut(frame, TxOffload{.tcp_segment_size = kMss, .tcp_checksum_partial = true});
  ASSERT_EQ(frames.size(), 4u);
  std::vector<std::uint8_t> joined;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE(i);
    const std::vector<std::uint8_t>& segment = frames[i];
    const std::size_t length = i < 3 ? kMss : 100;
    Tins::EthernetII parsed(segment.data(), static_cast<std::uint32_t>(segment.size()));
    const Tins::IP& ip = parsed.rfind_pdu<Tins::IP>();
    const Tins::TCP& tcp = parsed.rfind_pdu<Tins::TCP>();
    EXPECT_EQ(ip.id(), static_cast<std::uint16_t>(kFirstIdentification + i));
    EXPECT_EQ(ip.tot_len(), 20 + 32 + length);
    EXPECT_EQ(tcp.seq(), kFirstSeq + static_cast<std::uint32_t>(i * kMss));
    EXPECT_EQ(tcp.ack_seq(), 77u);
    EXPECT_EQ(tcp.get_flag(Tins::TCP::FIN), i == 3 ? 1 : 0) << "FIN on the last segment only";
    EXPECT_EQ(tcp.get_flag(Tins::TCP::PSH), i == 3 ? 1 : 0) << "PSH on the last segment only";
    EXPECT_EQ(tcp.get_flag(Tins::TCP::CWR), i == 0 ? 1 : 0) << "CWR on the first segment only";
    EXPECT_EQ(tcp.get_flag(Tins::TCP::ACK), 1);
    ASSERT_TRUE(tcp.search_option(Tins::TCP::TSOPT) != nullptr) << "options copied";
    EXPECT_EQ(tcp.timestamp().first, 1234u);
    // Both checksums complete: over the header, and over the pseudo-header and segment.
    const std::span<const std::uint8_t> bytes(segment);
    EXPECT_EQ(InternetChecksum(bytes.subspan(14, 20)), 0);
    EXPECT_EQ(
        TransportChecksum(kSource, kDestination, IpProtocol::kTcp, bytes.subspan(34, 32 + length)),
        0);
    const auto* raw = tcp.find_pdu<Tins::RawPDU>();
    ASSERT_NE(raw, nullptr);
    joined.insert(joined.end(), raw->payload().begin(), raw->payload().end());
  }
  EXPECT_EQ(joined, payload) << "the segments carry the super-segment's payload in order";
}

TEST(TcpSegmentationTest, ShortLastSegmentIsPaddedToTheEthernetMinimum) {
  const std::vector<std::uint8_t> payload = Payload(1000 + 1);
  const std::vector<std::uint8_t> frame = SuperFrame(payload, TcpFlags::kAck);
  const auto frames = Cut(frame, TxOffload{.tcp_segment_size = 1000, .tcp_checksum_partial = true});
  ASSERT_EQ(frames.size(), 2u);
  // 14 + 20 + 32 + 1 = 67 bytes: above 60, no padding. With no options it would be 55.
  EXPECT_EQ(frames[1].size(), 67u);
  TcpRepr bare{.src_port = 1, .dst_port = 2, .seq = 1, .flags = TcpFlags::kAck};
  const std::vector<std::uint8_t> two = Payload(2);
  bare.payload = two;
  std::vector<std::uint8_t> small(14 + 20 + 20 + 2);
  const std::span<std::uint8_t> out(small);
  WriteEthernet(EthernetRepr{MacAddress(), MacAddress(), EtherType::kIpv4}, out);
  WriteIpv4Header(
      Ipv4Repr{
          .src = kSource, .dst = kDestination, .protocol = IpProtocol::kTcp, .payload_len = 22},
      out.subspan(14));
  WriteTcp(bare, kSource, kDestination, out.subspan(34), TcpChecksum::kPartial);
  const auto cut = Cut(small, TxOffload{.tcp_segment_size = 1, .tcp_checksum_partial = true});
  ASSERT_EQ(cut.size(), 2u);
  for (const auto& segment : cut) {
    EXPECT_EQ(segment.size(), 60u);
    EXPECT_EQ(segment[59], 0) << "padding is zeros";
    EXPECT_EQ(TransportChecksum(kSource, kDestination, IpProtocol::kTcp,
                                std::span(segment).subspan(34, 21)),
              0);
  }
}

TEST(TcpSegmentationTest, PartialChecksumAloneIsCompletedOverIpv4AndIpv6) {
  const std::vector<std::uint8_t> payload = Payload(999);
  {
    std::vector<std::uint8_t> frame = SuperFrame(payload, TcpFlags::kAck);
    const std::vector<std::uint8_t> before = frame;
    const auto frames = Cut(frame, TxOffload{.tcp_checksum_partial = true});
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(TransportChecksum(kSource, kDestination, IpProtocol::kTcp,
                                std::span(frames[0]).subspan(34)),
              0);
    // Only the checksum changed; WriteTcp's complete checksum is the same value.
    const TcpRepr tcp = Segment(payload, TcpFlags::kAck);
    std::vector<std::uint8_t> complete(before.size() - 34);
    WriteTcp(tcp, kSource, kDestination, complete);
    EXPECT_TRUE(std::equal(complete.begin(), complete.end(), frames[0].begin() + 34));
    // What a device does with the partial field, summing from the TCP header on and storing the
    // complement, gives that same checksum: the field held exactly the pseudo-header's sum.
    EXPECT_EQ(InternetChecksum(std::span(before).subspan(34)), LoadBe16(&complete[16]));
  }
  {
    const TcpRepr tcp = Segment(payload, TcpFlags::kAck);
    const std::size_t tcp_length = TcpHeaderLen(tcp.options) + payload.size();
    std::vector<std::uint8_t> frame(14 + 40 + tcp_length);
    const std::span<std::uint8_t> out(frame);
    WriteEthernet(EthernetRepr{MacAddress(), MacAddress(), EtherType::kIpv6}, out);
    WriteIpv6Header(Ipv6Repr{.src = kSource6,
                             .dst = kDestination6,
                             .next_header = IpProtocol::kTcp,
                             .payload_len = static_cast<std::uint16_t>(tcp_length)},
                    out.subspan(14));
    WriteTcp(tcp, kSource6, kDestination6, out.subspan(54), TcpChecksum::kPartial);
    const auto frames = Cut(frame, TxOffload{.tcp_checksum_partial = true});
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(TransportChecksum(kSource6, kDestination6, IpProtocol::kTcp,
                                std::span(frames[0]).subspan(54)),
              0);
    EXPECT_EQ(InternetChecksum(std::span(frame).subspan(54)), LoadBe16(&frames[0][54 + 16]))
        << "the partial field holds the IPv6 pseudo-header's sum";
    std::optional<TcpFrameError> error;
    EXPECT_TRUE(Cut(frame, TxOffload{.tcp_segment_size = 500, .tcp_checksum_partial = true}, &error)
                    .empty());
    EXPECT_EQ(error, TcpFrameError::kTsoOverIpv6);
  }
}

TEST(TcpSegmentationTest, FrameWithoutOffloadsGoesAsItIs) {
  const std::vector<std::uint8_t> garbage = {1, 2, 3};
  const auto frames = Cut(garbage, TxOffload{});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], garbage);
}

TEST(TcpSegmentationTest, InconsistentFramesAreRefusedWithAReasonAndNothingEmitted) {
  const std::vector<std::uint8_t> payload = Payload(3000);
  const std::vector<std::uint8_t> good = SuperFrame(payload, TcpFlags::kAck);
  const TxOffload tso{.tcp_segment_size = 1448, .tcp_checksum_partial = true};
  struct Case {
    const char* what;
    std::size_t offset;  // of a big-endian 16-bit field to overwrite
    std::uint16_t value;
    TcpFrameError expected;
  };
  const Case cases[] = {
      {"ARP, not IP", 12, 0x0806, TcpFrameError::kNotTcp},
      {"IPv4 header length 16", 14, 0x4400, TcpFrameError::kBadHeaderLength},
      {"UDP", 14 + 8, 0x4011, TcpFrameError::kNotTcp},
      {"a fragment", 14 + 6, 0x2000, TcpFrameError::kNotTcp},
      {"total length past the frame", 14 + 2, 0xffff, TcpFrameError::kTruncated},
      {"total length inside the IPv4 header", 14 + 2, 19, TcpFrameError::kBadHeaderLength},
      {"TCP data offset of 4 words", 34 + 12, 0x4010, TcpFrameError::kBadHeaderLength},
      {"TCP header past the IP length", 14 + 2, 20 + 30, TcpFrameError::kTruncated},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::vector<std::uint8_t> frame = good;
    StoreBe16(&frame[c.offset], c.value);
    std::optional<TcpFrameError> error;
    EXPECT_TRUE(Cut(frame, tso, &error).empty());
    EXPECT_EQ(error, c.expected);
    if (error) {
      EXPECT_FALSE(TcpFrameErrorName(*error).empty());
    }
  }
  // Every prefix of a good frame is refused or cut within its bounds (ASan checks the reads).
  for (std::size_t size = 0; size < 80; ++size) {
    std::optional<TcpFrameError> error;
    const auto frames = Cut(std::span(good).first(size), tso, &error);
    EXPECT_TRUE(frames.empty());
    EXPECT_TRUE(error.has_value()) << size;
  }
}

}  // namespace
}  // namespace tapstack::wire
