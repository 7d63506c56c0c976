// `tapstack up`: brings the stack up on a TAP device. It answers ARP and ping, and with --ping it
// resolves and pings a host itself. Runs until --duration passes or SIGINT/SIGTERM; with --ping
// and no --duration, until the pings are done. With --ping the exit status says whether every
// echo request was answered.
#include <cstdio>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "tools/commands.h"
#include "tools/runtime.h"

namespace tapstack::tools {

namespace {

constexpr char kUsage[] =
    "usage: tapstack up --addr ADDRESS/PREFIX [--tap NAME] [--netns NS] [--gateway IP]"
    " [--mac MAC]\n"
    "                   [--mtu N] [--pcap FILE] [--ping IP [--count N] [--interval DURATION]]\n"
    "                   [--duration DURATION] [--ready-file FILE] [--stats] [--no-offload]\n"
    "  --ready-file FILE  written once the stack answers on the TAP device, removed on exit\n"
    "  --no-offload       no virtio-net header: plain frames, every checksum checked here\n";

int Usage(absl::string_view message) {
  std::fprintf(stderr, "tapstack up: %.*s\n%s", static_cast<int>(message.size()), message.data(),
               kUsage);
  return 2;
}

}  // namespace

int RunUp(std::span<const std::string_view> raw_args) {
  if (AsksForHelp(raw_args)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::set<std::string> valued = kRuntimeValued;
  valued.insert({"--ping", "--count", "--interval", "--duration"});
  absl::StatusOr<Args> args = Args::Parse(raw_args, valued, {"--stats", "--no-offload"});
  if (!args.ok()) return Usage(args.status().message());
  if (!args->positional().empty()) return Usage("unexpected argument " + args->positional()[0]);
  absl::StatusOr<RuntimeOptions> options = ParseRuntimeOptions(*args);
  if (!options.ok()) return Usage(options.status().message());
  options->offload = !args->Has("--no-offload");

  std::optional<wire::Ipv4Address> ping_target;
  long long ping_count = 3;
  std::chrono::nanoseconds ping_interval = std::chrono::seconds(1);
  std::optional<std::chrono::nanoseconds> duration;
  if (auto target = args->Get("--ping")) {
    ping_target = wire::Ipv4Address::Parse(*target);
    if (!ping_target) return Usage("--ping: bad IPv4 address '" + *target + "'");
  }
  if (auto count = args->Get("--count")) {
    absl::StatusOr<long long> value = ParseInteger("--count", *count, 1, 1'000'000);
    if (!value.ok()) return Usage(value.status().message());
    ping_count = *value;
  }
  if (auto interval = args->Get("--interval")) {
    absl::StatusOr<std::chrono::nanoseconds> value = ParseDuration("--interval", *interval);
    if (!value.ok()) return Usage(value.status().message());
    ping_interval = *value;
  }
  if (auto text = args->Get("--duration")) {
    absl::StatusOr<std::chrono::nanoseconds> value = ParseDuration("--duration", *text);
    if (!value.ok()) return Usage(value.status().message());
    duration = *value;
  }

  absl::StatusOr<std::unique_ptr<StackRuntime>> runtime = StackRuntime::Start(*options);
  if (!runtime.ok()) {
    std::fprintf(stderr, "tapstack up: %s\n", std::string(runtime.status().message()).c_str());
    return 1;
  }
  StackRuntime& rt = **runtime;
  Stack& stack = rt.stack();
  std::fprintf(stderr, "tapstack up: %s/%d on %s (mac %s), offloads %s\n",
               stack.interface().address.ToString().c_str(), stack.interface().prefix_len,
               options->tap_name.c_str(), stack.interface().mac->ToString().c_str(),
               rt.DescribeOffload().c_str());

  if (const absl::Status ready = rt.SignalReady(); !ready.ok()) {
    std::fprintf(stderr, "tapstack up: %s\n", std::string(ready.message()).c_str());
    return 1;
  }

  const timers::TimePoint start = rt.Now();
  long long pings_sent = 0;
  long long replies = 0;
  // When each unanswered echo request went out, by its (16-bit, wrapping) sequence number: the
  // round-trip times, and a duplicate reply is not counted twice.
  absl::flat_hash_map<std::uint16_t, timers::TimePoint> outstanding;
  const auto identifier = static_cast<std::uint16_t>(getpid());
  stack.set_echo_reply_handler([&](const EchoReply& reply) {
    if (reply.identifier != identifier || !ping_target || reply.from != *ping_target) return;
    const auto request = outstanding.find(reply.sequence);
    if (request == outstanding.end()) return;  // not one of ours, or a duplicate
    ++replies;
    const double rtt_ms =
        std::chrono::duration<double, std::milli>(rt.Now() - request->second).count();
    outstanding.erase(request);
    std::printf("reply from %s: seq=%u time=%.3f ms\n", reply.from.ToString().c_str(),
                reply.sequence, rtt_ms);
    std::fflush(stdout);
  });
  const auto ping_deadline = [&]() -> timers::TimePoint {
    return start + ping_interval * pings_sent;
  };
  while (!rt.interrupted()) {
    const timers::TimePoint now = rt.Now();
    if (duration && now - start >= *duration) break;
    if (ping_target) {
      if (pings_sent < ping_count && now >= ping_deadline()) {
        const auto sequence = static_cast<std::uint16_t>(pings_sent + 1);
        outstanding[sequence] = now;
        stack.SendEchoRequest(*ping_target, identifier, sequence, {}, now);
        ++pings_sent;
      }
      // Without --duration: done once every reply came, or one interval after the last request.
      const bool pings_over = replies == ping_count ||
                              (pings_sent == ping_count && now >= ping_deadline() + ping_interval);
      if (pings_over && !duration) break;
    }
    std::chrono::nanoseconds wait = std::chrono::milliseconds(100);
    if (ping_target && pings_sent < ping_count) {
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::max(ping_deadline() - now, timers::Duration::zero())));
    }
    if (const std::error_code error = rt.loop().RunOnce(wait)) {
      std::fprintf(stderr, "tapstack up: %s\n", rt.DescribeLoopError(error).c_str());
      return 1;
    }
  }
  if (args->Has("--stats")) rt.PrintStats(stderr);
  if (ping_target) {
    std::printf("%lld packets transmitted, %lld received\n", pings_sent, replies);
    return replies == ping_count ? 0 : 1;
  }
  return 0;
}

}  // namespace tapstack::tools
