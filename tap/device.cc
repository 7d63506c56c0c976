#include "tap/device.h"

#include <errno.h>

namespace tapstack::tap {

Result<ReceivedFrame> Device::ReceiveFrame(std::span<std::uint8_t> buffer, timers::TimePoint now) {
  const Result<std::size_t> size = Receive(buffer, now);
  if (!size.ok()) return size.error();
  return ReceivedFrame{.size = *size};
}

DeviceCapabilities Device::capabilities() const {
  return DeviceCapabilities{.max_receive_frame = MaxFrameSize(mtu())};
}

std::error_code Device::CheckSendSize(std::span<const std::uint8_t> frame) {
  if (frame.size() >= kEthernetHeaderSize && frame.size() <= MaxFrameSize(mtu())) return {};
  ++stats_.tx_dropped_invalid;
  // As a datagram socket answers: too long is EMSGSIZE, anything else malformed is EINVAL.
  return Errno(frame.size() > MaxFrameSize(mtu()) ? EMSGSIZE : EINVAL);
}

}  // namespace tapstack::tap
