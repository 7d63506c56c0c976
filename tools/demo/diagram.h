// Draws a scenario's recording with the shared sequence diagram (diagram/sequence_diagram.h): our
// stack on the left, the peer on the right, the NAT between them when there is one, the
// scenario's notes (unplugged, rebooted, ETIMEDOUT...) where they happened. A segment sent while
// the peer was unplugged stops short with "x"; one the NAT dropped ends on its column as "X".
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

// The same diagram as inline SVG for the demo's web page (diagram/svg_diagram.h).
std::string RenderSequenceDiagramSvg(const DiagramSpec& spec, const Recording& recording);

}  // namespace tapstack::tools::demo

#endif  // TAPSTACK_TOOLS_DEMO_DIAGRAM_H_
