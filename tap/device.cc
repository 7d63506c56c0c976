#include "tap/device.h"

#include <errno.h>

#include "stack/wire/tcp_segmentation.h"

namespace tapstack::tap {

Result<ReceivedFrame> Device::ReceiveFrame(std::span<std::uint8_t> buffer, timers::TimePoint now) {
  const Result<std::size_t> size = Receive(buffer, now);
  if (!size.ok()) return size.error();
  return ReceivedFrame{.size = *size};
}

DeviceCapabilities Device::capabilities() const {
  return DeviceCapabilities{.max_receive_frame = MaxFrameSize(mtu())};
}

std::error_code Device::SendWithOffload(std::span<const std::uint8_t> frame,
                                        const TxOffload& offload, timers::TimePoint now) {
  return SendInSoftware(frame, offload, now);
}

std::error_code Device::SendInSoftware(std::span<const std::uint8_t> frame,
                                       const TxOffload& offload, timers::TimePoint now) {
  if (offload.none()) return Send(frame, now);
  if (frame.size() > kMaxCoalescedFrameSize) {
    ++stats_.tx_dropped_invalid;
    return Errno(EMSGSIZE);
  }
  // Send counts what it drops; the first error it returns is passed on, after the rest went.
  std::error_code first_error;
  const std::optional<wire::TcpFrameError> refused = wire::FinishTxOffload(
      frame, offload, offload_scratch_, [&](std::span<const std::uint8_t> segment) {
        ++stats_.tx_software_offloaded;
        const std::error_code error = Send(segment, now);
        if (error && !first_error) first_error = error;
      });
  if (refused) {
    ++stats_.tx_dropped_invalid;
    return Errno(EINVAL);
  }
  return first_error;
}

std::error_code Device::CheckSendSize(std::span<const std::uint8_t> frame) {
  if (frame.size() >= kEthernetHeaderSize && frame.size() <= MaxFrameSize(mtu())) return {};
  ++stats_.tx_dropped_invalid;
  // As a datagram socket answers: too long is EMSGSIZE, anything else malformed is EINVAL.
  return Errno(frame.size() > MaxFrameSize(mtu()) ? EMSGSIZE : EINVAL);
}

}  // namespace tapstack::tap
