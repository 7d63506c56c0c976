#include "tests/interop/tcp_interop_support.h"

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/interop/tap_fixture.h"

namespace tapstack::testing {

// --- PatternStream

std::uint64_t PatternStream::Next() {
  // SplitMix64 (Steele, Lea, Flood 2014): a full-period generator whose outputs are well mixed.
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void PatternStream::Fill(std::span<std::uint8_t> out) {
  for (std::uint8_t& byte : out) {
    if (word_bytes_left_ == 0) {
      word_ = Next();
      word_bytes_left_ = 8;
    }
    byte = static_cast<std::uint8_t>(word_);
    word_ >>= 8;
    --word_bytes_left_;
  }
}

// --- InProcessStack

absl::StatusOr<std::unique_ptr<InProcessStack>> InProcessStack::Open(
    const InProcessStackOptions& options) {
  std::unique_ptr<InProcessStack> self(new InProcessStack());
  const tap::TapOptions tap_options{
      .name = options.tap_name, .netns = options.netns, .create = false};
  Result<std::unique_ptr<tap::TapDevice>> tap = tap::TapDevice::Open(tap_options);
  if (!tap.ok()) return absl::UnavailableError(tap::DescribeOpenError(tap_options, tap.error()));
  self->tap_ = std::move(tap).value();
  self->device_ = self->tap_.get();
  // Recorded next to the TAP, under any faults: the pcap holds what the kernel really exchanged
  // with us.
  if (const std::optional<std::string> path = CapturePath()) {
    Result<std::unique_ptr<tap::PcapRecorder>> recorder =
        tap::PcapRecorder::Open(*self->tap_, *path);
    if (!recorder.ok()) {
      return absl::UnavailableError("cannot create pcap file " + *path + ": " +
                                    recorder.error().message());
    }
    self->recorder_ = std::move(recorder).value();
    self->device_ = self->recorder_.get();
  }
  if (options.faults) {
    self->faulty_ = std::make_unique<tap::FaultyLink>(*self->device_, *options.faults);
    self->device_ = self->faulty_.get();
  }

  StackConfig config;
  config.interface.mac = wire::MacAddress::Parse(kStackMac);
  const std::optional<wire::Ipv4Address> address = wire::Ipv4Address::Parse(options.address);
  if (!address) return absl::InvalidArgumentError("bad address " + options.address);
  config.interface.address = *address;
  config.interface.prefix_len = 24;
  if (options.gateway) config.interface.gateway = wire::Ipv4Address::Parse(*options.gateway);
  config.tcp = options.tcp;
  config.random_seed = options.seed;

  InProcessStack* raw = self.get();
  self->stack_ = std::make_unique<Stack>(config, self->clock_.Now(),
                                         [raw](std::span<const std::uint8_t> frame) {
                                           // A full TAP queue is a counted drop; TCP recovers.
                                           (void)raw->device_->Send(frame, raw->clock_.Now());
                                         });
  self->loop_ = std::make_unique<tap::EventLoop>(self->clock_);
  const std::error_code attached = self->loop_->AttachDevice(
      *self->device_, [raw](std::span<const std::uint8_t> frame, timers::TimePoint now) {
        raw->stack_->Ingest(frame, now);
      });
  if (attached) return absl::UnavailableError("attaching the TAP device: " + attached.message());
  self->loop_->SetTimerSource([raw] { return raw->stack_->NextDeadline(); },
                              [raw](timers::TimePoint now) { raw->stack_->Advance(now); });
  return self;
}

bool InProcessStack::RunUntil(const std::function<bool()>& done,
                              std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    // A short cap on the sleep so that `done` (often a child process's exit) is seen promptly.
    const std::error_code error = loop_->RunOnce(std::chrono::milliseconds(2));
    if (error && !loop_error_) loop_error_ = error;
  }
  return true;
}

void InProcessStack::RunFor(std::chrono::milliseconds duration) {
  (void)RunUntil([] { return false; }, duration);
}

// --- StreamApp

namespace {
constexpr std::size_t kChunk = 64 * 1024;
bool IsEagain(std::error_code error) { return error == tcp::Errno(EAGAIN); }
}  // namespace

StreamApp::StreamApp(InProcessStack& host, tcp::ConnectionId id, StreamPlan plan)
    : host_(host), stack_(host.stack()), id_(id), plan_(plan), pattern_(plan.seed) {
  receive_buffer_.resize(kChunk);
}

void StreamApp::Start() {
  started_ = true;
  Pump();
}

void StreamApp::OnEvent(const tcp::Event& event) {
  if (event.type == tcp::EventType::kClosed) {
    closed_ = true;
    close_error_ = event.error;
    return;
  }
  Pump();
}

bool StreamApp::Finished() const {
  if (!peer_eof_ || !write_shut_) return false;
  if (closed_) return true;
  const std::optional<tcp::ConnectionInfo> info = stack_.Info(id_);
  return !info || info->state == tcp::State::kTimeWait;
}

void StreamApp::NoteIoError(std::error_code error) {
  if (!io_error_) io_error_ = error;
}

void StreamApp::SendPending() {
  if (pending_.empty()) return;
  const tcp::IoResult result = stack_.Send(id_, pending_, host_.Now());
  if (!result.ok() && !IsEagain(result.error)) NoteIoError(result.error);
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(result.bytes));
  bytes_sent_ += result.bytes;
}

