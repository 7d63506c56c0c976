#include "tap/pcap_recorder.h"

#include <utility>

namespace tapstack::tap {

PcapRecorder::PcapRecorder(Device& inner, std::unique_ptr<PcapWriter> writer)
    : inner_(&inner), writer_(std::move(writer)) {}

absl::StatusOr<std::unique_ptr<PcapRecorder>> PcapRecorder::Open(std::unique_ptr<Device> inner,
                                                                 const std::string& path) {
  absl::StatusOr<std::unique_ptr<PcapRecorder>> recorder = Open(*inner, path);
  if (recorder.ok()) (*recorder)->owned_ = std::move(inner);
  return recorder;
}

absl::StatusOr<std::unique_ptr<PcapRecorder>> PcapRecorder::Open(Device& inner,
                                                                 const std::string& path) {
  absl::StatusOr<std::unique_ptr<PcapWriter>> writer = PcapWriter::Open(path);
  if (!writer.ok()) return writer.status();
  return std::make_unique<PcapRecorder>(inner, *std::move(writer));
}

void PcapRecorder::Record(std::span<const std::uint8_t> frame, timers::TimePoint now) {
  // After Close() the writer refuses on purpose: recording was switched off, not broken.
  if (!writer_->is_open()) return;
  if (!writer_->Write(frame, now).ok()) ++record_errors_;
}

absl::Status PcapRecorder::Send(std::span<const std::uint8_t> frame, timers::TimePoint now) {
  absl::Status sent = inner_->Send(frame, now);
  if (sent.ok()) Record(frame, now);
  return sent;
}

absl::StatusOr<std::size_t> PcapRecorder::Receive(std::span<std::uint8_t> buffer,
                                                  timers::TimePoint now) {
  absl::StatusOr<std::size_t> received = inner_->Receive(buffer, now);
  if (received.ok() && *received > 0) Record(buffer.first(*received), now);
  return received;
}

}  // namespace tapstack::tap
