#include "stack/tcp/syn_cookie.h"

#include <algorithm>
#include <cstddef>

namespace tapstack::tcp {
namespace {

constexpr std::uint32_t kAuthenticatorMask = ~std::uint32_t{0x7f};
constexpr std::uint32_t kNoWindowScale = 15;

// Appends `value` to `out` at `*position`, most significant byte first.
template <typename Unsigned>
void PutBigEndian(Unsigned value, std::uint8_t* out, std::size_t* position) {
  for (int shift = 8 * (sizeof(Unsigned) - 1); shift >= 0; shift -= 8) {
    out[(*position)++] = static_cast<std::uint8_t>(value >> shift);
  }
}

std::uint64_t CounterAt(SynCookies::Duration since_origin) {
  return static_cast<std::uint64_t>(since_origin / SynCookies::kPeriod);
}

}  // namespace

std::uint32_t SynCookies::Authenticator(const SynCookieTuple& tuple, std::uint32_t client_isn,
                                        std::uint64_t counter) const {
  std::array<std::uint8_t, 48> input;
  std::size_t position = 0;
  tuple.local_address.ToBytes(&input[position]);
  position += wire::Ipv6Address::kLength;
  PutBigEndian(tuple.local_port, input.data(), &position);
  tuple.remote_address.ToBytes(&input[position]);
  position += wire::Ipv6Address::kLength;
  PutBigEndian(tuple.remote_port, input.data(), &position);
  PutBigEndian(client_isn, input.data(), &position);
  PutBigEndian(counter, input.data(), &position);
  return static_cast<std::uint32_t>(SipHash24(secret_, input) >> 32) & kAuthenticatorMask;
}

std::uint32_t SynCookies::Make(const SynCookieTuple& tuple, std::uint32_t client_isn,
                               std::optional<std::uint16_t> client_mss,
                               std::optional<std::uint8_t> client_window_scale,
                               Duration since_origin) const {
  // The largest table entry not above the client's MSS: we must never send it more.
  const std::uint16_t mss = client_mss.value_or(536);
  std::uint32_t mss_index = 0;
  for (std::uint32_t i = 0; i < kMssTable.size(); ++i) {
    if (kMssTable[i] <= mss) mss_index = i;
  }
  const std::uint32_t scale_code =
      client_window_scale ? std::min<std::uint32_t>(*client_window_scale, 14) : kNoWindowScale;
  return Authenticator(tuple, client_isn, CounterAt(since_origin)) | (scale_code << 3) | mss_index;
}

std::optional<SynCookieSyn> SynCookies::Check(const SynCookieTuple& tuple, std::uint32_t cookie,
                                              std::uint32_t client_isn,
                                              Duration since_origin) const {
  const std::uint64_t now = CounterAt(since_origin);
  bool authentic = false;
  for (std::uint64_t age = 0; age <= 1 && age <= now; ++age) {
    if (Authenticator(tuple, client_isn, now - age) == (cookie & kAuthenticatorMask)) {
      authentic = true;
    }
  }
  if (!authentic) return std::nullopt;
  const std::uint32_t scale_code = (cookie >> 3) & 0xf;
  SynCookieSyn syn{.mss = kMssTable[cookie & 0x7]};
  if (scale_code != kNoWindowScale) syn.window_scale = static_cast<std::uint8_t>(scale_code);
  return syn;
}

}  // namespace tapstack::tcp
