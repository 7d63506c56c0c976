// ICMPv6 messages (RFC 4443): the echo pair, Destination Unreachable and Parameter Problem.
// Neighbor Discovery's messages are ICMPv6 too; their bodies are read by neighbor_discovery.h.
//
//   0 type   1 code   2 checksum   4 message body (echo: identifier, sequence number; errors:
//   4 bytes unused or a parameter, then as much of the invoking packet as fits in 1280 bytes)
//
// The layout is ICMP's (RFC 4443 2.1), but the checksum also covers the IPv6 pseudo-header with
// next header 58 (RFC 4443 2.3), so checking or writing one needs the packet's addresses.
#ifndef TAPSTACK_STACK_WIRE_ICMPV6_H_
#define TAPSTACK_STACK_WIRE_ICMPV6_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/bytes.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/ipv6_address.h"
#include "stack/wire/parse_result.h"

namespace tapstack::wire {

// Every message this stack reads has at least type, code, checksum and one 32-bit word.
inline constexpr std::size_t kIcmpv6HeaderLen = 8;

// The ICMPv6 type field (RFC 4443 2.1, RFC 4861 4). Other values parse too. Types below 128 are
// errors, the rest informational (RFC 4443 2.1).
enum class Icmpv6Type : std::uint8_t {
  kDestinationUnreachable = 1,
  kPacketTooBig = 2,
  kTimeExceeded = 3,
  kParameterProblem = 4,
  kEchoRequest = 128,
  kEchoReply = 129,
  kRouterSolicitation = 133,
  kRouterAdvertisement = 134,
  kNeighborSolicitation = 135,
  kNeighborAdvertisement = 136,
  kRedirect = 137,
};

// Codes of Destination Unreachable (RFC 4443 3.1).
struct Icmpv6UnreachableCode {
  static constexpr std::uint8_t kNoRoute = 0;
  static constexpr std::uint8_t kAdministrativelyProhibited = 1;
  static constexpr std::uint8_t kBeyondScope = 2;
  static constexpr std::uint8_t kAddress = 3;
  static constexpr std::uint8_t kPort = 4;
};

// A read-only view over one ICMPv6 message (an IPv6 upper-layer payload). Parse only requires the
// 8-byte header (kTruncatedHeader otherwise); the checksum is checked by checksum_valid().
class Icmpv6View {
 public:
  static Parsed<Icmpv6View> Parse(std::span<const std::uint8_t> message);

  Icmpv6Type type() const { return static_cast<Icmpv6Type>(message_[0]); }
  std::uint8_t code() const { return message_[1]; }
  std::uint16_t checksum() const { return LoadBe16(&message_[2]); }
  // RFC 4443 2.3: over the pseudo-header of `src` and `dst` (the packet's) and the message.
  bool checksum_valid(const Ipv6Address& src, const Ipv6Address& dst) const;

  // Bytes 4..7 of echo request and reply (RFC 4443 4.1, 4.2).
  std::uint16_t echo_identifier() const { return LoadBe16(&message_[4]); }
  std::uint16_t echo_sequence() const { return LoadBe16(&message_[6]); }

  // Everything after the 8-byte header: echo data, the invoking packet of an error message.
  std::span<const std::uint8_t> payload() const { return message_.subspan(kIcmpv6HeaderLen); }
  std::span<const std::uint8_t> bytes() const { return message_; }

 private:
  explicit Icmpv6View(std::span<const std::uint8_t> message) : message_(message) {}

  std::span<const std::uint8_t> message_;
};

// Writes an echo message of `type` (kEchoRequest or kEchoReply; any type is written as given)
// with the checksum for a packet from `src` to `dst` into `out`, and returns 8 + payload.size().
// Writes nothing and returns 0 when `out` is too small. `payload` may overlap `out`.
std::size_t WriteIcmpv6Echo(Icmpv6Type type, std::uint16_t identifier, std::uint16_t sequence,
                            std::span<const std::uint8_t> payload, const Ipv6Address& src,
                            const Ipv6Address& dst, std::span<std::uint8_t> out);

// Codes of Parameter Problem (RFC 4443 3.4).
struct Icmpv6ParameterProblemCode {
  static constexpr std::uint8_t kErroneousHeaderField = 0;
  static constexpr std::uint8_t kUnrecognizedNextHeader = 1;
  static constexpr std::uint8_t kUnrecognizedOption = 2;
};

// Writes a Destination Unreachable with `code`, the unused word zero, followed by `quoted` (see
// Icmpv6ErrorQuote), with the checksum for `src` to `dst`. Returns 8 + quoted.size(), or 0 when
// `out` is too small. `quoted` may overlap `out`.
std::size_t WriteIcmpv6DestinationUnreachable(std::uint8_t code,
                                              std::span<const std::uint8_t> quoted,
                                              const Ipv6Address& src, const Ipv6Address& dst,
                                              std::span<std::uint8_t> out);

// Writes a Parameter Problem with `code` and `pointer`, the offset in the invoking packet of the
// octet where the problem was found (RFC 4443 3.4), followed by `quoted`, with the checksum for
// `src` to `dst`. Returns 8 + quoted.size(), or 0 when `out` is too small. `quoted` may overlap
// `out`.
std::size_t WriteIcmpv6ParameterProblem(std::uint8_t code, std::uint32_t pointer,
                                        std::span<const std::uint8_t> quoted,
                                        const Ipv6Address& src, const Ipv6Address& dst,
                                        std::span<std::uint8_t> out);

// The part of a received packet an ICMPv6 error quotes: "as much of invoking packet as possible
// without the ICMPv6 packet exceeding the minimum IPv6 MTU" (RFC 4443 3.1), that is its first
// 1280 - 40 - 8 = 1232 bytes.
std::span<const std::uint8_t> Icmpv6ErrorQuote(const Ipv6View& packet);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_ICMPV6_H_
