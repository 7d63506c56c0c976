#include "stack/wire/ip_address.h"

#include <ostream>

namespace tapstack::wire {

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (const std::optional<Ipv4Address> ipv4 = Ipv4Address::Parse(text)) return IpAddress(*ipv4);
  if (const std::optional<Ipv6Address> ipv6 = Ipv6Address::Parse(text)) return IpAddress(*ipv6);
  return std::nullopt;
}

std::string AddressWithPort(const IpAddress& address, std::uint16_t port) {
  const std::string text = address.ToString();
  return (address.is_ipv6() ? "[" + text + "]" : text) + ":" + std::to_string(port);
}

std::ostream& operator<<(std::ostream& out, const IpAddress& address) {
  return out << address.ToString();
}

}  // namespace tapstack::wire
