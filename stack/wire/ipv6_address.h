// IPv6 addresses (RFC 4291): the 16-byte value type, its text forms, and the addresses IPv6 over
// Ethernet derives from others (solicited-node multicast, link-local from a MAC, the multicast
// MAC an IPv6 multicast address maps to).
#ifndef TAPSTACK_STACK_WIRE_IPV6_ADDRESS_H_
#define TAPSTACK_STACK_WIRE_IPV6_ADDRESS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "stack/wire/bytes.h"

namespace tapstack::wire {

// An IPv6 address (RFC 4291 2), held as its 16 octets in network order. Unlike Ipv4Address it is
// not one integer: nothing but prefix tests does arithmetic on it, and those work on octets.
class Ipv6Address {
 public:
  static constexpr std::size_t kLength = 16;
  using Octets = std::array<std::uint8_t, kLength>;

  constexpr Ipv6Address() = default;  // :: (the unspecified address, RFC 4291 2.5.2)
  // Implicit for the same reason as MacAddress: an address is exactly its octets.
  constexpr Ipv6Address(const Octets& octets) : octets_(octets) {}  // NOLINT(runtime/explicit)
  // The eight 16-bit groups of the text form, most significant first: {0x2001, 0xdb8, 0, ..., 1}.
  static constexpr Ipv6Address FromGroups(const std::array<std::uint16_t, 8>& groups) {
    Octets octets{};
    for (std::size_t i = 0; i < groups.size(); ++i) StoreBe16(&octets[2 * i], groups[i]);
    return Ipv6Address(octets);
  }

  // Reads sixteen octets starting at `bytes`.
  static constexpr Ipv6Address FromBytes(const std::uint8_t* bytes) {
    Octets octets{};
    for (std::size_t i = 0; i < kLength; ++i) octets[i] = bytes[i];
    return Ipv6Address(octets);
  }
  // The text forms of RFC 4291 2.2: eight groups of one to four hex digits
  // ("2001:db8:0:0:0:0:0:1"), one "::" standing for one or more zero groups ("2001:db8::1"), and
  // dotted decimal IPv4 in the last 32 bits ("::ffff:192.0.2.1"). Hex digits in either case. No
  // zone ("%eth0") and no prefix length ("/64"): those belong to whoever reads the text around the
  // address.
  static std::optional<Ipv6Address> Parse(std::string_view text);

  static constexpr Ipv6Address Loopback() {  // ::1 (RFC 4291 2.5.3)
    return FromGroups({0, 0, 0, 0, 0, 0, 0, 1});
  }
  static constexpr Ipv6Address AllNodes() {  // ff02::1 (RFC 4291 2.7.1)
    return FromGroups({0xff02, 0, 0, 0, 0, 0, 0, 1});
  }
  static constexpr Ipv6Address AllRouters() {  // ff02::2 (RFC 4291 2.7.1)
    return FromGroups({0xff02, 0, 0, 0, 0, 0, 0, 2});
  }

  constexpr const Octets& octets() const { return octets_; }
  // Writes the sixteen octets starting at `out`.
  constexpr void ToBytes(std::uint8_t* out) const {
    for (std::size_t i = 0; i < kLength; ++i) out[i] = octets_[i];
  }
  // Group `index` (0..7) of the text form.
  constexpr std::uint16_t group(std::size_t index) const { return LoadBe16(&octets_[2 * index]); }

