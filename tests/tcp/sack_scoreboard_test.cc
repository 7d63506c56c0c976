// The sender's SACK scoreboard (RFC 6675 2) on its own: what blocks it records, and the answers
// RFC 6675's recovery takes from it (IsLost as a boundary, the unSACKed bytes pipe counts, the
// holes NextSeg resends), checked to the byte, across the wrap of the sequence space too.
#include "stack/tcp/sack_scoreboard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <vector>

namespace tapstack::tcp {

void PrintTo(const SeqRange& range, std::ostream* os) {
  *os << "[" << range.left.value() << ", " << range.right.value() << ")";
}

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr std::uint32_t kMss = 1000;
constexpr std::uint32_t kDupThreshold = 3;

// Byte offsets from a base, so that every test also runs across the wrap of the space.
class SackScoreboardTest : public ::testing::TestWithParam<std::uint32_t> {
 protected:
  Seq At(std::uint32_t offset) const { return Seq(GetParam() + offset); }
  SeqRange Range(std::uint32_t left, std::uint32_t right) const {
    return SeqRange{At(left), At(right)};
  }
  bool Update(std::uint32_t una, std::uint32_t max, std::vector<SeqRange> blocks) {
    return board_.Update(At(una), At(max), blocks);
  }
  std::vector<SeqRange> Ranges() const {
    return std::vector<SeqRange>(board_.ranges().begin(), board_.ranges().end());
  }

