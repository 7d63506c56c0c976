#include "testbed/topology.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "testbed/failure.h"

namespace tapstack::testbed {
namespace {

constexpr char kUnplugTable[] = "testbed_unplug";
constexpr char kNatTable[] = "testbed_nat";

std::string WithPrefix(wire::Ipv4Address address) {
  return absl::StrCat(address.ToString(), "/", kPrefixLength);
}

std::error_code IpAll(const Namespace& ns, const std::vector<std::vector<std::string>>& commands) {
  for (const std::vector<std::string>& args : commands) {
    if (std::error_code error = CheckCommand(ns.Ip(args))) return error;
  }
  return {};
}

// The value of an nft `counter packets N bytes M` in the listing of one rule, by its comment.
std::optional<std::uint64_t> CounterPackets(const std::string& listing, std::string_view comment) {
  for (absl::string_view line : absl::StrSplit(listing, '\n')) {
    if (line.find(absl::StrCat("comment \"", std::string(comment), "\"")) ==
        absl::string_view::npos) {
      continue;
    }
    const std::size_t at = line.find("packets ");
    if (at == absl::string_view::npos) return std::nullopt;
    absl::string_view rest = line.substr(at + 8);
    rest = rest.substr(0, rest.find(' '));
    std::uint64_t packets = 0;
    if (absl::SimpleAtoi(rest, &packets)) return packets;
  }
  return std::nullopt;
}

// The router's rules (docs/testbed.md): masquerade out of `outside`, drop what connection
// tracking calls invalid, then the sysctls (which exist only once the rules loaded conntrack):
// forwarding on, `conntrack_timeout` for an established TCP connection, no mid-stream pickup.
std::error_code ConfigureNat(const Namespace& router, std::string_view outside,
                             std::chrono::seconds conntrack_timeout) {
  const std::string rules = absl::StrCat(
      "table ip ", kNatTable, " {\n",
      "  chain postrouting { type nat hook postrouting priority 100; oifname \"",
      std::string(outside), "\" masquerade; }\n",
      "  chain forward { type filter hook forward priority 0; ct state invalid counter drop "
      "comment \"invalid\"; }\n",
      "}\n");
  if (std::error_code error = CheckCommand(router.Nft(rules))) return error;
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"net.ipv4.ip_forward", "1"},
           {"net.netfilter.nf_conntrack_tcp_timeout_established",
            absl::StrCat(conntrack_timeout.count())},
           {"net.netfilter.nf_conntrack_tcp_loose", "0"}}) {
    if (std::error_code error = CheckCommand(router.Sysctl(key, value))) return error;
  }
  return {};
}

// The nft counter of the NAT's invalid-drop rule.
std::optional<std::uint64_t> NatInvalidDropped(const Namespace& router) {
  const CommandResult listing = router.Exec({"nft", "list", "table", "ip", kNatTable});
  if (!listing.ok()) return std::nullopt;
  return CounterPackets(listing.output, "invalid");
}

}  // namespace

std::error_code AddKernelTap(const Namespace& ns) {
  return IpAll(ns, {{"tuntap", "add", "dev", kTapName, "mode", "tap"},
                    {"addr", "add", WithPrefix(kTapKernelAddress), "dev", kTapName},
                    {"link", "set", kTapName, "up"}});
}

std::error_code ConfigureKernelPeer(const Namespace& ns) {
  // IPv6 may be compiled out or disabled on the host: then there is nothing to quieten.
  (void)ns.Sysctl("net.ipv6.conf.all.disable_ipv6", "1");
  (void)ns.Sysctl("net.ipv6.conf.default.disable_ipv6", "1");
  if (std::error_code error = CheckCommand(ns.Sysctl("net.ipv4.tcp_invalid_ratelimit", "0"))) {
    return error;
  }
  return CheckCommand(ns.Sysctl("net.ipv4.tcp_orphan_retries", "1"));
}

Result<bool> TapIsUp(const Namespace& ns) {
  const CommandResult link = ns.Ip({"-o", "link", "show", "dev", kTapName});
  if (std::error_code error = CheckCommand(link)) return error;
  return link.output.find(" state UP ") != std::string::npos;
}

// --- DirectTopology

Result<std::unique_ptr<DirectTopology>> DirectTopology::Create(const NamePattern& names,
                                                               std::string_view label) {
  auto topology = std::make_unique<DirectTopology>();
  Result<std::unique_ptr<Namespace>> peer = Namespace::Create(names, label);
  if (!peer.ok()) return peer.error();
  topology->peer_ = *std::move(peer);
  if (std::error_code error = ConfigureKernelPeer(*topology->peer_)) return error;
  // A persistent TAP, configured before our stack attaches to it.
  if (std::error_code error = AddKernelTap(*topology->peer_)) return error;
  return topology;
}

std::error_code DirectTopology::EnableIpv6() {
  for (const std::string& key : {std::string("net.ipv6.conf.all.disable_ipv6"),
                                 absl::StrCat("net.ipv6.conf.", kTapName, ".disable_ipv6")}) {
    if (std::error_code error = CheckCommand(peer_->Sysctl(key, "0"))) return error;
  }
  return CheckCommand(peer_->Ip({"addr", "add", absl::StrCat(kTapKernelAddress6.ToString(), "/64"),
                                 "dev", kTapName, "nodad"}));
}

