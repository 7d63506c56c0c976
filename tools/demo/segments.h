// Reads the TCP conversation of a scenario out of its recording: one connection's segments in the
// order they happened, with sequence numbers made relative to each side's initial sequence number,
// whether each segment made it to the other end (not while the peer was unplugged; behind a NAT,
// only if it showed up on the far side), and what each one is by the rules of the wire
// (diagram/tcp_analysis.h), the same for probes from either side as for any capture.
#ifndef TAPSTACK_TOOLS_DEMO_SEGMENTS_H_
#define TAPSTACK_TOOLS_DEMO_SEGMENTS_H_

#include <cstdint>
#include <vector>

#include "stack/wire/bytes.h"
#include "stack/wire/ip_address.h"
#include "tools/demo/recording.h"
#include "tools/diagram/tcp_analysis.h"

namespace tapstack::tools::demo {

using diagram::FlagNames;
using diagram::Segment;

struct Conversation {
  bool found = false;  // false when the recording holds no TCP segment at all
  wire::IpAddress stack_address;
  std::uint16_t stack_port = 0;
  wire::IpAddress peer_address;  // as our stack addresses it (the server, or through the NAT)
  std::uint16_t peer_port = 0;
  std::vector<Segment> segments;
};

// The first connection our stack opened (the first SYN it sent; the first TCP segment if there is
// none). With `behind_nat`, the server's link in the recording is matched against ours.
Conversation ReadConversation(const Recording& recording, bool behind_nat);

}  // namespace tapstack::tools::demo

#endif  // TAPSTACK_TOOLS_DEMO_SEGMENTS_H_
