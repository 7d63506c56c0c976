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
  const std::size_t length =
      std::max(kMinimumFrameLen, wire::kEthernetHeaderLen + payload.size());
  frame_.assign(length, 0);
  wire::WriteEthernet(wire::EthernetRepr{destination, source_, ethertype}, frame_);
  std::copy(payload.begin(), payload.end(), frame_.begin() + wire::kEthernetHeaderLen);
  counters_.Increment(Counter::kTxFrames);
  sink_(frame_);
}

}  // namespace tapstack
