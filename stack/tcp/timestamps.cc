#include "stack/tcp/timestamps.h"

#include <cstddef>

#include "stack/tcp/siphash.h"

namespace tapstack::tcp {
namespace {

std::uint32_t WholeSeconds(Duration now) {
  return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

// RFC 7323 5.2: timestamps compare in a 2^32 space, a before b when a - b, as a signed 32-bit
// number, is negative.
bool Before(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) < 0; }

}  // namespace

std::uint32_t TimestampOffsets::Offset(const wire::Ipv6Address& local_address,
                                       const wire::Ipv6Address& remote_address) const {
  std::array<std::uint8_t, 2 * wire::Ipv6Address::kLength> addresses;
  local_address.ToBytes(&addresses[0]);
  remote_address.ToBytes(&addresses[wire::Ipv6Address::kLength]);
  return static_cast<std::uint32_t>(SipHash24(secret_, addresses));
}

void TimestampState::Start(std::uint32_t offset, std::uint32_t peer_tsval, Duration now) {
  offset_ = offset;
  ts_recent_ = peer_tsval;
  ts_recent_second_ = WholeSeconds(now);
}

bool TimestampState::RecentIsValid(Duration now) const {
  const std::uint32_t age = WholeSeconds(now) - ts_recent_second_;
  return age <
         static_cast<std::uint32_t>(
             std::chrono::duration_cast<std::chrono::seconds>(kTimestampRecentValidity).count());
}

bool TimestampState::IsOldDuplicate(std::uint32_t tsval, Duration now) const {
  return Before(tsval, ts_recent_) && RecentIsValid(now);
}

void TimestampState::OnAcceptableSegment(Seq seq, std::uint32_t tsval, Duration now) {
  if (!RecentIsValid(now) || (!Before(tsval, ts_recent_) && seq <= last_ack_sent_)) {
    ts_recent_ = tsval;
    ts_recent_second_ = WholeSeconds(now);
  }
}

std::optional<Duration> TimestampState::RoundTrip(std::uint32_t tsecr, Duration now,
                                                  Duration longest) const {
  if (tsecr == 0) return std::nullopt;
  const std::uint32_t ticks = TsVal(now) - tsecr;
  if (static_cast<std::int32_t>(ticks) < 0) return std::nullopt;  // ahead of our clock
  const Duration round_trip = ticks * kTimestampTick;
  if (round_trip > longest) return std::nullopt;
  return round_trip;
}

}  // namespace tapstack::tcp
