#include "stack/tcp/congestion.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "stack/tcp/seq.h"

namespace tapstack::tcp {
namespace {

constexpr std::uint32_t kMss = 1000;

// The expectations below are NewReno's numbers (RFC 5681, RFC 6582, RFC 6675): halving on loss,
// one segment per round trip. CUBIC's are in cubic_test.cc.
CongestionControl NewReno(std::uint32_t mss) {
  return CongestionControl(mss, CongestionAlgorithm::kNewReno);
}

TEST(NewRenoTest, StartsWithTenSegmentsAndNoThreshold) {
  CongestionControl reno = NewReno(kMss);
  EXPECT_EQ(reno.cwnd(), 10 * kMss);  // RFC 6928
  EXPECT_EQ(reno.ssthresh(), CongestionControl::kInfiniteSsthresh);
  EXPECT_TRUE(reno.in_slow_start());
  EXPECT_FALSE(reno.in_recovery());
  EXPECT_EQ(reno.mss(), kMss);
}

TEST(NewRenoTest, SetMssRecomputesTheUntouchedInitialWindowOnly) {
  CongestionControl reno = NewReno(536);
  reno.set_mss(1460);
  EXPECT_EQ(reno.cwnd(), 14'600u);
  reno.OnNewAck(Seq(1461), 1460);
  const std::uint32_t grown = reno.cwnd();
  reno.set_mss(1200);
  EXPECT_EQ(reno.cwnd(), grown);
  EXPECT_EQ(reno.mss(), 1200u);
}

TEST(NewRenoTest, SlowStartGrowsByBytesAckedCappedAtTwoSegments) {
  CongestionControl reno = NewReno(kMss);
  Seq una(5000);
  // RFC 3465: an ACK for one segment grows cwnd by one segment...
  EXPECT_FALSE(reno.OnNewAck(una += kMss, kMss));
  EXPECT_EQ(reno.cwnd(), 11 * kMss);
  // ...a small ACK by what it acknowledged...
  reno.OnNewAck(una += 100, 100);
  EXPECT_EQ(reno.cwnd(), 11 * kMss + 100);
  // ...and a stretch ACK by at most L = 2 segments.
  reno.OnNewAck(una += 5 * kMss, 5 * kMss);
  EXPECT_EQ(reno.cwnd(), 13 * kMss + 100);
}

TEST(NewRenoTest, SlowStartDoublesPerRoundTrip) {
  CongestionControl reno = NewReno(kMss);
  Seq una(1);
  // One round trip: every segment of the window acknowledged, one ACK each.
  const std::uint32_t segments = reno.cwnd() / kMss;
  for (std::uint32_t i = 0; i < segments; ++i) reno.OnNewAck(una += kMss, kMss);
  EXPECT_EQ(reno.cwnd(), 20 * kMss);
}

// Enters congestion avoidance with cwnd = ssthresh = 10 MSS through one fast recovery.
CongestionControl InCongestionAvoidance(Seq& una) {
  CongestionControl reno = NewReno(kMss);
  const Seq nxt = una + 20 * kMss;
  for (int i = 0; i < 3; ++i) reno.OnDuplicateAck(una, nxt, 20 * kMss);
  reno.OnNewAck(nxt, nxt - una);  // full ACK
  una = nxt;
  return reno;
}

TEST(NewRenoTest, CongestionAvoidanceGrowsAboutOneSegmentPerRoundTrip) {
  Seq una(77);
  CongestionControl reno = InCongestionAvoidance(una);
  ASSERT_EQ(reno.cwnd(), 10 * kMss);
  ASSERT_EQ(reno.ssthresh(), 10 * kMss);
  EXPECT_FALSE(reno.in_slow_start());
  // Nine segments acknowledged: less than a window, no growth yet.
  for (int i = 0; i < 9; ++i) reno.OnNewAck(una += kMss, kMss);
  EXPECT_EQ(reno.cwnd(), 10 * kMss);
  // The tenth completes a window's worth: one MSS more.
  reno.OnNewAck(una += kMss, kMss);
  EXPECT_EQ(reno.cwnd(), 11 * kMss);
  // The next round trip needs 11 segments.
  for (int i = 0; i < 10; ++i) reno.OnNewAck(una += kMss, kMss);
  EXPECT_EQ(reno.cwnd(), 11 * kMss);
  reno.OnNewAck(una += kMss, kMss);
  EXPECT_EQ(reno.cwnd(), 12 * kMss);
  // Delayed ACKs (two segments each) grow it just as fast in bytes.
  for (int i = 0; i < 6; ++i) reno.OnNewAck(una += 2 * kMss, 2 * kMss);
  EXPECT_EQ(reno.cwnd(), 13 * kMss);
}

TEST(NewRenoTest, ThirdDuplicateAckTriggersFastRetransmitOnce) {
  CongestionControl reno = NewReno(kMss);
  const Seq una(1000);
  const Seq nxt = una + 8 * kMss;
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, 8 * kMss));
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, 8 * kMss));
  EXPECT_EQ(reno.duplicate_acks(), 2u);
  EXPECT_EQ(reno.cwnd(), 10 * kMss);  // unchanged before the third
  EXPECT_TRUE(reno.OnDuplicateAck(una, nxt, 8 * kMss));
  EXPECT_TRUE(reno.in_recovery());
  // RFC 5681 eq. 4 and 3.2 step 3.
  EXPECT_EQ(reno.ssthresh(), 4 * kMss);
  EXPECT_EQ(reno.cwnd(), 7 * kMss);
  // Further duplicates inflate, never retransmit again.
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, 8 * kMss));
  EXPECT_EQ(reno.cwnd(), 8 * kMss);
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, 8 * kMss));
  EXPECT_EQ(reno.cwnd(), 9 * kMss);
}

