// Usage errors of the `tapstack` command: exit status 2 and a message that says what is allowed.
// None of these reach a TAP device, so they need no root.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/process.h"

namespace tapstack::testing {
namespace {

struct CliRun {
  int status;
  std::string output;
};

CliRun Tapstack(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {TAPSTACK_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string out = TempPath("cli.out");
  absl::StatusOr<ChildProcess> child = ChildProcess::Spawn(argv, out);
  EXPECT_TRUE(child.ok());
  const std::optional<int> status = child->Wait(std::chrono::seconds(10));
  return CliRun{status.value_or(-1), ReadFile(out)};
}

TEST(CliTest, NoCommandIsAUsageError) {
  const CliRun run = Tapstack({});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("usage: tapstack"));
  EXPECT_EQ(Tapstack({"frobnicate"}).status, 2);
}

TEST(CliTest, KeepaliveValuesOutOfRangeNameTheRange) {
  const std::vector<std::string> base = {"nc", "--addr", "192.0.2.2/24"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"192.0.2.1", "80"});
    return Tapstack(args);
  };
  CliRun run = with({"--keepalive", "3s,2s,0"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("1 to 127"));
  run = with({"--keepalive", "40000s,2s,4"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("1ms to 32767s"));
  run = with({"--keepalive", "3s,2s"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("IDLE,INTERVAL,COUNT"));
  run = with({"--keepalive", "3 seconds,2s,4"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("bad duration"));
  run = with({"--user-timeout", "soon"});
  EXPECT_EQ(run.status, 2);
}

TEST(CliTest, NcArgumentErrors) {
  EXPECT_EQ(Tapstack({"nc", "--addr", "192.0.2.2/24", "192.0.2.1"}).status, 2);
  EXPECT_EQ(Tapstack({"nc", "-l", "--addr", "192.0.2.2/24"}).status, 2);
  EXPECT_EQ(Tapstack({"nc", "--addr", "192.0.2.2/24", "192.0.2.1", "70000"}).status, 2);
  EXPECT_EQ(Tapstack({"nc", "192.0.2.1", "80"}).status, 2) << "--addr is required";
  EXPECT_EQ(Tapstack({"nc", "--addr", "192.0.2.2/40", "192.0.2.1", "80"}).status, 2);
  EXPECT_EQ(Tapstack({"nc", "--bogus", "--addr", "192.0.2.2/24", "192.0.2.1", "80"}).status, 2);
}

TEST(CliTest, UpArgumentErrors) {
  EXPECT_EQ(Tapstack({"up", "--addr", "192.0.2.2/24", "--ping", "nowhere"}).status, 2);
  EXPECT_EQ(Tapstack({"up", "--addr", "192.0.2.2/24", "--count", "0"}).status, 2);
}

// A TAP device that cannot be opened is a local failure (exit status 1), and the message names the
// device, the namespace, the error and its likely cause. Both checks fail before any privileged
// call, so they run without root.
TEST(CliTest, TapOpenFailuresSayWhatAndWhy) {
  CliRun run = Tapstack({"up", "--addr", "192.0.2.2/24", "--tap", "bad/name"});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, ::testing::HasSubstr("cannot open TAP device 'bad/name'"));
  EXPECT_THAT(run.output, ::testing::HasSubstr("Invalid argument"));
  EXPECT_THAT(run.output, ::testing::HasSubstr("1 to 15 characters"));

  run = Tapstack(
      {"nc", "--addr", "192.0.2.2/24", "--netns", "tapstack-no-such-namespace", "192.0.2.1", "80"});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output,
              ::testing::HasSubstr("in network namespace 'tapstack-no-such-namespace'"));
  EXPECT_THAT(run.output, ::testing::HasSubstr("No such file or directory"));
  EXPECT_THAT(run.output, ::testing::HasSubstr("ip netns add tapstack-no-such-namespace"));
}

}  // namespace
}  // namespace tapstack::testing
