// HyStart++ (RFC 9406): leaves the first slow start before it overshoots the path, by watching the
// minimum RTT of each round. When a round's minimum rises by more than a threshold over the
// previous round's (queues are building), slow start gives way to Conservative Slow Start (CSS),
// which grows a quarter as fast; if the RTT falls back below the round that started CSS, the rise
// was noise and slow start resumes; after CSS_ROUNDS rounds of CSS, congestion avoidance begins.
//
// The controller (congestion.h) runs it under CUBIC only, as Linux does its HyStart, and only in
// the first slow start, while ssthresh is still infinite (RFC 9406 4.3 SHOULD): later slow
// starts stop at the ssthresh a loss left. NewReno keeps RFC 5681's slow start unchanged, as the
// plain reference the two are compared against.
//
// RTT samples come from the sender: with timestamps every ACK of new data gives one; without,
// one segment per round trip is timed, fewer than N_RTT_SAMPLE per round, so HyStart++ never
// leaves slow start early and slow start runs as RFC 5681's (with RFC 9406's L = 8).
//
// Twenty bytes: RTTs in microseconds in 32 bits (saturating at 71 minutes).
#ifndef TAPSTACK_STACK_TCP_HYSTART_H_
#define TAPSTACK_STACK_TCP_HYSTART_H_

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

#include "stack/tcp/rto.h"
#include "stack/tcp/seq.h"

namespace tapstack::tcp {

class HyStart {
 public:
  // RFC 9406 4.3, for a sender that does not pace.
  static constexpr Duration kMinRttThresh = std::chrono::milliseconds(4);
  static constexpr Duration kMaxRttThresh = std::chrono::milliseconds(16);
  static constexpr std::uint32_t kMinRttDivisor = 8;
  static constexpr std::uint32_t kRttSamples = 8;  // N_RTT_SAMPLE
  static constexpr std::uint32_t kCssGrowthDivisor = 4;
  static constexpr std::uint32_t kCssRounds = 5;
  static constexpr std::uint32_t kMaxSegmentsPerAck = 8;  // L

  // What an ACK in slow start does to cwnd.
  struct Growth {
    std::uint32_t increase = 0;   // bytes to add to cwnd
    bool end_slow_start = false;  // CSS_ROUNDS rounds of CSS are over: ssthresh = cwnd
  };
  // An ACK of `bytes_acked` new bytes up to `ack` (RFC 9406 4.2), with this ACK's RTT sample if it
  // gave one; `snd_nxt` bounds the round that starts when `ack` ends one.
  Growth OnAck(Seq ack, std::uint32_t bytes_acked, std::optional<Duration> rtt, Seq snd_nxt,
               std::uint32_t mss);

  // For tests and traces.
  bool in_css() const { return in_css_; }
  std::optional<Duration> current_round_min_rtt() const { return FromMicros(current_round_min_); }
  std::optional<Duration> last_round_min_rtt() const { return FromMicros(last_round_min_); }
  std::optional<Duration> css_baseline_min_rtt() const { return FromMicros(css_baseline_min_); }

 private:
  static constexpr std::uint32_t kInfinite = std::numeric_limits<std::uint32_t>::max();
  static std::uint32_t ToMicros(Duration rtt);
  static std::optional<Duration> FromMicros(std::uint32_t micros);
  // RFC 9406 4.2: a round starts: the current round's minimum becomes the last round's.
  void StartRound(Seq snd_nxt);
  // RFC 9406 4.2: the delay increase that ends slow start, from the last round's minimum.
  std::uint32_t RttThreshold() const;

  Seq round_end_;                                // windowEnd: the round ends when an ACK reaches it
  std::uint32_t current_round_min_ = kInfinite;  // currentRoundMinRTT, microseconds
  std::uint32_t last_round_min_ = kInfinite;     // lastRoundMinRTT
  std::uint32_t css_baseline_min_ = kInfinite;   // cssBaselineMinRtt
  std::uint8_t rtt_samples_ = 0;                 // rttSampleCount, saturating
  std::uint8_t css_rounds_ = 0;                  // round ends since CSS began
  bool round_started_ : 1 = false;
  bool in_css_ : 1 = false;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_HYSTART_H_
