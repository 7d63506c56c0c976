// One record of a capture file, decoded as far as a TCP sequence diagram needs: the IPv4 addresses,
// the TCP header and the payload's length. The record is whatever the capture's link type puts
// around the IP datagram: Ethernet II (with up to two VLAN tags), Linux cooked capture v1 and v2,
// raw IP, or BSD loopback.
//
// Bytes from a file are untrusted: every length is checked before a field is read, and a record
// that is not IPv4/TCP, is a later fragment, or is malformed decodes to nothing. A capture cut
// short by its snap length still decodes when the IP and TCP headers are whole: the payload's
// length comes from the IP total length, not from what was captured. (Fuzzed by wire_fuzz.)
#ifndef TAPSTACK_TOOLS_DIAGRAM_CAPTURE_DECODE_H_
#define TAPSTACK_TOOLS_DIAGRAM_CAPTURE_DECODE_H_

#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/bytes.h"

namespace tapstack::tools::diagram {

// Link types as libpcap's pcap_datalink() reports them (the DLT_ values; a file's LINKTYPE_RAW
// is reported as kLinkRaw).
inline constexpr int kLinkNull = 0;         // BSD loopback: 4-byte family, host byte order
inline constexpr int kLinkEthernet = 1;     // DLT_EN10MB
inline constexpr int kLinkRaw = 12;         // DLT_RAW on Linux
inline constexpr int kLinkRawBsd = 14;      // DLT_RAW on OpenBSD
inline constexpr int kLinkLoop = 108;       // OpenBSD loopback: 4-byte family, network order
inline constexpr int kLinkLinuxSll = 113;   // Linux cooked capture
inline constexpr int kLinkIpv4 = 228;       // raw IPv4
inline constexpr int kLinkLinuxSll2 = 276;  // Linux cooked capture v2

// Whether DecodeTcp knows the link type at all.
bool IsSupportedLinkType(int link_type);

struct CapturedTcp {
  wire::Ipv4Address src;
  wire::Ipv4Address dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;
  std::optional<std::uint8_t> window_scale;  // a SYN's window scale option (RFC 7323 2.2)
  std::uint32_t payload_length = 0;
};

// The TCP segment in `record`, or nullopt when there is none (see above).
std::optional<CapturedTcp> DecodeTcp(int link_type, std::span<const std::uint8_t> record);

}  // namespace tapstack::tools::diagram

#endif  // TAPSTACK_TOOLS_DIAGRAM_CAPTURE_DECODE_H_
