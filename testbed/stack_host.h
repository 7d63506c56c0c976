// Our stack on a TAP device, driven by the epoll event loop on the real clock, all in the calling
// thread: the wiring `tapstack up` and `nc`, the demo and the in-process interop tests share.
//
//   TAP device ── [pcap recorder] ── [FaultyLink] ── [the caller's wrapper] ── Stack
//                                                            ▲
//                 EventLoop: frames in (one by one or per burst), timers from Stack::NextDeadline
//
// The recorder sits next to the TAP, under any faults, so that the pcap holds what the kernel
// really exchanged with us.
#ifndef TAPSTACK_TESTBED_STACK_HOST_H_
#define TAPSTACK_TESTBED_STACK_HOST_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "stack/result.h"
#include "stack/stack.h"
#include "tap/clock.h"
#include "tap/device.h"
#include "tap/event_loop.h"
#include "tap/faulty_link.h"
#include "tap/tap_device.h"

namespace tapstack::testbed {

struct StackHostOptions {
  // tap.offload asks for the TAP's receive offloads (tap::TapDevice); the stack then gets
  // super-segments and the checksum status of every frame through the loop.
  tap::TapOptions tap;
  // Records the TAP's traffic to this pcap file (tap::PcapRecorder); nothing when empty.
  std::string pcap_path;
  // Faults on the frames we send (tap::FaultyLink); none when unset.
  std::optional<tap::FaultOptions> faults;
  // Wraps the device the stack talks through (the demo's recording device); none when empty.
  std::function<std::unique_ptr<tap::Device>(tap::Device& inner)> wrap;
  StackConfig stack;
  // Hands every frame ready in one wakeup to the stack at once (Stack::IngestBurst: timers
  // advanced and events delivered once per burst), rather than frame by frame (Stack::Ingest).
  bool bursts = false;
};

class StackHost {
 public:
  // Errors: TapDevice::Open's (LastFailure() holds tap::DescribeOpenError's sentence), the pcap
  // file's open(2) errno, or the event loop's.
  static Result<std::unique_ptr<StackHost>> Open(const StackHostOptions& options);
  // The loop goes first: it points at the devices.
  ~StackHost();

  Stack& stack() { return *stack_; }
  tap::EventLoop& loop() { return *loop_; }
  const tap::Clock& clock() const { return clock_; }
  timers::TimePoint Now() const { return clock_.Now(); }
  tap::TapDevice& tap() { return *tap_; }
  // Null unless faults were asked for.
  const tap::FaultyLink* faulty_link() const { return faulty_.get(); }

  // Runs the loop until `done` returns true or `timeout` of wall-clock time has passed, so that a
  // bug fails a test rather than hanging it. Returns done() at the end. `done` is checked at least
  // every few milliseconds.
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // Runs the loop for `duration`, whatever happens.
  void RunFor(std::chrono::milliseconds duration);
  // The first loop error RunUntil saw (a device failure), if any.
  std::error_code loop_error() const { return loop_error_; }

 private:
  StackHost() = default;
  std::error_code Init(const StackHostOptions& options);

  tap::RealClock clock_;
  std::unique_ptr<tap::TapDevice> tap_;
  std::unique_ptr<tap::Device> recorder_;
  std::unique_ptr<tap::FaultyLink> faulty_;
  std::unique_ptr<tap::Device> wrapper_;
  // What the stack sends through: the outermost of the above.
  tap::Device* device_ = nullptr;
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<tap::EventLoop> loop_;
  std::error_code loop_error_;
};

}  // namespace tapstack::testbed

#endif  // TAPSTACK_TESTBED_STACK_HOST_H_
