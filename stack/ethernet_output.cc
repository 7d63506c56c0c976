#include "stack/ethernet_output.h"

#include <algorithm>
#include <utility>

#include "stack/wire/ethernet.h"

namespace tapstack {

namespace {
constexpr std::size_t kMinimumFrameLen = 60;  // 64 bytes on the wire less the 4-byte FCS
}  // namespace

EthernetOutput::EthernetOutput(wire::MacAddress source, FrameSink sink, Counters& counters)
    : source_(source), sink_(std::move(sink)), counters_(counters) {}

void EthernetOutput::Send(const wire::MacAddress& destination, std::uint16_t ethertype,
                          std::span<const std::uint8_t> payload) {
  Send(destination, ethertype, payload.size(), [payload](std::span<std::uint8_t> out) {
    std::copy(payload.begin(), payload.end(), out.begin());
    return payload.size();
  });
}

bool EthernetOutput::Send(const wire::MacAddress& destination, std::uint16_t ethertype,
                          std::size_t payload_length, PayloadWriter write_payload,
                          const TxOffload& offload) {
  const std::size_t used = wire::kEthernetHeaderLen + payload_length;
  const std::size_t length = std::max(kMinimumFrameLen, used);
  frame_.resize(length);  // keeps its capacity: grows only until it has held the largest frame
  const std::span<std::uint8_t> frame(frame_);
  if (write_payload(frame.subspan(wire::kEthernetHeaderLen, payload_length)) != payload_length) {
    return false;
  }
  // The buffer holds the previous frame's bytes: the padding must be zeros (IEEE 802.3 3.2.8).
  std::fill(frame.begin() + static_cast<std::ptrdiff_t>(used), frame.end(), std::uint8_t{0});
  wire::WriteEthernet(wire::EthernetRepr{destination, source_, ethertype}, frame);
  counters_.Increment(Counter::kTxFrames);
  sink_(frame, offload);
  return true;
}

}  // namespace tapstack
