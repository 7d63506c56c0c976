// ICMPv6 (RFC 4443): echo both ways, the error messages the stack sends, rate-limited, and the
// dispatch of Neighbor Discovery's messages to NeighborDiscovery.
#ifndef TAPSTACK_STACK_ICMPV6_H_
#define TAPSTACK_STACK_ICMPV6_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "stack/counters.h"
#include "stack/ipv6_addresses.h"
#include "stack/ipv6_output.h"
#include "stack/ndp.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/ipv6_address.h"
#include "timers/timer_queue.h"

namespace tapstack {

struct Icmpv6Config {
  // RFC 4443 2.4 (f): error messages leave through a token bucket of `error_burst` tokens, one
  // added every `error_interval`. Linux's defaults: net.ipv6.icmp.ratelimit 1 s, burst 6.
  int error_burst = 6;
  std::chrono::milliseconds error_interval{1'000};
};

struct Icmpv6EchoReply {
  wire::Ipv6Address from;
  std::uint16_t identifier;
  std::uint16_t sequence;
  std::size_t payload_len;
};

class Icmpv6 {
 public:
  Icmpv6(const Icmpv6Config& config, const Ipv6Addresses& addresses, Ipv6Output& ip,
         NeighborDiscovery& ndp, timers::TimerQueue& timers, Counters& counters);

  // Handles the ICMPv6 message `packet` carries (its upper-layer protocol is 58); the packet is
  // for us (Stack checked its destination).
  void Ingest(const wire::Ipv6View& packet);

  bool SendEchoRequest(const wire::Ipv6Address& destination, std::uint16_t identifier,
                       std::uint16_t sequence, std::span<const std::uint8_t> payload);

  // RFC 8200 4 and RFC 4443 3.4: a packet whose next header we do not know gets a Parameter
  // Problem, code 1, pointing at the next header field that named it. Not for a packet to a
  // multicast group or from an address one cannot answer (RFC 4443 2.4 (e)); rate-limited.
  void SendUnrecognizedNextHeader(const wire::Ipv6View& packet);

  void set_echo_reply_handler(std::function<void(const Icmpv6EchoReply&)> handler) {
    echo_reply_handler_ = std::move(handler);
  }

 private:
  // Takes a token from the error bucket; false (and counted) when it is empty.
  bool ErrorAllowed();

  Icmpv6Config config_;
  const Ipv6Addresses& addresses_;
  Ipv6Output& ip_;
  NeighborDiscovery& ndp_;
  timers::TimerQueue& timers_;
  Counters& counters_;
  std::function<void(const Icmpv6EchoReply&)> echo_reply_handler_;
  int error_tokens_;
  timers::TimePoint last_refill_;
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_ICMPV6_H_
