// NewReno's window growth in congestion avoidance (RFC 5681 3.1): about one segment per round
// trip, counted in bytes (RFC 3465 2.1). The rest of NewReno (slow start, the halving on loss,
// fast recovery per RFC 6582) is common to every controller and lives in congestion.h.
//
// The same additive increase estimates what Reno would have reached for CUBIC's Reno-friendly
// region (RFC 9438 4.3), with a smaller step: RenoGrowth serves both.
#ifndef TAPSTACK_STACK_TCP_NEWRENO_H_
#define TAPSTACK_STACK_TCP_NEWRENO_H_

#include <cstdint>

namespace tapstack::tcp {

class RenoGrowth {
 public:
  // Adds `bytes_acked` to the count of bytes acknowledged since `window` last grew; once a whole
  // congestion window (`cwnd`) has been acknowledged, one round trip's worth, returns `window`
  // grown by `step` (one MSS for Reno itself, RFC 5681 3.1; alpha_cubic * MSS for CUBIC's estimate
  // W_est, RFC 9438 4.3). At most one step per ACK, as RFC 3465 2.1 counts; the rest of a stretch
  // ACK stays counted. Saturates at the largest 32-bit value.
  std::uint32_t Grow(std::uint32_t window, std::uint32_t cwnd, std::uint32_t bytes_acked,
                     std::uint32_t step);

  std::uint32_t bytes_acked() const { return bytes_acked_; }

 private:
  std::uint32_t bytes_acked_ = 0;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_NEWRENO_H_
