#include "tools/connection_options.h"

namespace tapstack::tools {

absl::StatusOr<tcp::KeepaliveOptions> ParseKeepalive(std::string_view text) {
  const std::size_t first = text.find(',');
  const std::size_t second = first == std::string_view::npos ? first : text.find(',', first + 1);
  if (second == std::string_view::npos) {
    return absl::InvalidArgumentError("--keepalive takes IDLE,INTERVAL,COUNT, e.g. 3s,2s,4");
  }
  absl::StatusOr<std::chrono::nanoseconds> idle =
      ParseDuration("--keepalive IDLE", text.substr(0, first));
  absl::StatusOr<std::chrono::nanoseconds> interval =
      ParseDuration("--keepalive INTERVAL", text.substr(first + 1, second - first - 1));
  absl::StatusOr<long long> count =
      ParseInteger("--keepalive COUNT", text.substr(second + 1), 1, 127);
  if (!idle.ok()) return idle.status();
  if (!interval.ok()) return interval.status();
  if (!count.ok()) return count.status();
  const auto in_range = [](std::chrono::nanoseconds d) {
    return d >= std::chrono::milliseconds(1) && d <= std::chrono::seconds(32767);
  };
  if (!in_range(*idle) || !in_range(*interval)) {
    return absl::InvalidArgumentError("--keepalive: IDLE and INTERVAL must be 1ms to 32767s");
  }
  return tcp::KeepaliveOptions{
      .enabled = true, .idle = *idle, .interval = *interval, .count = static_cast<int>(*count)};
}

absl::Status ParseConnectionOptions(const Args& args, tcp::ConnectionOptions& options) {
  options.no_delay = args.Has("--no-delay");
  if (auto keepalive = args.Get("--keepalive")) {
    absl::StatusOr<tcp::KeepaliveOptions> parsed = ParseKeepalive(*keepalive);
    if (!parsed.ok()) return parsed.status();
    options.keepalive = *parsed;
  }
  options.keepalive.send_garbage_byte = args.Has("--keepalive-byte");
  if (auto timeout = args.Get("--user-timeout")) {
    absl::StatusOr<std::chrono::nanoseconds> parsed = ParseDuration("--user-timeout", *timeout);
    if (!parsed.ok()) return parsed.status();
    options.user_timeout = *parsed;
  }
  // Bytes, as Linux's SO_SNDBUF and SO_RCVBUF take them (without their doubling): 4 KiB to the
  // 1 GiB a window scale of 14 can advertise (RFC 7323 2.3).
  const auto buffer = [&](const char* flag, std::size_t& size) -> absl::Status {
    const std::optional<std::string> text = args.Get(flag);
    if (!text) return absl::OkStatus();
    absl::StatusOr<long long> parsed = ParseInteger(flag, *text, 4096, 1LL << 30);
    if (!parsed.ok()) return parsed.status();
    size = static_cast<std::size_t>(*parsed);
    return absl::OkStatus();
  };
  if (absl::Status status = buffer("--send-buffer", options.send_buffer); !status.ok()) {
    return status;
  }
  if (!args.Has("--receive-buffer")) {
    options.receive_buffer_max = kAutotunedReceiveBufferMax;
    return absl::OkStatus();
  }
  options.receive_buffer_max = 0;
  return buffer("--receive-buffer", options.receive_buffer);
}

}  // namespace tapstack::tools
