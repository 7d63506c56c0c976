// TapDevice::Open's argument checks. They come before any privileged call, so these run anywhere,
// without root or /dev/net/tun.
#include <gtest/gtest.h>

#include <string>
#include <system_error>

#include "tap/tap_device.h"

namespace tapstack::tap {
namespace {

std::error_code OpenError(TapOptions options) { return TapDevice::Open(options).error(); }

TEST(TapDeviceErrorsTest, RejectsBadInterfaceNames) {
  for (const std::string name :
       {"", "sixteen-chars-xx", "bad/name", "a b", ".", "..", "tap%d", "tap:0", "t\xc3\xa4p"}) {
    EXPECT_EQ(OpenError({.name = name}), std::errc::invalid_argument) << "'" << name << "'";
  }
  // The code carries no text; the description for a person names the culprit.
  const TapOptions options{.name = "bad/name"};
  const std::string message = DescribeOpenError(options, OpenError(options));
  EXPECT_NE(message.find("bad/name"), std::string::npos) << message;
  EXPECT_NE(message.find("1 to 15 characters"), std::string::npos) << message;
}

TEST(TapDeviceErrorsTest, RejectsBadNamespaceNamesAndMtus) {
  EXPECT_EQ(OpenError({.name = "tap0", .netns = "../etc"}), std::errc::invalid_argument);
  EXPECT_EQ(OpenError({.name = "tap0", .netns = "a/b"}), std::errc::invalid_argument);
  EXPECT_EQ(OpenError({.name = "tap0", .mtu = 10}), std::errc::invalid_argument);
  EXPECT_EQ(OpenError({.name = "tap0", .mtu = 70000}), std::errc::invalid_argument);
  const TapOptions options{.name = "tap0", .mtu = 70000};
  const std::string message = DescribeOpenError(options, OpenError(options));
  EXPECT_NE(message.find("MTU 70000"), std::string::npos) << message;
}

TEST(TapDeviceErrorsTest, MissingNamespaceIsNotFound) {
  const TapOptions options{.name = "tap0", .netns = "tapstack-no-such-namespace"};
  const std::error_code error = OpenError(options);
  ASSERT_EQ(error, std::errc::no_such_file_or_directory) << error.message();
  const std::string message = DescribeOpenError(options, error);
  EXPECT_NE(message.find("ip netns add tapstack-no-such-namespace"), std::string::npos) << message;
}

}  // namespace
}  // namespace tapstack::tap
