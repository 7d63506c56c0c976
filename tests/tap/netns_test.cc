// The TestNetns helper itself: unique names, commands inside, deletion, stale cleanup.
#include "tests/support/netns.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"

namespace tapstack::testing {
namespace {

bool NetnsExists(const std::string& name) {
  return std::filesystem::exists(absl::StrCat("/var/run/netns/", name));
}

TEST(TestNetnsTest, CreatesRunsInsideAndDeletes) {
  if (!RequireTapOrSkip()) return;
  std::string name;
  {
    absl::StatusOr<std::unique_ptr<TestNetns>> a = TestNetns::Create();
    absl::StatusOr<std::unique_ptr<TestNetns>> b = TestNetns::Create();
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    name = (*a)->name();
    EXPECT_NE(name, (*b)->name());
    EXPECT_EQ(name.rfind(absl::StrCat("ts", getpid(), "n"), 0), 0u) << name;
    EXPECT_TRUE(NetnsExists(name));

    CommandResult lo = (*a)->Run("ip -o link show lo");
    EXPECT_EQ(lo.exit_code, 0) << lo.output;
    EXPECT_NE(lo.output.find("UP"), std::string::npos) << lo.output;
    // Only loopback inside: the namespace is fresh.
    CommandResult links = (*a)->Run("ip -o link | wc -l");
    EXPECT_EQ(links.output, "1\n");
    CommandResult failing = (*a)->Run("echo out; echo err >&2; exit 3");
    EXPECT_EQ(failing.exit_code, 3);
    EXPECT_EQ(failing.output, "out\nerr\n");
    EXPECT_FALSE((*a)->RunOk("exit 1").ok());
    // Quoting survives the trip through `ip netns exec ... sh -c`.
    EXPECT_EQ((*a)->Run("printf '%s' \"it's\"").output, "it's");

    // A process left running inside must not keep the namespace alive.
    ASSERT_TRUE((*a)->RunOk("sleep 600 >/dev/null 2>&1 &").ok());
  }
  EXPECT_FALSE(NetnsExists(name));
}

TEST(TestNetnsTest, RemovesNamespacesOfDeadProcesses) {
  if (!RequireTapOrSkip()) return;
  // A pid that surely belongs to no process now: a child that has exited and been reaped.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  const std::string stale = absl::StrCat("ts", child, "n0");
  ASSERT_EQ(RunCommand(absl::StrCat("ip netns add ", stale)).exit_code, 0);
  // A namespace of a live process (ours) stays.
  absl::StatusOr<std::unique_ptr<TestNetns>> live = TestNetns::Create();
  ASSERT_TRUE(live.ok()) << live.status();

  // Another test process starting meanwhile (ctest -j) may remove it first: what matters is that
  // it is gone and the live one is not.
  TestNetns::RemoveStaleNamespaces();
  EXPECT_FALSE(NetnsExists(stale));
  EXPECT_TRUE(NetnsExists((*live)->name()));
  if (NetnsExists(stale)) RunCommand(absl::StrCat("ip netns del ", stale));
}

}  // namespace
}  // namespace tapstack::testing