// RFC 6675 5: with SACK, recovery sets cwnd = ssthresh and leaves it there: pipe, which the
// sender counts, takes the place of inflation by duplicates and deflation by partial ACKs.
TEST(NewRenoTest, SackRecoveryHoldsCwndAtSsthreshUntilTheFullAck) {
  CongestionControl reno = NewReno(kMss);
  reno.set_sack_recovery(true);
  Seq una(1000);
  const Seq nxt = una + 8 * kMss;
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, 8 * kMss));
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, 8 * kMss));
  EXPECT_TRUE(reno.OnDuplicateAck(una, nxt, 8 * kMss));
  EXPECT_EQ(reno.ssthresh(), 4 * kMss);
  EXPECT_EQ(reno.cwnd(), 4 * kMss);
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, 8 * kMss));
  EXPECT_EQ(reno.cwnd(), 4 * kMss) << "no inflation";
  EXPECT_FALSE(reno.OnNewAck(una += 2 * kMss, 2 * kMss)) << "a partial ACK asks for nothing";
  EXPECT_EQ(reno.cwnd(), 4 * kMss) << "no deflation";
  EXPECT_TRUE(reno.in_recovery());
  EXPECT_FALSE(reno.OnNewAck(nxt, nxt - una));
  EXPECT_FALSE(reno.in_recovery());
  EXPECT_EQ(reno.cwnd(), 4 * kMss);
}

// RFC 6675 5 step 2: the scoreboard may show a loss before the third duplicate; recovery starts
// as the third would start it, once per loss episode (RFC 6582 3.2 step 2).
TEST(NewRenoTest, LossDetectedByTheScoreboardEntersRecoveryOnce) {
  CongestionControl reno = NewReno(kMss);
  reno.set_sack_recovery(true);
  const Seq una(1);
  const Seq nxt = una + 10 * kMss;
  EXPECT_TRUE(reno.OnLossDetected(una, nxt, 10 * kMss));
  EXPECT_TRUE(reno.in_recovery());
  EXPECT_EQ(reno.cwnd(), 5 * kMss);
  EXPECT_FALSE(reno.OnLossDetected(una, nxt, 10 * kMss)) << "already recovering";
  // After the full ACK, a loss reported below the old recovery point is the same episode...
  reno.OnNewAck(nxt, 10 * kMss);
  ASSERT_FALSE(reno.in_recovery());
  reno.OnRetransmitTimeout(10 * kMss, nxt + 10 * kMss);
  EXPECT_FALSE(reno.OnLossDetected(nxt + kMss, nxt + 10 * kMss, 9 * kMss));
  // ...and one above it a new one.
  EXPECT_TRUE(reno.OnLossDetected(nxt + 10 * kMss, nxt + 20 * kMss, 10 * kMss));
}

