// Initial sequence numbers per RFC 6528 (RFC 9293 3.4.1): ISN = M + F(4-tuple, secret), where M is
// a clock that ticks every 4 microseconds and F a keyed pseudorandom function of the connection's
// addresses and ports. The clock keeps successive incarnations of one 4-tuple moving forward; the
// secret keeps an off-path attacker from predicting any connection's ISN.
#ifndef TAPSTACK_STACK_TCP_ISN_H_
#define TAPSTACK_STACK_TCP_ISN_H_

#include <array>
#include <chrono>
#include <cstdint>

#include "stack/tcp/seq.h"
#include "stack/wire/ipv6_address.h"

namespace tapstack::tcp {

using Duration = std::chrono::steady_clock::duration;

class IsnGenerator {
 public:
  // RFC 6528 3: M advances once every 4 microseconds, 250,000 times per second.
  static constexpr std::chrono::microseconds kTick{4};

  // `secret` is F's key: RFC 6528 3 asks for a random value, generated at boot (here: when the
  // stack is created), and not disclosed.
  explicit IsnGenerator(std::array<std::uint8_t, 16> secret) : secret_(secret) {}

  // The ISN for a connection from local_address:local_port to remote_address:remote_port,
  // `since_origin` after the stack's time origin (any fixed point, e.g. stack creation; never
  // negative). An IPv4 connection passes its addresses IPv4-mapped (wire::Ipv4MappedAddress), so
  // one function serves both families. Returns M + F, with M = since_origin / 4 us truncated to 32
  // bits and F the low 32 bits of SipHash-2-4 under the secret of the 4-tuple in network byte
  // order (addresses 16 bytes each, ports 2).
  Seq Generate(const wire::Ipv6Address& local_address, std::uint16_t local_port,
               const wire::Ipv6Address& remote_address, std::uint16_t remote_port,
               Duration since_origin) const;

 private:
  std::array<std::uint8_t, 16> secret_;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_ISN_H_
