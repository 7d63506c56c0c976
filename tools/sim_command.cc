// `tapstack sim`: keepalive at scale on a virtual clock, no root needed. See docs/cli.md.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/simulation.h"

namespace tapstack::tools {

namespace {

constexpr char kUsage[] =
    "usage: tapstack sim [--connections N] [--dead FRACTION] [--dead-at DURATION]\n"
    "                    [--idle DURATION] [--interval DURATION] [--count N]\n"
    "                    [--traffic SEGMENTS_PER_SECOND] [--duration DURATION]\n"
    "                    [--timers wheel|heap|sweep|hashed_wheel|linux_wheel] [--seed N]\n"
    "                    [--threads N] [--json]\n";

// How often a run whose standard error is not a terminal prints a progress line.
constexpr auto kProgressLineEvery = std::chrono::seconds(10);

int Usage(absl::string_view message) {
  std::fprintf(stderr, "tapstack sim: %.*s\n%s", static_cast<int>(message.size()), message.data(),
               kUsage);
  return 2;
}

// The most shards --threads allows: a few per CPU, enough to show what oversubscription costs.
std::size_t MaxThreads() {
  return 4 * static_cast<std::size_t>(std::max(1u, std::thread::hardware_concurrency()));
}

void PrintText(const SimOptions& options, const SimReport& r) {
  std::printf("connections %zu, timers %s, threads %zu, virtual time %.1f s\n", r.connections,
              std::string(timers::TimerQueueKindName(options.timers)).c_str(), r.shards.size(),
              r.virtual_seconds);
  for (const PhaseCost& phase : r.phases) {
    std::printf("  %-22s wall %8.3f s   cpu %8.3f s\n", phase.name.c_str(), phase.wall_seconds,
                phase.cpu_seconds);
  }
  std::printf("established %zu, dead peers %zu\n", r.established, r.dead);
  std::printf("keepalive probes sent %llu, answered %llu\n",
              static_cast<unsigned long long>(r.probes_sent),
              static_cast<unsigned long long>(r.probes_answered));
  std::printf("dead peers aborted at exactly idle + count x interval: %zu of %zu\n",
              r.aborted_dead_exact, r.dead);
  if (r.late_bound_ms > 0) {
    std::printf("aborted late, within the %s queue's bound of %.0f ms: %zu (latest %.0f ms late)\n",
                std::string(timers::TimerQueueKindName(options.timers)).c_str(), r.late_bound_ms,
                r.aborted_dead_late, r.max_late_ms);
  }
  std::printf(
      "lateness of the aborts (abort time - promised time) over %zu dead peers: p50 %.3f ms, "
      "p99 %.3f ms, max %.3f ms\n",
      r.lateness_ns.size(), r.LatenessMs(0.5), r.LatenessMs(0.99), r.LatenessMs(1.0));
  std::printf(
      "aborted at another time: %zu, live connections aborted: %zu, dead not aborted: %zu\n",
      r.aborted_dead_inexact, r.aborted_live, r.dead_not_aborted);
  double wall = 0;
  for (const PhaseCost& phase : r.phases) wall += phase.wall_seconds;
  std::printf("timer operations %llu (%.0f per wall second)\n",
              static_cast<unsigned long long>(r.timer_operations),
              wall > 0 ? static_cast<double>(r.timer_operations) / wall : 0.0);
  std::printf(
      "memory: %.0f bytes per established connection per side (resident), "
      "connection state %zu bytes, peak RSS %.1f MiB\n",
      r.bytes_per_connection, r.tcb_bytes, static_cast<double>(r.peak_rss_kib) / 1024.0);
  if (r.shards.size() > 1) {
    for (std::size_t i = 0; i < r.shards.size(); ++i) {
      std::printf("shard %zu: %zu connections, %zu dead peers, %s\n", i, r.shards[i].connections,
                  r.shards[i].dead, r.shards[i].ok ? "every check passed" : "MISMATCH");
    }
  }
  std::printf("verdict: %s\n", r.ok() ? "every check passed" : "MISMATCH");
}

void PrintJson(const SimOptions& options, const SimReport& r) {
  std::string phases;
  for (const PhaseCost& phase : r.phases) {
    if (!phases.empty()) phases += ",";
    phases += absl::StrFormat("{\"name\":\"%s\",\"wall_seconds\":%.6f,\"cpu_seconds\":%.6f}",
                              phase.name, phase.wall_seconds, phase.cpu_seconds);
  }
  std::string shards;
  for (const ShardSummary& shard : r.shards) {
    if (!shards.empty()) shards += ",";
    shards += absl::StrFormat("{\"connections\":%zu,\"dead\":%zu,\"ok\":%s}", shard.connections,
                              shard.dead, shard.ok ? "true" : "false");
  }
  std::printf(
      "{\"connections\":%zu,\"timers\":\"%s\",\"established\":%zu,\"dead\":%zu,"
      "\"aborted_dead_exact\":%zu,\"aborted_dead_late\":%zu,\"late_bound_ms\":%.0f,"
      "\"max_late_ms\":%.0f,\"aborted_dead_inexact\":%zu,\"aborted_live\":%zu,"
      "\"dead_not_aborted\":%zu,\"probes_sent\":%llu,\"probes_answered\":%llu,"
      "\"segments_delivered\":%llu,\"timer_operations\":%llu,\"virtual_seconds\":%.3f,"
      "\"phases\":[%s],\"peak_rss_kib\":%ld,\"bytes_per_connection\":%.1f,\"tcb_bytes\":%zu,"
      "\"lateness_samples\":%zu,\"lateness_p50_ms\":%.3f,\"lateness_p99_ms\":%.3f,"
      "\"lateness_max_ms\":%.3f,\"threads\":%zu,\"shards\":[%s],\"ok\":%s}\n",
      r.connections, std::string(timers::TimerQueueKindName(options.timers)).c_str(), r.established,
      r.dead, r.aborted_dead_exact, r.aborted_dead_late, r.late_bound_ms, r.max_late_ms,
      r.aborted_dead_inexact, r.aborted_live, r.dead_not_aborted,
      static_cast<unsigned long long>(r.probes_sent),
      static_cast<unsigned long long>(r.probes_answered),
      static_cast<unsigned long long>(r.segments_delivered),
      static_cast<unsigned long long>(r.timer_operations), r.virtual_seconds, phases.c_str(),
      r.peak_rss_kib, r.bytes_per_connection, r.tcb_bytes, r.lateness_ns.size(), r.LatenessMs(0.5),
      r.LatenessMs(0.99), r.LatenessMs(1.0), r.shards.size(), shards.c_str(),
      r.ok() ? "true" : "false");
}

}  // namespace

int RunSim(std::span<const std::string_view> raw_args) {
  if (AsksForHelp(raw_args)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  absl::StatusOr<Args> args =
      Args::Parse(raw_args,
                  {"--connections", "--dead", "--dead-at", "--idle", "--interval", "--count",
                   "--traffic", "--duration", "--timers", "--seed", "--threads"},
                  {"--json"});
  if (!args.ok()) return Usage(args.status().message());
  if (!args->positional().empty()) return Usage("unexpected argument " + args->positional()[0]);
  SimOptions options;
  if (auto value = args->Get("--connections")) {
    absl::StatusOr<long long> n = ParseInteger("--connections", *value, 1, 10'000'000);
    if (!n.ok()) return Usage(n.status().message());
    options.connections = static_cast<std::size_t>(*n);
  }
  if (auto value = args->Get("--dead")) {
    char* end = nullptr;
    options.dead_fraction = std::strtod(value->c_str(), &end);
    if (end == value->c_str() || *end != '\0' || options.dead_fraction < 0 ||
        options.dead_fraction > 1) {
      return Usage("--dead takes a fraction from 0 to 1");
    }
  }
  if (auto value = args->Get("--traffic")) {
    char* end = nullptr;
    options.traffic = std::strtod(value->c_str(), &end);
    if (end == value->c_str() || *end != '\0' || options.traffic < 0 || options.traffic > 100) {
      return Usage("--traffic takes segments per connection per second, 0 to 100");
    }
  }
  for (const auto& [name, target] :
       {std::pair<std::string, std::chrono::nanoseconds*>{"--idle", &options.idle},
        {"--interval", &options.interval},
        {"--duration", &options.duration},
        {"--dead-at", &options.dead_at}}) {
    if (auto value = args->Get(name)) {
      absl::StatusOr<std::chrono::nanoseconds> d = ParseDuration(name, *value);
      if (!d.ok()) return Usage(d.status().message());
      *target = *d;
    }
  }
  for (auto* keepalive_duration : {&options.idle, &options.interval}) {
    if (*keepalive_duration < std::chrono::milliseconds(1) ||
        *keepalive_duration > std::chrono::seconds(32767)) {
      return Usage("--idle and --interval must be 1ms to 32767s");
    }
  }
  if (auto value = args->Get("--count")) {
    absl::StatusOr<long long> n = ParseInteger("--count", *value, 1, 127);
    if (!n.ok()) return Usage(n.status().message());
    options.count = static_cast<int>(*n);
  }
  if (auto value = args->Get("--timers")) {
    const std::optional<timers::TimerQueueKind> kind = timers::ParseTimerQueueKind(*value);
    if (!kind) return Usage("--timers takes one of " + timers::TimerQueueKindNames());
    options.timers = *kind;
  }
  if (auto value = args->Get("--seed")) {
    absl::StatusOr<long long> n = ParseInteger("--seed", *value, 0, 1LL << 62);
    if (!n.ok()) return Usage(n.status().message());
    options.seed = static_cast<std::uint64_t>(*n);
  }

  if (auto value = args->Get("--threads")) {
    absl::StatusOr<long long> n =
        ParseInteger("--threads", *value, 1, static_cast<long long>(MaxThreads()));
    if (!n.ok()) {
      return Usage(absl::StrFormat("%s: at most 4 shards per CPU", n.status().message()));
    }
    options.threads = static_cast<std::size_t>(*n);
  }
  if (options.threads > options.connections) {
    return Usage("--threads must not exceed --connections: every shard needs a connection");
  }

  const bool terminal = isatty(STDERR_FILENO) != 0;
  // Off a terminal (a log file, CI), a line now and then instead of the bar, so that a long run
  // shows it is alive; a short one prints none.
  const auto started = std::chrono::steady_clock::now();
  auto last_line = started;
  const SimReport report = RunSimulation(options, [&](double fraction, std::size_t alive) {
    if (!terminal) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_line < kProgressLineEvery) return;
      last_line = now;
      std::fprintf(stderr, "tapstack sim: %.0f%% of virtual time, %zu connections alive, %.0f s\n",
                   fraction * 100, alive, std::chrono::duration<double>(now - started).count());
      return;
    }
    const int width = 40;
    const int filled = static_cast<int>(fraction * width);
    std::fprintf(stderr, "\r[%s%s] %3.0f%% of virtual time, %zu connections alive ",
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                 fraction * 100, alive);
    std::fflush(stderr);
  });
  if (terminal) std::fprintf(stderr, "\n");
  if (args->Has("--json")) {
    PrintJson(options, report);
  } else {
    PrintText(options, report);
  }
  return report.ok() ? 0 : 1;
}

}  // namespace tapstack::tools