std::error_code UnplugTap(const Namespace& ns, bool both_ways) {
  // Priority -300: before connection tracking and everything else. The inet family filters IP
  // only, so ARP still resolves.
  std::string script = absl::StrCat("table inet ", kUnplugTable, " {\n",
                                    "  chain in { type filter hook input priority -300; iifname \"",
                                    kTapName, "\" counter drop comment \"in\"; }\n");
  if (both_ways) {
    absl::StrAppend(&script, "  chain out { type filter hook output priority -300; oifname \"",
                    kTapName, "\" counter drop comment \"out\"; }\n");
  }
  absl::StrAppend(&script, "}\n");
  return CheckCommand(ns.Nft(script));
}

std::error_code ReplugTap(const Namespace& ns) {
  return CheckCommand(ns.Exec({"nft", "delete", "table", "inet", kUnplugTable}));
}

std::error_code DirectTopology::Unplug() {
  std::error_code error = UnplugTap(*peer_, /*both_ways=*/true);
  if (!error) unplugged_ = true;
  return error;
}

std::error_code DirectTopology::Replug() {
  if (!unplugged_) return {};
  std::error_code error = ReplugTap(*peer_);
  if (!error) unplugged_ = false;
  return error;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> DirectTopology::DroppedPackets() const {
  const CommandResult listing = peer_->Exec({"nft", "list", "table", "inet", kUnplugTable});
  if (!listing.ok()) return std::nullopt;
  const std::optional<std::uint64_t> in = CounterPackets(listing.output, "in");
  const std::optional<std::uint64_t> out = CounterPackets(listing.output, "out");
  if (!in || !out) return std::nullopt;
  return std::make_pair(*in, *out);
}

// --- NatTopology

Result<std::unique_ptr<NatTopology>> NatTopology::Create(const NamePattern& names,
                                                         std::string_view label,
                                                         std::chrono::seconds conntrack_timeout) {
  auto topology = std::make_unique<NatTopology>();
  Result<std::unique_ptr<Namespace>> server =
      Namespace::Create(names, absl::StrCat(std::string(label), "-server"));
  if (!server.ok()) return server.error();
  topology->server_ = *std::move(server);
  Result<std::unique_ptr<Namespace>> nat =
      Namespace::Create(names, absl::StrCat(std::string(label), "-nat"));
  if (!nat.ok()) return nat.error();
  topology->nat_ = *std::move(nat);
  topology->conntrack_.emplace(topology->nat_->name());
  Namespace& router = *topology->nat_;
  Namespace& host = *topology->server_;
  if (std::error_code error = ConfigureKernelPeer(host)) return error;
  (void)router.Sysctl("net.ipv6.conf.all.disable_ipv6", "1");
  (void)router.Sysctl("net.ipv6.conf.default.disable_ipv6", "1");

  if (std::error_code error = AddKernelTap(router)) return error;
  if (std::error_code error = WireNat(router, host, conntrack_timeout)) return error;
  return topology;
}

std::error_code WireNat(const Namespace& router, const Namespace& server,
                        std::chrono::seconds conntrack_timeout) {
  if (std::error_code error =
          IpAll(router, {{"link", "add", "v0", "type", "veth", "peer", "name", kServerLinkName,
                          "netns", server.name()},
                         {"addr", "add", WithPrefix(kNatOutsideAddress), "dev", "v0"},
                         {"link", "set", "v0", "up"}})) {
    return error;
  }
  if (std::error_code error =
          IpAll(server, {{"addr", "add", WithPrefix(kServerAddress), "dev", kServerLinkName},
                         {"link", "set", kServerLinkName, "up"}})) {
    return error;
  }
  return ConfigureNat(router, "v0", conntrack_timeout);
}

std::optional<bool> NatTopology::TracksConnection(std::uint16_t port) {
  const std::optional<std::size_t> count = conntrack_->CountTcpTo(port, /*established_only=*/false);
  if (!count) return std::nullopt;
  return *count > 0;
}

std::optional<std::uint64_t> NatTopology::InvalidDropped() const {
  return NatInvalidDropped(*nat_);
}

// --- LoadNatTopology

Result<std::unique_ptr<LoadNatTopology>> LoadNatTopology::Create(
    const NamePattern& names, std::string_view label, std::chrono::seconds conntrack_timeout) {
  auto topology = std::make_unique<LoadNatTopology>();
  Result<std::unique_ptr<Namespace>> nat = Namespace::Create(names, label);
  if (!nat.ok()) return nat.error();
  topology->nat_ = *std::move(nat);
  topology->conntrack_.emplace(topology->nat_->name());
  Namespace& router = *topology->nat_;
  (void)router.Sysctl("net.ipv6.conf.all.disable_ipv6", "1");
  (void)router.Sysctl("net.ipv6.conf.default.disable_ipv6", "1");
  if (std::error_code error = AddKernelTap(router)) return error;
  if (std::error_code error =
          IpAll(router, {{"tuntap", "add", "dev", kServerTapName, "mode", "tap"},
                         {"addr", "add", WithPrefix(kNatOutsideAddress), "dev", kServerTapName},
                         {"link", "set", kServerTapName, "up"}})) {
    return error;
  }
  if (std::error_code error = ConfigureNat(router, kServerTapName, conntrack_timeout)) {
    return error;
  }
  return topology;
}

std::optional<std::size_t> LoadNatTopology::EstablishedTo(std::uint16_t port) {
  return conntrack_->CountTcpTo(port, /*established_only=*/true);
}

std::optional<std::size_t> LoadNatTopology::TrackedCount() const {
  const CommandResult count = nat_->Exec({"cat", "/proc/sys/net/netfilter/nf_conntrack_count"});
  std::size_t value = 0;
  if (!count.ok() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(count.output), &value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint64_t> LoadNatTopology::InvalidDropped() const {
  return NatInvalidDropped(*nat_);
}

}  // namespace tapstack::testbed
