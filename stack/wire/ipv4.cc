#include "stack/wire/ipv4.h"

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/wire/checksum.h"

namespace tapstack::wire {

Parsed<Ipv4View> Ipv4View::Parse(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kIpv4MinHeaderLen) return ParseError::kTruncatedHeader;
  if ((bytes[0] >> 4) != 4) return ParseError::kBadVersion;
  const std::size_t header_len = std::size_t{bytes[0] & 0x0fu} * 4;
  if (header_len < kIpv4MinHeaderLen) return ParseError::kBadHeaderLength;
  if (header_len > bytes.size()) return ParseError::kHeaderPastBuffer;
  const std::size_t total_length = LoadBe16(&bytes[2]);
  if (total_length < header_len) return ParseError::kTotalLengthBelowHeader;
  if (total_length > bytes.size()) return ParseError::kTotalLengthPastBuffer;
  return Ipv4View(bytes.first(total_length));
}

bool Ipv4View::header_checksum_valid() const { return InternetChecksum(header()) == 0; }

Ipv4Repr Ipv4View::Repr() const {
  Ipv4Repr repr;
  repr.src = src();
  repr.dst = dst();
  repr.protocol = protocol();
  repr.ttl = ttl();
  repr.identification = identification();
  repr.dont_fragment = dont_fragment();
  repr.dscp_ecn = dscp_ecn();
  repr.payload_len = static_cast<std::uint16_t>(payload().size());
  return repr;
}

std::size_t WriteIpv4Header(const Ipv4Repr& repr, std::span<std::uint8_t> out) {
  const std::size_t total_length = kIpv4MinHeaderLen + repr.payload_len;
  if (out.size() < kIpv4MinHeaderLen || total_length > 0xffff) return 0;
  out[0] = 0x45;  // version 4, IHL 5
  out[1] = repr.dscp_ecn;
  StoreBe16(&out[2], static_cast<std::uint16_t>(total_length));
  StoreBe16(&out[4], repr.identification);
  StoreBe16(&out[6], repr.dont_fragment ? 0x4000 : 0);  // flags; fragment offset 0
  out[8] = repr.ttl;
  out[9] = repr.protocol;
  StoreBe16(&out[10], 0);
  repr.src.ToBytes(&out[12]);
  repr.dst.ToBytes(&out[16]);
  StoreBe16(&out[10], InternetChecksum(out.first(kIpv4MinHeaderLen)));
  return kIpv4MinHeaderLen;
}

}  // namespace tapstack::wire
