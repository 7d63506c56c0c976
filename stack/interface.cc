#include "stack/interface.h"

#include <errno.h>

#include <charconv>
#include <random>

namespace tapstack {

wire::MacAddress RandomLocalMac(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::uint64_t bits = rng();
  wire::MacAddress::Octets octets{};
  for (std::size_t i = 0; i < octets.size(); ++i) {
    octets[i] = static_cast<std::uint8_t>(bits >> (8 * i));
  }
  // IEEE 802: bit 1 of the first octet marks a locally administered address, bit 0 a group one.
  octets[0] = static_cast<std::uint8_t>((octets[0] | 0x02) & ~0x01);
  return wire::MacAddress(octets);
}

namespace {

// The length after the '/' of "ADDRESS/LENGTH", `max_len` when there is no '/'; nullopt when it
// is not a whole number from 0 to `max_len`.
std::optional<int> PrefixLength(std::string_view text, int max_len) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return max_len;
  const std::string_view prefix_text = text.substr(slash + 1);
  int prefix_len = 0;
  const auto [end, error] =
      std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix_len);
  if (error != std::errc() || end != prefix_text.data() + prefix_text.size() || prefix_len < 0 ||
      prefix_len > max_len) {
    return std::nullopt;
  }
  return prefix_len;
}

}  // namespace

Result<std::pair<wire::Ipv4Address, int>> ParseAddressWithPrefix(std::string_view text) {
  const std::optional<wire::Ipv4Address> address =
      wire::Ipv4Address::Parse(text.substr(0, text.find('/')));
  const std::optional<int> prefix_len = PrefixLength(text, 32);
  if (!address || !prefix_len) return Errno(EINVAL);
  return std::make_pair(*address, *prefix_len);
}

Result<Ipv6Prefix> ParseIpv6AddressWithPrefix(std::string_view text) {
  const std::optional<wire::Ipv6Address> address =
      wire::Ipv6Address::Parse(text.substr(0, text.find('/')));
  const std::optional<int> prefix_len = PrefixLength(text, 128);
  if (!address || !prefix_len) return Errno(EINVAL);
  return Ipv6Prefix{*address, *prefix_len};
}

}  // namespace tapstack
