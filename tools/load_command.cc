// `tapstack load`: holds many real TCP connections over a TAP device, with keepalive, to load a
// middlebox (a NAT, a firewall) between two tapstack processes, or a server. See docs/cli.md.
// Exit status: 0 when the run ended (its report says what happened to the connections), 2 for
// usage errors, 1 for local failures (the TAP device, a listener, the --json file).
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "tools/commands.h"
#include "tools/connection_options.h"
#include "tools/load/load_client.h"
#include "tools/load/load_options.h"
#include "tools/load/load_server.h"
#include "tools/process_usage.h"
#include "tools/runtime.h"

namespace tapstack::tools {

namespace {

constexpr char kUsage[] =
    "usage: tapstack load --addr ADDRESS/PREFIX [--addr ADDRESS|FIRST-LAST ...] [options]\n"
    "                     --connections N HOST:PORT[-PORT2] ...     open and hold N connections\n"
    "       tapstack load --listen PORT[-PORT2] --addr ADDRESS/PREFIX [options]\n"
    "                                                  accept, hold and echo connections\n"
    "load options: --rate N/s (new connections per second; default: 512 handshakes in flight)\n"
    "         --send BYTES --every DURATION (on each connection, echoed by the server)\n"
    "         --duration DURATION (default: until SIGINT or SIGTERM; a client also ends when\n"
    "         it holds nothing) --progress DURATION (1s; 0s: off) --json FILE|-\n"
    "         --allow-any (destinations outside the link and the documentation networks)\n"
    "         --connections N on the server: how many to expect (the progress line)\n"
    "TCP options: --keepalive IDLE,INTERVAL,COUNT (e.g. 10s,5s,3) --keepalive-byte\n"
    "         --user-timeout DURATION --no-delay\n"
    "device options: --tap NAME (tap0) --netns NS --gateway IP --mac MAC --mtu N --pcap FILE\n"
    "         --ready-file FILE (written once listening or opening, removed on exit) --stats\n"
    "         --rx-hold DURATION (wait this long for more after bulk data; 50us, 0: off)\n";

int Usage(absl::string_view message) {
  std::fprintf(stderr, "tapstack load: %.*s\n%s", static_cast<int>(message.size()), message.data(),
               kUsage);
  return 2;
}

int Fail(absl::string_view message) {
  std::fprintf(stderr, "tapstack load: %.*s\n", static_cast<int>(message.size()), message.data());
  return 1;
}

constexpr std::size_t kAbortBatch = 256;

// The part of the run after every connection was made: its CPU time and keepalive probes give
// the cost of one keepalive round.
struct HoldPhase {
  bool started = false;
  double cpu_seconds = 0;
  std::uint64_t probes_sent = 0;
  std::size_t held = 0;
};

}  // namespace

int RunLoad(std::span<const std::string_view> raw_args) {
  if (AsksForHelp(raw_args)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::set<std::string> valued = kRuntimeValued;
  valued.insert(kConnectionValued.begin(), kConnectionValued.end());
  valued.insert(kLoadValued.begin(), kLoadValued.end());
  std::set<std::string> flags = kConnectionFlags;
  flags.insert(kLoadFlags.begin(), kLoadFlags.end());
  flags.insert("--stats");
  absl::StatusOr<Args> args = Args::Parse(raw_args, valued, flags);
  if (!args.ok()) return Usage(args.status().message());
  absl::StatusOr<RuntimeOptions> options = ParseRuntimeOptions(*args);
  if (!options.ok()) return Usage(options.status().message());
  if (absl::Status parsed = ParseConnectionOptions(*args, options->stack.tcp.defaults);
      !parsed.ok()) {
    return Usage(parsed.message());
  }
  absl::StatusOr<LoadOptions> load =
      ParseLoadOptions(*args, options->stack.interface, options->stack.tcp);
  if (!load.ok()) return Usage(load.status().message());

  std::FILE* json = nullptr;
  if (load->json_path == "-") {
    json = stdout;
  } else if (!load->json_path.empty()) {
    json = std::fopen(load->json_path.c_str(), "w");
    if (json == nullptr) return Fail("cannot write --json " + load->json_path);
  }
  // With the JSON on standard output, the text summary goes to standard error.
  std::FILE* text = json == stdout ? stderr : stdout;

  absl::StatusOr<std::unique_ptr<StackRuntime>> runtime = StackRuntime::Start(*options);
  if (!runtime.ok()) return Fail(runtime.status().message());
  StackRuntime& rt = **runtime;
  const timers::TimePoint start = rt.Now();
  const long rss_before = ResidentKib();
  std::unique_ptr<LoadRole> role;
  if (load->listen) {
    role = std::make_unique<LoadServer>(rt.stack(), *load, start);
  } else {
    role = std::make_unique<LoadClient>(rt.stack(), *load, options->stack.tcp.defaults, start);
  }
  LoadReport& report = role->report();
  report.rss_before_kib = rss_before;
  report.rss_peak_kib = ResidentKib();
  rt.stack().set_tcp_event_handler([&](const tcp::Event& e) { role->OnEvent(e, rt.Now()); });
  if (const std::error_code error = role->Start(rt.Now())) {
    return Fail(load->listen ? "listen: " + error.message() : "connect: " + error.message());
  }
  if (const absl::Status ready = rt.SignalReady(); !ready.ok()) return Fail(ready.message());

  HoldPhase hold;
  const timers::TimePoint end = load->duration ? start + *load->duration : timers::TimePoint::max();
  timers::TimePoint next_progress = start + load->progress_every;
  while (!rt.interrupted()) {
    timers::TimePoint now = rt.Now();
    role->Advance(now);
    report.elapsed_seconds = std::chrono::duration<double>(now - start).count();
    report.TakeCounters(rt.stack().counters());
    if (!hold.started && role->Settled()) {
      hold = HoldPhase{.started = true,
                       .cpu_seconds = ProcessCpuSeconds(),
                       .probes_sent = report.probes_sent,
                       .held = report.held};
      report.rss_peak_kib = std::max(report.rss_peak_kib, ResidentKib());
    }
    if (now >= end || role->Exhausted()) break;
    if (load->progress_every.count() > 0 && now >= next_progress) {
      report.rss_peak_kib = std::max(report.rss_peak_kib, ResidentKib());
      std::fprintf(stderr, "%s\n", report.ProgressLine().c_str());
      next_progress = now + load->progress_every;
    }
    // Sleep until the first of: the role's timers, the progress line, the end (the stack's own
    // timers and the device wake the loop by themselves).
    timers::TimePoint wake = now + std::chrono::seconds(1);
    if (const std::optional<timers::TimePoint> due = role->NextDeadline())
      wake = std::min(wake, *due);
    if (load->progress_every.count() > 0) wake = std::min(wake, next_progress);
    wake = std::min(wake, end);
    if (const std::error_code error =
            rt.loop().RunOnce(std::max(wake - now, timers::Duration::zero()))) {
      return Fail(rt.DescribeLoopError(error));
    }
  }

  report.elapsed_seconds = std::chrono::duration<double>(rt.Now() - start).count();
  report.TakeCounters(rt.stack().counters());
  report.rss_peak_kib = std::max(report.rss_peak_kib, ResidentKib());
  if (hold.started && hold.held > 0) {
    report.hold_cpu_seconds = ProcessCpuSeconds() - hold.cpu_seconds;
    report.hold_keepalive_rounds =
        static_cast<double>(report.probes_sent - hold.probes_sent) / static_cast<double>(hold.held);
  }
  report.PrintText(text);
  if (json != nullptr) {
    report.PrintJson(json);
    if (json != stdout && std::fclose(json) != 0) return Fail("cannot write --json");
  }
  if (args->Has("--stats")) rt.PrintStats(stderr);
  // The end: every connection reset, a batch per millisecond so that the kernel behind the TAP
  // takes every RST (it drops what comes beyond its backlog of 1000 frames).
  while (role->AbortSome(kAbortBatch, rt.Now()) > 0) {
    if (rt.loop().RunOnce(std::chrono::milliseconds(1))) break;
  }
  return 0;
}

}  // namespace tapstack::tools
