// The scenes' wiring: a TAP device in a namespace whose kernel side is a Linux peer, and a NAT
// router in front of a server namespace on a veth pair (docs/testbed.md), built with `ip` and
// `nft`.
//
// Addresses are RFC 5737 documentation addresses: our stack 192.0.2.2/24 on the TAP, the kernel's
// side of the TAP 192.0.2.1/24 (TEST-NET-1); behind the NAT, 198.51.100.0/24 (TEST-NET-2) with the
// server at 198.51.100.2.
#ifndef TAPSTACK_TESTBED_TOPOLOGY_H_
#define TAPSTACK_TESTBED_TOPOLOGY_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "stack/result.h"
#include "stack/wire/bytes.h"
#include "stack/wire/ipv6_address.h"
#include "testbed/conntrack_table.h"
#include "testbed/netns.h"

namespace tapstack::testbed {

inline constexpr char kTapName[] = "tap0";
inline constexpr int kPrefixLength = 24;
inline constexpr wire::Ipv4Address kStackAddress(192, 0, 2, 2);
inline constexpr char kStackMac[] = "02:00:00:00:00:02";
inline constexpr wire::Ipv4Address kTapKernelAddress(192, 0, 2, 1);
// Over IPv6 (RFC 3849's documentation prefix, /64): our stack and the kernel's side of the TAP.
inline constexpr wire::Ipv6Address kStackAddress6 =
    wire::Ipv6Address::FromGroups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 2});
inline constexpr wire::Ipv6Address kTapKernelAddress6 =
    wire::Ipv6Address::FromGroups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1});
inline constexpr wire::Ipv4Address kNatOutsideAddress(198, 51, 100, 1);
inline constexpr wire::Ipv4Address kServerAddress(198, 51, 100, 2);
// The server's end of the veth pair, in the server namespace.
inline constexpr char kServerLinkName[] = "v1";

// A persistent TAP device `tap0` in `ns` (ip tuntap), with the kernel's address 192.0.2.1/24 and
// its link up, ready for our stack to attach to.
std::error_code AddKernelTap(const Namespace& ns);

// Settings every namespace with a Linux peer gets: IPv6 off (no router solicitations or MLD
// reports in the captures), every out-of-window segment answered (no 500 ms rate limit on the
// answers to keepalive probes, docs/testbed.md), and a crashed server's orphaned socket given up
// after one retransmission (so a "reboot" forgets the connection within about a second).
std::error_code ConfigureKernelPeer(const Namespace& ns);

// The NAT recipe: a veth pair from `router` (v0, 198.51.100.1/24) to `server` (v1,
// 198.51.100.2/24); the router forwards, masquerades out of v0, forgets an idle TCP connection
// after `conntrack_timeout` (nf_conntrack_tcp_timeout_established), never picks one up mid-stream
// (nf_conntrack_tcp_loose=0), and drops what its connection tracking calls invalid.
std::error_code WireNat(const Namespace& router, const Namespace& server,
                        std::chrono::seconds conntrack_timeout);

// Pulls the plug on the TAP in `ns`: nftables drops every IPv4 packet that arrives from our stack,
// and with `both_ways` every one the kernel sends to it, before the kernel's TCP or connection
// tracking sees it. ARP still resolves: the cable is out, the neighbour cache does not matter.
std::error_code UnplugTap(const Namespace& ns, bool both_ways);
// Plugs it back in.
std::error_code ReplugTap(const Namespace& ns);

// Whether the kernel side of the TAP in `ns` is operationally up. The kernel turns a TAP's
// transmit queue on only when its link watcher sees the carrier our attaching raised, up to a
// second later; until then it drops what it sends there (its ARP replies, for a start).
Result<bool> TapIsUp(const Namespace& ns);

// Our TAP inside the peer's namespace: the Linux peer is the kernel at the other end of the TAP.
class DirectTopology {
 public:
  static Result<std::unique_ptr<DirectTopology>> Create(const NamePattern& names,
                                                        std::string_view label);

  Namespace& peer() { return *peer_; }
  // The namespace holding the TAP device our stack attaches to.
  const std::string& tap_netns() const { return peer_->name(); }

  // Turns IPv6 back on for the TAP (ConfigureKernelPeer turned it off) and gives the kernel's side
  // kTapKernelAddress6/64 without its duplicate address detection (nodad), which would hold the
  // address back a second. The kernel then sends its own router solicitations and MLD reports.
  std::error_code EnableIpv6();
  // Pulls the plug both ways (UnplugTap): IPv4 and IPv6, Neighbor Discovery included.
  std::error_code Unplug();
  // Plugs it back in.
  std::error_code Replug();
  // How many packets the unplugged link swallowed in each direction (nft counters), nullopt if
  // they cannot be read.
  std::optional<std::pair<std::uint64_t, std::uint64_t>> DroppedPackets() const;

 private:
  std::unique_ptr<Namespace> peer_;
  bool unplugged_ = false;
};

// The NAT router between two of our stacks, for `tapstack load`: one namespace holding two TAP
// devices, `tap0` towards the clients (192.0.2.1/24, our client stack at 192.0.2.2 and further
// addresses of that network) and `tap1` towards the server (198.51.100.1/24, our server stack at
// 198.51.100.2). The kernel forwards between them, masquerades out of tap1, forgets an idle TCP
// connection after `conntrack_timeout`, never picks one up mid-stream and drops what its
// connection tracking calls invalid, as WireNat's router does.
inline constexpr char kServerTapName[] = "tap1";

class LoadNatTopology {
 public:
  static Result<std::unique_ptr<LoadNatTopology>> Create(const NamePattern& names,
                                                         std::string_view label,
                                                         std::chrono::seconds conntrack_timeout);

  Namespace& nat() { return *nat_; }
  // TCP connections to the server's `port` the NAT tracks as ESTABLISHED now (lines of
  // /proc/net/nf_conntrack in its namespace), nullopt when the table cannot be read.
  std::optional<std::size_t> EstablishedTo(std::uint16_t port);
  // Every connection the NAT tracks, of any protocol and state (nf_conntrack_count, what
  // `conntrack -C` prints), nullopt when it cannot be read.
  std::optional<std::size_t> TrackedCount() const;
  // Packets the NAT dropped as invalid (nft counter), nullopt if it cannot be read.
  std::optional<std::uint64_t> InvalidDropped() const;

 private:
  std::unique_ptr<Namespace> nat_;
  std::optional<ConntrackTable> conntrack_;  // once nat_ exists
};

// Two namespaces: the NAT router (which holds our TAP), and the server behind it, wired by
// WireNat.
class NatTopology {
 public:
  static Result<std::unique_ptr<NatTopology>> Create(const NamePattern& names,
                                                     std::string_view label,
                                                     std::chrono::seconds conntrack_timeout);

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
  std::optional<ConntrackTable> conntrack_;  // once nat_ exists
};

}  // namespace tapstack::testbed

#endif  // TAPSTACK_TESTBED_TOPOLOGY_H_
