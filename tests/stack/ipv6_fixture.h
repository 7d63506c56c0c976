// A Stack with IPv6 enabled on a virtual clock, the peer played by hand: frames in are built with
// the wire writers, frames out parsed back. Shared by the IPv6 input, Neighbor Discovery and
// duplicate address detection tests.
#ifndef TAPSTACK_TESTS_STACK_IPV6_FIXTURE_H_
#define TAPSTACK_TESTS_STACK_IPV6_FIXTURE_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "stack/stack.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ip_protocol.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/neighbor_discovery.h"
#include "stack/wire/router_advertisement.h"

namespace tapstack::testing {

using Bytes = std::vector<std::uint8_t>;

inline const wire::MacAddress kOurMac = *wire::MacAddress::Parse("02:00:00:00:00:02");
inline const wire::MacAddress kPeerMac = *wire::MacAddress::Parse("02:00:00:00:00:01");
inline const wire::MacAddress kOtherMac = *wire::MacAddress::Parse("02:00:00:00:00:09");
// Modified EUI-64 of the MACs (RFC 4291 appendix A): the universal/local bit inverted.
inline const wire::Ipv6Address kOurLinkLocal = *wire::Ipv6Address::Parse("fe80::ff:fe00:2");
inline const wire::Ipv6Address kPeerLinkLocal = *wire::Ipv6Address::Parse("fe80::ff:fe00:1");
inline const wire::Ipv6Address kOurGlobal = *wire::Ipv6Address::Parse("2001:db8::2");
inline const wire::Ipv6Address kPeerGlobal = *wire::Ipv6Address::Parse("2001:db8::1");
inline const timers::TimePoint kIpv6Start = timers::TimePoint{} + std::chrono::hours(1);

// Frames the stack sent, IPv6 ones parsed.
struct SentIpv6 {
  wire::MacAddress dst_mac;
  wire::Ipv6Repr ip;
  Bytes upper;  // the ICMPv6 message (no extension headers are ever sent)
  std::uint8_t icmp_type() const { return upper.empty() ? 0 : upper[0]; }
};

Bytes Ipv6Packet(const wire::Ipv6Address& src, const wire::Ipv6Address& dst,
                 std::uint8_t next_header, const Bytes& payload, std::uint8_t hop_limit = 64);
Bytes EthernetFrame(const wire::MacAddress& dst, const Bytes& payload,
                    const wire::MacAddress& src = kPeerMac,
                    std::uint16_t ethertype = wire::EtherType::kIpv6);
Bytes EchoV6(wire::Icmpv6Type type, const wire::Ipv6Address& src, const wire::Ipv6Address& dst,
             std::uint16_t id, std::uint16_t seq, const Bytes& data);
Bytes Solicitation(const wire::Ipv6Address& src, const wire::Ipv6Address& dst,
                   const wire::Ipv6Address& target, std::optional<wire::MacAddress> sll);
Bytes Advertisement(const wire::Ipv6Address& src, const wire::Ipv6Address& dst,
                    const wire::NeighborAdvertisementRepr& repr);
Bytes RouterAdvertisement(const wire::Ipv6Address& src, const wire::RouterAdvertisementRepr& repr);

class Ipv6StackTest : public ::testing::Test {
 protected:
  // The default: addresses usable at once (DAD has tests of its own).
  static StackConfig Config(int dad_transmits = 0);

  void Start(const StackConfig& config);
  void SetUp() override { Start(Config()); }

  // A frame to us (our MAC, or the group's for a multicast destination). `packet` may be of any
  // length.
  void IngestPacket(const Bytes& packet);
  void IngestFrame(const Bytes& frame) { stack_->Ingest(frame, now_); }
  void AdvanceBy(std::chrono::milliseconds d) {
    now_ += d;
    stack_->Advance(now_);
  }
  std::uint64_t Count(Counter c) const { return stack_->counters()[c]; }
  std::vector<SentIpv6> SentIpv6Frames() const;
  std::optional<NeighborState> State(const wire::Ipv6Address& neighbor) const {
    return stack_->ipv6()->neighbors().State(neighbor);
  }
  // The peer answers a solicitation for kPeerGlobal (solicited, override).
  void PeerAdvertises(bool solicited = true, bool override_flag = true,
                      const wire::MacAddress& mac = kPeerMac);
  bool Ping(const wire::Ipv6Address& destination, std::uint16_t seq = 1) {
    return stack_->SendEchoRequest(destination, 7, seq, {}, now_);
  }
  // Resolves kPeerGlobal (a ping and the peer's advertisement) and forgets what was sent, so that
  // a test's answers go out at once and are all it sees.
  void ResolvePeer() {
    ASSERT_TRUE(Ping(kPeerGlobal));
    PeerAdvertises();
    sent_.clear();
  }

  timers::TimePoint now_ = kIpv6Start;
  std::vector<Bytes> sent_;
  std::optional<Stack> stack_;
};

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_STACK_IPV6_FIXTURE_H_
