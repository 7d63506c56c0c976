#include "tools/diagram/sequence_diagram.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "stack/wire/tcp.h"

namespace tapstack::tools::diagram {
namespace {

using wire::TcpFlags;

constexpr int kTimeWidth = 11;  // "   12.345  "
// Characters between two column bars with a middle column.
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

Layout MakeLayout(bool middle, int width) {
  Layout layout;
  layout.bars.push_back(kTimeWidth);
  if (middle) {
    layout.bars.push_back(kTimeWidth + 1 + kNatStackSpan);
    layout.bars.push_back(kTimeWidth + 1 + kNatStackSpan + 1 + kNatServerSpan);
  } else {
    layout.bars.push_back(kTimeWidth + 1 + static_cast<std::size_t>(width));
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

std::string SegmentLine(const DiagramSpec& spec, const Layout& layout, const Segment& segment) {
  std::string line = Bars(layout);
  Put(line, 0, TimeText(segment.at));
  std::vector<std::string> notes = SegmentLabels(spec, segment);
  const std::string label = SegmentText(segment);
  if (!layout.nat()) {
    const std::size_t span = layout.peer_bar() - layout.stack_bar() - 1;
    if (segment.from_left) {
      const std::string arrow = RightArrow(span, label, !segment.delivered);
      Put(line, layout.stack_bar() + 1, arrow);
      if (arrow.size() > span) Put(line, layout.stack_bar() + 1 + arrow.size(), "|");
      if (!segment.delivered) notes.push_back(spec.lost_note);
    } else {
      const std::string arrow = LeftArrow(span, label);
      Put(line, layout.stack_bar() + 1, arrow);
      if (arrow.size() > span) Put(line, layout.stack_bar() + 1 + arrow.size(), "|");
    }
    return Finish(line, notes);
  }
  const std::size_t near_span = layout.nat_bar() - layout.stack_bar() - 1;
  const std::size_t far_span = layout.peer_bar() - layout.nat_bar() - 1;
  if (segment.from_left) {
    Put(line, layout.stack_bar() + 1, RightArrow(near_span, label));
    if (segment.delivered) {
      Put(line, layout.nat_bar() + 1, RightArrow(far_span, ""));
    } else {
      Put(line, layout.nat_bar(), "X");
      notes.push_back(spec.dropped_note);
    }
  } else {
    Put(line, layout.nat_bar() + 1, LeftArrow(far_span, ""));
    if (segment.delivered) {
      Put(line, layout.stack_bar() + 1, LeftArrow(near_span, label));
    } else {
      Put(line, layout.nat_bar(), "X");
      notes.insert(notes.begin(), absl::StrCat(label, " ", spec.dropped_note));
    }
  }
  return Finish(line, notes);
}

std::string NoteLine(const Layout& layout, const DiagramNote& note) {
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

std::vector<DiagramRow> DiagramRows(const std::vector<Segment>& segments,
                                    const std::vector<DiagramNote>& notes) {
  std::vector<std::pair<std::uint64_t, DiagramRow>> ordered;
  ordered.reserve(segments.size() + notes.size());
  for (const Segment& segment : segments) {
    ordered.push_back({segment.order, DiagramRow{.segment = &segment, .at = segment.at}});
  }
  for (const DiagramNote& note : notes) {
    ordered.push_back({note.order, DiagramRow{.note = &note, .at = note.at}});
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<DiagramRow> rows;
  rows.reserve(ordered.size());
  for (auto& [order, row] : ordered) {
    if (!rows.empty() && row.at - rows.back().at >= kIdleGap) {
      row.gap_before = row.at - rows.back().at;
    }
    rows.push_back(row);
  }
  return rows;
}

std::string SegmentText(const Segment& segment) {
  std::string text = absl::StrCat(FlagNames(segment.flags), " seq=", segment.relative_seq);
  if (segment.has(TcpFlags::kAck)) absl::StrAppend(&text, " ack=", segment.relative_ack);
  absl::StrAppend(&text, " len=", segment.payload_length);
  return text;
}

std::vector<std::string> SegmentLabels(const DiagramSpec& spec, const Segment& segment) {
  std::vector<std::string> labels;
  const std::string of_count = spec.keepalive_count > 0
                                   ? absl::StrCat(segment.probe_number, "/", spec.keepalive_count)
                                   : absl::StrCat(segment.probe_number);
  const bool ours = segment.from_left;
  if (segment.marked(kKeepaliveProbe)) {
    if (!spec.left_is_us) {
      labels.push_back(absl::StrCat("keepalive probe ", segment.probe_number));
    } else {
      labels.push_back(ours ? absl::StrCat("keepalive probe ", of_count)
                            : absl::StrCat("peer's keepalive probe ", segment.probe_number));
    }
  }
  if (segment.marked(kKeepaliveAnswer)) {
    if (!spec.left_is_us) {
      labels.push_back(absl::StrCat("answer to keepalive probe ", segment.probe_number));
    } else {
      labels.push_back(ours ? absl::StrCat("answer to the peer's probe ", segment.probe_number)
                            : absl::StrCat("answer to probe ", of_count));
    }
  }
  if (segment.marked(kRetransmission)) labels.push_back("retransmission");
  if (segment.marked(kZeroWindowProbe)) labels.push_back("zero-window probe");
  if (segment.marked(kZeroWindow)) labels.push_back("zero window");
  if (segment.marked(kWindowUpdate)) labels.push_back("window update");
  if (segment.marked(kDuplicateAck)) labels.push_back("duplicate ACK");
  // RFC 9293 3.6 and 3.5.2: what FIN and RST mean for the connection.
  if (segment.has(TcpFlags::kFin)) labels.push_back("done sending");
  if (segment.has(TcpFlags::kRst)) labels.push_back("reset");
  return labels;
}

std::string RenderSequenceDiagram(const DiagramSpec& spec, const std::vector<Segment>& segments,
                                  const std::vector<DiagramNote>& notes) {
  const bool middle = spec.middle_title.has_value();
  const Layout layout = MakeLayout(middle, std::max(spec.width, 30));
  std::vector<std::string> titles = {spec.left_title};
  std::vector<std::string> endpoints = {spec.left_endpoint};
  if (middle) {
    titles.push_back(*spec.middle_title);
    endpoints.push_back(spec.middle_subtitle);
  }
  titles.push_back(spec.right_title);
  endpoints.push_back(spec.right_endpoint);

  std::string out;
  absl::StrAppend(&out, HeaderLine(layout, titles, "    t (s)"));
  absl::StrAppend(&out, HeaderLine(layout, endpoints));
  absl::StrAppend(&out, Finish(Bars(layout), {}));

  bool any_lost = false;
  bool any_dropped = false;
  for (const DiagramRow& row : DiagramRows(segments, notes)) {
    if (row.gap_before) absl::StrAppend(&out, GapLine(layout, *row.gap_before));
    if (row.segment != nullptr) {
      absl::StrAppend(&out, SegmentLine(spec, layout, *row.segment));
      if (!row.segment->delivered) (middle ? any_dropped : any_lost) = true;
    } else {
      absl::StrAppend(&out, NoteLine(layout, *row.note));
    }
  }
  absl::StrAppend(&out, Finish(Bars(layout), {}));
  if (segments.empty()) absl::StrAppend(&out, "          (no TCP segment was exchanged)\n");
  if (any_lost) absl::StrAppend(&out, "          ", spec.lost_legend, "\n");
  if (any_dropped) absl::StrAppend(&out, "          ", spec.dropped_legend, "\n");
  return out;
}

}  // namespace tapstack::tools::diagram
