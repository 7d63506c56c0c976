// `tapstack up`: brings the stack up on a TAP device. It answers ARP and ping (and, with an IPv6
// --addr, Neighbor Discovery and ping over IPv6), and with --ping it resolves and pings a host
// itself. Runs until --duration passes or SIGINT/SIGTERM; with --ping
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
    "usage: tapstack up --addr ADDRESS/PREFIX [--addr IPV6-ADDRESS/PREFIX] [--tap NAME]"
    " [--netns NS]\n"
    "                   [--gateway IP] [--gateway IPV6] [--mac MAC] [--mtu N] [--pcap FILE]\n"
    "                   [--ping IP|IPV6 [--count N] [--interval DURATION]]\n"
    "                   [--dad-transmits N] [--duration DURATION] [--ready-file FILE] [--stats]\n"
    "                   [--no-offload] [--rx-hold DURATION]\n"
    "  --addr IPV6/PREFIX turns IPv6 on beside IPv4 (a link-local address from the MAC too);\n"
    "                     an IPv6 --ping starts once duplicate address detection is over\n"
    "  --dad-transmits N  duplicate address detection probes per IPv6 address, 1 s apart\n"
    "                     (default 1; 0 uses the addresses at once)\n"
    "  --ready-file FILE  written once the stack answers on the TAP device, removed on exit\n"
    "  --no-offload       no virtio-net header: plain frames, every checksum checked here\n"
    "  --rx-hold DURATION after reading bulk data, wait this long for more before the next\n"
    "                     wakeup (default 50us; 0 turns it off; at most 1ms)\n";

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
  std::optional<wire::Ipv6Address> ping_target_v6;
  long long ping_count = 3;
  std::chrono::nanoseconds ping_interval = std::chrono::seconds(1);
  std::optional<std::chrono::nanoseconds> duration;
  if (auto target = args->Get("--ping")) {
    if (target->find(':') != std::string::npos) {
      ping_target_v6 = wire::Ipv6Address::Parse(*target);
      if (!ping_target_v6) return Usage("--ping: bad IPv6 address '" + *target + "'");
      if (!options->stack.interface.ipv6.enabled) {
        return Usage("--ping: an IPv6 host needs an IPv6 --addr");
      }
    } else {
      ping_target = wire::Ipv4Address::Parse(*target);
      if (!ping_target) return Usage("--ping: bad IPv4 address '" + *target + "'");
    }
  }
  const bool pinging = ping_target || ping_target_v6;
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

  if (const Ipv6Layer* ipv6 = stack.ipv6()) {
    const Ipv6Prefix& global = stack.interface().ipv6.addresses.front();
    std::fprintf(stderr, "tapstack up: %s/%d and %s/64, duplicate address detection under way\n",
                 global.address.ToString().c_str(), global.prefix_len,
                 ipv6->addresses().link_local().ToString().c_str());
  }

  if (const absl::Status ready = rt.SignalReady(); !ready.ok()) {
    std::fprintf(stderr, "tapstack up: %s\n", std::string(ready.message()).c_str());
    return 1;
  }

  const timers::TimePoint start = rt.Now();
  // Pings start at once over IPv4, over IPv6 once our addresses are settled (RFC 4862 5.4: a
  // tentative address is the source of nothing).
  std::optional<timers::TimePoint> ping_start;
  if (ping_target) ping_start = start;
  bool ipv6_reported = false;
  long long pings_sent = 0;
  long long replies = 0;
  // When each unanswered echo request went out, by its (16-bit, wrapping) sequence number: the
  // round-trip times, and a duplicate reply is not counted twice.
  absl::flat_hash_map<std::uint16_t, timers::TimePoint> outstanding;
  const auto identifier = static_cast<std::uint16_t>(getpid());
  const auto on_reply = [&](const std::string& from, std::uint16_t reply_identifier,
                            std::uint16_t sequence) {
    if (reply_identifier != identifier) return;
    const auto request = outstanding.find(sequence);
    if (request == outstanding.end()) return;  // not one of ours, or a duplicate
    ++replies;
    const double rtt_ms =
        std::chrono::duration<double, std::milli>(rt.Now() - request->second).count();
    outstanding.erase(request);
    std::printf("reply from %s: seq=%u time=%.3f ms\n", from.c_str(), sequence, rtt_ms);
    std::fflush(stdout);
  };
  stack.set_echo_reply_handler([&](const EchoReply& reply) {
    if (ping_target && reply.from == *ping_target) {
      on_reply(reply.from.ToString(), reply.identifier, reply.sequence);
    }
  });
  stack.set_icmpv6_echo_reply_handler([&](const Icmpv6EchoReply& reply) {
    if (ping_target_v6 && reply.from == *ping_target_v6) {
      on_reply(reply.from.ToString(), reply.identifier, reply.sequence);
    }
  });
  const auto ping_deadline = [&]() -> timers::TimePoint {
    return *ping_start + ping_interval * pings_sent;
  };
  while (!rt.interrupted()) {
    const timers::TimePoint now = rt.Now();
    if (duration && now - start >= *duration) break;
    if (const Ipv6Layer* ipv6 = stack.ipv6();
        ipv6 && !ipv6_reported && ipv6->addresses().settled()) {
      // Once, for scripts and tests to wait for: each address usable, or found to be another's.
      ipv6_reported = true;
      for (const wire::Ipv6Address& address :
           {stack.interface().ipv6.addresses.front().address, ipv6->addresses().link_local()}) {
        std::fprintf(stderr, "tapstack up: %s %s\n", address.ToString().c_str(),
                     ipv6->addresses().IsPreferred(address) ? "preferred"
                                                            : "duplicate (another node has it)");
      }
    }
    if (ping_target_v6 && !ping_start && stack.ipv6()->addresses().settled()) {
      if (!stack.ipv6()->addresses().SourceFor(*ping_target_v6)) {
        std::fprintf(stderr, "tapstack up: no IPv6 source address for %s (a duplicate?)\n",
                     ping_target_v6->ToString().c_str());
        return 1;
      }
      ping_start = now;
    }
    if (pinging && ping_start) {
      if (pings_sent < ping_count && now >= ping_deadline()) {
        const auto sequence = static_cast<std::uint16_t>(pings_sent + 1);
        outstanding[sequence] = now;
        if (ping_target) {
          stack.SendEchoRequest(*ping_target, identifier, sequence, {}, now);
        } else {
          stack.SendEchoRequest(*ping_target_v6, identifier, sequence, {}, now);
        }
        ++pings_sent;
      }
      // Without --duration: done once every reply came, or one interval after the last request.
      const bool pings_over = replies == ping_count ||
                              (pings_sent == ping_count && now >= ping_deadline() + ping_interval);
      if (pings_over && !duration) break;
    }
    std::chrono::nanoseconds wait = std::chrono::milliseconds(100);
    if (ping_start && pings_sent < ping_count) {
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::max(ping_deadline() - now, timers::Duration::zero())));
    }
    if (const std::error_code error = rt.loop().RunOnce(wait)) {
      std::fprintf(stderr, "tapstack up: %s\n", rt.DescribeLoopError(error).c_str());
      return 1;
    }
  }
  if (args->Has("--stats")) rt.PrintStats(stderr);
  if (pinging) {
    std::printf("%lld packets transmitted, %lld received\n", pings_sent, replies);
    return replies == ping_count ? 0 : 1;
  }
  return 0;
}

}  // namespace tapstack::tools
