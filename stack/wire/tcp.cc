#include "stack/wire/tcp.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/checksum.h"
#include "stack/wire/ipv4.h"

namespace tapstack::wire {

Parsed<TcpView> TcpView::Parse(std::span<const std::uint8_t> segment) {
  if (segment.size() < kTcpMinHeaderLen) return ParseError::kTruncatedHeader;
  const std::size_t header_len = static_cast<std::size_t>(segment[12] >> 4) * 4;
  if (header_len < kTcpMinHeaderLen) return ParseError::kBadHeaderLength;
  if (header_len > segment.size()) return ParseError::kHeaderPastBuffer;
  return TcpView(segment);
}

bool TcpView::checksum_valid(Ipv4Address src, Ipv4Address dst) const {
  return TransportChecksum(src, dst, IpProtocol::kTcp, segment_) == 0;
}

bool TcpView::checksum_valid(const Ipv6Address& src, const Ipv6Address& dst) const {
  return TransportChecksum(src, dst, IpProtocol::kTcp, segment_) == 0;
}

Parsed<TcpRepr> TcpView::Repr() const {
  const Parsed<TcpOptions> options = ParseTcpOptions(options_bytes());
  if (!options.ok()) return options.error();
  TcpRepr repr;
  repr.src_port = src_port();
  repr.dst_port = dst_port();
  repr.seq = seq();
  repr.ack = ack();
  repr.flags = flags();
  repr.window = window();
  repr.urgent_pointer = urgent_pointer();
  repr.options = *options;
  repr.payload = payload();
  return repr;
}

std::size_t TcpHeaderLen(const TcpOptions& options) {
  return kTcpMinHeaderLen + TcpOptionsLen(options);  // TcpOptionsLen is a multiple of 4
}

namespace {

// WriteTcp for either family: `pseudo_header` holds the sum of the family's pseudo-header.
std::size_t WriteTcpWithPseudoHeader(const TcpRepr& repr, std::size_t segment_len,
                                     ChecksumAccumulator checksum, TcpChecksum mode,
                                     std::span<std::uint8_t> out) {
  const std::size_t options_len = TcpOptionsLen(repr.options);
  const std::size_t header_len = kTcpMinHeaderLen + options_len;
  if (WriteTcpOptions(repr.options, out.subspan(kTcpMinHeaderLen)) != options_len) return 0;
  StoreBe16(&out[0], repr.src_port);
  StoreBe16(&out[2], repr.dst_port);
  StoreBe32(&out[4], repr.seq);
  StoreBe32(&out[8], repr.ack);
  out[12] = static_cast<std::uint8_t>((header_len / 4) << 4);  // reserved bits zero
  out[13] = repr.flags;
  StoreBe16(&out[14], repr.window);
  StoreBe16(&out[16], 0);
  StoreBe16(&out[18], repr.urgent_pointer);
  if (mode == TcpChecksum::kPartial) {
    // The device sums header and payload into the field: it holds the pseudo-header's sum, folded
    // and not complemented (the kernel's CHECKSUM_PARTIAL, __tcp_v4_send_check).
    std::copy(repr.payload.begin(), repr.payload.end(), out.begin() + header_len);
    std::copy(repr.payload_continued.begin(), repr.payload_continued.end(),
              out.begin() + header_len + repr.payload.size());
    StoreBe16(&out[16], static_cast<std::uint16_t>(~checksum.Finish()));
    return segment_len;
  }
  // Summed in stream order: the header as it stands (checksum field zero), then the payload, which
  // is copied and summed in the same pass because it may be cold (the send buffer).
  checksum.Add(out.first(header_len));
  checksum.CopyAndAdd(repr.payload, out.subspan(header_len));
  checksum.CopyAndAdd(repr.payload_continued, out.subspan(header_len + repr.payload.size()));
  StoreBe16(&out[16], checksum.Finish());
  return segment_len;
}

// The segment's length when it fits both a TCP header and `out`, 0 otherwise.
std::size_t SegmentLength(const TcpRepr& repr, std::span<std::uint8_t> out) {
  const std::size_t header_len = TcpHeaderLen(repr.options);
  const std::size_t segment_len = header_len + repr.payload_size();
  if (header_len > kTcpMaxHeaderLen || segment_len > 0xffff || out.size() < segment_len) return 0;
  return segment_len;
}

}  // namespace

std::size_t WriteTcp(const TcpRepr& repr, Ipv4Address src, Ipv4Address dst,
                     std::span<std::uint8_t> out, TcpChecksum mode) {
  const std::size_t segment_len = SegmentLength(repr, out);
  if (segment_len == 0) return 0;
  ChecksumAccumulator checksum;
  AddIpv4PseudoHeader(checksum, src, dst, IpProtocol::kTcp,
                      static_cast<std::uint16_t>(segment_len));
  return WriteTcpWithPseudoHeader(repr, segment_len, checksum, mode, out);
}

std::size_t WriteTcp(const TcpRepr& repr, const Ipv6Address& src, const Ipv6Address& dst,
                     std::span<std::uint8_t> out, TcpChecksum mode) {
  const std::size_t segment_len = SegmentLength(repr, out);
  if (segment_len == 0) return 0;
  ChecksumAccumulator checksum;
  AddIpv6PseudoHeader(checksum, src, dst, IpProtocol::kTcp,
                      static_cast<std::uint32_t>(segment_len));
  return WriteTcpWithPseudoHeader(repr, segment_len, checksum, mode, out);
}

}  // namespace tapstack::wire
