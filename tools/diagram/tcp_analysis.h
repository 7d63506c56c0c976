// The segments of one TCP conversation as a sequence diagram draws them, and the analysis that
// names what each one is: keepalive probes and their answers, retransmissions, zero-window probes,
// window updates and duplicate ACKs.
//
// The rules are Wireshark's TCP sequence analysis (the tcp.analysis.* flags), so that a diagram
// and Wireshark agree on the same capture, with one deliberate difference: a keepalive probe
// must also find everything its sender sent acknowledged. A probe repeats a byte the receiver
// already has, which obliges it to answer (RFC 9293 3.8.4, RFC 1122 4.2.3.6); a one-byte
// retransmission of unacknowledged data also sits at SND.NXT - 1, and Wireshark would call it a
// keep-alive. Per direction, in capture order (RFC 9293 3.4 for the wrap-around comparisons):
//   - zero-window probe: 1 byte at the next expected sequence number while the other side's last
//     window was 0;
//   - zero window: a window of 0 on a segment without SYN, FIN or RST;
//   - keepalive probe: 0 or 1 byte, no SYN, FIN or RST, SEQ = next expected - 1, everything sent
//     acknowledged; numbered 1, 2, ... since the other side was last heard from;
//   - window update: no data, a new non-zero window, SEQ and ACK unchanged;
//   - keepalive answer: no data, SEQ and ACK unchanged, right after the other side's probe
//     (Wireshark's keep_alive_ack when the window is the same; with a new window Wireshark
//     sees only a window update, and both are marked here); a RST right after a probe answers
//     it too (a rebooted peer), which Wireshark does not mark;
//   - duplicate ACK: no data, the same non-zero window, SEQ and ACK unchanged;
//   - retransmission: data, SYN or FIN that starts below the highest sequence number sent so far,
//     not a keepalive probe (Wireshark's retransmission, fast retransmission and spurious
//     retransmission alike, and its out-of-order, a guess that a repeat within about one round
//     trip was reordered rather than resent).
// Windows are compared scaled (RFC 7323 2.2) once both SYNs carried the window scale option.
#ifndef TAPSTACK_TOOLS_DIAGRAM_TCP_ANALYSIS_H_
#define TAPSTACK_TOOLS_DIAGRAM_TCP_ANALYSIS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "timers/timer_wheel.h"

namespace tapstack::tools::diagram {

// What the analysis found a segment to be; several can hold at once (a zero window and a
// duplicate ACK never do, a retransmitted FIN is both kRetransmission and a FIN).
enum Mark : std::uint16_t {
  kKeepaliveProbe = 1 << 0,
  kKeepaliveAnswer = 1 << 1,
  kRetransmission = 1 << 2,
  kZeroWindowProbe = 1 << 3,
  kZeroWindow = 1 << 4,
  kWindowUpdate = 1 << 5,
  kDuplicateAck = 1 << 6,
};

struct Segment {
  timers::Duration at{};  // since the diagram's time zero
  std::uint64_t order = 0;
  // Sent by the party of the left column: our stack in the demo, the side that opened the
  // connection (or was seen first) in a capture.
  bool from_left = false;
  std::uint8_t flags = 0;  // wire::TcpFlags bits
  std::uint32_t seq = 0;   // as on the wire
  std::uint32_t ack = 0;
  std::uint32_t relative_seq = 0;  // seq - the sender's ISN
  std::uint32_t relative_ack = 0;  // ack - the receiver's ISN
  std::uint32_t payload_length = 0;
  std::uint16_t window = 0;                  // as on the wire, unscaled
  std::optional<std::uint8_t> window_scale;  // the option's shift, on a SYN that carries it
  // Whether it reached the other end, as far as the recording shows (the demo's unplugged peer
  // and NAT); a capture shows only what was on the wire, so there it is always true.
  bool delivered = true;
  std::uint16_t marks = 0;  // Mark bits, set by AnalyzeSegments
  // Probes: 1, 2, ... since the prober last heard from the other side. Answers: the probe's.
  int probe_number = 0;

  bool has(std::uint8_t flag) const { return (flags & flag) != 0; }
  bool marked(Mark mark) const { return (marks & mark) != 0; }
};

// Sets `marks` and `probe_number` of every segment, in order (the order is the capture's).
void AnalyzeSegments(std::vector<Segment>& segments);

// "SYN", "SYN,ACK", "PSH,ACK", "FIN,ACK", "RST"...: the flags in bit order, as Wireshark lists
// them.
std::string FlagNames(std::uint8_t flags);

}  // namespace tapstack::tools::diagram

#endif  // TAPSTACK_TOOLS_DIAGRAM_TCP_ANALYSIS_H_
