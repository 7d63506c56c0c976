// Router advertisements (RFC 4861 4.2) and the options a host reads from them: the source
// link-layer address (4.6.1), prefix information (4.6.2) and the MTU (4.6.4).
//
//   0 type 134  1 code  2 checksum  4 cur hop limit  5 M O flags  6 router lifetime (s)
//   8 reachable time (ms)  12 retrans timer (ms)  16 options...
//   prefix information: 0 type 3  1 length 4  2 prefix length  3 L A flags  4 valid lifetime (s)
//   8 preferred lifetime (s)  12 reserved  16 prefix (16 bytes)
//
// Like the neighbor views, this reads the body of an ICMPv6 message whose type the caller knows
// and whose checksum it checked; the rest of RFC 4861 6.1.2's validation (link-local source, hop
// limit 255, code 0) needs the IPv6 header and is the caller's.
#ifndef TAPSTACK_STACK_WIRE_ROUTER_ADVERTISEMENT_H_
#define TAPSTACK_STACK_WIRE_ROUTER_ADVERTISEMENT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "stack/wire/bytes.h"
#include "stack/wire/ipv6_address.h"
#include "stack/wire/parse_result.h"

namespace tapstack::wire {

// Type to retrans timer: the fixed part before the options.
inline constexpr std::size_t kRouterAdvertisementLen = 16;
inline constexpr std::size_t kNdPrefixInformationLen = 32;
inline constexpr std::size_t kNdMtuOptionLen = 8;

struct NdPrefixInformation {
  Ipv6Address prefix;
  std::uint8_t prefix_len = 0;
  bool on_link = false;                // L: the prefix is on this link (RFC 4861 4.6.2)
  bool autonomous = false;             // A: usable for address autoconfiguration (RFC 4862 5.5.3)
  std::uint32_t valid_lifetime_s = 0;  // 0xffffffff is infinity
  std::uint32_t preferred_lifetime_s = 0;  // 0xffffffff is infinity

  friend bool operator==(const NdPrefixInformation&, const NdPrefixInformation&) = default;
};

struct RouterAdvertisementRepr {
  std::uint8_t cur_hop_limit = 0;       // 0: unspecified by this router
  bool managed = false;                 // M: addresses from DHCPv6
  bool other_config = false;            // O: other configuration from DHCPv6
  std::uint16_t router_lifetime_s = 0;  // 0: not a default router
  std::uint32_t reachable_time_ms = 0;  // 0: unspecified
  std::uint32_t retrans_timer_ms = 0;   // 0: unspecified
  std::optional<MacAddress> source_link_layer_address;
  std::optional<std::uint32_t> mtu;
  std::vector<NdPrefixInformation> prefixes;

  friend bool operator==(const RouterAdvertisementRepr&, const RouterAdvertisementRepr&) = default;
};

// A router advertisement (the whole ICMPv6 message). Parse: kTruncatedHeader under 16 bytes;
// kNdOptionZeroLength, kNdOptionPastEnd as ParseNdOptions; kNdOptionWrongLength for a
// link-layer address option that is not 8 bytes, a prefix information option that is not 32 or
// an MTU option that is not 8. Other options are skipped (RFC 4861 4.6). The first link-layer
// address and MTU options count; every prefix information option is kept.
class RouterAdvertisementView {
 public:
  static Parsed<RouterAdvertisementView> Parse(std::span<const std::uint8_t> message);

  const RouterAdvertisementRepr& Repr() const { return repr_; }
  std::span<const std::uint8_t> bytes() const { return message_; }

 private:
  RouterAdvertisementView(std::span<const std::uint8_t> message, RouterAdvertisementRepr repr)
      : message_(message), repr_(std::move(repr)) {}

  std::span<const std::uint8_t> message_;
  RouterAdvertisementRepr repr_;
};

// 16, plus 8 with a link-layer address, 8 with an MTU and 32 per prefix.
std::size_t RouterAdvertisementLen(const RouterAdvertisementRepr& repr);

// Writes the whole ICMPv6 message, code 0, with the checksum for a packet from `src` to `dst`
// (options in the order source link-layer address, MTU, prefixes) and returns its length; 0,
// writing nothing, when `out` is too small. The stack is a host and sends none: tests play the
// router with it.
std::size_t WriteRouterAdvertisement(const RouterAdvertisementRepr& repr, const Ipv6Address& src,
                                     const Ipv6Address& dst, std::span<std::uint8_t> out);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_ROUTER_ADVERTISEMENT_H_
