// Our stack, in-process, on the TAP device of a demo namespace for one scenario: the testbed's
// StackHost (the TAP opened inside the namespace, the Stack and the epoll loop on the real clock,
// as `tapstack nc` runs them) with the demo's recorder around the TAP, plus the application side of
// one connection.
//
// Every wait runs the event loop, so frames and timers keep flowing while the script waits, and
// every wait returns Cancelled as soon as SIGINT or SIGTERM arrives.
#ifndef TAPSTACK_TOOLS_DEMO_SESSION_H_
#define TAPSTACK_TOOLS_DEMO_SESSION_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "stack/stack.h"
#include "testbed/stack_host.h"
#include "tools/demo/interrupt.h"
#include "tools/demo/recording.h"

namespace tapstack::tools::demo {

struct SessionOptions {
  std::string netns;  // the namespace holding the TAP
  std::optional<wire::Ipv4Address> gateway;
  // IPv6 beside IPv4: our stack also holds testbed::kStackAddress6, usable at once.
  bool ipv6 = false;
  std::string pcap_path;
  // Behind a NAT: the server's link is captured too (its namespace, interface and pcap file).
  std::string server_netns;
  std::string server_link;
  std::string server_pcap_path;
};

// What the application has seen of its one connection.
struct AppView {
  std::optional<tcp::ConnectionId> id;
  bool connected = false;
  bool peer_closed = false;               // the peer's FIN arrived
  std::optional<std::error_code> closed;  // the connection is gone: why (empty when cleanly)
  std::optional<timers::Duration> closed_at;
  std::string received;  // every byte read, in order
  tcp::State state = tcp::State::kClosed;
  // From the stack's traces.
  int keepalive_probes = 0;
  int keepalive_answers = 0;  // answered probe rounds
  bool keepalive_gave_up = false;
  bool reset_received = false;
  bool reset_sent = false;
  int retransmissions = 0;
};

// "ETIMEDOUT", "ECONNRESET"... for the errors the demo expects; the number otherwise.
std::string ErrnoName(int error);

class Session {
 public:
  static absl::StatusOr<std::unique_ptr<Session>> Open(const SessionOptions& options,
                                                       InterruptWatch& interrupt);
  ~Session();

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Stack& stack() { return host_->stack(); }
  // Time since the scenario began (StartTimeline).
  timers::Duration Elapsed() const { return host_->Now() - recording_.origin; }
  // Makes now time zero and forgets what was recorded so far (the pcap file keeps it): the
  // scenario begins once its network is ready.
  void StartTimeline();
  // A note in the diagram, now.
  void Note(std::string text, NoteKind kind = NoteKind::kInfo);

  // Runs the loop until `done` returns true (true) or `timeout` passes (false); Cancelled when
  // interrupted.
  absl::StatusOr<bool> RunUntil(const std::function<bool()>& done, timers::Duration timeout);
  // Runs the loop for `duration`; Cancelled when interrupted.
  absl::Status Wait(timers::Duration duration);

  // --- The application side of the connection.
  // Opens it and waits until it is established; an error when it is not within `timeout`.
  absl::Status Connect(const wire::IpAddress& remote, std::uint16_t port,
                       const tcp::ConnectionOptions& options, timers::Duration timeout);
  // Queues `data` for sending (all of it: the demo's messages are small).
  absl::Status Send(absl::string_view data);
  // Sends `message` and waits for the echo. True when the same bytes came back within `timeout`.
  absl::StatusOr<bool> SendAndAwaitEcho(absl::string_view message, timers::Duration timeout);
  // Half-close: our FIN after the queued data.
  absl::Status Shutdown();
  const AppView& app() const { return app_; }
  std::optional<tcp::ConnectionInfo> Info() const;

  // Completes the pcap files. The recording stays readable.
  void StopRecording();
  const Recording& recording() const { return recording_; }

 private:
  explicit Session(InterruptWatch& interrupt) : interrupt_(interrupt) {}
  absl::Status Init(const SessionOptions& options);
  void OnEvent(const tcp::Event& event);
  void OnTrace(const tcp::Trace& trace);
  void Drain();

  InterruptWatch& interrupt_;
  Recording recording_;
  std::unique_ptr<LinkCapture> server_capture_;
  // Destroyed before the capture its loop watches and the recording its device writes to.
  std::unique_ptr<testbed::StackHost> host_;
  RecordingDevice* device_ = nullptr;  // owned by host_
  AppView app_;
};

}  // namespace tapstack::tools::demo

#endif  // TAPSTACK_TOOLS_DEMO_SESSION_H_
