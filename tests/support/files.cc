#include "tests/support/files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
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

namespace {

// This process's scratch directory, made once with mkdtemp and removed at exit. A name made of
// the process id alone is not unique: process ids wrap around (32768 by default), and a file a
// crashed or killed test left behind under a reused id would be read as this test's output.
const std::string& ScratchDirectory() {
  static const std::string directory = [] {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string pattern = absl::StrCat(base != nullptr ? base : "/tmp", "/tapstack-test-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp " << pattern << ": " << std::strerror(errno);
      std::abort();
    }
    static const pid_t owner = getpid();
    static std::string to_remove;
    to_remove = pattern;
    // Only the process that made it removes it: a forked child that exits must not.
    std::atexit([] {
      if (getpid() != owner) return;
      std::error_code ignored;
      std::filesystem::remove_all(to_remove, ignored);
    });
    return pattern;
  }();
  return directory;
}

}  // namespace

std::string TempPath(const std::string& stem) {
  static std::atomic<int> counter{0};
  return absl::StrCat(ScratchDirectory(), "/", counter++, "-", stem);
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
