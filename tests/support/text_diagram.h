// Reading the ASCII sequence diagrams that `tapstack demo` and `tapstack diagram` print, for tests
// that compare them with the same diagrams drawn as SVG.
#ifndef TAPSTACK_TESTS_SUPPORT_TEXT_DIAGRAM_H_
#define TAPSTACK_TESTS_SUPPORT_TEXT_DIAGRAM_H_

#include <regex>
#include <sstream>
#include <string>

namespace tapstack::testing {

// The rows of `text` that draw a segment: after the time and the first bar comes an arrow ("--",
// "<", or one dropped in the middle column, "X<"), where a note row has "* ...".
inline int TextDiagramArrows(const std::string& text) {
  static const std::regex kArrowRow(R"(^ *[0-9]+\.[0-9]{3}  \|( *X<|--|<))");
  int arrows = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (std::regex_search(line, kArrowRow)) ++arrows;
  }
  return arrows;
}

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_TEXT_DIAGRAM_H_
