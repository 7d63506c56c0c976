// Runs a Stack on a TAP device for the command-line tools: the testbed's StackHost (the device,
// opened inside a network namespace if asked, an optional pcap recorder, frames and timers through
// the epoll loop), plus what a command adds: its options, a ready file, and a stop on SIGINT or
// SIGTERM.
#ifndef TAPSTACK_TOOLS_RUNTIME_H_
#define TAPSTACK_TOOLS_RUNTIME_H_

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "absl/status/statusor.h"
#include "stack/stack.h"
#include "tap/event_loop.h"
#include "testbed/stack_host.h"
#include "tools/args.h"

namespace tapstack::tools {

struct RuntimeOptions {
  std::string tap_name = "tap0";
  std::string netns;
  std::string pcap_path;
  // Written once the command is ready for traffic (see StackRuntime::SignalReady), removed on exit.
  std::string ready_file;
  // The TAP's receive offloads (tap::TapOptions::offload); `--no-offload` clears it on the
  // commands that take it.
  bool offload = false;
  // `--receive-loss`: the share of frames from the TAP device dropped before the stack sees them
  // (tap::FaultyLink's receive_loss), the loss the kernel's own hooks cannot give its TCP's
  // segments (a drop on the sender's output is reported to the sender, which resends at once).
  double receive_loss = 0;
  // `--rx-hold`: the event loop's receive moderation (tap::EventLoop::set_receive_hold). 50 us
  // lets a paced sender's frames gather into bursts; --rx-hold 0 reads each frame as it comes.
  std::chrono::nanoseconds receive_hold = std::chrono::microseconds(50);
  StackConfig stack;
};

// The options every TAP command shares; `Args` must have been parsed with kRuntimeValued.
inline const std::set<std::string> kRuntimeValued = {
    "--tap",  "--netns", "--addr",       "--gateway",       "--mac",
    "--pcap", "--mtu",   "--ready-file", "--dad-transmits", "--rx-hold"};
absl::StatusOr<RuntimeOptions> ParseRuntimeOptions(const Args& args);

class StackRuntime {
 public:
  static absl::StatusOr<std::unique_ptr<StackRuntime>> Start(const RuntimeOptions& options);
  ~StackRuntime();

  Stack& stack() { return host_->stack(); }
  tap::EventLoop& loop() { return host_->loop(); }
  timers::TimePoint Now() const { return host_->Now(); }
  bool interrupted() const { return interrupted_; }

  // Says that the command is ready for traffic: the TAP device is open and attached to the loop,
  // and whatever the command set up first (a listening port) is in place. A script that starts the
  // command in the background waits for the --ready-file to appear instead of guessing with a
  // sleep; the file holds "ADDRESS/PREFIX TAP MAC" and is written whole (a rename) or not at all.
  absl::Status SignalReady();

  // Every counter, one "name value" line each: the stack's, then the TAP device's (tap_offload
  // is 1 with offloads on, 0 without; then frames received, coalesced super-segments, checksums
  // left partial or verified by the kernel, drops for a bad virtio-net header; frames sent,
  // super-segments and partial checksums handed to the kernel, frames finished in software).
  void PrintStats(std::FILE* out) const;
  // "on (...)" or "off (...)": the TAP's offload mode and, when off, why
  // (tap::DescribeOffloadStatus).
  std::string DescribeOffload() const;
  bool offload_active() const { return host_->tap().offload_status().active; }
  // What the TAP device offers (TSO, checksum offload), which the stack uses.
  tap::DeviceCapabilities device_capabilities() const { return host_->tap().capabilities(); }

  // A message for an error loop().RunOnce returned. The loop's errors are bare errno values; the
  // device's name is the context they need.
  std::string DescribeLoopError(std::error_code error) const;

  // Runs the loop until duplicate address detection has finished on every IPv6 address (RFC 4862
  // 5.4: until then no address is ours to use), at most `limit`. Returns at once without IPv6.
  absl::Status AwaitIpv6Addresses(std::chrono::seconds limit = std::chrono::seconds(15));

 private:
  StackRuntime() = default;
  absl::Status Init(const RuntimeOptions& options);

  std::string tap_name_;
  std::string ready_file_;
  bool ready_file_written_ = false;
  std::unique_ptr<testbed::StackHost> host_;
  int signal_fd_ = -1;
  bool interrupted_ = false;
};

}  // namespace tapstack::tools

#endif  // TAPSTACK_TOOLS_RUNTIME_H_
