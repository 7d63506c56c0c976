// Replays every committed fuzz input (the seed corpus and the crash reproducers under
// tests/fuzz/regressions) through the same drivers the libFuzzer targets run, in the gcc sanitizer
// build: a crash the fuzzer once found stays fixed without clang or libFuzzer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
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

// The IPv6 seeds reach what they are named for: the stack_fuzz session has IPv6 on, and the
// peer's resolution and ping are answered (a neighbor advertisement, an echo reply), the errors
// seed draws Parameter Problems.
TEST(FuzzRegressionsTest, Ipv6SeedsReachTheIpv6Layer) {
  const auto icmpv6_types = [](const std::string& seed) {
    std::vector<int> types;
    const std::filesystem::path path =
        std::filesystem::path(TAPSTACK_FUZZ_DIR) / "corpus" / "stack_fuzz" / seed;
    for (const std::vector<std::uint8_t>& frame : RunStackInputAndCollect(ReadFile(path))) {
      // Ethernet type 0x86dd, next header 58: the ICMPv6 type follows the 40-byte header.
      if (frame.size() > 54 && frame[12] == 0x86 && frame[13] == 0xdd && frame[20] == 58) {
        types.push_back(frame[54]);
      }
    }
    return types;
  };
  const std::vector<int> ping = icmpv6_types("ipv6-ping-us");
  EXPECT_NE(std::find(ping.begin(), ping.end(), 136), ping.end()) << "an advertisement";
  EXPECT_NE(std::find(ping.begin(), ping.end(), 129), ping.end()) << "an echo reply";
  const std::vector<int> errors = icmpv6_types("ipv6-errors");
  EXPECT_EQ(std::count(errors.begin(), errors.end(), 4), 6) << "six errors, then rate-limited";
}

}  // namespace
}  // namespace tapstack::fuzz
