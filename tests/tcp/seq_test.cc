#include "stack/tcp/seq.h"

#include <gtest/gtest.h>

namespace tapstack::tcp {
namespace {

TEST(SeqTest, ComparesAcrossTheWrap) {
  const Seq before_wrap(0xffff'fff0u);
  const Seq after_wrap(0x10u);
  EXPECT_LT(before_wrap, after_wrap);
  EXPECT_GT(after_wrap, before_wrap);
  EXPECT_EQ(after_wrap - before_wrap, 0x20u);
  EXPECT_EQ(before_wrap + 0x20u, after_wrap);
  EXPECT_EQ(after_wrap - 0x20u, before_wrap);
}

TEST(SeqTest, RangesFollowRfc9293) {
  const Seq low(0xffff'ff00u);
  const Seq high = low + 0x200;
  EXPECT_TRUE(InHalfOpenRange(low, low, high));
  EXPECT_TRUE(InHalfOpenRange(Seq(5), low, high));
  EXPECT_FALSE(InHalfOpenRange(high, low, high));
  EXPECT_TRUE(InClosedRange(high, low, high));
  EXPECT_FALSE(InClosedRange(low - 1, low, high));
  EXPECT_EQ(Max(low, high), high);
  EXPECT_EQ(Min(low, high), low);
}

TEST(SeqTest, HalfTheSpaceAwayIsTheBoundary) {
  const Seq zero(0);
  EXPECT_LT(zero, Seq(0x7fff'ffffu));
  EXPECT_GT(zero, Seq(0x8000'0001u));
}

}  // namespace
}  // namespace tapstack::tcp
