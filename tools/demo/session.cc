#include "tools/demo/session.h"

#include <cerrno>
#include <random>

#include "absl/strings/str_cat.h"
#include "testbed/failure.h"
#include "testbed/topology.h"

namespace tapstack::tools::demo {

std::string ErrnoName(int error) {
  switch (error) {
    case 0:
      return "no error";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case ECONNRESET:
      return "ECONNRESET";
    case ECONNREFUSED:
      return "ECONNREFUSED";
    case EPIPE:
      return "EPIPE";
    case ENOTCONN:
      return "ENOTCONN";
    default:
      return absl::StrCat("errno ", error);
  }
}

namespace {

// The tap library's errors are bare errno values; these add what the demo was doing.
absl::Status PcapError(const std::string& path, std::error_code error) {
  return absl::UnavailableError(
      absl::StrCat("cannot create pcap file ", path, ": ", error.message()));
}

absl::Status LoopError(const std::string& what, std::error_code error) {
  return absl::UnavailableError(absl::StrCat(what, ": ", error.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Session>> Session::Open(const SessionOptions& options,
                                                       InterruptWatch& interrupt) {
  std::unique_ptr<Session> session(new Session(interrupt));
  if (absl::Status status = session->Init(options); !status.ok()) return status;
  return session;
}

absl::Status Session::Init(const SessionOptions& options) {
  Result<std::unique_ptr<tap::PcapWriter>> pcap = tap::PcapWriter::Open(options.pcap_path);
  if (!pcap.ok()) return PcapError(options.pcap_path, pcap.error());

  testbed::StackHostOptions host;
  host.tap = {.name = testbed::kTapName, .netns = options.netns, .create = false};
  host.wrap = [this, &pcap](tap::Device& tap) {
    auto device = std::make_unique<RecordingDevice>(tap, recording_, std::move(pcap).value());
    device_ = device.get();
    return device;
  };
  host.stack.interface.address = testbed::kStackAddress;
  host.stack.interface.prefix_len = testbed::kPrefixLength;
  host.stack.interface.gateway = options.gateway;
  if (options.ipv6) {
    host.stack.interface.ipv6.enabled = true;
    host.stack.interface.ipv6.addresses = {Ipv6Prefix{testbed::kStackAddress6, 64}};
    host.stack.ndp.dad_transmits = 0;  // nothing else on the link: the kernel's address is nodad
  }
  host.stack.random_seed = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
  Result<std::unique_ptr<testbed::StackHost>> opened = testbed::StackHost::Open(host);
  if (!opened.ok()) return absl::UnavailableError(testbed::LastFailure());
  host_ = *std::move(opened);
  recording_.origin = host_->Now();
  Stack& stack = host_->stack();
  stack.set_tcp_event_handler([this](const tcp::Event& event) { OnEvent(event); });
  stack.set_tcp_trace_handler([this](const tcp::Trace& trace) { OnTrace(trace); });

  if (!options.server_netns.empty()) {
    Result<std::unique_ptr<tap::PcapWriter>> server_pcap =
        tap::PcapWriter::Open(options.server_pcap_path);
    if (!server_pcap.ok()) return PcapError(options.server_pcap_path, server_pcap.error());
    absl::StatusOr<std::unique_ptr<LinkCapture>> capture = LinkCapture::Open(
        options.server_netns, options.server_link, recording_, std::move(server_pcap).value());
    if (!capture.ok()) return capture.status();
    server_capture_ = *std::move(capture);
  }

  tap::EventLoop& loop = host_->loop();
  if (const std::error_code error = loop.AddReader(interrupt_.fd(), [this] {
        interrupt_.Check();
        host_->loop().Stop();
      })) {
    return LoopError("cannot watch the interrupt descriptor with epoll", error);
  }
  if (server_capture_ != nullptr) {
    if (const std::error_code error = loop.AddReader(
            server_capture_->fd(), [this] { server_capture_->Drain(host_->Now()); })) {
      return LoopError("cannot watch the server-side capture with epoll", error);
    }
  }
  return absl::OkStatus();
}

Session::~Session() {
  // The loop watches the capture below; the host (and its loop) go first.
  host_.reset();
}

void Session::StartTimeline() {
  const timers::TimePoint now = host_->Now();
  recording_ = Recording{.origin = now};
}

void Session::Note(std::string text, NoteKind kind) {
  recording_.AddNote(Elapsed(), kind, std::move(text));
}

absl::StatusOr<bool> Session::RunUntil(const std::function<bool()>& done,
                                       timers::Duration timeout) {
  const timers::TimePoint deadline = host_->Now() + timeout;
  while (true) {
    if (interrupt_.Check()) return interrupt_.AsStatus();
    if (done()) return true;
    const timers::TimePoint now = host_->Now();
    if (now >= deadline) return false;
    // A device error (the TAP vanished) would repeat forever: it ends the scenario instead.
    if (const std::error_code error = host_->loop().RunOnce(deadline - now)) {
      return LoopError(
          absl::StrCat("reading TAP device '", testbed::kTapName, "' (or waiting in epoll)"),
          error);
    }
  }
}

absl::Status Session::Wait(timers::Duration duration) {
  absl::StatusOr<bool> result = RunUntil([] { return false; }, duration);
  return result.status();
}

absl::Status Session::Connect(const wire::IpAddress& remote, std::uint16_t port,
                              const tcp::ConnectionOptions& options, timers::Duration timeout) {
  tcp::Result<tcp::ConnectionId> id = host_->stack().Connect(remote, port, options, host_->Now());
  if (!id.ok()) return absl::UnavailableError("connect: " + id.error().message());
  app_.id = *id;
  absl::StatusOr<bool> connected =
      RunUntil([this] { return app_.connected || app_.closed.has_value(); }, timeout);
  if (!connected.ok()) return connected.status();
  if (app_.connected) return absl::OkStatus();
  if (app_.closed) {
    return absl::UnavailableError(absl::StrCat("connecting to ", remote.ToString(), ":", port,
                                               " failed: ", ErrnoName(app_.closed->value())));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("no connection to ", remote.ToString(), ":", port, " within ",
                   std::chrono::duration_cast<std::chrono::seconds>(timeout).count(), " s"));
}

absl::Status Session::Send(absl::string_view data) {
  if (!app_.id) return absl::FailedPreconditionError("no connection");
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(data.data()),
                                            data.size());
  const tcp::IoResult sent = host_->stack().Send(*app_.id, bytes, host_->Now());
  if (!sent.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("send failed: ", ErrnoName(sent.error.value())));
  }
  if (sent.bytes != data.size()) return absl::ResourceExhaustedError("send buffer full");
  return absl::OkStatus();
}

absl::StatusOr<bool> Session::SendAndAwaitEcho(absl::string_view message,
                                               timers::Duration timeout) {
  const std::size_t before = app_.received.size();
  if (absl::Status status = Send(message); !status.ok()) return status;
  absl::StatusOr<bool> echoed = RunUntil(
      [&] { return app_.received.size() >= before + message.size() || app_.closed.has_value(); },
      timeout);
  if (!echoed.ok()) return echoed.status();
  return app_.received.size() >= before + message.size() &&
         absl::string_view(app_.received).substr(before, message.size()) == message;
}

absl::Status Session::Shutdown() {
  if (!app_.id) return absl::FailedPreconditionError("no connection");
  const std::error_code error = host_->stack().Shutdown(*app_.id, host_->Now());
  if (error) return absl::FailedPreconditionError(ErrnoName(error.value()));
  return absl::OkStatus();
}

std::optional<tcp::ConnectionInfo> Session::Info() const {
  if (!app_.id) return std::nullopt;
  return host_->stack().Info(*app_.id);
}

void Session::StopRecording() {
  device_->ClosePcap();
  if (server_capture_ != nullptr) server_capture_->ClosePcap();
}

void Session::Drain() {
  std::uint8_t buffer[4096];
  while (true) {
    const tcp::IoResult got = host_->stack().Receive(*app_.id, buffer, host_->Now());
    if (!got.ok() || got.bytes == 0) return;  // EAGAIN, or end of stream
    app_.received.append(reinterpret_cast<const char*>(buffer), got.bytes);
  }
}

void Session::OnEvent(const tcp::Event& event) {
  if (!app_.id || event.connection != *app_.id) return;
  switch (event.type) {
    case tcp::EventType::kConnected:
      app_.connected = true;
      break;
    case tcp::EventType::kReadable:
      Drain();
      break;
    case tcp::EventType::kPeerClosed:
      Drain();
      app_.peer_closed = true;
      break;
    case tcp::EventType::kClosed:
      app_.closed = event.error;
      app_.closed_at = Elapsed();
      if (event.error) {
        Note(absl::StrCat("the application gets ", ErrnoName(event.error.value()), " (",
                          event.error.message(), ")"));
      }
      break;
    default:
      break;
  }
}

void Session::OnTrace(const tcp::Trace& trace) {
  if (!app_.id || trace.connection != *app_.id) return;
  switch (trace.type) {
    case tcp::TraceType::kStateChange:
      app_.state = trace.to;
      break;
    case tcp::TraceType::kKeepaliveProbe:
      ++app_.keepalive_probes;
      break;
    case tcp::TraceType::kKeepaliveAnswered:
      ++app_.keepalive_answers;
      break;
    case tcp::TraceType::kKeepaliveTimeout:
      app_.keepalive_gave_up = true;
      Note(absl::StrCat("keepalive gives up: ", trace.number, " probes unanswered"));
      break;
    case tcp::TraceType::kResetReceived:
      app_.reset_received = true;
      break;
    case tcp::TraceType::kResetSent:
      app_.reset_sent = true;
      break;
    case tcp::TraceType::kRetransmit:
      ++app_.retransmissions;
      break;
    default:
      break;
  }
}

}  // namespace tapstack::tools::demo
