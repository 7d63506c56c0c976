// TCP segments (RFC 9293 3.1).
//
//   0 source port   2 destination port   4 sequence number   8 acknowledgment number
//   12 data offset(4) reserved(4)   13 flags (CWR ECE URG ACK PSH RST SYN FIN)   14 window
//   16 checksum   18 urgent pointer   20 options...   data offset * 4: data
//
// The checksum covers the IPv4 pseudo-header (RFC 9293 3.1), the header and the data, so a view
// must span exactly the segment: the IPv4 payload, which Ipv4View ends at the total length.
#ifndef TAPSTACK_STACK_WIRE_TCP_H_
#define TAPSTACK_STACK_WIRE_TCP_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/bytes.h"
#include "stack/wire/ipv6_address.h"
#include "stack/wire/parse_result.h"
#include "stack/wire/tcp_options.h"

namespace tapstack::wire {

inline constexpr std::size_t kTcpMinHeaderLen = 20;
inline constexpr std::size_t kTcpMaxHeaderLen = 60;

// Control bits (RFC 9293 3.1; ECE and CWR from RFC 3168 6.1), to be or-ed into a uint8_t.
struct TcpFlags {
  static constexpr std::uint8_t kFin = 0x01;
  static constexpr std::uint8_t kSyn = 0x02;
  static constexpr std::uint8_t kRst = 0x04;
  static constexpr std::uint8_t kPsh = 0x08;
  static constexpr std::uint8_t kAck = 0x10;
  static constexpr std::uint8_t kUrg = 0x20;
  static constexpr std::uint8_t kEce = 0x40;
  static constexpr std::uint8_t kCwr = 0x80;
};

// One segment as the TCP engine thinks of it. Sequence numbers are raw here; the engine wraps them
// in its wrap-around type. `payload` is not owned.
struct TcpRepr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;  // as sent, before any window scaling
  std::uint16_t urgent_pointer = 0;
  TcpOptions options;
  std::span<const std::uint8_t> payload;
  // More payload, sent right after `payload`: a sender whose buffer is a ring hands over the two
  // runs of a wrapped segment without first copying them together.
  std::span<const std::uint8_t> payload_continued;

  std::size_t payload_size() const { return payload.size() + payload_continued.size(); }
};

// A read-only view over one TCP segment. Parse validates length >= 20, data offset >= 5 and
// data offset * 4 <= length; afterwards no accessor reads outside the segment. Options are not
// parsed (ParseTcpOptions(options_bytes()) does that) and the checksum is not checked
// (checksum_valid()). Errors: kTruncatedHeader (under 20 bytes), kBadHeaderLength (data offset
// below 5), kHeaderPastBuffer.
class TcpView {
 public:
  static Parsed<TcpView> Parse(std::span<const std::uint8_t> segment);

  std::uint16_t src_port() const { return LoadBe16(&segment_[0]); }
  std::uint16_t dst_port() const { return LoadBe16(&segment_[2]); }
  std::uint32_t seq() const { return LoadBe32(&segment_[4]); }
  std::uint32_t ack() const { return LoadBe32(&segment_[8]); }
  std::uint8_t data_offset() const { return segment_[12] >> 4; }             // in 32-bit words
  std::size_t header_len() const { return std::size_t{data_offset()} * 4; }  // in bytes
  std::uint8_t flags() const { return segment_[13]; }                        // TcpFlags bits
  std::uint16_t window() const { return LoadBe16(&segment_[14]); }
  std::uint16_t checksum() const { return LoadBe16(&segment_[16]); }
  std::uint16_t urgent_pointer() const { return LoadBe16(&segment_[18]); }

  // `src` and `dst` are the addresses of the IPv4 header that carried the segment.
  bool checksum_valid(Ipv4Address src, Ipv4Address dst) const;
  // The same over the IPv6 pseudo-header (RFC 9293 3.1 refers to RFC 8200 8.1 for it).
  bool checksum_valid(const Ipv6Address& src, const Ipv6Address& dst) const;

  std::span<const std::uint8_t> options_bytes() const {
    return segment_.subspan(kTcpMinHeaderLen, header_len() - kTcpMinHeaderLen);
  }
  std::span<const std::uint8_t> payload() const { return segment_.subspan(header_len()); }
  std::span<const std::uint8_t> bytes() const { return segment_; }

  // Parses the options too, so fails (with ParseTcpOptions' error) when they are malformed. The
  // payload points into the view's bytes.
  Parsed<TcpRepr> Repr() const;

 private:
  explicit TcpView(std::span<const std::uint8_t> segment) : segment_(segment) {}

  std::span<const std::uint8_t> segment_;
};

// The header length WriteTcp uses for `options`: 20 plus the options padded to 4 bytes. Above
// kTcpMaxHeaderLen (60) the options cannot be sent.
std::size_t TcpHeaderLen(const TcpOptions& options);

// What WriteTcp puts in the checksum field.
enum class TcpChecksum : std::uint8_t {
  kComplete,  // the checksum (RFC 9293 3.1)
  kPartial,   // the pseudo-header's sum only, folded, not complemented: for a device with
              // transmit checksum offload to finish (stack/tx_offload.h)
};

// Writes header, options and payload with a correct checksum for the pseudo-header of `src` and
// `dst` into `out`, and returns the bytes written (TcpHeaderLen + payload size). Writes nothing
// and returns 0 when `out` is too small, the options do not fit in a header (see
// WriteTcpOptions), or the segment would exceed 65535 bytes. The payload may not overlap `out`.
std::size_t WriteTcp(const TcpRepr& repr, Ipv4Address src, Ipv4Address dst,
                     std::span<std::uint8_t> out, TcpChecksum mode = TcpChecksum::kComplete);
// The same over the IPv6 pseudo-header (RFC 8200 8.1).
std::size_t WriteTcp(const TcpRepr& repr, const Ipv6Address& src, const Ipv6Address& dst,
                     std::span<std::uint8_t> out, TcpChecksum mode = TcpChecksum::kComplete);

}  // namespace tapstack::wire

#endif  // TAPSTACK_STACK_WIRE_TCP_H_
