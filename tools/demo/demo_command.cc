// `tapstack demo`: keepalive's two jobs, live on the wire. Our stack runs in this process on a TAP
// device in throwaway network namespaces, against Linux peers (python3 echo servers), a pulled
// plug, a crash and reboot, and a NAT that forgets idle connections. Each scenario prints a
// sequence diagram drawn from the frames actually exchanged, writes a pcap file, and ends with a
// verdict line. docs/cli.md describes the options and the scenarios.
//
// Exit status: 0 when every scenario behaved as expected, 1 otherwise (also when interrupted, or
// when root or /dev/net/tun is missing), 2 for usage errors.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "testbed/netns.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/demo/interrupt.h"
#include "tools/demo/scenarios.h"
#include "tools/diagram/html_page.h"

namespace tapstack::tools {
namespace {

using demo::DemoSettings;
using demo::Scenario;

constexpr char kUsage[] =
    "usage: tapstack demo [--scenario N] [--idle DURATION] [--interval DURATION] [--count N]\n"
    "                     [--out DIR] [--html FILE] [--ipv6]\n"
    "  --scenario N        run only scenario N (1 to 5; 4 and 5 have two parts, a and b)\n"
    "  --idle DURATION     keepalive idle time before the first probe (default 2s)\n"
    "  --interval DURATION time between unanswered probes (default 1s)\n"
    "  --count N           unanswered probes before the connection is dropped (default 3)\n"
    "  --out DIR           where the pcap files go (default ./demo-out)\n"
    "  --html FILE         also write every scenario as one web page (inline SVG diagrams)\n"
    "  --ipv6              scenarios 1 to 4 over IPv6 (2001:db8::2 and 2001:db8::1); the NAT\n"
    "                      scenarios stay on IPv4\n"
    "Durations: a whole number and a unit, e.g. 500ms, 2s. Needs root and /dev/net/tun.\n";

int Usage(absl::string_view message) {
  std::fprintf(stderr, "tapstack demo: %.*s\n%s", static_cast<int>(message.size()), message.data(),
               kUsage);
  return 2;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "tapstack demo: %s\n", message.c_str());
  return 1;
}

bool InPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin", ':')) {
    if (dir.empty()) continue;
    if (access(absl::StrCat(dir, "/", program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Why the demo cannot run here, with what to do about it; nullopt when it can.
std::optional<std::string> MissingPrerequisite() {
  if (geteuid() != 0) {
    return "needs root: it creates network namespaces, a TAP device and nftables rules.\n"
           "Run it as root, e.g. `sudo build/release/tools/tapstack demo` (or `sudo bash "
           "scripts/demo.sh`).";
  }
  const int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (tun < 0) {
    const int error = errno;
    if (error == ENOENT || error == ENODEV || error == ENXIO) {
      return "/dev/net/tun is missing: load the tun module with `modprobe tun` (in a container, "
             "start it with --device /dev/net/tun and CAP_NET_ADMIN).";
    }
    return absl::StrCat("cannot open /dev/net/tun: ", std::strerror(error),
                        " (a container needs --device /dev/net/tun and CAP_NET_ADMIN).");
  }
  close(tun);
  std::vector<std::string> missing;
  for (const char* program : {"ip", "nft", "python3", "sysctl", "ss"}) {
    if (!InPath(program)) missing.push_back(program);
  }
  if (!missing.empty()) {
    return absl::StrCat("missing ", absl::StrJoin(missing, ", "),
                        ": install iproute2, nftables, python3 and procps (scripts/install-deps.sh "
                        "does).");
  }
  return std::nullopt;
}

absl::StatusOr<std::chrono::nanoseconds> ParseKeepaliveDuration(const std::string& name,
                                                                const std::string& text) {
  absl::StatusOr<std::chrono::nanoseconds> value = ParseDuration(name, text);
  if (!value.ok()) return value.status();
  // The ranges of Linux's TCP_KEEPIDLE and TCP_KEEPINTVL, in milliseconds instead of seconds.
  if (*value < std::chrono::milliseconds(1) || *value > std::chrono::seconds(32767)) {
    return absl::InvalidArgumentError(absl::StrCat(name, " must be 1ms to 32767s"));
  }
  return value;
}

}  // namespace

int RunDemo(std::span<const std::string_view> raw_args) {
  if (AsksForHelp(raw_args)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  absl::StatusOr<Args> args = Args::Parse(
      raw_args, {"--scenario", "--idle", "--interval", "--count", "--out", "--html"}, {"--ipv6"});
  if (!args.ok()) return Usage(args.status().message());
  if (!args->positional().empty()) return Usage("unexpected argument " + args->positional()[0]);

  DemoSettings settings;
  settings.keepalive = {.enabled = true,
                        .idle = std::chrono::seconds(2),
                        .interval = std::chrono::seconds(1),
                        .count = 3};
  settings.out_dir = "demo-out";
  settings.ipv6 = args->Has("--ipv6");
  if (auto idle = args->Get("--idle")) {
    absl::StatusOr<std::chrono::nanoseconds> value = ParseKeepaliveDuration("--idle", *idle);
    if (!value.ok()) return Usage(value.status().message());
    settings.keepalive.idle = *value;
  }
  if (auto interval = args->Get("--interval")) {
    absl::StatusOr<std::chrono::nanoseconds> value =
        ParseKeepaliveDuration("--interval", *interval);
    if (!value.ok()) return Usage(value.status().message());
    settings.keepalive.interval = *value;
  }
  if (auto count = args->Get("--count")) {
    absl::StatusOr<long long> value = ParseInteger("--count", *count, 1, 127);
    if (!value.ok()) return Usage(value.status().message());
    settings.keepalive.count = static_cast<int>(*value);
  }
  std::optional<int> only;
  if (auto scenario = args->Get("--scenario")) {
    absl::StatusOr<long long> value = ParseInteger("--scenario", *scenario, 1, 5);
    if (!value.ok()) return Usage(value.status().message());
    only = static_cast<int>(*value);
  }
  if (auto out = args->Get("--out")) {
    if (out->empty()) return Usage("--out needs a directory");
    settings.out_dir = *out;
  }
  const std::optional<std::string> html_path = args->Get("--html");
  if (html_path && html_path->empty()) return Usage("--html needs a file name");
  const std::string html_dir =
      html_path ? std::filesystem::path(*html_path).parent_path().string() : "";

  if (std::optional<std::string> missing = MissingPrerequisite()) return Fail(*missing);
  std::error_code dir_error;
  std::filesystem::create_directories(settings.out_dir, dir_error);
  if (dir_error) {
    return Fail(absl::StrCat("cannot create the output folder ", settings.out_dir, ": ",
                             dir_error.message()));
  }

  // From here on Ctrl-C and SIGTERM are read by the loops, so that cleanup always runs.
  absl::StatusOr<std::unique_ptr<demo::InterruptWatch>> interrupt = demo::InterruptWatch::Install();
  if (!interrupt.ok()) return Fail(std::string(interrupt.status().message()));

  std::printf("tapstack demo: TCP keepalive's two jobs, on the wire against Linux peers%s\n",
              settings.ipv6 ? " (over IPv6 where there is no NAT)" : "");
  const std::vector<std::string> stale = testbed::RemoveStaleNamespaces(testbed::kDemoNames);
  if (!stale.empty()) {
    std::printf("removed %zu namespace(s) left by an earlier demo that was killed: %s\n",
                stale.size(), absl::StrJoin(stale, " ").c_str());
  }
  std::printf("%s (--idle, --interval, --count)\n", demo::KeepaliveText(settings).c_str());
  std::printf("namespaces: %s*, removed at the end; pcap files: %s/\n",
              testbed::NamespaceName(testbed::kDemoNames, "").c_str(), settings.out_dir.c_str());
  std::fflush(stdout);

  const auto started = std::chrono::steady_clock::now();
  int ran = 0;
  std::vector<std::string> unexpected;
  std::vector<diagram::HtmlSection> page;
  for (const Scenario& scenario : demo::AllScenarios()) {
    if (only && scenario.number != *only) continue;
    absl::StatusOr<demo::Verdict> verdict =
        demo::RunScenario(scenario, settings, **interrupt, stdout, html_path ? &page : nullptr,
                          html_dir.empty() ? "." : html_dir);
    if (!verdict.ok()) {
      std::printf(
          "\ninterrupted (%s): the namespaces, TAP devices and peers of the demo are "
          "removed\n",
          (*interrupt)->SignalName().c_str());
      std::fflush(stdout);
      return 1;
    }
    ++ran;
    if (!verdict->expected()) unexpected.push_back(verdict->id());
  }
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (unexpected.empty()) {
    std::printf("\nsummary: all %d scenarios behaved as expected (%.1f s)\n", ran, took);
  } else {
    std::printf("\nsummary: %zu of %d scenarios did not behave as expected: %s (%.1f s)\n",
                unexpected.size(), ran, absl::StrJoin(unexpected, ", ").c_str(), took);
  }
  std::fflush(stdout);
  if (html_path) {
    const std::string html = diagram::RenderHtmlPage(
        "tapstack demo: TCP keepalive's two jobs, on the wire against Linux peers",
        absl::StrCat(demo::KeepaliveText(settings),
                     ". Each diagram is drawn from the frames "
                     "our stack actually exchanged; its pcap is linked below it."),
        page);
    if (const absl::Status written = diagram::WriteHtmlFile(*html_path, html); !written.ok()) {
      return Fail(std::string(written.message()));
    }
    std::printf("web page: %s\n", html_path->c_str());
    std::fflush(stdout);
  }
  return unexpected.empty() ? 0 : 1;
}

}  // namespace tapstack::tools
