// ICMP messages (RFC 792): the echo pair and the errors the stack sends.
//
//   0 type   1 code   2 checksum   4 rest of header (echo: identifier, sequence number)   8 data
//
// The checksum covers the whole ICMP message, header and data (RFC 792, "Echo or Echo Reply").
#ifndef TAPSTACK_STACK_WIRE_ICMP_H_
#define TAPSTACK_STACK_WIRE_ICMP_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/checksum.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/parse_result.h"

namespace tapstack::wire {

inline constexpr std::size_t kIcmpHeaderLen = 8;

// The ICMP type field. Other values parse too (the enum holds any uint8_t).
enum class IcmpType : std::uint8_t {
  kEchoReply = 0,
  kDestinationUnreachable = 3,
  kEchoRequest = 8,
  kTimeExceeded = 11,
};

// Codes of Destination Unreachable (RFC 792; 4 with the next-hop MTU of RFC 1191 4).
struct IcmpUnreachableCode {
  static constexpr std::uint8_t kNet = 0;
  static constexpr std::uint8_t kHost = 1;
  static constexpr std::uint8_t kProtocol = 2;
  static constexpr std::uint8_t kPort = 3;
  static constexpr std::uint8_t kFragmentationNeeded = 4;
};

// A read-only view over one ICMP message (an IPv4 payload, exactly as long as the datagram says).
// Parse only requires the 8-byte header (kTruncatedHeader otherwise); the checksum is checked by
// checksum_valid().
class IcmpView {
 public:
  static Parsed<IcmpView> Parse(std::span<const std::uint8_t> message);

  IcmpType type() const { return static_cast<IcmpType>(message_[0]); }
  std::uint8_t code() const { return message_[1]; }
  std::uint16_t checksum() const { return LoadBe16(&message_[2]); }
  bool checksum_valid() const;

  // Bytes 4..7. Meaningful for echo request and reply (and the other query types).
  std::uint16_t echo_identifier() const { return LoadBe16(&message_[4]); }
  std::uint16_t echo_sequence() const { return LoadBe16(&message_[6]); }
  // Bytes 6..7 of a Destination Unreachable with code kFragmentationNeeded (RFC 1191 4).
  std::uint16_t next_hop_mtu() const { return LoadBe16(&message_[6]); }

  // Everything after the 8-byte header: echo data, or the quoted datagram of an error message.
  std::span<const std::uint8_t> payload() const { return message_.subspan(kIcmpHeaderLen); }
  std::span<const std::uint8_t> bytes() const { return message_; }

 private:
  explicit IcmpView(std::span<const std::uint8_t> message) : message_(message) {}

  std::span<const std::uint8_t> message_;
};

// Writes an echo message of `type` (kEchoRequest or kEchoReply; any type is written as given)
// with a correct checksum into `out`, and returns 8 + payload.size(). Writes nothing and returns 0
// when `out` is too small. `payload` may overlap `out` (a reply written over its request).
std::size_t WriteIcmpEcho(IcmpType type, std::uint16_t identifier, std::uint16_t sequence,
                          std::span<const std::uint8_t> payload, std::span<std::uint8_t> out);

// Writes a Destination Unreachable with `code`, the unused word zero, followed by `quoted` (the
// offending datagram's IP header and at least its first 8 data bytes, RFC 792; see
// IcmpErrorQuote), with a correct checksum. Returns 8 + quoted.size(), or 0 when `out` is too
// small. `quoted` may overlap `out`.
std::size_t WriteIcmpDestinationUnreachable(std::uint8_t code, std::span<const std::uint8_t> quoted,
                                            std::span<std::uint8_t> out);

// Writes type, code and the rest-of-header word, copies `data` (which may overlap `out`) behind
// them, and stores the checksum of what `checksum` already holds followed by the message; returns
// 8 + data.size(), or 0 when `out` is too small. ICMP starts from an empty accumulator; ICMPv6,
// whose messages have the same layout (RFC 4443 2.1), from its pseudo-header (RFC 4443 2.3).
std::size_t WriteIcmpMessage(std::uint8_t type, std::uint8_t code, std::uint32_t rest_of_header,
                             std::span<const std::uint8_t> data, ChecksumAccumulator checksum,
                             std::span<std::uint8_t> out);

// The part of a received datagram an ICMP error quotes: its header, options included, and the
// first 8 bytes of its payload (fewer if the payload is shorter) (RFC 792, "Destination
// Unreachable Message", Internet Header + 64 bits of Data Datagram).
std::span<const std::uint8_t> IcmpErrorQuote(const Ipv4View& datagram);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_ICMP_H_
