#include "stack/wire/icmpv6.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/checksum.h"
#include "stack/wire/icmp.h"
#include "stack/wire/ip_protocol.h"

namespace tapstack::wire {
namespace {

ChecksumAccumulator PseudoHeaderSum(const Ipv6Address& src, const Ipv6Address& dst,
                                    std::size_t message_len) {
  ChecksumAccumulator checksum;
  AddIpv6PseudoHeader(checksum, src, dst, IpProtocol::kIcmpv6,
                      static_cast<std::uint32_t>(message_len));
  return checksum;
}

}  // namespace

Parsed<Icmpv6View> Icmpv6View::Parse(std::span<const std::uint8_t> message) {
  if (message.size() < kIcmpv6HeaderLen) return ParseError::kTruncatedHeader;
  return Icmpv6View(message);
}

bool Icmpv6View::checksum_valid(const Ipv6Address& src, const Ipv6Address& dst) const {
  return TransportChecksum(src, dst, IpProtocol::kIcmpv6, message_) == 0;
}

std::size_t WriteIcmpv6Echo(Icmpv6Type type, std::uint16_t identifier, std::uint16_t sequence,
                            std::span<const std::uint8_t> payload, const Ipv6Address& src,
                            const Ipv6Address& dst, std::span<std::uint8_t> out) {
  return WriteIcmpMessage(static_cast<std::uint8_t>(type), 0,
                          (std::uint32_t{identifier} << 16) | sequence, payload,
                          PseudoHeaderSum(src, dst, kIcmpv6HeaderLen + payload.size()), out);
}

std::size_t WriteIcmpv6DestinationUnreachable(std::uint8_t code,
                                              std::span<const std::uint8_t> quoted,
                                              const Ipv6Address& src, const Ipv6Address& dst,
                                              std::span<std::uint8_t> out) {
  return WriteIcmpMessage(static_cast<std::uint8_t>(Icmpv6Type::kDestinationUnreachable), code, 0,
                          quoted, PseudoHeaderSum(src, dst, kIcmpv6HeaderLen + quoted.size()), out);
}

std::size_t WriteIcmpv6ParameterProblem(std::uint8_t code, std::uint32_t pointer,
                                        std::span<const std::uint8_t> quoted,
                                        const Ipv6Address& src, const Ipv6Address& dst,
                                        std::span<std::uint8_t> out) {
  return WriteIcmpMessage(static_cast<std::uint8_t>(Icmpv6Type::kParameterProblem), code, pointer,
                          quoted, PseudoHeaderSum(src, dst, kIcmpv6HeaderLen + quoted.size()), out);
}

std::span<const std::uint8_t> Icmpv6ErrorQuote(const Ipv6View& packet) {
  constexpr std::size_t kMaxQuoted = kIpv6MinMtu - kIpv6HeaderLen - kIcmpv6HeaderLen;
  return packet.bytes().first(std::min(kMaxQuoted, packet.bytes().size()));
}

}  // namespace tapstack::wire