  // True when the first `prefix_len` bits of both addresses agree. prefix_len 0 matches every
  // address; values above 128 count as 128.
  constexpr bool InSameSubnet(const Ipv6Address& other, int prefix_len) const {
    for (std::size_t i = 0; i < kLength && prefix_len > 0; ++i, prefix_len -= 8) {
      const std::uint8_t mask =
          prefix_len >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - prefix_len));
      if ((octets_[i] & mask) != (other.octets_[i] & mask)) return false;
    }
    return true;
  }

  constexpr bool IsUnspecified() const { return *this == Ipv6Address(); }
  constexpr bool IsLoopback() const { return *this == Loopback(); }
  constexpr bool IsMulticast() const { return octets_[0] == 0xff; }  // ff00::/8, RFC 4291 2.7
  // fe80::/10, RFC 4291 2.5.6.
  constexpr bool IsLinkLocalUnicast() const {
    return octets_[0] == 0xfe && (octets_[1] & 0xc0) == 0x80;
  }
  // ::ffff:0:0/96, RFC 4291 2.5.5.2.
  constexpr bool IsIpv4Mapped() const {
    for (std::size_t i = 0; i < 10; ++i) {
      if (octets_[i] != 0) return false;
    }
    return octets_[10] == 0xff && octets_[11] == 0xff;
  }

  // The canonical text of RFC 5952 4: lower-case hex without leading zeros, the longest run of two
  // or more zero groups (the first of equally long runs) shortened to "::", and, for an
  // IPv4-mapped address, the last 32 bits in dotted decimal (RFC 5952 5): "::ffff:192.0.2.1".
  std::string ToString() const;

  friend constexpr bool operator==(const Ipv6Address&, const Ipv6Address&) = default;
  friend constexpr bool operator<(const Ipv6Address& a, const Ipv6Address& b) {
    return a.octets_ < b.octets_;
  }

  template <typename H>
  friend H AbslHashValue(H state, const Ipv6Address& address) {
    return H::combine(std::move(state), address.octets_);
  }

 private:
  Octets octets_{};
};

std::ostream& operator<<(std::ostream& out, const Ipv6Address& address);

// The IPv4-mapped IPv6 address of `address` (RFC 4291 2.5.5.2): ::ffff:a.b.c.d. The stack uses it
// where one function serves both families, such as the keyed hashes over a connection's addresses.
constexpr Ipv6Address Ipv4MappedAddress(Ipv4Address address) {
  Ipv6Address::Octets octets{};
  octets[10] = octets[11] = 0xff;
  StoreBe32(&octets[12], address.value());
  return Ipv6Address(octets);
}

// The solicited-node multicast address of `address` (RFC 4291 2.7.1): ff02::1:ff00:0/104 with
// the address's low 24 bits. Neighbor solicitations for an address go to it (RFC 4861 7.2.2), so
// a node listens on the one of each of its addresses.
constexpr Ipv6Address SolicitedNodeMulticast(const Ipv6Address& address) {
  Ipv6Address::Octets octets = Ipv6Address::FromGroups({0xff02, 0, 0, 0, 0, 1, 0xff00, 0}).octets();
  for (std::size_t i = 13; i < Ipv6Address::kLength; ++i) octets[i] = address.octets()[i];
  return Ipv6Address(octets);
}

// The Ethernet destination of an IPv6 multicast packet (RFC 2464 7): 33:33 followed by the last
// four octets of the address. Meaningful only for a multicast `address`.
constexpr MacAddress Ipv6MulticastMac(const Ipv6Address& address) {
  const Ipv6Address::Octets& octets = address.octets();
  return MacAddress(MacAddress::Octets{0x33, 0x33, octets[12], octets[13], octets[14], octets[15]});
}

// The modified EUI-64 interface identifier of a MAC (RFC 4291 appendix A): ff:fe inserted in the
// middle and the universal/local bit inverted, placed behind fe80::/64 (RFC 4291 2.5.6). This is
// the link-local address of RFC 4862 5.3 for a node that does not use RFC 7217's opaque
// identifiers.
constexpr Ipv6Address LinkLocalFromMac(const MacAddress& mac) {
  const MacAddress::Octets& m = mac.octets();
  return Ipv6Address(Ipv6Address::Octets{0xfe, 0x80, 0, 0, 0, 0, 0, 0,
                                         static_cast<std::uint8_t>(m[0] ^ 0x02), m[1], m[2], 0xff,
                                         0xfe, m[3], m[4], m[5]});
}

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_IPV6_ADDRESS_H_
