// The testbed's namespaces: unique names, commands inside, deletion, stale cleanup.
#include "testbed/netns.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "testbed/failure.h"
#include "tests/support/netns.h"

namespace tapstack::testing {
namespace {

bool NetnsExists(const std::string& name) {
  return std::filesystem::exists(absl::StrCat("/var/run/netns/", name));
}

TEST(NamespaceTest, CreatesRunsInsideAndDeletes) {
  if (!RequireTapOrSkip()) return;
  std::string name;
  {
    Result<std::unique_ptr<testbed::Namespace>> a = CreateTestNamespace();
    Result<std::unique_ptr<testbed::Namespace>> b = CreateTestNamespace();
    ASSERT_TRUE(a.ok()) << testbed::LastFailure();
    ASSERT_TRUE(b.ok()) << testbed::LastFailure();
    name = (*a)->name();
    EXPECT_NE(name, (*b)->name());
    EXPECT_EQ(name.rfind(absl::StrCat("ts", getpid(), "n"), 0), 0u) << name;
    EXPECT_TRUE(NetnsExists(name));

    CommandResult lo = (*a)->Shell("ip -o link show lo");
    EXPECT_EQ(lo.exit_code, 0) << lo.output;
    EXPECT_NE(lo.output.find("UP"), std::string::npos) << lo.output;
    // Only loopback inside: the namespace is fresh.
    CommandResult links = (*a)->Shell("ip -o link | wc -l");
    EXPECT_EQ(links.output, "1\n");
    CommandResult failing = (*a)->Shell("echo out; echo err >&2; exit 3");
    EXPECT_EQ(failing.exit_code, 3);
    EXPECT_EQ(failing.output, "out\nerr\n");
    EXPECT_FALSE((*a)->Shell("exit 1").ok());
    // Quoting survives the trip through `ip netns exec ... sh -c`.
    EXPECT_EQ((*a)->Shell("printf '%s' \"it's\"").output, "it's");

    // A process left running inside must not keep the namespace alive.
    ASSERT_TRUE((*a)->Shell("sleep 600 >/dev/null 2>&1 &").ok());
  }
  EXPECT_FALSE(NetnsExists(name));
}

TEST(NamespaceTest, RemovesNamespacesOfDeadProcesses) {
  if (!RequireTapOrSkip()) return;
  // A pid that surely belongs to no process now: a child that has exited and been reaped.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  const std::string stale = absl::StrCat("ts", child, "n0");
  ASSERT_EQ(RunShell(absl::StrCat("ip netns add ", stale)).exit_code, 0);
  // A namespace of a live process (ours) stays.
  Result<std::unique_ptr<testbed::Namespace>> live = CreateTestNamespace();
  ASSERT_TRUE(live.ok()) << testbed::LastFailure();

  // Another test process starting meanwhile (ctest -j) may remove it first: what matters is that
  // it is gone and the live one is not.
  testbed::RemoveStaleNamespaces(testbed::kTestNames);
  EXPECT_FALSE(NetnsExists(stale));
  EXPECT_TRUE(NetnsExists((*live)->name()));
  if (NetnsExists(stale)) RunShell(absl::StrCat("ip netns del ", stale));
}

// Each program finds only its own names, and only well-formed ones.
TEST(NamespaceTest, OwnerPidReadsOnlyNamesOfItsPattern) {
  EXPECT_EQ(testbed::OwnerPid(testbed::kTestNames, "ts123n4"), 123);
  EXPECT_EQ(testbed::OwnerPid(testbed::kDemoNames, "tsdemo-123-s4-nat"), 123);
  EXPECT_EQ(testbed::OwnerPid(testbed::kTestNames, "tsdemo-123-s4"), std::nullopt);
  EXPECT_EQ(testbed::OwnerPid(testbed::kDemoNames, "ts123n4"), std::nullopt);
  EXPECT_EQ(testbed::OwnerPid(testbed::kTestNames, "ts123n"), std::nullopt);
  EXPECT_EQ(testbed::OwnerPid(testbed::kTestNames, "tsn4"), std::nullopt);
  EXPECT_EQ(testbed::OwnerPid(testbed::kTestNames, "ts12x3n4"), std::nullopt);
  EXPECT_EQ(testbed::OwnerPid(testbed::kDemoNames, "lab"), std::nullopt);
  EXPECT_EQ(testbed::NamespaceName(testbed::kDemoNames, "s1"),
            absl::StrCat("tsdemo-", getpid(), "-s1"));
}

}  // namespace
}  // namespace tapstack::testing
