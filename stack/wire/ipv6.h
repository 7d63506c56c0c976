// IPv6 headers (RFC 8200 3) and the extension headers between them and the upper layer (RFC 8200
// 4).
//
//   0 version(4) traffic class(8) flow label(20)   4 payload length   6 next header   7 hop limit
//   8 source address (16)   24 destination address (16)   40 extension headers..., upper layer
//
// Hop-by-hop options (0), routing (43) and destination options (60) headers are skipped on input
// to find the upper-layer protocol, their options unread: a host that is the final destination
// acts on none of the options it can receive without harm (RFC 8200 4.2 lets it skip unknown
// options of type 00xxxxxx; the others ask for an ICMPv6 error the stack does not send yet). A
// fragment header (44) stops the walk and is reported (is_fragment()) for the caller to drop and
// count: fragments are not reassembled. None are written: WriteIpv6Header writes the fixed header
// only.
#ifndef TAPSTACK_STACK_WIRE_IPV6_H_
#define TAPSTACK_STACK_WIRE_IPV6_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/bytes.h"
#include "stack/wire/ip_protocol.h"
#include "stack/wire/ipv6_address.h"
#include "stack/wire/parse_result.h"

namespace tapstack::wire {

inline constexpr std::size_t kIpv6HeaderLen = 40;
// The IPv6 minimum link MTU (RFC 8200 5): every link carries packets this large, and ICMPv6 error
// messages are cut to fit in it (RFC 4443 2.4 (c)).
inline constexpr std::size_t kIpv6MinMtu = 1280;

// What the stack sends: the fixed header, no extension headers.
struct Ipv6Repr {
  Ipv6Address src;
  Ipv6Address dst;
  std::uint8_t next_header = 0;
  std::uint8_t hop_limit = 64;
  std::uint8_t traffic_class = 0;  // DSCP and ECN (RFC 2474, RFC 3168), as in IPv4
  std::uint32_t flow_label = 0;    // 20 bits; 0 is "no flow" (RFC 6437 2)
  std::uint16_t payload_len = 0;   // bytes after the 40-byte header

  friend bool operator==(const Ipv6Repr&, const Ipv6Repr&) = default;
};

// A read-only view over one IPv6 packet (an Ethernet payload). Parse validates version 6 and that
// the payload length fits in the bytes, then walks the extension header chain, checking each
// header's length before reading past its first two bytes; afterwards no accessor reads outside
// the given bytes. Bytes beyond the payload length (Ethernet padding) are not part of the packet.
// Errors, in the order checked: kTruncatedHeader (under 40 bytes), kBadVersion,
// kPayloadLengthPastBuffer, then for each extension header: kHopByHopNotFirst,
// kExtensionHeaderTruncated (fewer than 2 bytes left, or 8 for a fragment header),
// kExtensionHeaderPastPayload. A jumbogram (RFC 2675, payload length 0 and a jumbo option) is not
// supported: its hop-by-hop header runs past the empty payload.
class Ipv6View {
 public:
  static Parsed<Ipv6View> Parse(std::span<const std::uint8_t> bytes);

  std::uint8_t version() const { return packet_[0] >> 4; }  // always 6
  std::uint8_t traffic_class() const {
    return static_cast<std::uint8_t>((packet_[0] << 4) | (packet_[1] >> 4));
  }
  std::uint32_t flow_label() const { return LoadBe32(&packet_[0]) & 0xfffff; }
  std::uint16_t payload_length() const { return LoadBe16(&packet_[4]); }
  // The fixed header's next header: the first extension header, or the upper layer.
  std::uint8_t next_header() const { return packet_[6]; }
  std::uint8_t hop_limit() const { return packet_[7]; }
  Ipv6Address src() const { return Ipv6Address::FromBytes(&packet_[8]); }
  Ipv6Address dst() const { return Ipv6Address::FromBytes(&packet_[24]); }

  // The protocol after the skipped extension headers: IpProtocol::kTcp, kIcmpv6, ...; for a
  // fragment, IpProtocol::kIpv6Fragment (the fragment's own protocol is not looked at).
  std::uint8_t upper_layer_protocol() const { return upper_layer_protocol_; }
  bool is_fragment() const { return upper_layer_protocol_ == IpProtocol::kIpv6Fragment; }

  std::span<const std::uint8_t> header() const { return packet_.first(kIpv6HeaderLen); }
  // The hop-by-hop, routing and destination options headers that were skipped (for a fragment,
  // those before the fragment header).
  std::span<const std::uint8_t> extension_headers() const {
    return packet_.subspan(kIpv6HeaderLen, upper_layer_offset_ - kIpv6HeaderLen);
  }
  // What the upper-layer protocol parses: after the extension headers, to the payload length's
  // end. For a fragment, the fragment header and what follows it.
  std::span<const std::uint8_t> upper_layer_payload() const {
    return packet_.subspan(upper_layer_offset_);
  }
  // Everything after the fixed header, payload_length() bytes.
  std::span<const std::uint8_t> payload() const { return packet_.subspan(kIpv6HeaderLen); }
  // The packet, 40 + payload_length() bytes.
  std::span<const std::uint8_t> bytes() const { return packet_; }

  // The fixed header's fields; payload_len counts the extension headers too.
  Ipv6Repr Repr() const;

 private:
  Ipv6View(std::span<const std::uint8_t> packet, std::size_t upper_layer_offset,
           std::uint8_t upper_layer_protocol)
      : packet_(packet),
        upper_layer_offset_(upper_layer_offset),
        upper_layer_protocol_(upper_layer_protocol) {}

  std::span<const std::uint8_t> packet_;  // exactly 40 + payload_length() bytes
  std::size_t upper_layer_offset_;        // from the start of the packet
  std::uint8_t upper_layer_protocol_;
};

// Writes the 40-byte header into the start of `out` and returns 40, or writes nothing and returns
// 0 when `out` is shorter than that. The flow label is cut to its 20 bits. The caller writes the
// payload at out[40...].
std::size_t WriteIpv6Header(const Ipv6Repr& repr, std::span<std::uint8_t> out);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_IPV6_H_
