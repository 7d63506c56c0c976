#include "tests/support/browser.h"

#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tests/support/files.h"
#include "tests/support/netns.h"

namespace tapstack::testing {
namespace {

// Root needs --no-sandbox; a profile of its own per run keeps parallel tests apart; no GPU in CI.
std::string ChromiumCommand(const std::string& profile, const std::string& arguments) {
  return absl::StrCat("timeout 120 chromium --headless --no-sandbox --disable-gpu ",
                      "--no-first-run --user-data-dir=", ShellQuote(profile),
                      " --enable-logging=stderr --v=0 ", arguments);
}

}  // namespace

absl::StatusOr<BrowserRun> LoadInChromium(const std::string& html_path,
                                          const std::string& screenshot_path, int width,
                                          int height) {
  if (RunShell("command -v chromium").exit_code != 0) {
    return absl::FailedPreconditionError(
        "chromium is not installed (scripts/install-deps.sh installs Debian's chromium)");
  }
  const std::string url =
      absl::StrCat("file://", std::filesystem::absolute(html_path).generic_string());
  const std::string profile = TempPath("chromium-profile");
  const std::string dom_path = TempPath("dom.html");
  const std::string log_path = TempPath("chromium.log");
  const CommandResult dump = RunShell(
      ChromiumCommand(profile, absl::StrCat("--dump-dom ", ShellQuote(url), " >",
                                            ShellQuote(dom_path), " 2>", ShellQuote(log_path))));
  BrowserRun run{.dom = ReadFile(dom_path), .log = ReadFile(log_path)};
  if (dump.exit_code != 0 || run.dom.empty()) {
    return absl::InternalError(
        absl::StrCat("chromium --dump-dom failed (exit ", dump.exit_code, "): ", run.log));
  }
  if (!screenshot_path.empty()) {
    const CommandResult shot = RunShell(
        ChromiumCommand(profile, absl::StrCat("--hide-scrollbars --window-size=", width, ",",
                                              height, " --screenshot=", ShellQuote(screenshot_path),
                                              " ", ShellQuote(url), " 2>>", ShellQuote(log_path))));
    if (shot.exit_code != 0) {
      return absl::InternalError(
          absl::StrCat("chromium --screenshot failed (exit ", shot.exit_code, ")"));
    }
    run.log = ReadFile(log_path);
  }
  std::error_code ignored;
  std::filesystem::remove_all(profile, ignored);
  return run;
}

int Occurrences(std::string_view text, std::string_view needle) {
  int count = 0;
  for (std::size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

}  // namespace tapstack::testing
