// HyStart++ (RFC 9406) in CUBIC's first slow start, on a virtual clock: rounds of ACKs, each
// with its RTT sample, and the decisions the minimum RTT of each round leads to.
#include "stack/tcp/hystart.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>

#include "stack/tcp/congestion.h"
#include "stack/tcp/seq.h"

namespace tapstack::tcp {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr std::uint32_t kMss = 1000;

// A sender in slow start that sends whatever cwnd allows: every ACK of one segment lets the
// window's worth beyond SND.UNA go out. Rounds follow RFC 9406 4.2: a round ends with the ACK that
// reaches SND.NXT as it was when the round began, and that ACK is the first of the next round.
class SlowStartSender {
 public:
  explicit SlowStartSender(CongestionAlgorithm algorithm = CongestionAlgorithm::kCubic)
      : cc_(kMss, algorithm) {}

  CongestionControl& cc() { return cc_; }
  const HyStart& hystart() const { return *cc_.hystart(); }

  // One round whose ACKs each carry `rtt` as their sample, the first `samples` of them only
  // (all by default). Returns the cwnd growth of the round's last ACK.
  std::uint32_t Round(Duration rtt, int samples = 1 << 30) {
    std::uint32_t growth = 0;
    bool first = true;
    Seq end = round_end_;
    while (first || una_ + kMss < end) {
      una_ += kMss;
      const std::optional<Duration> sample =
          samples-- > 0 ? std::optional<Duration>(rtt) : std::nullopt;
      const std::uint32_t before = cc_.cwnd();
      cc_.OnNewAck(una_, kMss, AckSample{.now = now_, .rtt = sample, .snd_nxt = nxt_});
      growth = cc_.cwnd() - before;
      if (first) end = round_end_ = nxt_;  // the round this ACK began
      first = false;
      nxt_ = Max(nxt_, una_ + cc_.cwnd());
      now_ += rtt / 16;
    }
    return growth;
  }

