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

CongestionControl::CongestionControl(std::uint32_t mss, CongestionAlgorithm algorithm)
    : mss_(std::max<std::uint32_t>(mss, 1)),
      cwnd_(SaturatingMultiply(kInitialWindowSegments, mss_)),
      cubic_(algorithm == CongestionAlgorithm::kCubic) {
  if (cubic_) {
    // RFC 9438 4.10: CUBIC's first slow start may use HyStart++ (RFC 9406).
    state_.hystart = HyStart();
    hystart_running_ = true;
  }
}

bool CongestionControl::OnNewAck(Seq ack, std::uint32_t bytes_acked, const AckSample& sample) {
  duplicate_acks_ = 0;
  if (bytes_acked == 0) return false;
  initial_window_ = false;

  if (in_recovery_) {
    if (ack > recover_) {
      // RFC 6582 3.2 step 3, full acknowledgment: everything outstanding when the loss was
      // detected is acknowledged. Deflate to ssthresh (the second option the RFC offers).
      in_recovery_ = false;
      recover_set_ = false;
      cwnd_ = ssthresh_;
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
  if (recover_set_ && ack > recover_) recover_set_ = false;

  if (!sample.cwnd_limited) return false;
  if (in_slow_start()) {
    GrowInSlowStart(ack, bytes_acked, sample);
    return false;
  }
  slow_start_after_timeout_ = false;
  GrowInAvoidance(bytes_acked, sample);
  return false;
}

void CongestionControl::GrowInSlowStart(Seq ack, std::uint32_t bytes_acked,
                                        const AckSample& sample) {
  if (hystart_running_) {
    const HyStart::Growth growth =
        state_.hystart.OnAck(ack, bytes_acked, sample.rtt, sample.snd_nxt, mss_);
    cwnd_ = SaturatingAdd(cwnd_, growth.increase);
    if (growth.end_slow_start) {
      // RFC 9406 4.2: after CSS_ROUNDS rounds of CSS, congestion avoidance with ssthresh = cwnd.
      ssthresh_ = cwnd_;
      StopHyStart();
    }
    return;
  }
  // RFC 3465 2.2: grow by the bytes acknowledged, at most L = 2 * MSS per ACK; RFC 3465 2.3:
  // L = 1 * MSS in the slow start that follows a timeout.
  const std::uint32_t limit = slow_start_after_timeout_ ? mss_ : SaturatingAdd(mss_, mss_);
  cwnd_ = SaturatingAdd(cwnd_, std::min(bytes_acked, limit));
}

void CongestionControl::GrowInAvoidance(std::uint32_t bytes_acked, const AckSample& sample) {
  if (cubic_) {
    cwnd_ = state_.cubic.OnAck(cwnd_, bytes_acked, mss_, sample.now, sample.srtt);
    return;
  }
  // RFC 5681 3.1 (the byte-counting alternative to eq. 3) and RFC 3465 2.1: once a whole cwnd of
  // bytes has been acknowledged, grow by one MSS: about one MSS per round trip.
  cwnd_ = state_.reno.Grow(cwnd_, cwnd_, bytes_acked, mss_);
}

void CongestionControl::StopHyStart() {
  if (!hystart_running_) return;
  hystart_running_ = false;
  // RFC 9438 4.10: no loss has set W_max yet; the curve starts where congestion avoidance does.
  state_.cubic = Cubic();
  state_.cubic.Reset(cwnd_);
}

void CongestionControl::OnCongestionEvent(std::uint32_t basis, bool timeout) {
  initial_window_ = false;
  const std::uint32_t floor = SaturatingAdd(mss_, mss_);
  if (!cubic_) {
    // RFC 5681 eq. 4.
    ssthresh_ = std::max(basis / 2, floor);
    state_.reno = RenoGrowth();
    return;
  }
  // A loss ends HyStart++ (RFC 9406 4.2) and the first slow start with it.
  StopHyStart();
  ssthresh_ = std::max(Cubic::Reduce(basis), floor);  // RFC 9438 4.6
  if (timeout) {
    state_.cubic.OnTimeout(cwnd_);
  } else {
    state_.cubic.OnCongestionEvent(cwnd_);
  }
}

bool CongestionControl::OnDuplicateAck(Seq snd_una, Seq snd_nxt, std::uint32_t flight_size) {
  if (duplicate_acks_ < std::numeric_limits<std::uint8_t>::max()) ++duplicate_acks_;
  if (in_recovery_) {
    // RFC 5681 3.2 step 4: each further duplicate means another segment left the network. RFC
    // 6675 counts that in pipe instead.
    if (!sack_recovery_) cwnd_ = SaturatingAdd(cwnd_, mss_);
    return false;
  }
  if (duplicate_acks_ != kDuplicateAckThreshold) return false;
  return EnterRecovery(snd_una, snd_nxt, flight_size);
}

bool CongestionControl::OnLossDetected(Seq snd_una, Seq snd_nxt, std::uint32_t flight_size) {
  if (in_recovery_) return false;
  return EnterRecovery(snd_una, snd_nxt, flight_size);
}

bool CongestionControl::EnterRecovery(Seq snd_una, Seq snd_nxt, std::uint32_t flight_size) {
  // RFC 6582 3.2 step 2: only if this ACK covers more than recover; otherwise the duplicates
  // belong to a loss already answered (by fast recovery or a timeout): no second reduction.
  if (recover_set_ && !(snd_una > recover_)) return false;

  // RFC 5681 3.2 steps 2 and 3 (the retransmission itself is the caller's), RFC 9438 4.6. The
  // three segments that triggered the duplicates have left the network: cwnd = ssthresh + 3 *
  // MSS. RFC 6675 5 step 4.2: cwnd = ssthresh, since pipe counts what left.
  OnCongestionEvent(flight_size, /*timeout=*/false);
  recover_ = snd_nxt - 1;
  recover_set_ = true;
  cwnd_ = sack_recovery_
              ? ssthresh_
              : SaturatingAdd(ssthresh_, SaturatingMultiply(kDuplicateAckThreshold, mss_));
  in_recovery_ = true;
  return true;
}

void CongestionControl::OnLossRepairedByProbe() {
  OnCongestionEvent(cwnd_, /*timeout=*/false);
  cwnd_ = ssthresh_;
}

void CongestionControl::OnRetransmitTimeout(std::uint32_t flight_size, Seq snd_nxt) {
  OnCongestionEvent(flight_size, /*timeout=*/true);
  cwnd_ = mss_;  // RFC 5681 3.1: the loss window, LW = 1 segment
  recover_ = snd_nxt - 1;
  recover_set_ = true;
  in_recovery_ = false;
  slow_start_after_timeout_ = true;
  duplicate_acks_ = 0;
}

bool CongestionControl::UndoTimeout(const CongestionControl& before, Seq ack,
                                    std::uint32_t flight_before, std::uint32_t flight_size,
                                    std::uint32_t bytes_acked) {
  if (before.in_recovery_ && !(ack > before.recover_)) return false;
  const std::uint32_t mss = mss_;
  *this = before;
  mss_ = mss;
  // Any fast recovery ends with this ACK, and cwnd is no longer the initial window (set_mss).
  in_recovery_ = false;
  duplicate_acks_ = 0;
  initial_window_ = false;
  if (!before.in_recovery_) ssthresh_ = std::max(before.ssthresh_, flight_before);
  const std::uint32_t initial_window = SaturatingMultiply(kInitialWindowSegments, mss_);
  cwnd_ = std::max(
      std::min(before.cwnd_, SaturatingAdd(flight_size, std::min(bytes_acked, initial_window))),
      mss_);
  return true;
}

void CongestionControl::set_mss(std::uint32_t mss) {
  mss_ = std::max<std::uint32_t>(mss, 1);
  if (initial_window_) {
    cwnd_ = SaturatingMultiply(kInitialWindowSegments, mss_);
  }
}

}  // namespace tapstack::tcp
