#include "tools/demo/diagram.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/demo/segments.h"
#include "tools/diagram/sequence_diagram.h"

namespace tapstack::tools::demo {

std::string RenderSequenceDiagram(const DiagramSpec& spec, const Recording& recording) {
  const bool nat = spec.nat_title.has_value();
  const Conversation conversation = ReadConversation(recording, nat);
  diagram::DiagramSpec drawing{.left_title = spec.stack_title,
                               .right_title = spec.peer_title,
                               .middle_title = spec.nat_title,
                               .middle_subtitle = spec.nat_subtitle,
                               .keepalive_count = spec.keepalive_count,
                               .left_is_us = true,
                               .lost_note = "lost: the peer is unplugged",
                               .lost_legend = "x: never arrived (the peer was unplugged)",
                               .dropped_note = "dropped by the NAT",
                               .dropped_legend = "X: dropped by the NAT"};
  if (conversation.found) {
    drawing.left_endpoint =
        absl::StrCat(conversation.stack_address.ToString(), ":", conversation.stack_port);
    drawing.right_endpoint =
        absl::StrCat(conversation.peer_address.ToString(), ":", conversation.peer_port);
  }
  std::vector<diagram::DiagramNote> notes;
  notes.reserve(recording.notes.size());
  for (const Note& note : recording.notes) notes.push_back({note.at, note.order, note.text});
  return diagram::RenderSequenceDiagram(drawing, conversation.segments, notes);
}

}  // namespace tapstack::tools::demo
