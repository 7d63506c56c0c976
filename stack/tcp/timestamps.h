// TCP timestamps (RFC 7323 3 to 5): what one connection keeps to send TSval and TSecr, to tell
// old duplicates by their timestamps (PAWS, RFC 7323 5) and to measure the round-trip time from
// every ACK (RTTM, RFC 7323 4), and the keyed offsets that keep our clock private.
#ifndef TAPSTACK_STACK_TCP_TIMESTAMPS_H_
#define TAPSTACK_STACK_TCP_TIMESTAMPS_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "stack/tcp/seq.h"
#include "stack/wire/ipv6_address.h"

namespace tapstack::tcp {

using Duration = std::chrono::steady_clock::duration;

// Our timestamp clock ticks once a millisecond, the finest RFC 7323 5.4 allows and Linux's tick:
// fine enough to time a round trip on a LAN to the millisecond, and slow enough that PAWS's
// 2^31 ticks last 24.8 days, longer than any segment lives (RFC 7323 5.5).
inline constexpr std::chrono::milliseconds kTimestampTick{1};

// RFC 7323 5.5: TS.Recent left untouched this long is no longer trusted (the peer's clock may
// have wrapped half its space since), and the next acceptable segment replaces it.
inline constexpr std::chrono::hours kTimestampRecentValidity{24 * 24};

// Bytes the timestamps option takes in every segment once agreed, with the two no-operations
// that align it (RFC 7323 Appendix A): what it costs each segment's payload.
inline constexpr std::uint32_t kTimestampsOptionSpace = 12;

// TSval of a segment sent at `now` by a connection whose clock runs at `offset` from the stack's.
inline std::uint32_t TimestampValue(Duration now, std::uint32_t offset) {
  return static_cast<std::uint32_t>(now / kTimestampTick) + offset;
}

// The per-connection offset added to our clock (RFC 7323 7.1 and 5.4): a keyed hash of the two
// addresses, as Linux's secure_tcp_ts_off. Without one, TSval would reveal how long the stack has
// run. Keyed by the addresses and not the ports, so that successive connections between two
// hosts see one clock moving forward, which PAWS across connections relies on.
class TimestampOffsets {
 public:
  explicit TimestampOffsets(std::array<std::uint8_t, 16> secret) : secret_(secret) {}
  // IPv4 addresses are passed IPv4-mapped, as to IsnGenerator.
  std::uint32_t Offset(const wire::Ipv6Address& local_address,
                       const wire::Ipv6Address& remote_address) const;

 private:
  std::array<std::uint8_t, 16> secret_;
};

// One connection's timestamp state, once both SYNs carried the option (the connection holds the
// flag that says so). 16 bytes.
class TimestampState {
 public:
  // The option was agreed: our clock runs at `offset` from the stack's, and the peer's SYN (or
  // SYN-ACK) carried `peer_tsval` at `now`.
  void Start(std::uint32_t offset, std::uint32_t peer_tsval, Duration now);

  // TSval for a segment sent at `now` (RFC 7323 3.2).
  std::uint32_t TsVal(Duration now) const { return TimestampValue(now, offset_); }
  // TSecr of an ACK we send: TS.Recent (RFC 7323 3.2, 4.3).
  std::uint32_t ts_recent() const { return ts_recent_; }

  // RFC 7323 5.3 R1, PAWS: a segment carrying `tsval` is an old duplicate when TS.Recent is valid
  // and tsval is earlier than it (modulo 2^32). The caller exempts RSTs.
  bool IsOldDuplicate(std::uint32_t tsval, Duration now) const;
  // RFC 7323 5.3 R3 and 4.3: an acceptable segment at `seq` carrying `tsval` updates TS.Recent
  // when it is not earlier and the segment starts at or before Last.ACK.sent, so that with
  // delayed ACKs the echo is the earliest unacknowledged segment's timestamp and the sender's
  // measurement includes the delay. Once TS.Recent is stale (5.5) any acceptable segment does.
  void OnAcceptableSegment(Seq seq, std::uint32_t tsval, Duration now);
  // A segment carrying ACK = `ack` went out: Last.ACK.sent (RFC 7323 4.3).
  void OnAckSent(Seq ack) { last_ack_sent_ = ack; }

  // RFC 7323 4.1 (RTTM): the round trip of the segment whose TSval an ACK echoes in `tsecr`, read
  // at `now`. Nothing for a zero TSecr (which some stacks send when they have nothing to echo) or
  // an echo of a time we never sent: ahead of our clock, or further back than `longest`.
  std::optional<Duration> RoundTrip(std::uint32_t tsecr, Duration now, Duration longest) const;

 private:
  // TS.Recent is trusted (RFC 7323 5.5).
  bool RecentIsValid(Duration now) const;

  std::uint32_t offset_ = 0;
  std::uint32_t ts_recent_ = 0;
  // When TS.Recent was recorded, in whole seconds of the stack's clock: 24 days need more range
  // than a 32-bit millisecond count (49.7 days) can compare safely, and seconds are precise
  // enough for a 24-day limit.
  std::uint32_t ts_recent_second_ = 0;
  Seq last_ack_sent_;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_TIMESTAMPS_H_
