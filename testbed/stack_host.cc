#include "testbed/stack_host.h"

#include "absl/strings/str_cat.h"
#include "tap/pcap_recorder.h"
#include "testbed/failure.h"

namespace tapstack::testbed {

Result<std::unique_ptr<StackHost>> StackHost::Open(const StackHostOptions& options) {
  std::unique_ptr<StackHost> host(new StackHost());
  if (std::error_code error = host->Init(options)) return error;
  return host;
}

std::error_code StackHost::Init(const StackHostOptions& options) {
  Result<std::unique_ptr<tap::TapDevice>> tap = tap::TapDevice::Open(options.tap);
  if (!tap.ok()) return Fail(tap.error(), tap::DescribeOpenError(options.tap, tap.error()));
  tap_ = std::move(tap).value();
  device_ = tap_.get();
  if (!options.pcap_path.empty()) {
    Result<std::unique_ptr<tap::PcapRecorder>> recorder =
        tap::PcapRecorder::Open(*tap_, options.pcap_path);
    if (!recorder.ok()) {
      return Fail(recorder.error(), absl::StrCat("cannot create pcap file ", options.pcap_path,
                                                 ": ", recorder.error().message()));
    }
    recorder_ = std::move(recorder).value();
    device_ = recorder_.get();
  }
  if (options.faults) {
    faulty_ = std::make_unique<tap::FaultyLink>(*device_, *options.faults);
    device_ = faulty_.get();
  }
  if (options.wrap) {
    wrapper_ = options.wrap(*device_);
    device_ = wrapper_.get();
  }
  // The stack asks for what the device offers (TSO, checksum offload): with the TAP's offloads
  // on, the kernel finishes it; any wrapper in between passes it on or does it in software.
  StackConfig stack_config = options.stack;
  const tap::DeviceCapabilities capabilities = device_->capabilities();
  stack_config.tx_offload = TxOffloadSupport{
      .max_tcp_segment_offload = static_cast<std::uint32_t>(capabilities.max_tcp_segment_offload),
      .tcp_checksum = capabilities.tx_checksum_offload};
  stack_ = std::make_unique<Stack>(
      stack_config, clock_.Now(),
      [this](std::span<const std::uint8_t> frame, const TxOffload& offload) {
        // A full device queue is a counted drop inside the device; TCP retransmits what
        // mattered.
        (void)device_->SendWithOffload(frame, offload, clock_.Now());
      });
  loop_ = std::make_unique<tap::EventLoop>(clock_);
  const std::error_code attached =
      options.bursts
          ? loop_->AttachDeviceBursts(
                *device_,
                [this](std::span<const std::span<const std::uint8_t>> frames, timers::TimePoint now,
                       std::span<const RxChecksum> checksums) {
                  stack_->IngestBurst(frames, now, checksums);
                })
          : loop_->AttachDevice(
                *device_, [this](std::span<const std::uint8_t> frame, timers::TimePoint now,
                                 RxChecksum checksum) { stack_->Ingest(frame, now, checksum); });
  if (attached) {
    return Fail(attached,
                absl::StrCat("cannot watch the TAP device with epoll: ", attached.message()));
  }
  loop_->SetTimerSource([this] { return stack_->NextDeadline(); },
                        [this](timers::TimePoint now) { stack_->Advance(now); });
  return {};
}

StackHost::~StackHost() {
  loop_.reset();
  stack_.reset();
}

bool StackHost::RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    // A short cap on the sleep so that `done` (often a child process's exit) is seen promptly.
    const std::error_code error = loop_->RunOnce(std::chrono::milliseconds(2));
    if (error && !loop_error_) loop_error_ = error;
  }
  return true;
}

void StackHost::RunFor(std::chrono::milliseconds duration) {
  (void)RunUntil([] { return false; }, duration);
}

}  // namespace tapstack::testbed
