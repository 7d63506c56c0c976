// `tapstack nc`: netcat over the stack. Standard input goes to the connection and the connection
// to standard output; end of input half-closes (FIN) and the command ends when both directions
// are finished. Exit status: 0 after a clean close, the errno value when the connection failed
// (ETIMEDOUT 110, ECONNRESET 104, ECONNREFUSED 111), 2 for usage errors, 1 for local failures.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tools/commands.h"
#include "tools/connection_options.h"
#include "tools/event_log.h"
#include "tools/runtime.h"

namespace tapstack::tools {

namespace {

constexpr char kUsage[] =
    "usage: tapstack nc --addr ADDRESS/PREFIX [options] HOST PORT     connect\n"
    "       tapstack nc -l --addr ADDRESS/PREFIX [options] PORT       listen for one connection\n"
    "HOST is IPv4 (192.0.2.1) or IPv6 (2001:db8::1); an IPv6 HOST needs an IPv6 --addr beside\n"
    "the IPv4 one, and with one a listener takes connections of both families\n"
    "options: --tap NAME (tap0) --netns NS --gateway IP --mac MAC --mtu N --pcap FILE\n"
    "         --dad-transmits N (duplicate address detection probes per IPv6 address; 1)\n"
    "         --ready-file FILE (written once listening or connecting, removed on exit)\n"
    "         --events FILE|- --stats --no-offload --no-delay --user-timeout DURATION\n"
    "         --rx-hold DURATION (after reading bulk data, wait this long for more before the\n"
    "         next wakeup; 50us, 0 turns it off, at most 1ms)\n"
    "         --keepalive IDLE,INTERVAL,COUNT (e.g. 3s,2s,4) --keepalive-byte\n"
    "         --no-sack --no-timestamps (neither offered nor accepted: NewReno recovery, or no\n"
    "         RFC 7323 timestamps)\n"
    "         --congestion cubic|newreno (congestion control; default cubic)\n"
    "         --no-read (never read the connection: its receive window closes)\n"
    "         --receive-loss PERCENT (drop that share of the frames received, at random)\n";

int Usage(absl::string_view message) {
  std::fprintf(stderr, "tapstack nc: %.*s\n%s", static_cast<int>(message.size()), message.data(),
               kUsage);
  return 2;
}

class NcSession {
 public:
  NcSession(StackRuntime& runtime, EventLog& log, bool read_connection)
      : rt_(runtime), log_(log), read_connection_(read_connection) {}

  void OnEvent(const tcp::Event& event) {
    log_.Write(event, rt_.Now());
    if (event.type == tcp::EventType::kAcceptReady && !id_) {
      // The connection may be gone again by the time the event is delivered (reset in the same
      // burst as the ACK that completed it): then nothing is accepted, and nc goes on listening.
      id_ = rt_.stack().Accept(event.listener_port);
      if (!id_) return;
      (void)rt_.stack().StopListening(event.listener_port, rt_.Now());
      Begin();
      return;
    }
    if (!id_ || event.connection != *id_) return;
    switch (event.type) {
      case tcp::EventType::kConnected:
        Begin();
        break;
      case tcp::EventType::kReadable:
      case tcp::EventType::kPeerClosed:
        Drain();
        break;
      case tcp::EventType::kWritable:
        Pump();
        if (!input_pollable_) ReadInput();
        break;
      case tcp::EventType::kClosed:
        closed_ = true;
        exit_code_ = event.error ? event.error.value() : 0;
        if (event.error) {
          std::fprintf(stderr, "tapstack nc: %s\n", event.error.message().c_str());
        }
        rt_.loop().Stop();
        break;
      default:
        break;
    }
  }

  // Both directions finished: our FIN acknowledged or the connection gone, the peer's FIN read.
  bool Finished() const {
    if (closed_) return true;
    if (!id_ || !input_done_ || !peer_done_) return false;
    const std::optional<tcp::ConnectionInfo> info = rt_.stack().Info(*id_);
    return !info || info->state == tcp::State::kTimeWait || info->state == tcp::State::kClosed;
  }
  int exit_code() const { return exit_code_; }
  std::optional<tcp::ConnectionId>& id() { return id_; }

 private:
  void Begin() {
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    // epoll refuses regular files and /dev/null (EPERM): such input is always readable, so it is
    // read whenever the connection has room for it (see ReadInput) instead of when epoll says so.
    input_pollable_ = !rt_.loop().AddReader(STDIN_FILENO, [this] { ReadInput(); });
    reading_input_ = input_pollable_;
    ReadInput();
  }

