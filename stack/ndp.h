// Neighbor Discovery's messages as a host receives them (RFC 4861 6.1.2, 7.1, 7.2): validated,
// then answered (solicitations for our addresses), turned into neighbour cache updates, duplicate
// address detection verdicts (RFC 4862 5.4.3, 5.4.4) or router discovery.
#ifndef TAPSTACK_STACK_NDP_H_
#define TAPSTACK_STACK_NDP_H_

#include "stack/counters.h"
#include "stack/ipv6_addresses.h"
#include "stack/ipv6_output.h"
#include "stack/neighbor_cache.h"
#include "stack/router_discovery.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ipv6.h"

namespace tapstack {

class NeighborDiscovery {
 public:
  NeighborDiscovery(Ipv6Addresses& addresses, NeighborCache& neighbors, RouterDiscovery& routers,
                    Ipv6Output& ip, const wire::MacAddress& mac, Counters& counters);

  // A neighbor solicitation, advertisement or router advertisement with a valid checksum.
  void Ingest(const wire::Ipv6View& packet, const wire::Icmpv6View& message);

 private:
  void OnSolicitation(const wire::Ipv6View& packet, const wire::Icmpv6View& message);
  void OnNeighborAdvertisement(const wire::Ipv6View& packet, const wire::Icmpv6View& message);
  void OnRouterAdvertisement(const wire::Ipv6View& packet, const wire::Icmpv6View& message);
  void Invalid() { counters_.Increment(Counter::kDropNdpInvalid); }

  Ipv6Addresses& addresses_;
  NeighborCache& neighbors_;
  RouterDiscovery& routers_;
  Ipv6Output& ip_;
  wire::MacAddress mac_;
  Counters& counters_;
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_NDP_H_
