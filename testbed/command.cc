#include "testbed/command.h"

#include <poll.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "stack/result.h"
#include "testbed/failure.h"
#include "testbed/process.h"

namespace tapstack::testbed {

std::string CommandResult::Describe() const {
  std::string text = output;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return absl::StrCat("`", CommandLine(argv), "` failed (exit ", exit_code, ")",
                      text.empty() ? "" : ": ", text);
}

CommandResult RunCommand(const std::vector<std::string>& argv, std::string_view input) {
  CommandResult result;
  result.argv = argv;
  if (argv.empty()) return result;
  Result<Process> process = Process::Spawn(argv, {.input = std::string(input)});
  if (!process.ok()) {
    result.output = absl::StrCat("cannot start: ", process.error().message());
    return result;
  }
  while (true) {
    process->ReadOutput();
    if (process->output_ended()) break;
    pollfd fd{.fd = process->output_fd(), .events = POLLIN};
    poll(&fd, 1, -1);
  }
  result.output = process->ReadOutput();
  process->WaitForExit();
  if (!process->signalled()) result.exit_code = *process->exit_status();
  return result;
}

CommandResult RunShell(const std::string& command) { return RunCommand({"sh", "-c", command}); }

std::error_code CheckCommand(const CommandResult& result) {
  if (result.ok()) return {};
  return Fail(Errno(result.exit_code == 127 ? ENOENT : EIO), result.Describe());
}

std::error_code RunCommandOk(const std::vector<std::string>& argv, std::string_view input) {
  return CheckCommand(RunCommand(argv, input));
}

std::string CommandLine(const std::vector<std::string>& argv) {
  return absl::StrJoin(argv, " ", [](std::string* out, const std::string& arg) {
    const bool plain = !arg.empty() && arg.find_first_of(" \t\n'\"{};|&$<>*") == std::string::npos;
    out->append(plain ? arg : ShellQuote(arg));
  });
}

std::string ShellQuote(std::string_view s) {
  std::string quoted = "'";
  for (char c : s) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += "'";
  return quoted;
}

}  // namespace tapstack::testbed
