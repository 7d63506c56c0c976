#include "stack/tcp/rto.h"

#include <gtest/gtest.h>

#include <chrono>

namespace tapstack::tcp {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A configuration whose clamps stay out of the way, to see the RFC 6298 formulas bare.
RtoConfig Unclamped() {
  RtoConfig config;
  config.min = Duration::zero();
  config.max = std::chrono::hours(1);
  return config;
}

TEST(RtoEstimatorTest, BeforeAnySampleTheInitialTimeoutApplies) {
  RtoEstimator estimator;
  EXPECT_EQ(estimator.rto(), seconds(1));  // RFC 6298 2.1
  EXPECT_FALSE(estimator.srtt().has_value());
  EXPECT_EQ(estimator.rttvar(), Duration::zero());
  EXPECT_EQ(estimator.backoff_count(), 0);
}

TEST(RtoEstimatorTest, FirstSampleSetsSrttAndHalfOfItAsVariance) {
  const RtoConfig config_for_test = Unclamped();
  RtoEstimator estimator(config_for_test);
  estimator.OnRttSample(milliseconds(100));
  // RFC 6298 2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4 * RTTVAR) = 100 + 200.
  EXPECT_EQ(estimator.srtt(), milliseconds(100));
  EXPECT_EQ(estimator.rttvar(), milliseconds(50));
  EXPECT_EQ(estimator.rto(), milliseconds(300));
}

TEST(RtoEstimatorTest, SubsequentSamplesSmoothWithAlphaAndBeta) {
  const RtoConfig config_for_test = Unclamped();
  RtoEstimator estimator(config_for_test);
  estimator.OnRttSample(milliseconds(100));
  estimator.OnRttSample(milliseconds(180));
  // RFC 6298 2.3: RTTVAR = 3/4 * 50 + 1/4 * |100 - 180| = 57.5 ms (with the old SRTT);
  // SRTT = 7/8 * 100 + 1/8 * 180 = 110 ms; RTO = 110 + 4 * 57.5 = 340 ms.
  EXPECT_EQ(estimator.rttvar(), microseconds(57'500));
  EXPECT_EQ(estimator.srtt(), milliseconds(110));
  EXPECT_EQ(estimator.rto(), milliseconds(340));

  estimator.OnRttSample(milliseconds(30));
  // RTTVAR = 3/4 * 57.5 + 1/4 * |110 - 30| = 63.125 ms; SRTT = 7/8 * 110 + 1/8 * 30 = 100 ms.
  EXPECT_EQ(estimator.rttvar(), microseconds(63'125));
  EXPECT_EQ(estimator.srtt(), milliseconds(100));
  EXPECT_EQ(estimator.rto(), microseconds(352'500));
}

// RFC 7323 Appendix G: with timestamps every ACK is a sample, and the gains shrink by the number
// of samples expected per round trip, so that a round trip's worth of them moves the estimate
// about as much as one sample did.
TEST(RtoEstimatorTest, ExpectedSamplesDivideTheGains) {
  const RtoConfig config_for_test = Unclamped();
  RtoEstimator estimator(config_for_test);
  estimator.OnRttSample(milliseconds(100));
  estimator.OnRttSample(milliseconds(180), /*expected_samples=*/4);
  // RTTVAR = 50 + (80 - 50) / 16 = 51.875 ms; SRTT = 100 + 80 / 32 = 102.5 ms.
  EXPECT_EQ(estimator.rttvar(), microseconds(51'875));
  EXPECT_EQ(estimator.srtt(), microseconds(102'500));
  // None is one.
  RtoEstimator plain(config_for_test);
  plain.OnRttSample(milliseconds(100));
  plain.OnRttSample(milliseconds(180), /*expected_samples=*/0);
  EXPECT_EQ(plain.srtt(), milliseconds(110));
}

TEST(RtoEstimatorTest, ConvergesOnASteadyPath) {
  const RtoConfig config_for_test = Unclamped();
  RtoEstimator estimator(config_for_test);
  for (int i = 0; i < 200; ++i) estimator.OnRttSample(milliseconds(40));
  EXPECT_EQ(estimator.srtt(), milliseconds(40));
  // The variance decays towards zero; the granularity G then bounds the spread from below.
  EXPECT_LT(estimator.rttvar(), microseconds(1));
  EXPECT_EQ(estimator.rto(), milliseconds(41));
}

TEST(RtoEstimatorTest, GranularityIsTheLeastSpread) {
  RtoConfig config = Unclamped();
  config.granularity = milliseconds(10);
  RtoEstimator estimator(config);
  estimator.OnRttSample(milliseconds(4));  // 4 * RTTVAR = 8 ms < G
  EXPECT_EQ(estimator.rto(), milliseconds(14));
}

TEST(RtoEstimatorTest, NegativeSampleCountsAsZero) {
  const RtoConfig config_for_test = Unclamped();
  RtoEstimator estimator(config_for_test);
  estimator.OnRttSample(-milliseconds(5));
  EXPECT_EQ(estimator.srtt(), Duration::zero());
  EXPECT_EQ(estimator.rto(), milliseconds(1));  // G
}

TEST(RtoEstimatorTest, ClampedToTheMinimum) {
  RtoEstimator estimator;  // min 200 ms, as Linux
  estimator.OnRttSample(milliseconds(10));
  EXPECT_EQ(estimator.rto(), milliseconds(200));
  RtoConfig rfc_minimum;
  rfc_minimum.min = seconds(1);  // RFC 6298 2.4
  RtoEstimator strict(rfc_minimum);
  strict.OnRttSample(milliseconds(10));
  EXPECT_EQ(strict.rto(), seconds(1));
}

TEST(RtoEstimatorTest, ClampedToTheMaximum) {
  RtoEstimator estimator;
  estimator.OnRttSample(seconds(100));  // 100 + 4 * 50 s
  EXPECT_EQ(estimator.rto(), seconds(120));
  // Absurd samples saturate instead of overflowing.
  RtoEstimator huge;
  huge.OnRttSample(Duration::max() / 2);
  EXPECT_EQ(huge.rto(), seconds(120));
  huge.OnRttSample(Duration::max());
  EXPECT_EQ(huge.rto(), seconds(120));
}

TEST(RtoEstimatorTest, InitialTimeoutIsClampedToo) {
  RtoConfig config;
  config.initial = milliseconds(50);
  EXPECT_EQ(RtoEstimator(config).rto(), milliseconds(200));
}

TEST(RtoEstimatorTest, BackoffDoublesUpToTheMaximumAndResets) {
  RtoEstimator estimator;
  estimator.OnRttSample(milliseconds(100));  // RTO 300 ms
  estimator.Backoff();
  EXPECT_EQ(estimator.rto(), milliseconds(600));
  estimator.Backoff();
  EXPECT_EQ(estimator.rto(), milliseconds(1200));
  EXPECT_EQ(estimator.backoff_count(), 2);
  for (int i = 0; i < 20; ++i) estimator.Backoff();
  EXPECT_EQ(estimator.rto(), seconds(120));  // RFC 6298 5.5 with the 2.5 bound
  EXPECT_EQ(estimator.backoff_count(), 22);  // keeps counting for the give-up decision
  // Samples do not undo the backoff by themselves; an ACK of new data does, via ResetBackoff.
  estimator.OnRttSample(milliseconds(100));
  EXPECT_EQ(estimator.rto(), seconds(120));
  estimator.ResetBackoff();
  EXPECT_EQ(estimator.backoff_count(), 0);
  EXPECT_LT(estimator.rto(), seconds(1));
}

TEST(RtoEstimatorTest, BackoffBeforeAnySampleDoublesTheInitialTimeout) {
  RtoEstimator estimator;
  estimator.Backoff();
  estimator.Backoff();
  EXPECT_EQ(estimator.rto(), seconds(4));
}

TEST(RtoEstimatorTest, EstablishedAfterSynLossUsesThreeSeconds) {
  RtoEstimator estimator;
  estimator.Backoff();  // the SYN was retransmitted
  estimator.OnEstablishedAfterSynLoss();
  EXPECT_EQ(estimator.backoff_count(), 0);
  EXPECT_EQ(estimator.rto(), seconds(3));  // RFC 6298 5.7
  // The first real sample takes over.
  estimator.OnRttSample(milliseconds(100));
  EXPECT_EQ(estimator.rto(), milliseconds(300));

  RtoEstimator sampled;
  sampled.OnRttSample(milliseconds(100));
  sampled.OnEstablishedAfterSynLoss();  // a sample exists: it wins
  EXPECT_EQ(sampled.rto(), milliseconds(300));
}

}  // namespace
}  // namespace tapstack::tcp
