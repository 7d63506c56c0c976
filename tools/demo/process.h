// Child processes for the demo: short commands (`ip`, `nft`, `sysctl`) run to completion, and
// long-lived kernel peers (python3 servers) run in the background.
//
// Every child is started so that the demo, not the terminal, decides when it ends:
//   - it gets a process group of its own, so a Ctrl-C typed at the terminal reaches only the demo
//     (which then tears everything down in order) and never half-kills an `ip netns del`;
//   - it is killed by the kernel if the demo dies without cleaning up (PR_SET_PDEATHSIG), so not
//     even a SIGKILL of the demo leaves a peer running;
//   - it starts with no signal blocked and default dispositions, whatever the demo blocked.
#ifndef TAPSTACK_TOOLS_DEMO_PROCESS_H_
#define TAPSTACK_TOOLS_DEMO_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tapstack::tools::demo {

struct CommandResult {
  int exit_code = -1;  // -1 when the command could not start or was killed by a signal
  std::string output;  // standard output and standard error, interleaved
};

// Runs argv[0] (searched in PATH) with the other arguments, no shell involved, writes `input` to
// its standard input and waits for it.
CommandResult RunCommand(const std::vector<std::string>& argv, absl::string_view input = {});

// Like RunCommand; an error that quotes the command and its output when it exits non-zero.
absl::Status RunCommandOk(const std::vector<std::string>& argv, absl::string_view input = {});

// The command as one line for messages: arguments joined by spaces, quoted where needed.
std::string CommandLine(const std::vector<std::string>& argv);

// A process running in the background, its standard output and error collected through a pipe.
// Destroying it kills the process (SIGKILL) and reaps it.
class BackgroundProcess {
 public:
  static absl::StatusOr<std::unique_ptr<BackgroundProcess>> Start(
      const std::vector<std::string>& argv);
  ~BackgroundProcess();

  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The read end of the output pipe (non-blocking), to wait on with poll or epoll.
  int output_fd() const { return output_fd_; }
  // Reads whatever output is available now; returns everything read so far.
  const std::string& ReadOutput();
  // Sends `signal` to the process (not to its group: `ip netns exec` replaces itself with the
  // program, so the pid is the program's).
  void Signal(int signal) const;
  // Reaps the process if it has ended; true when it is gone.
  bool Exited();
  // Kills it with SIGKILL and waits until it is reaped.
  void Kill();

 private:
  BackgroundProcess(pid_t pid, int output_fd) : pid_(pid), output_fd_(output_fd) {}

  pid_t pid_;
  int output_fd_;
  bool reaped_ = false;
  std::string output_;
};

}  // namespace tapstack::tools::demo

#endif  // TAPSTACK_TOOLS_DEMO_PROCESS_H_
