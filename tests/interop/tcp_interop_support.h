// Helpers for the TCP interop tests: our stack in the test process on the namespace's TAP device,
// and small applications that run on its connections (echo, bulk transfer with SHA-256). The
// kernel's side is the testbed's Linux peer (testbed/linux_peer.h).
#ifndef TAPSTACK_TESTS_INTEROP_TCP_INTEROP_SUPPORT_H_
#define TAPSTACK_TESTS_INTEROP_TCP_INTEROP_SUPPORT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/statusor.h"
#include "stack/stack.h"
#include "tap/faulty_link.h"
#include "testbed/stack_host.h"
#include "tests/support/sha256.h"

namespace tapstack::testing {

// A deterministic byte stream (SplitMix64 output, little-endian), so a transfer can be checked
// without keeping what was sent.
class PatternStream {
 public:
  explicit PatternStream(std::uint64_t seed) : state_(seed) {}
  void Fill(std::span<std::uint8_t> out);

 private:
  std::uint64_t Next();
  std::uint64_t state_;
  std::uint64_t word_ = 0;
  int word_bytes_left_ = 0;
};

struct InProcessStackOptions {
  std::string netns;  // where tap0 lives
  std::string tap_name = "tap0";
  std::string address = "192.0.2.2";
  std::optional<std::string> gateway;
  // An IPv6 address (with its /64) beside the IPv4 one: IPv6 on, duplicate address detection off
  // (the test's kernel address is added `nodad`, and nothing else is on the link).
  std::optional<std::string> ipv6_address;
  tcp::TcpConfig tcp;
  // Faults on the frames we send (FaultyLink wraps the TAP device); none when unset.
  std::optional<tap::FaultOptions> faults;
  std::uint64_t seed = 1;
  // The TAP's receive offloads (tap::TapOptions::offload).
  bool offload = false;
  // Records a pcap here; empty: CapturePath() (TAPSTACK_PCAP_DIR), or none.
  std::string pcap_path;
};

// Our stack on the TAP device of a test namespace (testbed::StackHost: the event loop on the real
// clock, all in the calling thread), as 192.0.2.2/24 with the fixture's MAC. Records a pcap when
// TAPSTACK_PCAP_DIR is set (CapturePath()). On failure testbed::LastFailure() says why.
Result<std::unique_ptr<testbed::StackHost>> OpenInProcessStack(
    const InProcessStackOptions& options);

// What an application does with one connection.
struct StreamPlan {
  enum class Mode {
    kEcho,      // send back everything received; shut down once the peer's stream ended
    kTransfer,  // send `send_bytes` of PatternStream(seed), then shut down; hash what arrives
  };
  Mode mode = Mode::kTransfer;
  std::uint64_t send_bytes = 0;
  std::uint64_t seed = 0;
  // kTransfer: hold all sending (and the shutdown) until the peer's stream has ended, to check
  // that a half-closed peer still receives.
  bool send_after_peer_eof = false;
};

// One connection's application, fed the stack's events for that connection. Reads only what it
// can pass on (echo), so a slow peer closes our receive window instead of growing a buffer.
class StreamApp {
 public:
  StreamApp(testbed::StackHost& host, tcp::ConnectionId id, StreamPlan plan);

  // Starts moving data (after kConnected or Accept()).
  void Start();
  void OnEvent(const tcp::Event& event);

  tcp::ConnectionId id() const { return id_; }
  bool started() const { return started_; }
  bool peer_eof() const { return peer_eof_; }
  bool write_shut() const { return write_shut_; }
  // The kClosed event arrived; close_error() is its error (empty after a clean close).
  bool closed() const { return closed_; }
  std::error_code close_error() const { return close_error_; }
  // The first error a Send, Receive or Shutdown returned (EAGAIN aside).
  std::error_code io_error() const { return io_error_; }
  // Both directions are over: the peer's stream ended and was read, ours was shut down and its
  // FIN acknowledged (TIME-WAIT) or the connection closed.
  bool Finished() const;

  std::uint64_t bytes_sent() const { return bytes_sent_; }  // accepted by Send()
  std::uint64_t bytes_received() const { return bytes_received_; }
  // Hex digests, available once the direction is complete (empty before).
  const std::string& sent_sha() const { return sent_sha_; }
  const std::string& received_sha() const { return received_sha_; }
  // The connection state at every Receive() that returned data.
  const std::vector<tcp::State>& states_while_receiving() const { return receive_states_; }

 private:
  void Pump();
  // Reads what is available (echo: only when everything read before was passed on).
  void ReceiveAvailable();
  void SendPending();
  void NoteIoError(std::error_code error);

  testbed::StackHost& host_;
  Stack& stack_;
  tcp::ConnectionId id_;
  StreamPlan plan_;
  PatternStream pattern_;
  bool started_ = false;
  bool pumping_ = false;
  bool peer_eof_ = false;
  bool write_shut_ = false;
  bool closed_ = false;
  std::error_code close_error_;
  std::error_code io_error_;
  std::vector<std::uint8_t> pending_;  // produced but not yet accepted by Send()
  std::uint64_t bytes_generated_ = 0;
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t bytes_received_ = 0;
  Sha256 sent_hash_, received_hash_;
  std::string sent_sha_, received_sha_;
  std::vector<tcp::State> receive_states_;
  std::vector<std::uint8_t> receive_buffer_;
};

// Routes the stack's events to one StreamApp per connection: ours (Connect) and accepted ones
// (Serve).
class AppHost {
 public:
  explicit AppHost(testbed::StackHost& host);

  // Listens on `port`; every connection accepted there runs `plan`.
  absl::Status Serve(std::uint16_t port, int backlog, StreamPlan plan);
  // Opens a connection to `address` (IPv4 or IPv6):`port` that runs `plan` once connected.
  absl::StatusOr<StreamApp*> Connect(const std::string& address, std::uint16_t port,
                                     StreamPlan plan);

  const std::vector<std::unique_ptr<StreamApp>>& apps() const { return apps_; }
  std::size_t CountFinished() const;
  std::size_t CountClosed() const;

 private:
  void OnEvent(const tcp::Event& event);

  testbed::StackHost& host_;
  std::map<std::uint16_t, StreamPlan> served_;
  std::vector<std::unique_ptr<StreamApp>> apps_;
  std::map<std::uint64_t, StreamApp*> by_id_;
};

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_INTEROP_TCP_INTEROP_SUPPORT_H_
