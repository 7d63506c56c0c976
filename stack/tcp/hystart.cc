#include "stack/tcp/hystart.h"

#include <algorithm>

namespace tapstack::tcp {

std::uint32_t HyStart::ToMicros(Duration rtt) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(rtt).count();
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(micros, 0, kInfinite - 1));
}

std::optional<Duration> HyStart::FromMicros(std::uint32_t micros) {
  if (micros == kInfinite) return std::nullopt;
  return std::chrono::microseconds(micros);
}

void HyStart::StartRound(Seq snd_nxt) {
  round_started_ = true;
  round_end_ = snd_nxt;
  last_round_min_ = current_round_min_;
  current_round_min_ = kInfinite;
  rtt_samples_ = 0;
}

std::uint32_t HyStart::RttThreshold() const {
  // RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / MIN_RTT_DIVISOR, MAX_RTT_THRESH)).
  return std::clamp(last_round_min_ / kMinRttDivisor, ToMicros(kMinRttThresh),
                    ToMicros(kMaxRttThresh));
}

HyStart::Growth HyStart::OnAck(Seq ack, std::uint32_t bytes_acked, std::optional<Duration> rtt,
                               Seq snd_nxt, std::uint32_t mss) {
  // Rounds are bounded by sequence numbers: windowEnd is SND.NXT when a round starts, and the ACK
  // that reaches it ends the round. The first ACK starts the first round.
  if (!round_started_ || !(ack < round_end_)) {
    const bool round_ended = round_started_;
    StartRound(snd_nxt);
    // CSS_ROUNDS whole rounds of CSS (the round CSS began in is not one): enter congestion
    // avoidance with ssthresh = cwnd; this ACK grows nothing more.
    if (round_ended && in_css_ && ++css_rounds_ > kCssRounds) return Growth{.end_slow_start = true};
  }
  // cwnd += min(N, L * SMSS), divided by CSS_GROWTH_DIVISOR in CSS.
  const std::uint32_t limit = kMaxSegmentsPerAck * mss;
  Growth growth{.increase = std::min(bytes_acked, limit)};
  if (in_css_) growth.increase /= kCssGrowthDivisor;

  if (rtt) {
    current_round_min_ = std::min(current_round_min_, ToMicros(*rtt));
    if (rtt_samples_ < 0xff) ++rtt_samples_;
  }
  if (rtt_samples_ < kRttSamples) return growth;
  if (!in_css_) {
    // Enough samples this round: a rise of the round's minimum by RttThresh over the last
    // round's means queues are building: CSS, with this round's minimum as the baseline.
    if (current_round_min_ != kInfinite && last_round_min_ != kInfinite &&
        std::uint64_t{current_round_min_} >= std::uint64_t{last_round_min_} + RttThreshold()) {
      css_baseline_min_ = current_round_min_;
      in_css_ = true;
      css_rounds_ = 0;
    }
  } else if (current_round_min_ < css_baseline_min_) {
    // The RTT came back below the baseline: the rise was not the path filling up. Back to slow
    // start, HyStart++ watching again.
    css_baseline_min_ = kInfinite;
    in_css_ = false;
  }
  return growth;
}

}  // namespace tapstack::tcp
