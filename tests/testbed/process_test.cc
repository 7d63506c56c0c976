// The testbed's child processes and short commands: output, input, exit status, and that nothing
// outlives its owner.
#include "testbed/process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "testbed/command.h"
#include "testbed/failure.h"
#include "tests/support/files.h"

namespace tapstack::testbed {
namespace {

using std::chrono::seconds;

TEST(CommandTest, CollectsOutputAndExitCodeAndFeedsInput) {
  const CommandResult echoed = RunCommand({"sh", "-c", "cat; echo err >&2; exit 3"}, "in\n");
  EXPECT_EQ(echoed.exit_code, 3);
  EXPECT_EQ(echoed.output, "in\nerr\n");
  EXPECT_FALSE(echoed.ok());
  EXPECT_EQ(CheckCommand(echoed), Errno(EIO));
  EXPECT_EQ(LastFailure(), "`sh -c 'cat; echo err >&2; exit 3'` failed (exit 3): in\nerr");
  EXPECT_FALSE(CheckCommand(RunShell("true")));
}

TEST(CommandTest, AMissingProgramIsENOENT) {
  const CommandResult missing = RunCommand({"tapstack-no-such-program"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_EQ(CheckCommand(missing), Errno(ENOENT));
  EXPECT_NE(LastFailure().find("exec failed"), std::string::npos) << LastFailure();
}

TEST(ProcessTest, PipesOutputAndReportsTheExitStatus) {
  Result<Process> child = Process::Spawn({"sh", "-c", "echo ready; exit 7"});
  ASSERT_TRUE(child.ok()) << child.error().message();
  EXPECT_EQ(child->Wait(seconds(10)), 7);
  child->ReadOutput();
  EXPECT_EQ(child->ReadOutput(), "ready\n");
  EXPECT_FALSE(child->signalled());
}

TEST(ProcessTest, AppendsOutputToAFileAndReadsInputFromOne) {
  const std::string input = testing::TempPath("process-in");
  const std::string output = testing::TempPath("process-out");
  ASSERT_TRUE(RunShell("printf 'from a file' > " + ShellQuote(input)).ok());
  Result<Process> child = Process::Spawn({"cat"}, {.output_path = output, .input_path = input});
  ASSERT_TRUE(child.ok()) << child.error().message();
  EXPECT_EQ(child->Wait(seconds(10)), 0);
  EXPECT_EQ(testing::ReadFile(output), "from a file");
  EXPECT_EQ(child->output_fd(), -1);
}

TEST(ProcessTest, AKilledProcessReports128PlusTheSignal) {
  Result<Process> child = Process::Spawn({"sleep", "600"});
  ASSERT_TRUE(child.ok()) << child.error().message();
  EXPECT_EQ(child->Wait(std::chrono::milliseconds(50)), std::nullopt);
  child->Signal(SIGTERM);
  EXPECT_EQ(child->Wait(seconds(10)), 128 + SIGTERM);
  EXPECT_TRUE(child->signalled());
}

TEST(ProcessTest, DestroyingAProcessKillsIt) {
  pid_t pid = -1;
  {
    Result<Process> child = Process::Spawn({"sleep", "600"});
    ASSERT_TRUE(child.ok()) << child.error().message();
    pid = child->pid();
  }
  // Killed and reaped: the pid no longer names our child.
  EXPECT_NE(kill(pid, 0), 0);
}

TEST(ProcessTest, AnEmptyCommandIsEINVAL) {
  Result<Process> child = Process::Spawn({});
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.error(), Errno(EINVAL));
}

}  // namespace
}  // namespace tapstack::testbed
