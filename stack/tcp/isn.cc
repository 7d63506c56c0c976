#include "stack/tcp/isn.h"

#include <cstddef>

#include "stack/tcp/siphash.h"

namespace tapstack::tcp {
namespace {

// Appends `value` to `out` at `*position`, most significant byte first (network byte order).
template <typename Unsigned>
void PutBigEndian(Unsigned value, std::uint8_t* out, std::size_t* position) {
  for (int shift = 8 * (sizeof(Unsigned) - 1); shift >= 0; shift -= 8) {
    out[(*position)++] = static_cast<std::uint8_t>(value >> shift);
  }
}

}  // namespace

Seq IsnGenerator::Generate(const wire::Ipv6Address& local_address, std::uint16_t local_port,
                           const wire::Ipv6Address& remote_address, std::uint16_t remote_port,
                           Duration since_origin) const {
  // F(localip, localport, remoteip, remoteport, secretkey) of RFC 6528 3, with SipHash-2-4 as the
  // pseudorandom function (the RFC suggests a cryptographic hash; any keyed PRF meets its need).
  std::array<std::uint8_t, 36> tuple;
  std::size_t position = 0;
  local_address.ToBytes(&tuple[position]);
  position += wire::Ipv6Address::kLength;
  PutBigEndian(local_port, tuple.data(), &position);
  remote_address.ToBytes(&tuple[position]);
  position += wire::Ipv6Address::kLength;
  PutBigEndian(remote_port, tuple.data(), &position);
  const auto hash = static_cast<std::uint32_t>(SipHash24(secret_, tuple));

  // M: the 4-microsecond timer, wrapping modulo 2^32 like the sequence space itself.
  const auto ticks = static_cast<std::uint64_t>(since_origin / kTick);
  return Seq(static_cast<std::uint32_t>(ticks)) + hash;
}

}  // namespace tapstack::tcp
