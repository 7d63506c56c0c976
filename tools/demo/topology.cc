#include "tools/demo/topology.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace tapstack::tools::demo {
namespace {

constexpr char kNetnsDir[] = "/var/run/netns";
constexpr char kUnplugTable[] = "tsdemo_unplug";
constexpr char kNatTable[] = "tsdemo_nat";

std::string WithPrefix(wire::Ipv4Address address) {
  return absl::StrCat(address.ToString(), "/", kPrefixLength);
}

std::string ReadSmallFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return "";
  char buffer[256];
  const std::size_t n = std::fread(buffer, 1, sizeof(buffer), file);
  std::fclose(file);
  return std::string(buffer, n);
}

// Whether the demo that named a namespace after `pid` still runs: the pid exists and runs the
// same program as this one. A pid reused by some other program after the demo died does not keep
// the namespace alive; when in doubt (the name cannot be read) the namespace is left alone.
bool DemoStillRuns(int pid) {
  if (kill(pid, 0) != 0 && errno != EPERM) return false;
  const std::string theirs = ReadSmallFile(absl::StrCat("/proc/", pid, "/comm"));
  const std::string ours = ReadSmallFile("/proc/self/comm");
  return theirs.empty() || ours.empty() || theirs == ours;
}

// Kills every process in the namespace, then deletes it. A process left inside would keep the
// namespace alive (unnamed, unreachable) after `ip netns del` removed its name.
bool DeleteNamespace(const std::string& name) {
  const CommandResult pids = RunCommand({"ip", "netns", "pids", name});
  for (absl::string_view line : absl::StrSplit(pids.output, '\n', absl::SkipWhitespace())) {
    int pid = 0;
    if (absl::SimpleAtoi(line, &pid) && pid > 1 && pid != getpid()) kill(pid, SIGKILL);
  }
  const CommandResult deleted = RunCommand({"ip", "netns", "del", name});
  if (deleted.exit_code != 0) {
    std::fprintf(stderr, "tapstack demo: `ip netns del %s` failed: %s\n", name.c_str(),
                 deleted.output.c_str());
    return false;
  }
  return true;
}

// The value of an nft `counter packets N bytes M` in the listing of one rule, by its comment.
std::optional<std::uint64_t> CounterPackets(const std::string& listing, absl::string_view comment) {
  for (absl::string_view line : absl::StrSplit(listing, '\n')) {
    if (line.find(absl::StrCat("comment \"", comment, "\"")) == absl::string_view::npos) continue;
    const std::size_t at = line.find("packets ");
    if (at == absl::string_view::npos) return std::nullopt;
    absl::string_view rest = line.substr(at + 8);
    rest = rest.substr(0, rest.find(' '));
    std::uint64_t packets = 0;
    if (absl::SimpleAtoi(rest, &packets)) return packets;
  }
  return std::nullopt;
}

}  // namespace

std::string NamespaceName(absl::string_view label) {
  return absl::StrCat(kNamespacePrefix, getpid(), "-", label);
}

std::optional<int> DemoPidOfNamespace(absl::string_view name) {
  absl::string_view rest = name;
  if (!absl::ConsumePrefix(&rest, kNamespacePrefix)) return std::nullopt;
  const std::size_t dash = rest.find('-');
  if (dash == absl::string_view::npos || dash == 0 || dash + 1 == rest.size()) return std::nullopt;
  const absl::string_view digits = rest.substr(0, dash);
  if (digits.find_first_not_of("0123456789") != absl::string_view::npos) return std::nullopt;
  int pid = 0;
  if (!absl::SimpleAtoi(digits, &pid) || pid <= 0) return std::nullopt;
  return pid;
}

std::vector<std::string> RemoveStaleNamespaces() {
  std::vector<std::string> removed;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(kNetnsDir, error)) {
    const std::string name = entry.path().filename().string();
    const std::optional<int> pid = DemoPidOfNamespace(name);
    if (!pid.has_value() || *pid == getpid() || DemoStillRuns(*pid)) continue;
    if (DeleteNamespace(name)) removed.push_back(name);
  }
  return removed;
}

absl::StatusOr<int> OpenInNamespace(const std::string& netns, const std::function<int()>& open_fd) {
  // thread-self: setns moves only the calling thread, and that is the thread to move back.
  const int original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original < 0) return absl::ErrnoToStatus(errno, "open /proc/thread-self/ns/net");
  const std::string path = absl::StrCat(kNetnsDir, "/", netns);
  const int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    const int saved = errno;
    close(original);
    return absl::ErrnoToStatus(saved, absl::StrCat("open ", path));
  }
  if (setns(target, CLONE_NEWNET) != 0) {
    const int saved = errno;
    close(target);
    close(original);
    return absl::ErrnoToStatus(saved, absl::StrCat("setns into ", netns));
  }
  close(target);
  const int fd = open_fd();
  const int open_errno = errno;
  if (setns(original, CLONE_NEWNET) != 0) {
    // Staying in a demo namespace would send whatever comes next to the wrong network.
    std::fprintf(stderr, "tapstack demo: cannot return to the original namespace: %s\n",
                 std::strerror(errno));
    std::abort();
  }
  close(original);
  if (fd < 0) return absl::ErrnoToStatus(open_errno, absl::StrCat("opening in ", netns));
  return fd;
}

