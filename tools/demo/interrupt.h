// Turns SIGINT, SIGTERM and SIGHUP into a readable descriptor, so that Ctrl-C or a `kill` ends the
// demo through its normal path (stack closed, peers killed, namespaces deleted) instead of killing
// it in the middle of a scenario with the namespaces still there.
//
// The signals are blocked for the whole process and read from a signalfd, which every wait of the
// demo watches (the event loop, the wait for a peer to come up). SIGPIPE is blocked too: a closed
// output pipe (`tapstack demo | head`) must not kill the demo before it cleans up.
#ifndef TAPSTACK_TOOLS_DEMO_INTERRUPT_H_
#define TAPSTACK_TOOLS_DEMO_INTERRUPT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tapstack::tools::demo {

class InterruptWatch {
 public:
  // Blocks the signals and opens the signalfd. The signal mask is restored on destruction.
  static absl::StatusOr<std::unique_ptr<InterruptWatch>> Install();
  ~InterruptWatch();

  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

  // Readable when a signal is pending.
  int fd() const { return fd_; }
  // Consumes pending signals; true once any has arrived (and from then on).
  bool Check();
  // The first signal received, 0 if none.
  int signal() const { return signal_; }
  // "SIGINT" and so on.
  std::string SignalName() const;
  // Cancelled("interrupted by SIGINT"), for the waits to return.
  absl::Status AsStatus() const;

 private:
  InterruptWatch() = default;

  int fd_ = -1;
  int signal_ = 0;
  bool restore_mask_ = false;
  struct SavedMask;
  std::unique_ptr<SavedMask> saved_mask_;
};

}  // namespace tapstack::tools::demo

#endif  // TAPSTACK_TOOLS_DEMO_INTERRUPT_H_
