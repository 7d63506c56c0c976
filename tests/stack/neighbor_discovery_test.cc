// Neighbor Discovery (RFC 4861) on a virtual clock: solicitations answered, next hops resolved,
// and each transition of the neighbour cache's state machine (7.3.3, appendix C) driven by hand,
// with the section it implements named in the test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "tests/stack/ipv6_fixture.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;

const wire::Ipv6Address kPeerGroup = wire::SolicitedNodeMulticast(kPeerGlobal);

class NeighborDiscoveryTest : public Ipv6StackTest {
 protected:
  // Sends a ping to the peer and answers the resolution: the entry ends REACHABLE.
  void ResolvePeer() {
    ASSERT_TRUE(Ping(kPeerGlobal));
    PeerAdvertises();
    ASSERT_EQ(State(kPeerGlobal), NeighborState::kReachable);
    sent_.clear();
  }
  std::vector<SentIpv6> Solicitations() const {
    std::vector<SentIpv6> found;
    for (const SentIpv6& frame : SentIpv6Frames()) {
      if (frame.icmp_type() == 135) found.push_back(frame);
    }
    return found;
  }
};

TEST_F(NeighborDiscoveryTest, AnswersSolicitationForOurAddressAndLearnsTheSolicitor) {
  IngestPacket(
      Solicitation(kPeerGlobal, wire::SolicitedNodeMulticast(kOurGlobal), kOurGlobal, kPeerMac));
  const std::vector<SentIpv6> sent = SentIpv6Frames();
  ASSERT_EQ(sent.size(), 1u);
  // RFC 4861 7.2.4: unicast to the solicitor, from the target, hop limit 255.
  EXPECT_EQ(sent[0].dst_mac, kPeerMac);
  EXPECT_EQ(sent[0].ip.src, kOurGlobal);
  EXPECT_EQ(sent[0].ip.dst, kPeerGlobal);
  EXPECT_EQ(sent[0].ip.hop_limit, 255);
  const auto advertisement = wire::NeighborAdvertisementView::Parse(sent[0].upper);
  ASSERT_TRUE(advertisement.ok());
  EXPECT_TRUE(advertisement->solicited());
  EXPECT_TRUE(advertisement->override_flag());
  EXPECT_FALSE(advertisement->router());
  EXPECT_EQ(advertisement->target(), kOurGlobal);
  EXPECT_EQ(advertisement->options().target_link_layer_address, kOurMac);
  // RFC 4861 7.2.3: the solicitor's address is cached STALE; sending it the answer then started
  // DELAY (7.3.3), as in Linux.
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kDelay);
  EXPECT_EQ(stack_->ipv6()->neighbors().Lookup(kPeerGlobal), kPeerMac);
  EXPECT_EQ(Count(Counter::kTxNdpAdvertisements), 1u);
}

TEST_F(NeighborDiscoveryTest, AnswersSolicitationForLinkLocalAddress) {
  IngestPacket(Solicitation(kPeerLinkLocal, wire::SolicitedNodeMulticast(kOurLinkLocal),
                            kOurLinkLocal, kPeerMac));
  const std::vector<SentIpv6> sent = SentIpv6Frames();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].ip.src, kOurLinkLocal);
  EXPECT_EQ(sent[0].ip.dst, kPeerLinkLocal);
}

TEST_F(NeighborDiscoveryTest, SolicitationFromUnspecifiedIsAnsweredToAllNodes) {
  // RFC 4861 7.2.4: the solicitor runs DAD for our address; the answer goes to all-nodes,
  // unsolicited.
  IngestPacket(Solicitation(wire::Ipv6Address(), wire::SolicitedNodeMulticast(kOurGlobal),
                            kOurGlobal, std::nullopt));
  const std::vector<SentIpv6> sent = SentIpv6Frames();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].ip.dst, wire::Ipv6Address::AllNodes());
  EXPECT_EQ(sent[0].dst_mac, *wire::MacAddress::Parse("33:33:00:00:00:01"));
  const auto advertisement = wire::NeighborAdvertisementView::Parse(sent[0].upper);
  ASSERT_TRUE(advertisement.ok());
  EXPECT_FALSE(advertisement->solicited());
  EXPECT_EQ(State(wire::Ipv6Address()), std::nullopt) << "nothing cached for ::";
}

