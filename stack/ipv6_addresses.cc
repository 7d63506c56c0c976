#include "stack/ipv6_addresses.h"

#include <array>
#include <chrono>

#include "stack/ipv6_frame.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ip_protocol.h"
#include "stack/wire/neighbor_discovery.h"

namespace tapstack {

Ipv6Addresses::Ipv6Addresses(const NdpConfig& config, const InterfaceConfig& interface,
                             EthernetOutput& output, timers::TimerQueue& timers, Counters& counters,
                             std::uint64_t seed)
    : config_(config), output_(output), timers_(timers), counters_(counters) {
  // RFC 4862 5.3: the link-local address, fe80::/64 and the interface identifier.
  addresses_.emplace_back(this, Ipv6Prefix{wire::LinkLocalFromMac(*interface.mac), 64});
  for (const Ipv6Prefix& configured : interface.ipv6.addresses) {
    if (Find(configured.address) == nullptr) addresses_.emplace_back(this, configured);
  }
  std::mt19937_64 rng(seed ^ 0x646164u);  // a stream of its own, as the IP identification's
  const auto max_delay_ms = static_cast<std::uint64_t>(config_.max_dad_delay.count());
  for (Address& address : addresses_) {
    if (config_.dad_transmits <= 0) {
      address.state = Ipv6AddressState::kPreferred;
      continue;
    }
    const std::uint64_t delay_ms = max_delay_ms == 0 ? 0 : rng() % max_delay_ms;
    timers_.ScheduleAfter(address.timer, std::chrono::milliseconds(delay_ms));
  }
}

const Ipv6Addresses::Address* Ipv6Addresses::Find(const wire::Ipv6Address& address) const {
  for (const Address& candidate : addresses_) {
    if (candidate.prefix.address == address) return &candidate;
  }
  return nullptr;
}

std::optional<Ipv6AddressState> Ipv6Addresses::State(const wire::Ipv6Address& address) const {
  const Address* found = Find(address);
  if (found == nullptr) return std::nullopt;
  return found->state;
}

bool Ipv6Addresses::AcceptsDestination(const wire::Ipv6Address& destination) const {
  if (!destination.IsMulticast()) return IsPreferred(destination);
  if (destination == wire::Ipv6Address::AllNodes()) return true;
  for (const Address& address : addresses_) {
    if (address.state != Ipv6AddressState::kDuplicate &&
        destination == wire::SolicitedNodeMulticast(address.prefix.address)) {
      return true;
    }
  }
  return false;
}

bool Ipv6Addresses::AcceptsMulticastMac(const wire::MacAddress& mac) const {
  if (mac == wire::Ipv6MulticastMac(wire::Ipv6Address::AllNodes())) return true;
  for (const Address& address : addresses_) {
    if (address.state != Ipv6AddressState::kDuplicate &&
        mac == wire::Ipv6MulticastMac(wire::SolicitedNodeMulticast(address.prefix.address))) {
      return true;
    }
  }
  return false;
}

std::optional<wire::Ipv6Address> Ipv6Addresses::SourceFor(
    const wire::Ipv6Address& destination) const {
  const Address& link_local = addresses_.front();
  const std::optional<wire::Ipv6Address> link_local_source =
      link_local.state == Ipv6AddressState::kPreferred
          ? std::optional<wire::Ipv6Address>(link_local.prefix.address)
          : std::nullopt;
  // RFC 6724 5 rule 2 (appropriate scope): link-local to link-local and to link-scope groups.
  if (destination.IsLinkLocalUnicast() || destination.IsMulticast()) return link_local_source;
  const Address* any_global = nullptr;
  for (std::size_t i = 1; i < addresses_.size(); ++i) {
    const Address& address = addresses_[i];
    if (address.state != Ipv6AddressState::kPreferred) continue;
    // Rule 8 (longest matching prefix), reduced to "on the destination's prefix first".
    if (destination.InSameSubnet(address.prefix.address, address.prefix.prefix_len)) {
      return address.prefix.address;
    }
    if (any_global == nullptr) any_global = &address;
  }
  if (any_global != nullptr) return any_global->prefix.address;
  return link_local_source;
}

bool Ipv6Addresses::OnConfiguredPrefix(const wire::Ipv6Address& destination) const {
  for (std::size_t i = 1; i < addresses_.size(); ++i) {
    const Ipv6Prefix& prefix = addresses_[i].prefix;
    if (destination.InSameSubnet(prefix.address, prefix.prefix_len)) return true;
  }
  return false;
}

bool Ipv6Addresses::settled() const {
  for (const Address& address : addresses_) {
    if (address.state == Ipv6AddressState::kTentative) return false;
  }
  return true;
}

void Ipv6Addresses::OnClaimedByOther(const wire::Ipv6Address& claimed) {
  for (Address& address : addresses_) {
    if (address.prefix.address != claimed) continue;
    if (address.state == Ipv6AddressState::kTentative) {
      address.state = Ipv6AddressState::kDuplicate;
      timers_.Cancel(address.timer);
      counters_.Increment(Counter::kNdpDadDuplicates);
    } else {
      counters_.Increment(Counter::kNdpAddressConflicts);
    }
    return;
  }
}

void Ipv6Addresses::SendDadProbe(const Address& address) {
  // RFC 4862 5.4.2: from the unspecified address to the solicited-node group, target the
  // tentative address, no source link-layer address option (RFC 4861 7.2.2 forbids one from ::).
  const wire::Ipv6Address group = wire::SolicitedNodeMulticast(address.prefix.address);
  const wire::NeighborSolicitationRepr solicitation{address.prefix.address, std::nullopt};
  wire::Ipv6Repr header;
  header.src = wire::Ipv6Address();
  header.dst = group;
  header.next_header = wire::IpProtocol::kIcmpv6;
  header.hop_limit = 255;  // RFC 4861 7.1.1
  SendIpv6Frame(output_, wire::Ipv6MulticastMac(group), header,
                wire::NeighborSolicitationLen(solicitation), [&](std::span<std::uint8_t> out) {
                  return wire::WriteNeighborSolicitation(solicitation, header.src, header.dst, out);
                });
  counters_.Increment(Counter::kTxNdpSolicitations);
}

void Ipv6Addresses::OnDadTimer(timers::Timer& timer) {
  Address& address = timers::OwnerOf<&Address::timer>(timer);
  Ipv6Addresses& table = *address.table;
  if (address.probes_sent < table.config_.dad_transmits) {
    table.SendDadProbe(address);
    ++address.probes_sent;
    table.timers_.ScheduleAfter(address.timer, table.config_.retrans_timer);
    return;
  }
  // RFC 4862 5.4: RetransTimer after the last probe without an answer, the address is unique.
  address.state = Ipv6AddressState::kPreferred;
}

}  // namespace tapstack
