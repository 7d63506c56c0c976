#include "tools/diagram/svg_diagram.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "stack/wire/tcp.h"

namespace tapstack::tools::diagram {
namespace {

using wire::TcpFlags;

// Pixels. The text is monospace at 12 px, about 7.2 px a character.
constexpr int kLeftX = 150;
constexpr int kPixelsPerColumn = 9;  // DiagramSpec::width is in characters
constexpr int kHeaderHeight = 56;
constexpr int kRowHeight = 26;
constexpr int kGapHeight = 20;
constexpr int kLostShortfall = 40;  // how far short of the peer a lost arrow stops
constexpr int kLabelRoom = 420;     // right of the last column, for the labels

double Seconds(timers::Duration d) { return std::chrono::duration<double>(d).count(); }

std::string Text(int x, int y, std::string_view text, std::string_view css_class,
                 std::string_view anchor = "start") {
  return absl::StrFormat("<text x=\"%d\" y=\"%d\" class=\"%s\" text-anchor=\"%s\">%s</text>", x, y,
                         css_class, anchor, EscapeXml(text));
}

std::string Line(int x1, int y1, int x2, int y2, std::string_view css_class) {
  return absl::StrFormat("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"%s\"/>", x1, y1, x2,
                         y2, css_class);
}

// A filled triangle pointing along the x axis, its tip at (x, y).
std::string ArrowHead(int x, int y, bool rightwards) {
  const int back = rightwards ? x - 9 : x + 9;
  return absl::StrFormat("<polygon points=\"%d,%d %d,%d %d,%d\" class=\"head\"/>", x, y, back,
                         y - 4, back, y + 4);
}

std::string Cross(int x, int y, int size) {
  return Line(x - size, y - size, x + size, y + size, "cross") +
         Line(x - size, y + size, x + size, y - size, "cross");
}

// The classes that colour an arrow: what the analysis found, and whether it arrived.
std::string SegmentClasses(const Segment& segment) {
  std::string classes = segment.from_left ? "segment rightward" : "segment leftward";
  if (segment.marked(kKeepaliveProbe)) absl::StrAppend(&classes, " probe");
  if (segment.marked(kKeepaliveAnswer)) absl::StrAppend(&classes, " answer");
  if (segment.marked(kRetransmission)) absl::StrAppend(&classes, " retransmission");
  if (segment.has(TcpFlags::kRst)) absl::StrAppend(&classes, " reset");
  if (!segment.delivered) absl::StrAppend(&classes, " lost");
  return classes;
}

}  // namespace

std::string EscapeXml(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      case '\'':
        escaped += "&#39;";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

std::string RenderSvgDiagram(const DiagramSpec& spec, const std::vector<Segment>& segments,
                             const std::vector<DiagramNote>& notes) {
  const bool middle = spec.middle_title.has_value();
  const int span = std::max(spec.width, 30) * kPixelsPerColumn;
  const int right_x = kLeftX + span;
  const int middle_x = kLeftX + span * 7 / 10;
  const std::vector<DiagramRow> rows = DiagramRows(segments, notes);

  std::string body;
  int y = kHeaderHeight;
  for (const DiagramRow& row : rows) {
    if (row.gap_before) {
      y += kGapHeight;
      absl::StrAppend(&body,
                      Text(kLeftX + 10, y - 6,
                           absl::StrFormat("(%.1f s idle)", Seconds(*row.gap_before)), "gap"));
    }
    y += kRowHeight;
    const std::string time = absl::StrFormat("%.3f", Seconds(row.at));
    if (row.note != nullptr) {
      absl::StrAppend(&body, "<g class=\"note\">", Text(kLeftX - 12, y, time, "time", "end"),
                      Text(kLeftX + 10, y, absl::StrCat("* ", row.note->text), "note-text"),
                      "</g>");
      continue;
    }
    const Segment& segment = *row.segment;
    std::vector<std::string> labels = SegmentLabels(spec, segment);
    const int from = segment.from_left ? kLeftX : right_x;
    int to = segment.from_left ? right_x : kLeftX;
    std::string ending;
    if (!segment.delivered) {
      if (middle) {
        to = middle_x;
        ending = Cross(middle_x, y, 7);
        labels.push_back(spec.dropped_note);
      } else {
        to = segment.from_left ? right_x - kLostShortfall : kLeftX + kLostShortfall;
        ending = Cross(to, y, 5);
        labels.push_back(spec.lost_note);
      }
    } else {
      ending = ArrowHead(to, y, segment.from_left);
    }
    absl::StrAppend(&body, "<g class=\"", SegmentClasses(segment), "\">",
                    Text(kLeftX - 12, y, time, "time", "end"), Line(from, y, to, y, "arrow"),
                    ending,
                    Text((from + to) / 2, y - 5, SegmentText(segment), "arrow-text", "middle"));
    if (!labels.empty()) {
      absl::StrAppend(&body, Text(right_x + 14, y + 4, absl::StrJoin(labels, ", "), "labels"));
    }
    absl::StrAppend(&body, "</g>");
  }
  const int height = y + 24;
  const int width = right_x + kLabelRoom;

  std::string header;
  std::vector<std::pair<int, std::pair<std::string, std::string>>> columns = {
      {kLeftX, {spec.left_title, spec.left_endpoint}}};
  if (middle) columns.push_back({middle_x, {*spec.middle_title, spec.middle_subtitle}});
  columns.push_back({right_x, {spec.right_title, spec.right_endpoint}});
  for (const auto& [x, texts] : columns) {
    absl::StrAppend(&header, Text(x, 18, texts.first, "title", "middle"),
                    Text(x, 34, texts.second, "endpoint", "middle"),
                    Line(x, kHeaderHeight - 14, x, height - 10, "lifeline"));
  }
  absl::StrAppend(&header, Text(kLeftX - 12, kHeaderHeight - 4, "t (s)", "time", "end"));
  if (segments.empty()) {
    absl::StrAppend(&header,
                    Text(kLeftX + 10, height - 14, "(no TCP segment was exchanged)", "note-text"));
  }
  return absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sequence-diagram\" width=\"%d\" "
      "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">%s%s</svg>",
      width, height, width, height,
      EscapeXml(absl::StrCat("sequence diagram: ", spec.left_title, " and ", spec.right_title)),
      header, body);
}

}  // namespace tapstack::tools::diagram
