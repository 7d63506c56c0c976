// One self-contained HTML page of sequence diagrams (svg_diagram.h): a title, a line under it, and
// a section per diagram with its heading, lines of text (a verdict, counters) and links (its
// pcap). The style is inline; there is no script and nothing is fetched, so the page opens the
// same from a file, a CI artifact or a mail.
#ifndef TAPSTACK_TOOLS_DIAGRAM_HTML_PAGE_H_
#define TAPSTACK_TOOLS_DIAGRAM_HTML_PAGE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tapstack::tools::diagram {

struct HtmlLink {
  std::string text;
  std::string href;  // relative to the page
};

struct HtmlSection {
  std::string heading;
  std::vector<std::string> before;  // lines of text above the diagram
  std::string svg;                  // RenderSvgDiagram's output, inserted as it is
  std::vector<std::string> after;   // lines below it
  // The demo's verdict line, set off below the rest; none when empty.
  std::string verdict;
  bool verdict_expected = true;
  std::vector<HtmlLink> links;
};

// The page. Every text is escaped; only `svg` goes in as markup.
std::string RenderHtmlPage(const std::string& title, const std::string& subtitle,
                           const std::vector<HtmlSection>& sections);

// Writes `page` to `path` whole, or says why it could not ("cannot write PATH: ...").
absl::Status WriteHtmlFile(const std::string& path, const std::string& page);

}  // namespace tapstack::tools::diagram

#endif  // TAPSTACK_TOOLS_DIAGRAM_HTML_PAGE_H_
