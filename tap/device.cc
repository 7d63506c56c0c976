#include "tap/device.h"

#include "absl/strings/str_cat.h"

namespace tapstack::tap {

absl::Status Device::CheckSendSize(std::span<const std::uint8_t> frame) {
  if (frame.size() >= kEthernetHeaderSize && frame.size() <= MaxFrameSize(mtu())) {
    return absl::OkStatus();
  }
  ++stats_.tx_dropped_invalid;
  return absl::InvalidArgumentError(
      absl::StrCat("frame of ", frame.size(), " bytes: an Ethernet frame needs ",
                   kEthernetHeaderSize, " to ", MaxFrameSize(mtu()), " bytes"));
}

}  // namespace tapstack::tap