void StreamApp::ReceiveAvailable() {
  while (!peer_eof_) {
    // Echo reads only what it can pass on at once; the rest waits in our receive window.
    if (plan_.mode == StreamPlan::Mode::kEcho && !pending_.empty()) return;
    const tcp::IoResult result = stack_.Receive(id_, receive_buffer_, host_.Now());
    if (!result.ok()) {
      if (!IsEagain(result.error)) NoteIoError(result.error);
      return;
    }
    if (result.bytes == 0) {
      peer_eof_ = true;
      received_sha_ = received_hash_.FinishHex();
      return;
    }
    const std::span<const std::uint8_t> data =
        std::span<const std::uint8_t>(receive_buffer_).first(result.bytes);
    if (const std::optional<tcp::ConnectionInfo> info = stack_.Info(id_)) {
      receive_states_.push_back(info->state);
    }
    received_hash_.Update(data);
    bytes_received_ += result.bytes;
    if (plan_.mode == StreamPlan::Mode::kEcho) {
      pending_.assign(data.begin(), data.end());
      sent_hash_.Update(data);
      SendPending();
    }
  }
}

void StreamApp::Pump() {
  if (!started_ || closed_ || pumping_) return;
  pumping_ = true;
  if (plan_.mode == StreamPlan::Mode::kEcho) {
    SendPending();
    ReceiveAvailable();
    if (peer_eof_ && pending_.empty() && !write_shut_) {
      sent_sha_ = sent_hash_.FinishHex();
      write_shut_ = true;
      if (const std::error_code error = stack_.Shutdown(id_, host_.Now())) NoteIoError(error);
    }
  } else {
    ReceiveAvailable();
    if (!plan_.send_after_peer_eof || peer_eof_) {
      while (!closed_) {
        if (pending_.empty() && bytes_generated_ < plan_.send_bytes) {
          pending_.resize(std::min<std::uint64_t>(kChunk, plan_.send_bytes - bytes_generated_));
          pattern_.Fill(pending_);
          sent_hash_.Update(pending_);
          bytes_generated_ += pending_.size();
        }
        if (pending_.empty()) break;
        SendPending();
        if (!pending_.empty()) break;  // the send buffer is full: kWritable resumes
      }
      if (bytes_generated_ == plan_.send_bytes && pending_.empty() && !write_shut_) {
        sent_sha_ = sent_hash_.FinishHex();
        write_shut_ = true;
        if (const std::error_code error = stack_.Shutdown(id_, host_.Now())) NoteIoError(error);
      }
    }
  }
  pumping_ = false;
}

