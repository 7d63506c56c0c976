#include "stack/wire/bytes.h"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tapstack::wire {
namespace {

std::optional<std::uint8_t> HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
  return std::nullopt;
}

}  // namespace

std::optional<MacAddress> MacAddress::Parse(std::string_view text) {
  Octets octets{};
  std::size_t pos = 0;
  for (std::size_t i = 0; i < kLength; ++i) {
    if (i > 0) {
      if (pos >= text.size() || text[pos] != ':') return std::nullopt;
      ++pos;
    }
    int digits = 0;
    unsigned value = 0;
    while (pos < text.size() && digits < 2) {
      const std::optional<std::uint8_t> digit = HexDigitValue(text[pos]);
      if (!digit) break;
      value = value * 16 + *digit;
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    octets[i] = static_cast<std::uint8_t>(value);
  }
  if (pos != text.size()) return std::nullopt;
  return MacAddress(octets);
}

std::string MacAddress::ToString() const {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", octets_[0], octets_[1], octets_[2],
                         octets_[3], octets_[4], octets_[5]);
}

std::optional<Ipv4Address> Ipv4Address::Parse(std::string_view text) {
  std::uint32_t value = 0;
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= text.size() || text[pos] != '.') return std::nullopt;
      ++pos;
    }
    const std::size_t start = pos;
    unsigned part_value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < 3) {
      part_value = part_value * 10 + static_cast<unsigned>(text[pos] - '0');
      ++pos;
    }
    const std::size_t digits = pos - start;
    if (digits == 0 || part_value > 255) return std::nullopt;
    if (digits > 1 && text[start] == '0') return std::nullopt;  // "010" is ambiguous (octal?)
    value = (value << 8) | part_value;
  }
  if (pos != text.size()) return std::nullopt;
  return Ipv4Address(value);
}

std::string Ipv4Address::ToString() const {
  return absl::StrCat(value_ >> 24, ".", (value_ >> 16) & 0xff, ".", (value_ >> 8) & 0xff, ".",
                      value_ & 0xff);
}

std::ostream& operator<<(std::ostream& out, const MacAddress& address) {
  return out << address.ToString();
}

std::ostream& operator<<(std::ostream& out, Ipv4Address address) {
  return out << address.ToString();
}

}  // namespace tapstack::wire
