// IPv6 on the interface (RFC 8200, RFC 4861, RFC 4862, RFC 4443): the parts that make it up,
// wired together, and the input path that takes an IPv6 packet from Ethernet to ICMPv6.
//
// The Stack has one when InterfaceConfig::ipv6 is enabled and none otherwise, so an IPv4-only
// stack sends nothing of IPv6's and keeps nothing of it. TCP segments go to the stack's one TCP
// engine, which sends over IPv6 through this layer's output; any other upper layer the stack
// lacks is answered with a Parameter Problem (RFC 8200 4).
#ifndef TAPSTACK_STACK_IPV6_LAYER_H_
#define TAPSTACK_STACK_IPV6_LAYER_H_

#include <cstdint>
#include <span>

#include "stack/counters.h"
#include "stack/ethernet_output.h"
#include "stack/icmpv6.h"
#include "stack/interface.h"
#include "stack/ipv6_addresses.h"
#include "stack/ipv6_output.h"
#include "stack/ndp.h"
#include "stack/ndp_config.h"
#include "stack/neighbor_cache.h"
#include "stack/router_discovery.h"
#include "stack/rx_checksum.h"
#include "stack/tcp/engine.h"
#include "timers/timer_queue.h"

namespace tapstack {

class Ipv6Layer {
 public:
  // `interface` has its MAC resolved and outlives the layer, as does `tcp`, to which the layer
  // gives its output (TcpEngine::set_ipv6_output) for as long as it lives.
  Ipv6Layer(const NdpConfig& ndp, const Icmpv6Config& icmpv6, const InterfaceConfig& interface,
            EthernetOutput& ethernet, timers::TimerQueue& timers, Counters& counters,
            tcp::TcpEngine& tcp, std::uint64_t seed);
  ~Ipv6Layer();
  Ipv6Layer(const Ipv6Layer&) = delete;
  Ipv6Layer& operator=(const Ipv6Layer&) = delete;

  // One IPv6 packet, the payload of an Ethernet frame with EtherType 0x86dd. `checksum` is what
  // the device knows of a TCP checksum in it (stack/rx_checksum.h).
  void Ingest(std::span<const std::uint8_t> packet, RxChecksum checksum = RxChecksum::kUnverified);

  const Ipv6Addresses& addresses() const { return addresses_; }
  const NeighborCache& neighbors() const { return neighbors_; }
  const RouterDiscovery& routers() const { return routers_; }
  Ipv6Output& output() { return output_; }
  Icmpv6& icmpv6() { return icmpv6_; }

 private:
  Counters& counters_;
  Ipv6Addresses addresses_;
  NeighborCache neighbors_;
  RouterDiscovery routers_;
  Ipv6Output output_;
  NeighborDiscovery ndp_;
  Icmpv6 icmpv6_;
  tcp::TcpEngine& tcp_;
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_IPV6_LAYER_H_
