#include "stack/ip_output.h"

#include <algorithm>

#include "stack/wire/ipv4.h"

namespace tapstack {

IpOutput::IpOutput(const InterfaceConfig& interface, ArpCache& arp, Counters& counters,
                   std::uint16_t first_identification)
    : interface_(interface), arp_(arp), counters_(counters),
      next_identification_(first_identification) {}

std::size_t IpOutput::max_payload() const { return interface_.mtu - wire::kIpv4MinHeaderLen; }

bool IpOutput::Send(wire::Ipv4Address destination, std::uint8_t protocol,
                    std::span<const std::uint8_t> payload) {
  if (payload.size() > max_payload()) {
    counters_.Increment(Counter::kDropIpv4TooBig);
    return false;
  }
  const std::optional<wire::Ipv4Address> next_hop = NextHop(interface_, destination);
  if (!next_hop) {
    counters_.Increment(Counter::kDropIpv4NoRoute);
    return false;
  }
  wire::Ipv4Repr header;
  header.src = interface_.address;
  header.dst = destination;
  header.protocol = protocol;
  header.ttl = 64;  // RFC 1700 / Linux default
  // With DF set the identification only needs to differ between packets in flight (RFC 6864);
  // a counter from a random start is enough.
  header.identification = next_identification_++;
  header.dont_fragment = true;
  header.payload_len = static_cast<std::uint16_t>(payload.size());
  packet_.resize(wire::kIpv4MinHeaderLen + payload.size());
  wire::WriteIpv4Header(header, packet_);
  std::copy(payload.begin(), payload.end(), packet_.begin() + wire::kIpv4MinHeaderLen);
  arp_.SendIpv4(*next_hop, packet_);
  return true;
}

}  // namespace tapstack
