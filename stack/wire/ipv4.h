// IPv4 headers (RFC 791 3.1).
//
//   0 version(4) IHL(4)   1 DSCP/ECN (RFC 2474, RFC 3168)   2 total length
//   4 identification      6 flags(3) fragment offset(13)
//   8 TTL   9 protocol   10 header checksum   12 source   16 destination   20 options...
//
// Options are tolerated on input and skipped; none are written. Fragments are recognised
// (is_fragment()) but not reassembled: the stack drops them.
#ifndef TAPSTACK_STACK_WIRE_IPV4_H_
#define TAPSTACK_STACK_WIRE_IPV4_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/bytes.h"
#include "stack/wire/ip_protocol.h"
#include "stack/wire/parse_result.h"

namespace tapstack::wire {

inline constexpr std::size_t kIpv4MinHeaderLen = 20;
inline constexpr std::size_t kIpv4MaxHeaderLen = 60;
// Total Length is 16 bits (RFC 791 3.1).
inline constexpr std::size_t kIpv4MaxPacketLen = 65535;

// What the stack sends: a 20-byte header without options, never a fragment.
struct Ipv4Repr {
  Ipv4Address src;
  Ipv4Address dst;
  std::uint8_t protocol = 0;
  std::uint8_t ttl = 64;
  std::uint16_t identification = 0;
  bool dont_fragment = true;
  std::uint8_t dscp_ecn = 0;
  std::uint16_t payload_len = 0;  // bytes after the header; total length = 20 + payload_len

  friend bool operator==(const Ipv4Repr&, const Ipv4Repr&) = default;
};

// A read-only view over one IPv4 datagram (an Ethernet payload). Parse validates version 4,
// IHL >= 5, IHL * 4 <= bytes, and IHL * 4 <= total length <= bytes; afterwards no accessor reads
// outside the given bytes. Bytes beyond the total length (Ethernet padding) are not part of the
// datagram: payload() ends at the total length. The header checksum is not checked by Parse; ask
// header_checksum_valid(). Errors, in the order checked: kTruncatedHeader (under 20 bytes),
// kBadVersion, kBadHeaderLength (IHL < 5), kHeaderPastBuffer, kTotalLengthBelowHeader,
// kTotalLengthPastBuffer.
class Ipv4View {
 public:
  static Parsed<Ipv4View> Parse(std::span<const std::uint8_t> bytes);

  std::uint8_t version() const { return datagram_[0] >> 4; }                        // always 4
  std::size_t header_len() const { return std::size_t{datagram_[0] & 0x0fu} * 4; }  // in bytes
  std::uint8_t dscp_ecn() const { return datagram_[1]; }
  std::uint16_t total_length() const { return LoadBe16(&datagram_[2]); }
  std::uint16_t identification() const { return LoadBe16(&datagram_[4]); }
  bool dont_fragment() const { return (datagram_[6] & 0x40) != 0; }
  bool more_fragments() const { return (datagram_[6] & 0x20) != 0; }
  // In units of 8 bytes, as on the wire.
  std::uint16_t fragment_offset() const { return LoadBe16(&datagram_[6]) & 0x1fff; }
  bool is_fragment() const { return more_fragments() || fragment_offset() != 0; }
  std::uint8_t ttl() const { return datagram_[8]; }
  std::uint8_t protocol() const { return datagram_[9]; }
  std::uint16_t header_checksum() const { return LoadBe16(&datagram_[10]); }
  Ipv4Address src() const { return Ipv4Address::FromBytes(&datagram_[12]); }
  Ipv4Address dst() const { return Ipv4Address::FromBytes(&datagram_[16]); }

  // RFC 791 3.1 "Header Checksum": the checksum over the whole header, options included.
  bool header_checksum_valid() const;

  std::span<const std::uint8_t> options() const {
    return datagram_.subspan(kIpv4MinHeaderLen, header_len() - kIpv4MinHeaderLen);
  }
  std::span<const std::uint8_t> header() const { return datagram_.first(header_len()); }
  // From the end of the header to the total length.
  std::span<const std::uint8_t> payload() const { return datagram_.subspan(header_len()); }
  // The datagram, header_len() + payload().size() == total_length() bytes.
  std::span<const std::uint8_t> bytes() const { return datagram_; }

  // Options, the fragment fields and the checksum are not represented.
  Ipv4Repr Repr() const;

 private:
  explicit Ipv4View(std::span<const std::uint8_t> datagram) : datagram_(datagram) {}

  std::span<const std::uint8_t> datagram_;  // exactly total_length() bytes
};

// Writes a 20-byte header (no options, MF clear, fragment offset 0) with a correct checksum into
// the start of `out` and returns 20. Writes nothing and returns 0 when `out` is shorter than 20 or
// 20 + payload_len exceeds the 65535-byte total length limit. The caller writes the payload at
// out[20...].
std::size_t WriteIpv4Header(const Ipv4Repr& repr, std::span<std::uint8_t> out);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_IPV4_H_
