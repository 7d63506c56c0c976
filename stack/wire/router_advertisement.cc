#include "stack/wire/router_advertisement.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "stack/wire/checksum.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ip_protocol.h"
#include "stack/wire/neighbor_discovery.h"

namespace tapstack::wire {
namespace {

constexpr std::size_t kNdOptionUnit = 8;  // option lengths count 8-byte units (RFC 4861 4.6)
constexpr std::uint8_t kPrefixInformationType = 3;  // RFC 4861 4.6.2
constexpr std::uint8_t kMtuType = 5;                // RFC 4861 4.6.4

NdPrefixInformation ReadPrefix(std::span<const std::uint8_t> option) {
  NdPrefixInformation prefix;
  prefix.prefix_len = option[2];
  prefix.on_link = (option[3] & 0x80) != 0;
  prefix.autonomous = (option[3] & 0x40) != 0;
  prefix.valid_lifetime_s = LoadBe32(&option[4]);
  prefix.preferred_lifetime_s = LoadBe32(&option[8]);
  prefix.prefix = Ipv6Address::FromBytes(&option[16]);
  return prefix;
}

}  // namespace

Parsed<RouterAdvertisementView> RouterAdvertisementView::Parse(
    std::span<const std::uint8_t> message) {
  if (message.size() < kRouterAdvertisementLen) return ParseError::kTruncatedHeader;
  RouterAdvertisementRepr repr;
  repr.cur_hop_limit = message[4];
  repr.managed = (message[5] & 0x80) != 0;
  repr.other_config = (message[5] & 0x40) != 0;
  repr.router_lifetime_s = LoadBe16(&message[6]);
  repr.reachable_time_ms = LoadBe32(&message[8]);
  repr.retrans_timer_ms = LoadBe32(&message[12]);
  const std::span<const std::uint8_t> options = message.subspan(kRouterAdvertisementLen);
  std::size_t offset = 0;
  while (offset < options.size()) {
    if (options.size() - offset < 2) return ParseError::kNdOptionPastEnd;
    const std::uint8_t type = options[offset];
    const std::size_t option_len = std::size_t{options[offset + 1]} * kNdOptionUnit;
    if (option_len == 0) return ParseError::kNdOptionZeroLength;
    if (option_len > options.size() - offset) return ParseError::kNdOptionPastEnd;
    const std::span<const std::uint8_t> option = options.subspan(offset, option_len);
    switch (type) {
      case NdOptionType::kSourceLinkLayerAddress:
        if (option_len != kNdLinkLayerOptionLen) return ParseError::kNdOptionWrongLength;
        if (!repr.source_link_layer_address) {
          repr.source_link_layer_address = MacAddress::FromBytes(&option[2]);
        }
        break;
      case kPrefixInformationType:
        if (option_len != kNdPrefixInformationLen) return ParseError::kNdOptionWrongLength;
        repr.prefixes.push_back(ReadPrefix(option));
        break;
      case kMtuType:
        if (option_len != kNdMtuOptionLen) return ParseError::kNdOptionWrongLength;
        if (!repr.mtu) repr.mtu = LoadBe32(&option[4]);
        break;
      default:
        break;
    }
    offset += option_len;
  }
  return RouterAdvertisementView(message, std::move(repr));
}

std::size_t RouterAdvertisementLen(const RouterAdvertisementRepr& repr) {
  return kRouterAdvertisementLen + (repr.source_link_layer_address ? kNdLinkLayerOptionLen : 0) +
         (repr.mtu ? kNdMtuOptionLen : 0) + repr.prefixes.size() * kNdPrefixInformationLen;
}

std::size_t WriteRouterAdvertisement(const RouterAdvertisementRepr& repr, const Ipv6Address& src,
                                     const Ipv6Address& dst, std::span<std::uint8_t> out) {
  const std::size_t length = RouterAdvertisementLen(repr);
  if (out.size() < length) return 0;
  std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(length), std::uint8_t{0});
  out[0] = static_cast<std::uint8_t>(Icmpv6Type::kRouterAdvertisement);
  out[4] = repr.cur_hop_limit;
  out[5] = static_cast<std::uint8_t>((repr.managed ? 0x80 : 0) | (repr.other_config ? 0x40 : 0));
  StoreBe16(&out[6], repr.router_lifetime_s);
  StoreBe32(&out[8], repr.reachable_time_ms);
  StoreBe32(&out[12], repr.retrans_timer_ms);
  std::size_t offset = kRouterAdvertisementLen;
  if (repr.source_link_layer_address) {
    out[offset] = NdOptionType::kSourceLinkLayerAddress;
    out[offset + 1] = 1;
    repr.source_link_layer_address->ToBytes(&out[offset + 2]);
    offset += kNdLinkLayerOptionLen;
  }
  if (repr.mtu) {
    out[offset] = kMtuType;
    out[offset + 1] = 1;
    StoreBe32(&out[offset + 4], *repr.mtu);
    offset += kNdMtuOptionLen;
  }
  for (const NdPrefixInformation& prefix : repr.prefixes) {
    out[offset] = kPrefixInformationType;
    out[offset + 1] = 4;
    out[offset + 2] = prefix.prefix_len;
    out[offset + 3] =
        static_cast<std::uint8_t>((prefix.on_link ? 0x80 : 0) | (prefix.autonomous ? 0x40 : 0));
    StoreBe32(&out[offset + 4], prefix.valid_lifetime_s);
    StoreBe32(&out[offset + 8], prefix.preferred_lifetime_s);
    prefix.prefix.ToBytes(&out[offset + 16]);
    offset += kNdPrefixInformationLen;
  }
  const std::uint16_t checksum = TransportChecksum(
      src, dst, IpProtocol::kIcmpv6, std::span<const std::uint8_t>(out).first(length));
  StoreBe16(&out[2], checksum);
  return length;
}

}  // namespace tapstack::wire
