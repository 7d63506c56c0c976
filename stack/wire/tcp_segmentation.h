// Transmit offloads done in software: what a device that offers TSO and checksum offload does to
// an outgoing frame (stack/tx_offload.h), for devices that do not have it in hardware or kernel.
//
// A super-segment is cut the way Linux's GSO cuts one (net/ipv4/tcp_offload.c, tcp_gso_segment):
// every segment gets a copy of the Ethernet, IPv4 and TCP headers (options included) with its own
// sequence number, IPv4 total length, identification (one more per segment) and checksums; FIN
// and PSH stay on the last segment only, CWR on the first. A frame whose TCP checksum is only
// partial gets it completed.
//
// The frame is untrusted input here as much as anywhere: every length is checked before it is
// read, and a frame that is not what the offload needs is refused with a reason, nothing emitted.
#ifndef TAPSTACK_STACK_WIRE_TCP_SEGMENTATION_H_
#define TAPSTACK_STACK_WIRE_TCP_SEGMENTATION_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "stack/tx_offload.h"

namespace tapstack::wire {

// Where the headers of a TCP frame lie: Ethernet, IPv4 (options allowed) or IPv6 (no extension
// headers), then TCP.
struct TcpFrameLayout {
  bool ipv6 = false;
  std::size_t ip_header_len = 0;   // from byte 14
  std::size_t tcp_offset = 0;      // 14 + ip_header_len: where the checksummed bytes begin
  std::size_t tcp_header_len = 0;  // data offset * 4, options included
  std::size_t payload_len = 0;     // TCP payload bytes (the IP length says; padding excluded)
  std::size_t headers_len() const { return tcp_offset + tcp_header_len; }
};

enum class TcpFrameError : std::uint8_t {
  kNotTcp,           // not IPv4 or IPv6 carrying TCP, or an IPv4 fragment
  kTruncated,        // a header or the IP length runs past the frame
  kBadHeaderLength,  // an IPv4 IHL or a TCP data offset below the minimum
  kTsoOverIpv6,      // TSO asked for an IPv6 frame (only TCPv4 segmentation is offered)
};

std::string_view TcpFrameErrorName(TcpFrameError error);

// The layout of `frame`, every length checked against the frame and against each other.
std::variant<TcpFrameLayout, TcpFrameError> LocateTcp(std::span<const std::uint8_t> frame);

// Does in software what `offload` asks of the device: cuts a super-segment at
// offload.tcp_segment_size and completes partial checksums; `emit` gets each frame that results
// (valid during the call only; built in `scratch`, which keeps its capacity between calls). A
// frame without offloads is emitted as it is. Returns the reason when the frame cannot take the
// offload; nothing is emitted then.
std::optional<TcpFrameError> FinishTxOffload(
    std::span<const std::uint8_t> frame, const TxOffload& offload,
    std::vector<std::uint8_t>& scratch,
    absl::FunctionRef<void(std::span<const std::uint8_t> frame)> emit);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_TCP_SEGMENTATION_H_
