#include "stack/wire/tcp_segmentation.h"

#include <algorithm>
#include <cstring>

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

// 64 bytes on the wire less the 4-byte FCS (IEEE 802.3 3.2.8): a short last segment is padded.
constexpr std::size_t kMinimumFrameLen = 60;

// The TCP checksum of the segment at `tcp` (its field zeroed first) over the pseudo-header of the
// IP header in front of it.
void StoreTcpChecksum(const TcpFrameLayout& layout, std::span<std::uint8_t> frame,
                      std::size_t tcp_length) {
  const std::span<std::uint8_t> tcp = frame.subspan(layout.tcp_offset, tcp_length);
  StoreBe16(&tcp[16], 0);
  const std::uint8_t* ip = &frame[kEthernetHeaderLen];
  const std::uint16_t checksum =
      layout.ipv6 ? TransportChecksum(Ipv6Address::FromBytes(ip + 8),
                                      Ipv6Address::FromBytes(ip + 24), IpProtocol::kTcp, tcp)
                  : TransportChecksum(Ipv4Address::FromBytes(ip + 12),
                                      Ipv4Address::FromBytes(ip + 16), IpProtocol::kTcp, tcp);
  StoreBe16(&tcp[16], checksum);
}

}  // namespace

std::string_view TcpFrameErrorName(TcpFrameError error) {
  switch (error) {
    case TcpFrameError::kNotTcp:
      return "not TCP over IPv4 or IPv6 (or an IPv4 fragment)";
    case TcpFrameError::kTruncated:
      return "a header or the IP length runs past the frame";
    case TcpFrameError::kBadHeaderLength:
      return "an IPv4 header or TCP data offset below the minimum";
    case TcpFrameError::kTsoOverIpv6:
      return "segmentation asked for TCP over IPv6";
  }
  return "unknown";
}

std::variant<TcpFrameLayout, TcpFrameError> LocateTcp(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthernetHeaderLen) return TcpFrameError::kTruncated;
  const std::uint16_t ethertype = LoadBe16(&frame[12]);
  const std::span<const std::uint8_t> ip = frame.subspan(kEthernetHeaderLen);
  TcpFrameLayout layout;
  std::size_t tcp_length = 0;  // header and payload, as the IP header says
  if (ethertype == EtherType::kIpv4) {
    if (ip.size() < kIpv4MinHeaderLen) return TcpFrameError::kTruncated;
    if ((ip[0] >> 4) != 4) return TcpFrameError::kNotTcp;
    layout.ip_header_len = std::size_t{ip[0] & 0x0fu} * 4;
    const std::size_t total_length = LoadBe16(&ip[2]);
    if (layout.ip_header_len < kIpv4MinHeaderLen || total_length < layout.ip_header_len) {
      return TcpFrameError::kBadHeaderLength;
    }
    if (total_length > ip.size()) return TcpFrameError::kTruncated;
    // More-fragments or a fragment offset: not a whole segment (RFC 791 3.1).
    if (ip[9] != IpProtocol::kTcp || (LoadBe16(&ip[6]) & 0x3fff) != 0) {
      return TcpFrameError::kNotTcp;
    }
    tcp_length = total_length - layout.ip_header_len;
  } else if (ethertype == EtherType::kIpv6) {
    if (ip.size() < kIpv6HeaderLen) return TcpFrameError::kTruncated;
    if ((ip[0] >> 4) != 6 || ip[6] != IpProtocol::kTcp) return TcpFrameError::kNotTcp;
    layout.ipv6 = true;
    layout.ip_header_len = kIpv6HeaderLen;
    tcp_length = LoadBe16(&ip[4]);
    if (kIpv6HeaderLen + tcp_length > ip.size()) return TcpFrameError::kTruncated;
  } else {
    return TcpFrameError::kNotTcp;
  }
  if (tcp_length < kTcpMinHeaderLen) return TcpFrameError::kTruncated;
  layout.tcp_offset = kEthernetHeaderLen + layout.ip_header_len;
  layout.tcp_header_len = static_cast<std::size_t>(frame[layout.tcp_offset + 12] >> 4) * 4;
  if (layout.tcp_header_len < kTcpMinHeaderLen) return TcpFrameError::kBadHeaderLength;
  if (layout.tcp_header_len > tcp_length) return TcpFrameError::kTruncated;
  layout.payload_len = tcp_length - layout.tcp_header_len;
  return layout;
}

std::optional<TcpFrameError> FinishTxOffload(
    std::span<const std::uint8_t> frame, const TxOffload& offload,
    std::vector<std::uint8_t>& scratch,
    absl::FunctionRef<void(std::span<const std::uint8_t> frame)> emit) {
  if (offload.none()) {
    emit(frame);
    return std::nullopt;
  }
  const auto located = LocateTcp(frame);
  if (const auto* error = std::get_if<TcpFrameError>(&located)) return *error;
  const TcpFrameLayout& layout = std::get<TcpFrameLayout>(located);
  const bool segmenting = offload.tcp_segment_size != 0;
  if (segmenting && layout.ipv6) return TcpFrameError::kTsoOverIpv6;

  const std::size_t headers_len = layout.headers_len();
  const std::size_t segment_size = segmenting ? offload.tcp_segment_size : layout.payload_len;
  const std::size_t segments = layout.payload_len <= segment_size
                                   ? 1
                                   : (layout.payload_len + segment_size - 1) / segment_size;
  const std::uint8_t* tcp_in = &frame[layout.tcp_offset];
  const std::uint32_t first_seq = LoadBe32(tcp_in + 4);
  const std::uint8_t flags = tcp_in[13];
  const std::uint16_t first_identification = LoadBe16(&frame[kEthernetHeaderLen + 4]);
  for (std::size_t i = 0; i < segments; ++i) {
    const std::size_t offset = i * segment_size;
    const std::size_t length = std::min(segment_size, layout.payload_len - offset);
    const std::size_t used = headers_len + length;
    scratch.resize(std::max(kMinimumFrameLen, used));
    std::memcpy(scratch.data(), frame.data(), headers_len);
    std::memcpy(scratch.data() + headers_len, frame.data() + headers_len + offset, length);
    std::fill(scratch.begin() + static_cast<std::ptrdiff_t>(used), scratch.end(), std::uint8_t{0});
    const std::span<std::uint8_t> out(scratch);
    if (segmenting) {
      // Each segment its own IPv4 datagram: length, the next identification, header checksum.
      std::uint8_t* ip = &out[kEthernetHeaderLen];
      StoreBe16(ip + 2, static_cast<std::uint16_t>(used - kEthernetHeaderLen));
      StoreBe16(ip + 4, static_cast<std::uint16_t>(first_identification + i));
      StoreBe16(ip + 10, 0);
      StoreBe16(ip + 10, InternetChecksum(out.subspan(kEthernetHeaderLen, layout.ip_header_len)));
      std::uint8_t* tcp = &out[layout.tcp_offset];
      StoreBe32(tcp + 4, first_seq + static_cast<std::uint32_t>(offset));
      std::uint8_t segment_flags = flags;
      if (i + 1 < segments) segment_flags &= ~(TcpFlags::kFin | TcpFlags::kPsh);
      if (i > 0) segment_flags &= ~TcpFlags::kCwr;
      tcp[13] = segment_flags;
    }
    StoreTcpChecksum(layout, out, used - layout.tcp_offset);
    emit(out);
  }
  return std::nullopt;
}

}  // namespace tapstack::wire
