#include "stack/router_discovery.h"

#include <chrono>

namespace tapstack {

namespace {
constexpr std::uint32_t kInfiniteLifetime = 0xffffffff;  // RFC 4861 4.6.2
}  // namespace

void RouterDiscovery::OnAdvertisement(const wire::Ipv6Address& router,
                                      const wire::RouterAdvertisementRepr& advertisement) {
  // RFC 4861 6.3.4: a non-zero Cur Hop Limit replaces ours.
  if (advertisement.cur_hop_limit != 0) hop_limit_ = advertisement.cur_hop_limit;
  // A zero Router Lifetime says the sender is not (any more) a default router.
  if (advertisement.router_lifetime_s == 0) {
    if (router_ == router) {
      router_.reset();
      timers_.Cancel(router_timer_);
    }
  } else {
    router_ = router;
    timers_.ScheduleAfter(router_timer_, std::chrono::seconds(advertisement.router_lifetime_s));
  }
  for (const wire::NdPrefixInformation& information : advertisement.prefixes) {
    OnPrefix(information);
  }
}

void RouterDiscovery::OnPrefix(const wire::NdPrefixInformation& information) {
  // RFC 4861 6.3.4: only prefixes with the on-link flag; the link-local prefix is ignored.
  if (!information.on_link || information.prefix.IsLinkLocalUnicast() ||
      information.prefix_len > 128) {
    return;
  }
  auto it = prefixes_.begin();
  while (it != prefixes_.end() &&
         !(it->prefix_len == information.prefix_len &&
           it->prefix.InSameSubnet(information.prefix, information.prefix_len))) {
    ++it;
  }
  if (information.valid_lifetime_s == 0) {
    // A zero valid lifetime times the prefix out at once.
    if (it != prefixes_.end()) {
      timers_.Cancel(it->timer);
      prefixes_.erase(it);
    }
    return;
  }
  if (it == prefixes_.end()) {
    if (prefixes_.size() >= kMaxPrefixes) return;
    it = prefixes_.emplace(prefixes_.end(), this);
    it->prefix = information.prefix;
    it->prefix_len = information.prefix_len;
  }
  if (information.valid_lifetime_s == kInfiniteLifetime) {
    timers_.Cancel(it->timer);
  } else {
    timers_.ScheduleAfter(it->timer, std::chrono::seconds(information.valid_lifetime_s));
  }
}

bool RouterDiscovery::OnLink(const wire::Ipv6Address& destination) const {
  for (const Prefix& prefix : prefixes_) {
    if (destination.InSameSubnet(prefix.prefix, prefix.prefix_len)) return true;
  }
  return false;
}

void RouterDiscovery::OnRouterExpired(timers::Timer& timer) {
  RouterDiscovery& discovery = timers::OwnerOf<&RouterDiscovery::router_timer_>(timer);
  discovery.router_.reset();
}

void RouterDiscovery::OnPrefixExpired(timers::Timer& timer) {
  Prefix& expired = timers::OwnerOf<&Prefix::timer>(timer);
  RouterDiscovery& discovery = *expired.discovery;
  discovery.prefixes_.remove_if([&](const Prefix& prefix) { return &prefix == &expired; });
}

}  // namespace tapstack