// --- AppHost

AppHost::AppHost(InProcessStack& host) : host_(host) {
  host_.stack().set_tcp_event_handler([this](const tcp::Event& event) { OnEvent(event); });
}

absl::Status AppHost::Serve(std::uint16_t port, int backlog, StreamPlan plan) {
  served_[port] = plan;
  if (const std::error_code error = host_.stack().Listen(port, backlog, host_.Now())) {
    return absl::UnavailableError("listen: " + error.message());
  }
  return absl::OkStatus();
}

absl::StatusOr<StreamApp*> AppHost::Connect(const std::string& address, std::uint16_t port,
                                            StreamPlan plan) {
  const std::optional<wire::Ipv4Address> remote = wire::Ipv4Address::Parse(address);
  if (!remote) return absl::InvalidArgumentError("bad address " + address);
  tcp::Result<tcp::ConnectionId> id = host_.stack().Connect(*remote, port, host_.Now());
  if (!id.ok()) return absl::UnavailableError("connect: " + id.error().message());
  apps_.push_back(std::make_unique<StreamApp>(host_, *id, plan));
  by_id_[id->value] = apps_.back().get();
  return apps_.back().get();
}

void AppHost::OnEvent(const tcp::Event& event) {
  if (event.type == tcp::EventType::kAcceptReady) {
    const auto served = served_.find(event.listener_port);
    if (served == served_.end()) return;
    while (std::optional<tcp::ConnectionId> id = host_.stack().Accept(event.listener_port)) {
      apps_.push_back(std::make_unique<StreamApp>(host_, *id, served->second));
      by_id_[id->value] = apps_.back().get();
      apps_.back()->Start();
    }
    return;
  }
  const auto it = by_id_.find(event.connection.value);
  if (it == by_id_.end()) return;
  if (event.type == tcp::EventType::kConnected) {
    it->second->Start();
  } else {
    it->second->OnEvent(event);
  }
}

std::size_t AppHost::CountFinished() const {
  return static_cast<std::size_t>(
      std::count_if(apps_.begin(), apps_.end(), [](const auto& app) { return app->Finished(); }));
}

std::size_t AppHost::CountClosed() const {
  return static_cast<std::size_t>(
      std::count_if(apps_.begin(), apps_.end(), [](const auto& app) { return app->closed(); }));
}

// --- KernelPeer

absl::StatusOr<std::unique_ptr<KernelPeer>> KernelPeer::Start(
    const std::string& netns, const std::vector<std::string>& args) {
  std::string command = absl::StrCat("exec ip netns exec ", ShellQuote(netns), " python3 ",
                                     ShellQuote(TAPSTACK_TCP_PEER_SCRIPT));
  for (const std::string& arg : args) absl::StrAppend(&command, " ", ShellQuote(arg));
  const std::string output_path = TempPath("tcp_peer.out");
  // `exec` all the way down (sh, then ip netns exec): the child's pid is python's, so waiting for
  // it and killing it reach the peer itself.
  absl::StatusOr<ChildProcess> child = ChildProcess::Spawn({"/bin/sh", "-c", command}, output_path);
  if (!child.ok()) return child.status();
  return std::unique_ptr<KernelPeer>(new KernelPeer(*std::move(child), output_path));
}

bool KernelPeer::Exited() {
  if (!exit_code_) exit_code_ = child_.Wait(std::chrono::milliseconds(0));
  return exit_code_.has_value();
}

std::optional<int> KernelPeer::Wait(std::chrono::milliseconds timeout) {
  if (!exit_code_) exit_code_ = child_.Wait(timeout);
  return exit_code_;
}

bool KernelPeer::WaitForKey(const std::string& key, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Results().contains(key)) return true;
    if (Exited()) return Results().contains(key);
    // Waiting on another process's output, not on TCP timing.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::map<std::string, std::string> KernelPeer::Results() const {
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

}  // namespace tapstack::testing
