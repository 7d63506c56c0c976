// `tapstack demo`'s command line, without a network: usage errors exit 2 before anything is
// built, and a missing root or /dev/net/tun is reported with what to do (exit 1).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "testbed/process.h"
#include "tests/support/files.h"

namespace tapstack::testing {
namespace {

using ::testing::HasSubstr;

struct DemoRun {
  int exit_code;
  std::string output;
};

DemoRun RunDemo(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {TAPSTACK_BINARY, "demo"};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string output = TempPath("demo-cli.out");
  Result<testbed::Process> child = testbed::Process::Spawn(argv, {.output_path = output});
  EXPECT_TRUE(child.ok()) << child.error().message();
  const std::optional<int> status = child->Wait(std::chrono::seconds(30));
  EXPECT_TRUE(status.has_value());
  return {status.value_or(-1), ReadFile(output)};
}

TEST(DemoCliTest, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {"--count", "0"},
      {"--count", "128"},
      {"--idle", "2"},
      {"--idle", "0ms"},
      {"--interval", "soon"},
      {"--scenario", "6"},
      {"--scenario", "4a"},
      {"--unknown"},
      {"extra"},
      {"--out", ""},
      {"--idle"},
  };
  for (const std::vector<std::string>& args : bad) {
    const DemoRun run = RunDemo(args);
    EXPECT_EQ(run.exit_code, 2) << args[0] << ": " << run.output;
    EXPECT_THAT(run.output, HasSubstr("usage: tapstack demo")) << args[0];
  }
}

TEST(DemoCliTest, HelpExitsZero) {
  const DemoRun run = RunDemo({"--help"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("--scenario N"));
}

TEST(DemoCliTest, WithoutRootSaysWhatToDo) {
  if (geteuid() != 0) {
    // Already not root: the demo itself must refuse.
    const DemoRun run = RunDemo({});
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_THAT(run.output, HasSubstr("needs root"));
    return;
  }
  // As root: run it as nobody.
  const std::string output = TempPath("demo-nobody.out");
  const int out = open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  ASSERT_GE(out, 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(125);
    execl(TAPSTACK_BINARY, TAPSTACK_BINARY, "demo", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1) << ReadFile(output);
  EXPECT_THAT(ReadFile(output), HasSubstr("needs root"));
  EXPECT_THAT(ReadFile(output), HasSubstr("Run it as root"));
}

}  // namespace
}  // namespace tapstack::testing
