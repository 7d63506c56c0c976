#include "tests/interop/tcp_interop_support.h"

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "testbed/failure.h"
#include "tests/interop/tap_fixture.h"
#include "tests/support/files.h"

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

// --- OpenInProcessStack

Result<std::unique_ptr<testbed::StackHost>> OpenInProcessStack(
    const InProcessStackOptions& options) {
  testbed::StackHostOptions host;
  host.tap = {.name = options.tap_name,
              .netns = options.netns,
              .create = false,
              .offload = options.offload};
  host.pcap_path = options.pcap_path.empty() ? CapturePath().value_or("") : options.pcap_path;
  host.faults = options.faults;
  host.stack.interface.mac = wire::MacAddress::Parse(kStackMac);
  const std::optional<wire::Ipv4Address> address = wire::Ipv4Address::Parse(options.address);
  if (!address) return testbed::Fail(Errno(EINVAL), "bad address " + options.address);
  host.stack.interface.address = *address;
  host.stack.interface.prefix_len = 24;
  if (options.gateway) host.stack.interface.gateway = wire::Ipv4Address::Parse(*options.gateway);
  if (options.ipv6_address) {
    const std::optional<wire::Ipv6Address> ipv6 = wire::Ipv6Address::Parse(*options.ipv6_address);
    if (!ipv6) return testbed::Fail(Errno(EINVAL), "bad IPv6 address " + *options.ipv6_address);
    host.stack.interface.ipv6.enabled = true;
    host.stack.interface.ipv6.addresses = {Ipv6Prefix{*ipv6, 64}};
    host.stack.ndp.dad_transmits = 0;
  }
  host.stack.tcp = options.tcp;
  host.stack.random_seed = options.seed;
  return testbed::StackHost::Open(host);
}

// --- StreamApp

namespace {
constexpr std::size_t kChunk = 64 * 1024;
bool IsEagain(std::error_code error) { return error == tcp::Errno(EAGAIN); }
}  // namespace

StreamApp::StreamApp(testbed::StackHost& host, tcp::ConnectionId id, StreamPlan plan)
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

AppHost::AppHost(testbed::StackHost& host) : host_(host) {
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
  const std::optional<wire::IpAddress> remote = wire::IpAddress::Parse(address);
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

}  // namespace tapstack::testing
