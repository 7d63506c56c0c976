#include "stack/ndp.h"

#include "stack/wire/ip_protocol.h"
#include "stack/wire/neighbor_discovery.h"
#include "stack/wire/router_advertisement.h"

namespace tapstack {

namespace {
// RFC 4861 7.1.1, 7.1.2, 6.1.2: sent with 255, received with 255, so never from off the link.
constexpr std::uint8_t kNdHopLimit = 255;
}  // namespace

NeighborDiscovery::NeighborDiscovery(Ipv6Addresses& addresses, NeighborCache& neighbors,
                                     RouterDiscovery& routers, Ipv6Output& ip,
                                     const wire::MacAddress& mac, Counters& counters)
    : addresses_(addresses),
      neighbors_(neighbors),
      routers_(routers),
      ip_(ip),
      mac_(mac),
      counters_(counters) {}

void NeighborDiscovery::Ingest(const wire::Ipv6View& packet, const wire::Icmpv6View& message) {
  if (packet.hop_limit() != kNdHopLimit || message.code() != 0) {
    Invalid();
    return;
  }
  switch (message.type()) {
    case wire::Icmpv6Type::kNeighborSolicitation:
      OnSolicitation(packet, message);
      return;
    case wire::Icmpv6Type::kNeighborAdvertisement:
      OnNeighborAdvertisement(packet, message);
      return;
    case wire::Icmpv6Type::kRouterAdvertisement:
      OnRouterAdvertisement(packet, message);
      return;
    default:
      Invalid();
      return;
  }
}

void NeighborDiscovery::OnSolicitation(const wire::Ipv6View& packet,
                                       const wire::Icmpv6View& message) {
  const wire::Parsed<wire::NeighborSolicitationView> view =
      wire::NeighborSolicitationView::Parse(message.bytes());
  if (!view.ok()) {
    Invalid();
    return;
  }
  const wire::NeighborSolicitationRepr solicitation = view->Repr();
  const bool from_unspecified = packet.src().IsUnspecified();
  // RFC 4861 7.1.1: the target is never a group; a DAD probe (from ::) goes to a solicited-node
  // group and carries no link-layer address.
  if (solicitation.target.IsMulticast() ||
      (from_unspecified && (packet.dst() != wire::SolicitedNodeMulticast(solicitation.target) ||
                            solicitation.source_link_layer_address))) {
    Invalid();
    return;
  }
  counters_.Increment(Counter::kRxNdp);
  const std::optional<Ipv6AddressState> state = addresses_.State(solicitation.target);
  if (state == Ipv6AddressState::kTentative && from_unspecified) {
    // RFC 4862 5.4.3: another node is probing the address we are probing: it is a duplicate.
    addresses_.OnClaimedByOther(solicitation.target);
    return;
  }
  // RFC 4862 5.4.3: a solicitation from a unicast address for a tentative one is ignored, as is
  // one for an address not ours (a solicited-node group is shared by many).
  if (state != Ipv6AddressState::kPreferred) {
    counters_.Increment(Counter::kDropNdpNotForUs);
    return;
  }
  // RFC 4861 7.2.3: learn the solicitor's link-layer address.
  if (!from_unspecified && solicitation.source_link_layer_address) {
    neighbors_.OnLinkLayerAddressFrom(packet.src(), *solicitation.source_link_layer_address);
  }
  // RFC 4861 7.2.4: answer from the target, solicited and override set, our link-layer address
  // included; to all-nodes, unsolicited, when the solicitor has no address yet (it runs DAD).
  wire::NeighborAdvertisementRepr advertisement;
  advertisement.solicited = !from_unspecified;
  advertisement.override_flag = true;
  advertisement.target = solicitation.target;
  advertisement.target_link_layer_address = mac_;
  const wire::Ipv6Address destination =
      from_unspecified ? wire::Ipv6Address::AllNodes() : packet.src();
  if (ip_.Send(
          solicitation.target, destination, wire::IpProtocol::kIcmpv6,
          wire::NeighborAdvertisementLen(advertisement),
          [&](std::span<std::uint8_t> out) {
            return wire::WriteNeighborAdvertisement(advertisement, solicitation.target, destination,
                                                    out);
          },
          kNdHopLimit)) {
    counters_.Increment(Counter::kTxNdpAdvertisements);
  }
}

void NeighborDiscovery::OnNeighborAdvertisement(const wire::Ipv6View& packet,
                                                const wire::Icmpv6View& message) {
  const wire::Parsed<wire::NeighborAdvertisementView> view =
      wire::NeighborAdvertisementView::Parse(message.bytes());
  if (!view.ok()) {
    Invalid();
    return;
  }
  const wire::NeighborAdvertisementRepr advertisement = view->Repr();
  // RFC 4861 7.1.2: the target is never a group, and an advertisement to a group is unsolicited.
  if (advertisement.target.IsMulticast() ||
      (packet.dst().IsMulticast() && advertisement.solicited)) {
    Invalid();
    return;
  }
  counters_.Increment(Counter::kRxNdp);
  const std::optional<Ipv6AddressState> state = addresses_.State(advertisement.target);
  if (state) {
    // RFC 4862 5.4.4: another node answers for an address of ours.
    if (state != Ipv6AddressState::kDuplicate) addresses_.OnClaimedByOther(advertisement.target);
    return;
  }
  neighbors_.OnAdvertisement(advertisement);
}

void NeighborDiscovery::OnRouterAdvertisement(const wire::Ipv6View& packet,
                                              const wire::Icmpv6View& message) {
  // RFC 4861 6.1.2: from a link-local address (routers are known by it, 6.3.4).
  if (!packet.src().IsLinkLocalUnicast()) {
    Invalid();
    return;
  }
  const wire::Parsed<wire::RouterAdvertisementView> view =
      wire::RouterAdvertisementView::Parse(message.bytes());
  if (!view.ok()) {
    Invalid();
    return;
  }
  counters_.Increment(Counter::kRxNdp);
  counters_.Increment(Counter::kRxRouterAdvertisements);
  const wire::RouterAdvertisementRepr& advertisement = view->Repr();
  routers_.OnAdvertisement(packet.src(), advertisement);
  // RFC 4861 6.3.4: non-zero Reachable Time and Retrans Timer replace ours.
  neighbors_.set_base_reachable_time(std::chrono::milliseconds(advertisement.reachable_time_ms));
  neighbors_.set_retrans_timer(std::chrono::milliseconds(advertisement.retrans_timer_ms));
  if (advertisement.source_link_layer_address) {
    neighbors_.OnLinkLayerAddressFrom(packet.src(), *advertisement.source_link_layer_address);
  }
}

}  // namespace tapstack
