// Draws one TCP conversation as an ASCII sequence diagram: one column per party (and a middle one
// for a NAT between them), one arrow per segment with its flags, sequence and acknowledgment
// numbers relative to each side's initial sequence number (as Wireshark shows them), payload
// length and time, what the analysis found it to be named on the right (tcp_analysis.h), notes
// in between where they happened, and idle gaps of about a second or more on a line of their own.
//
//     t (s)  our stack                                    Linux
//            192.0.2.2:40100                              192.0.2.1:7003
//            |                                            |
//      0.000 |-- SYN seq=0 len=0 ------------------------>|
//      0.001 |<-- SYN,ACK seq=0 ack=1 len=0 --------------|
//      0.301 |  * peer unplugged
//      2.003 |-- ACK seq=0 ack=1 len=0 ----------------x  |  keepalive probe 1/3, lost: ...
//
// A segment that never arrived (Segment::delivered false) stops short with "x", or, with a middle
// column, ends on it as "X" (dropped there). `tapstack demo` and `tapstack diagram` both draw
// with this.
#ifndef TAPSTACK_TOOLS_DIAGRAM_SEQUENCE_DIAGRAM_H_
#define TAPSTACK_TOOLS_DIAGRAM_SEQUENCE_DIAGRAM_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "timers/timer_wheel.h"
#include "tools/diagram/tcp_analysis.h"

namespace tapstack::tools::diagram {

struct DiagramSpec {
  std::string left_title;
  std::string right_title;
  std::string left_endpoint = "-";  // "192.0.2.2:40100"
  std::string right_endpoint = "-";
  // A column between the two (a NAT): its title and the text under it.
  std::optional<std::string> middle_title;
  std::string middle_subtitle;
  // > 0: probes are labelled "probe n/count".
  int keepalive_count = 0;
  // The notes speak as the left party (the demo's "our stack"): "keepalive probe 2/3" is its own,
  // "peer's keepalive probe 1" the right party's. Otherwise both sides' are "keepalive probe n".
  bool left_is_us = false;
  // Characters between the two bars without a middle column; longer labels stretch their arrow.
  int width = 50;
  // Said of a segment that never arrived, and under the diagram when there was one.
  std::string lost_note = "lost";
  std::string lost_legend = "x: never arrived";
  // The same for one that ended on the middle column.
  std::string dropped_note = "dropped in the middle";
  std::string dropped_legend = "X: dropped in the middle";
};

// Something that happened between segments, drawn as "* text" where it belongs in `order`.
struct DiagramNote {
  timers::Duration at{};
  std::uint64_t order = 0;
  std::string text;
};

// The diagram, lines ending in '\n'. Segments and notes are drawn in the order of their `order`.
std::string RenderSequenceDiagram(const DiagramSpec& spec, const std::vector<Segment>& segments,
                                  const std::vector<DiagramNote>& notes);

// One row of a diagram, in drawing order: a segment or a note, and the idle time before it when
// that is long enough (about a second) to be drawn as a gap.
struct DiagramRow {
  const Segment* segment = nullptr;  // exactly one of segment and note is set
  const DiagramNote* note = nullptr;
  timers::Duration at{};
  std::optional<timers::Duration> gap_before;
};

// The rows of a diagram: segments and notes in the order of their `order`, pointing into them.
std::vector<DiagramRow> DiagramRows(const std::vector<Segment>& segments,
                                    const std::vector<DiagramNote>& notes);

// "PSH,ACK seq=1 ack=7 len=6": what an arrow says.
std::string SegmentText(const Segment& segment);

// The names of what the analysis found a segment to be, as the diagram writes them on the right:
// "keepalive probe 2/3", "retransmission", "duplicate ACK", "reset"...
std::vector<std::string> SegmentLabels(const DiagramSpec& spec, const Segment& segment);

}  // namespace tapstack::tools::diagram

#endif  // TAPSTACK_TOOLS_DIAGRAM_SEQUENCE_DIAGRAM_H_
