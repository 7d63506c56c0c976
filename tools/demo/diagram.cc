#include "tools/demo/diagram.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/demo/segments.h"
#include "tools/diagram/sequence_diagram.h"
#include "tools/diagram/svg_diagram.h"

namespace tapstack::tools::demo {

namespace {

// What both renderers draw: the conversation's segments, the notes, and how to title them.
struct Drawing {
  diagram::DiagramSpec spec;
  Conversation conversation;
  std::vector<diagram::DiagramNote> notes;
};

Drawing Prepare(const DiagramSpec& spec, const Recording& recording) {
  const bool nat = spec.nat_title.has_value();
  Drawing drawing{.spec = {.left_title = spec.stack_title,
                           .right_title = spec.peer_title,
                           .middle_title = spec.nat_title,
                           .middle_subtitle = spec.nat_subtitle,
                           .keepalive_count = spec.keepalive_count,
                           .left_is_us = true,
                           .lost_note = "lost: the peer is unplugged",
                           .lost_legend = "x: never arrived (the peer was unplugged)",
                           .dropped_note = "dropped by the NAT",
                           .dropped_legend = "X: dropped by the NAT"},
                  .conversation = ReadConversation(recording, nat)};
  const Conversation& conversation = drawing.conversation;
  if (conversation.found) {
    drawing.spec.left_endpoint =
        wire::AddressWithPort(conversation.stack_address, conversation.stack_port);
    drawing.spec.right_endpoint =
        wire::AddressWithPort(conversation.peer_address, conversation.peer_port);
  }
  drawing.notes.reserve(recording.notes.size());
  for (const Note& note : recording.notes)
    drawing.notes.push_back({note.at, note.order, note.text});
  return drawing;
}

}  // namespace

std::string RenderSequenceDiagram(const DiagramSpec& spec, const Recording& recording) {
  const Drawing drawing = Prepare(spec, recording);
  return diagram::RenderSequenceDiagram(drawing.spec, drawing.conversation.segments, drawing.notes);
}

std::string RenderSequenceDiagramSvg(const DiagramSpec& spec, const Recording& recording) {
  const Drawing drawing = Prepare(spec, recording);
  return diagram::RenderSvgDiagram(drawing.spec, drawing.conversation.segments, drawing.notes);
}

}  // namespace tapstack::tools::demo
