// Draws a scenario's recording as an ASCII sequence diagram: one column per party (our stack, the
// peer; the NAT between them when there is one), one arrow per TCP segment of the connection with
// its flags, sequence and acknowledgment numbers relative to each side's initial sequence number,
// payload length and the time since the scenario began; keepalive probes and their answers named
// on the right; and the scenario's notes (unplugged, rebooted, ETIMEDOUT...) in between, where
// they happened.
//
//     t (s)  our stack                                    Linux
//            192.0.2.2:40100                              192.0.2.1:7003
//            |                                            |
//      0.000 |-- SYN seq=0 len=0 ------------------------>|
//      0.001 |<-- SYN,ACK seq=0 ack=1 len=0 --------------|
//      0.301 |  * peer unplugged
//      2.003 |-- ACK seq=0 ack=1 len=0 ----------------x  |  keepalive probe 1/3 (lost)
//
// A segment that never arrived stops short with "x" (sent while the peer was unplugged) or ends
// on the NAT's column as "X" (dropped by the NAT).
#ifndef TAPSTACK_TOOLS_DEMO_DIAGRAM_H_
#define TAPSTACK_TOOLS_DEMO_DIAGRAM_H_

#include <optional>
#include <string>

#include "tools/demo/recording.h"

namespace tapstack::tools::demo {

struct DiagramSpec {
  std::string stack_title = "our stack";
  std::string peer_title = "peer";
  // With a NAT between us and the peer: the NAT column's title and the text under it.
  std::optional<std::string> nat_title;
  std::string nat_subtitle;
  // > 0: probes are labelled "probe n/count".
  int keepalive_count = 0;
};

// The diagram, lines ending in '\n'. Time gaps of about a second or more between rows are shown as
// a line of their own, so that idle periods stand out.
std::string RenderSequenceDiagram(const DiagramSpec& spec, const Recording& recording);

}  // namespace tapstack::tools::demo

#endif  // TAPSTACK_TOOLS_DEMO_DIAGRAM_H_
