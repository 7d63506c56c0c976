#include "tap/pcap_recorder.h"

#include <utility>

namespace tapstack::tap {

PcapRecorder::PcapRecorder(Device& inner, std::unique_ptr<PcapWriter> writer)
    : inner_(&inner), writer_(std::move(writer)) {}

Result<std::unique_ptr<PcapRecorder>> PcapRecorder::Open(std::unique_ptr<Device> inner,
                                                         const std::string& path) {
  Result<std::unique_ptr<PcapRecorder>> recorder = Open(*inner, path);
  if (recorder.ok()) (*recorder)->owned_ = std::move(inner);
  return recorder;
}

Result<std::unique_ptr<PcapRecorder>> PcapRecorder::Open(Device& inner, const std::string& path) {
  Result<std::unique_ptr<PcapWriter>> writer = PcapWriter::Open(path);
  if (!writer.ok()) return writer.error();
  return std::make_unique<PcapRecorder>(inner, std::move(writer).value());
}

void PcapRecorder::Record(std::span<const std::uint8_t> frame, timers::TimePoint now) {
  // After Close() the writer refuses on purpose: recording was switched off, not broken.
  if (!writer_->is_open()) return;
  if (writer_->Write(frame, now)) ++record_errors_;
}

std::error_code PcapRecorder::Send(std::span<const std::uint8_t> frame, timers::TimePoint now) {
  const std::error_code error = inner_->Send(frame, now);
  if (!error) Record(frame, now);
  return error;
}

std::error_code PcapRecorder::SendWithOffload(std::span<const std::uint8_t> frame,
                                              const TxOffload& offload, timers::TimePoint now) {
  const std::error_code error = inner_->SendWithOffload(frame, offload, now);
  if (!error) Record(frame, now);
  return error;
}

Result<std::size_t> PcapRecorder::Receive(std::span<std::uint8_t> buffer, timers::TimePoint now) {
  const Result<ReceivedFrame> received = ReceiveFrame(buffer, now);
  if (!received.ok()) return received.error();
  return received->size;
}

Result<ReceivedFrame> PcapRecorder::ReceiveFrame(std::span<std::uint8_t> buffer,
                                                 timers::TimePoint now) {
  // The frame as the device delivered it: a TCP super-segment whole, with its partial checksum
  // if the kernel left one, as tcpdump on the host's side of a TAP with offloads shows it.
  Result<ReceivedFrame> received = inner_->ReceiveFrame(buffer, now);
  if (received.ok() && received->size > 0) Record(buffer.first(received->size), now);
  return received;
}

}  // namespace tapstack::tap
