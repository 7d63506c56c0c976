// The demo's throwaway networks: named network namespaces with a TAP device for our stack, kernel
// peers, and a NAT between them, built with `ip` and `nft` and always deleted afterwards.
//
// Names are "tsdemo-<pid>-<label>": unique per demo process (tests run demos side by side), and
// recognisable, so that the namespaces of a demo that was killed outright (SIGKILL, power loss)
// are found by the pid that no longer runs and removed by the next demo (RemoveStaleNamespaces).
//
// Addresses (docs/testbed.md): our stack 192.0.2.2/24 on the TAP, the kernel's side of the TAP
// 192.0.2.1/24; behind the NAT, 198.51.100.0/24 with the server at 198.51.100.2.
#ifndef TAPSTACK_TOOLS_DEMO_TOPOLOGY_H_
#define TAPSTACK_TOOLS_DEMO_TOPOLOGY_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "stack/wire/bytes.h"
#include "tools/demo/process.h"

namespace tapstack::tools::demo {

inline constexpr char kNamespacePrefix[] = "tsdemo-";
inline constexpr char kTapName[] = "tap0";
inline constexpr int kPrefixLength = 24;
inline constexpr wire::Ipv4Address kStackAddress(192, 0, 2, 2);
inline constexpr wire::Ipv4Address kTapKernelAddress(192, 0, 2, 1);
inline constexpr wire::Ipv4Address kNatOutsideAddress(198, 51, 100, 1);
inline constexpr wire::Ipv4Address kServerAddress(198, 51, 100, 2);
// The server's end of the veth pair, in the server namespace.
inline constexpr char kServerLinkName[] = "v1";

// "tsdemo-<this pid>-<label>".
std::string NamespaceName(absl::string_view label);

// The pid in a name "tsdemo-<pid>-<label>", nullopt for any other name.
std::optional<int> DemoPidOfNamespace(absl::string_view name);

// Deletes the namespaces of demos that no longer run (their pid is gone, or runs another program
// now), after killing what still runs inside them. Returns the names it deleted.
std::vector<std::string> RemoveStaleNamespaces();

// Runs `open` with the calling thread inside the named namespace and returns its result (a file
// descriptor, which stays tied to that namespace). -1 from `open` becomes an error from errno.
absl::StatusOr<int> OpenInNamespace(const std::string& netns, const std::function<int()>& open);

// One network namespace, deleted on destruction together with every process left in it.
class Namespace {
 public:
  // Creates tsdemo-<pid>-<label> with its loopback up.
  static absl::StatusOr<std::unique_ptr<Namespace>> Create(absl::string_view label);
  ~Namespace();

  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  const std::string& name() const { return name_; }
  // `ip netns exec NAME argv...`, for commands and background peers.
  std::vector<std::string> ExecArgv(const std::vector<std::string>& argv) const;
  absl::Status Exec(const std::vector<std::string>& argv, absl::string_view input = {}) const;
  CommandResult ExecResult(const std::vector<std::string>& argv) const;
  // `ip -n NAME args...`.
  absl::Status Ip(const std::vector<std::string>& args) const;
  absl::Status Sysctl(absl::string_view key, absl::string_view value) const;
  // Loads an nft script (`nft -f -`).
  absl::Status Nft(absl::string_view script) const;
  // Settings every namespace with a Linux peer gets: IPv6 off (no router solicitations or MLD
  // reports in the captures), every out-of-window segment answered (no 500 ms rate limit on the
  // answers to keepalive probes, docs/testbed.md), and a crashed server's orphaned socket given up
  // after one retransmission (so a "reboot" forgets the connection within about a second).
  absl::Status ConfigureKernelPeer() const;

 private:
  explicit Namespace(std::string name) : name_(std::move(name)) {}

  std::string name_;
};

// Whether the kernel side of the TAP in `ns` is operationally up. The kernel turns a TAP's
// transmit queue on only when its link watcher sees the carrier our attaching raised, up to a
// second later; until then it drops what it sends there (its ARP replies, for a start).
absl::StatusOr<bool> TapIsUp(const Namespace& ns);

// Our TAP inside the peer's namespace: the Linux peer is the kernel at the other end of the TAP.
class DirectTopology {
 public:
  static absl::StatusOr<std::unique_ptr<DirectTopology>> Create(absl::string_view label);

  Namespace& peer() { return *peer_; }
  // The namespace holding the TAP device our stack attaches to.
  const std::string& tap_netns() const { return peer_->name(); }

  // Pulls the plug: nft drops every IPv4 packet on the peer's side of the link, in and out.
  absl::Status Unplug();
  // Plugs it back in.
  absl::Status Replug();
  // How many packets the unplugged link swallowed in each direction (nft counters), nullopt if
  // they cannot be read.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> DroppedPackets() const;

 private:
  std::unique_ptr<Namespace> peer_;
  bool unplugged_ = false;
};

// Three namespaces: the NAT router (which holds our TAP), and the server behind it on a veth pair.
// The NAT masquerades towards the server, forgets idle TCP connections after `conntrack_timeout`
// (nf_conntrack_tcp_timeout_established), never picks up a connection mid-stream
// (nf_conntrack_tcp_loose=0), and drops what its connection tracking calls invalid.
class NatTopology {
 public:
  static absl::StatusOr<std::unique_ptr<NatTopology>> Create(
      absl::string_view label, std::chrono::seconds conntrack_timeout);
  ~NatTopology();

  Namespace& nat() { return *nat_; }
  Namespace& server() { return *server_; }
  const std::string& tap_netns() const { return nat_->name(); }

  // Whether the NAT tracks a TCP connection to the server's `port` now; nullopt when the
  // conntrack table cannot be read (a kernel without /proc/net/nf_conntrack).
  std::optional<bool> TracksConnection(std::uint16_t port);
  // Packets the NAT dropped as invalid (nft counter), nullopt if it cannot be read.
  std::optional<std::uint64_t> InvalidDropped() const;

 private:
  std::unique_ptr<Namespace> server_;  // destroyed after the NAT (declared first)
  std::unique_ptr<Namespace> nat_;
  int conntrack_fd_ = -1;
  bool conntrack_unreadable_ = false;
};

}  // namespace tapstack::tools::demo

#endif  // TAPSTACK_TOOLS_DEMO_TOPOLOGY_H_
