// Ethernet II frames (IEEE 802.3 clause 3.2.6 with an EtherType, RFC 894 for IPv4 over Ethernet),
// as a TAP device delivers them: destination, source, EtherType, payload; no preamble, no FCS.
//
// Not handled here: 802.1Q VLAN tags (EtherType 0x8100 is reported as is, the tag stays in the
// payload) and 802.3 length fields (values below 0x0600 are reported as is). The 60-byte minimum
// frame size is not enforced on input; padding is the upper layer's business (IPv4 ignores bytes
// beyond its total length).
#ifndef TAPSTACK_STACK_WIRE_ETHERNET_H_
#define TAPSTACK_STACK_WIRE_ETHERNET_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/bytes.h"
#include "stack/wire/parse_result.h"

namespace tapstack::wire {

inline constexpr std::size_t kEthernetHeaderLen = 14;

// EtherType values (IANA "IEEE 802 Numbers"). Plain integers, since EthernetRepr::ethertype holds
// whatever the wire carried.
struct EtherType {
  static constexpr std::uint16_t kIpv4 = 0x0800;
  static constexpr std::uint16_t kArp = 0x0806;
  static constexpr std::uint16_t kIpv6 = 0x86dd;  // RFC 2464 3
};

struct EthernetRepr {
  MacAddress dst;
  MacAddress src;
  std::uint16_t ethertype = 0;

  friend bool operator==(const EthernetRepr&, const EthernetRepr&) = default;
};

// A read-only view over one received frame. Parse checks the length once; afterwards no accessor
// can read outside `frame`. The view does not own the bytes: they must outlive it.
class EthernetView {
 public:
  // Fails with kTruncatedHeader when the frame is shorter than the 14-byte header.
  static Parsed<EthernetView> Parse(std::span<const std::uint8_t> frame);

  MacAddress dst() const { return MacAddress::FromBytes(&frame_[0]); }
  MacAddress src() const { return MacAddress::FromBytes(&frame_[6]); }
  std::uint16_t ethertype() const { return LoadBe16(&frame_[12]); }
  // Everything after the header, link-layer padding included.
  std::span<const std::uint8_t> payload() const { return frame_.subspan(kEthernetHeaderLen); }
  // The whole frame.
  std::span<const std::uint8_t> bytes() const { return frame_; }

  EthernetRepr Repr() const { return EthernetRepr{dst(), src(), ethertype()}; }

 private:
  explicit EthernetView(std::span<const std::uint8_t> frame) : frame_(frame) {}

  std::span<const std::uint8_t> frame_;
};

// Writes the 14-byte header into the start of `out` and returns 14, or writes nothing and returns
// 0 when `out` is shorter than that. The caller writes the payload at out[14...].
std::size_t WriteEthernet(const EthernetRepr& repr, std::span<std::uint8_t> out);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_ETHERNET_H_