  void ReadInput() {
    // Pollable input: one read per readiness callback. Otherwise read on until the send buffer
    // is full (pending() stays non-empty) or the input ends; kWritable calls back in here.
    do {
      if (!pending().empty() || input_done_ || input_eof_) return;
      const ssize_t n = read(STDIN_FILENO, input_.get(), kIoBufferSize);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      if (n <= 0) {
        input_eof_ = true;
        StopReadingInput();
        Pump();
        return;
      }
      pending_begin_ = 0;
      pending_end_ = static_cast<std::size_t>(n);
      Pump();
    } while (!input_pollable_);
  }

  void Pump() {
    if (!id_) return;
    while (!pending().empty()) {
      const tcp::IoResult sent = rt_.stack().Send(*id_, pending(), rt_.Now());
      if (sent.bytes == 0) break;  // buffer full: kWritable resumes
      pending_begin_ += sent.bytes;
    }
    if (!pending().empty()) {
      StopReadingInput();
      return;
    }
    if (input_eof_ && !input_done_) {
      input_done_ = true;
      (void)rt_.stack().Shutdown(*id_, rt_.Now());  // end of input: half-close
    } else if (!input_eof_ && !reading_input_ && input_pollable_) {
      (void)rt_.loop().AddReader(STDIN_FILENO, [this] { ReadInput(); });
      reading_input_ = true;
    }
  }

  void StopReadingInput() {
    if (reading_input_) (void)rt_.loop().RemoveReader(STDIN_FILENO);
    reading_input_ = false;
  }

  void Drain() {
    // --no-read: what arrives stays in the receive buffer, so the window the stack advertises
    // shrinks to zero, as behind an application that stopped reading.
    if (!read_connection_) return;
    const std::span<std::uint8_t> buffer(output_.get(), kIoBufferSize);
    while (true) {
      const tcp::IoResult got = rt_.stack().Receive(*id_, buffer, rt_.Now());
      if (!got.ok()) return;  // EAGAIN: nothing more now
      if (got.bytes == 0) {
        peer_done_ = true;  // end of stream
        return;
      }
      std::size_t written = 0;
      while (written < got.bytes) {
        const ssize_t n = write(STDOUT_FILENO, buffer.data() + written, got.bytes - written);
        if (n <= 0) return;
        written += static_cast<std::size_t>(n);
      }
    }
  }

