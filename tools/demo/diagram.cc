#include "tools/demo/diagram.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "stack/wire/tcp.h"
#include "tools/demo/segments.h"

namespace tapstack::tools::demo {
namespace {

using wire::TcpFlags;

constexpr int kTimeWidth = 11;  // "   12.345  "
// Characters between two column bars.
constexpr int kDirectSpan = 50;
constexpr int kNatStackSpan = 44;
constexpr int kNatServerSpan = 16;
// A little under a second, so that one-second probe intervals always show as gaps.
constexpr auto kIdleGap = std::chrono::milliseconds(900);

double Seconds(timers::Duration d) { return std::chrono::duration<double>(d).count(); }

// Column bar positions: ours, [the NAT,] the peer's.
struct Layout {
  std::vector<std::size_t> bars;
  std::size_t stack_bar() const { return bars.front(); }
  std::size_t peer_bar() const { return bars.back(); }
  bool nat() const { return bars.size() == 3; }
  std::size_t nat_bar() const { return bars[1]; }
};

Layout MakeLayout(bool nat) {
  Layout layout;
  layout.bars.push_back(kTimeWidth);
  if (nat) {
    layout.bars.push_back(kTimeWidth + 1 + kNatStackSpan);
    layout.bars.push_back(kTimeWidth + 1 + kNatStackSpan + 1 + kNatServerSpan);
  } else {
    layout.bars.push_back(kTimeWidth + 1 + kDirectSpan);
  }
  return layout;
}

// Writes `text` into `line` from `column` on, growing the line as needed.
void Put(std::string& line, std::size_t column, absl::string_view text) {
  if (line.size() < column + text.size()) line.resize(column + text.size(), ' ');
  std::copy(text.begin(), text.end(), line.begin() + static_cast<long>(column));
}

std::string Bars(const Layout& layout, char bar = '|') {
  std::string line;
  for (std::size_t column : layout.bars) Put(line, column, std::string(1, bar));
  return line;
}

std::string TimeText(timers::Duration at) { return absl::StrFormat("%9.3f", Seconds(at)); }

std::string Finish(std::string line, const std::vector<std::string>& notes) {
  if (!notes.empty()) absl::StrAppend(&line, "  ", absl::StrJoin(notes, ", "));
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line + "\n";
}

std::string Label(const Segment& segment) {
  std::string label = absl::StrCat(FlagNames(segment.flags), " seq=", segment.relative_seq);
  if (segment.has(TcpFlags::kAck)) absl::StrAppend(&label, " ack=", segment.relative_ack);
  absl::StrAppend(&label, " len=", segment.payload_length);
  return label;
}

// "-- label ------>" in `width` characters (longer if the label does not fit). `lost`: the arrow
// stops three characters short, ending in "x".
std::string RightArrow(std::size_t width, absl::string_view label, bool lost = false) {
  const std::size_t length = lost ? width - 3 : width;
  std::string arrow = label.empty() ? "" : absl::StrCat("-- ", label, " ");
  while (arrow.size() + 1 < length || arrow.size() < 2) arrow += '-';
  arrow += lost ? 'x' : '>';
  return arrow;
}

// "<------ label --" in `width` characters (longer if the label does not fit).
std::string LeftArrow(std::size_t width, absl::string_view label) {
  const std::string tail = label.empty() ? "" : absl::StrCat(" ", label, " --");
  std::string arrow = "<";
  while (arrow.size() + tail.size() < width || arrow.size() < 3) arrow += '-';
  return arrow + tail;
}

std::vector<std::string> SegmentNotes(const Segment& segment, int keepalive_count) {
  std::vector<std::string> notes;
  const std::string of_count = keepalive_count > 0
                                   ? absl::StrCat(segment.probe_number, "/", keepalive_count)
                                   : absl::StrCat(segment.probe_number);
  switch (segment.kind) {
    case SegmentKind::kKeepaliveProbe:
      notes.push_back(segment.from_stack
                          ? absl::StrCat("keepalive probe ", of_count)
                          : absl::StrCat("peer's keepalive probe ", segment.probe_number));
      break;
    case SegmentKind::kKeepaliveAnswer:
      notes.push_back(segment.from_stack
                          ? absl::StrCat("answer to the peer's probe ", segment.probe_number)
                          : absl::StrCat("answer to probe ", of_count));
      break;
    case SegmentKind::kRetransmission:
      notes.push_back("retransmission");
      break;
    case SegmentKind::kOther:
      break;
  }
  return notes;
}

std::string SegmentLine(const Layout& layout, const Segment& segment, int keepalive_count) {
  std::string line = Bars(layout);
  Put(line, 0, TimeText(segment.at));
  std::vector<std::string> notes = SegmentNotes(segment, keepalive_count);
  const std::string label = Label(segment);
  if (!layout.nat()) {
    const std::size_t span = layout.peer_bar() - layout.stack_bar() - 1;
    if (segment.from_stack) {
      const std::string arrow = RightArrow(span, label, !segment.delivered);
      Put(line, layout.stack_bar() + 1, arrow);
      if (arrow.size() > span) Put(line, layout.stack_bar() + 1 + arrow.size(), "|");
      if (!segment.delivered) notes.push_back("lost: the peer is unplugged");
    } else {
      const std::string arrow = LeftArrow(span, label);
      Put(line, layout.stack_bar() + 1, arrow);
      if (arrow.size() > span) Put(line, layout.stack_bar() + 1 + arrow.size(), "|");
    }
    return Finish(line, notes);
  }
  const std::size_t near_span = layout.nat_bar() - layout.stack_bar() - 1;
  const std::size_t far_span = layout.peer_bar() - layout.nat_bar() - 1;
  if (segment.from_stack) {
    Put(line, layout.stack_bar() + 1, RightArrow(near_span, label));
    if (segment.delivered) {
      Put(line, layout.nat_bar() + 1, RightArrow(far_span, ""));
    } else {
      Put(line, layout.nat_bar(), "X");
      notes.push_back("dropped by the NAT");
    }
  } else {
    Put(line, layout.nat_bar() + 1, LeftArrow(far_span, ""));
    if (segment.delivered) {
      Put(line, layout.stack_bar() + 1, LeftArrow(near_span, label));
    } else {
      Put(line, layout.nat_bar(), "X");
      notes.insert(notes.begin(), absl::StrCat(label, " dropped by the NAT"));
    }
  }
  return Finish(line, notes);
}

std::string NoteLine(const Layout& layout, const Note& note) {
  std::string line = Bars(layout);
  Put(line, 0, TimeText(note.at));
  const std::string text = absl::StrCat("  * ", note.text);
  // Inside the first span when it fits, so that the columns stay visible; else across them.
  const std::size_t room = layout.bars[1] - layout.stack_bar() - 2;
  if (text.size() <= room) {
    Put(line, layout.stack_bar() + 1, text);
  } else {
    line.resize(layout.stack_bar() + 1);
    Put(line, layout.stack_bar() + 1, text);
  }
  return Finish(line, {});
}

std::string GapLine(const Layout& layout, timers::Duration gap) {
  std::string line = Bars(layout, ':');
  Put(line, layout.stack_bar() + 3, absl::StrFormat("(%.1f s)", Seconds(gap)));
  return Finish(line, {});
}

std::string HeaderLine(const Layout& layout, const std::vector<std::string>& texts,
                       absl::string_view first = "") {
  std::string line;
  Put(line, 0, first);
  for (std::size_t i = 0; i < texts.size() && i < layout.bars.size(); ++i) {
    // A title that would run into the next column's is cut short.
    std::string text = texts[i];
    if (i + 1 < layout.bars.size()) {
      const std::size_t room = layout.bars[i + 1] - layout.bars[i] - 1;
      if (text.size() > room) text = text.substr(0, room);
    }
    Put(line, layout.bars[i], text);
  }
  return Finish(line, {});
}

}  // namespace

std::string RenderSequenceDiagram(const DiagramSpec& spec, const Recording& recording) {
  const bool nat = spec.nat_title.has_value();
  const Layout layout = MakeLayout(nat);
  const Conversation conversation = ReadConversation(recording, nat);

  std::string stack_endpoint = "-";
  std::string peer_endpoint = "-";
  if (conversation.found) {
    stack_endpoint =
        absl::StrCat(conversation.stack_address.ToString(), ":", conversation.stack_port);
    peer_endpoint = absl::StrCat(conversation.peer_address.ToString(), ":", conversation.peer_port);
  }
  std::vector<std::string> titles = {spec.stack_title};
  std::vector<std::string> endpoints = {stack_endpoint};
  if (nat) {
    titles.push_back(*spec.nat_title);
    endpoints.push_back(spec.nat_subtitle);
  }
  titles.push_back(spec.peer_title);
  endpoints.push_back(peer_endpoint);

  std::string out;
  absl::StrAppend(&out, HeaderLine(layout, titles, "    t (s)"));
  absl::StrAppend(&out, HeaderLine(layout, endpoints));
  absl::StrAppend(&out, Finish(Bars(layout), {}));

  // Segments and notes in the order they happened.
  struct Row {
    std::uint64_t order;
    timers::Duration at;
    const Segment* segment;
    const Note* note;
  };
  std::vector<Row> rows;
  for (const Segment& segment : conversation.segments) {
    rows.push_back({segment.order, segment.at, &segment, nullptr});
  }
  for (const Note& note : recording.notes) rows.push_back({note.order, note.at, nullptr, &note});
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.order < b.order; });

  std::optional<timers::Duration> previous;
  bool any_lost = false;
  bool any_dropped = false;
  for (const Row& row : rows) {
    if (previous && row.at - *previous >= kIdleGap) {
      absl::StrAppend(&out, GapLine(layout, row.at - *previous));
    }
    previous = row.at;
    if (row.segment != nullptr) {
      absl::StrAppend(&out, SegmentLine(layout, *row.segment, spec.keepalive_count));
      if (!row.segment->delivered) (nat ? any_dropped : any_lost) = true;
    } else {
      absl::StrAppend(&out, NoteLine(layout, *row.note));
    }
  }
  absl::StrAppend(&out, Finish(Bars(layout), {}));
  if (!conversation.found) absl::StrAppend(&out, "          (no TCP segment was exchanged)\n");
  if (any_lost) absl::StrAppend(&out, "          x: never arrived (the peer was unplugged)\n");
  if (any_dropped) absl::StrAppend(&out, "          X: dropped by the NAT\n");
  return out;
}

}  // namespace tapstack::tools::demo