TEST(NewRenoTest, SsthreshIsAtLeastTwoSegments) {
  CongestionControl reno = NewReno(kMss);
  const Seq una(1);
  for (int i = 0; i < 3; ++i) reno.OnDuplicateAck(una, una + 3 * kMss, 3 * kMss);
  EXPECT_EQ(reno.ssthresh(), 2 * kMss);
  EXPECT_EQ(reno.cwnd(), 5 * kMss);
}

TEST(NewRenoTest, PartialAckAsksForARetransmissionAndDeflates) {
  CongestionControl reno = NewReno(kMss);
  Seq una(1);
  const Seq nxt = una + 10 * kMss;
  for (int i = 0; i < 3; ++i) reno.OnDuplicateAck(una, nxt, 10 * kMss);
  ASSERT_EQ(reno.cwnd(), 8 * kMss);  // ssthresh 5 MSS + 3
  reno.OnDuplicateAck(una, nxt, 10 * kMss);
  ASSERT_EQ(reno.cwnd(), 9 * kMss);

  // The retransmission filled the first hole; a second segment is missing further on.
  EXPECT_TRUE(reno.OnNewAck(una += 3 * kMss, 3 * kMss));
  EXPECT_TRUE(reno.in_recovery());
  // RFC 6582: deflate by the 3 MSS acknowledged, add back one MSS.
  EXPECT_EQ(reno.cwnd(), 7 * kMss);
  // A partial ACK of less than one MSS adds nothing back.
  EXPECT_TRUE(reno.OnNewAck(una += 500, 500));
  EXPECT_EQ(reno.cwnd(), 7 * kMss - 500);
  EXPECT_EQ(reno.ssthresh(), 5 * kMss);
  // Duplicates after a partial ACK still inflate.
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, nxt - una));
  EXPECT_EQ(reno.cwnd(), 8 * kMss - 500);
}

TEST(NewRenoTest, FullAckEndsRecoveryWithCwndAtSsthresh) {
  CongestionControl reno = NewReno(kMss);
  Seq una(0xffff'f000u);  // recovery straddles the wrap of the sequence space
  const Seq nxt = una + 10 * kMss;
  for (int i = 0; i < 6; ++i) reno.OnDuplicateAck(una, nxt, 10 * kMss);
  EXPECT_TRUE(reno.OnNewAck(una += kMss, kMss));
  // The ACK for everything up to the recovery point (recover = SND.NXT - 1) is the full ACK.
  EXPECT_FALSE(reno.OnNewAck(nxt, nxt - una));
  EXPECT_FALSE(reno.in_recovery());
  EXPECT_EQ(reno.cwnd(), reno.ssthresh());
  EXPECT_EQ(reno.cwnd(), 5 * kMss);
  EXPECT_EQ(reno.duplicate_acks(), 0u);
}

TEST(NewRenoTest, NewLossAfterRecoveryTriggersAgain) {
  CongestionControl reno = NewReno(kMss);
  Seq una(1);
  Seq nxt = una + 10 * kMss;
  for (int i = 0; i < 3; ++i) reno.OnDuplicateAck(una, nxt, 10 * kMss);
  reno.OnNewAck(nxt, nxt - una);
  una = nxt;
  nxt = una + 8 * kMss;
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, 8 * kMss));
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, 8 * kMss));
  EXPECT_TRUE(reno.OnDuplicateAck(una, nxt, 8 * kMss));
  EXPECT_EQ(reno.ssthresh(), 4 * kMss);
}

TEST(NewRenoTest, NewAckResetsTheDuplicateCount) {
  CongestionControl reno = NewReno(kMss);
  Seq una(1);
  const Seq nxt = una + 10 * kMss;
  reno.OnDuplicateAck(una, nxt, 10 * kMss);
  reno.OnDuplicateAck(una, nxt, 10 * kMss);
  reno.OnNewAck(una += kMss, kMss);
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, 9 * kMss));
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, 9 * kMss));
  EXPECT_TRUE(reno.OnDuplicateAck(una, nxt, 9 * kMss));
}

