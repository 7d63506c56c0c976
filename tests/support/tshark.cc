#include "tests/support/tshark.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "tests/support/netns.h"

namespace tapstack::testing {

int TsharkCount(const std::string& pcap, const std::string& filter,
                const std::vector<std::string>& options) {
  std::string command = absl::StrCat("tshark -r ", ShellQuote(pcap));
  for (const std::string& option : options) absl::StrAppend(&command, " ", ShellQuote(option));
  // tshark's "Running as user root" warning goes to standard error: not a packet.
  absl::StrAppend(&command, " -Y ", ShellQuote(filter), " 2>/dev/null");
  const CommandResult result = RunShell(command);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  if (result.exit_code != 0) return 0;
  return static_cast<int>(std::count(result.output.begin(), result.output.end(), '\n'));
}

}  // namespace tapstack::testing
