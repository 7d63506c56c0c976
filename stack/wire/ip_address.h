// An IP address of either family, for the places that name one without caring which: the
// addresses of a connection an application asks about, a host given on a command line.
#ifndef TAPSTACK_STACK_WIRE_IP_ADDRESS_H_
#define TAPSTACK_STACK_WIRE_IP_ADDRESS_H_

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "stack/wire/bytes.h"
#include "stack/wire/ipv6_address.h"

namespace tapstack::wire {

class IpAddress {
 public:
  constexpr IpAddress() = default;  // 0.0.0.0
  // Implicit: an address of either family is an IpAddress.
  constexpr IpAddress(Ipv4Address address) : ipv4_(address) {}  // NOLINT(runtime/explicit)
  constexpr IpAddress(const Ipv6Address& address)               // NOLINT(runtime/explicit)
      : ipv6_(address), is_ipv6_(true) {}

  // Dotted decimal IPv4 or any text form of IPv6 (Ipv4Address::Parse, Ipv6Address::Parse).
  static std::optional<IpAddress> Parse(std::string_view text);

  constexpr bool is_ipv6() const { return is_ipv6_; }
  constexpr Ipv4Address ipv4() const { return ipv4_; }         // 0.0.0.0 for an IPv6 address
  constexpr const Ipv6Address& ipv6() const { return ipv6_; }  // :: for an IPv4 address

  std::string ToString() const { return is_ipv6_ ? ipv6_.ToString() : ipv4_.ToString(); }

  friend constexpr bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  Ipv4Address ipv4_;
  Ipv6Address ipv6_;
  bool is_ipv6_ = false;
};

std::ostream& operator<<(std::ostream& out, const IpAddress& address);

// An address with a port, as RFC 5952 6 writes it: "192.0.2.1:7003", "[2001:db8::1]:7003".
std::string AddressWithPort(const IpAddress& address, std::uint16_t port);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_IP_ADDRESS_H_
