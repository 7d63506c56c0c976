// One IPv6 packet to a link-layer destination already known: the step every IPv6 sender ends
// with (a multicast group's MAC, a resolved neighbour, Neighbor Discovery's own messages, which
// must not wait for the resolution they perform).
#ifndef TAPSTACK_STACK_IPV6_FRAME_H_
#define TAPSTACK_STACK_IPV6_FRAME_H_

#include <cstddef>
#include <cstdint>

#include "stack/ethernet_output.h"
#include "stack/wire/bytes.h"
#include "stack/wire/ipv6.h"

namespace tapstack {

// Writes the 40-byte header of `header` (its payload_len is set from `payload_length`) in front
// of the payload `write_payload` writes, in place in the Ethernet frame, and sends it to `mac`.
// Returns false, sending nothing, when the writer wrote anything but `payload_length` bytes.
bool SendIpv6Frame(EthernetOutput& ethernet, const wire::MacAddress& mac, wire::Ipv6Repr header,
                   std::size_t payload_length, PayloadWriter write_payload);

// The writer of a whole IPv6 packet (header included) for `header` and `write_payload`, as a
// neighbour cache takes it: straight into a frame, or into a queue while it resolves.
std::size_t WriteIpv6Packet(const wire::Ipv6Repr& header, PayloadWriter write_payload,
                            std::span<std::uint8_t> packet);

}  // namespace tapstack

#endif  // TAPSTACK_STACK_IPV6_FRAME_H_
