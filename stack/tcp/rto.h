// The retransmission timeout of RFC 6298: a smoothed round-trip time (SRTT) and its variation
// (RTTVAR) estimated from RTT samples, the timeout derived from them, and exponential backoff.
//
// All arithmetic is on integer std::chrono durations (nanoseconds): no floating point. Taking
// samples per Karn's algorithm (RFC 6298 3: never from a retransmitted segment, unless timestamps
// disambiguate) and running the timer (RFC 6298 5) are the caller's job.
#ifndef TAPSTACK_STACK_TCP_RTO_H_
#define TAPSTACK_STACK_TCP_RTO_H_

#include <chrono>
#include <cstdint>
#include <optional>

namespace tapstack::tcp {

using Duration = std::chrono::steady_clock::duration;

struct RtoConfig {
  // RFC 6298 2.1: the timeout before any RTT sample.
  Duration initial = std::chrono::seconds(1);
  // RFC 6298 2.4 asks for at least 1 s; Linux uses 200 ms, and so do we by default.
  Duration min = std::chrono::milliseconds(200);
  // RFC 6298 2.5: an upper bound, at least 60 s; it also caps the backoff doubling (5.5).
  Duration max = std::chrono::seconds(120);
  // G, the clock granularity of RFC 6298 2.2/2.3: the least variance term. Our clock is passed in
  // by the caller; 1 ms suits a millisecond timer wheel.
  Duration granularity = std::chrono::milliseconds(1);
  // RFC 6298 5.7: the timeout to use once the connection is established when the SYN (or
  // SYN-ACK) had to be retransmitted and the timeout was smaller.
  Duration after_syn_loss = std::chrono::seconds(3);
};

class RtoEstimator {
 public:
  // Uses the defaults of RtoConfig.
  RtoEstimator();
  // Requires config.min <= config.max. The configuration is shared, not copied (every connection
  // of an engine uses the same one): it must outlive the estimator.
  explicit RtoEstimator(const RtoConfig& config);
  explicit RtoEstimator(RtoConfig&&) = delete;

  // Feeds one round-trip measurement R (RFC 6298 2.2 for the first, 2.3 after that, with
  // alpha = 1/8, beta = 1/4, K = 4). A negative R is taken as 0. Does not touch the backoff: the
  // caller resets it when an ACK acknowledges new data (see ResetBackoff).
  //
  // `expected_samples` is RFC 7323 Appendix G's ExpectedSamples: with timestamps every ACK gives a
  // sample, about that many per round trip, and the gains become alpha / ExpectedSamples and
  // beta / ExpectedSamples so that the estimator keeps the memory (about one round trip's worth
  // of history per eighth) RFC 6298 tuned it for with one sample per round trip.
  void OnRttSample(Duration rtt, std::uint32_t expected_samples = 1);

  // The current timeout: SRTT + max(G, K * RTTVAR) (or the initial value before any sample),
  // clamped to [min, max], then doubled once per backoff step without exceeding max.
  Duration rto() const;

  // RFC 6298 5.5: the retransmission timer expired; the next timeout is twice as long (up to
  // max). backoff_count() keeps counting past max, so the caller can use it to give up after a
  // number of retransmissions (RFC 9293 3.8.3, R2).
  void Backoff();
  // Undoes the backoff: the path delivers again (an ACK for new data arrived).
  void ResetBackoff() { backoff_count_ = 0; }
  int backoff_count() const { return backoff_count_; }

  // RFC 6298 5.7: call when the connection becomes established after a retransmitted SYN (or
  // SYN-ACK). With no RTT sample yet, the timeout becomes at least `after_syn_loss` (3 s); any
  // backoff is reset. With a sample (for instance from timestamps), nothing changes.
  void OnEstablishedAfterSynLoss();

  // SRTT, or nullopt before the first sample.
  std::optional<Duration> srtt() const {
    return has_sample() ? std::optional<Duration>(srtt_) : std::nullopt;
  }
  // RTTVAR; zero before the first sample.
  Duration rttvar() const { return rttvar_; }
  const RtoConfig& config() const { return *config_; }

 private:
  // The timeout before backoff, clamped to [min, max].
  Duration BaseRto() const;

  // No sample yet is SRTT = -1 rather than an optional: 32 bytes in all, since every connection
  // holds one (docs/architecture.md).
  static constexpr Duration kNoSample{-1};
  bool has_sample() const { return srtt_ != kNoSample; }

  const RtoConfig* config_;
  Duration srtt_ = kNoSample;
  Duration rttvar_{0};
  int backoff_count_ = 0;
  // RFC 6298 5.7 applies: without a sample the timeout is at least after_syn_loss.
  bool syn_was_lost_ = false;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_RTO_H_