 private:
  CongestionControl cc_;
  Seq una_{1};
  Seq nxt_ = una_ + 10 * kMss;   // the initial window went out
  Seq round_end_ = una_ + kMss;  // so that the first ACK starts the first round
  Duration now_ = std::chrono::seconds(1);
};

TEST(HyStartTest, SlowStartLeavesForCssWhenTheRoundMinimumRisesByTheThreshold) {
  SlowStartSender sender;
  sender.Round(milliseconds(20));
  sender.Round(milliseconds(20));
  // RttThresh = max(4 ms, min(20 ms / 8, 16 ms)) = 4 ms: a rise to 23.9 ms is not enough...
  sender.Round(microseconds(23'900));
  EXPECT_FALSE(sender.hystart().in_css());
  EXPECT_EQ(sender.Round(microseconds(23'900)), kMss) << "slow start: a segment per segment";
  EXPECT_FALSE(sender.hystart().in_css());
  // ...a rise to 23.9 + 4 ms is.
  EXPECT_EQ(sender.Round(microseconds(27'900)), kMss / 4) << "CSS grows a quarter as fast";
  EXPECT_TRUE(sender.hystart().in_css());
  EXPECT_EQ(sender.hystart().css_baseline_min_rtt(), microseconds(27'900));
  EXPECT_TRUE(sender.cc().in_slow_start()) << "CSS is still slow start: ssthresh is untouched";
  EXPECT_EQ(sender.cc().ssthresh(), CongestionControl::kInfiniteSsthresh);
}

TEST(HyStartTest, ThresholdScalesWithTheRoundTripBetweenFourAndSixteenMilliseconds) {
  // 80 ms / 8 = 10 ms: a rise of 9.9 ms stays in slow start, 10 ms leaves it.
  SlowStartSender sender;
  sender.Round(milliseconds(80));
  sender.Round(microseconds(89'900));
  EXPECT_FALSE(sender.hystart().in_css());
  SlowStartSender again;
  again.Round(milliseconds(80));
  again.Round(milliseconds(90));
  EXPECT_TRUE(again.hystart().in_css());
  // 400 ms / 8 = 50 ms, capped at MAX_RTT_THRESH = 16 ms.
  SlowStartSender long_path;
  long_path.Round(milliseconds(400));
  long_path.Round(milliseconds(416));
  EXPECT_TRUE(long_path.hystart().in_css());
}

TEST(HyStartTest, NeedsEightSamplesInTheRound) {
  SlowStartSender sender;
  sender.Round(milliseconds(20));
  sender.Round(milliseconds(30), /*samples=*/7);
  EXPECT_FALSE(sender.hystart().in_css()) << "N_RTT_SAMPLE = 8";
  sender.Round(milliseconds(40), /*samples=*/8);
  EXPECT_TRUE(sender.hystart().in_css());
}

// RFC 9406 4.2: in CSS, a round whose minimum falls below the baseline that started CSS shows the
// rise was not the bottleneck's queue: slow start resumes.
TEST(HyStartTest, GoesBackToSlowStartWhenTheRttFallsBelowTheCssBaseline) {
  SlowStartSender sender;
  sender.Round(milliseconds(20));
  sender.Round(milliseconds(25));
  ASSERT_TRUE(sender.hystart().in_css());
  ASSERT_EQ(sender.hystart().css_baseline_min_rtt(), milliseconds(25));
  // Not below the baseline: CSS goes on.
  EXPECT_EQ(sender.Round(milliseconds(25)), kMss / 4);
  EXPECT_TRUE(sender.hystart().in_css());
  // Below it: slow start again, a segment per segment, and no baseline.
  EXPECT_EQ(sender.Round(milliseconds(21)), kMss);
  EXPECT_FALSE(sender.hystart().in_css());
  EXPECT_EQ(sender.hystart().css_baseline_min_rtt(), std::nullopt);
  EXPECT_EQ(sender.cc().ssthresh(), CongestionControl::kInfiniteSsthresh);
}

// RFC 9406 4.2: after CSS_ROUNDS rounds of CSS, congestion avoidance with ssthresh = cwnd; CUBIC
// then starts its curve at that window (RFC 9438 4.10: W_max unknown, K = 0).
TEST(HyStartTest, EntersCongestionAvoidanceAfterFiveCssRounds) {
  SlowStartSender sender;
  sender.Round(milliseconds(20));
  sender.Round(milliseconds(25));  // CSS begins in this round; it does not count
  ASSERT_TRUE(sender.hystart().in_css());
  for (std::uint32_t round = 1; round <= HyStart::kCssRounds; ++round) {
    ASSERT_NE(sender.cc().hystart(), nullptr) << "round " << round;
    EXPECT_TRUE(sender.hystart().in_css());
    sender.Round(milliseconds(25));
  }
  ASSERT_NE(sender.cc().hystart(), nullptr) << "the fifth round ends with the next ACK";
  EXPECT_TRUE(sender.cc().in_slow_start());
  sender.Round(milliseconds(25));
  EXPECT_EQ(sender.cc().hystart(), nullptr);
  EXPECT_FALSE(sender.cc().in_slow_start());
  ASSERT_NE(sender.cc().cubic(), nullptr);
  EXPECT_EQ(sender.cc().cubic()->cwnd_prior(), sender.cc().ssthresh());
}

TEST(HyStartTest, ALossEndsHyStartAndSetsWMax) {
  SlowStartSender sender;
  sender.Round(milliseconds(20));
  sender.Round(milliseconds(20));
  const std::uint32_t cwnd = sender.cc().cwnd();
  sender.cc().set_sack_recovery(true);
  ASSERT_TRUE(sender.cc().OnLossDetected(Seq(1), Seq(1) + cwnd, cwnd));
  EXPECT_EQ(sender.cc().hystart(), nullptr);
  ASSERT_NE(sender.cc().cubic(), nullptr);
  EXPECT_EQ(sender.cc().cubic()->w_max(), cwnd);
}

// RFC 9406 4.3: L = 8 for a sender that does not pace: a stretch ACK grows cwnd by at most eight
// segments (RFC 3465's L = 2 applies to NewReno, and to CUBIC's slow starts after a loss).
TEST(HyStartTest, SlowStartGrowsByAtMostEightSegmentsPerAck) {
  CongestionControl cubic(kMss, CongestionAlgorithm::kCubic);
  cubic.OnNewAck(Seq(1) + 20 * kMss, 20 * kMss, AckSample{.snd_nxt = Seq(1) + 30 * kMss});
  EXPECT_EQ(cubic.cwnd(), 18 * kMss);
  CongestionControl reno(kMss, CongestionAlgorithm::kNewReno);
  reno.OnNewAck(Seq(1) + 20 * kMss, 20 * kMss);
  EXPECT_EQ(reno.cwnd(), 12 * kMss);
}

}  // namespace
}  // namespace tapstack::tcp