  StackRuntime& rt_;
  EventLog& log_;
  bool read_connection_;
  std::optional<tcp::ConnectionId> id_;
  // Both buffers allocated once and never zeroed: a bulk transfer goes through them 64 KiB at a
  // time, and a fresh zeroed vector per read cost as much as a copy of the data.
  static constexpr std::size_t kIoBufferSize = 64 * 1024;
  std::unique_ptr<std::uint8_t[]> input_ =
      std::make_unique_for_overwrite<std::uint8_t[]>(kIoBufferSize);
  std::unique_ptr<std::uint8_t[]> output_ =
      std::make_unique_for_overwrite<std::uint8_t[]>(kIoBufferSize);
  // What was read from standard input and not yet taken by the connection.
  std::size_t pending_begin_ = 0;
  std::size_t pending_end_ = 0;
  std::span<const std::uint8_t> pending() const {
    return std::span<const std::uint8_t>(input_.get() + pending_begin_,
                                         pending_end_ - pending_begin_);
  }
  bool input_pollable_ = false;  // epoll watches standard input (a pipe, socket or terminal)
  bool reading_input_ = false;
  bool input_eof_ = false;
  bool input_done_ = false;
  bool peer_done_ = false;
  bool closed_ = false;
  int exit_code_ = 0;
};

}  // namespace

int RunNc(std::span<const std::string_view> raw_args) {
  if (AsksForHelp(raw_args)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::set<std::string> valued = kRuntimeValued;
  valued.insert(kConnectionValued.begin(), kConnectionValued.end());
  valued.insert({"--events", "--congestion", "--receive-loss"});
  std::set<std::string> flags = kConnectionFlags;
  flags.insert(
      {"--listen", "--stats", "--no-offload", "--no-sack", "--no-timestamps", "--no-read"});
  absl::StatusOr<Args> args = Args::Parse(raw_args, valued, flags, {{"-l", "--listen"}});
  if (!args.ok()) return Usage(args.status().message());
  const bool listen = args->Has("--listen");
  const std::vector<std::string>& positional = args->positional();
  if (positional.size() != (listen ? 1u : 2u)) {
    return Usage(listen ? "listen mode takes one PORT" : "connect mode takes HOST PORT");
  }
  absl::StatusOr<long long> port = ParseInteger("PORT", positional.back(), 1, 65535);
  if (!port.ok()) return Usage(port.status().message());
  std::optional<wire::IpAddress> host;
  if (!listen) {
    host = wire::IpAddress::Parse(positional[0]);
    if (!host) return Usage("HOST: bad IPv4 or IPv6 address '" + positional[0] + "'");
  }
  absl::StatusOr<RuntimeOptions> options = ParseRuntimeOptions(*args);
  if (!options.ok()) return Usage(options.status().message());
  if (host && host->is_ipv6() && !options->stack.interface.ipv6.enabled) {
    return Usage("HOST: an IPv6 host needs an IPv6 --addr");
  }
  options->offload = !args->Has("--no-offload");
  if (const std::optional<std::string> loss = args->Get("--receive-loss")) {
    absl::StatusOr<long long> percent = ParseInteger("--receive-loss", *loss, 0, 100);
    if (!percent.ok()) return Usage(percent.status().message());
    options->receive_loss = static_cast<double>(*percent) / 100;
  }
  options->stack.tcp.sack = !args->Has("--no-sack");
  options->stack.tcp.timestamps = !args->Has("--no-timestamps");
  if (const std::optional<std::string> name = args->Get("--congestion")) {
    const std::optional<tcp::CongestionAlgorithm> algorithm = tcp::ParseCongestionAlgorithm(*name);
    if (!algorithm) return Usage("--congestion: cubic or newreno, not '" + *name + "'");
    options->stack.tcp.congestion_control = *algorithm;
  }
  if (absl::Status parsed = ParseConnectionOptions(*args, options->stack.tcp.defaults);
      !parsed.ok()) {
    return Usage(parsed.message());
  }

  absl::StatusOr<std::unique_ptr<StackRuntime>> runtime = StackRuntime::Start(*options);
  if (!runtime.ok()) {
    std::fprintf(stderr, "tapstack nc: %s\n", std::string(runtime.status().message()).c_str());
    return 1;
  }
  StackRuntime& rt = **runtime;
  // Standard output is the connection's data, so only a fallback is worth a word here; --stats
  // says the mode in any case (tap_offload).
  if (options->offload && !rt.offload_active()) {
    std::fprintf(stderr, "tapstack nc: offloads %s\n", rt.DescribeOffload().c_str());
  }
  absl::StatusOr<EventLog> log = EventLog::Open(args->Get("--events").value_or(""), rt.Now());
  if (!log.ok()) return Usage(log.status().message());
  const tap::DeviceCapabilities capabilities = rt.device_capabilities();
  log->WriteDevice(rt.offload_active(), rt.DescribeOffload(), capabilities.max_tcp_segment_offload,
                   capabilities.tx_checksum_offload, rt.Now());
  NcSession session(rt, *log, /*read_connection=*/!args->Has("--no-read"));
  rt.stack().set_tcp_event_handler([&](const tcp::Event& e) { session.OnEvent(e); });
  rt.stack().set_tcp_trace_handler([&](const tcp::Trace& t) { log->Write(t, rt.Now()); });

  // Our IPv6 addresses are not ours until duplicate address detection has run (RFC 4862 5.4):
  // the kernel could not reach a listener yet, and a connection would have no source address.
  if (const absl::Status settled = rt.AwaitIpv6Addresses(); !settled.ok()) {
    std::fprintf(stderr, "tapstack nc: %s\n", std::string(settled.message()).c_str());
    return 1;
  }
  if (listen) {
    if (const std::error_code error =
            rt.stack().Listen(static_cast<std::uint16_t>(*port), 1, rt.Now())) {
      std::fprintf(stderr, "tapstack nc: listen on port %lld: %s\n", *port,
                   error.message().c_str());
      return 1;
    }
  } else {
    tcp::Result<tcp::ConnectionId> id =
        rt.stack().Connect(*host, static_cast<std::uint16_t>(*port), rt.Now());
    if (!id.ok()) {
      std::fprintf(stderr, "tapstack nc: connect: %s\n", id.error().message().c_str());
      return 1;
    }
    session.id() = *id;
  }
  if (const absl::Status ready = rt.SignalReady(); !ready.ok()) {
    std::fprintf(stderr, "tapstack nc: %s\n", std::string(ready.message()).c_str());
    return 1;
  }
  while (!rt.interrupted() && !session.Finished()) {
    if (const std::error_code error = rt.loop().RunOnce(std::chrono::milliseconds(100))) {
      std::fprintf(stderr, "tapstack nc: %s\n", rt.DescribeLoopError(error).c_str());
      return 1;
    }
  }
  if (args->Has("--stats")) rt.PrintStats(stderr);
  return session.exit_code();
}

}  // namespace tapstack::tools
