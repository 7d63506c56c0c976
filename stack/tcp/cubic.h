// CUBIC's window growth (RFC 9438): after a congestion event the window follows a cubic function
// of the time since congestion avoidance began, W_cubic(t) = C * (t - K)^3 + W_max (4.2), first
// concave up to W_max, the window where the loss came (4.4), then convex beyond it (4.5), and never
// slower than Reno would grow (the Reno-friendly region, 4.3). A loss multiplies the window by
// beta_cubic = 0.7 (4.6), and a flow whose window was still short of its previous W_max gives up
// more (fast convergence, 4.7).
//
// Only what CUBIC adds lives here; slow start, fast retransmit and recovery (RFC 5681, 6582,
// 6675) are the controller's (congestion.h), which calls OnCongestionEvent or OnTimeout when it
// reduces the window and OnAck for each ACK of new data in congestion avoidance. Windows are in
// bytes, as the controller counts them; the RFC's segments are bytes / MSS.
//
// Twenty bytes, since every connection holds one (docs/architecture.md): times in milliseconds in
// 32 bits (t - K is read as a signed difference: an epoch longer than 24 days would wrap), and K
// folded into one stored time, the moment the curve reaches W_max.
#ifndef TAPSTACK_STACK_TCP_CUBIC_H_
#define TAPSTACK_STACK_TCP_CUBIC_H_

#include <chrono>
#include <cstdint>

#include "stack/tcp/newreno.h"
#include "stack/tcp/rto.h"

namespace tapstack::tcp {

class Cubic {
 public:
  // RFC 9438 5.1 and 5.4 (the constants of 4.2, 4.3 and 4.6).
  static constexpr double kC = 0.4;  // segments per second cubed
  static constexpr double kBeta = 0.7;
  static constexpr double kAlpha = 3 * (1 - kBeta) / (1 + kBeta);  // 4.3, about 0.53

  // RFC 9438 Figure 2: the time in seconds W_cubic takes from `cwnd_epoch` to `w_max` (bytes).
  // Negative when the epoch begins above W_max: the curve is then convex from the start.
  static double K(std::uint32_t w_max, std::uint32_t cwnd_epoch, std::uint32_t mss);
  // RFC 9438 Figure 1 in bytes, for `t_minus_k` = t - K in seconds.
  static double Window(double t_minus_k, std::uint32_t w_max, std::uint32_t mss);
  // RFC 9438 4.6: the window after a congestion event, flight_size * beta_cubic. The caller
  // applies the floor of two segments.
  static std::uint32_t Reduce(std::uint32_t flight_size);

  // No W_max known (RFC 9438 4.10): the first slow start ended without a loss, HyStart++ having
  // found the path's limit. The next congestion avoidance starts its curve at the window it
  // begins with (K = 0), and W_est grows at Reno's rate at once (cwnd_prior = `cwnd`).
  void Reset(std::uint32_t cwnd);
  // A loss found by fast retransmit, SACK or a tail loss probe, while the window was `cwnd`:
  // W_max becomes cwnd, or with fast convergence (4.7) cwnd * (1 + beta) / 2 when cwnd had not
  // grown back to the previous W_max. The current epoch ends.
  void OnCongestionEvent(std::uint32_t cwnd);
  // The retransmission timer expired with the window at `cwnd` (RFC 9438 4.8): the first
  // congestion avoidance after the slow start that follows runs the curve from the window it
  // begins with (K = 0, W_max = that window), its W_est from there too.
  void OnTimeout(std::uint32_t cwnd);

  // An ACK of `bytes_acked` new bytes in congestion avoidance, at `now`, with the smoothed RTT
  // `srtt` (zero before any sample): returns the new cwnd. The first ACK of a congestion
  // avoidance stage starts the epoch (t = 0, K per Figure 2, W_est = cwnd, 4.3).
  std::uint32_t OnAck(std::uint32_t cwnd, std::uint32_t bytes_acked, std::uint32_t mss,
                      Duration now, Duration srtt);

  // For tests and traces.
  bool epoch_started() const { return w_est_ != 0; }
  std::uint32_t w_max() const { return w_max_; }  // 0: not known yet
  // RFC 9438 4.3 W_est, the window Reno would have; valid while epoch_started().
  std::uint32_t w_est() const { return w_est_; }
  std::uint32_t cwnd_prior() const { return cwnd_prior_; }
  // When the curve reaches W_max: the epoch's start plus K. Valid while epoch_started().
  std::chrono::milliseconds plateau() const { return std::chrono::milliseconds(plateau_ms_); }

 private:
  void StartEpoch(std::uint32_t cwnd, std::uint32_t mss, std::uint32_t now_ms);

  // W_max in bytes (4.2); 0 until a loss sets it, and after a timeout until the next epoch.
  std::uint32_t w_max_ = 0;
  // The epoch's start + K, in milliseconds of the connection's clock (mod 2^32).
  std::uint32_t plateau_ms_ = 0;
  // W_est in bytes (4.3); 0: no epoch running (congestion avoidance has not begun since the last
  // reduction).
  std::uint32_t w_est_ = 0;
  // The window just before the last reduction (4.6): once W_est reaches it, W_est grows at
  // Reno's rate (alpha = 1, 4.3).
  std::uint32_t cwnd_prior_ = 0;
  // Bytes acknowledged since W_est last grew.
  RenoGrowth reno_estimate_;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_CUBIC_H_
