#include "stack/wire/icmp.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "stack/wire/checksum.h"

namespace tapstack::wire {

std::size_t WriteIcmpMessage(std::uint8_t type, std::uint8_t code, std::uint32_t rest_of_header,
                             std::span<const std::uint8_t> data, ChecksumAccumulator checksum,
                             std::span<std::uint8_t> out) {
  const std::size_t message_len = kIcmpHeaderLen + data.size();
  if (out.size() < message_len) return 0;
  out[0] = type;
  out[1] = code;
  StoreBe16(&out[2], 0);
  StoreBe32(&out[4], rest_of_header);
  if (!data.empty()) std::memmove(&out[kIcmpHeaderLen], data.data(), data.size());
  checksum.Add(out.first(message_len));
  StoreBe16(&out[2], checksum.Finish());
  return message_len;
}

Parsed<IcmpView> IcmpView::Parse(std::span<const std::uint8_t> message) {
  if (message.size() < kIcmpHeaderLen) return ParseError::kTruncatedHeader;
  return IcmpView(message);
}

bool IcmpView::checksum_valid() const { return InternetChecksum(message_) == 0; }

std::size_t WriteIcmpEcho(IcmpType type, std::uint16_t identifier, std::uint16_t sequence,
                          std::span<const std::uint8_t> payload, std::span<std::uint8_t> out) {
  return WriteIcmpMessage(static_cast<std::uint8_t>(type), 0,
                          (std::uint32_t{identifier} << 16) | sequence, payload, {}, out);
}

std::size_t WriteIcmpDestinationUnreachable(std::uint8_t code, std::span<const std::uint8_t> quoted,
                                            std::span<std::uint8_t> out) {
  return WriteIcmpMessage(static_cast<std::uint8_t>(IcmpType::kDestinationUnreachable), code, 0,
                          quoted, {}, out);
}

std::span<const std::uint8_t> IcmpErrorQuote(const Ipv4View& datagram) {
  constexpr std::size_t kQuotedDataLen = 8;
  const std::size_t quoted_len =
      datagram.header_len() + std::min(kQuotedDataLen, datagram.payload().size());
  return datagram.bytes().first(quoted_len);
}

}  // namespace tapstack::wire
