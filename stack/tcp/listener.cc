// Passive opens: listening ports, the half-open (SYN-RECEIVED) connections they spawn, SYN cookies
// once those are too many (RFC 4987 3.6), and the queue of established connections waiting for
// Accept() (RFC 9293 3.10.1, 3.10.7.2).
#include <algorithm>
#include <cerrno>

#include "stack/tcp/engine.h"

namespace tapstack::tcp {

namespace {

SynCookieTuple CookieTupleOf(const AnyFourTuple& tuple) {
  return std::visit(
      [](const auto& t) {
        return SynCookieTuple{HashInput(t.local_address), t.local_port, HashInput(t.remote_address),
                              t.remote_port};
      },
      tuple);
}

}  // namespace

std::error_code TcpEngine::Listen(std::uint16_t port, int backlog) {
  if (port == 0) return Errno(EINVAL);
  if (listeners_.contains(port)) {
    return Errno(EADDRINUSE);
  }
  listeners_[port] = Listener{.port = port, .backlog = std::clamp(backlog, 1, 4096)};
  return {};
}

std::error_code TcpEngine::StopListening(std::uint16_t port) {
  const auto it = listeners_.find(port);
  if (it == listeners_.end()) return Errno(ENOENT);
  // Established connections nobody accepted are reset, as closing a listening socket does.
  const std::deque<ConnectionId> unaccepted = std::move(it->second.accept_queue);
  listeners_.erase(it);
  for (ConnectionId id : unaccepted) Abort(id);
  return {};
}

std::optional<ConnectionId> TcpEngine::Accept(std::uint16_t port) {
  const auto it = listeners_.find(port);
  if (it == listeners_.end() || it->second.accept_queue.empty()) return std::nullopt;
  const ConnectionId id = it->second.accept_queue.front();
  it->second.accept_queue.pop_front();
  if (Tcb* tcb = Find(id); tcb != nullptr) tcb->listener_port = 0;  // no longer the listener's
  return id;
}

void TcpEngine::IngestListen(Listener& listener, const AnyFourTuple& tuple,
                             const wire::TcpView& segment, const wire::TcpOptions& options) {
  // RFC 9293 3.10.7.2, third check: a SYN creates a connection in SYN-RECEIVED, within limits.
  if (listener.full()) {
    // The application is not keeping up: drop, as Linux does, and let the client retry.
    counters_.Increment(Counter::kDropTcpAcceptQueueFull);
    return;
  }
  if (connection_count() >= config_.max_connections) {
    counters_.Increment(Counter::kTcpRefusedConnectionLimit);
    SendReset(tuple, Seq(0), Seq(segment.seq()) + 1);
    return;
  }
  if (half_open_ >= config_.max_half_open) {
    // A SYN flood, or a burst of clients: with cookies the SYN costs no memory at all.
    if (config_.syn_cookies) {
      SendSynCookie(tuple, segment, options);
    } else {
      counters_.Increment(Counter::kDropTcpHalfOpenFull);
    }
    return;
  }
  Tcb& tcb = CreateTcb(tuple, config_.defaults);
  tcb.passive_open = true;
  tcb.listener_port = listener.port;
  tcb.receiver.Start(Seq(segment.seq()));
  tcb.sender.Start(InitialSequenceNumber(tuple), Now());
  ApplySynOptions(tcb, options);
  // The window of a SYN is never scaled (RFC 7323 2.2).
  tcb.sender.SetInitialWindow(segment.window(), tcb.receiver.irs(), tcb.sender.iss());
  SetState(tcb, State::kSynReceived);
  counters_.Increment(Counter::kTcpPassiveOpens);
  SendSegment(tcb, tcb.sender.iss(), wire::TcpFlags::kSyn | wire::TcpFlags::kAck, {},
              /*with_syn_options=*/true);
  ArmRetransmitTimer(tcb);
}

void TcpEngine::SendSynCookie(const AnyFourTuple& tuple, const wire::TcpView& segment,
                              const wire::TcpOptions& options) {
  wire::TcpRepr syn_ack;
  syn_ack.src_port = segment.dst_port();
  syn_ack.dst_port = segment.src_port();
  syn_ack.seq = syn_cookies_.Make(CookieTupleOf(tuple), segment.seq(), options.mss,
                                  options.window_scale, Now());
  syn_ack.ack = segment.seq() + 1;
  syn_ack.flags = wire::TcpFlags::kSyn | wire::TcpFlags::kAck;
  // The same SYN-ACK a connection would send (SendSegment): unscaled window, our MSS, and window
  // scaling only when the client offered it (RFC 7323 2.2).
  const std::size_t receive_buffer = config_.defaults.receive_buffer;
  syn_ack.window = static_cast<std::uint16_t>(std::min<std::size_t>(receive_buffer, 0xffff));
  syn_ack.options.mss = static_cast<std::uint16_t>(InitialMss(tuple));
  if (options.window_scale) {
    syn_ack.options.window_scale = ReceiveWindowScale(config_.defaults.largest_receive_buffer());
  }
  // No SACK-permitted, even to a client that offered it: the cookie has no bit left to remember
  // the offer (syn_cookie.h), so the connection rebuilt from the ACK could not know whether SACK
  // was agreed. Without the option in the SYN-ACK the client knows SACK is off (RFC 2018 2).
  Transmit(tuple, syn_ack);
  counters_.Increment(Counter::kTcpSynCookiesSent);
  last_syn_cookie_sent_ = Now();
}

bool TcpEngine::AcceptSynCookie(Listener& listener, const AnyFourTuple& tuple,
                                const wire::TcpView& segment) {
  // Like Linux, only while cookies are in use: otherwise no ACK can be a cookie's, and checking
  // would only give a blind attacker guesses for free.
  if (!last_syn_cookie_sent_ || Now() - *last_syn_cookie_sent_ > 2 * SynCookies::kPeriod) {
    return false;
  }
  const Seq client_isn = Seq(segment.seq()) - 1;
  const Seq cookie = Seq(segment.ack()) - 1;
  const std::optional<SynCookieSyn> syn =
      syn_cookies_.Check(CookieTupleOf(tuple), cookie.value(), client_isn.value(), Now());
  if (!syn) {
    counters_.Increment(Counter::kDropTcpBadSynCookie);
    return false;
  }
  if (listener.full()) {
    // As for a SYN-RECEIVED connection: ignore the ACK; the client's retransmission of its data
    // (or of this ACK's data) brings the cookie back once there is room.
    counters_.Increment(Counter::kDropTcpAcceptQueueFull);
    return true;
  }
  if (connection_count() >= config_.max_connections) {
    counters_.Increment(Counter::kTcpRefusedConnectionLimit);
    SendReset(tuple, Seq(segment.ack()), std::nullopt);
    return true;
  }
  // The TCB that SYN-RECEIVED would have held, rebuilt from the cookie and this ACK.
  Tcb& tcb = CreateTcb(tuple, config_.defaults);
  tcb.passive_open = true;
  tcb.listener_port = listener.port;
  tcb.receiver.Start(client_isn);
  tcb.sender.StartAcknowledged(cookie);
  tcb.sender.ApplyPeerSyn(std::clamp<std::uint32_t>(syn->mss, 64, InitialMss(tuple)),
                          syn->window_scale.value_or(0));
  if (syn->window_scale) {
    tcb.receiver.set_window_shift(ReceiveWindowScale(tcb.options->largest_receive_buffer()));
  }
  tcb.sender.SetInitialWindow(std::uint32_t{segment.window()} << tcb.sender.window_shift(),
                              client_isn + 1, tcb.sender.snd_una());
  counters_.Increment(Counter::kTcpPassiveOpens);
  counters_.Increment(Counter::kTcpSynCookiesAccepted);
  SetState(tcb, State::kEstablished);
  if (!OnEstablishedFromListen(tcb)) return true;
  // The ACK may carry data and even a FIN (RFC 9293 3.10.7.4, seventh and eighth).
  const std::uint8_t flags = segment.flags();
  if (ProcessText(tcb, Seq(segment.seq()), segment.payload(),
                  (flags & wire::TcpFlags::kFin) != 0)) {
    Output(tcb);
  }
  return true;
}

bool TcpEngine::OnEstablishedFromListen(Tcb& tcb) {
  const auto it = listeners_.find(tcb.listener_port);
  if (it == listeners_.end()) {
    Terminate(tcb, {}, /*send_reset=*/true);  // the listener went away meanwhile
    return false;
  }
  it->second.accept_queue.push_back(IdOf(tcb));
  Emit(Event{.type = EventType::kAcceptReady,
             .connection = IdOf(tcb),
             .listener_port = tcb.listener_port});
  return true;
}

}  // namespace tapstack::tcp
