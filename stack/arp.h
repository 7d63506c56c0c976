// ARP for IPv4 over Ethernet (RFC 826): answers requests for our address and resolves next hops,
// holding a bounded number of packets per neighbour while a resolution is under way.
//
// Each neighbour entry carries one timer on the stack's wheel: while resolving it is the retry
// timer (a new request every retry_interval, up to max_requests, then the queued packets are
// dropped and counted); once resolved it is the expiry timer. An expired entry goes stale, as in
// Linux: it is still used while it is confirmed again with fresh requests, and only forgotten when
// max_requests of them go unanswered. Traffic thus never stalls on a periodic re-resolution.
#ifndef TAPSTACK_STACK_ARP_H_
#define TAPSTACK_STACK_ARP_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "stack/counters.h"
#include "stack/ethernet_output.h"
#include "stack/interface.h"
#include "stack/wire/arp.h"
#include "stack/wire/bytes.h"
#include "timers/timer_queue.h"

namespace tapstack {

struct ArpConfig {
  std::chrono::milliseconds entry_lifetime{60'000};
  std::chrono::milliseconds retry_interval{1'000};
  int max_requests = 3;
  std::size_t max_pending_packets = 16;  // per unresolved neighbour
  std::size_t max_entries = 1024;
};

class ArpCache {
 public:
  ArpCache(const ArpConfig& config, const InterfaceConfig& interface, EthernetOutput& output,
           timers::TimerQueue& timers, Counters& counters);

  // Handles a received ARP packet: learns the sender (RFC 826 "merge"), answers requests for us.
  void Ingest(std::span<const std::uint8_t> arp_packet);

  // Sends an IPv4 packet to the on-link `next_hop`: at once when its MAC is known, otherwise after
  // resolution (queued, bounded; dropped and counted when resolution fails).
  void SendIpv4(wire::Ipv4Address next_hop, std::span<const std::uint8_t> ip_packet);

  // The same, with the packet written by `write_packet` (`packet_length` bytes): straight into the
  // outgoing frame when the MAC is known, into a queued buffer of its own otherwise (the rare case,
  // and the only one that copies). Returns false when the packet was not taken: no room in the
  // table or the queue (counted), or the writer wrote less than asked. `offload` goes with the
  // frame, queued or not.
  bool SendIpv4(wire::Ipv4Address next_hop, std::size_t packet_length, PayloadWriter write_packet,
                const TxOffload& offload = {});

  std::optional<wire::MacAddress> Lookup(wire::Ipv4Address address) const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    explicit Entry(ArpCache* cache) : cache(cache) {}
    ArpCache* cache;
    wire::Ipv4Address address;
    std::optional<wire::MacAddress> mac;  // nullopt while resolving
    bool stale = false;                   // lifetime over; being confirmed again
    int requests_sent = 0;
    struct PendingPacket {
      std::vector<std::uint8_t> bytes;
      TxOffload offload;
    };
    std::deque<PendingPacket> pending;
    timers::Timer timer{&ArpCache::OnEntryTimer};
  };

  static void OnEntryTimer(timers::Timer& timer);
  void Learn(wire::Ipv4Address address, const wire::MacAddress& mac, bool create);
  void SendRequest(Entry& entry);

  ArpConfig config_;
  const InterfaceConfig& interface_;
  EthernetOutput& output_;
  timers::TimerQueue& timers_;
  Counters& counters_;
  // node_hash_map: entries embed their timer, so they must not move when the table grows.
  absl::node_hash_map<wire::Ipv4Address, Entry> entries_;
  // The entry the last packet was sent through, while it has a MAC (an entry keeps its MAC until
  // it is erased: a stale one is still used while being confirmed). Cleared when it is erased.
  Entry* last_resolved_ = nullptr;
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_ARP_H_
