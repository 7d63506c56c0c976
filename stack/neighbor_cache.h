// The IPv6 neighbour cache and neighbour unreachability detection (RFC 4861 7.3): IPv6's ARP
// cache, with the RFC's five states.
//
//   INCOMPLETE  resolving: a multicast solicitation every retrans_timer, max_multicast_solicit
//               of them, packets queued (bounded) meanwhile and dropped (counted) when it fails
//   REACHABLE   confirmed by a solicited advertisement, for a random 0.5 to 1.5 base_reachable_time
//   STALE       not confirmed lately, still used; the first packet sent moves it to DELAY
//   DELAY       waiting delay_first_probe_time for a confirmation before probing
//   PROBE       a unicast solicitation every retrans_timer, max_unicast_solicit of them, then the
//               entry is forgotten
//
// As in the ARP cache, each entry carries one timer on the stack's wheel, whose meaning is its
// state's: the retransmission in INCOMPLETE and PROBE, the end of REACHABLE or DELAY, the garbage
// collection of a STALE entry. Nothing scans the table.
#ifndef TAPSTACK_STACK_NEIGHBOR_CACHE_H_
#define TAPSTACK_STACK_NEIGHBOR_CACHE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "stack/counters.h"
#include "stack/ethernet_output.h"
#include "stack/ipv6_addresses.h"
#include "stack/ndp_config.h"
#include "stack/wire/bytes.h"
#include "stack/wire/ipv6_address.h"
#include "stack/wire/neighbor_discovery.h"
#include "timers/timer_queue.h"

namespace tapstack {

enum class NeighborState { kIncomplete, kReachable, kStale, kDelay, kProbe };

class NeighborCache {
 public:
  NeighborCache(const NdpConfig& config, const Ipv6Addresses& addresses, EthernetOutput& output,
                timers::TimerQueue& timers, Counters& counters, std::uint64_t seed);

  // Sends the IPv6 packet `write_packet` writes (`packet_length` bytes, header included) to the
  // on-link `next_hop`: at once when its MAC is known (a STALE entry goes to DELAY, RFC 4861
  // 7.3.3), queued otherwise while it resolves. False when the packet was not taken: no room in
  // the table or the queue (counted), or the writer wrote less than asked.
  bool SendIpv6(const wire::Ipv6Address& next_hop, std::size_t packet_length,
                PayloadWriter write_packet);

  // A solicitation, or a router advertisement, from `neighbor` carrying its link-layer address
  // (RFC 4861 7.2.3, 6.3.4): creates a STALE entry, or updates one whose MAC differs and makes it
  // STALE. An INCOMPLETE entry's queue is sent.
  void OnLinkLayerAddressFrom(const wire::Ipv6Address& neighbor, const wire::MacAddress& mac);
  // A neighbor advertisement for a target that is not ours (RFC 4861 7.2.5).
  void OnAdvertisement(const wire::NeighborAdvertisementRepr& advertisement);

  // Router advertisements may set both (RFC 4861 6.3.4); 0 leaves them as they are.
  void set_base_reachable_time(std::chrono::milliseconds time);
  void set_retrans_timer(std::chrono::milliseconds time);

  std::optional<NeighborState> State(const wire::Ipv6Address& neighbor) const;
  std::optional<wire::MacAddress> Lookup(const wire::Ipv6Address& neighbor) const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    explicit Entry(NeighborCache* cache) : cache(cache) {}
    NeighborCache* cache;
    wire::Ipv6Address address;
    std::optional<wire::MacAddress> mac;  // nullopt only while INCOMPLETE
    NeighborState state = NeighborState::kIncomplete;
    int solicitations_sent = 0;
    std::deque<std::vector<std::uint8_t>> pending;
    timers::Timer timer{&NeighborCache::OnEntryTimer};
  };

  static void OnEntryTimer(timers::Timer& timer);
  // Enters `state`, scheduling the timer that state runs on.
  void Enter(Entry& entry, NeighborState state);
  // Sets the MAC of an entry that had none and sends what waited for it, in order.
  void Resolve(Entry& entry, const wire::MacAddress& mac, NeighborState state);
  // RFC 4861 7.2.2: multicast to the solicited-node group while INCOMPLETE, unicast to the cached
  // MAC while probing, with our link-layer address; then waits retrans_timer.
  void SendSolicitation(Entry& entry);
  void Forget(Entry& entry);

  NdpConfig config_;
  const Ipv6Addresses& addresses_;
  EthernetOutput& output_;
  timers::TimerQueue& timers_;
  Counters& counters_;
  std::mt19937_64 rng_;  // ReachableTime's randomisation (RFC 4861 6.3.2)
  // node_hash_map: entries embed their timer, so they must not move when the table grows.
  absl::node_hash_map<wire::Ipv6Address, Entry> entries_;
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_NEIGHBOR_CACHE_H_
