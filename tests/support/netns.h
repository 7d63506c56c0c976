// The GoogleTest side of the testbed's namespaces (testbed/netns.h, docs/testbed.md).
//
//   class MyTest : public tapstack::testing::NetnsTest {};   // skips or fails without TAP support
//   TEST_F(MyTest, Ping) {
//     testbed::CommandResult r = netns().Shell("ping -c 1 127.0.0.1");
//     EXPECT_EQ(r.exit_code, 0) << r.output;
//   }
//
// Or without the fixture: `if (!RequireTapOrSkip()) return;` then CreateTestNamespace().
//
// Test namespaces are named "ts<pid>n<counter>" (testbed::kTestNames), unique per process and per
// test, so `ctest -j` runs tests side by side. Each is deleted when its owner goes, after killing
// whatever still runs inside it, also when the test fails (RAII). The first CreateTestNamespace()
// of every process removes the namespaces that killed test processes left behind.
#ifndef TAPSTACK_TESTS_SUPPORT_NETNS_H_
#define TAPSTACK_TESTS_SUPPORT_NETNS_H_

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "stack/result.h"
#include "testbed/command.h"
#include "testbed/netns.h"

namespace tapstack::testing {

// The testbed's names, used all over the tests.
using testbed::CommandResult;
using testbed::RunShell;
using testbed::ShellQuote;

// A fresh namespace ts<pid>n<counter> with its loopback up; removes stale test namespaces first
// (once per process). On failure testbed::LastFailure() says why.
Result<std::unique_ptr<testbed::Namespace>> CreateTestNamespace();

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
  testbed::Namespace& netns() { return *netns_; }

 private:
  std::unique_ptr<testbed::Namespace> netns_;
};

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_NETNS_H_
