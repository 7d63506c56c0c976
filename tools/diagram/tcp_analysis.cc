#include "tools/diagram/tcp_analysis.h"

#include <array>
#include <utility>

#include "stack/wire/tcp.h"

namespace tapstack::tools::diagram {
namespace {

using wire::TcpFlags;

// Wrap-around "a is after b" for 32-bit sequence numbers (RFC 9293 3.4).
bool After(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) > 0; }

// What one direction has shown on the wire so far (Wireshark keeps the same per direction).
struct Direction {
  std::optional<std::uint32_t> next_seq;  // highest sequence number sent + 1 (SYN, FIN count)
  std::optional<std::uint32_t> acked;     // highest acknowledgment the other side sent
  std::optional<std::uint32_t> last_ack;  // the acknowledgment field of the latest segment
  std::optional<std::uint32_t> window;    // the latest window, scaled when scaling is known
  std::uint16_t last_marks = 0;           // the latest segment's marks
  int probes_outstanding = 0;             // probes since the other side was last heard from
  int last_probe_number = 0;              // the number of its latest probe
  bool syn_seen = false;
  std::optional<std::uint8_t> syn_window_scale;
};

}  // namespace

void AnalyzeSegments(std::vector<Segment>& segments) {
  std::array<Direction, 2> directions;  // [0] from the left column, [1] from the right
  for (Segment& segment : segments) {
    Direction& sender = directions[segment.from_left ? 0 : 1];
    Direction& receiver = directions[segment.from_left ? 1 : 0];
    const bool syn = segment.has(TcpFlags::kSyn);
    const bool fin = segment.has(TcpFlags::kFin);
    const bool rst = segment.has(TcpFlags::kRst);
    const bool control = syn || fin || rst;
    const std::uint32_t length = segment.payload_length;
    if (syn) {
      sender.syn_seen = true;
      sender.syn_window_scale = segment.window_scale;
    }
    // RFC 7323 2.2: the window of a SYN is never scaled; the others are once both sides offered
    // the option.
    std::uint32_t window = segment.window;
    const bool scaling = sender.syn_window_scale.has_value() && receiver.syn_seen &&
                         receiver.syn_window_scale.has_value();
    if (!syn && scaling) window <<= std::min<std::uint8_t>(*sender.syn_window_scale, 14);

    std::uint16_t marks = 0;
    bool named = false;  // a probe or an update is not also a duplicate ACK
    if (length == 1 && sender.next_seq && segment.seq == *sender.next_seq && receiver.window &&
        *receiver.window == 0) {
      marks |= kZeroWindowProbe;
      named = true;
    }
    if (!named) {
      if (window == 0 && !control) marks |= kZeroWindow;
      const bool everything_acked =
          sender.next_seq && sender.acked && *sender.acked == *sender.next_seq;
      if (length <= 1 && !control && sender.next_seq && segment.seq == *sender.next_seq - 1 &&
          everything_acked) {
        marks |= kKeepaliveProbe;
        segment.probe_number = ++sender.probes_outstanding;
        sender.last_probe_number = segment.probe_number;
        named = true;
      }
    }
    const bool repeats = length == 0 && !control && window != 0 && sender.next_seq &&
                         segment.seq == *sender.next_seq && sender.last_ack &&
                         segment.ack == *sender.last_ack && sender.window;
    const bool after_probe = (receiver.last_marks & kKeepaliveProbe) != 0;
    if (!named && repeats && after_probe) {
      // Wireshark calls it only a window update when the window changed; it answers the probe all
      // the same, and the prober counts it so.
      marks |= kKeepaliveAnswer;
      if (window != *sender.window) marks |= kWindowUpdate;
      named = true;
    }
    if (!named && repeats && window != *sender.window) {
      marks |= kWindowUpdate;
      named = true;
    }
    // A RST answers a probe still waiting for its answer (a rebooted peer's), not one answered.
    if (!named && rst && after_probe && receiver.probes_outstanding > 0) marks |= kKeepaliveAnswer;
    if (!named && repeats) marks |= kDuplicateAck;
    if ((marks & kKeepaliveAnswer) != 0) segment.probe_number = receiver.last_probe_number;
    if ((length > 0 || syn || fin) && (marks & kKeepaliveProbe) == 0 && sender.next_seq &&
        After(*sender.next_seq, segment.seq)) {
      marks |= kRetransmission;
    }
    segment.marks = marks;

    // The prober heard from this side, whatever it sent, if the segment got there.
    if (segment.delivered) receiver.probes_outstanding = 0;
    if (length > 0 || syn || fin) {
      const std::uint32_t end = segment.seq + length + (syn ? 1u : 0u) + (fin ? 1u : 0u);
      // A zero-window probe's byte is not taken as sent: the window was closed.
      if ((!sender.next_seq || After(end, *sender.next_seq)) && (marks & kZeroWindowProbe) == 0) {
        sender.next_seq = end;
      }
    }
    if (segment.has(TcpFlags::kAck) && !rst &&
        (!receiver.acked || After(segment.ack, *receiver.acked))) {
      receiver.acked = segment.ack;
    }
    // A segment without ACK carries no acknowledgment, whatever its field holds.
    sender.last_ack = segment.has(TcpFlags::kAck) ? std::optional(segment.ack) : std::nullopt;
    sender.window = window;
    sender.last_marks = marks;
  }
}

std::string FlagNames(std::uint8_t flags) {
  static constexpr std::array<std::pair<std::uint8_t, const char*>, 8> kNames = {{
      {TcpFlags::kFin, "FIN"},
      {TcpFlags::kSyn, "SYN"},
      {TcpFlags::kRst, "RST"},
      {TcpFlags::kPsh, "PSH"},
      {TcpFlags::kAck, "ACK"},
      {TcpFlags::kUrg, "URG"},
      {TcpFlags::kEce, "ECE"},
      {TcpFlags::kCwr, "CWR"},
  }};
  std::string names;
  for (const auto& [bit, name] : kNames) {
    if ((flags & bit) == 0) continue;
    if (!names.empty()) names += ",";
    names += name;
  }
  return names.empty() ? "none" : names;
}

}  // namespace tapstack::tools::diagram
