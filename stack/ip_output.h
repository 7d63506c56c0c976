// IPv4 out (RFC 791, RFC 1122 3.3.1): header, route to the next hop, hand to ARP.
//
// The in-place Send has the transport write its segment directly into the frame EthernetOutput
// will send, behind the 14 + 20 bytes of Ethernet and IPv4 headroom; the IPv4 header is written in
// front of it. A segment is thus copied once on its way out, by the transport's own writer.
#ifndef TAPSTACK_STACK_IP_OUTPUT_H_
#define TAPSTACK_STACK_IP_OUTPUT_H_

#include <cstdint>
#include <span>

#include "stack/arp.h"
#include "stack/counters.h"
#include "stack/interface.h"
#include "stack/wire/bytes.h"

namespace tapstack {

class IpOutput {
 public:
  IpOutput(const InterfaceConfig& interface, ArpCache& arp, Counters& counters,
           std::uint16_t first_identification);

  // Sends `payload` as one IPv4 packet from `source`, one of the interface's addresses. Returns
  // false (and counts the drop) when there is no route or the packet exceeds the MTU; we never
  // fragment (DF is set).
  bool Send(wire::Ipv4Address source, wire::Ipv4Address destination, std::uint8_t protocol,
            std::span<const std::uint8_t> payload);

  // The same with the payload written in place: `write_payload` gets the `payload_length` bytes
  // behind the IPv4 header in the outgoing frame (or in ARP's queue while the next hop resolves)
  // and returns how many it wrote. Returns false when nothing was sent or queued: no route, too
  // big, ARP could not take it, or the writer wrote less than asked. With TSO asked in `offload`
  // the packet may exceed the MTU up to the 65535 bytes of an IPv4 datagram: the device cuts it.
  bool Send(wire::Ipv4Address source, wire::Ipv4Address destination, std::uint8_t protocol,
            std::size_t payload_length, PayloadWriter write_payload, const TxOffload& offload = {});

  // The interface's first address: the source of what the stack starts by itself.
  wire::Ipv4Address primary_address() const { return interface_.address; }

  // The largest payload one packet carries.
  std::size_t max_payload() const;

 private:
  const InterfaceConfig& interface_;
  ArpCache& arp_;
  Counters& counters_;
  std::uint16_t next_identification_;
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_IP_OUTPUT_H_
