#include "stack/wire/ipv6_address.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tapstack::wire {
namespace {

constexpr std::size_t kGroupCount = 8;

// At most eight groups parsed from one side of a "::" (or from the whole text without one).
struct Groups {
  std::array<std::uint16_t, kGroupCount> values{};
  std::size_t count = 0;
};

// One to four hex digits, the whole of `piece`.
std::optional<std::uint16_t> ParseHexGroup(std::string_view piece) {
  if (piece.empty() || piece.size() > 4) return std::nullopt;
  std::uint16_t value = 0;
  for (const char c : piece) {
    int digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    value = static_cast<std::uint16_t>(value * 16 + digit);
  }
  return value;
}

// The colon-separated groups of `side`; an empty side has none. The last piece may be dotted
// decimal IPv4 (two groups) only when `ipv4_allowed`, which holds for the part of the text that
// ends the address (RFC 4291 2.2, form 3).
std::optional<Groups> ParseSide(std::string_view side, bool ipv4_allowed) {
  Groups groups;
  if (side.empty()) return groups;
  while (true) {
    const std::size_t colon = side.find(':');
    const std::string_view piece = side.substr(0, colon);
    const bool last = colon == std::string_view::npos;
    if (last && ipv4_allowed && piece.find('.') != std::string_view::npos) {
      const std::optional<Ipv4Address> ipv4 = Ipv4Address::Parse(piece);
      if (!ipv4 || groups.count + 2 > kGroupCount) return std::nullopt;
      groups.values[groups.count++] = static_cast<std::uint16_t>(ipv4->value() >> 16);
      groups.values[groups.count++] = static_cast<std::uint16_t>(ipv4->value());
      return groups;
    }
    const std::optional<std::uint16_t> value = ParseHexGroup(piece);
    if (!value || groups.count == kGroupCount) return std::nullopt;
    groups.values[groups.count++] = *value;
    if (last) return groups;
    side.remove_prefix(colon + 1);
  }
}

}  // namespace

std::optional<Ipv6Address> Ipv6Address::Parse(std::string_view text) {
  std::array<std::uint16_t, kGroupCount> result{};
  const std::size_t gap = text.find("::");
  if (gap == std::string_view::npos) {
    const std::optional<Groups> groups = ParseSide(text, /*ipv4_allowed=*/true);
    if (!groups || groups->count != kGroupCount) return std::nullopt;
    result = groups->values;
  } else {
    const std::string_view head = text.substr(0, gap);
    const std::string_view tail = text.substr(gap + 2);
    if (tail.find("::") != std::string_view::npos) return std::nullopt;  // "::" at most once
    const std::optional<Groups> head_groups = ParseSide(head, /*ipv4_allowed=*/false);
    const std::optional<Groups> tail_groups = ParseSide(tail, /*ipv4_allowed=*/true);
    // "::" stands for at least one zero group.
    if (!head_groups || !tail_groups || head_groups->count + tail_groups->count >= kGroupCount) {
      return std::nullopt;
    }
    for (std::size_t i = 0; i < head_groups->count; ++i) result[i] = head_groups->values[i];
    const std::size_t tail_start = kGroupCount - tail_groups->count;
    for (std::size_t i = 0; i < tail_groups->count; ++i) {
      result[tail_start + i] = tail_groups->values[i];
    }
  }
  return FromGroups(result);
}

std::string Ipv6Address::ToString() const {
  if (IsIpv4Mapped()) {
    return absl::StrCat("::ffff:", Ipv4Address::FromBytes(&octets_[12]).ToString());
  }
  // RFC 5952 4.2: the longest run of zero groups, the first one on a tie, and never a single
  // group (4.2.2).
  std::size_t best_start = kGroupCount;
  std::size_t best_len = 1;
  for (std::size_t start = 0; start < kGroupCount;) {
    if (group(start) != 0) {
      ++start;
      continue;
    }
    std::size_t end = start;
    while (end < kGroupCount && group(end) == 0) ++end;
    if (end - start > best_len) {
      best_start = start;
      best_len = end - start;
    }
    start = end;
  }
  std::string text;
  for (std::size_t i = 0; i < kGroupCount; ++i) {
    if (i == best_start) {
      text += "::";
      i += best_len - 1;
      continue;
    }
    if (!text.empty() && text.back() != ':') text += ':';
    absl::StrAppendFormat(&text, "%x", group(i));  // RFC 5952 4.1 and 4.3: no leading zeros
  }
  return text;
}

std::ostream& operator<<(std::ostream& out, const Ipv6Address& address) {
  return out << address.ToString();
}

}  // namespace tapstack::wire
