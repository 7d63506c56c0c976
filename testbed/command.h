// Short commands run to completion: `ip`, `nft`, `sysctl`, `ss`, tshark, and shell lines in tests.
#ifndef TAPSTACK_TESTBED_COMMAND_H_
#define TAPSTACK_TESTBED_COMMAND_H_

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace tapstack::testbed {

struct CommandResult {
  std::vector<std::string> argv;  // what ran, for messages
  int exit_code = -1;             // -1 when the command could not start or was killed by a signal
  std::string output;             // standard output and standard error, interleaved

  bool ok() const { return exit_code == 0; }
  // "`ip -n x link set tap0 up` failed (exit 1): Cannot find device", for messages.
  std::string Describe() const;
};

// Runs argv[0] (searched in PATH) with the other arguments, no shell involved, writes `input` to
// its standard input and waits for it. A command that leaves a process in the background must
// redirect that process's output, or this waits for it too.
CommandResult RunCommand(const std::vector<std::string>& argv, std::string_view input = {});

// Runs a shell line, `sh -c COMMAND`, in the calling process's namespace.
CommandResult RunShell(const std::string& command);

// Empty for a command that succeeded. Otherwise an error (ENOENT when the program could not be
// run, EIO when it ran and failed) whose LastFailure() text is result.Describe().
std::error_code CheckCommand(const CommandResult& result);

// RunCommand, then CheckCommand.
std::error_code RunCommandOk(const std::vector<std::string>& argv, std::string_view input = {});

// The command as one line for messages: arguments joined by spaces, quoted where needed.
std::string CommandLine(const std::vector<std::string>& argv);

// `s` as one single-quoted shell word.
std::string ShellQuote(std::string_view s);

}  // namespace tapstack::testbed

#endif  // TAPSTACK_TESTBED_COMMAND_H_
