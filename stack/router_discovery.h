// What a host keeps from router advertisements (RFC 4861 6.3.4): a default router and the
// on-link prefixes, each for its advertised lifetime, and the hop limit to send with.
//
// One default router is kept, the last to advertise itself with a non-zero lifetime (RFC 4861
// 6.3.6 lets a host pick any reachable one; a link with one router, the case here, needs no
// more). Each lifetime is a timer on the stack's wheel, rearmed by every advertisement; when it
// fires the router or prefix is forgotten.
#ifndef TAPSTACK_STACK_ROUTER_DISCOVERY_H_
#define TAPSTACK_STACK_ROUTER_DISCOVERY_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>

#include "stack/wire/ipv6_address.h"
#include "stack/wire/router_advertisement.h"
#include "timers/timer_queue.h"

namespace tapstack {

class RouterDiscovery {
 public:
  explicit RouterDiscovery(timers::TimerQueue& timers) : timers_(timers) {}

  RouterDiscovery(const RouterDiscovery&) = delete;
  RouterDiscovery& operator=(const RouterDiscovery&) = delete;

  // A valid advertisement (RFC 4861 6.1.2, checked by the caller) from the link-local `router`.
  void OnAdvertisement(const wire::Ipv6Address& router,
                       const wire::RouterAdvertisementRepr& advertisement);

  std::optional<wire::Ipv6Address> default_router() const { return router_; }
  // True when `destination` is on a prefix advertised on-link.
  bool OnLink(const wire::Ipv6Address& destination) const;
  // The hop limit of what we send: the advertised one, 64 until one is (RFC 4861 6.3.2 and Linux).
  std::uint8_t hop_limit() const { return hop_limit_; }

 private:
  static constexpr std::size_t kMaxPrefixes = 16;

  struct Prefix {
    explicit Prefix(RouterDiscovery* discovery) : discovery(discovery) {}
    RouterDiscovery* discovery;
    wire::Ipv6Address prefix;
    int prefix_len = 0;
    timers::Timer timer{&RouterDiscovery::OnPrefixExpired};
  };

  static void OnRouterExpired(timers::Timer& timer);
  static void OnPrefixExpired(timers::Timer& timer);
  void OnPrefix(const wire::NdPrefixInformation& information);

  timers::TimerQueue& timers_;
  std::optional<wire::Ipv6Address> router_;
  timers::Timer router_timer_{&RouterDiscovery::OnRouterExpired};  // the router's lifetime
  // A list: prefixes embed their timer and never move.
  std::list<Prefix> prefixes_;
  std::uint8_t hop_limit_ = 64;
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_ROUTER_DISCOVERY_H_
