#include "tools/load/load_server.h"

#include <algorithm>

namespace tapstack::tools {

namespace {
// The listener's accept queue, at the engine's most (it clamps to 4096): the server accepts on
// every kAcceptReady, so the queue only needs to cover one burst of handshakes.
constexpr int kBacklog = 4096;
}  // namespace

LoadServer::LoadServer(Stack& stack, const LoadOptions& options, timers::TimePoint start)
    : stack_(stack), options_(options), start_(start), buffer_(64 * 1024) {
  report_.server = true;
  report_.wanted = options.connections;
  accepted_.reserve(options.connections);
}

std::error_code LoadServer::Start(timers::TimePoint now) {
  for (std::uint32_t port = options_.listen_ports.first; port <= options_.listen_ports.last;
       ++port) {
    if (std::error_code error = stack_.Listen(static_cast<std::uint16_t>(port), kBacklog, now)) {
      return error;
    }
  }
  return {};
}

void LoadServer::AcceptAll(std::uint16_t port) {
  while (std::optional<tcp::ConnectionId> id = stack_.Accept(port)) {
    accepted_.insert(id->value);
    ++report_.accepted;
    report_.held += 1;
    report_.peak_held = std::max(report_.peak_held, report_.held);
  }
}

void LoadServer::OnEvent(const tcp::Event& event, timers::TimePoint now) {
  if (event.type == tcp::EventType::kAcceptReady) {
    AcceptAll(event.listener_port);
    return;
  }
  if (!accepted_.contains(event.connection.value)) return;
  switch (event.type) {
    case tcp::EventType::kReadable:
    case tcp::EventType::kPeerClosed:
      Echo(event.connection, now);
      break;
    case tcp::EventType::kWritable:
      if (FlushUnsent(event.connection, now)) Echo(event.connection, now);
      break;
    case tcp::EventType::kClosed:
      accepted_.erase(event.connection.value);
      unsent_.erase(event.connection.value);
      report_.held -= 1;
      if (event.error) {
        report_.Lost(event.error, now - start_);
      } else {
        ++report_.closed_by_peer;
      }
      break;
    default:
      break;
  }
}

bool LoadServer::FlushUnsent(tcp::ConnectionId id, timers::TimePoint now) {
  const auto found = unsent_.find(id.value);
  if (found == unsent_.end()) return true;
  std::vector<std::uint8_t>& bytes = found->second;
  const tcp::IoResult sent = stack_.Send(id, bytes, now);
  report_.bytes_echoed += sent.bytes;
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<long>(sent.bytes));
  if (!bytes.empty()) return false;
  unsent_.erase(found);
  return true;
}

void LoadServer::Echo(tcp::ConnectionId id, timers::TimePoint now) {
  if (unsent_.contains(id.value)) return;  // the send buffer is full: kWritable resumes
  while (true) {
    const tcp::IoResult got = stack_.Receive(id, buffer_, now);
    if (!got.ok()) return;  // EAGAIN: nothing more now
    if (got.bytes == 0) {
      (void)stack_.Close(id, now);  // the client closed: so do we
      return;
    }
    const tcp::IoResult sent =
        stack_.Send(id, std::span<const std::uint8_t>(buffer_.data(), got.bytes), now);
    report_.bytes_echoed += sent.bytes;
    if (sent.bytes < got.bytes) {
      unsent_[id.value].assign(buffer_.begin() + static_cast<long>(sent.bytes),
                               buffer_.begin() + static_cast<long>(got.bytes));
      return;
    }
  }
}

bool LoadServer::Settled() const {
  return options_.connections > 0 && report_.accepted >= options_.connections;
}

std::size_t LoadServer::AbortSome(std::size_t at_most, timers::TimePoint now) {
  if (!aborting_) {
    aborting_ = true;
    to_abort_.assign(accepted_.begin(), accepted_.end());
    // Forgotten first, so that the kClosed events of the aborts are not counted as losses.
    accepted_.clear();
    unsent_.clear();
  }
  for (std::size_t n = 0; n < at_most && !to_abort_.empty(); ++n) {
    (void)stack_.Abort(tcp::ConnectionId{to_abort_.back()}, now);
    to_abort_.pop_back();
  }
  return to_abort_.size();
}

}  // namespace tapstack::tools
