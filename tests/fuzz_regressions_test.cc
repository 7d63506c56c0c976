// Replays every committed fuzz input (the seed corpus and the crash reproducers under
// tests/fuzz/regressions) through the same drivers the libFuzzer targets run, in the gcc sanitizer
// build: a crash the fuzzer once found stays fixed without clang or libFuzzer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "tests/fuzz/fuzz_drivers.h"

namespace tapstack::fuzz {
namespace {

std::vector<std::uint8_t> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Runs `run` on every file under TAPSTACK_FUZZ_DIR/<kind>/<target>; returns how many.
template <typename Run>
int ReplayAll(const std::string& kind, const std::string& target, Run run) {
  const std::filesystem::path dir = std::filesystem::path(TAPSTACK_FUZZ_DIR) / kind / target;
  if (!std::filesystem::exists(dir)) return 0;
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    SCOPED_TRACE(entry.path().string());
    run(ReadFile(entry.path()));
    ++count;
  }
  return count;
}

TEST(FuzzRegressionsTest, WireCorpusAndReproducers) {
  EXPECT_GT(ReplayAll("corpus", "wire_fuzz", RunWireInput), 0);
  ReplayAll("regressions", "wire_fuzz", RunWireInput);
}

TEST(FuzzRegressionsTest, StackCorpusAndReproducers) {
  EXPECT_GT(ReplayAll("corpus", "stack_fuzz", RunStackInput), 0);
  ReplayAll("regressions", "stack_fuzz", RunStackInput);
}

}  // namespace
}  // namespace tapstack::fuzz
