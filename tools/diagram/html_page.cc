#include "tools/diagram/html_page.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "tools/diagram/svg_diagram.h"

namespace tapstack::tools::diagram {
namespace {

// Colours for the diagram's classes (svg_diagram.cc); the labels say the same in words.
constexpr char kStyle[] = R"(
body { font-family: sans-serif; margin: 2em; color: #222; background: #fff; }
h1 { font-size: 1.5em; }
h2 { font-size: 1.15em; margin-top: 2.5em; }
section p { margin: 0.3em 0; }
.verdict { font-weight: bold; padding: 0.3em 0.6em; display: inline-block; }
.verdict.expected { background: #e3f4e1; }
.verdict.unexpected { background: #fbe0e0; }
.diagram { overflow-x: auto; margin: 0.8em 0; }
svg.sequence-diagram text { font-family: monospace; font-size: 12px; fill: #222; }
svg.sequence-diagram .title { font-weight: bold; font-family: sans-serif; }
svg.sequence-diagram .endpoint, svg.sequence-diagram .time, svg.sequence-diagram .gap { fill: #666; }
svg.sequence-diagram .lifeline { stroke: #999; stroke-width: 1; }
svg.sequence-diagram .arrow { stroke: #333; stroke-width: 1.5; }
svg.sequence-diagram .head { fill: #333; }
svg.sequence-diagram .cross { stroke: #c00; stroke-width: 2; }
svg.sequence-diagram .probe .arrow { stroke: #1f5fbf; } svg.sequence-diagram .probe .head { fill: #1f5fbf; }
svg.sequence-diagram .answer .arrow { stroke: #2a8a2a; } svg.sequence-diagram .answer .head { fill: #2a8a2a; }
svg.sequence-diagram .retransmission .arrow { stroke: #c77800; } svg.sequence-diagram .retransmission .head { fill: #c77800; }
svg.sequence-diagram .reset .arrow { stroke: #c00; } svg.sequence-diagram .reset .head { fill: #c00; }
svg.sequence-diagram .lost .arrow { stroke-dasharray: 5 4; }
svg.sequence-diagram .labels { fill: #444; font-style: italic; }
svg.sequence-diagram .note-text { fill: #7a4b00; }
)";

std::string Paragraph(const std::string& text, const std::string& css_class = "") {
  return absl::StrCat(css_class.empty() ? "<p>" : absl::StrCat("<p class=\"", css_class, "\">"),
                      EscapeXml(text), "</p>\n");
}

}  // namespace

absl::Status WriteHtmlFile(const std::string& path, const std::string& page) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out.write(page.data(), static_cast<std::streamsize>(page.size()));
  out.close();
  if (!out) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::string RenderHtmlPage(const std::string& title, const std::string& subtitle,
                           const std::vector<HtmlSection>& sections) {
  std::string page =
      absl::StrCat("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
                   EscapeXml(title), "</title>\n<style>", kStyle, "</style>\n</head>\n<body>\n<h1>",
                   EscapeXml(title), "</h1>\n", Paragraph(subtitle));
  for (const HtmlSection& section : sections) {
    absl::StrAppend(&page, "<section>\n<h2>", EscapeXml(section.heading), "</h2>\n");
    for (const std::string& line : section.before) absl::StrAppend(&page, Paragraph(line));
    absl::StrAppend(&page, "<div class=\"diagram\">", section.svg, "</div>\n");
    for (const std::string& line : section.after) absl::StrAppend(&page, Paragraph(line));
    if (!section.verdict.empty()) {
      absl::StrAppend(
          &page, Paragraph(section.verdict,
                           section.verdict_expected ? "verdict expected" : "verdict unexpected"));
    }
    for (const HtmlLink& link : section.links) {
      absl::StrAppend(&page, "<p><a href=\"", EscapeXml(link.href), "\">", EscapeXml(link.text),
                      "</a></p>\n");
    }
    absl::StrAppend(&page, "</section>\n");
  }
  absl::StrAppend(&page, "</body>\n</html>\n");
  return page;
}

}  // namespace tapstack::tools::diagram
