#include "stack/ipv6_frame.h"

#include "stack/wire/ethernet.h"

namespace tapstack {

std::size_t WriteIpv6Packet(const wire::Ipv6Repr& header, PayloadWriter write_payload,
                            std::span<std::uint8_t> packet) {
  if (packet.size() != wire::kIpv6HeaderLen + header.payload_len) return 0;
  // The payload first: a writer that fails leaves nothing to finish.
  if (write_payload(packet.subspan(wire::kIpv6HeaderLen)) != header.payload_len) return 0;
  wire::WriteIpv6Header(header, packet);
  return packet.size();
}

bool SendIpv6Frame(EthernetOutput& ethernet, const wire::MacAddress& mac, wire::Ipv6Repr header,
                   std::size_t payload_length, PayloadWriter write_payload) {
  header.payload_len = static_cast<std::uint16_t>(payload_length);
  return ethernet.Send(mac, wire::EtherType::kIpv6, wire::kIpv6HeaderLen + payload_length,
                       [&](std::span<std::uint8_t> packet) {
                         return WriteIpv6Packet(header, write_payload, packet);
                       });
}

}  // namespace tapstack
