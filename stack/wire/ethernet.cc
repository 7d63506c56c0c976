#include "stack/wire/ethernet.h"

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace tapstack::wire {

absl::StatusOr<EthernetView> EthernetView::Parse(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthernetHeaderLen) {
    return absl::InvalidArgumentError(
        absl::StrCat("ethernet: frame of ", frame.size(), " bytes is shorter than the header"));
  }
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
