// Frames out: wraps a payload in an Ethernet II header and hands it to the embedder's sink.
//
// The frame is built once, in place, in a buffer this class owns: the layer above writes its bytes
// straight into the payload area, which sits behind 14 bytes of headroom for the Ethernet header,
// and the header is written in front of it afterwards. Nothing is copied on the way to the sink.
#ifndef TAPSTACK_STACK_ETHERNET_OUTPUT_H_
#define TAPSTACK_STACK_ETHERNET_OUTPUT_H_

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "absl/functional/function_ref.h"
#include "stack/counters.h"
#include "stack/wire/bytes.h"

namespace tapstack {

// Receives every frame the stack emits. The span is valid only during the call.
using FrameSink = std::function<void(std::span<const std::uint8_t> frame)>;

// Writes a layer's bytes into the span it is given (exactly the length the caller asked for) and
// returns how many it wrote. Anything other than the whole span cancels the send: a frame never
// goes out partly written.
using PayloadWriter = absl::FunctionRef<std::size_t(std::span<std::uint8_t> out)>;

class EthernetOutput {
 public:
  EthernetOutput(wire::MacAddress source, FrameSink sink, Counters& counters);

  // Sends `payload` to `destination`, padded to the 60-byte Ethernet minimum (IEEE 802.3 3.2.8;
  // the frame check sequence is the device's business).
  void Send(const wire::MacAddress& destination, std::uint16_t ethertype,
            std::span<const std::uint8_t> payload);

  // The same, built in place: `write_payload` fills the `payload_length` bytes behind the header
  // in the frame buffer itself. Returns false, sending nothing, when it wrote anything else.
  bool Send(const wire::MacAddress& destination, std::uint16_t ethertype,
            std::size_t payload_length, PayloadWriter write_payload);

  const wire::MacAddress& source() const { return source_; }

 private:
  wire::MacAddress source_;
  FrameSink sink_;
  Counters& counters_;
  // Reused for every frame: no allocation per send once it has held the largest frame.
  std::vector<std::uint8_t> frame_;
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_ETHERNET_OUTPUT_H_
