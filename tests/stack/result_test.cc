// Result<T>, the value-or-error type of the public API (stack/result.h).
#include "stack/result.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "stack/tcp/tcp_types.h"

namespace tapstack {
namespace {

// No default constructor: Result must not need one.
struct OnlyFromInt {
  explicit OnlyFromInt(int v) : value(v) {}
  int value;
};

TEST(ResultTest, HoldsAValueOrAnError) {
  const Result<int> value = 7;
  ASSERT_TRUE(value.ok());
  EXPECT_TRUE(static_cast<bool>(value));
  EXPECT_FALSE(value.error());
  EXPECT_EQ(*value, 7);
  EXPECT_EQ(value.value(), 7);

  const Result<int> error = Errno(ENOENT);
  EXPECT_FALSE(error.ok());
  EXPECT_FALSE(static_cast<bool>(error));
  EXPECT_EQ(error.error(), std::errc::no_such_file_or_directory);
  EXPECT_EQ(error.error().category(), std::generic_category());
}

TEST(ResultTest, MovesAMoveOnlyValueOut) {
  Result<std::unique_ptr<std::string>> result = std::make_unique<std::string>("tap0");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(**result, "tap0");
  EXPECT_EQ(result->get()->size(), 4u);
  (*result)->append("!");  // non-const access
  std::unique_ptr<std::string> taken = std::move(result).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, "tap0!");

  Result<std::unique_ptr<int>> other = std::make_unique<int>(3);
  std::unique_ptr<int> also_taken = *std::move(other);
  EXPECT_EQ(*also_taken, 3);
}

TEST(ResultTest, NeedsNoDefaultConstructor) {
  const Result<OnlyFromInt> value = OnlyFromInt(5);
  EXPECT_EQ(value->value, 5);
  const Result<OnlyFromInt> error = Errno(EINVAL);
  EXPECT_EQ(error.error(), std::errc::invalid_argument);
}

TEST(ResultTest, TcpNamesAreTheSameType) {
  static_assert(std::is_same_v<tcp::Result<int>, Result<int>>);
  EXPECT_EQ(tcp::Errno(ETIMEDOUT), Errno(ETIMEDOUT));
}

}  // namespace
}  // namespace tapstack
