#include "stack/ip_output.h"

#include <algorithm>

#include "stack/wire/ipv4.h"

namespace tapstack {

IpOutput::IpOutput(const InterfaceConfig& interface, ArpCache& arp, Counters& counters,
                   std::uint16_t first_identification)
    : interface_(interface),
      arp_(arp),
      counters_(counters),
      next_identification_(first_identification) {}

std::size_t IpOutput::max_payload() const { return interface_.mtu - wire::kIpv4MinHeaderLen; }

bool IpOutput::Send(wire::Ipv4Address source, wire::Ipv4Address destination, std::uint8_t protocol,
                    std::span<const std::uint8_t> payload) {
  return Send(source, destination, protocol, payload.size(),
              [payload](std::span<std::uint8_t> out) {
                std::copy(payload.begin(), payload.end(), out.begin());
                return payload.size();
              });
}

bool IpOutput::Send(wire::Ipv4Address source, wire::Ipv4Address destination, std::uint8_t protocol,
                    std::size_t payload_length, PayloadWriter write_payload,
                    const TxOffload& offload) {
  const std::size_t limit = offload.tcp_segment_size != 0
                                ? wire::kIpv4MaxPacketLen - wire::kIpv4MinHeaderLen
                                : max_payload();
  if (payload_length > limit) {
    counters_.Increment(Counter::kDropIpv4TooBig);
    return false;
  }
  const std::optional<wire::Ipv4Address> next_hop = NextHop(interface_, destination);
  if (!next_hop) {
    counters_.Increment(Counter::kDropIpv4NoRoute);
    return false;
  }
  wire::Ipv4Repr header;
  header.src = source;
  header.dst = destination;
  header.protocol = protocol;
  header.ttl = 64;  // RFC 1700 / Linux default
  // With DF set the identification only needs to differ between packets in flight (RFC 6864);
  // a counter from a random start is enough. The device gives each segment it cuts from a
  // super-segment the next identification (as Linux's TSO does), so skip at least as many.
  header.identification = next_identification_;
  next_identification_ += static_cast<std::uint16_t>(
      offload.tcp_segment_size == 0
          ? 1
          : (payload_length + offload.tcp_segment_size - 1) / offload.tcp_segment_size);
  header.dont_fragment = true;
  header.payload_len = static_cast<std::uint16_t>(payload_length);
  const std::size_t packet_length = wire::kIpv4MinHeaderLen + payload_length;
  return arp_.SendIpv4(
      *next_hop, packet_length,
      [&](std::span<std::uint8_t> packet) {
        // The payload first: the header's checksum does not depend on it, and a writer that fails
        // leaves nothing to finish.
        const std::size_t written =
            write_payload(packet.subspan(wire::kIpv4MinHeaderLen, payload_length));
        if (written != payload_length) return std::size_t{0};
        wire::WriteIpv4Header(header, packet);
        return packet.size();
      },
      offload);
}

}  // namespace tapstack
