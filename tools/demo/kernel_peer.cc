#include "tools/demo/kernel_peer.h"

#include <poll.h>

#include <chrono>

#include "absl/strings/str_cat.h"

namespace tapstack::tools::demo {
namespace {

constexpr char kEchoServerScript[] = R"(import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((host, port))
listener.listen(1)
print("listening", flush=True)
conn, peer = listener.accept()
print("accepted %s:%d" % peer, flush=True)
try:
    while True:
        data = conn.recv(65536)
        if not data:
            break
        conn.sendall(data)
    conn.close()
    print("closed", flush=True)
except OSError as error:
    print("connection error:", error, flush=True)
)";

constexpr auto kStartTimeout = std::chrono::seconds(10);

}  // namespace

absl::StatusOr<std::unique_ptr<EchoServer>> EchoServer::Start(const Namespace& ns,
                                                              wire::Ipv4Address address,
                                                              std::uint16_t port,
                                                              InterruptWatch& interrupt) {
  absl::StatusOr<std::unique_ptr<BackgroundProcess>> process = BackgroundProcess::Start(ns.ExecArgv(
      {"python3", "-c", kEchoServerScript, address.ToString(), absl::StrCat(port), ns.name()}));
  if (!process.ok()) return process.status();
  std::unique_ptr<EchoServer> server(new EchoServer(*std::move(process), port));
  BackgroundProcess& child = *server->process_;
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (child.ReadOutput().find("listening\n") == std::string::npos) {
    if (child.Exited()) {
      child.ReadOutput();
      return absl::InternalError(absl::StrCat("the python3 echo server in ", ns.name(),
                                              " exited before listening: ", child.ReadOutput()));
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("the python3 echo server in ", ns.name(), " did not listen within ",
                       kStartTimeout.count(), " s: ", child.ReadOutput()));
    }
    pollfd fds[2] = {{.fd = child.output_fd(), .events = POLLIN},
                     {.fd = interrupt.fd(), .events = POLLIN}};
    // Capped so that a child that exits without closing the pipe is noticed.
    poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 100)));
    if (interrupt.Check()) return interrupt.AsStatus();
  }
  return server;
}

absl::StatusOr<bool> KernelHasSocketOnPort(const Namespace& ns, std::uint16_t port) {
  const CommandResult listing =
      ns.ExecResult({"ss", "-H", "-t", "-a", "-n", "sport", "=", absl::StrCat(":", port)});
  if (listing.exit_code != 0) {
    return absl::InternalError(absl::StrCat("ss in ", ns.name(), " failed: ", listing.output));
  }
  return listing.output.find_first_not_of(" \n") != std::string::npos;
}

}  // namespace tapstack::tools::demo
