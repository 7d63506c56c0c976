// Reading the ASCII sequence diagrams that `tapstack demo` and `tapstack diagram` print, for tests
// that compare them with the same diagrams drawn as SVG.
#ifndef TAPSTACK_TESTS_SUPPORT_TEXT_DIAGRAM_H_
#define TAPSTACK_TESTS_SUPPORT_TEXT_DIAGRAM_H_

#include <cctype>
#include <sstream>
#include <string>
#include <string_view>

namespace tapstack::testing {

// Whether `line` draws a segment: spaces, a time "S.mmm", two spaces and the first bar, then an
// arrow ("--", "<", or one dropped in the middle column, "   X<"), where a note row has "  * ...".
// (Written out rather than with std::regex, which GCC 12 warns about under the sanitizers.)
inline bool IsTextDiagramArrow(std::string_view line) {
  std::size_t at = line.find_first_not_of(' ');
  if (at == std::string_view::npos) return false;
  const std::size_t digits = at;
  while (at < line.size() && std::isdigit(static_cast<unsigned char>(line[at]))) ++at;
  if (at == digits || at >= line.size() || line[at] != '.') return false;
  for (int i = 0; i < 3; ++i) {
    if (++at >= line.size() || !std::isdigit(static_cast<unsigned char>(line[at]))) return false;
  }
  std::string_view rest = line.substr(at + 1);
  if (rest.substr(0, 3) != "  |") return false;
  rest.remove_prefix(3);
  if (rest.substr(0, 2) == "--" || rest.substr(0, 1) == "<") return true;
  const std::size_t mark = rest.find_first_not_of(' ');
  return mark != std::string_view::npos && rest.substr(mark, 2) == "X<";
}

// How many rows of `text` draw a segment.
inline int TextDiagramArrows(const std::string& text) {
  int arrows = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (IsTextDiagramArrow(line)) ++arrows;
  }
  return arrows;
}

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_TEXT_DIAGRAM_H_