TEST_F(NeighborDiscoveryTest, InvalidSolicitationsAreCountedDrops) {
  // RFC 4861 7.1.1: hop limit other than 255 (it was routed), and a multicast target.
  Bytes routed =
      Solicitation(kPeerGlobal, wire::SolicitedNodeMulticast(kOurGlobal), kOurGlobal, kPeerMac);
  routed[7] = 254;
  IngestPacket(routed);
  IngestPacket(Solicitation(kPeerGlobal, wire::SolicitedNodeMulticast(kOurGlobal),
                            wire::Ipv6Address::AllNodes(), kPeerMac));
  // From :: with a source link-layer address option.
  IngestPacket(Solicitation(wire::Ipv6Address(), wire::SolicitedNodeMulticast(kOurGlobal),
                            kOurGlobal, kPeerMac));
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(Count(Counter::kDropNdpInvalid), 3u);
  // A solicitation for someone else's address that shares our solicited-node group.
  IngestPacket(Solicitation(kPeerGlobal, wire::SolicitedNodeMulticast(kOurGlobal),
                            *wire::Ipv6Address::Parse("2001:db8::1:0:0:2"), kPeerMac));
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(Count(Counter::kDropNdpNotForUs), 1u);
}

TEST_F(NeighborDiscoveryTest, ResolvesNextHopWithMulticastSolicitationAndSendsWhatWaited) {
  // RFC 4861 7.2.2: a new INCOMPLETE entry, a solicitation to the solicited-node group with our
  // link-layer address, and the packet queued.
  ASSERT_TRUE(Ping(kPeerGlobal, 1));
  ASSERT_TRUE(Ping(kPeerGlobal, 2));
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kIncomplete);
  std::vector<SentIpv6> sent = SentIpv6Frames();
  ASSERT_EQ(sent.size(), 1u) << "one solicitation, however many packets wait";
  EXPECT_EQ(sent[0].dst_mac, *wire::MacAddress::Parse("33:33:ff:00:00:01"));
  EXPECT_EQ(sent[0].ip.dst, kPeerGroup);
  EXPECT_EQ(sent[0].ip.src, kOurGlobal);
  EXPECT_EQ(sent[0].ip.hop_limit, 255);
  const auto solicitation = wire::NeighborSolicitationView::Parse(sent[0].upper);
  ASSERT_TRUE(solicitation.ok());
  EXPECT_EQ(solicitation->target(), kPeerGlobal);
  EXPECT_EQ(solicitation->options().source_link_layer_address, kOurMac);
  // RFC 4861 7.2.5: a solicited advertisement makes it REACHABLE and the queue goes out in order.
  sent_.clear();
  PeerAdvertises();
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kReachable);
  sent = SentIpv6Frames();
  ASSERT_EQ(sent.size(), 2u);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(sent[i].dst_mac, kPeerMac);
    EXPECT_EQ(sent[i].icmp_type(), 128);
    EXPECT_EQ(wire::Icmpv6View::Parse(sent[i].upper)->echo_sequence(), i + 1);
  }
}

TEST_F(NeighborDiscoveryTest, UnsolicitedAdvertisementResolvesIncompleteToStale) {
  ASSERT_TRUE(Ping(kPeerGlobal));
  PeerAdvertises(/*solicited=*/false);
  // RFC 4861 7.2.5: unsolicited: the address is recorded, but not confirmed (STALE); the queued
  // ping sent to it then starts DELAY (7.3.3).
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kDelay);
  EXPECT_EQ(SentIpv6Frames().back().dst_mac, kPeerMac) << "the queued ping went out";
}

TEST_F(NeighborDiscoveryTest, SolicitationFromTheNeighborResolvesIncomplete) {
  ASSERT_TRUE(Ping(kPeerGlobal));
  // RFC 4861 7.2.3: while we resolve it, the peer solicits us with its link-layer address: the
  // entry takes it (STALE), the queued ping goes out and starts DELAY (7.3.3), and the peer is
  // answered.
  sent_.clear();
  IngestPacket(
      Solicitation(kPeerGlobal, wire::SolicitedNodeMulticast(kOurGlobal), kOurGlobal, kPeerMac));
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kDelay);
  const std::vector<SentIpv6> sent = SentIpv6Frames();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].icmp_type(), 128) << "the queued ping first";
  EXPECT_EQ(sent[1].icmp_type(), 136);
  for (const SentIpv6& frame : sent) EXPECT_EQ(frame.dst_mac, kPeerMac);
}

