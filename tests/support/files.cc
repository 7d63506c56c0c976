#include "tests/support/files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace tapstack::testing {

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

std::string TempPath(const std::string& stem) {
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/tapstack-", getpid(), "-", counter++, "-",
                      stem);
}

std::optional<std::string> CapturePath() {
  const char* dir = std::getenv("TAPSTACK_PCAP_DIR");
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = test != nullptr ? absl::StrCat(test->test_suite_name(), ".", test->name())
                                     : absl::StrCat("process-", getpid());
  // Parameterised tests have '/' in their names.
  std::replace(name.begin(), name.end(), '/', '_');
  static std::string last_name;
  static int calls = 0;
  calls = name == last_name ? calls + 1 : 1;
  last_name = name;
  if (calls > 1) absl::StrAppend(&name, "-", calls);
  return absl::StrCat(dir, "/", name, ".pcap");
}

}  // namespace tapstack::testing
