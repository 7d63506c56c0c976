// CUBIC (RFC 9438) through the congestion controller, on a virtual clock: the window after a
// reduction against W_cubic(t) computed here from the RFC's constants, K, fast convergence, the
// Reno-friendly region, and the response to a timeout.
#include "stack/tcp/cubic.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>

#include "stack/tcp/congestion.h"
#include "stack/tcp/seq.h"

namespace tapstack::tcp {
namespace {

using std::chrono::milliseconds;

constexpr std::uint32_t kMss = 1000;
// RFC 9438 5.1 and 4.6, written out here rather than taken from the class under test.
constexpr double kRfcC = 0.4;
constexpr double kRfcBeta = 0.7;

// W_cubic(t) of RFC 9438 Figure 1 in bytes, with K from Figure 2.
double RfcWindow(double t, double w_max_segments, double cwnd_epoch_segments) {
  const double k = std::cbrt((w_max_segments - cwnd_epoch_segments) / kRfcC);
  return (kRfcC * std::pow(t - k, 3) + w_max_segments) * kMss;
}

// A CUBIC sender on a virtual clock: SND.UNA, SND.NXT and the time, advanced by the test.
class CubicSender {
 public:
  CubicSender() : cc_(kMss, CongestionAlgorithm::kCubic) { cc_.set_sack_recovery(true); }

  CongestionControl& cc() { return cc_; }
  Duration now() const { return now_; }
  void Advance(Duration by) { now_ += by; }

  // Slow start, one ACK per segment and no RTT samples (so HyStart++ stays out of the way),
  // until cwnd is `segments` MSS.
  void GrowTo(std::uint32_t segments) {
    while (cc_.cwnd() < segments * kMss) Ack(kMss, std::nullopt);
  }
  // A loss found with the whole window in flight (RFC 6675), and the full ACK that ends its
  // recovery: congestion avoidance begins at cwnd = ssthresh.
  void LoseAndRecover() {
    nxt_ = una_ + cc_.cwnd();
    ASSERT_TRUE(cc_.OnLossDetected(una_, nxt_, cc_.cwnd()));
    ASSERT_FALSE(cc_.OnNewAck(nxt_, nxt_ - una_, Sample(std::nullopt)));
    ASSERT_FALSE(cc_.in_recovery());
    una_ = nxt_;
  }
  // One ACK of `bytes`, with the data in flight a full window.
  void Ack(std::uint32_t bytes, std::optional<Duration> rtt) {
    una_ += bytes;
    cc_.OnNewAck(una_, bytes, Sample(rtt));
    nxt_ = una_ + cc_.cwnd();
  }
  // Congestion avoidance for `duration` with round trip `rtt` (also SRTT): a window of ACKs per
  // round trip, one segment each, spread evenly over it.
  void RunFor(Duration duration, Duration rtt) {
    srtt_ = rtt;
    const Duration end = now_ + duration;
    while (now_ < end) {
      const std::uint32_t segments = std::max<std::uint32_t>(cc_.cwnd() / kMss, 1);
      Advance(rtt / segments);
      Ack(kMss, rtt);
    }
  }

 private:
  AckSample Sample(std::optional<Duration> rtt) const {
    return AckSample{.now = now_, .rtt = rtt, .srtt = srtt_, .snd_nxt = nxt_};
  }

