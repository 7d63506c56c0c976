#include "stack/tcp/cubic.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tapstack::tcp {
namespace {

constexpr double kLargest = std::numeric_limits<std::uint32_t>::max();

std::uint32_t Milliseconds(Duration now) {
  // Modulo 2^32: only differences within an epoch are read.
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

std::uint32_t ClampToWindow(double bytes) {
  return static_cast<std::uint32_t>(std::clamp(bytes, 0.0, kLargest));
}

}  // namespace

double Cubic::K(std::uint32_t w_max, std::uint32_t cwnd_epoch, std::uint32_t mss) {
  const double deficit = (static_cast<double>(w_max) - static_cast<double>(cwnd_epoch)) / mss;
  return std::cbrt(deficit / kC);
}

double Cubic::Window(double t_minus_k, std::uint32_t w_max, std::uint32_t mss) {
  return kC * t_minus_k * t_minus_k * t_minus_k * mss + w_max;
}

std::uint32_t Cubic::Reduce(std::uint32_t flight_size) {
  return ClampToWindow(std::floor(flight_size * kBeta));
}

void Cubic::Reset(std::uint32_t cwnd) {
  *this = Cubic();
  cwnd_prior_ = cwnd;
}

void Cubic::OnCongestionEvent(std::uint32_t cwnd) {
  // RFC 9438 4.7: a window that never grew back to the last W_max means another flow is taking
  // a share: the new plateau is set lower, between the two, to leave it room sooner.
  w_max_ = cwnd < w_max_ ? ClampToWindow(cwnd * (1 + kBeta) / 2) : cwnd;
  cwnd_prior_ = cwnd;
  w_est_ = 0;  // the epoch ends; congestion avoidance begins a new one
}

void Cubic::OnTimeout(std::uint32_t cwnd) {
  // RFC 9438 4.8: W_max and W_est are taken from the window when congestion avoidance begins
  // again, K = 0; cwnd_prior still says where Reno's estimate speeds up.
  w_max_ = 0;
  cwnd_prior_ = cwnd;
  w_est_ = 0;
}

void Cubic::StartEpoch(std::uint32_t cwnd, std::uint32_t mss, std::uint32_t now_ms) {
  cwnd = std::max<std::uint32_t>(cwnd, 1);
  if (w_max_ == 0) w_max_ = cwnd;  // RFC 9438 4.8 and 4.10: K = 0
  w_est_ = cwnd;                   // RFC 9438 4.3: W_est = cwnd_epoch
  reno_estimate_ = RenoGrowth();
  const auto k_ms = static_cast<std::int64_t>(std::llround(K(w_max_, cwnd, mss) * 1000));
  plateau_ms_ = static_cast<std::uint32_t>(now_ms + k_ms);
}

std::uint32_t Cubic::OnAck(std::uint32_t cwnd, std::uint32_t bytes_acked, std::uint32_t mss,
                           Duration now, Duration srtt) {
  const std::uint32_t now_ms = Milliseconds(now);
  if (!epoch_started()) StartEpoch(cwnd, mss, now_ms);
  cwnd = std::max<std::uint32_t>(cwnd, 1);
  // t - K (RFC 9438 4.2), from the stored plateau; signed, since t < K in the concave region.
  const double t_minus_k = static_cast<std::int32_t>(now_ms - plateau_ms_) / 1000.0;
  const double rtt = std::chrono::duration<double>(srtt).count();

  // RFC 9438 4.3: W_est grows by alpha_cubic segments per window acknowledged, by one (Reno's
  // rate) once it has passed the window where the last loss came.
  const double alpha = w_est_ >= cwnd_prior_ ? 1.0 : kAlpha;
  w_est_ = reno_estimate_.Grow(w_est_, cwnd, bytes_acked,
                               static_cast<std::uint32_t>(std::llround(alpha * mss)));
  if (Window(t_minus_k, w_max_, mss) < w_est_) {
    // The Reno-friendly region: small windows and short round trips, where the cubic curve
    // grows slower than Reno; never take the window back down.
    return std::max(cwnd, w_est_);
  }
  // RFC 9438 4.4 and 4.5: aim at where the curve will be one round trip from now, at most half
  // the window more (the RFC's bound against bursts), and close the gap over a window of ACKs:
  // (target - cwnd) / cwnd segments per segment acknowledged. Truncating to whole bytes does not
  // accumulate: the target is recomputed from the clock on every ACK.
  const double target =
      std::clamp(Window(t_minus_k + rtt, w_max_, mss), static_cast<double>(cwnd), 1.5 * cwnd);
  return ClampToWindow(cwnd + (target - cwnd) * bytes_acked / cwnd);
}

}  // namespace tapstack::tcp
