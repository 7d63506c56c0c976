// Reads the TCP conversation of a scenario out of its recording: one connection's segments in the
// order they happened, with sequence numbers made relative to each side's initial sequence number,
// keepalive probes and their answers recognised, and, behind a NAT, whether each segment made it
// across.
//
// The rules are those of the wire, not of our stack's internals, so they hold for probes from
// either side (tshark's tcp.analysis.keep_alive uses the same ones):
//   - a keepalive probe is a segment with no SYN, FIN or RST, 0 or 1 byte of data, and
//     SEQ = SND.NXT - 1 while everything its sender sent is acknowledged: it repeats a byte the
//     receiver already has, which obliges the receiver to answer (RFC 9293 3.10.7.4);
//   - its answer is the next segment from the other side if that is a bare ACK, or a RST;
//   - probes are numbered 1, 2, ... since the other side was last heard from, as the prober
//     counts them against its limit.
#ifndef TAPSTACK_TOOLS_DEMO_SEGMENTS_H_
#define TAPSTACK_TOOLS_DEMO_SEGMENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stack/wire/bytes.h"
#include "timers/timer_wheel.h"
#include "tools/demo/recording.h"

namespace tapstack::tools::demo {

enum class SegmentKind {
  kOther,
  kKeepaliveProbe,
  kKeepaliveAnswer,
  kRetransmission,
};

struct Segment {
  timers::Duration at;  // when it was first seen
  std::uint64_t order;
  bool from_stack = false;  // ours, or the peer's (the server's, behind a NAT)
  std::uint8_t flags = 0;   // wire::TcpFlags bits
  std::uint32_t seq = 0;    // as on the wire
  std::uint32_t ack = 0;
  std::uint32_t relative_seq = 0;  // seq - the sender's ISN
  std::uint32_t relative_ack = 0;  // ack - the receiver's ISN
  std::uint32_t payload_length = 0;
  std::uint16_t window = 0;
  // Whether it reached the other end, as far as the captures show. Ours sent while the peer was
  // unplugged did not; behind a NAT, a segment that never appeared on the far side of the NAT
  // did not (it was dropped there).
  bool delivered = true;
  SegmentKind kind = SegmentKind::kOther;
  // Probes: 1, 2, ... since the prober last heard from the other side. Answers: the probe's.
  int probe_number = 0;

  bool has(std::uint8_t flag) const { return (flags & flag) != 0; }
};

struct Conversation {
  bool found = false;  // false when the recording holds no TCP segment at all
  wire::Ipv4Address stack_address;
  std::uint16_t stack_port = 0;
  wire::Ipv4Address peer_address;  // as our stack addresses it (the server, or through the NAT)
  std::uint16_t peer_port = 0;
  std::vector<Segment> segments;
};

// The first connection our stack opened (the first SYN it sent; the first TCP segment if there is
// none). With `behind_nat`, the server's link in the recording is matched against ours.
Conversation ReadConversation(const Recording& recording, bool behind_nat);

// "SYN", "SYN,ACK", "PSH,ACK", "FIN,ACK", "RST"...: the flags in bit order, as Wireshark lists
// them.
std::string FlagNames(std::uint8_t flags);

}  // namespace tapstack::tools::demo

#endif  // TAPSTACK_TOOLS_DEMO_SEGMENTS_H_