  SackScoreboard board_;
};

TEST_P(SackScoreboardTest, RecordsBlocksInOrderAndSaysWhenTheyBringNews) {
  EXPECT_TRUE(Update(0, 10'000, {Range(5000, 6000)}));
  EXPECT_TRUE(Update(0, 10'000, {Range(2000, 3000)}));
  EXPECT_THAT(Ranges(), ElementsAre(Range(2000, 3000), Range(5000, 6000)));
  // The same blocks again, or a part of one: nothing new (RFC 6675 2: not a duplicate ACK).
  EXPECT_FALSE(Update(0, 10'000, {Range(5000, 6000), Range(2000, 2500)}));
  // One byte more is news.
  EXPECT_TRUE(Update(0, 10'000, {Range(5000, 6001)}));
  EXPECT_THAT(Ranges(), ElementsAre(Range(2000, 3000), Range(5000, 6001)));
}

TEST_P(SackScoreboardTest, MergesOverlappingAndAdjacentBlocks) {
  Update(0, 10'000, {Range(1000, 2000), Range(3000, 4000), Range(6000, 7000)});
  // Adjacent on the left, overlapping on the right: the first two become one.
  EXPECT_TRUE(Update(0, 10'000, {Range(2000, 3500)}));
  EXPECT_THAT(Ranges(), ElementsAre(Range(1000, 4000), Range(6000, 7000)));
  // One block spanning everything.
  EXPECT_TRUE(Update(0, 10'000, {Range(500, 8000)}));
  EXPECT_THAT(Ranges(), ElementsAre(Range(500, 8000)));
}

TEST_P(SackScoreboardTest, IgnoresBlocksThatReportNothingWeSentAboveTheAck) {
  // Empty, inverted, beyond SND.MAX, and wholly acknowledged (a D-SACK block below the ACK).
  EXPECT_FALSE(Update(
      1000, 10'000, {Range(3000, 3000), Range(4000, 3500), Range(9000, 10'001), Range(500, 1000)}));
  EXPECT_THAT(Ranges(), IsEmpty());
  // A block straddling the ACK keeps only what lies above it.
  EXPECT_TRUE(Update(1000, 10'000, {Range(500, 1500)}));
  EXPECT_THAT(Ranges(), ElementsAre(Range(1000, 1500)));
}

TEST_P(SackScoreboardTest, CumulativeAckDropsAndTrimsRanges) {
  Update(0, 10'000, {Range(1000, 2000), Range(3000, 4000), Range(5000, 6000)});
  board_.Acknowledge(At(3500));
  EXPECT_THAT(Ranges(), ElementsAre(Range(3500, 4000), Range(5000, 6000)));
  board_.Acknowledge(At(6000));
  EXPECT_TRUE(board_.empty());
  EXPECT_EQ(board_.HighestSacked(At(6000)), At(6000));
}

TEST_P(SackScoreboardTest, LostBoundaryFollowsRfc6675IsLost) {
  // Nothing SACKed: nothing lost.
  EXPECT_EQ(board_.LostBoundary(At(0), kMss, kDupThreshold), At(0));
  // Two segments SACKed above the hole: (DupThresh - 1) * SMSS bytes, not more: not lost yet.
  Update(0, 10'000, {Range(1000, 3000)});
  EXPECT_EQ(board_.LostBoundary(At(0), kMss, kDupThreshold), At(0));
  // One byte more: more than (DupThresh - 1) * SMSS bytes above [0, 1000), which is lost.
  Update(0, 10'000, {Range(3000, 3001)});
  EXPECT_EQ(board_.LostBoundary(At(0), kMss, kDupThreshold), At(1000));
  // Three discontiguous ranges, few bytes: the bytes below the lowest of them are lost, and a
  // hole between the upper two is not.
  board_.Clear();
  Update(0, 10'000, {Range(2000, 2100), Range(4000, 4100), Range(6000, 6100)});
  EXPECT_EQ(board_.LostBoundary(At(0), kMss, kDupThreshold), At(2000));
  // With [7000, 8901) above them, 2,001 bytes lie above the hole before 6000 and only two
  // ranges: the byte rule takes the hole for lost.
  Update(0, 10'000, {Range(7000, 8901)});
  EXPECT_EQ(board_.LostBoundary(At(0), kMss, kDupThreshold), At(6000));
}

TEST_P(SackScoreboardTest, CountsUnsackedBytesInAnyInterval) {
  Update(0, 10'000, {Range(1000, 2000), Range(3000, 4000)});
  EXPECT_EQ(board_.UnsackedBytes(At(0), At(10'000)), 8000u);
  EXPECT_EQ(board_.UnsackedBytes(At(1500), At(3500)), 1000u);
  EXPECT_EQ(board_.UnsackedBytes(At(1000), At(2000)), 0u);
  EXPECT_EQ(board_.UnsackedBytes(At(5000), At(5000)), 0u);
  EXPECT_EQ(board_.UnsackedBytes(At(6000), At(5000)), 0u);  // an empty interval
}

TEST_P(SackScoreboardTest, NextHoleSkipsSackedDataAndStopsAtTheLimit) {
  Update(0, 10'000, {Range(1000, 2000), Range(2500, 4000)});
  EXPECT_EQ(board_.NextHole(At(0), At(10'000), kMss), Range(0, 1000));
  EXPECT_EQ(board_.NextHole(At(0), At(10'000), 600), Range(0, 600));  // at most max_length
  EXPECT_EQ(board_.NextHole(At(1200), At(10'000), kMss), Range(2000, 2500));
  EXPECT_EQ(board_.NextHole(At(2500), At(10'000), kMss), Range(4000, 5000));
  EXPECT_EQ(board_.NextHole(At(2500), At(4300), kMss), Range(4000, 4300));
  EXPECT_EQ(board_.NextHole(At(1000), At(2000), kMss), std::nullopt);  // all SACKed
  EXPECT_EQ(board_.NextHole(At(4000), At(4000), kMss), std::nullopt);  // nothing below the limit
}

TEST_P(SackScoreboardTest, ForgetsTheHighestRangeWhenFull) {
  // kMaxRanges separate ranges, then one more in the middle and one above them all.
  for (std::uint32_t i = 0; i < SackScoreboard::kMaxRanges; ++i) {
    Update(0, 1'000'000, {Range(1000 + i * 1000, 1500 + i * 1000)});
  }
  ASSERT_EQ(board_.ranges().size(), SackScoreboard::kMaxRanges);
  const SeqRange highest = board_.ranges().back();
  EXPECT_TRUE(Update(0, 1'000'000, {Range(1600, 1700)}));
  EXPECT_EQ(board_.ranges().size(), SackScoreboard::kMaxRanges);
  EXPECT_EQ(board_.ranges()[1], Range(1600, 1700));
  EXPECT_NE(board_.ranges().back(), highest) << "the highest was forgotten to make room";
  // A block above everything kept is news, but there is no room for it.
  EXPECT_TRUE(Update(0, 1'000'000, {Range(900'000, 901'000)}));
  EXPECT_EQ(board_.ranges().size(), SackScoreboard::kMaxRanges);
  EXPECT_EQ(board_.HighestSacked(At(0)), board_.ranges().back().right);
  EXPECT_LT(board_.HighestSacked(At(0)), At(900'000));
}

// RFC 8985 6.2 for every copy: a resent hole is lost once more than `margin` bytes sent after it
// (at or above SND.MAX when it was resent) are SACKed while some of it is not; its unSACKed bytes
// then leave pipe; a cumulative ACK settles copies below it; resending replaces the record.
TEST_P(SackScoreboardTest, ResentCopiesAreLostOnceDataSentAfterThemIsSacked) {
  // Sent 0 to 10000; holes at [0, 1000) and [2000, 3000), the rest SACKed up to 8000.
  Update(0, 10'000, {Range(1000, 2000), Range(3000, 8000)});
  board_.RecordResend(Range(0, 1000), At(10'000));
  board_.RecordResend(Range(2000, 3000), At(10'000));
  EXPECT_EQ(board_.FirstLostResend(At(12'000), 0, kMss), std::nullopt)
      << "nothing sent after the copies is SACKed";
  EXPECT_EQ(board_.LostResendBytes(At(0), At(3000), At(12'000), 0), 0u);
  // 10000 to 10500, sent after both copies, arrives.
  Update(0, 12'000, {Range(10'000, 10'500)});
  EXPECT_EQ(board_.FirstLostResend(At(12'000), 0, kMss), Range(0, 1000));
  EXPECT_EQ(board_.FirstLostResend(At(12'000), 500, kMss), std::nullopt)
      << "500 bytes after them: not more than a 500-byte margin";
  EXPECT_EQ(board_.FirstLostResend(At(12'000), 0, 400), Range(0, 400)) << "at most max_length";
  EXPECT_EQ(board_.LostResendBytes(At(0), At(3000), At(12'000), 0), 2000u);
  EXPECT_EQ(board_.LostResendBytes(At(500), At(2500), At(12'000), 0), 1000u);
  // The first hole goes again: its new copy is not lost; the other one still is.
  board_.RecordResend(Range(0, 1000), At(12'000));
  EXPECT_EQ(board_.FirstLostResend(At(12'000), 0, kMss), Range(2000, 3000));
  EXPECT_EQ(board_.LostResendBytes(At(0), At(3000), At(12'000), 0), 1000u);
  // Half of the second hole is SACKed after all (the copy was late, not lost): the rest remains.
  Update(0, 12'000, {Range(2000, 2500)});
  EXPECT_EQ(board_.FirstLostResend(At(12'000), 0, kMss), Range(2500, 3000));
  // The cumulative ACK reaches into the second hole: the first copy is settled, the second
  // trimmed.
  board_.Acknowledge(At(2700));
  EXPECT_EQ(board_.FirstLostResend(At(12'000), 0, kMss), Range(2700, 3000));
  EXPECT_EQ(board_.LostResendBytes(At(0), At(3000), At(12'000), 0), 300u);
  board_.Acknowledge(At(3000));
  EXPECT_EQ(board_.FirstLostResend(At(12'000), 0, kMss), std::nullopt);
  // A timeout forgets every copy.
  Update(3000, 20'000, {Range(12'000, 13'000)});
  board_.RecordResend(Range(8000, 9000), At(11'000));
  EXPECT_NE(board_.FirstLostResend(At(20'000), 0, kMss), std::nullopt);
  board_.Clear();
  EXPECT_EQ(board_.FirstLostResend(At(20'000), 0, kMss), std::nullopt);
}

// A copy of part of a hole resent before takes those bytes over: no byte is counted twice, and
// none is forgotten.
TEST_P(SackScoreboardTest, OverlappingCopiesCountEveryByteOnce) {
  Update(0, 10'000, {Range(3000, 4000)});
  board_.RecordResend(Range(0, 2000), At(10'000));
  board_.RecordResend(Range(1000, 1500), At(11'000));  // inside: [0, 1000) and [1500, 2000) stay
  board_.RecordResend(Range(1800, 2500), At(10'000));  // reaches past [1500, 2000)
  Update(0, 12'000, {Range(11'000, 11'500)});          // everything resent is now lost
  EXPECT_EQ(board_.LostResendBytes(At(0), At(3000), At(12'000), 0), 2500u)
      << "every byte of [0, 2500) once";
  // Only the copies sent before 10000 to 11000 arrived are lost when that is SACKed alone.
  board_.ClearResends();
  Update(0, 12'000, {});
  board_.RecordResend(Range(0, 2000), At(10'000));
  board_.RecordResend(Range(1000, 1500), At(11'500));
  EXPECT_EQ(board_.LostResendBytes(At(0), At(3000), At(12'000), 0), 1500u)
      << "[0, 1000) and [1500, 2000) of the old copy; the new one of [1000, 1500) is not lost";
  EXPECT_EQ(board_.FirstLostResend(At(12'000), 0, kMss), Range(0, 1000));
  board_.RecordResend(Range(0, 2500), At(12'000));  // covers them all
  EXPECT_EQ(board_.LostResendBytes(At(0), At(3000), At(12'000), 0), 0u);
  EXPECT_EQ(board_.FirstLostResend(At(12'000), 0, kMss), std::nullopt);
  // A recovery's end forgets its copies.
  board_.RecordResend(Range(2500, 2600), At(5000));
  EXPECT_NE(board_.FirstLostResend(At(12'000), 0, kMss), std::nullopt);
  board_.ClearResends();
  EXPECT_EQ(board_.FirstLostResend(At(12'000), 0, kMss), std::nullopt);
}

TEST_P(SackScoreboardTest, RemembersTheLatestCopiesWhenFull) {
  Update(0, 100'000, {Range(90'000, 91'000)});
  for (std::uint32_t i = 0; i <= SackScoreboard::kMaxResent; ++i) {
    board_.RecordResend(Range(i * 1000, i * 1000 + 500), At(50'000));
  }
  // The oldest, [0, 500), was forgotten; the lowest lost copy is now the second.
  EXPECT_EQ(board_.FirstLostResend(At(100'000), 0, kMss), Range(1000, 1500));
}

INSTANTIATE_TEST_SUITE_P(Bases, SackScoreboardTest,
                         ::testing::Values(1u, 0xffff'f000u, 0x7fff'fc00u));

}  // namespace
}  // namespace tapstack::tcp
