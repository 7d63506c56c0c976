// IPv4 out (RFC 791, RFC 1122 3.3.1): header, route to the next hop, hand to ARP.
#ifndef TAPSTACK_STACK_IP_OUTPUT_H_
#define TAPSTACK_STACK_IP_OUTPUT_H_

#include <cstdint>
#include <span>
#include <vector>

#include "stack/arp.h"
#include "stack/counters.h"
#include "stack/interface.h"
#include "stack/wire/bytes.h"

namespace tapstack {

class IpOutput {
 public:
  IpOutput(const InterfaceConfig& interface, ArpCache& arp, Counters& counters,
           std::uint16_t first_identification);

  // Sends `payload` as one IPv4 packet from our address. Returns false (and counts the drop) when
  // there is no route or the packet exceeds the MTU; we never fragment (DF is set).
  bool Send(wire::Ipv4Address destination, std::uint8_t protocol,
            std::span<const std::uint8_t> payload);

  // The largest payload one packet carries.
  std::size_t max_payload() const;

 private:
  const InterfaceConfig& interface_;
  ArpCache& arp_;
  Counters& counters_;
  std::uint16_t next_identification_;
  std::vector<std::uint8_t> packet_;  // reused for every packet
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_IP_OUTPUT_H_
