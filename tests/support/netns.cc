#include "tests/support/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace tapstack::testing {
namespace {

constexpr char kNetnsDir[] = "/var/run/netns";

std::string NextName() {
  static std::atomic<int> counter{0};
  return absl::StrCat("ts", getpid(), "n", counter.fetch_add(1));
}

// The pid in a name of the form ts<pid>n<counter>, or nullopt for any other name. (Parsed by
// hand: std::regex trips GCC 12's -Wmaybe-uninitialized under -Werror.)
std::optional<pid_t> PidOfOurName(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, "ts")) return std::nullopt;
  const std::size_t n = name.find('n');
  if (n == absl::string_view::npos || n == 0 || n + 1 == name.size()) return std::nullopt;
  const absl::string_view pid_text = name.substr(0, n);
  const absl::string_view counter_text = name.substr(n + 1);
  auto all_digits = [](absl::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!all_digits(pid_text) || !all_digits(counter_text)) return std::nullopt;
  pid_t pid = 0;
  if (!absl::SimpleAtoi(pid_text, &pid) || pid <= 0) return std::nullopt;
  return pid;
}

bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

}  // namespace

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  const std::string full = absl::StrCat("exec 2>&1; ", command);
  FILE* pipe = popen(absl::StrCat("sh -c ", ShellQuote(full)).c_str(), "r");
  if (pipe == nullptr) {
    result.output = absl::StrCat("popen: ", std::strerror(errno));
    return result;
  }
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

std::string ShellQuote(absl::string_view s) {
  std::string quoted = "'";
  for (char c : s) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += "'";
  return quoted;
}

absl::StatusOr<std::unique_ptr<TestNetns>> TestNetns::Create() {
  static std::once_flag cleaned;
  std::call_once(cleaned, [] { RemoveStaleNamespaces(); });

  const std::string name = NextName();
  CommandResult added = RunCommand(absl::StrCat("ip netns add ", name));
  if (added.exit_code != 0) {
    return absl::UnavailableError(
        absl::StrCat("`ip netns add ", name, "` failed (", added.exit_code, "): ", added.output));
  }
  // From here on the destructor deletes the namespace, whatever fails next.
  std::unique_ptr<TestNetns> netns(new TestNetns(name));
  if (absl::Status s = netns->RunOk("ip link set lo up"); !s.ok()) return s;
  return netns;
}

TestNetns::~TestNetns() {
  // A process left inside (a server started in the background) would keep the namespace alive
  // after `ip netns del` unmounts its name.
  RunCommand(absl::StrCat("ip netns pids ", name_, " | xargs -r kill -9"));
  CommandResult deleted = RunCommand(absl::StrCat("ip netns del ", name_));
  if (deleted.exit_code != 0) {
    std::fprintf(stderr, "TestNetns: `ip netns del %s` failed: %s\n", name_.c_str(),
                 deleted.output.c_str());
  }
}

CommandResult TestNetns::Run(const std::string& command) const {
  return RunCommand(absl::StrCat("ip netns exec ", name_, " sh -c ", ShellQuote(command)));
}

absl::Status TestNetns::RunOk(const std::string& command) const {
  CommandResult result = Run(command);
  if (result.exit_code == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("in namespace ", name_, ": `", command, "` exited with ",
                                          result.exit_code, ": ", result.output));
}

int TestNetns::RemoveStaleNamespaces() {
  std::error_code error;
  std::filesystem::directory_iterator it(kNetnsDir, error);
  if (error) return 0;  // no namespace was ever created here
  int removed = 0;
  for (const std::filesystem::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    const std::optional<pid_t> pid = PidOfOurName(name);
    if (!pid.has_value() || ProcessExists(*pid)) continue;
    RunCommand(absl::StrCat("ip netns pids ", name, " | xargs -r kill -9"));
    if (RunCommand(absl::StrCat("ip netns del ", name)).exit_code == 0) ++removed;
  }
  return removed;
}

std::optional<std::string> TapUnavailableReason() {
  static const std::optional<std::string> reason = []() -> std::optional<std::string> {
    const int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      const int error = errno;
      if (error == ENOENT || error == ENODEV || error == ENXIO) {
        return "no /dev/net/tun: load the tun module (modprobe tun)";
      }
      return absl::StrCat("cannot open /dev/net/tun (", std::strerror(error),
                          "): TAP tests need root or CAP_NET_ADMIN");
    }
    close(fd);
    absl::StatusOr<std::unique_ptr<TestNetns>> probe = TestNetns::Create();
    if (!probe.ok()) {
      return absl::StrCat("cannot create a network namespace (needs root): ",
                          probe.status().message());
    }
    return std::nullopt;
  }();
  return reason;
}

bool RequireTapOrSkip() {
  std::optional<std::string> reason = TapUnavailableReason();
  if (!reason.has_value()) return true;
  const char* required = std::getenv("REQUIRE_TAP");
  if (required != nullptr && std::string_view(required) == "1") {
    // FAIL() and GTEST_SKIP() return from the enclosing function, hence the lambdas.
    [&reason] { FAIL() << "REQUIRE_TAP=1 but " << *reason; }();
  } else {
    [&reason] {
      GTEST_SKIP() << "TAP test skipped: " << *reason << " (REQUIRE_TAP=1 fails instead)";
    }();
  }
  return false;
}

void NetnsTest::SetUp() {
  if (!RequireTapOrSkip()) return;
  absl::StatusOr<std::unique_ptr<TestNetns>> netns = TestNetns::Create();
  ASSERT_TRUE(netns.ok()) << netns.status();
  netns_ = *std::move(netns);
}

}  // namespace tapstack::testing
