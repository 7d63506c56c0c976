// Pages checked in a real browser: Debian's headless `chromium` loads an HTML file, and the test
// reads the DOM the browser built, the browser's log (where every console message is a line
// with ":CONSOLE"), and optionally a screenshot.
#ifndef TAPSTACK_TESTS_SUPPORT_BROWSER_H_
#define TAPSTACK_TESTS_SUPPORT_BROWSER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tapstack::testing {

struct BrowserRun {
  std::string dom;  // the document after loading, as the browser serialises it
  std::string log;  // what the browser wrote on standard error
  bool console_messages() const { return log.find(":CONSOLE") != std::string::npos; }
};

// Loads `html_path` (a file) in headless Chromium; with a non-empty `screenshot_path`, also
// writes a PNG of the first `width` x `height` pixels of the page there. An error when chromium is
// missing (scripts/install-deps.sh installs it) or fails.
absl::StatusOr<BrowserRun> LoadInChromium(const std::string& html_path,
                                          const std::string& screenshot_path = "", int width = 1300,
                                          int height = 2000);

// How many times `needle` occurs in `text`, without overlaps.
int Occurrences(std::string_view text, std::string_view needle);

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_BROWSER_H_
