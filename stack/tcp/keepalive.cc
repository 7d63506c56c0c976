// TCP keepalive, RFC 1122 4.2.3.6 and RFC 9293 3.8.4.
//
// After `idle` without a segment from the peer, send a probe: an ACK whose sequence number is
// SND.NXT - 1, which the peer must answer with an ACK because the byte is outside its window.
// Each probe unanswered after `interval` is counted and the next one sent; after `count`
// unanswered probes the connection is reset and the application gets ETIMEDOUT. Any segment from
// the peer resets the count and starts the idle period again.
//
// Cost, the Linux design (net/ipv4/tcp_timer.c): the receive path only stores the time of the
// last segment (OnPeerActivity). The keepalive timer is not touched per segment; when it fires
// and finds that traffic came meanwhile, it re-arms itself for the remainder of the idle period.
// So a busy connection costs one store per segment and one timer expiry per idle period.
#include <cerrno>

#include "stack/tcp/engine.h"

namespace tapstack::tcp {

bool TcpEngine::KeepaliveRuns(const Tcb& tcb) const {
  if (!tcb.options->keepalive.enabled) return false;
  // Keepalive watches an established connection; in FIN-WAIT-2 it runs while the application
  // still holds the connection (the peer may die before it sends its FIN). An orphan's
  // FIN-WAIT-2 is bounded by the FIN-WAIT-2 timeout instead, as in Linux. CLOSE-WAIT still has
  // our direction open.
  return tcb.state == State::kEstablished || tcb.state == State::kCloseWait ||
         (tcb.state == State::kFinWait2 && !tcb.app_closed);
}

bool TcpEngine::KeepaliveTimerEndsConnection(const Tcb& tcb) const {
  // Linux's keepalive timer (tcp_keepalive_timer) does the same double duty for an orphaned
  // FIN-WAIT-2; one timer less per connection is 32 bytes less at a million connections.
  return tcb.state == State::kTimeWait || (tcb.state == State::kFinWait2 && tcb.app_closed);
}

void TcpEngine::OnPeerActivity(Tcb& tcb) {
  tcb.last_received = Now();
  if (tcb.keepalive_probes_unanswered == 0) {
    // The common case: one store, no timer work. The naive variant exists only so the benchmark
    // can show what this saves.
    if (keepalive_rearm_per_segment_ && KeepaliveRuns(tcb)) ArmKeepalive(tcb);
    return;
  }
  // Probes were out and the peer spoke: the count starts over, and so does the idle period.
  counters_.Increment(Counter::kTcpKeepaliveProbesAnswered);
  EmitTrace(Trace{.type = TraceType::kKeepaliveAnswered,
                  .connection = IdOf(tcb),
                  .number = tcb.keepalive_probes_unanswered,
                  .count = tcb.options->keepalive.count});
  tcb.keepalive_probes_unanswered = 0;
  ArmKeepalive(tcb);
}

void TcpEngine::ArmKeepalive(Tcb& tcb) {
  if (KeepaliveTimerEndsConnection(tcb)) {
    tcb.keepalive_probes_unanswered = 0;  // the timer is timing the end: leave it alone
    return;
  }
  if (!KeepaliveRuns(tcb)) {
    timers_.Cancel(tcb.keepalive_timer);
    tcb.keepalive_probes_unanswered = 0;
    return;
  }
  // For the remainder of the idle period, counted from the last segment received.
  timers_.Schedule(tcb.keepalive_timer, origin_ + tcb.last_received + tcb.options->keepalive.idle);
}

void TcpEngine::OnKeepaliveTimer(Tcb& tcb) {
  if (KeepaliveTimerEndsConnection(tcb)) {
    // TIME-WAIT's 2MSL ran out, or an orphaned FIN-WAIT-2 waited long enough for the peer's FIN.
    Terminate(tcb, {}, /*send_reset=*/false);
    return;
  }
  if (!KeepaliveRuns(tcb)) return;
  const KeepaliveOptions& keepalive = tcb.options->keepalive;
  const Duration now = Now();
  const Duration since_received = now - tcb.last_received;

  if (tcb.keepalive_probes_unanswered == 0 && since_received < keepalive.idle) {
    // Traffic came since the timer was armed: sleep for the rest of the idle period.
    timers_.Schedule(tcb.keepalive_timer, origin_ + tcb.last_received + keepalive.idle);
    return;
  }
  // With data in flight the retransmission timer owns the connection; with a zero window and
  // data waiting, the persist timer does (RFC 1122 4.2.3.6 probes only an idle connection).
  if (tcb.flight_size() > 0 || (tcb.sender.snd_wnd() == 0 && tcb.sender.has_unsent_data())) {
    tcb.keepalive_probes_unanswered = 0;
    timers_.ScheduleAfter(tcb.keepalive_timer, keepalive.idle);
    return;
  }

  // Give up? With a user timeout set it decides instead of the count, as in Linux: abort once
  // the user timeout has passed since the last segment and at least one probe is unanswered.
  const Duration user_timeout = tcb.options->user_timeout;
  const bool give_up = user_timeout > Duration::zero()
                           ? tcb.keepalive_probes_unanswered > 0 && since_received >= user_timeout
                           : tcb.keepalive_probes_unanswered >= keepalive.count;
  if (give_up) {
    counters_.Increment(Counter::kTcpKeepaliveAborts);
    EmitTrace(Trace{.type = TraceType::kKeepaliveTimeout,
                    .connection = IdOf(tcb),
                    .number = tcb.keepalive_probes_unanswered,
                    .count = keepalive.count});
    Terminate(tcb, Errno(ETIMEDOUT), /*send_reset=*/true);
    return;
  }
  SendKeepaliveProbe(tcb);
  ++tcb.keepalive_probes_unanswered;
  EmitTrace(Trace{.type = TraceType::kKeepaliveProbe,
                  .connection = IdOf(tcb),
                  .seq = (tcb.sender.snd_max() - 1).value(),
                  .length = keepalive.send_garbage_byte ? 1u : 0u,
                  .number = tcb.keepalive_probes_unanswered,
                  .count = keepalive.count});
  timers_.ScheduleAfter(tcb.keepalive_timer, keepalive.interval);
}

void TcpEngine::SendKeepaliveProbe(Tcb& tcb) {
  // SEQ = SND.NXT - 1: a byte the peer has already acknowledged, so it is outside the peer's
  // window and RFC 9293 3.10.7.4 obliges the peer to answer with <SEQ=SND.NXT><ACK=RCV.NXT>.
  static constexpr std::uint8_t kGarbage[1] = {0};
  const std::span<const std::uint8_t> payload = tcb.options->keepalive.send_garbage_byte
                                                    ? std::span<const std::uint8_t>(kGarbage)
                                                    : std::span<const std::uint8_t>();
  SendSegment(tcb, tcb.sender.snd_max() - 1, wire::TcpFlags::kAck, payload);
  counters_.Increment(Counter::kTcpKeepaliveProbesSent);
}

std::error_code TcpEngine::SetKeepalive(ConnectionId id, const KeepaliveOptions& keepalive) {
  Tcb* tcb = Find(id);
  if (tcb == nullptr) return Errno(ENOTCONN);
  // The ranges of Linux's TCP_KEEPIDLE / TCP_KEEPINTVL (1 to 32767 s) and TCP_KEEPCNT (1 to 127);
  // ours take milliseconds, so the lower bound is 1 ms.
  constexpr Duration kMax = std::chrono::seconds(32767);
  constexpr Duration kMin = std::chrono::milliseconds(1);
  if (keepalive.idle < kMin || keepalive.idle > kMax || keepalive.interval < kMin ||
      keepalive.interval > kMax || keepalive.count < 1 || keepalive.count > 127) {
    return Errno(EINVAL);
  }
  const bool was_running = KeepaliveRuns(*tcb);
  ConnectionOptions options = *tcb->options;
  options.keepalive = keepalive;
  SetOptions(*tcb, options);
  if (KeepaliveRuns(*tcb) && was_running && tcb->keepalive_probes_unanswered > 0) {
    return {};  // probing is under way: the new interval applies from the next probe
  }
  // Like Linux, a changed idle time re-arms for the remainder since the last segment received
  // (at once if that is already past).
  ArmKeepalive(*tcb);
  return {};
}

}  // namespace tapstack::tcp
