// IPv6 out (RFC 8200, RFC 4861 5.2): the fixed header, the next hop, and the link-layer
// destination: a multicast group's MAC directly (RFC 2464 7), a unicast next hop through the
// neighbour cache.
//
// Next-hop determination (RFC 4861 5.2), for a host with one interface: a link-local destination,
// one on the prefix of a configured address, or one on a prefix advertised on-link is a neighbour;
// anything else goes to the configured gateway or, without one, to the default router learned
// from router advertisements. No extension headers are written and nothing is fragmented.
#ifndef TAPSTACK_STACK_IPV6_OUTPUT_H_
#define TAPSTACK_STACK_IPV6_OUTPUT_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "stack/counters.h"
#include "stack/ethernet_output.h"
#include "stack/interface.h"
#include "stack/ipv6_addresses.h"
#include "stack/neighbor_cache.h"
#include "stack/router_discovery.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/ipv6_address.h"

namespace tapstack {

class Ipv6Output {
 public:
  Ipv6Output(const InterfaceConfig& interface, const Ipv6Addresses& addresses,
             NeighborCache& neighbors, const RouterDiscovery& routers, EthernetOutput& ethernet,
             Counters& counters);

  // Sends one packet of `payload_length` bytes that `write_payload` writes, from `source` (one of
  // our preferred addresses) to `destination`, with `hop_limit` or, when none is given, the
  // interface's current one. False, counted, when there is no route or the packet exceeds the
  // MTU; false when the neighbour cache could not take it or the writer wrote less than asked.
  bool Send(const wire::Ipv6Address& source, const wire::Ipv6Address& destination,
            std::uint8_t next_header, std::size_t payload_length, PayloadWriter write_payload,
            std::optional<std::uint8_t> hop_limit = std::nullopt);

  // The neighbour a packet to `destination` goes to; nullopt when off-link without a router.
  std::optional<wire::Ipv6Address> NextHop(const wire::Ipv6Address& destination) const;
  // The largest payload one packet carries.
  std::size_t max_payload() const { return interface_.mtu - wire::kIpv6HeaderLen; }

 private:
  const InterfaceConfig& interface_;
  const Ipv6Addresses& addresses_;
  NeighborCache& neighbors_;
  const RouterDiscovery& routers_;
  EthernetOutput& ethernet_;
  Counters& counters_;
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_IPV6_OUTPUT_H_
