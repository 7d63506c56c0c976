#include "stack/wire/ethernet.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace tapstack::wire {

Parsed<EthernetView> EthernetView::Parse(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthernetHeaderLen) return ParseError::kTruncatedHeader;
  return EthernetView(frame);
}

std::size_t WriteEthernet(const EthernetRepr& repr, std::span<std::uint8_t> out) {
  if (out.size() < kEthernetHeaderLen) return 0;
  repr.dst.ToBytes(&out[0]);
  repr.src.ToBytes(&out[6]);
  StoreBe16(&out[12], repr.ethertype);
  return kEthernetHeaderLen;
}

}  // namespace tapstack::wire
