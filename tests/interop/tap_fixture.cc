#include "tests/interop/tap_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include "testbed/failure.h"

namespace tapstack::testing {

void TapTest::SetUp() {
  NetnsTest::SetUp();
  if (::testing::Test::IsSkipped() || ::testing::Test::HasFatalFailure()) return;
  ASSERT_FALSE(testbed::AddKernelTap(netns())) << testbed::LastFailure();
  // Linux rate-limits answers to out-of-window segments (docs/testbed.md); tests want every answer.
  (void)netns().Shell("sysctl -qw net.ipv4.tcp_invalid_ratelimit=0");
  output_path_ = TempPath("tapstack.out");
}

testbed::Process TapTest::StartTapstack(const std::string& subcommand,
                                        const std::vector<std::string>& args,
                                        const std::string& input_path) {
  std::vector<std::string> argv = {
      TAPSTACK_BINARY, subcommand, "--netns", netns().name(),
      "--tap",         "tap0",     "--addr",  std::string(kStackAddress) + "/24",
      "--mac",         kStackMac};
  argv.insert(argv.end(), args.begin(), args.end());
  // With TAPSTACK_PCAP_DIR set, every run records its traffic (unless the test records already).
  if (std::find(args.begin(), args.end(), "--pcap") == args.end()) {
    if (const std::optional<std::string> path = CapturePath()) {
      argv.insert(argv.begin() + 2, {"--pcap", *path});
    }
  }
  Result<testbed::Process> child =
      testbed::Process::Spawn(argv, {.output_path = output_path_, .input_path = input_path});
  EXPECT_TRUE(child.ok()) << child.error().message();
  return std::move(*child);
}

void TapTest::WaitForOperstateUp() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (netns().Shell("cat /sys/class/net/tap0/operstate").output.starts_with("up")) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "tap0 never came up: " << netns().Shell("ip link show tap0").output;
}

void TapTest::WaitUntilStackAnswers() {
  // arping is not installed everywhere; a single ping with a short deadline resolves our MAC.
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (netns().Shell(std::string("ping -c 1 -W 1 ") + kStackAddress).exit_code == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "the stack never answered; its output:\n" << Output();
}

std::map<std::string, long long> TapTest::ParseStats(const std::string& output) {
  std::map<std::string, long long> stats;
  std::istringstream lines(output);
  std::string name;
  long long value = 0;
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    if (fields >> name >> value && fields.eof()) stats[name] = value;
  }
  return stats;
}

void TapTest::AddKernelIpv6Address() {
  const CommandResult added =
      netns().Shell("ip addr add " + kKernelAddress6 + "/64 dev tap0 nodad");
  ASSERT_EQ(added.exit_code, 0) << added.output;
}

}  // namespace tapstack::testing
