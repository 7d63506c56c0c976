#include "tools/load/load_client.h"

#include <cerrno>
#include <cmath>

namespace tapstack::tools {

using std::chrono::duration_cast;
using std::chrono::nanoseconds;

LoadClient::LoadClient(Stack& stack, const LoadOptions& options,
                       const tcp::ConnectionOptions& connection, timers::TimePoint start)
    : stack_(stack),
      options_(options),
      connection_(connection),
      start_(start),
      wheel_(start),
      flows_(options.connections),
      now_(start),
      payload_(options.send_bytes, 'x'),
      receive_buffer_(64 * 1024) {
  report_.wanted = options.connections;
  for (const LoadTarget& target : options.targets) {
    for (std::uint32_t port = target.ports.first; port <= target.ports.last; ++port) {
      destinations_.emplace_back(target.host, static_cast<std::uint16_t>(port));
    }
  }
  sources_.push_back(stack.interface().address);
  sources_.insert(sources_.end(), stack.interface().extra_addresses.begin(),
                  stack.interface().extra_addresses.end());
  for (Flow& flow : flows_) flow.client = this;
  warmup_ = std::min(sources_.size(), flows_.size());
  flow_by_connection_.reserve(options.connections);
}

std::error_code LoadClient::Start(timers::TimePoint now) {
  OpenDue(now);
  return {};
}

void LoadClient::OpenDue(timers::TimePoint now) {
  if (opening_ || stopped_) return;
  opening_ = true;
  std::size_t allowed = flows_.size();
  if (options_.rate) {
    // The i-th connection (from 0) is due i / rate seconds after the start.
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double due = std::floor(elapsed * static_cast<double>(*options_.rate)) + 1;
    allowed = static_cast<std::size_t>(std::min(due, static_cast<double>(flows_.size())));
  }
  // The first connection goes alone: until it is answered, the next hop (ours, and the
  // middlebox's towards the server) is being resolved, and ARP queues only a few packets per
  // neighbour (16 here, about 100 in Linux); a burst behind it would be dropped and wait for the
  // SYN retransmission a second later.
  // Then the first from each further source address, one per neighbour to resolve on the
  // middlebox's side, and only then the rest.
  if (warmup_answered_ == 0 && report_.opened > 0) {
    allowed = std::min<std::size_t>(allowed, 1);
  } else if (warmup_answered_ < warmup_) {
    allowed = std::min(allowed, warmup_);
  }
  while (report_.opened < allowed && (options_.rate || report_.connecting < kMaxConnectsInFlight)) {
    Open(report_.opened, now);
  }
  if (options_.rate && report_.opened < flows_.size() && !open_timer_.is_scheduled()) {
    const std::chrono::duration<double> next(static_cast<double>(report_.opened) /
                                             static_cast<double>(*options_.rate));
    wheel_.Schedule(open_timer_, start_ + duration_cast<nanoseconds>(next));
  }
  opening_ = false;
}

void LoadClient::Open(std::size_t index, timers::TimePoint now) {
  Flow& flow = flows_[index];
  const wire::Ipv4Address source = sources_[index % sources_.size()];
  const auto& [host, port] = destinations_[(index / sources_.size()) % destinations_.size()];
  ++report_.opened;
  flow.opened = now;
  tcp::Result<tcp::ConnectionId> id = stack_.ConnectFrom(source, host, port, connection_, now);
  if (!id.ok()) {
    flow.state = FlowState::kEnded;
    ++report_.failed[id.error().value()];
    if (index < warmup_) ++warmup_answered_;
    return;
  }
  flow.id = *id;
  flow.state = FlowState::kConnecting;
  ++report_.connecting;
  flow_by_connection_[id->value] = static_cast<std::uint32_t>(index);
}

void LoadClient::OnEvent(const tcp::Event& event, timers::TimePoint now) {
  const auto found = flow_by_connection_.find(event.connection.value);
  if (found == flow_by_connection_.end()) return;
  Flow& flow = flows_[found->second];
  switch (event.type) {
    case tcp::EventType::kConnected:
      flow.state = FlowState::kEstablished;
      --report_.connecting;
      if (found->second < warmup_) ++warmup_answered_;
      ++report_.established;
      report_.held += 1;
      report_.peak_held = std::max(report_.peak_held, report_.held);
      report_.handshake_ms.push_back(
          std::chrono::duration<double, std::milli>(now - flow.opened).count());
      if (options_.send_bytes > 0) wheel_.Schedule(flow.send_timer, now + options_.send_every);
      NoteIfSettled(now);
      OpenDue(now);
      break;
    case tcp::EventType::kReadable:
    case tcp::EventType::kPeerClosed:
      Drain(flow, now);
      break;
    case tcp::EventType::kClosed:
      Ended(flow, event.error, now);
      break;
    default:
      break;
  }
}

void LoadClient::Drain(Flow& flow, timers::TimePoint now) {
  while (true) {
    const tcp::IoResult got = stack_.Receive(flow.id, receive_buffer_, now);
    if (!got.ok()) return;  // EAGAIN: nothing more now
    if (got.bytes == 0) {
      // The server closed its side: close ours; kClosed follows.
      (void)stack_.Close(flow.id, now);
      return;
    }
    report_.bytes_echoed += got.bytes;
  }
}

void LoadClient::Ended(Flow& flow, std::error_code error, timers::TimePoint now) {
  const FlowState was = flow.state;
  flow.state = FlowState::kEnded;
  wheel_.Cancel(flow.send_timer);
  flow_by_connection_.erase(flow.id.value);
  if (was == FlowState::kConnecting) {
    --report_.connecting;
    if (static_cast<std::size_t>(&flow - flows_.data()) < warmup_) ++warmup_answered_;
    ++report_.failed[error ? error.value() : ECONNABORTED];
    OpenDue(now);
  } else if (was == FlowState::kEstablished) {
    report_.held -= 1;
    if (error) {
      report_.Lost(error, now - start_);
    } else {
      ++report_.closed_by_peer;
    }
  }
  NoteIfSettled(now);
}

void LoadClient::NoteIfSettled(timers::TimePoint now) {
  if (Settled() && report_.open_seconds == 0) {
    report_.open_seconds = std::chrono::duration<double>(now - start_).count();
  }
}

void LoadClient::OnOpenTimer(timers::Timer& timer) {
  LoadClient& client = timers::OwnerOf<&LoadClient::open_timer_>(timer);
  client.OpenDue(client.now_);
}

void LoadClient::OnSendTimer(timers::Timer& timer) {
  Flow& flow = timers::OwnerOf<&Flow::send_timer>(timer);
  flow.client->SendOn(flow);
}

void LoadClient::SendOn(Flow& flow) {
  const tcp::IoResult sent = stack_.Send(flow.id, payload_, now_);
  report_.bytes_sent += sent.bytes;
  if (sent.bytes < payload_.size()) ++report_.short_sends;
  // Send may have delivered kClosed (a RST answered it at once): only a live flow goes on.
  if (flow.state == FlowState::kEstablished) {
    wheel_.Schedule(flow.send_timer, now_ + options_.send_every);
  }
}

void LoadClient::Advance(timers::TimePoint now) {
  now_ = now;
  (void)wheel_.Advance(now);
  OpenDue(now);
}

bool LoadClient::Settled() const {
  return report_.opened == flows_.size() && report_.connecting == 0;
}

bool LoadClient::Exhausted() const { return Settled() && report_.held == 0; }

std::size_t LoadClient::AbortSome(std::size_t at_most, timers::TimePoint now) {
  stopped_ = true;  // nothing opens from now on
  wheel_.Cancel(open_timer_);
  for (std::size_t n = 0; n < at_most && next_to_abort_ < report_.opened; ++next_to_abort_) {
    Flow& flow = flows_[next_to_abort_];
    if (flow.state == FlowState::kEnded) continue;
    wheel_.Cancel(flow.send_timer);
    flow.state = FlowState::kEnded;  // its kClosed is not a loss
    (void)stack_.Abort(flow.id, now);
    ++n;
  }
  return report_.opened - next_to_abort_;
}

}  // namespace tapstack::tools
