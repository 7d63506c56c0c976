// Frames out: wraps a payload in an Ethernet II header and hands it to the embedder's sink.
#ifndef TAPSTACK_STACK_ETHERNET_OUTPUT_H_
#define TAPSTACK_STACK_ETHERNET_OUTPUT_H_

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "stack/counters.h"
#include "stack/wire/bytes.h"

namespace tapstack {

// Receives every frame the stack emits. The span is valid only during the call.
using FrameSink = std::function<void(std::span<const std::uint8_t> frame)>;

class EthernetOutput {
 public:
  EthernetOutput(wire::MacAddress source, FrameSink sink, Counters& counters);

  // Sends `payload` to `destination`, padded to the 60-byte Ethernet minimum (IEEE 802.3 3.2.8;
  // the frame check sequence is the device's business).
  void Send(const wire::MacAddress& destination, std::uint16_t ethertype,
            std::span<const std::uint8_t> payload);

  const wire::MacAddress& source() const { return source_; }

 private:
  wire::MacAddress source_;
  FrameSink sink_;
  Counters& counters_;
  std::vector<std::uint8_t> frame_;  // reused for every frame: no allocation per send
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_ETHERNET_OUTPUT_H_
