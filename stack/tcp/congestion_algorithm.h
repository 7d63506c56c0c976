// Which congestion controller a connection runs (congestion.h). Its own header so that the
// configuration (tcp_types.h) can name it without the controller's internals.
#ifndef TAPSTACK_STACK_TCP_CONGESTION_ALGORITHM_H_
#define TAPSTACK_STACK_TCP_CONGESTION_ALGORITHM_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace tapstack::tcp {

enum class CongestionAlgorithm : std::uint8_t {
  // RFC 9438 window growth, with HyStart++ (RFC 9406) in the first slow start. The default, as in
  // Linux, Windows and the BSDs.
  kCubic,
  // RFC 5681 slow start and congestion avoidance with RFC 6582 recovery: one segment per round
  // trip, halved on loss.
  kNewReno,
};

// "cubic" or "newreno".
constexpr std::string_view CongestionAlgorithmName(CongestionAlgorithm algorithm) {
  return algorithm == CongestionAlgorithm::kCubic ? "cubic" : "newreno";
}

// The inverse of CongestionAlgorithmName; nullopt for any other name.
constexpr std::optional<CongestionAlgorithm> ParseCongestionAlgorithm(std::string_view name) {
  if (name == "cubic") return CongestionAlgorithm::kCubic;
  if (name == "newreno") return CongestionAlgorithm::kNewReno;
  return std::nullopt;
}

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_CONGESTION_ALGORITHM_H_
