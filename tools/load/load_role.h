// The two sides of `tapstack load`, as the command's loop drives them: the client that opens and
// holds connections, and the --listen server that accepts, holds and echoes.
#ifndef TAPSTACK_TOOLS_LOAD_LOAD_ROLE_H_
#define TAPSTACK_TOOLS_LOAD_LOAD_ROLE_H_

#include <optional>

#include "stack/tcp/tcp_types.h"
#include "timers/timer_queue.h"
#include "tools/load/load_report.h"

namespace tapstack::tools {

class LoadRole {
 public:
  virtual ~LoadRole() = default;

  // Opens the listeners or the first connections. An error is the run's end (exit status 1).
  virtual std::error_code Start(timers::TimePoint now) = 0;
  // Every TCP event of the stack.
  virtual void OnEvent(const tcp::Event& event, timers::TimePoint now) = 0;
  // Runs the role's own timers (paced SYNs, periodic sends) due by `now`.
  virtual void Advance(timers::TimePoint now) = 0;
  // When Advance next has work; nullopt when nothing is scheduled.
  virtual std::optional<timers::TimePoint> NextDeadline() const = 0;
  // Every connection the role will make is made (client: opened and answered; server: the
  // --connections it expects accepted): from here on the run holds them.
  virtual bool Settled() const = 0;
  // Whether the run has nothing left to do (a client with no connection held or coming).
  virtual bool Exhausted() const = 0;
  // Ends up to `at_most` of the connections still held, with a RST, so that the peer and the
  // middleboxes between forget them at once instead of keeping them until their own timeouts.
  // Returns how many are left. The caller lets the device drain between batches: the kernel drops
  // what is written to a TAP beyond its backlog (1000 frames), and a lost RST leaves a
  // connection behind on the other side.
  virtual std::size_t AbortSome(std::size_t at_most, timers::TimePoint now) = 0;

  LoadReport& report() { return report_; }
  const LoadReport& report() const { return report_; }

 protected:
  LoadReport report_;
};

}  // namespace tapstack::tools

#endif  // TAPSTACK_TOOLS_LOAD_LOAD_ROLE_H_
