// Network namespaces for tests that need a TAP device or a kernel peer (docs/testbed.md).
//
//   class MyTest : public tapstack::testing::NetnsTest {};   // skips or fails without TAP support
//   TEST_F(MyTest, Ping) {
//     ASSERT_TRUE(netns().RunOk("ip link set lo up").ok());
//     CommandResult r = netns().Run("ping -c 1 127.0.0.1");
//     EXPECT_EQ(r.exit_code, 0) << r.output;
//   }
//
// Or without the fixture: `if (!RequireTapOrSkip()) return;` then TestNetns::Create().
//
// Every namespace is named "ts<pid>n<counter>", unique per process and per test, so `ctest -j`
// runs tests side by side. It is deleted by ~TestNetns, after killing whatever still runs inside
// it, also when the test fails (RAII). A process that dies without running destructors (SIGKILL,
// a ctest timeout) leaves its namespaces behind; the first TestNetns::Create() of every process
// removes those whose pid no longer exists (RemoveStaleNamespaces). Names of the form
// "ts<pid>n<counter>" are thus reserved for this helper.
#ifndef TAPSTACK_TESTS_SUPPORT_NETNS_H_
#define TAPSTACK_TESTS_SUPPORT_NETNS_H_

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tapstack::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when the command could not start or was killed by a signal
  std::string output;  // standard output and standard error, interleaved
};

// Runs `command` with `sh -c` in the calling process's namespace and waits for it. A command that
// leaves a process in the background must redirect that process's output (`cmd >/dev/null 2>&1 &`)
// or this waits for it.
CommandResult RunCommand(const std::string& command);

// `s` as one single-quoted shell word.
std::string ShellQuote(absl::string_view s);

class TestNetns {
 public:
  // Creates a new namespace with its loopback up. Removes stale namespaces first (once per
  // process).
  static absl::StatusOr<std::unique_ptr<TestNetns>> Create();
  ~TestNetns();

  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;

  const std::string& name() const { return name_; }

  // Runs `command` inside the namespace: `ip netns exec NAME sh -c COMMAND`.
  CommandResult Run(const std::string& command) const;
  // Like Run; an error carrying the command and its output when it exits non-zero.
  absl::Status RunOk(const std::string& command) const;

  // Deletes namespaces named ts<pid>n<counter> whose process is gone. Returns how many.
  static int RemoveStaleNamespaces();

 private:
  explicit TestNetns(std::string name) : name_(std::move(name)) {}

  std::string name_;
};

// Empty when this machine can run TAP tests (/dev/net/tun opens, `ip netns add` works); the reason
// otherwise. Checked once per process.
std::optional<std::string> TapUnavailableReason();

// True when TAP tests can run. Otherwise, when the environment has REQUIRE_TAP=1 (CI), records a
// fatal failure, else skips the test (GTEST_SKIP) with the reason; either way returns false and
// the caller must return.
[[nodiscard]] bool RequireTapOrSkip();

// A fixture whose SetUp does RequireTapOrSkip() and creates a fresh namespace for each test.
class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override { netns_.reset(); }
  TestNetns& netns() { return *netns_; }

 private:
  std::unique_ptr<TestNetns> netns_;
};

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_NETNS_H_
