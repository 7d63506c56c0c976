// Neighbor Discovery for IPv6 (RFC 4861): neighbor solicitation and advertisement, the ICMPv6
// messages that do for IPv6 what ARP does for IPv4, and their link-layer address options.
//
//   solicitation (4.3):  0 type 135  1 code  2 checksum  4 reserved            8 target  24 options
//   advertisement (4.4): 0 type 136  1 code  2 checksum  4 R S O, reserved     8 target  24 options
//   option (4.6):        0 type  1 length in units of 8 bytes  2 ...
//   link-layer address option for Ethernet (4.6.1, RFC 2464 6): type 1 (source) or 2 (target),
//   length 1, the MAC
//
// The views read the message body of an ICMPv6 message whose type the caller already knows and
// whose checksum it checked (Icmpv6View). The rest of RFC 4861 7.1's validation (hop limit 255,
// code 0, target not multicast, no source link-layer option from the unspecified address) needs
// the IPv6 header and is the caller's.
#ifndef TAPSTACK_STACK_WIRE_NEIGHBOR_DISCOVERY_H_
#define TAPSTACK_STACK_WIRE_NEIGHBOR_DISCOVERY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/bytes.h"
#include "stack/wire/ipv6_address.h"
#include "stack/wire/parse_result.h"

namespace tapstack::wire {

// Type, code, checksum, the reserved or flags word and the target address.
inline constexpr std::size_t kNeighborMessageLen = 24;
// A link-layer address option carrying a MAC: type, length 1, six bytes.
inline constexpr std::size_t kNdLinkLayerOptionLen = 8;

// Option types (RFC 4861 4.6). Others are skipped (RFC 4861 4.6: "silently ignore").
struct NdOptionType {
  static constexpr std::uint8_t kSourceLinkLayerAddress = 1;
  static constexpr std::uint8_t kTargetLinkLayerAddress = 2;
};

// The options the neighbor messages carry; the first of each kind counts, as in Linux.
struct NdLinkLayerOptions {
  std::optional<MacAddress> source_link_layer_address;
  std::optional<MacAddress> target_link_layer_address;

  friend bool operator==(const NdLinkLayerOptions&, const NdLinkLayerOptions&) = default;
};

// Walks the options of a Neighbor Discovery message, every length checked before the option is
// read. Errors: kNdOptionZeroLength (RFC 4861 4.6: "Nodes MUST silently discard an ND packet
// that contains an option with length zero"), kNdOptionPastEnd (an option, or its two leading
// bytes, past the end), kNdOptionWrongLength (a link-layer address option that is not the 8 bytes
// a MAC takes, which Ethernet cannot use).
Parsed<NdLinkLayerOptions> ParseNdOptions(std::span<const std::uint8_t> options);

struct NeighborSolicitationRepr {
  Ipv6Address target;
  // Absent when the solicitation comes from the unspecified address (duplicate address
  // detection, RFC 4861 4.3).
  std::optional<MacAddress> source_link_layer_address;

  friend bool operator==(const NeighborSolicitationRepr&,
                         const NeighborSolicitationRepr&) = default;
};

struct NeighborAdvertisementRepr {
  bool router = false;         // R: the sender is a router
  bool solicited = false;      // S: an answer to a solicitation
  bool override_flag = false;  // O: replace a cached link-layer address
  Ipv6Address target;
  std::optional<MacAddress> target_link_layer_address;

  friend bool operator==(const NeighborAdvertisementRepr&,
                         const NeighborAdvertisementRepr&) = default;
};

// A neighbor solicitation (the whole ICMPv6 message). Parse: kTruncatedHeader under 24 bytes, or
// ParseNdOptions' error.
class NeighborSolicitationView {
 public:
  static Parsed<NeighborSolicitationView> Parse(std::span<const std::uint8_t> message);

  Ipv6Address target() const { return Ipv6Address::FromBytes(&message_[8]); }
  const NdLinkLayerOptions& options() const { return options_; }
  std::span<const std::uint8_t> bytes() const { return message_; }
  NeighborSolicitationRepr Repr() const { return {target(), options_.source_link_layer_address}; }

 private:
  NeighborSolicitationView(std::span<const std::uint8_t> message, NdLinkLayerOptions options)
      : message_(message), options_(options) {}

  std::span<const std::uint8_t> message_;
  NdLinkLayerOptions options_;
};

// A neighbor advertisement (the whole ICMPv6 message). Parse: as NeighborSolicitationView.
class NeighborAdvertisementView {
 public:
  static Parsed<NeighborAdvertisementView> Parse(std::span<const std::uint8_t> message);

  bool router() const { return (message_[4] & 0x80) != 0; }
  bool solicited() const { return (message_[4] & 0x40) != 0; }
  bool override_flag() const { return (message_[4] & 0x20) != 0; }
  Ipv6Address target() const { return Ipv6Address::FromBytes(&message_[8]); }
  const NdLinkLayerOptions& options() const { return options_; }
  std::span<const std::uint8_t> bytes() const { return message_; }
  NeighborAdvertisementRepr Repr() const {
    return {router(), solicited(), override_flag(), target(), options_.target_link_layer_address};
  }

 private:
  NeighborAdvertisementView(std::span<const std::uint8_t> message, NdLinkLayerOptions options)
      : message_(message), options_(options) {}

  std::span<const std::uint8_t> message_;
  NdLinkLayerOptions options_;
};

// The message length the writers below produce: 24, plus 8 with a link-layer address option.
std::size_t NeighborSolicitationLen(const NeighborSolicitationRepr& repr);
std::size_t NeighborAdvertisementLen(const NeighborAdvertisementRepr& repr);

// Write the whole ICMPv6 message, code 0, with the checksum for a packet from `src` to `dst`, and
// return its length; 0, writing nothing, when `out` is too small. The packet itself must go out
// with hop limit 255 (RFC 4861 7.1.1, 7.1.2), which is how a receiver knows it was not routed.
std::size_t WriteNeighborSolicitation(const NeighborSolicitationRepr& repr, const Ipv6Address& src,
                                      const Ipv6Address& dst, std::span<std::uint8_t> out);
std::size_t WriteNeighborAdvertisement(const NeighborAdvertisementRepr& repr,
                                       const Ipv6Address& src, const Ipv6Address& dst,
                                       std::span<std::uint8_t> out);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_NEIGHBOR_DISCOVERY_H_
