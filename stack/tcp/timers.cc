// The connection timers other than keepalive, each on the stack's timer wheel: retransmission
// (RFC 6298) with the user timeout (RFC 5482), the tail loss probe that stands in for it (RFC
// 8985 7), persist (RFC 9293 3.8.6.1) and delayed ACK (RFC 1122 4.2.3.2). TIME-WAIT and the
// FIN-WAIT-2 timeout ride on the keepalive timer (keepalive.cc).
#include <algorithm>
#include <cerrno>

#include "stack/tcp/engine.h"

namespace tapstack::tcp {

void TcpEngine::OnRetransmitTimer(Tcb& tcb) {
  Sender& sender = tcb.sender;
  switch (tcb.state) {
    case State::kSynSent:
    case State::kSynReceived: {
      const int limit = tcb.state == State::kSynSent ? config_.syn_retries : config_.synack_retries;
      if (!sender.OnSynTimeout(limit)) {
        counters_.Increment(Counter::kTcpTimeouts);
        Terminate(tcb, Errno(ETIMEDOUT), /*send_reset=*/false);
        return;
      }
      const std::uint8_t flags = tcb.state == State::kSynSent
                                     ? wire::TcpFlags::kSyn
                                     : wire::TcpFlags::kSyn | wire::TcpFlags::kAck;
      SendSegment(tcb, sender.iss(), flags, {}, /*with_syn_options=*/true);
      counters_.Increment(Counter::kTcpRetransmits);
      EmitTrace(Trace{.type = TraceType::kRetransmit,
                      .connection = IdOf(tcb),
                      .seq = sender.iss().value(),
                      .cause = RetransmitCause::kTimeout});
      ArmRetransmitTimer(tcb);
      return;
    }
    default:
      break;
  }
  if (sender.flight_size() == 0) return;
  if (UserTimeoutExpired(tcb) ||
      !sender.OnRetransmitTimeout(tcb.options->max_retransmissions, Now())) {
    counters_.Increment(Counter::kTcpTimeouts);
    Terminate(tcb, Errno(ETIMEDOUT), /*send_reset=*/true);
    return;
  }
  counters_.Increment(Counter::kTcpRetransmitTimeouts);
  if (sender.only_fin_outstanding()) {
    // Only the FIN is outstanding: resend it.
    SendSegment(tcb, sender.snd_una(), wire::TcpFlags::kFin | wire::TcpFlags::kAck, {});
    sender.OnFinRetransmitted();
    counters_.Increment(Counter::kTcpRetransmits);
    EmitTrace(Trace{.type = TraceType::kRetransmit,
                    .connection = IdOf(tcb),
                    .seq = sender.snd_una().value(),
                    .cause = RetransmitCause::kTimeout});
  } else {
    Output(tcb);
  }
  ArmRetransmitTimer(tcb);
}

void TcpEngine::OnLossProbeTimer(Tcb& tcb) {
  Sender& sender = tcb.sender;
  // The probe timer stands in for the retransmission timer (RFC 8985 7.2); when a probe no longer
  // fits (recovery began since, or the user timeout ran out), it is that timer.
  const std::optional<Transmission> probe =
      sender.ProbeTimeout() && !UserTimeoutExpired(tcb) ? sender.LossProbe() : std::nullopt;
  if (!probe) {
    OnRetransmitTimer(tcb);
    return;
  }
  SendTransmission(tcb, *probe);
  sender.OnTransmitted(*probe, Now());
  sender.OnLossProbeSent(*probe);
  counters_.Increment(Counter::kTcpLossProbes);
  const bool resent = probe->retransmit == RetransmitCause::kProbe;
  EmitTrace(Trace{.type = TraceType::kLossProbe,
                  .connection = IdOf(tcb),
                  .seq = probe->seq.value(),
                  .length = probe->fin ? 1 : probe->length,
                  .count = resent ? 1 : 0});
  // RFC 8985 7.3: after the probe, the retransmission timer (no second probe before an ACK).
  ArmRetransmitTimer(tcb);
}

void TcpEngine::OnPersistTimer(Tcb& tcb) {
  if (!(tcb.state == State::kEstablished || tcb.state == State::kCloseWait ||
        tcb.state == State::kFinWait1 || tcb.state == State::kLastAck)) {
    return;
  }
  Sender& sender = tcb.sender;
  switch (sender.OnPersistTimeout(tcb.options->max_retransmissions)) {
    case Sender::PersistAction::kNothing:
      return;
    case Sender::PersistAction::kGiveUp:
      counters_.Increment(Counter::kTcpTimeouts);
      Terminate(tcb, Errno(ETIMEDOUT), /*send_reset=*/true);
      return;
    case Sender::PersistAction::kOverrideSws:
      Output(tcb, /*override_sws=*/true);
      if (sender.flight_size() == 0) ArmPersistTimer(tcb);
      return;
    case Sender::PersistAction::kZeroWindowProbe: {
      // Probe with one byte of new data (RFC 9293 3.8.6.1).
      std::uint8_t byte = 0;
      sender.ReadPayload(sender.snd_nxt() - sender.snd_una(), std::span<std::uint8_t>(&byte, 1));
      SendSegment(tcb, sender.snd_nxt(), wire::TcpFlags::kAck,
                  std::span<const std::uint8_t>(&byte, 1));
      sender.OnZeroWindowProbeSent();
      counters_.Increment(Counter::kTcpZeroWindowProbes);
      ArmPersistTimer(tcb);
      return;
    }
  }
}

void TcpEngine::OnDelayedAckTimer(Tcb& tcb) {
  if (tcb.synchronized() || tcb.state == State::kSynReceived) SendAck(tcb);
}

}  // namespace tapstack::tcp
