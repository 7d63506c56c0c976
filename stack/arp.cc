#include "stack/arp.h"

#include <algorithm>
#include <array>
#include <utility>

#include "stack/wire/ethernet.h"

namespace tapstack {

ArpCache::ArpCache(const ArpConfig& config, const InterfaceConfig& interface,
                   EthernetOutput& output, timers::TimerQueue& timers, Counters& counters)
    : config_(config),
      interface_(interface),
      output_(output),
      timers_(timers),
      counters_(counters) {}

void ArpCache::Ingest(std::span<const std::uint8_t> arp_packet) {
  const wire::Parsed<wire::ArpView> view = wire::ArpView::Parse(arp_packet);
  if (!view.ok()) {
    counters_.Increment(Counter::kDropArpMalformed);
    return;
  }
  counters_.Increment(Counter::kRxArp);
  const wire::ArpRepr arp = view->Repr();
  const bool for_us = HasAddress(interface_, arp.target_ip);
  // RFC 826, "Packet Reception": update an entry we already have for the sender; add one only
  // when we are the target (the sender is about to talk to us).
  Learn(arp.sender_ip, arp.sender_mac, /*create=*/for_us);
  if (!for_us) {
    counters_.Increment(Counter::kDropArpNotForUs);
    return;
  }
  if (arp.op != wire::ArpOp::kRequest) return;
  const wire::ArpRepr reply{wire::ArpOp::kReply, output_.source(), arp.target_ip, arp.sender_mac,
                            arp.sender_ip};
  std::array<std::uint8_t, wire::kArpPacketLen> packet{};
  wire::WriteArp(reply, packet);
  output_.Send(arp.sender_mac, wire::EtherType::kArp, packet);
  counters_.Increment(Counter::kTxArpReplies);
}

void ArpCache::Learn(wire::Ipv4Address address, const wire::MacAddress& mac, bool create) {
  if (mac.IsMulticast() || address == wire::Ipv4Address()) return;  // never cache nonsense
  auto it = entries_.find(address);
  if (it == entries_.end()) {
    if (!create || entries_.size() >= config_.max_entries) return;
    it = entries_.try_emplace(address, this).first;
    it->second.address = address;
  }
  Entry& entry = it->second;
  entry.mac = mac;
  entry.stale = false;
  entry.requests_sent = 0;
  timers_.ScheduleAfter(entry.timer, config_.entry_lifetime);
  // Flush what waited for this resolution, in order.
  while (!entry.pending.empty()) {
    const Entry::PendingPacket& packet = entry.pending.front();
    output_.Send(
        mac, wire::EtherType::kIpv4, packet.bytes.size(),
        [&packet](std::span<std::uint8_t> out) {
          std::copy(packet.bytes.begin(), packet.bytes.end(), out.begin());
          return packet.bytes.size();
        },
        packet.offload);
    entry.pending.pop_front();
  }
}

void ArpCache::SendIpv4(wire::Ipv4Address next_hop, std::span<const std::uint8_t> ip_packet) {
  SendIpv4(next_hop, ip_packet.size(), [ip_packet](std::span<std::uint8_t> out) {
    std::copy(ip_packet.begin(), ip_packet.end(), out.begin());
    return ip_packet.size();
  });
}

bool ArpCache::SendIpv4(wire::Ipv4Address next_hop, std::size_t packet_length,
                        PayloadWriter write_packet, const TxOffload& offload) {
  // Nearly every packet goes to the neighbour the last one went to (one peer, or the gateway):
  // that entry is remembered so the common case skips hashing and the node table.
  if (last_resolved_ != nullptr && last_resolved_->address == next_hop) {
    return output_.Send(*last_resolved_->mac, wire::EtherType::kIpv4, packet_length, write_packet,
                        offload);
  }
  auto it = entries_.find(next_hop);
  if (it != entries_.end() && it->second.mac) {
    last_resolved_ = &it->second;
    return output_.Send(*it->second.mac, wire::EtherType::kIpv4, packet_length, write_packet,
                        offload);
  }
  if (it == entries_.end()) {
    if (entries_.size() >= config_.max_entries) {
      counters_.Increment(Counter::kDropArpTableFull);
      return false;
    }
    it = entries_.try_emplace(next_hop, this).first;
    it->second.address = next_hop;
    SendRequest(it->second);
  }
  Entry& entry = it->second;
  if (entry.pending.size() >= config_.max_pending_packets) {
    counters_.Increment(Counter::kDropArpQueueFull);
    return false;
  }
  Entry::PendingPacket& packet = entry.pending.emplace_back();
  packet.bytes.resize(packet_length);
  packet.offload = offload;
  if (write_packet(packet.bytes) != packet_length) {
    entry.pending.pop_back();
    return false;
  }
  return true;
}

std::optional<wire::MacAddress> ArpCache::Lookup(wire::Ipv4Address address) const {
  const auto it = entries_.find(address);
  if (it == entries_.end()) return std::nullopt;
  return it->second.mac;
}

void ArpCache::SendRequest(Entry& entry) {
  const wire::ArpRepr request{wire::ArpOp::kRequest, output_.source(), interface_.address,
                              wire::MacAddress(), entry.address};
  std::array<std::uint8_t, wire::kArpPacketLen> packet{};
  wire::WriteArp(request, packet);
  output_.Send(wire::MacAddress::Broadcast(), wire::EtherType::kArp, packet);
  counters_.Increment(Counter::kTxArpRequests);
  ++entry.requests_sent;
  timers_.ScheduleAfter(entry.timer, config_.retry_interval);
}

void ArpCache::OnEntryTimer(timers::Timer& timer) {
  Entry& entry = timers::OwnerOf<&Entry::timer>(timer);
  ArpCache& cache = *entry.cache;
  if (entry.mac && !entry.stale) {
    entry.stale = true;  // lifetime over: keep using it while asking again
    entry.requests_sent = 0;
  }
  if (entry.requests_sent < cache.config_.max_requests) {
    cache.SendRequest(entry);
    return;
  }
  // Resolution or confirmation failed (RFC 1122 2.3.2.2: drop what was queued).
  cache.counters_.Increment(Counter::kDropArpUnresolved, entry.pending.size());
  if (cache.last_resolved_ == &entry) cache.last_resolved_ = nullptr;
  cache.entries_.erase(entry.address);  // destroys the entry and its timer; allowed in a callback
}

}  // namespace tapstack
