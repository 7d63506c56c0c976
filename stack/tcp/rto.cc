#include "stack/tcp/rto.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace tapstack::tcp {
namespace {

// RFC 6298 2.3 gains as shifts: alpha = 1/8, beta = 1/4; and K = 4 (2.2, 2.3).
constexpr int kAlphaShift = 3;
constexpr int kBetaShift = 2;
constexpr Duration::rep kVarianceFactor = 4;

Duration Clamp(Duration value, Duration low, Duration high) {
  return std::max(low, std::min(value, high));
}

}  // namespace

namespace {
const RtoConfig kDefaultRtoConfig;
}  // namespace

RtoEstimator::RtoEstimator() : RtoEstimator(kDefaultRtoConfig) {}

RtoEstimator::RtoEstimator(const RtoConfig& config) : config_(&config) {
  assert(config_->min <= config_->max);
}

void RtoEstimator::OnRttSample(Duration rtt, std::uint32_t expected_samples) {
  const Duration sample = std::max(rtt, Duration::zero());
  if (!has_sample()) {
    // RFC 6298 2.2: SRTT <- R, RTTVAR <- R/2.
    srtt_ = sample;
    rttvar_ = sample / 2;
    return;
  }
  // RFC 6298 2.3, in this order (RTTVAR uses the SRTT from before this sample):
  //   RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|
  //   SRTT   <- (1 - alpha) * SRTT + alpha * R'
  // written as x += (target - x) / 2^shift, which cannot overflow for non-negative durations.
  // RFC 7323 Appendix G divides both gains by ExpectedSamples (at least 1; capped so that the
  // divisors stay far from overflow).
  const Duration::rep samples = std::clamp<Duration::rep>(expected_samples, 1, 1 << 20);
  const Duration error = srtt_ > sample ? srtt_ - sample : sample - srtt_;
  rttvar_ += (error - rttvar_) / ((1 << kBetaShift) * samples);
  srtt_ += (sample - srtt_) / ((1 << kAlphaShift) * samples);
}

Duration RtoEstimator::BaseRto() const {
  if (!has_sample()) {
    // The initial timeout, or RFC 6298 5.7's fallback after a lost SYN.
    const Duration without_sample =
        syn_was_lost_ ? std::max(config_->initial, config_->after_syn_loss) : config_->initial;
    return Clamp(without_sample, config_->min, config_->max);
  }
  // RFC 6298 2.3: RTO <- SRTT + max(G, K * RTTVAR), saturating at max instead of overflowing.
  const Duration::rep limit = config_->max.count();
  const Duration::rep variance_term =
      rttvar_.count() > limit / kVarianceFactor ? limit : rttvar_.count() * kVarianceFactor;
  const Duration::rep spread = std::max(config_->granularity.count(), variance_term);
  const Duration::rep total =
      srtt_.count() > limit - std::min(spread, limit) ? limit : srtt_.count() + spread;
  // RFC 6298 2.4 (lower bound, configurable) and 2.5 (upper bound).
  return Clamp(Duration(total), config_->min, config_->max);
}

Duration RtoEstimator::rto() const {
  // RFC 6298 5.5: each backoff doubles the timeout; the maximum of 2.5 bounds the doubling.
  Duration timeout = BaseRto();
  for (int i = 0; i < backoff_count_ && Duration::zero() < timeout && timeout < config_->max; ++i) {
    timeout = timeout > config_->max / 2 ? config_->max : timeout * 2;
  }
  return timeout;
}

void RtoEstimator::Backoff() {
  if (backoff_count_ < std::numeric_limits<int>::max()) ++backoff_count_;
}

void RtoEstimator::OnEstablishedAfterSynLoss() {
  backoff_count_ = 0;
  if (!has_sample()) syn_was_lost_ = true;
}

}  // namespace tapstack::tcp