TEST_F(NeighborDiscoveryTest, IncompleteRetransmitsThenDropsWhatWaited) {
  ASSERT_TRUE(Ping(kPeerGlobal, 1));
  ASSERT_TRUE(Ping(kPeerGlobal, 2));
  // RFC 4861 7.2.2: MAX_MULTICAST_SOLICIT solicitations, RetransTimer apart.
  AdvanceBy(milliseconds(999));
  EXPECT_EQ(Solicitations().size(), 1u);
  AdvanceBy(milliseconds(1));
  EXPECT_EQ(Solicitations().size(), 2u);
  AdvanceBy(milliseconds(1000));
  EXPECT_EQ(Solicitations().size(), 3u);
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kIncomplete);
  // RFC 4861 7.3.3: no answer RetransTimer after the last: the entry goes, its packets dropped.
  AdvanceBy(milliseconds(1000));
  EXPECT_EQ(Solicitations().size(), 3u);
  EXPECT_EQ(State(kPeerGlobal), std::nullopt);
  EXPECT_EQ(Count(Counter::kDropNdpUnresolved), 2u);
}

TEST_F(NeighborDiscoveryTest, QueueWhileIncompleteIsBounded) {
  StackConfig config = Config();
  config.ndp.max_pending_packets = 2;
  Start(config);
  EXPECT_TRUE(Ping(kPeerGlobal, 1));
  EXPECT_TRUE(Ping(kPeerGlobal, 2));
  EXPECT_FALSE(Ping(kPeerGlobal, 3));
  EXPECT_EQ(Count(Counter::kDropNdpQueueFull), 1u);
}

TEST_F(NeighborDiscoveryTest, TableIsBounded) {
  StackConfig config = Config();
  config.ndp.max_entries = 1;
  Start(config);
  EXPECT_TRUE(Ping(kPeerGlobal));
  EXPECT_FALSE(Ping(*wire::Ipv6Address::Parse("2001:db8::3")));
  EXPECT_EQ(Count(Counter::kDropNdpTableFull), 1u);
}

