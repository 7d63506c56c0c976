#include "stack/wire/neighbor_discovery.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/checksum.h"
#include "stack/wire/icmp.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ip_protocol.h"

namespace tapstack::wire {
namespace {

constexpr std::size_t kNdOptionUnit = 8;  // option lengths count 8-byte units (RFC 4861 4.6)

// The target address and at most one link-layer address option: the body WriteIcmpMessage copies
// behind the 8-byte header.
struct NeighborBody {
  std::array<std::uint8_t, Ipv6Address::kLength + kNdLinkLayerOptionLen> bytes{};
  std::size_t len = 0;
};

NeighborBody MakeBody(const Ipv6Address& target, std::uint8_t option_type,
                      const std::optional<MacAddress>& mac) {
  NeighborBody body;
  target.ToBytes(&body.bytes[0]);
  body.len = Ipv6Address::kLength;
  if (mac) {
    body.bytes[body.len] = option_type;
    body.bytes[body.len + 1] = 1;  // one unit of 8 bytes
    mac->ToBytes(&body.bytes[body.len + 2]);
    body.len += kNdLinkLayerOptionLen;
  }
  return body;
}

std::size_t WriteNeighborMessage(Icmpv6Type type, std::uint32_t flags_word,
                                 const NeighborBody& body, const Ipv6Address& src,
                                 const Ipv6Address& dst, std::span<std::uint8_t> out) {
  const std::span<const std::uint8_t> data(body.bytes.data(), body.len);
  ChecksumAccumulator checksum;
  AddIpv6PseudoHeader(checksum, src, dst, IpProtocol::kIcmpv6,
                      static_cast<std::uint32_t>(kIcmpv6HeaderLen + data.size()));
  return WriteIcmpMessage(static_cast<std::uint8_t>(type), 0, flags_word, data, checksum, out);
}

// Parse for both views: the fixed part, then the options.
Parsed<NdLinkLayerOptions> ParseNeighborMessage(std::span<const std::uint8_t> message) {
  if (message.size() < kNeighborMessageLen) return ParseError::kTruncatedHeader;
  return ParseNdOptions(message.subspan(kNeighborMessageLen));
}

}  // namespace

Parsed<NdLinkLayerOptions> ParseNdOptions(std::span<const std::uint8_t> options) {
  NdLinkLayerOptions result;
  std::size_t offset = 0;
  while (offset < options.size()) {
    if (options.size() - offset < 2) return ParseError::kNdOptionPastEnd;
    const std::uint8_t type = options[offset];
    const std::size_t option_len = std::size_t{options[offset + 1]} * kNdOptionUnit;
    if (option_len == 0) return ParseError::kNdOptionZeroLength;
    if (option_len > options.size() - offset) return ParseError::kNdOptionPastEnd;
    std::optional<MacAddress>* slot =
        type == NdOptionType::kSourceLinkLayerAddress   ? &result.source_link_layer_address
        : type == NdOptionType::kTargetLinkLayerAddress ? &result.target_link_layer_address
                                                        : nullptr;
    if (slot != nullptr) {
      if (option_len != kNdLinkLayerOptionLen) return ParseError::kNdOptionWrongLength;
      if (!slot->has_value()) *slot = MacAddress::FromBytes(&options[offset + 2]);
    }
    offset += option_len;
  }
  return result;
}

Parsed<NeighborSolicitationView> NeighborSolicitationView::Parse(
    std::span<const std::uint8_t> message) {
  const Parsed<NdLinkLayerOptions> options = ParseNeighborMessage(message);
  if (!options.ok()) return options.error();
  return NeighborSolicitationView(message, *options);
}

Parsed<NeighborAdvertisementView> NeighborAdvertisementView::Parse(
    std::span<const std::uint8_t> message) {
  const Parsed<NdLinkLayerOptions> options = ParseNeighborMessage(message);
  if (!options.ok()) return options.error();
  return NeighborAdvertisementView(message, *options);
}

std::size_t NeighborSolicitationLen(const NeighborSolicitationRepr& repr) {
  return kNeighborMessageLen + (repr.source_link_layer_address ? kNdLinkLayerOptionLen : 0);
}

std::size_t NeighborAdvertisementLen(const NeighborAdvertisementRepr& repr) {
  return kNeighborMessageLen + (repr.target_link_layer_address ? kNdLinkLayerOptionLen : 0);
}

std::size_t WriteNeighborSolicitation(const NeighborSolicitationRepr& repr, const Ipv6Address& src,
                                      const Ipv6Address& dst, std::span<std::uint8_t> out) {
  return WriteNeighborMessage(
      Icmpv6Type::kNeighborSolicitation, 0,
      MakeBody(repr.target, NdOptionType::kSourceLinkLayerAddress, repr.source_link_layer_address),
      src, dst, out);
}

std::size_t WriteNeighborAdvertisement(const NeighborAdvertisementRepr& repr,
                                       const Ipv6Address& src, const Ipv6Address& dst,
                                       std::span<std::uint8_t> out) {
  const std::uint32_t flags = (repr.router ? 0x80000000u : 0) | (repr.solicited ? 0x40000000u : 0) |
                              (repr.override_flag ? 0x20000000u : 0);
  return WriteNeighborMessage(
      Icmpv6Type::kNeighborAdvertisement, flags,
      MakeBody(repr.target, NdOptionType::kTargetLinkLayerAddress, repr.target_link_layer_address),
      src, dst, out);
}

}  // namespace tapstack::wire
