// Splits the TCP segments of a capture into conversations and prepares each for the sequence
// diagram: the side that opened the connection on the left (the sender of the first SYN, else of
// the first segment), sequence numbers relative to each side's initial one, and the analysis of
// tcp_analysis.h over the whole conversation.
//
// A conversation is one 4-tuple, numbered from 0 in the order of its first segment, as
// Wireshark's tcp.stream; a new SYN on a 4-tuple whose connection ended (RST, or FIN both ways)
// starts a new one, as a reused port does in Wireshark.
#ifndef TAPSTACK_TOOLS_DIAGRAM_CONVERSATIONS_H_
#define TAPSTACK_TOOLS_DIAGRAM_CONVERSATIONS_H_

#include <chrono>
#include <cstdint>
#include <vector>

#include "tools/diagram/capture_file.h"
#include "tools/diagram/tcp_analysis.h"

namespace tapstack::tools::diagram {

struct Endpoint {
  wire::Ipv4Address address;
  std::uint16_t port = 0;
};

struct TcpConversation {
  int stream = 0;
  Endpoint left;  // the opener, or the first sender
  Endpoint right;
  bool opened_in_capture = false;              // the SYN or the SYN,ACK is in the capture
  std::chrono::nanoseconds first_timestamp{};  // of its first segment
  // Segment::at counts from the origin given to SplitConversations; Segment::order is the
  // record's number in the file.
  std::vector<Segment> segments;
};

// `origin`: time zero of every Segment::at (the capture's first record, as Wireshark counts).
std::vector<TcpConversation> SplitConversations(const std::vector<CapturedPacket>& packets,
                                                std::chrono::nanoseconds origin);

}  // namespace tapstack::tools::diagram

#endif  // TAPSTACK_TOOLS_DIAGRAM_CONVERSATIONS_H_
