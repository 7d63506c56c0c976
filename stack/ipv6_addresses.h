// The interface's own IPv6 addresses and duplicate address detection (RFC 4862 5.4).
//
// Every address, the link-local one derived from the MAC and each configured one, starts
// tentative: it receives nothing but Neighbor Discovery and is the source of nothing, while
// dad_transmits solicitations from the unspecified address ask whether another node holds it.
// Each address carries one timer on the stack's wheel, the next DAD step: the first solicitation
// after a random delay, then one every retrans_timer, then the address becomes preferred. A
// solicitation from another node doing DAD for it, or an advertisement for it, marks it duplicate
// for good (RFC 4862 5.4.5: it is not used, and nothing retries).
#ifndef TAPSTACK_STACK_IPV6_ADDRESSES_H_
#define TAPSTACK_STACK_IPV6_ADDRESSES_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <random>

#include "stack/counters.h"
#include "stack/ethernet_output.h"
#include "stack/interface.h"
#include "stack/ndp_config.h"
#include "stack/wire/bytes.h"
#include "stack/wire/ipv6_address.h"
#include "timers/timer_queue.h"

namespace tapstack {

enum class Ipv6AddressState { kTentative, kPreferred, kDuplicate };

class Ipv6Addresses {
 public:
  // `interface` has its MAC resolved. With dad_transmits 0 every address is preferred at once;
  // otherwise the first DAD step is scheduled (nothing is sent from the constructor).
  Ipv6Addresses(const NdpConfig& config, const InterfaceConfig& interface, EthernetOutput& output,
                timers::TimerQueue& timers, Counters& counters, std::uint64_t seed);

  Ipv6Addresses(const Ipv6Addresses&) = delete;
  Ipv6Addresses& operator=(const Ipv6Addresses&) = delete;

  // nullopt when `address` is not one of ours.
  std::optional<Ipv6AddressState> State(const wire::Ipv6Address& address) const;
  bool IsPreferred(const wire::Ipv6Address& address) const {
    return State(address) == Ipv6AddressState::kPreferred;
  }
  // True for what the interface receives (RFC 4291 2.8): its preferred unicast addresses, the
  // all-nodes group and the solicited-node group of each address, tentative ones included (RFC
  // 4862 5.4.2: so that another node's DAD probe for the same address is heard).
  bool AcceptsDestination(const wire::Ipv6Address& destination) const;
  // The same test for the Ethernet destination of a multicast frame (RFC 2464 7).
  bool AcceptsMulticastMac(const wire::MacAddress& mac) const;

  // The source for a packet to `destination` (RFC 6724 5, reduced to what one interface needs):
  // the link-local address for a link-local or multicast destination, otherwise a preferred
  // global address, one whose prefix holds the destination first, otherwise the link-local one.
  // nullopt while no suitable address is preferred.
  std::optional<wire::Ipv6Address> SourceFor(const wire::Ipv6Address& destination) const;
  // True when `destination` is on the prefix of one of the configured addresses.
  bool OnConfiguredPrefix(const wire::Ipv6Address& destination) const;

  const wire::Ipv6Address& link_local() const { return addresses_.front().prefix.address; }
  // True once every address has left tentative (preferred or duplicate).
  bool settled() const;

  // RFC 4862 5.4.3 and 5.4.4: another node claims `address`. Marks it duplicate when tentative
  // (and counts it); a preferred address is kept (counted as a conflict, as Linux logs it).
  void OnClaimedByOther(const wire::Ipv6Address& address);

 private:
  struct Address {
    explicit Address(Ipv6Addresses* table, Ipv6Prefix prefix) : table(table), prefix(prefix) {}
    Ipv6Addresses* table;
    Ipv6Prefix prefix;
    Ipv6AddressState state = Ipv6AddressState::kTentative;
    int probes_sent = 0;
    timers::Timer timer{&Ipv6Addresses::OnDadTimer};
  };

  static void OnDadTimer(timers::Timer& timer);
  void SendDadProbe(const Address& address);
  const Address* Find(const wire::Ipv6Address& address) const;

  NdpConfig config_;
  EthernetOutput& output_;
  timers::TimerQueue& timers_;
  Counters& counters_;
  // The link-local address first. A deque: addresses embed their timer and never move.
  std::deque<Address> addresses_;
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_IPV6_ADDRESSES_H_