TEST_F(NeighborDiscoveryTest, ReachableBecomesStaleAfterReachableTime) {
  ResolvePeer();
  // RFC 4861 6.3.2: ReachableTime is between 0.5 and 1.5 BaseReachableTime (30 s).
  AdvanceBy(milliseconds(15'000 - 1));
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kReachable);
  // RFC 4861 7.3.3: ReachableTime without confirmation: STALE, silently.
  AdvanceBy(milliseconds(30'001));
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kStale);
  EXPECT_TRUE(sent_.empty());
}

TEST_F(NeighborDiscoveryTest, StaleGoesToDelayOnSendThenProbesThenReachableOnAnswer) {
  ResolvePeer();
  AdvanceBy(milliseconds(45'001));
  ASSERT_EQ(State(kPeerGlobal), NeighborState::kStale);
  // RFC 4861 7.3.3: sending to a STALE neighbour uses the cached address and enters DELAY.
  ASSERT_TRUE(Ping(kPeerGlobal, 9));
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kDelay);
  ASSERT_EQ(SentIpv6Frames().size(), 1u);
  EXPECT_EQ(SentIpv6Frames()[0].dst_mac, kPeerMac);
  EXPECT_EQ(SentIpv6Frames()[0].icmp_type(), 128);
  sent_.clear();
  // DELAY_FIRST_PROBE_TIME (5 s) later: PROBE, a unicast solicitation to the cached address.
  AdvanceBy(milliseconds(4'999));
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kDelay);
  AdvanceBy(milliseconds(1));
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kProbe);
  const std::vector<SentIpv6> probes = Solicitations();
  ASSERT_EQ(probes.size(), 1u);
  EXPECT_EQ(probes[0].dst_mac, kPeerMac);
  EXPECT_EQ(probes[0].ip.dst, kPeerGlobal);
  // RFC 4861 7.2.5: a solicited advertisement confirms it.
  PeerAdvertises();
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kReachable);
}

TEST_F(NeighborDiscoveryTest, ProbeGivesUpAfterMaxUnicastSolicit) {
  ResolvePeer();
  AdvanceBy(milliseconds(45'001));
  ASSERT_TRUE(Ping(kPeerGlobal));
  AdvanceBy(milliseconds(5'000));
  ASSERT_EQ(State(kPeerGlobal), NeighborState::kProbe);
  // RFC 4861 7.3.3: MAX_UNICAST_SOLICIT probes RetransTimer apart, then the entry is deleted.
  AdvanceBy(milliseconds(2'000));
  EXPECT_EQ(Solicitations().size(), 3u);
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kProbe);
  AdvanceBy(milliseconds(1'000));
  EXPECT_EQ(State(kPeerGlobal), std::nullopt);
}

TEST_F(NeighborDiscoveryTest, DelayConfirmedByAdvertisementBeforeProbing) {
  ResolvePeer();
  AdvanceBy(milliseconds(45'001));
  ASSERT_TRUE(Ping(kPeerGlobal));
  ASSERT_EQ(State(kPeerGlobal), NeighborState::kDelay);
  // RFC 4861 7.2.5 / appendix C: DELAY and a solicited advertisement: REACHABLE, no probe.
  PeerAdvertises();
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kReachable);
  AdvanceBy(milliseconds(5'000));
  EXPECT_TRUE(Solicitations().empty());
}

TEST_F(NeighborDiscoveryTest, OverrideAdvertisementWithNewAddressReplacesItAndGoesStale) {
  ResolvePeer();
  // RFC 4861 7.2.5: unsolicited, override set, a different address: recorded, STALE.
  PeerAdvertises(/*solicited=*/false, /*override_flag=*/true, kOtherMac);
  EXPECT_EQ(stack_->ipv6()->neighbors().Lookup(kPeerGlobal), kOtherMac);
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kStale);
}

TEST_F(NeighborDiscoveryTest, AdvertisementWithoutOverrideKeepsAddressButDoubtsReachable) {
  ResolvePeer();
  // RFC 4861 7.2.5: override clear and a different address: a REACHABLE entry goes STALE and
  // keeps its address.
  PeerAdvertises(/*solicited=*/true, /*override_flag=*/false, kOtherMac);
  EXPECT_EQ(stack_->ipv6()->neighbors().Lookup(kPeerGlobal), kPeerMac);
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kStale);
  // In any other state the advertisement is ignored.
  PeerAdvertises(/*solicited=*/true, /*override_flag=*/false, kOtherMac);
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kStale);
  EXPECT_EQ(stack_->ipv6()->neighbors().Lookup(kPeerGlobal), kPeerMac);
}

TEST_F(NeighborDiscoveryTest, AdvertisementWithoutEntryCreatesNone) {
  // RFC 4861 7.2.5: no entry: the advertisement is silently discarded.
  PeerAdvertises(/*solicited=*/false);
  EXPECT_EQ(State(kPeerGlobal), std::nullopt);
  EXPECT_EQ(stack_->ipv6()->neighbors().size(), 0u);
}

TEST_F(NeighborDiscoveryTest, SolicitationWithNewAddressMakesEntryStale) {
  ResolvePeer();
  // RFC 4861 7.2.3: a solicitation whose link-layer address differs from the cached one.
  IngestPacket(
      Solicitation(kPeerGlobal, wire::SolicitedNodeMulticast(kOurGlobal), kOurGlobal, kOtherMac));
  // STALE with the new address, then DELAY as the answer goes out to it (7.3.3).
  EXPECT_EQ(State(kPeerGlobal), NeighborState::kDelay);
  EXPECT_EQ(stack_->ipv6()->neighbors().Lookup(kPeerGlobal), kOtherMac);
  EXPECT_EQ(SentIpv6Frames().at(0).dst_mac, kOtherMac) << "answered at the new address";
}

// --- Router discovery ---------------------------------------------------------------------------

const wire::Ipv6Address kRouterLinkLocal = *wire::Ipv6Address::Parse("fe80::1");
const wire::MacAddress kRouterMac = *wire::MacAddress::Parse("02:00:00:00:00:fe");
const wire::Ipv6Address kOffLink = *wire::Ipv6Address::Parse("2001:db8:ffff::7");

wire::RouterAdvertisementRepr DefaultRouter(std::uint16_t lifetime_s) {
  wire::RouterAdvertisementRepr repr;
  repr.cur_hop_limit = 32;
  repr.router_lifetime_s = lifetime_s;
  repr.source_link_layer_address = kRouterMac;
  repr.prefixes.push_back(wire::NdPrefixInformation{*wire::Ipv6Address::Parse("2001:db8:5::"), 64,
                                                    true, true, 600, 300});
  return repr;
}

TEST_F(NeighborDiscoveryTest, UnusedStaleEntryIsForgotten) {
  // A router advertisement's link-layer address makes a STALE entry nothing sends to.
  IngestPacket(RouterAdvertisement(kRouterLinkLocal, DefaultRouter(0)));
  ASSERT_EQ(State(kRouterLinkLocal), NeighborState::kStale);
  // Garbage collection (RFC 4861 7.3.3 leaves it to the implementation): 60 s unused.
  AdvanceBy(milliseconds(59'999));
  EXPECT_EQ(State(kRouterLinkLocal), NeighborState::kStale);
  AdvanceBy(milliseconds(1));
  EXPECT_EQ(State(kRouterLinkLocal), std::nullopt);
}

TEST_F(NeighborDiscoveryTest, OffLinkWithoutRouterHasNoRoute) {
  EXPECT_FALSE(Ping(kOffLink));
  EXPECT_EQ(Count(Counter::kDropIpv6NoRoute), 1u);
}

TEST_F(NeighborDiscoveryTest, RouterAdvertisementGivesDefaultRouterUntilItsLifetimeEnds) {
  IngestPacket(RouterAdvertisement(kRouterLinkLocal, DefaultRouter(30)));
  EXPECT_EQ(Count(Counter::kRxRouterAdvertisements), 1u);
  // RFC 4861 6.3.4: the router, its link-layer address (STALE), the hop limit it advertises.
  EXPECT_EQ(stack_->ipv6()->routers().default_router(), kRouterLinkLocal);
  EXPECT_EQ(State(kRouterLinkLocal), NeighborState::kStale);
  ASSERT_TRUE(Ping(kOffLink));
  const std::vector<SentIpv6> sent = SentIpv6Frames();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].dst_mac, kRouterMac);
  EXPECT_EQ(sent[0].ip.dst, kOffLink);
  EXPECT_EQ(sent[0].ip.hop_limit, 32);
  // The advertised prefix is on-link: its addresses are resolved directly.
  sent_.clear();
  ASSERT_TRUE(Ping(*wire::Ipv6Address::Parse("2001:db8:5::9")));
  EXPECT_EQ(Solicitations().size(), 1u);
  // Router Lifetime over: no default router any more.
  AdvanceBy(milliseconds(30'000));
  EXPECT_EQ(stack_->ipv6()->routers().default_router(), std::nullopt);
  EXPECT_FALSE(Ping(kOffLink));
}

TEST_F(NeighborDiscoveryTest, RouterAdvertisementSetsRetransTimer) {
  // RFC 4861 6.3.4: a non-zero Retrans Timer replaces ours; solicitations follow it.
  wire::RouterAdvertisementRepr repr = DefaultRouter(0);
  repr.retrans_timer_ms = 300;
  IngestPacket(RouterAdvertisement(kRouterLinkLocal, repr));
  ASSERT_TRUE(Ping(kPeerGlobal));
  AdvanceBy(milliseconds(300));
  EXPECT_EQ(Solicitations().size(), 2u);
  AdvanceBy(milliseconds(600));
  EXPECT_EQ(State(kPeerGlobal), std::nullopt) << "three solicitations 300 ms apart, then gone";
}

TEST_F(NeighborDiscoveryTest, RouterAdvertisementWithZeroLifetimeWithdrawsTheRouter) {
  IngestPacket(RouterAdvertisement(kRouterLinkLocal, DefaultRouter(1800)));
  ASSERT_TRUE(stack_->ipv6()->routers().default_router());
  IngestPacket(RouterAdvertisement(kRouterLinkLocal, DefaultRouter(0)));
  EXPECT_EQ(stack_->ipv6()->routers().default_router(), std::nullopt);
}

TEST_F(NeighborDiscoveryTest, RouterAdvertisementFromGlobalAddressIsInvalid) {
  // RFC 4861 6.1.2: a router advertisement comes from a link-local address.
  IngestPacket(RouterAdvertisement(kPeerGlobal, DefaultRouter(1800)));
  EXPECT_EQ(stack_->ipv6()->routers().default_router(), std::nullopt);
  EXPECT_EQ(Count(Counter::kDropNdpInvalid), 1u);
}

TEST_F(NeighborDiscoveryTest, ConfiguredGatewayIsUsedForOffLink) {
  StackConfig config = Config();
  config.interface.ipv6.gateway = kRouterLinkLocal;
  Start(config);
  ASSERT_TRUE(Ping(kOffLink));
  const std::vector<SentIpv6> sent = Solicitations();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(wire::NeighborSolicitationView::Parse(sent[0].upper)->target(), kRouterLinkLocal);
  EXPECT_EQ(sent[0].ip.src, kOurLinkLocal) << "RFC 6724: link-local to a link-local target";
}

}  // namespace
}  // namespace tapstack::testing
