// The Linux peers of the demo: a TCP echo server in python3 (standard library only), run with
// `ip netns exec` in a demo namespace so that the peer's TCP is the kernel's own.
#ifndef TAPSTACK_TOOLS_DEMO_KERNEL_PEER_H_
#define TAPSTACK_TOOLS_DEMO_KERNEL_PEER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "stack/wire/bytes.h"
#include "tools/demo/interrupt.h"
#include "tools/demo/process.h"
#include "tools/demo/topology.h"

namespace tapstack::tools::demo {

// Accepts one connection on address:port and sends back everything it receives; closes its end
// after the client's FIN. The namespace name is passed as an extra argument that the script
// ignores, so that the process can be recognised (`pgrep -f tsdemo-<pid>-`) by tests that check
// the demo left nothing running.
class EchoServer {
 public:
  // Starts the server and waits until it listens. Cancelled when `interrupt` fires meanwhile.
  static absl::StatusOr<std::unique_ptr<EchoServer>> Start(const Namespace& ns,
                                                           wire::Ipv4Address address,
                                                           std::uint16_t port,
                                                           InterruptWatch& interrupt);

  // Kills the server process at once (SIGKILL), like a crash: the kernel closes its sockets, the
  // application says nothing more.
  void Crash() { process_->Kill(); }
  // What the server printed, for error messages.
  std::string Output() { return process_->ReadOutput(); }
  std::uint16_t port() const { return port_; }

 private:
  EchoServer(std::unique_ptr<BackgroundProcess> process, std::uint16_t port)
      : process_(std::move(process)), port_(port) {}

  std::unique_ptr<BackgroundProcess> process_;
  std::uint16_t port_;
};

// Whether the kernel in `ns` still has any TCP socket on local `port` (`ss`), listening or not.
absl::StatusOr<bool> KernelHasSocketOnPort(const Namespace& ns, std::uint16_t port);

}  // namespace tapstack::tools::demo

#endif  // TAPSTACK_TOOLS_DEMO_KERNEL_PEER_H_
