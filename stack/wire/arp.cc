#include "stack/wire/arp.h"

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/ethernet.h"

namespace tapstack::wire {
namespace {

constexpr std::size_t kArpFixedLen = 8;  // hardware/protocol types and lengths, opcode

}  // namespace

Parsed<ArpView> ArpView::Parse(std::span<const std::uint8_t> packet) {
  if (packet.size() < kArpFixedLen) return ParseError::kTruncatedHeader;
  const std::uint16_t hardware_type = LoadBe16(&packet[0]);
  const std::uint16_t protocol_type = LoadBe16(&packet[2]);
  const std::uint8_t hardware_len = packet[4];
  const std::uint8_t protocol_len = packet[5];
  if (hardware_type != kArpHardwareEthernet) return ParseError::kUnsupportedHardwareType;
  if (protocol_type != EtherType::kIpv4) return ParseError::kUnsupportedProtocolType;
  if (hardware_len != MacAddress::kLength || protocol_len != Ipv4Address::kLength) {
    return ParseError::kBadAddressLength;
  }
  if (packet.size() < kArpPacketLen) return ParseError::kTruncatedHeader;
  return ArpView(packet.first(kArpPacketLen));
}

std::size_t WriteArp(const ArpRepr& repr, std::span<std::uint8_t> out) {
  if (out.size() < kArpPacketLen) return 0;
  StoreBe16(&out[0], kArpHardwareEthernet);
  StoreBe16(&out[2], EtherType::kIpv4);
  out[4] = MacAddress::kLength;
  out[5] = Ipv4Address::kLength;
  StoreBe16(&out[6], static_cast<std::uint16_t>(repr.op));
  repr.sender_mac.ToBytes(&out[8]);
  repr.sender_ip.ToBytes(&out[14]);
  repr.target_mac.ToBytes(&out[18]);
  repr.target_ip.ToBytes(&out[24]);
  return kArpPacketLen;
}

}  // namespace tapstack::wire
