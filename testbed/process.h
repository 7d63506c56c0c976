// Child processes for scenes: the `tapstack` binary under test, Linux peers, `ip` and `nft`.
//
// Every child is started so that its parent, not the terminal, decides when it ends:
//   - it gets a process group of its own, so a Ctrl-C typed at the terminal reaches only the
//     parent (which then tears the scene down in order) and never half-kills an `ip netns del`;
//   - the kernel kills it if the parent dies without cleaning up (PR_SET_PDEATHSIG), so not even
//     a SIGKILL of the demo or a ctest timeout leaves a peer running;
//   - it starts with no signal blocked and default dispositions, whatever the parent blocked.
// Destroying a Process kills (SIGKILL) and reaps it, so a failing test leaves nothing behind.
#ifndef TAPSTACK_TESTBED_PROCESS_H_
#define TAPSTACK_TESTBED_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "stack/result.h"

namespace tapstack::testbed {

struct SpawnOptions {
  // Standard output and error are appended to this file; when empty they go to a pipe the parent
  // reads with ReadOutput (and can wait on through output_fd).
  std::string output_path;
  // Standard input comes from this file; when empty, from /dev/null unless `input` is set.
  std::string input_path;
  // Written whole to standard input through a pipe, which is then closed. Meant for a few lines
  // (nft rules), far below a pipe's capacity, so writing it before the child reads cannot block.
  std::optional<std::string> input;
};

class Process {
 public:
  // Starts argv[0] (searched in PATH unless it holds a '/') with the other arguments, no shell.
  // Errors: EINVAL for an empty argv, else the errno of pipe, open or fork. A program that cannot
  // be executed exits with 127 (126 when its output file cannot be opened), saying why.
  static Result<Process> Spawn(const std::vector<std::string>& argv,
                               const SpawnOptions& options = {});
  Process(Process&& other) noexcept;
  Process& operator=(Process&&) = delete;
  Process(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  // The read end of the output pipe (non-blocking), to wait on with poll or epoll; -1 when the
  // output goes to a file.
  int output_fd() const { return output_fd_; }
  // Reads whatever output the pipe holds now; returns everything read so far.
  const std::string& ReadOutput();
  // The pipe reached its end: the child (and whatever it started) closed its output.
  bool output_ended() const { return output_ended_; }

  // Sends `signal` to the process (not to its group: `ip netns exec` replaces itself with the
  // program, so the pid is the program's).
  void Signal(int signal) const;
  // Reaps the process if it has ended; true when it is gone.
  bool Exited();
  // Waits up to `timeout` for the process to end; its exit status (128 + the signal for a
  // process killed by one), or nullopt if it still runs.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Waits as long as it takes; the exit status as Wait gives it.
  int WaitForExit();
  // The exit status once reaped (as Wait gives it), nullopt before.
  std::optional<int> exit_status() const { return exit_status_; }
  // Whether it ended by a signal (then exit_status is 128 + the signal).
  bool signalled() const { return signalled_; }
  // Kills it with SIGKILL and reaps it.
  void Kill();

 private:
  Process(pid_t pid, int output_fd) : pid_(pid), output_fd_(output_fd) {}
  void Reaped(int wait_status);

  pid_t pid_ = -1;
  int output_fd_ = -1;
  bool output_ended_ = false;
  std::optional<int> exit_status_;
  bool signalled_ = false;
  std::string output_;
};

}  // namespace tapstack::testbed

#endif  // TAPSTACK_TESTBED_PROCESS_H_
