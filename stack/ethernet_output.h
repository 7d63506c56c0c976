// Frames out: wraps a payload in an Ethernet II header and hands it to the embedder's sink.
//
// The frame is built once, in place, in a buffer this class owns: the layer above writes its bytes
// straight into the payload area, which sits behind 14 bytes of headroom for the Ethernet header,
// and the header is written in front of it afterwards. Nothing is copied on the way to the sink.
#ifndef TAPSTACK_STACK_ETHERNET_OUTPUT_H_
#define TAPSTACK_STACK_ETHERNET_OUTPUT_H_

#include <concepts>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "absl/functional/function_ref.h"
#include "stack/counters.h"
#include "stack/tx_offload.h"
#include "stack/wire/bytes.h"

namespace tapstack {

// Receives every frame the stack emits, with what the device is to finish on it (tx_offload.h).
// The span is valid only during the call.
//
// Built from a callable that takes the frame and its TxOffload, or from one that takes the frame
// alone: such a sink cannot pass work on to a device, so the stack never asks for any through it
// (takes_offloads() is false and the stack's transmit offloads stay off, whatever StackConfig
// says). Every frame it gets is complete and fits the MTU.
class FrameSink {
 public:
  using Frame = std::span<const std::uint8_t>;

  FrameSink() = default;
  template <typename F>
  requires std::invocable<F&, Frame, const TxOffload&> FrameSink(
      F sink)  // NOLINT(google-explicit-constructor): any sink callable converts
      : sink_(std::move(sink)), takes_offloads_(true) {}
  template <typename F>
  requires(!std::invocable<F&, Frame, const TxOffload&> && std::invocable<F&, Frame>)
      FrameSink(F sink)  // NOLINT(google-explicit-constructor)
      : sink_([sink = std::move(sink)](Frame frame, const TxOffload&) mutable { sink(frame); }) {}

  void operator()(Frame frame, const TxOffload& offload = {}) const { sink_(frame, offload); }
  explicit operator bool() const { return static_cast<bool>(sink_); }
  bool takes_offloads() const { return takes_offloads_; }

 private:
  std::function<void(Frame, const TxOffload&)> sink_;
  bool takes_offloads_ = false;
};

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
  // `offload` travels with the frame to the sink: what the device is to finish on it.
  bool Send(const wire::MacAddress& destination, std::uint16_t ethertype,
            std::size_t payload_length, PayloadWriter write_payload, const TxOffload& offload = {});
  // Whether the sink passes offloads on to a device (FrameSink::takes_offloads).
  bool sink_takes_offloads() const { return sink_.takes_offloads(); }

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
