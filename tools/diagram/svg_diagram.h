// The sequence diagram of sequence_diagram.h as inline SVG for a web page: time running down, one
// vertical line per party, one arrow per segment with the same text and labels as the ASCII
// drawing, notes and idle gaps where they happened, a segment that never arrived stopping short
// with a cross, one dropped in the middle column ending on it. Colours mark keepalive probes,
// answers, retransmissions and resets; the text says the same, so nothing depends on colour.
//
// Every arrow is a <g class="segment ..."> and every note a <g class="note">, so that a page can be
// checked by counting them. No script, no external reference, no id: any number of diagrams can
// sit in one page.
#ifndef TAPSTACK_TOOLS_DIAGRAM_SVG_DIAGRAM_H_
#define TAPSTACK_TOOLS_DIAGRAM_SVG_DIAGRAM_H_

#include <string>
#include <string_view>
#include <vector>

#include "tools/diagram/sequence_diagram.h"

namespace tapstack::tools::diagram {

std::string RenderSvgDiagram(const DiagramSpec& spec, const std::vector<Segment>& segments,
                             const std::vector<DiagramNote>& notes);

// `text` with &, <, >, " and ' replaced by their entities, for element text and attribute values.
std::string EscapeXml(std::string_view text);

}  // namespace tapstack::tools::diagram

#endif  // TAPSTACK_TOOLS_DIAGRAM_SVG_DIAGRAM_H_
