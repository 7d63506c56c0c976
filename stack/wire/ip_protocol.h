// Protocol numbers (IANA "Assigned Internet Protocol Numbers"): IPv4's protocol field and IPv6's
// next header field draw from the same registry (RFC 8200 3), extension headers included.
#ifndef TAPSTACK_STACK_WIRE_IP_PROTOCOL_H_
#define TAPSTACK_STACK_WIRE_IP_PROTOCOL_H_

#include <cstdint>

namespace tapstack::wire {

// Plain integers like the fields that carry them.
struct IpProtocol {
  static constexpr std::uint8_t kIpv6HopByHop = 0;  // RFC 8200 4.3
  static constexpr std::uint8_t kIcmp = 1;
  static constexpr std::uint8_t kTcp = 6;
  static constexpr std::uint8_t kUdp = 17;
  static constexpr std::uint8_t kIpv6Routing = 43;             // RFC 8200 4.4
  static constexpr std::uint8_t kIpv6Fragment = 44;            // RFC 8200 4.5
  static constexpr std::uint8_t kIcmpv6 = 58;                  // RFC 4443
  static constexpr std::uint8_t kIpv6NoNextHeader = 59;        // RFC 8200 4.7
  static constexpr std::uint8_t kIpv6DestinationOptions = 60;  // RFC 8200 4.6
};

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_IP_PROTOCOL_H_
