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

Result<std::pair<wire::Ipv4Address, int>> ParseAddressWithPrefix(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  const std::optional<wire::Ipv4Address> address = wire::Ipv4Address::Parse(address_text);
  if (!address) return Errno(EINVAL);
  int prefix_len = 32;
  if (slash != std::string_view::npos) {
    const std::string_view prefix_text = text.substr(slash + 1);
    const auto [end, error] =
        std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix_len);
    if (error != std::errc() || end != prefix_text.data() + prefix_text.size() || prefix_len < 0 ||
        prefix_len > 32) {
      return Errno(EINVAL);
    }
  }
  return std::make_pair(*address, prefix_len);
}

}  // namespace tapstack