TEST(NewRenoTest, TimeoutCollapsesToOneSegment) {
  CongestionControl reno = NewReno(kMss);
  const Seq una(1);
  reno.OnRetransmitTimeout(12 * kMss, una + 12 * kMss);
  EXPECT_EQ(reno.cwnd(), kMss);  // RFC 5681 3.1: LW = 1 segment
  EXPECT_EQ(reno.ssthresh(), 6 * kMss);
  EXPECT_FALSE(reno.in_recovery());
  reno.OnRetransmitTimeout(kMss, una + kMss);  // a second timeout with little in flight
  EXPECT_EQ(reno.ssthresh(), 2 * kMss);
}

TEST(NewRenoTest, TimeoutEndsFastRecovery) {
  CongestionControl reno = NewReno(kMss);
  const Seq una(1);
  const Seq nxt = una + 10 * kMss;
  for (int i = 0; i < 3; ++i) reno.OnDuplicateAck(una, nxt, 10 * kMss);
  ASSERT_TRUE(reno.in_recovery());
  reno.OnRetransmitTimeout(10 * kMss, nxt);
  EXPECT_FALSE(reno.in_recovery());
  EXPECT_EQ(reno.cwnd(), kMss);
}

TEST(NewRenoTest, SlowStartAfterTimeoutCountsOneSegmentPerAck) {
  CongestionControl reno = NewReno(kMss);
  Seq una(1);
  reno.OnRetransmitTimeout(20 * kMss, una + 20 * kMss);
  reno.OnNewAck(una += 2 * kMss, 2 * kMss);  // RFC 3465 2.3: L = 1 MSS now
  EXPECT_EQ(reno.cwnd(), 2 * kMss);
  reno.OnNewAck(una += 2 * kMss, 2 * kMss);
  EXPECT_EQ(reno.cwnd(), 3 * kMss);
}

TEST(NewRenoTest, DuplicatesFromBeforeATimeoutDoNotTriggerFastRetransmit) {
  // RFC 6582 3.2 step 2: after a timeout, duplicates whose ACK does not cover recover belong to
  // the loss already answered; they must not halve ssthresh a second time.
  CongestionControl reno = NewReno(kMss);
  Seq una(1);
  const Seq nxt = una + 10 * kMss;
  reno.OnRetransmitTimeout(10 * kMss, nxt);  // recover = nxt - 1
  reno.OnNewAck(una += kMss, kMss);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, nxt - una));
  EXPECT_EQ(reno.ssthresh(), 5 * kMss);
  EXPECT_FALSE(reno.in_recovery());
  // Once the ACK reaches past recover, a new loss is answered again.
  reno.OnNewAck(nxt, nxt - una);
  una = nxt;
  const Seq later = una + 4 * kMss;
  EXPECT_FALSE(reno.OnDuplicateAck(una, later, 4 * kMss));
  EXPECT_FALSE(reno.OnDuplicateAck(una, later, 4 * kMss));
  EXPECT_TRUE(reno.OnDuplicateAck(una, later, 4 * kMss));
}

TEST(NewRenoTest, RecoverPointDoesNotGoStaleAcrossTheSequenceSpace) {
  // After a timeout and 3 GiB of clean transfer, the old recover value would compare as "ahead"
  // of SND.UNA in 32-bit sequence space; it must not block fast retransmit.
  CongestionControl reno = NewReno(kMss);
  Seq una(1);
  reno.OnRetransmitTimeout(10 * kMss, una + 10 * kMss);
  for (int i = 0; i < 3; ++i) {
    reno.OnNewAck(una += 1'000'000'000u, 1'000'000'000u);  // big strides in sequence space
  }
  const Seq nxt = una + 10 * kMss;
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, 10 * kMss));
  EXPECT_FALSE(reno.OnDuplicateAck(una, nxt, 10 * kMss));
  EXPECT_TRUE(reno.OnDuplicateAck(una, nxt, 10 * kMss));
}

TEST(NewRenoTest, WindowArithmeticSaturates) {
  CongestionControl reno = NewReno(0xffff'ffffu);
  EXPECT_EQ(reno.cwnd(), 0xffff'ffffu);
  reno.OnNewAck(Seq(10), 0xffff'ffffu);
  EXPECT_EQ(reno.cwnd(), 0xffff'ffffu);
  CongestionControl zero = NewReno(0);
  EXPECT_EQ(zero.mss(), 1u);
}

}  // namespace
}  // namespace tapstack::tcp
