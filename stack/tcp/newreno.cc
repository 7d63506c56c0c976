#include "stack/tcp/newreno.h"

#include <algorithm>
#include <limits>

namespace tapstack::tcp {

std::uint32_t RenoGrowth::Grow(std::uint32_t window, std::uint32_t cwnd, std::uint32_t bytes_acked,
                               std::uint32_t step) {
  constexpr std::uint64_t kLargest = std::numeric_limits<std::uint32_t>::max();
  bytes_acked_ = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(std::uint64_t{bytes_acked_} + bytes_acked, kLargest));
  if (bytes_acked_ < cwnd) return window;
  bytes_acked_ -= cwnd;
  return static_cast<std::uint32_t>(
      std::min<std::uint64_t>(std::uint64_t{window} + step, kLargest));
}

}  // namespace tapstack::tcp