absl::StatusOr<bool> TapIsUp(const Namespace& ns) {
  const CommandResult link =
      RunCommand({"ip", "-n", ns.name(), "-o", "link", "show", "dev", kTapName});
  if (link.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("ip link show ", kTapName, " in ", ns.name(), " failed: ", link.output));
  }
  return link.output.find(" state UP ") != std::string::npos;
}

// --- Namespace

absl::StatusOr<std::unique_ptr<Namespace>> Namespace::Create(absl::string_view label) {
  const std::string name = NamespaceName(label);
  if (absl::Status added = RunCommandOk({"ip", "netns", "add", name}); !added.ok()) return added;
  // From here on the destructor deletes it, whatever fails next.
  std::unique_ptr<Namespace> ns(new Namespace(name));
  if (absl::Status up = ns->Ip({"link", "set", "lo", "up"}); !up.ok()) return up;
  return ns;
}

Namespace::~Namespace() { DeleteNamespace(name_); }

std::vector<std::string> Namespace::ExecArgv(const std::vector<std::string>& argv) const {
  std::vector<std::string> full = {"ip", "netns", "exec", name_};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

absl::Status Namespace::Exec(const std::vector<std::string>& argv, absl::string_view input) const {
  return RunCommandOk(ExecArgv(argv), input);
}

CommandResult Namespace::ExecResult(const std::vector<std::string>& argv) const {
  return RunCommand(ExecArgv(argv));
}

absl::Status Namespace::Ip(const std::vector<std::string>& args) const {
  std::vector<std::string> full = {"ip", "-n", name_};
  full.insert(full.end(), args.begin(), args.end());
  return RunCommandOk(full);
}

absl::Status Namespace::Sysctl(absl::string_view key, absl::string_view value) const {
  return Exec({"sysctl", "-qw", absl::StrCat(key, "=", value)});
}

absl::Status Namespace::Nft(absl::string_view script) const {
  return Exec({"nft", "-f", "-"}, script);
}

absl::Status Namespace::ConfigureKernelPeer() const {
  // IPv6 may be compiled out or disabled on the host: then there is nothing to quieten.
  (void)Sysctl("net.ipv6.conf.all.disable_ipv6", "1");
  (void)Sysctl("net.ipv6.conf.default.disable_ipv6", "1");
  if (absl::Status s = Sysctl("net.ipv4.tcp_invalid_ratelimit", "0"); !s.ok()) return s;
  return Sysctl("net.ipv4.tcp_orphan_retries", "1");
}

// --- DirectTopology

absl::StatusOr<std::unique_ptr<DirectTopology>> DirectTopology::Create(absl::string_view label) {
  auto topology = std::make_unique<DirectTopology>();
  absl::StatusOr<std::unique_ptr<Namespace>> peer = Namespace::Create(label);
  if (!peer.ok()) return peer.status();
  topology->peer_ = *std::move(peer);
  Namespace& ns = *topology->peer_;
  if (absl::Status s = ns.ConfigureKernelPeer(); !s.ok()) return s;
  // A persistent TAP (ip tuntap), configured before our stack attaches to it.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"tuntap", "add", "dev", kTapName, "mode", "tap"},
           {"addr", "add", WithPrefix(kTapKernelAddress), "dev", kTapName},
           {"link", "set", kTapName, "up"}}) {
    if (absl::Status s = ns.Ip(args); !s.ok()) return s;
  }
  return topology;
}

absl::Status DirectTopology::Unplug() {
  // Priority -300: before connection tracking and everything else. The inet family filters IP
  // only, so ARP still resolves: the cable is out, the neighbour cache does not matter.
  const std::string script =
      absl::StrCat("table inet ", kUnplugTable, " {\n",
                   "  chain in { type filter hook input priority -300; iifname \"", kTapName,
                   "\" counter drop comment \"in\"; }\n",
                   "  chain out { type filter hook output priority -300; oifname \"", kTapName,
                   "\" counter drop comment \"out\"; }\n", "}\n");
  absl::Status status = peer_->Nft(script);
  if (status.ok()) unplugged_ = true;
  return status;
}

