// Passive opens: listening ports, the half-open (SYN-RECEIVED) connections they spawn, and the
// queue of established connections waiting for Accept() (RFC 9293 3.10.1, 3.10.7.2).
#include <algorithm>
#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "stack/tcp/engine.h"

namespace tapstack::tcp {

absl::Status TcpEngine::Listen(std::uint16_t port, int backlog) {
  if (port == 0) return absl::InvalidArgumentError("listen: port 0");
  if (listeners_.contains(port)) {
    return absl::AlreadyExistsError(absl::StrCat("listen: port ", port, " in use (EADDRINUSE)"));
  }
  listeners_[port] = Listener{.port = port, .backlog = std::clamp(backlog, 1, 4096)};
  return absl::OkStatus();
}

absl::Status TcpEngine::StopListening(std::uint16_t port) {
  const auto it = listeners_.find(port);
  if (it == listeners_.end()) return absl::NotFoundError(absl::StrCat("no listener on ", port));
  // Established connections nobody accepted are reset, as closing a listening socket does.
  const std::vector<ConnectionId> unaccepted = std::move(it->second.accept_queue);
  listeners_.erase(it);
  for (ConnectionId id : unaccepted) Abort(id);
  return absl::OkStatus();
}

std::optional<ConnectionId> TcpEngine::Accept(std::uint16_t port) {
  const auto it = listeners_.find(port);
  if (it == listeners_.end() || it->second.accept_queue.empty()) return std::nullopt;
  const ConnectionId id = it->second.accept_queue.front();
  it->second.accept_queue.erase(it->second.accept_queue.begin());
  if (Tcb* tcb = Find(id); tcb != nullptr) tcb->listener_port = 0;  // no longer the listener's
  return id;
}

void TcpEngine::IngestListen(Listener& listener, const FourTuple& tuple,
                             const wire::TcpView& segment, const wire::TcpOptions& options) {
  // RFC 9293 3.10.7.2, third check: a SYN creates a connection in SYN-RECEIVED.
  if (half_open_ >= config_.max_half_open ||
      listener.accept_queue.size() >= static_cast<std::size_t>(listener.backlog)) {
    counters_.Increment(Counter::kDropTcpHalfOpenFull);
    return;
  }
  if (connections_.size() >= config_.max_connections) {
    counters_.Increment(Counter::kDropTcpHalfOpenFull);
    return;
  }
  Tcb& tcb = CreateTcb(tuple, config_.defaults);
  tcb.passive_open = true;
  tcb.listener_port = listener.port;
  tcb.irs = Seq(segment.seq());
  tcb.rcv_nxt = tcb.irs + 1;
  tcb.iss = InitialSequenceNumber(tuple);
  tcb.snd_una = tcb.iss;
  tcb.snd_nxt = tcb.snd_max = tcb.iss + 1;
  ApplySynOptions(tcb, options);
  // The window of a SYN is never scaled (RFC 7323 2.2).
  tcb.snd_wnd = tcb.max_snd_wnd = segment.window();
  tcb.snd_wl1 = tcb.irs;
  tcb.snd_wl2 = tcb.iss;
  SetState(tcb, State::kSynReceived);
  counters_.Increment(Counter::kTcpPassiveOpens);
  SendSegment(tcb, tcb.iss, wire::TcpFlags::kSyn | wire::TcpFlags::kAck, {},
              /*with_syn_options=*/true);
  ArmRetransmitTimer(tcb);
}

bool TcpEngine::OnEstablishedFromListen(Tcb& tcb) {
  const auto it = listeners_.find(tcb.listener_port);
  if (it == listeners_.end()) {
    Terminate(tcb, {}, /*send_reset=*/true);  // the listener went away meanwhile
    return false;
  }
  it->second.accept_queue.push_back(tcb.id);
  Emit(Event{.type = EventType::kAcceptReady, .connection = tcb.id,
             .listener_port = tcb.listener_port});
  return true;
}

}  // namespace tapstack::tcp
