// A Device wrapper that records every frame sent and received to a pcap file, stamped with the
// `now` passed to Send or Receive.
//
// Where it sits in a stack of wrappers decides what it sees: PcapRecorder(FaultyLink(dev)) records
// frames as the stack sent them, before faults; FaultyLink(PcapRecorder(dev)) records what the
// faults let through, at their release times. Frames are recorded in the order the calls happen.
#ifndef TAPSTACK_TAP_PCAP_RECORDER_H_
#define TAPSTACK_TAP_PCAP_RECORDER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tap/device.h"
#include "tap/pcap_writer.h"

namespace tapstack::tap {

class PcapRecorder : public Device {
 public:
  // Records into a new file at `path`, wrapping a device it owns or one owned elsewhere (which
  // must outlive the recorder). Errors are PcapWriter::Open's.
  static Result<std::unique_ptr<PcapRecorder>> Open(std::unique_ptr<Device> inner,
                                                    const std::string& path);
  static Result<std::unique_ptr<PcapRecorder>> Open(Device& inner, const std::string& path);
  PcapRecorder(Device& inner, std::unique_ptr<PcapWriter> writer);

  // Records the frame once the wrapped device accepted it (no error; it may still have counted it
  // as a drop, as a capture on a real interface would still show it). A frame that cannot be
  // recorded is counted in record_errors(), never turned into a failed Send or Receive: the
  // capture is a side show, the traffic is not.
  std::error_code Send(std::span<const std::uint8_t> frame, timers::TimePoint now) override;
  // Passes the offload on to the wrapped device and records the frame as the stack handed it
  // over, super-segment and partial checksum included: what tcpdump on the host shows of a TAP
  // device with offloads.
  std::error_code SendWithOffload(std::span<const std::uint8_t> frame, const TxOffload& offload,
                                  timers::TimePoint now) override;
  Result<std::size_t> Receive(std::span<std::uint8_t> buffer, timers::TimePoint now) override;
  Result<ReceivedFrame> ReceiveFrame(std::span<std::uint8_t> buffer,
                                     timers::TimePoint now) override;
  int poll_fd() const override { return inner_->poll_fd(); }
  DeviceCapabilities capabilities() const override { return inner_->capabilities(); }
  std::optional<timers::TimePoint> NextReadyTime() const override {
    return inner_->NextReadyTime();
  }
  std::size_t mtu() const override { return inner_->mtu(); }
  DeviceStats stats() const override { return inner_->stats(); }

  PcapWriter& writer() { return *writer_; }
  // Completes the file; later frames pass through unrecorded. The destructor does it too.
  void Close() { writer_->Close(); }
  Device& inner() { return *inner_; }
  std::uint64_t record_errors() const { return record_errors_; }

 private:
  void Record(std::span<const std::uint8_t> frame, timers::TimePoint now);

  std::unique_ptr<Device> owned_;
  Device* inner_;
  std::unique_ptr<PcapWriter> writer_;
  std::uint64_t record_errors_ = 0;
};

}  // namespace tapstack::tap

#endif  // TAPSTACK_TAP_PCAP_RECORDER_H_
