#include "stack/neighbor_cache.h"

#include <chrono>
#include <utility>

#include "stack/ipv6_frame.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ip_protocol.h"

namespace tapstack {

NeighborCache::NeighborCache(const NdpConfig& config, const Ipv6Addresses& addresses,
                             EthernetOutput& output, timers::TimerQueue& timers, Counters& counters,
                             std::uint64_t seed)
    : config_(config),
      addresses_(addresses),
      output_(output),
      timers_(timers),
      counters_(counters),
      rng_(seed ^ 0x6e756400u) {}

void NeighborCache::Enter(Entry& entry, NeighborState state) {
  entry.state = state;
  switch (state) {
    case NeighborState::kIncomplete:
    case NeighborState::kProbe:
      entry.solicitations_sent = 0;
      SendSolicitation(entry);
      return;
    case NeighborState::kReachable: {
      // RFC 4861 6.3.2: uniformly between 0.5 and 1.5 times BaseReachableTime.
      const auto base_ms = static_cast<std::uint64_t>(config_.base_reachable_time.count());
      const std::uint64_t jitter_ms = base_ms == 0 ? 0 : rng_() % (base_ms + 1);
      timers_.ScheduleAfter(entry.timer, std::chrono::milliseconds(base_ms / 2 + jitter_ms));
      return;
    }
    case NeighborState::kStale:
      timers_.ScheduleAfter(entry.timer, config_.stale_lifetime);
      return;
    case NeighborState::kDelay:
      timers_.ScheduleAfter(entry.timer, config_.delay_first_probe_time);
      return;
  }
}

void NeighborCache::Resolve(Entry& entry, const wire::MacAddress& mac, NeighborState state) {
  entry.mac = mac;
  // RFC 4861 7.3.3: what waited is sent now, and sending to a STALE neighbour starts DELAY.
  if (state == NeighborState::kStale && !entry.pending.empty()) state = NeighborState::kDelay;
  Enter(entry, state);
  while (!entry.pending.empty()) {
    output_.Send(mac, wire::EtherType::kIpv6, entry.pending.front());
    entry.pending.pop_front();
  }
}

bool NeighborCache::SendIpv6(const wire::Ipv6Address& next_hop, std::size_t packet_length,
                             PayloadWriter write_packet) {
  auto it = entries_.find(next_hop);
  if (it != entries_.end() && it->second.mac) {
    Entry& entry = it->second;
    // RFC 4861 7.3.3: sending to a STALE neighbour starts the DELAY before probing it.
    if (entry.state == NeighborState::kStale) Enter(entry, NeighborState::kDelay);
    return output_.Send(*entry.mac, wire::EtherType::kIpv6, packet_length, write_packet);
  }
  if (it == entries_.end()) {
    if (entries_.size() >= config_.max_entries) {
      counters_.Increment(Counter::kDropNdpTableFull);
      return false;
    }
    it = entries_.try_emplace(next_hop, this).first;
    it->second.address = next_hop;
    // RFC 4861 7.2.2: a new INCOMPLETE entry and a multicast solicitation.
    Enter(it->second, NeighborState::kIncomplete);
  }
  Entry& entry = it->second;
  if (entry.pending.size() >= config_.max_pending_packets) {
    counters_.Increment(Counter::kDropNdpQueueFull);
    return false;
  }
  std::vector<std::uint8_t>& packet = entry.pending.emplace_back(packet_length);
  if (write_packet(packet) != packet_length) {
    entry.pending.pop_back();
    return false;
  }
  return true;
}

void NeighborCache::OnLinkLayerAddressFrom(const wire::Ipv6Address& neighbor,
                                           const wire::MacAddress& mac) {
  if (mac.IsMulticast() || neighbor.IsUnspecified() || neighbor.IsMulticast()) return;
  auto it = entries_.find(neighbor);
  if (it == entries_.end()) {
    if (entries_.size() >= config_.max_entries) return;  // learning is optional (RFC 4861 7.2.3)
    it = entries_.try_emplace(neighbor, this).first;
    it->second.address = neighbor;
    it->second.mac = mac;
    Enter(it->second, NeighborState::kStale);
    return;
  }
  Entry& entry = it->second;
  // RFC 4861 7.2.3: INCOMPLETE gets the address and goes STALE; a different address replaces the
  // cached one and makes the entry STALE; the same address changes nothing.
  if (!entry.mac) {
    Resolve(entry, mac, NeighborState::kStale);
  } else if (*entry.mac != mac) {
    entry.mac = mac;
    Enter(entry, NeighborState::kStale);
  }
}

void NeighborCache::OnAdvertisement(const wire::NeighborAdvertisementRepr& advertisement) {
  auto it = entries_.find(advertisement.target);
  if (it == entries_.end()) return;  // RFC 4861 7.2.5: no entry, silently discarded
  Entry& entry = it->second;
  const std::optional<wire::MacAddress>& target_mac = advertisement.target_link_layer_address;
  if (!entry.mac) {
    // RFC 4861 7.2.5, INCOMPLETE: without a target link-layer address there is nothing to use.
    if (!target_mac || target_mac->IsMulticast()) return;
    Resolve(entry, *target_mac,
            advertisement.solicited ? NeighborState::kReachable : NeighborState::kStale);
    return;
  }
  const bool different = target_mac && *target_mac != *entry.mac;
  if (!advertisement.override_flag && different) {
    // RFC 4861 7.2.5: no override and a different address: a REACHABLE entry goes STALE (its
    // address is in doubt) and keeps its address; nothing else changes.
    if (entry.state == NeighborState::kReachable) Enter(entry, NeighborState::kStale);
    return;
  }
  if (different) entry.mac = *target_mac;
  if (advertisement.solicited) {
    Enter(entry, NeighborState::kReachable);
  } else if (different) {
    Enter(entry, NeighborState::kStale);
  }
}

void NeighborCache::set_base_reachable_time(std::chrono::milliseconds time) {
  if (time.count() > 0) config_.base_reachable_time = time;
}

void NeighborCache::set_retrans_timer(std::chrono::milliseconds time) {
  if (time.count() > 0) config_.retrans_timer = time;
}

std::optional<NeighborState> NeighborCache::State(const wire::Ipv6Address& neighbor) const {
  const auto it = entries_.find(neighbor);
  if (it == entries_.end()) return std::nullopt;
  return it->second.state;
}

std::optional<wire::MacAddress> NeighborCache::Lookup(const wire::Ipv6Address& neighbor) const {
  const auto it = entries_.find(neighbor);
  if (it == entries_.end()) return std::nullopt;
  return it->second.mac;
}

void NeighborCache::SendSolicitation(Entry& entry) {
  // Counted as an attempt even when no address of ours may send it yet (all tentative), so that
  // resolution still ends after max_*_solicit intervals.
  ++entry.solicitations_sent;
  timers_.ScheduleAfter(entry.timer, config_.retrans_timer);
  const std::optional<wire::Ipv6Address> source = addresses_.SourceFor(entry.address);
  if (!source) return;
  const bool probing = entry.state == NeighborState::kProbe;
  const wire::Ipv6Address destination =
      probing ? entry.address : wire::SolicitedNodeMulticast(entry.address);
  const wire::MacAddress mac = probing ? *entry.mac : wire::Ipv6MulticastMac(destination);
  const wire::NeighborSolicitationRepr solicitation{entry.address, output_.source()};
  wire::Ipv6Repr header;
  header.src = *source;
  header.dst = destination;
  header.next_header = wire::IpProtocol::kIcmpv6;
  header.hop_limit = 255;  // RFC 4861 7.1.1
  SendIpv6Frame(output_, mac, header, wire::NeighborSolicitationLen(solicitation),
                [&](std::span<std::uint8_t> out) {
                  return wire::WriteNeighborSolicitation(solicitation, header.src, header.dst, out);
                });
  counters_.Increment(Counter::kTxNdpSolicitations);
}

void NeighborCache::Forget(Entry& entry) {
  // RFC 4861 7.3.3: resolution failed; what waited for it is dropped (and counted).
  counters_.Increment(Counter::kDropNdpUnresolved, entry.pending.size());
  entries_.erase(entry.address);  // destroys the entry and its timer; allowed in a callback
}

void NeighborCache::OnEntryTimer(timers::Timer& timer) {
  Entry& entry = timers::OwnerOf<&Entry::timer>(timer);
  NeighborCache& cache = *entry.cache;
  switch (entry.state) {
    case NeighborState::kIncomplete:
    case NeighborState::kProbe: {
      const int limit = entry.state == NeighborState::kIncomplete
                            ? cache.config_.max_multicast_solicit
                            : cache.config_.max_unicast_solicit;
      if (entry.solicitations_sent < limit) {
        cache.SendSolicitation(entry);
        return;
      }
      cache.Forget(entry);
      return;
    }
    case NeighborState::kReachable:
      // RFC 4861 7.3.3: ReachableTime without a confirmation.
      cache.Enter(entry, NeighborState::kStale);
      return;
    case NeighborState::kDelay:
      // RFC 4861 7.3.3: DELAY_FIRST_PROBE_TIME without a confirmation: probe.
      cache.Enter(entry, NeighborState::kProbe);
      return;
    case NeighborState::kStale:
      cache.Forget(entry);
      return;
  }
}

}  // namespace tapstack
