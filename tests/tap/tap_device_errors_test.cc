// TapDevice::Open's argument checks. They come before any privileged call, so these run anywhere,
// without root or /dev/net/tun.
#include <gtest/gtest.h>

#include <string>

#include "tap/tap_device.h"

namespace tapstack::tap {
namespace {

absl::StatusCode OpenCode(TapOptions options) {
  absl::StatusOr<std::unique_ptr<TapDevice>> device = TapDevice::Open(options);
  return device.status().code();
}

TEST(TapDeviceErrorsTest, RejectsBadInterfaceNames) {
  for (const std::string name :
       {"", "sixteen-chars-xx", "bad/name", "a b", ".", "..", "tap%d", "tap:0", "t\xc3\xa4p"}) {
    EXPECT_EQ(OpenCode({.name = name}), absl::StatusCode::kInvalidArgument) << "'" << name << "'";
  }
  absl::StatusOr<std::unique_ptr<TapDevice>> device = TapDevice::Open({.name = "bad/name"});
  EXPECT_NE(device.status().message().find("bad/name"), std::string::npos) << device.status();
}

TEST(TapDeviceErrorsTest, RejectsBadNamespaceNamesAndMtus) {
  EXPECT_EQ(OpenCode({.name = "tap0", .netns = "../etc"}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenCode({.name = "tap0", .netns = "a/b"}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenCode({.name = "tap0", .mtu = 10}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenCode({.name = "tap0", .mtu = 70000}), absl::StatusCode::kInvalidArgument);
}

TEST(TapDeviceErrorsTest, MissingNamespaceIsNotFound) {
  absl::StatusOr<std::unique_ptr<TapDevice>> device =
      TapDevice::Open({.name = "tap0", .netns = "tapstack-no-such-namespace"});
  ASSERT_EQ(device.status().code(), absl::StatusCode::kNotFound) << device.status();
  EXPECT_NE(device.status().message().find("ip netns add"), std::string::npos) << device.status();
}

}  // namespace
}  // namespace tapstack::tap
