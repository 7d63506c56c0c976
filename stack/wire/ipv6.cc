#include "stack/wire/ipv6.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace tapstack::wire {
namespace {

// The fixed part of a fragment header (RFC 8200 4.5): next header, reserved, offset and flags,
// identification. The walk stops there, but only after checking that it is whole.
constexpr std::size_t kFragmentHeaderLen = 8;

// Hop-by-hop, routing and destination options headers share their first two bytes: next header,
// then the length in 8-octet units not counting the first 8 (RFC 8200 4.3, 4.4, 4.6).
bool IsSkippedExtensionHeader(std::uint8_t next_header) {
  return next_header == IpProtocol::kIpv6HopByHop || next_header == IpProtocol::kIpv6Routing ||
         next_header == IpProtocol::kIpv6DestinationOptions;
}

}  // namespace

Parsed<Ipv6View> Ipv6View::Parse(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kIpv6HeaderLen) return ParseError::kTruncatedHeader;
  if ((bytes[0] >> 4) != 6) return ParseError::kBadVersion;
  const std::size_t packet_len = kIpv6HeaderLen + LoadBe16(&bytes[4]);
  if (packet_len > bytes.size()) return ParseError::kPayloadLengthPastBuffer;
  const std::span<const std::uint8_t> packet = bytes.first(packet_len);

  // Each header is at least 8 bytes, so the walk ends within payload length / 8 steps.
  std::uint8_t next_header = packet[6];
  std::size_t offset = kIpv6HeaderLen;
  while (IsSkippedExtensionHeader(next_header)) {
    // RFC 8200 4.1: hop-by-hop options only immediately after the IPv6 header.
    if (next_header == IpProtocol::kIpv6HopByHop && offset != kIpv6HeaderLen) {
      return ParseError::kHopByHopNotFirst;
    }
    if (packet_len - offset < 2) return ParseError::kExtensionHeaderTruncated;
    const std::size_t header_len = (std::size_t{packet[offset + 1]} + 1) * 8;
    if (header_len > packet_len - offset) return ParseError::kExtensionHeaderPastPayload;
    next_header = packet[offset];
    offset += header_len;
  }
  if (next_header == IpProtocol::kIpv6Fragment && packet_len - offset < kFragmentHeaderLen) {
    return ParseError::kExtensionHeaderTruncated;
  }
  return Ipv6View(packet, offset, next_header);
}

Ipv6Repr Ipv6View::Repr() const {
  Ipv6Repr repr;
  repr.src = src();
  repr.dst = dst();
  repr.next_header = next_header();
  repr.hop_limit = hop_limit();
  repr.traffic_class = traffic_class();
  repr.flow_label = flow_label();
  repr.payload_len = payload_length();
  return repr;
}

std::size_t WriteIpv6Header(const Ipv6Repr& repr, std::span<std::uint8_t> out) {
  if (out.size() < kIpv6HeaderLen) return 0;
  StoreBe32(&out[0], (std::uint32_t{6} << 28) | (std::uint32_t{repr.traffic_class} << 20) |
                         (repr.flow_label & 0xfffff));
  StoreBe16(&out[4], repr.payload_len);
  out[6] = repr.next_header;
  out[7] = repr.hop_limit;
  repr.src.ToBytes(&out[8]);
  repr.dst.ToBytes(&out[24]);
  return kIpv6HeaderLen;
}

}  // namespace tapstack::wire
