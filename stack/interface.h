// The one network interface a Stack owns: its addresses, its route and its MTU.
#ifndef TAPSTACK_STACK_INTERFACE_H_
#define TAPSTACK_STACK_INTERFACE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "stack/result.h"
#include "stack/wire/bytes.h"
#include "stack/wire/ipv6_address.h"

namespace tapstack {

// An IPv6 address of the interface with the length of its on-link prefix (RFC 4861 2.1).
struct Ipv6Prefix {
  wire::Ipv6Address address;
  int prefix_len = 64;

  friend bool operator==(const Ipv6Prefix&, const Ipv6Prefix&) = default;
};

// IPv6 beside IPv4 on the same interface. Off unless enabled: an IPv6 node announces itself
// (duplicate address detection sends solicitations), which a stack used for IPv4 alone must not.
struct Ipv6InterfaceConfig {
  bool enabled = false;
  // Global addresses besides the link-local one, which is always there, derived from the MAC
  // (modified EUI-64, RFC 4291 appendix A, RFC 4862 5.3).
  std::vector<Ipv6Prefix> addresses;
  // Next hop for off-link destinations, link-local or on-link; a router learned from router
  // advertisements (RFC 4861 6.3.4) is used when none is configured.
  std::optional<wire::Ipv6Address> gateway;
};

struct InterfaceConfig {
  // Unset: a random locally administered unicast address (IEEE 802 bit 1 of the first octet set,
  // bit 0 clear), drawn from StackConfig::random_seed.
  std::optional<wire::MacAddress> mac;
  wire::Ipv4Address address;
  int prefix_len = 24;
  // Further addresses of the interface, besides `address` (the source of what the stack itself
  // starts: ARP requests, pings, connections opened without a source). ARP answers for each,
  // packets to each are accepted, a connection to one answers from it, and one opened from one
  // (Stack::ConnectFrom) uses it, so that a client holds more than the 64 Ki ports one address
  // gives towards one server port. On-link is judged by `address`/prefix_len alone. The Stack
  // keeps them sorted, without duplicates or `address` itself.
  std::vector<wire::Ipv4Address> extra_addresses;
  // Next hop for destinations outside address/prefix_len; without one they are unreachable.
  std::optional<wire::Ipv4Address> gateway;
  // IP MTU: the largest IPv4 or IPv6 packet (header included) the link carries.
  std::size_t mtu = 1500;
  Ipv6InterfaceConfig ipv6;
};

// A random locally administered unicast MAC address.
wire::MacAddress RandomLocalMac(std::uint64_t seed);

// Where a packet for `destination` goes next: the destination itself when on-link, the gateway
// otherwise; nullopt when off-link without a gateway. Inline, once per packet sent: returned from
// a call, the 8-byte optional went through the stack as two stores and one wider load, which the
// CPU cannot forward (a stall of its own, about 1.5 % of a bulk transfer).
inline std::optional<wire::Ipv4Address> NextHop(const InterfaceConfig& config,
                                                wire::Ipv4Address destination) {
  if (destination.InSameSubnet(config.address, config.prefix_len)) return destination;
  return config.gateway;
}

// True when `candidate` is one of the interface's addresses. Inline, once per received packet:
// the primary address answers at once, the extra ones (sorted) by binary search.
inline bool HasAddress(const InterfaceConfig& config, wire::Ipv4Address candidate) {
  return candidate == config.address ||
         (!config.extra_addresses.empty() &&
          std::binary_search(config.extra_addresses.begin(), config.extra_addresses.end(),
                             candidate));
}

// Parses "192.0.2.2/24" (or "192.0.2.2", prefix 32) into address and prefix length. EINVAL for a
// bad address or a prefix length outside 0 to 32, as inet_pton and friends answer.
Result<std::pair<wire::Ipv4Address, int>> ParseAddressWithPrefix(std::string_view text);

// Parses "2001:db8::2/64" (or "2001:db8::2", prefix 128). EINVAL for a bad address or a prefix
// length outside 0 to 128.
Result<Ipv6Prefix> ParseIpv6AddressWithPrefix(std::string_view text);

}  // namespace tapstack

#endif  // TAPSTACK_STACK_INTERFACE_H_
