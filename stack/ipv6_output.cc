#include "stack/ipv6_output.h"

#include "stack/ipv6_frame.h"
#include "stack/wire/ipv6.h"

namespace tapstack {

Ipv6Output::Ipv6Output(const InterfaceConfig& interface, const Ipv6Addresses& addresses,
                       NeighborCache& neighbors, const RouterDiscovery& routers,
                       EthernetOutput& ethernet, Counters& counters)
    : interface_(interface),
      addresses_(addresses),
      neighbors_(neighbors),
      routers_(routers),
      ethernet_(ethernet),
      counters_(counters) {}

std::optional<wire::Ipv6Address> Ipv6Output::NextHop(const wire::Ipv6Address& destination) const {
  if (destination.IsLinkLocalUnicast() || addresses_.OnConfiguredPrefix(destination) ||
      routers_.OnLink(destination)) {
    return destination;
  }
  if (interface_.ipv6.gateway) return interface_.ipv6.gateway;
  return routers_.default_router();
}

bool Ipv6Output::Send(const wire::Ipv6Address& source, const wire::Ipv6Address& destination,
                      std::uint8_t next_header, std::size_t payload_length,
                      PayloadWriter write_payload, std::optional<std::uint8_t> hop_limit) {
  if (payload_length > max_payload()) {
    counters_.Increment(Counter::kDropIpv6TooBig);
    return false;
  }
  wire::Ipv6Repr header;
  header.src = source;
  header.dst = destination;
  header.next_header = next_header;
  header.hop_limit = hop_limit.value_or(routers_.hop_limit());
  header.payload_len = static_cast<std::uint16_t>(payload_length);
  if (destination.IsMulticast()) {
    return SendIpv6Frame(ethernet_, wire::Ipv6MulticastMac(destination), header, payload_length,
                         write_payload);
  }
  const std::optional<wire::Ipv6Address> next_hop = NextHop(destination);
  if (!next_hop) {
    counters_.Increment(Counter::kDropIpv6NoRoute);
    return false;
  }
  return neighbors_.SendIpv6(*next_hop, wire::kIpv6HeaderLen + payload_length,
                             [&](std::span<std::uint8_t> packet) {
                               return WriteIpv6Packet(header, write_payload, packet);
                             });
}

}  // namespace tapstack
