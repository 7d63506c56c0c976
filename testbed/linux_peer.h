// The Linux peer: testbed/linux_peer.py run with python3 inside a namespace, so that the peer's
// TCP is the kernel's own. The script is compiled into the library and handed to `python3 -c`:
// the installed `tapstack` binary and the tests find it the same way, with no path to configure.
#ifndef TAPSTACK_TESTBED_LINUX_PEER_H_
#define TAPSTACK_TESTBED_LINUX_PEER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stack/result.h"
#include "testbed/netns.h"
#include "testbed/process.h"

namespace tapstack::testbed {

// The text of testbed/linux_peer.py.
extern const char kLinuxPeerScript[];

// `ip netns exec NETNS python3 -c SCRIPT args...`: the peer with `args` (its mode first).
std::vector<std::string> LinuxPeerArgv(const std::string& netns,
                                       const std::vector<std::string>& args);

class LinuxPeer {
 public:
  // Starts the peer with `args` in `netns`. Its output (standard output and error) goes to
  // `output_path`, or to a pipe when that is empty. Errors as Process::Spawn gives them.
  static Result<std::unique_ptr<LinuxPeer>> Start(const std::string& netns,
                                                  const std::vector<std::string>& args,
                                                  const std::string& output_path = "");

  Process& process() { return process_; }
  // Everything it printed so far.
  std::string Output();
  // The `key=value` lines printed so far.
  std::map<std::string, std::string> Results();

  // Polls without blocking: true once the process has exited.
  bool Exited() { return process_.Exited(); }
  std::optional<int> exit_code() const { return process_.exit_status(); }
  // Blocks until the process exits or `timeout` passes.
  std::optional<int> Wait(std::chrono::milliseconds timeout) { return process_.Wait(timeout); }
  // Blocks until the output holds `text`. ETIMEDOUT after `timeout`, ECHILD when the peer exited
  // without printing it, ECANCELED as soon as `cancel_fd` (a signalfd, say) is readable.
  std::error_code WaitForOutput(std::string_view text, std::chrono::milliseconds timeout,
                                int cancel_fd = -1);
  // Blocks until a `key=...` line is printed; false after `timeout` or once the peer exited
  // without it.
  bool WaitForKey(const std::string& key, std::chrono::milliseconds timeout);
  // Kills it at once (SIGKILL), like a crash: the kernel closes its sockets, the application says
  // nothing more.
  void Crash() { process_.Kill(); }

 private:
  LinuxPeer(Process process, std::string output_path)
      : process_(std::move(process)), output_path_(std::move(output_path)) {}

  Process process_;
  std::string output_path_;
};

// Whether the kernel in `ns` still has any TCP socket on local `port` (`ss`), listening or not.
Result<bool> KernelHasSocketOnPort(const Namespace& ns, std::uint16_t port);

}  // namespace tapstack::testbed

#endif  // TAPSTACK_TESTBED_LINUX_PEER_H_
