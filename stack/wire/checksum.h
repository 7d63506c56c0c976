// The Internet checksum (RFC 1071), the IPv4 pseudo-header used by TCP (RFC 9293 3.1), the IPv6
// pseudo-header of every upper layer over IPv6 (RFC 8200 8.1), and incremental update (RFC 1624).
//
// Every function here returns the checksum as a host-order integer: store it with StoreBe16 into
// the checksum field. Computing the checksum over data that already holds a correct checksum field
// gives 0, which is how the views verify.
#ifndef TAPSTACK_STACK_WIRE_CHECKSUM_H_
#define TAPSTACK_STACK_WIRE_CHECKSUM_H_

#include <cstdint>
#include <span>

#include "stack/wire/bytes.h"
#include "stack/wire/ipv6_address.h"

namespace tapstack::wire {

// Sums 16-bit big-endian words in one's complement arithmetic (RFC 1071 1). Bytes may be added in
// pieces of any length: an odd-length piece leaves its last byte waiting for the first byte of the
// next piece, so the result is the same as for one contiguous buffer. A trailing odd byte is padded
// with a zero byte at Finish() (RFC 1071 1, step (1)).
//
// Add reads many bytes at a time (any alignment, in vector lanes where the CPU has them) and sums
// them in host order, swapping once at the end (RFC 1071 2(B)); the result is bit-for-bit what a
// 16-bit word loop gives.
class ChecksumAccumulator {
 public:
  void Add(std::span<const std::uint8_t> bytes);
  // Adds `bytes` and copies them to the start of `destination` (at least as long, not overlapping)
  // in the same pass: building a segment this way reads its payload once, not twice.
  void CopyAndAdd(std::span<const std::uint8_t> bytes, std::span<std::uint8_t> destination);
  // Adds `value` as the next two bytes in network order.
  void AddU16(std::uint16_t value);
  // Adds `value` as the next four bytes in network order.
  void AddU32(std::uint32_t value);
  // The one's complement of the one's complement sum: the value for the checksum field. The
  // accumulator is left unchanged, so more bytes may still be added.
  std::uint16_t Finish() const;

 private:
  // Add and CopyAndAdd: the bytes are summed, and with kCopy also copied to `destination`.
  template <bool kCopy>
  void AddBytes(std::span<const std::uint8_t> bytes, std::uint8_t* destination);

  // 16-bit words, and each Add's bulk folded to 16 bits, added without folding; zero only when
  // every byte added was zero. Cannot overflow below 2^47 calls or bytes.
  std::uint64_t sum_ = 0;
  bool has_pending_byte_ = false;
  std::uint8_t pending_byte_ = 0;  // the high half of a word whose low half has not arrived yet
};

// RFC 1071 over one buffer.
std::uint16_t InternetChecksum(std::span<const std::uint8_t> bytes);

// Adds the IPv4 pseudo-header of RFC 9293 3.1 (source, destination, zero, protocol, TCP length) to
// `accumulator`. `transport_length` is the length of the whole transport segment in bytes.
void AddIpv4PseudoHeader(ChecksumAccumulator& accumulator, Ipv4Address src, Ipv4Address dst,
                         std::uint8_t protocol, std::uint16_t transport_length);

// The checksum of the pseudo-header followed by `segment` (TCP or UDP header and data). With the
// segment's checksum field zeroed this is the value to store; over a received segment it is 0 when
// the checksum is correct. Segments longer than 65535 bytes cannot be described by the
// pseudo-header; their length is truncated to 16 bits.
std::uint16_t TransportChecksum(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol,
                                std::span<const std::uint8_t> segment);

// Adds the IPv6 pseudo-header of RFC 8200 8.1 (source, destination, upper-layer packet length as
// 32 bits, three zero bytes, next header) to `accumulator`. `next_header` is the upper-layer
// protocol (6 for TCP, 58 for ICMPv6, which uses it too, RFC 4443 2.3), not the fixed header's
// next header when extension headers come between; `src` and `dst` are the packet's (a routing
// header's final destination is not supported).
void AddIpv6PseudoHeader(ChecksumAccumulator& accumulator, const Ipv6Address& src,
                         const Ipv6Address& dst, std::uint8_t next_header,
                         std::uint32_t upper_layer_length);

// The checksum of the IPv6 pseudo-header followed by `segment` (TCP, UDP or ICMPv6 message), used
// as the IPv4 TransportChecksum is.
std::uint16_t TransportChecksum(const Ipv6Address& src, const Ipv6Address& dst,
                                std::uint8_t next_header, std::span<const std::uint8_t> segment);

// RFC 1624 3, equation 3: the new checksum after one 16-bit field changes from `old_field` to
// `new_field`, HC' = ~(~HC + ~m + m'). Equals a full recomputation except where the two differ
// only in the representation of zero: when every covered word becomes zero, a full recomputation
// gives 0xffff and this gives 0x0000 (RFC 1624 4 explains why both are acceptable).
std::uint16_t ChecksumUpdate16(std::uint16_t old_checksum, std::uint16_t old_field,
                               std::uint16_t new_field);

// The same for a 32-bit field aligned on a 16-bit boundary (an address, a sequence number): both
// halves are updated at once.
std::uint16_t ChecksumUpdate32(std::uint16_t old_checksum, std::uint32_t old_field,
                               std::uint32_t new_field);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_CHECKSUM_H_
