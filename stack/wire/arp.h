// ARP packets (RFC 826) for IPv4 over Ethernet, the only combination the stack speaks.
//
// Layout (RFC 826, "Packet format"), 28 bytes for Ethernet/IPv4:
//   0 hardware type (1 = Ethernet)   2 protocol type (0x0800 = IPv4)
//   4 hardware length (6)            5 protocol length (4)          6 opcode
//   8 sender MAC  14 sender IP  18 target MAC  24 target IP
#ifndef TAPSTACK_STACK_WIRE_ARP_H_
#define TAPSTACK_STACK_WIRE_ARP_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/bytes.h"
#include "stack/wire/parse_result.h"

namespace tapstack::wire {

inline constexpr std::size_t kArpPacketLen = 28;          // for Ethernet and IPv4 addresses
inline constexpr std::uint16_t kArpHardwareEthernet = 1;  // RFC 826 ar$hrd, IANA "Hardware Types"

// ar$op. Values other than these two (RARP, InARP) parse but carry no meaning for the stack.
enum class ArpOp : std::uint16_t { kRequest = 1, kReply = 2 };

struct ArpRepr {
  ArpOp op = ArpOp::kRequest;
  MacAddress sender_mac;
  Ipv4Address sender_ip;
  MacAddress target_mac;  // ignored in requests (RFC 826 "Packet Generation"), usually zero
  Ipv4Address target_ip;

  friend bool operator==(const ArpRepr&, const ArpRepr&) = default;
};

// A read-only view over an ARP packet (an Ethernet payload). Parse accepts only hardware type
// Ethernet with 6-byte addresses and protocol type IPv4 with 4-byte addresses, and at least 28
// bytes; bytes beyond 28 (Ethernet padding) are ignored. Errors: kTruncatedHeader (under 8 bytes,
// or under 28 once the types and lengths are known good), kUnsupportedHardwareType,
// kUnsupportedProtocolType, kBadAddressLength.
class ArpView {
 public:
  static Parsed<ArpView> Parse(std::span<const std::uint8_t> packet);

  ArpOp op() const { return static_cast<ArpOp>(LoadBe16(&packet_[6])); }
  MacAddress sender_mac() const { return MacAddress::FromBytes(&packet_[8]); }
  Ipv4Address sender_ip() const { return Ipv4Address::FromBytes(&packet_[14]); }
  MacAddress target_mac() const { return MacAddress::FromBytes(&packet_[18]); }
  Ipv4Address target_ip() const { return Ipv4Address::FromBytes(&packet_[24]); }

  ArpRepr Repr() const {
    return ArpRepr{op(), sender_mac(), sender_ip(), target_mac(), target_ip()};
  }

 private:
  explicit ArpView(std::span<const std::uint8_t> packet) : packet_(packet) {}

  std::span<const std::uint8_t> packet_;  // exactly kArpPacketLen bytes
};

// Writes the 28-byte packet into the start of `out` and returns 28, or writes nothing and returns
// 0 when `out` is shorter.
std::size_t WriteArp(const ArpRepr& repr, std::span<std::uint8_t> out);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_ARP_H_
