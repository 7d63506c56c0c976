// Runs the real `tapstack` binary (or any program) as a child process in interop tests.
#ifndef TAPSTACK_TESTS_SUPPORT_PROCESS_H_
#define TAPSTACK_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tapstack::testing {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with its standard output and error appended to `output_path` and its
  // standard input from `input_path` (/dev/null when empty).
  static absl::StatusOr<ChildProcess> Spawn(const std::vector<std::string>& argv,
                                            const std::string& output_path,
                                            const std::string& input_path = "");
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  // Kills the process if it still runs, so a failing test leaves nothing behind.
  ~ChildProcess();

  // The exit status (or 128 + signal), or nullopt if it did not end within `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  void Signal(int signal) const;
  pid_t pid() const { return pid_; }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// The whole content of a file (empty if it cannot be read).
std::string ReadFile(const std::string& path);

// A fresh path under the test temporary directory, unique per process and call.
std::string TempPath(const std::string& stem);

// Where an interop test records its traffic on the TAP device when TAPSTACK_PCAP_DIR is set:
// DIR/<suite>.<test>[-N].pcap, N counting the calls within one test. scripts/make-corpus.sh sets
// it to turn real traffic into the fuzz seed corpus. nullopt when the variable is unset or empty.
std::optional<std::string> CapturePath();

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_PROCESS_H_
