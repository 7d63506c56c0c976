// Random addresses, bytes and Reprs for the wire tests. Every generator takes the caller's engine,
// so each test fixes its own seed and failures replay exactly.
#ifndef TAPSTACK_TESTS_WIRE_RANDOM_WIRE_H_
#define TAPSTACK_TESTS_WIRE_RANDOM_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "stack/wire/arp.h"
#include "stack/wire/bytes.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/ipv6_address.h"
#include "stack/wire/tcp.h"
#include "stack/wire/tcp_options.h"

namespace tapstack::wire::testing {

using Rng = std::mt19937_64;

template <typename T>
T RandomInt(Rng& rng, T low, T high) {
  return static_cast<T>(std::uniform_int_distribution<std::uint64_t>(low, high)(rng));
}

template <typename T>
T RandomInt(Rng& rng) {
  return RandomInt<T>(rng, 0, static_cast<T>(~T{0}));
}

inline bool RandomBool(Rng& rng) { return (rng() & 1) != 0; }

inline std::vector<std::uint8_t> RandomBytes(Rng& rng, std::size_t length) {
  std::vector<std::uint8_t> bytes(length);
  for (std::uint8_t& byte : bytes) byte = static_cast<std::uint8_t>(rng());
  return bytes;
}

inline MacAddress RandomMac(Rng& rng) {
  MacAddress::Octets octets{};
  for (std::uint8_t& octet : octets) octet = static_cast<std::uint8_t>(rng());
  return MacAddress(octets);
}

inline Ipv4Address RandomIpv4(Rng& rng) { return Ipv4Address(RandomInt<std::uint32_t>(rng)); }

inline Ipv6Address RandomIpv6(Rng& rng) {
  Ipv6Address::Octets octets{};
  for (std::uint8_t& octet : octets) octet = static_cast<std::uint8_t>(rng());
  // Runs of zero groups are what the text forms are about: make some.
  if (RandomBool(rng)) {
    const std::size_t first = RandomInt<std::size_t>(rng, 0, 7);
    const std::size_t last = RandomInt<std::size_t>(rng, first, 7);
    for (std::size_t i = 2 * first; i < 2 * (last + 1); ++i) octets[i] = 0;
  }
  return Ipv6Address(octets);
}

inline Ipv6Repr RandomIpv6Repr(Rng& rng, std::uint16_t payload_len) {
  Ipv6Repr repr;
  repr.src = RandomIpv6(rng);
  repr.dst = RandomIpv6(rng);
  repr.next_header = RandomInt<std::uint8_t>(rng);
  repr.hop_limit = RandomInt<std::uint8_t>(rng);
  repr.traffic_class = RandomInt<std::uint8_t>(rng);
  repr.flow_label = RandomInt<std::uint32_t>(rng, 0, 0xfffff);
  repr.payload_len = payload_len;
  return repr;
}

inline EthernetRepr RandomEthernetRepr(Rng& rng) {
  return EthernetRepr{RandomMac(rng), RandomMac(rng), RandomInt<std::uint16_t>(rng)};
}

inline ArpRepr RandomArpRepr(Rng& rng) {
  // Mostly requests and replies, sometimes any opcode: views must carry it through unchanged.
  const std::uint16_t op = RandomInt<std::uint32_t>(rng, 0, 9) == 0
                               ? RandomInt<std::uint16_t>(rng)
                               : RandomInt<std::uint16_t>(rng, 1, 2);
  return ArpRepr{static_cast<ArpOp>(op), RandomMac(rng), RandomIpv4(rng), RandomMac(rng),
                 RandomIpv4(rng)};
}

inline Ipv4Repr RandomIpv4Repr(Rng& rng, std::uint16_t payload_len) {
  Ipv4Repr repr;
  repr.src = RandomIpv4(rng);
  repr.dst = RandomIpv4(rng);
  repr.protocol = RandomInt<std::uint8_t>(rng);
  repr.ttl = RandomInt<std::uint8_t>(rng);
  repr.identification = RandomInt<std::uint16_t>(rng);
  repr.dont_fragment = RandomBool(rng);
  repr.dscp_ecn = RandomInt<std::uint8_t>(rng);
  repr.payload_len = payload_len;
  return repr;
}

// A random option set that fits in a TCP header (TcpOptionsLen <= 40).
inline TcpOptions RandomTcpOptions(Rng& rng) {
  TcpOptions options;
  if (RandomBool(rng)) options.mss = RandomInt<std::uint16_t>(rng);
  if (RandomBool(rng)) options.window_scale = RandomInt<std::uint8_t>(rng);
  options.sack_permitted = RandomBool(rng);
  if (RandomBool(rng)) {
    options.timestamps =
        TcpOptions::Timestamps{RandomInt<std::uint32_t>(rng), RandomInt<std::uint32_t>(rng)};
  }
  if (RandomBool(rng)) {
    options.sack_block_count = RandomInt<std::size_t>(rng, 1, TcpOptions::kMaxSackBlocks);
    for (std::size_t i = 0; i < options.sack_block_count; ++i) {
      options.sack_blocks[i] = {RandomInt<std::uint32_t>(rng), RandomInt<std::uint32_t>(rng)};
    }
  }
  while (TcpOptionsLen(options) > kTcpMaxOptionsLen) --options.sack_block_count;
  return options;
}

// Random header fields and options; the payload is left empty for the caller to point somewhere.
inline TcpRepr RandomTcpRepr(Rng& rng) {
  TcpRepr repr;
  repr.src_port = RandomInt<std::uint16_t>(rng);
  repr.dst_port = RandomInt<std::uint16_t>(rng);
  repr.seq = RandomInt<std::uint32_t>(rng);
  repr.ack = RandomInt<std::uint32_t>(rng);
  repr.flags = RandomInt<std::uint8_t>(rng);
  repr.window = RandomInt<std::uint16_t>(rng);
  repr.urgent_pointer = RandomInt<std::uint16_t>(rng);
  repr.options = RandomTcpOptions(rng);
  return repr;
}

}  // namespace tapstack::wire::testing

#endif  // TAPSTACK_TESTS_WIRE_RANDOM_WIRE_H_