  CongestionControl cc_;
  Seq una_{1};
  Seq nxt_{1};
  Duration now_ = std::chrono::seconds(100);
  Duration srtt_{};
};

TEST(CubicTest, KIsTheTimeTheCurveTakesBackToWMax) {
  // RFC 9438 Figure 2: K = cubic_root((W_max - cwnd_epoch) / C), in segments and seconds.
  EXPECT_NEAR(Cubic::K(100 * kMss, 70 * kMss, kMss), std::cbrt(30 / kRfcC), 1e-9);
  EXPECT_NEAR(Cubic::K(100 * kMss, 70 * kMss, kMss), 4.2172, 1e-4);
  EXPECT_EQ(Cubic::K(50 * kMss, 50 * kMss, kMss), 0.0);
  EXPECT_LT(Cubic::K(50 * kMss, 60 * kMss, kMss), 0.0) << "an epoch above W_max: convex at once";

  // The controller: the first ACK of congestion avoidance starts the epoch, and the curve
  // reaches W_max K seconds later.
  CubicSender sender;
  sender.GrowTo(100);
  sender.LoseAndRecover();
  ASSERT_EQ(sender.cc().cwnd(), 70 * kMss);
  const Duration epoch_start = sender.now();
  sender.Ack(kMss, milliseconds(100));
  const Cubic* cubic = sender.cc().cubic();
  ASSERT_NE(cubic, nullptr);
  ASSERT_TRUE(cubic->epoch_started());
  EXPECT_EQ(cubic->w_max(), 100 * kMss);
  const auto expected_plateau = std::chrono::duration_cast<milliseconds>(epoch_start) +
                                milliseconds(std::llround(std::cbrt(30 / kRfcC) * 1000));
  EXPECT_EQ(cubic->plateau(), expected_plateau);
}

TEST(CubicTest, FastRetransmitMultipliesByBetaAndRemembersWMax) {
  // RFC 9438 4.6 with RFC 6675 recovery: ssthresh = cwnd = 0.7 * FlightSize on entry.
  CubicSender sender;
  sender.GrowTo(100);
  const Seq una(1);
  ASSERT_TRUE(sender.cc().OnLossDetected(una, una + 100 * kMss, 100 * kMss));
  EXPECT_EQ(sender.cc().ssthresh(), static_cast<std::uint32_t>(100 * kMss * kRfcBeta));
  EXPECT_EQ(sender.cc().cwnd(), 70 * kMss);
  EXPECT_EQ(sender.cc().cubic()->w_max(), 100 * kMss);
  EXPECT_EQ(sender.cc().cubic()->cwnd_prior(), 100 * kMss);

  // Without SACK: RFC 5681 3.2's inflation by the three duplicates, from 0.7 instead of 0.5.
  CongestionControl reno_recovery(kMss, CongestionAlgorithm::kCubic);
  for (int i = 0; i < 3; ++i) reno_recovery.OnDuplicateAck(una, una + 10 * kMss, 10 * kMss);
  EXPECT_EQ(reno_recovery.ssthresh(), 7 * kMss);
  EXPECT_EQ(reno_recovery.cwnd(), 10 * kMss);
}

// The window after a reduction follows W_cubic(t) (RFC 9438 4.2): each ACK closes
// (target - cwnd) / cwnd of the gap to W_cubic(t + RTT), which over a round trip keeps cwnd on
// the curve at t. Checked in the concave region, at the plateau and in the convex region.
TEST(CubicTest, WindowFollowsTheCubicFunctionAfterAReduction) {
  CubicSender sender;
  sender.GrowTo(100);
  sender.LoseAndRecover();
  ASSERT_EQ(sender.cc().cwnd(), 70 * kMss);
  // A round trip long enough for the curve to stay above Reno's estimate W_est through 7 s
  // (4.3): at 100 ms, W_est would pass the curve just after 6 s.
  const Duration rtt = milliseconds(200);
  const Duration epoch_start = sender.now();
  double previous_t = 0;
  for (const double t : {0.5, 1.0, 2.0, 3.0, 4.2, 5.0, 6.0, 7.0}) {
    sender.RunFor(
        std::chrono::duration_cast<Duration>(std::chrono::duration<double>(t - previous_t)), rtt);
    previous_t = t;
    const double elapsed = std::chrono::duration<double>(sender.now() - epoch_start).count();
    const double expected = RfcWindow(elapsed, 100, 70);
    // Within one segment of the curve: a different C, beta or K misses by several.
    EXPECT_NEAR(sender.cc().cwnd(), expected, kMss) << "t = " << elapsed << " s";
    EXPECT_GT(expected, sender.cc().cubic()->w_est()) << "the cubic region, not Reno's";
  }
  // Concave, then flat around W_max at t = K (4.2 s), then convex: past it by 7 s.
  EXPECT_GT(sender.cc().cwnd(), 108 * kMss);
}

// RFC 9438 4.7: a loss while the window is still below the last W_max lowers W_max to
// cwnd * (1 + beta) / 2, releasing bandwidth for a newer flow; a loss above it does not.
TEST(CubicTest, FastConvergenceLowersWMax) {
  CubicSender sender;
  sender.GrowTo(100);
  sender.LoseAndRecover();
  sender.RunFor(std::chrono::seconds(1), milliseconds(100));
  const std::uint32_t cwnd = sender.cc().cwnd();
  ASSERT_LT(cwnd, 100 * kMss);
  sender.LoseAndRecover();
  EXPECT_EQ(sender.cc().cubic()->w_max(), static_cast<std::uint32_t>(cwnd * (1 + kRfcBeta) / 2));
  EXPECT_EQ(sender.cc().cubic()->cwnd_prior(), cwnd);
  EXPECT_EQ(sender.cc().ssthresh(), static_cast<std::uint32_t>(cwnd * kRfcBeta));

  // Past the plateau, the next loss takes W_max from the window as it is.
  sender.RunFor(std::chrono::seconds(8), milliseconds(100));
  const std::uint32_t grown = sender.cc().cwnd();
  ASSERT_GT(grown, sender.cc().cubic()->w_max());
  sender.LoseAndRecover();
  EXPECT_EQ(sender.cc().cubic()->w_max(), grown);
}

// RFC 9438 4.3: with a short round trip and a small window the cubic curve grows slower than
// Reno would, and cwnd follows W_est instead: alpha_cubic = 3 (1 - beta) / (1 + beta) segments per
// round trip up to the window of the last loss, then one segment per round trip.
TEST(CubicTest, RenoFriendlyRegionTakesOverAtSmallWindowsAndShortRoundTrips) {
  CubicSender sender;  // cwnd starts at 10 segments
  sender.LoseAndRecover();
  ASSERT_EQ(sender.cc().cwnd(), 7 * kMss);
  const Duration rtt = milliseconds(1);
  const Duration epoch_start = sender.now();
  sender.RunFor(milliseconds(30), rtt);
  const double elapsed = std::chrono::duration<double>(sender.now() - epoch_start).count();
  const Cubic& cubic = *sender.cc().cubic();
  EXPECT_LT(RfcWindow(elapsed, 10, 7), 7.5 * kMss) << "the curve has barely moved in 30 ms";
  EXPECT_EQ(sender.cc().cwnd(), cubic.w_est());
  // From 7 to 10 segments at alpha ~ 0.53 per round trip (about 6 round trips), then one per
  // round trip: about 34 segments after 30 round trips.
  EXPECT_GE(sender.cc().cwnd(), 30 * kMss);
  EXPECT_LE(sender.cc().cwnd(), 36 * kMss);

  // Past cwnd_prior, Reno's rate exactly: one MSS for each window of bytes acknowledged.
  const std::uint32_t before = sender.cc().cwnd();
  const std::uint32_t window_segments = (before + kMss - 1) / kMss;
  for (std::uint32_t i = 0; i < window_segments; ++i) sender.Ack(kMss, rtt);
  EXPECT_EQ(sender.cc().cwnd(), before + kMss);
}

TEST(CubicTest, RenoFriendlyGrowthStartsAtAlphaCubic) {
  CubicSender sender;
  sender.LoseAndRecover();
  ASSERT_EQ(sender.cc().cwnd(), 7 * kMss);
  // One window (7 segments) acknowledged at once in a short round trip: W_est grows by
  // alpha_cubic segments, about 0.53 of one, not Reno's whole one.
  for (int i = 0; i < 7; ++i) {
    sender.Advance(std::chrono::microseconds(100));
    sender.Ack(kMss, milliseconds(1));
  }
  const double alpha = 3 * (1 - kRfcBeta) / (1 + kRfcBeta);
  EXPECT_NEAR(sender.cc().cwnd(), 7 * kMss + alpha * kMss, 1.0);
}

// RFC 9438 4.8: a timeout collapses cwnd to one segment and sets ssthresh = 0.7 * FlightSize
// (the whole window was in flight); the next congestion avoidance starts the curve at the window
// it begins with (K = 0, W_max = that window).
TEST(CubicTest, TimeoutCollapsesToOneSegmentWithSsthreshAtSevenTenths) {
  CubicSender sender;
  sender.GrowTo(100);
  const std::uint32_t cwnd = sender.cc().cwnd();
  sender.cc().OnRetransmitTimeout(cwnd, Seq(1) + cwnd);
  EXPECT_EQ(sender.cc().cwnd(), kMss);
  EXPECT_EQ(sender.cc().ssthresh(), static_cast<std::uint32_t>(cwnd * kRfcBeta));
  EXPECT_FALSE(sender.cc().in_recovery());
  ASSERT_NE(sender.cc().cubic(), nullptr);
  EXPECT_EQ(sender.cc().cubic()->cwnd_prior(), cwnd);

  // Slow start back to ssthresh (RFC 3465 2.3: one MSS per ACK), then congestion avoidance.
  sender.GrowTo(70);
  ASSERT_FALSE(sender.cc().in_slow_start());
  const std::uint32_t cwnd_epoch = sender.cc().cwnd();
  sender.Ack(kMss, milliseconds(100));
  const Cubic& cubic = *sender.cc().cubic();
  EXPECT_EQ(cubic.w_max(), cwnd_epoch);
  EXPECT_EQ(cubic.plateau(), std::chrono::duration_cast<milliseconds>(sender.now())) << "K = 0";
}

// RFC 9438 4.9 with RFC 4015: a timeout found spurious by the ACK that acknowledged ten
// segments goes back on everything it changed. With the rest of the window still in flight,
// cwnd returns whole, ssthresh becomes that window, and the curve goes on from the same W_max
// and epoch: the next ACKs move cwnd exactly as they move a controller that never timed out.
TEST(CubicTest, ASpuriousTimeoutIsUndoneWithItsEpoch) {
  CubicSender sender;
  sender.GrowTo(100);
  sender.LoseAndRecover();
  sender.RunFor(std::chrono::seconds(2), milliseconds(100));
  const CongestionControl before = sender.cc();
  const std::uint32_t window = before.cwnd();
  ASSERT_GT(window, before.ssthresh());
  sender.cc().OnRetransmitTimeout(window, Seq(1) + window);
  ASSERT_EQ(sender.cc().cwnd(), kMss);

  ASSERT_TRUE(
      sender.cc().UndoTimeout(before, Seq(1) + 10 * kMss, window, window - 10 * kMss, 10 * kMss));
  EXPECT_EQ(sender.cc().cwnd(), window);
  EXPECT_EQ(sender.cc().ssthresh(), window);
  EXPECT_FALSE(sender.cc().in_recovery());
  ASSERT_NE(sender.cc().cubic(), nullptr);
  EXPECT_EQ(sender.cc().cubic()->w_max(), before.cubic()->w_max());
  EXPECT_EQ(sender.cc().cubic()->plateau(), before.cubic()->plateau());

  CongestionControl never_timed_out = before;
  const AckSample sample{.now = sender.now() + milliseconds(50),
                         .rtt = milliseconds(100),
                         .srtt = milliseconds(100),
                         .snd_nxt = Seq(1) + window};
  for (std::uint32_t i = 1; i <= 20; ++i) {
    never_timed_out.OnNewAck(Seq(1) + i * kMss, kMss, sample);
    sender.cc().OnNewAck(Seq(1) + i * kMss, kMss, sample);
    EXPECT_EQ(sender.cc().cwnd(), never_timed_out.cwnd()) << "ACK " << i;
  }
}

// RFC 4015: when the ACK that shows the timeout spurious leaves little in flight, cwnd is the
// flight plus at most an initial window, and slow start climbs back to the old window (now
// ssthresh) instead of releasing it in one burst.
TEST(CubicTest, AnUndoneTimeoutWithLittleInFlightSlowStartsBackToTheOldWindow) {
  CubicSender sender;
  sender.GrowTo(100);
  sender.LoseAndRecover();
  const CongestionControl before = sender.cc();
  const std::uint32_t window = before.cwnd();
  sender.cc().OnRetransmitTimeout(window, Seq(1) + window);
  ASSERT_TRUE(sender.cc().UndoTimeout(before, Seq(1) + (window - 5 * kMss), window, 5 * kMss,
                                      window - 5 * kMss));
  EXPECT_EQ(sender.cc().cwnd(), 15 * kMss) << "five in flight plus an initial window of ten";
  EXPECT_EQ(sender.cc().ssthresh(), window);
  EXPECT_TRUE(sender.cc().in_slow_start());
}

// A timeout during fast recovery: the loss that began the recovery was real, so its reduction
// stands; the timeout is undone only by an ACK that completes the recovery, since the recovery's
// own state went with the timeout.
TEST(CubicTest, ATimeoutDuringRecoveryIsUndoneOnlyByAnAckThatEndsTheRecovery) {
  CubicSender sender;
  sender.GrowTo(100);
  const Seq una(1);
  const Seq nxt = una + 100 * kMss;
  ASSERT_TRUE(sender.cc().OnLossDetected(una, nxt, 100 * kMss));
  const CongestionControl before = sender.cc();
  sender.cc().OnRetransmitTimeout(100 * kMss, nxt);

  CongestionControl partial = sender.cc();
  EXPECT_FALSE(partial.UndoTimeout(before, una + 50 * kMss, 100 * kMss, 50 * kMss, 50 * kMss));
  EXPECT_EQ(partial.cwnd(), kMss) << "unchanged";

  EXPECT_TRUE(sender.cc().UndoTimeout(before, nxt, 100 * kMss, 0, 100 * kMss));
  EXPECT_FALSE(sender.cc().in_recovery());
  EXPECT_EQ(sender.cc().ssthresh(), 70 * kMss) << "the recovery's reduction stands";
  EXPECT_EQ(sender.cc().cwnd(), 10 * kMss) << "nothing in flight: an initial window";
}

TEST(CubicTest, NewRenoRunsNeitherCubicNorHyStart) {
  CongestionControl reno(kMss, CongestionAlgorithm::kNewReno);
  EXPECT_EQ(reno.algorithm(), CongestionAlgorithm::kNewReno);
  EXPECT_EQ(reno.cubic(), nullptr);
  EXPECT_EQ(reno.hystart(), nullptr);
  CongestionControl cubic(kMss, CongestionAlgorithm::kCubic);
  EXPECT_EQ(cubic.algorithm(), CongestionAlgorithm::kCubic);
  EXPECT_NE(cubic.hystart(), nullptr) << "the first slow start runs HyStart++";
}

}  // namespace
}  // namespace tapstack::tcp
