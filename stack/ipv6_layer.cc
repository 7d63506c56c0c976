#include "stack/ipv6_layer.h"

#include "stack/wire/ip_protocol.h"
#include "stack/wire/ipv6.h"

namespace tapstack {

namespace {

// The parse errors of a broken extension header chain, counted apart from a broken fixed header.
bool IsExtensionChainError(wire::ParseError error) {
  return error == wire::ParseError::kExtensionHeaderTruncated ||
         error == wire::ParseError::kExtensionHeaderPastPayload ||
         error == wire::ParseError::kHopByHopNotFirst;
}

}  // namespace

Ipv6Layer::Ipv6Layer(const NdpConfig& ndp, const Icmpv6Config& icmpv6,
                     const InterfaceConfig& interface, EthernetOutput& ethernet,
                     timers::TimerQueue& timers, Counters& counters, tcp::TcpEngine& tcp,
                     std::uint64_t seed)
    : counters_(counters),
      addresses_(ndp, interface, ethernet, timers, counters, seed),
      neighbors_(ndp, addresses_, ethernet, timers, counters, seed),
      routers_(timers),
      output_(interface, addresses_, neighbors_, routers_, ethernet, counters),
      ndp_(addresses_, neighbors_, routers_, output_, *interface.mac, counters),
      icmpv6_(icmpv6, addresses_, output_, ndp_, timers, counters),
      tcp_(tcp) {
  tcp_.set_ipv6_output(&output_);
}

Ipv6Layer::~Ipv6Layer() { tcp_.set_ipv6_output(nullptr); }

void Ipv6Layer::Ingest(std::span<const std::uint8_t> bytes, RxChecksum checksum) {
  const wire::Parsed<wire::Ipv6View> packet = wire::Ipv6View::Parse(bytes);
  if (!packet.ok()) {
    counters_.Increment(IsExtensionChainError(packet.error()) ? Counter::kDropIpv6ExtensionChain
                                                              : Counter::kDropIpv6Malformed);
    return;
  }
  // RFC 4291 2.7: a group is never a source; 2.5.3: the loopback address never crosses a link.
  if (packet->src().IsMulticast() || packet->src().IsLoopback()) {
    counters_.Increment(Counter::kDropIpv6Malformed);
    return;
  }
  // A host that does not forward takes only what is addressed to it (RFC 8200 has no forwarding
  // for hosts; RFC 4862 5.4: nothing but Neighbor Discovery reaches a tentative address, whose
  // probes go to solicited-node groups). The hop limit is not checked: it bounds forwarding only
  // (RFC 8200 3), and Neighbor Discovery checks its own 255.
  if (!addresses_.AcceptsDestination(packet->dst())) {
    counters_.Increment(Counter::kDropIpv6NotForUs);
    return;
  }
  // Reassembly is not implemented: every fragment is dropped and counted, as over IPv4.
  if (packet->is_fragment()) {
    counters_.Increment(Counter::kDropIpv6Fragment);
    return;
  }
  counters_.Increment(Counter::kRxIpv6);
  switch (packet->upper_layer_protocol()) {
    case wire::IpProtocol::kIcmpv6:
      icmpv6_.Ingest(*packet);
      return;
    case wire::IpProtocol::kTcp:
      // RFC 9293 3.10.7.2: a SYN to a group is not for a connection. The groups we accept are the
      // all-nodes and solicited-node ones, which nothing but Neighbor Discovery has a use for.
      if (packet->dst().IsMulticast()) {
        counters_.Increment(Counter::kDropIpv6NotForUs);
        return;
      }
      tcp_.Ingest(packet->src(), packet->dst(), packet->upper_layer_payload(), checksum);
      return;
    case wire::IpProtocol::kIpv6NoNextHeader:
      // RFC 8200 4.7: nothing follows; the packet is done with, no error.
      counters_.Increment(Counter::kDropIpv6UnsupportedProtocol);
      return;
    default:
      counters_.Increment(Counter::kDropIpv6UnsupportedProtocol);
      icmpv6_.SendUnrecognizedNextHeader(*packet);
      return;
  }
}

}  // namespace tapstack
