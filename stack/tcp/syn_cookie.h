// SYN cookies (RFC 4987 3.6): when the half-open queue is full, a listener answers a SYN without
// keeping any state, encoding what it must remember of the SYN in the initial sequence number of
// its SYN-ACK. A legitimate client's ACK returns that number (SEG.ACK - 1), so the connection can
// be rebuilt from the ACK alone; a flood of spoofed SYNs costs the listener no memory at all.
//
// The cookie, 32 bits:
//   bits 31..7  25 bits of SipHash-2-4 over the 4-tuple, the client's ISN and a counter that
//               advances every kPeriod, under a secret: an off-path attacker cannot forge them.
//   bits 6..3   the client's window-scale shift (0..14), or 15 when it offered none (RFC 7323 2.2
//               allows scaling only when both SYNs carry the option, so the SYN-ACK's offer must be
//               remembered as well as the client's shift).
//   bits 2..0   the client's MSS, rounded down to one of the eight kMssTable values.
// A cookie is accepted while the counter is the current one or the one before: for kPeriod to
// 2 * kPeriod after it was sent. What a cookie cannot carry (the SYN-ACK's retransmission, and any
// other option) is lost, as RFC 4987 3.6 notes. Here that is SACK (RFC 2018): all 32 bits are
// spoken for, and taking one from the authenticator would make a forged cookie twice as easy to
// guess, so a cookie's SYN-ACK never offers SACK-permitted and its connection sends no SACK
// blocks (it still receives and reassembles out-of-order data). Cookies are only sent while the
// half-open queue overflows, and Linux without timestamps makes the same trade.
#ifndef TAPSTACK_STACK_TCP_SYN_COOKIE_H_
#define TAPSTACK_STACK_TCP_SYN_COOKIE_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "stack/tcp/siphash.h"
#include "stack/wire/ipv6_address.h"

namespace tapstack::tcp {

// What the cookie remembers of the client's SYN.
struct SynCookieSyn {
  std::uint16_t mss = 536;                   // as rounded down to the table
  std::optional<std::uint8_t> window_scale;  // the client's shift; none: no scaling
  friend bool operator==(const SynCookieSyn&, const SynCookieSyn&) = default;
};

// The connection the cookie belongs to. IPv4 addresses are IPv4-mapped (wire::Ipv4MappedAddress),
// so one cookie scheme serves both families.
struct SynCookieTuple {
  wire::Ipv6Address local_address;
  std::uint16_t local_port = 0;
  wire::Ipv6Address remote_address;
  std::uint16_t remote_port = 0;
};

class SynCookies {
 public:
  using Duration = std::chrono::steady_clock::duration;

  // How often the counter advances (Linux uses 60 s; a power of two makes the division a shift).
  static constexpr std::chrono::seconds kPeriod{64};
  // The MSS values a cookie can carry: the common path MTUs (Ethernet 1460, PPPoE 1452, VPN and
  // tunnel overheads), plus RFC 9293's 536 default and two small values so that a client with a
  // small MSS is never sent larger segments than it asked for.
  static constexpr std::array<std::uint16_t, 8> kMssTable = {64,   256,  536,  1200,
                                                             1360, 1400, 1452, 1460};

  explicit SynCookies(const SipHashKey& secret) : secret_(secret) {}

  // The ISN of the SYN-ACK answering a SYN with sequence number `client_isn`, `since_origin`
  // after the stack's time origin (never negative). `client_mss` is the SYN's MSS option (absent:
  // 536, RFC 9293 3.7.1).
  std::uint32_t Make(const SynCookieTuple& tuple, std::uint32_t client_isn,
                     std::optional<std::uint16_t> client_mss,
                     std::optional<std::uint8_t> client_window_scale, Duration since_origin) const;

  // Checks the cookie a client returned in the ACK completing the handshake: `cookie` is
  // SEG.ACK - 1 and `client_isn` SEG.SEQ - 1. Returns what the SYN carried, or nullopt when the
  // cookie is forged, belongs to another connection or has expired.
  std::optional<SynCookieSyn> Check(const SynCookieTuple& tuple, std::uint32_t cookie,
                                    std::uint32_t client_isn, Duration since_origin) const;

 private:
  // The 25 authenticating bits for `counter`, in place (bits 31..7).
  std::uint32_t Authenticator(const SynCookieTuple& tuple, std::uint32_t client_isn,
                              std::uint64_t counter) const;

  SipHashKey secret_;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_SYN_COOKIE_H_
