#include "tests/support/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "testbed/failure.h"

namespace tapstack::testing {

Result<std::unique_ptr<testbed::Namespace>> CreateTestNamespace() {
  static std::once_flag cleaned;
  std::call_once(cleaned, [] { testbed::RemoveStaleNamespaces(testbed::kTestNames); });
  static std::atomic<int> counter{0};
  return testbed::Namespace::Create(testbed::kTestNames, absl::StrCat(counter.fetch_add(1)));
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
    Result<std::unique_ptr<testbed::Namespace>> probe = CreateTestNamespace();
    if (!probe.ok()) {
      return absl::StrCat("cannot create a network namespace (needs root): ",
                          testbed::LastFailure());
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
  Result<std::unique_ptr<testbed::Namespace>> netns = CreateTestNamespace();
  ASSERT_TRUE(netns.ok()) << testbed::LastFailure();
  netns_ = *std::move(netns);
}

}  // namespace tapstack::testing
