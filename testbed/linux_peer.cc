#include "testbed/linux_peer.h"

#include <poll.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "testbed/failure.h"

namespace tapstack::testbed {

std::vector<std::string> LinuxPeerArgv(const std::string& netns,
                                       const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ip", "netns", "exec", netns, "python3", "-c", kLinuxPeerScript};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Result<std::unique_ptr<LinuxPeer>> LinuxPeer::Start(const std::string& netns,
                                                    const std::vector<std::string>& args,
                                                    const std::string& output_path) {
  // `ip netns exec` replaces itself with python3: the child's pid is the peer's, so waiting for
  // it and killing it reach the peer itself.
  Result<Process> process =
      Process::Spawn(LinuxPeerArgv(netns, args), {.output_path = output_path});
  if (!process.ok()) {
    return Fail(process.error(), absl::StrCat("starting the Linux peer in ", netns, ": ",
                                              process.error().message()));
  }
  return std::unique_ptr<LinuxPeer>(new LinuxPeer(*std::move(process), output_path));
}

std::string LinuxPeer::Output() {
  if (output_path_.empty()) return process_.ReadOutput();
  std::ifstream file(output_path_, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

std::map<std::string, std::string> LinuxPeer::Results() {
  std::map<std::string, std::string> results;
  std::istringstream lines(Output());
  std::string line;
  while (std::getline(lines, line)) {
    const std::size_t equals = line.find('=');
    if (equals != std::string::npos && equals > 0) {
      results[line.substr(0, equals)] = line.substr(equals + 1);
    }
  }
  return results;
}

std::error_code LinuxPeer::WaitForOutput(std::string_view text, std::chrono::milliseconds timeout,
                                         int cancel_fd) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Output().find(text) == std::string::npos) {
    if (Exited()) {
      if (Output().find(text) != std::string::npos) return {};
      return Fail(Errno(ECHILD), absl::StrCat("the Linux peer exited before printing \"",
                                              std::string(text), "\": ", Output()));
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Fail(Errno(ETIMEDOUT),
                  absl::StrCat("the Linux peer did not print \"", std::string(text), "\" within ",
                               timeout.count(), " ms: ", Output()));
    }
    pollfd fds[2] = {{.fd = process_.output_fd(), .events = POLLIN},
                     {.fd = cancel_fd, .events = POLLIN}};
    // Capped so that a child that exits without closing the pipe, or output to a file, is
    // noticed: this waits on another process, not on TCP timing.
    poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 20)));
    if (cancel_fd >= 0 && (fds[1].revents & POLLIN) != 0) {
      return Fail(Errno(ECANCELED), "interrupted");
    }
  }
  return {};
}

bool LinuxPeer::WaitForKey(const std::string& key, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Results().contains(key)) return true;
    if (Exited()) return Results().contains(key);
    // Waiting on another process's output, not on TCP timing.
    poll(nullptr, 0, 20);
  }
  return false;
}

Result<bool> KernelHasSocketOnPort(const Namespace& ns, std::uint16_t port) {
  const CommandResult listing =
      ns.Exec({"ss", "-H", "-t", "-a", "-n", "sport", "=", absl::StrCat(":", port)});
  if (std::error_code error = CheckCommand(listing)) return error;
  return listing.output.find_first_not_of(" \n") != std::string::npos;
}

}  // namespace tapstack::testbed
