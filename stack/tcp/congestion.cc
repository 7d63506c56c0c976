#include "stack/tcp/congestion.h"

#include <algorithm>
#include <limits>

namespace tapstack::tcp {
namespace {

// Window arithmetic saturates at the largest 32-bit value instead of wrapping around.
constexpr std::uint64_t kLargest = std::numeric_limits<std::uint32_t>::max();

std::uint32_t SaturatingAdd(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{a} + b, kLargest));
}

std::uint32_t SaturatingMultiply(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{a} * b, kLargest));
}

}  // namespace

NewReno::NewReno(std::uint32_t mss)
    : mss_(std::max<std::uint32_t>(mss, 1)),
      cwnd_(SaturatingMultiply(kInitialWindowSegments, mss_)) {}

bool NewReno::OnNewAck(Seq ack, std::uint32_t bytes_acked) {
  duplicate_acks_ = 0;
  if (bytes_acked == 0) return false;
  initial_window_ = false;

  if (in_recovery_) {
    if (ack > *recover_) {
      // RFC 6582 3.2 step 3, full acknowledgment: everything outstanding when the loss was
      // detected is acknowledged. Deflate to ssthresh (the second option the RFC offers).
      in_recovery_ = false;
      recover_.reset();
      cwnd_ = ssthresh_;
      bytes_acked_in_avoidance_ = 0;
      return false;
    }
    // RFC 6675: pipe, not cwnd, shrinks as the partial ACK takes bytes out of the network.
    if (sack_recovery_) return false;
    // RFC 6582 3.2 step 3, partial acknowledgment: the next hole is lost too. Deflate by what was
    // acknowledged, add back one MSS if at least one MSS left the network, and keep recovering.
    cwnd_ = cwnd_ > bytes_acked ? cwnd_ - bytes_acked : 0;
    if (bytes_acked >= mss_) cwnd_ = SaturatingAdd(cwnd_, mss_);
    cwnd_ = std::max(cwnd_, mss_);  // never below one segment
    return true;
  }

  // SND.UNA has moved past the last recovery point: forget it before it can wrap (see recover_).
  if (recover_.has_value() && ack > *recover_) recover_.reset();

  if (in_slow_start()) {
    // RFC 3465 2.2: grow by the bytes acknowledged, at most L = 2 * MSS per ACK; RFC 3465 2.3:
    // L = 1 * MSS in the slow start that follows a timeout.
    const std::uint32_t limit = slow_start_after_timeout_ ? mss_ : SaturatingAdd(mss_, mss_);
    cwnd_ = SaturatingAdd(cwnd_, std::min(bytes_acked, limit));
    return false;
  }
  slow_start_after_timeout_ = false;
  // RFC 5681 3.1 (the byte-counting alternative to eq. 3) and RFC 3465 2.1: once a whole cwnd of
  // bytes has been acknowledged, grow by one MSS: about one MSS per round trip.
  bytes_acked_in_avoidance_ = SaturatingAdd(bytes_acked_in_avoidance_, bytes_acked);
  if (bytes_acked_in_avoidance_ >= cwnd_) {
    bytes_acked_in_avoidance_ -= cwnd_;
    cwnd_ = SaturatingAdd(cwnd_, mss_);
  }
  return false;
}

bool NewReno::OnDuplicateAck(Seq snd_una, Seq snd_nxt, std::uint32_t flight_size) {
  duplicate_acks_ = SaturatingAdd(duplicate_acks_, 1);
  if (in_recovery_) {
    // RFC 5681 3.2 step 4: each further duplicate means another segment left the network. RFC
    // 6675 counts that in pipe instead.
    if (!sack_recovery_) cwnd_ = SaturatingAdd(cwnd_, mss_);
    return false;
  }
  if (duplicate_acks_ != kDuplicateAckThreshold) return false;
  return EnterRecovery(snd_una, snd_nxt, flight_size);
}

bool NewReno::OnLossDetected(Seq snd_una, Seq snd_nxt, std::uint32_t flight_size) {
  if (in_recovery_) return false;
  return EnterRecovery(snd_una, snd_nxt, flight_size);
}

bool NewReno::EnterRecovery(Seq snd_una, Seq snd_nxt, std::uint32_t flight_size) {
  // RFC 6582 3.2 step 2: only if this ACK covers more than recover; otherwise the duplicates
  // belong to a loss already answered (by fast recovery or a timeout): no second reduction.
  if (recover_.has_value() && !(snd_una > *recover_)) return false;

  // RFC 5681 3.2 steps 2 and 3 (the retransmission itself is the caller's). The three segments
  // that triggered the duplicates have left the network: cwnd = ssthresh + 3 * MSS. RFC 6675 5
  // step 4.2: cwnd = ssthresh, since pipe counts what left.
  initial_window_ = false;
  ssthresh_ = ReducedSsthresh(flight_size);
  recover_ = snd_nxt - 1;
  cwnd_ = sack_recovery_
              ? ssthresh_
              : SaturatingAdd(ssthresh_, SaturatingMultiply(kDuplicateAckThreshold, mss_));
  in_recovery_ = true;
  bytes_acked_in_avoidance_ = 0;
  return true;
}

void NewReno::OnLossRepairedByProbe() {
  initial_window_ = false;
  ssthresh_ = std::max(cwnd_ / 2, SaturatingAdd(mss_, mss_));
  cwnd_ = ssthresh_;
  bytes_acked_in_avoidance_ = 0;
}

void NewReno::OnRetransmitTimeout(std::uint32_t flight_size, Seq snd_nxt) {
  initial_window_ = false;
  ssthresh_ = ReducedSsthresh(flight_size);
  cwnd_ = mss_;  // RFC 5681 3.1: the loss window, LW = 1 segment
  recover_ = snd_nxt - 1;
  in_recovery_ = false;
  slow_start_after_timeout_ = true;
  bytes_acked_in_avoidance_ = 0;
  duplicate_acks_ = 0;
}

void NewReno::set_mss(std::uint32_t mss) {
  mss_ = std::max<std::uint32_t>(mss, 1);
  if (initial_window_) {
    cwnd_ = SaturatingMultiply(kInitialWindowSegments, mss_);
  }
}

std::uint32_t NewReno::ReducedSsthresh(std::uint32_t flight_size) const {
  return std::max(flight_size / 2, SaturatingAdd(mss_, mss_));
}

}  // namespace tapstack::tcp
