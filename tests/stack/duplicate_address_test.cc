// Duplicate address detection (RFC 4862 5.4) on a virtual clock: each address probed from the
// unspecified address before it is used, and a duplicate found either way another node can
// reveal one.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "tests/stack/ipv6_fixture.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;

class DuplicateAddressTest : public Ipv6StackTest {
 protected:
  void SetUp() override { Start(Config(/*dad_transmits=*/1)); }
  Ipv6AddressState AddressState(const wire::Ipv6Address& address) const {
    return *stack_->ipv6()->addresses().State(address);
  }
  // Another node (kOtherMac) advertises our global address, unsolicited, from `source`.
  void OtherNodeAdvertisesOurGlobal(const wire::Ipv6Address& source) {
    wire::NeighborAdvertisementRepr repr;
    repr.override_flag = true;
    repr.target = kOurGlobal;
    repr.target_link_layer_address = kOtherMac;
    IngestPacket(Advertisement(source, wire::Ipv6Address::AllNodes(), repr));
  }
  // The peer pings our global address; true when we answered (or queued the answer while
  // resolving the peer).
  bool EchoAnswered() {
    const std::uint64_t before = Count(Counter::kTxIcmpv6EchoReplies);
    IngestPacket(EchoV6(wire::Icmpv6Type::kEchoRequest, kPeerLinkLocal, kOurGlobal, 1, 1, {}));
    return Count(Counter::kTxIcmpv6EchoReplies) == before + 1;
  }
};

TEST_F(DuplicateAddressTest, ProbesEachAddressThenUsesIt) {
  EXPECT_TRUE(sent_.empty()) << "nothing is sent from the constructor";
  EXPECT_EQ(AddressState(kOurLinkLocal), Ipv6AddressState::kTentative);
  EXPECT_EQ(AddressState(kOurGlobal), Ipv6AddressState::kTentative);
  // RFC 4862 5.4: a tentative address receives nothing but Neighbor Discovery.
  EXPECT_FALSE(EchoAnswered());
  EXPECT_EQ(Count(Counter::kDropIpv6NotForUs), 1u);
  EXPECT_FALSE(Ping(kPeerGlobal)) << "no preferred source address yet";
  // RFC 4862 5.4.2: after a random delay up to MAX_RTR_SOLICITATION_DELAY, one solicitation per
  // address from ::, to its solicited-node group, no link-layer address option.
  AdvanceBy(milliseconds(1'000));
  std::vector<SentIpv6> sent = SentIpv6Frames();
  ASSERT_EQ(sent.size(), 2u);
  for (const SentIpv6& probe : sent) {
    EXPECT_TRUE(probe.ip.src.IsUnspecified());
    EXPECT_EQ(probe.ip.hop_limit, 255);
    const auto solicitation = wire::NeighborSolicitationView::Parse(probe.upper);
    ASSERT_TRUE(solicitation.ok());
    EXPECT_EQ(probe.ip.dst, wire::SolicitedNodeMulticast(solicitation->target()));
    EXPECT_EQ(probe.dst_mac, wire::Ipv6MulticastMac(probe.ip.dst));
    EXPECT_EQ(solicitation->options().source_link_layer_address, std::nullopt);
  }
  // Each after its own random delay, in either order.
  std::set<wire::Ipv6Address> targets;
  for (const SentIpv6& probe : sent) {
    targets.insert(wire::NeighborSolicitationView::Parse(probe.upper)->target());
  }
  EXPECT_EQ(targets, (std::set<wire::Ipv6Address>{kOurLinkLocal, kOurGlobal}));
  // RetransTimer after the last probe without an answer: preferred.
  AdvanceBy(milliseconds(1'000));
  EXPECT_EQ(AddressState(kOurLinkLocal), Ipv6AddressState::kPreferred);
  EXPECT_EQ(AddressState(kOurGlobal), Ipv6AddressState::kPreferred);
  EXPECT_TRUE(stack_->ipv6()->addresses().settled());
  EXPECT_TRUE(EchoAnswered());
}

TEST_F(DuplicateAddressTest, AdvertisementForTentativeAddressIsADuplicate) {
  AdvanceBy(milliseconds(1'000));
  // RFC 4862 5.4.4: another node advertises the address we are probing.
  OtherNodeAdvertisesOurGlobal(kOurGlobal);
  EXPECT_EQ(AddressState(kOurGlobal), Ipv6AddressState::kDuplicate);
  EXPECT_EQ(Count(Counter::kNdpDadDuplicates), 1u);
  AdvanceBy(milliseconds(10'000));
  // RFC 4862 5.4.5: the duplicate is never used; the link-local address is unaffected.
  EXPECT_EQ(AddressState(kOurGlobal), Ipv6AddressState::kDuplicate);
  EXPECT_EQ(AddressState(kOurLinkLocal), Ipv6AddressState::kPreferred);
  EXPECT_FALSE(EchoAnswered());
}

TEST_F(DuplicateAddressTest, ProbeFromAnotherNodeForTentativeAddressIsADuplicate) {
  // RFC 4862 5.4.3: a solicitation from :: for our tentative address: another node runs DAD for
  // it at the same time. Heard on the solicited-node group even while tentative (5.4.2).
  IngestPacket(Solicitation(wire::Ipv6Address(), wire::SolicitedNodeMulticast(kOurGlobal),
                            kOurGlobal, std::nullopt));
  EXPECT_EQ(AddressState(kOurGlobal), Ipv6AddressState::kDuplicate);
  EXPECT_EQ(Count(Counter::kNdpDadDuplicates), 1u);
  EXPECT_TRUE(SentIpv6Frames().empty()) << "a tentative address answers nothing";
}

TEST_F(DuplicateAddressTest, SolicitationFromUnicastForTentativeAddressIsIgnored) {
  // RFC 4862 5.4.3: from a unicast source it is address resolution, not DAD: silently ignored.
  IngestPacket(
      Solicitation(kPeerGlobal, wire::SolicitedNodeMulticast(kOurGlobal), kOurGlobal, kPeerMac));
  EXPECT_EQ(AddressState(kOurGlobal), Ipv6AddressState::kTentative);
  EXPECT_TRUE(SentIpv6Frames().empty());
  AdvanceBy(milliseconds(2'000));
  EXPECT_EQ(AddressState(kOurGlobal), Ipv6AddressState::kPreferred);
}

TEST_F(DuplicateAddressTest, AdvertisementForPreferredAddressIsAConflictNotADuplicate) {
  AdvanceBy(milliseconds(2'000));
  OtherNodeAdvertisesOurGlobal(kPeerLinkLocal);
  // RFC 4862 5.4.4: after DAD the address is kept; the conflict is counted.
  EXPECT_EQ(AddressState(kOurGlobal), Ipv6AddressState::kPreferred);
  EXPECT_EQ(Count(Counter::kNdpAddressConflicts), 1u);
  EXPECT_EQ(Count(Counter::kNdpDadDuplicates), 0u);
}

}  // namespace
}  // namespace tapstack::testing