absl::Status DirectTopology::Replug() {
  if (!unplugged_) return absl::OkStatus();
  absl::Status status = peer_->Exec({"nft", "delete", "table", "inet", kUnplugTable});
  if (status.ok()) unplugged_ = false;
  return status;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> DirectTopology::DroppedPackets() const {
  const CommandResult listing = peer_->ExecResult({"nft", "list", "table", "inet", kUnplugTable});
  if (listing.exit_code != 0) return std::nullopt;
  const std::optional<std::uint64_t> in = CounterPackets(listing.output, "in");
  const std::optional<std::uint64_t> out = CounterPackets(listing.output, "out");
  if (!in || !out) return std::nullopt;
  return std::make_pair(*in, *out);
}

// --- NatTopology

absl::StatusOr<std::unique_ptr<NatTopology>> NatTopology::Create(
    absl::string_view label, std::chrono::seconds conntrack_timeout) {
  auto topology = std::make_unique<NatTopology>();
  absl::StatusOr<std::unique_ptr<Namespace>> server =
      Namespace::Create(absl::StrCat(label, "-server"));
  if (!server.ok()) return server.status();
  topology->server_ = *std::move(server);
  absl::StatusOr<std::unique_ptr<Namespace>> nat = Namespace::Create(absl::StrCat(label, "-nat"));
  if (!nat.ok()) return nat.status();
  topology->nat_ = *std::move(nat);
  Namespace& router = *topology->nat_;
  Namespace& host = *topology->server_;
  if (absl::Status s = host.ConfigureKernelPeer(); !s.ok()) return s;
  (void)router.Sysctl("net.ipv6.conf.all.disable_ipv6", "1");
  (void)router.Sysctl("net.ipv6.conf.default.disable_ipv6", "1");

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"tuntap", "add", "dev", kTapName, "mode", "tap"},
           {"addr", "add", WithPrefix(kTapKernelAddress), "dev", kTapName},
           {"link", "set", kTapName, "up"},
           {"link", "add", "v0", "type", "veth", "peer", "name", kServerLinkName, "netns",
            host.name()},
           {"addr", "add", WithPrefix(kNatOutsideAddress), "dev", "v0"},
           {"link", "set", "v0", "up"}}) {
    if (absl::Status s = router.Ip(args); !s.ok()) return s;
  }
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"addr", "add", WithPrefix(kServerAddress), "dev", kServerLinkName},
           {"link", "set", kServerLinkName, "up"}}) {
    if (absl::Status s = host.Ip(args); !s.ok()) return s;
  }
  // The rules first: they load connection tracking, whose sysctls exist only from then on.
  const std::string rules = absl::StrCat(
      "table ip ", kNatTable, " {\n",
      "  chain postrouting { type nat hook postrouting priority 100; oifname \"v0\" masquerade; "
      "}\n",
      "  chain forward { type filter hook forward priority 0; ct state invalid counter drop "
      "comment \"invalid\"; }\n",
      "}\n");
  if (absl::Status s = router.Nft(rules); !s.ok()) return s;
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"net.ipv4.ip_forward", "1"},
           {"net.netfilter.nf_conntrack_tcp_timeout_established",
            absl::StrCat(conntrack_timeout.count())},
           {"net.netfilter.nf_conntrack_tcp_loose", "0"}}) {
    if (absl::Status s = router.Sysctl(key, value); !s.ok()) return s;
  }
  return topology;
}

NatTopology::~NatTopology() {
  if (conntrack_fd_ >= 0) close(conntrack_fd_);
}

std::optional<bool> NatTopology::TracksConnection(std::uint16_t port) {
  if (conntrack_unreadable_) return std::nullopt;
  if (conntrack_fd_ < 0) {
    // Opened once inside the NAT's namespace: the file keeps showing that namespace's table.
    absl::StatusOr<int> fd = OpenInNamespace(nat_->name(), [] {
      return open("/proc/thread-self/net/nf_conntrack", O_RDONLY | O_CLOEXEC);
    });
    if (!fd.ok()) {
      conntrack_unreadable_ = true;
      return std::nullopt;
    }
    conntrack_fd_ = *fd;
  }
  if (lseek(conntrack_fd_, 0, SEEK_SET) != 0) return std::nullopt;
  std::string table;
  char buffer[4096];
  ssize_t n;
  while ((n = read(conntrack_fd_, buffer, sizeof(buffer))) > 0) {
    table.append(buffer, static_cast<std::size_t>(n));
  }
  const std::string wanted = absl::StrCat("dport=", port, " ");
  for (absl::string_view line : absl::StrSplit(table, '\n')) {
    if (line.find(" tcp ") != absl::string_view::npos &&
        line.find(wanted) != absl::string_view::npos) {
      return true;
    }
  }
  return false;
}

std::optional<std::uint64_t> NatTopology::InvalidDropped() const {
  const CommandResult listing = nat_->ExecResult({"nft", "list", "table", "ip", kNatTable});
  if (listing.exit_code != 0) return std::nullopt;
  return CounterPackets(listing.output, "invalid");
}

}  // namespace tapstack::tools::demo
