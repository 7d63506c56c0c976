// The connection timers other than keepalive, each on the stack's timer wheel: retransmission
// (RFC 6298), persist (RFC 9293 3.8.6.1), delayed ACK (RFC 1122 4.2.3.2), TIME-WAIT (2MSL) with
// the FIN-WAIT-2 timeout, and the user timeout (RFC 5482).
#include <algorithm>
#include <cerrno>

#include "stack/tcp/engine.h"

namespace tapstack::tcp {

void TcpEngine::OnRetransmitTimer(Tcb& tcb) {
  switch (tcb.state) {
    case State::kSynSent:
    case State::kSynReceived: {
      const int limit = tcb.state == State::kSynSent ? config_.syn_retries : config_.synack_retries;
      if (tcb.syn_retransmissions >= limit) {
        counters_.Increment(Counter::kTcpTimeouts);
        Terminate(tcb, Errno(ETIMEDOUT), /*send_reset=*/false);
        return;
      }
      ++tcb.syn_retransmissions;
      tcb.rto.Backoff();
      const std::uint8_t flags = tcb.state == State::kSynSent
                                     ? wire::TcpFlags::kSyn
                                     : wire::TcpFlags::kSyn | wire::TcpFlags::kAck;
      SendSegment(tcb, tcb.iss, flags, {}, /*with_syn_options=*/true);
      counters_.Increment(Counter::kTcpRetransmits);
      EmitTrace(Trace{.type = TraceType::kRetransmit, .connection = tcb.id,
                      .seq = tcb.iss.value()});
      ArmRetransmitTimer(tcb);
      return;
    }
    default:
      break;
  }
  if (tcb.flight_size() == 0) return;
  if (tcb.retransmissions >= tcb.options.max_retransmissions) {
    counters_.Increment(Counter::kTcpTimeouts);
    Terminate(tcb, Errno(ETIMEDOUT), /*send_reset=*/true);
    return;
  }
  // RFC 6298 5.4 to 5.6 and RFC 5681 3.1: back off, collapse the window, resend from SND.UNA.
  ++tcb.retransmissions;
  tcb.congestion.OnRetransmitTimeout(tcb.flight_size(), tcb.snd_max);
  tcb.rto.Backoff();
  tcb.rtt_seq.reset();
  tcb.snd_nxt = tcb.snd_una;
  if (tcb.fin_sent && tcb.send_buffer.size() == 0) {
    // Only the FIN is outstanding: resend it.
    SendSegment(tcb, tcb.snd_una, wire::TcpFlags::kFin | wire::TcpFlags::kAck, {});
    tcb.snd_nxt = tcb.snd_max;
    counters_.Increment(Counter::kTcpRetransmits);
    EmitTrace(Trace{.type = TraceType::kRetransmit, .connection = tcb.id,
                    .seq = tcb.snd_una.value()});
  } else {
    Output(tcb);
  }
  ArmRetransmitTimer(tcb);
}

void TcpEngine::OnPersistTimer(Tcb& tcb) {
  if (!(tcb.state == State::kEstablished || tcb.state == State::kCloseWait ||
        tcb.state == State::kFinWait1 || tcb.state == State::kLastAck)) {
    return;
  }
  const std::uint32_t sent_offset = tcb.snd_nxt - tcb.snd_una;
  if (tcb.send_buffer.size() <= sent_offset || tcb.flight_size() > 0) return;
  // RFC 6429 and RFC 9293 3.8.6.1 (MUST-37): the connection stays open for as long as the peer
  // answers the probes, but probes nobody answers mean the peer is gone. Like Linux
  // (tcp_probe_timer, bounded by tcp_retries2), give up after as many unanswered probes as
  // retransmissions are allowed; any segment from the peer resets the count (input.cc).
  if (tcb.persist_probes_unanswered >= tcb.options.max_retransmissions) {
    counters_.Increment(Counter::kTcpTimeouts);
    Terminate(tcb, Errno(ETIMEDOUT), /*send_reset=*/true);
    return;
  }
  ++tcb.persist_probes_unanswered;
  if (tcb.snd_wnd > 0) {
    // A window too small for sender SWS avoidance to use: the override timeout (RFC 1122
    // 4.2.3.4) sends what fits, which also draws the peer's current window.
    Output(tcb, /*override_sws=*/true);
    if (tcb.flight_size() == 0) timers_.ScheduleAfter(tcb.persist_timer, tcb.rto.rto());
    return;
  }
  // Probe with one byte of new data; SND.NXT stays, so the byte is sent for real once the window
  // opens. Probes back off like retransmissions.
  std::uint8_t byte = 0;
  tcb.send_buffer.Read(sent_offset, std::span<std::uint8_t>(&byte, 1));
  SendSegment(tcb, tcb.snd_nxt, wire::TcpFlags::kAck, std::span<const std::uint8_t>(&byte, 1));
  tcb.window_probe_outstanding = true;
  counters_.Increment(Counter::kTcpZeroWindowProbes);
  tcb.rto.Backoff();
  timers_.ScheduleAfter(tcb.persist_timer, tcb.rto.rto());
}

void TcpEngine::OnDelayedAckTimer(Tcb& tcb) {
  if (tcb.synchronized() || tcb.state == State::kSynReceived) SendAck(tcb);
}

void TcpEngine::OnTimeWaitTimer(Tcb& tcb) {
  // TIME-WAIT's 2MSL ran out, or an orphaned FIN-WAIT-2 waited long enough for the peer's FIN.
  Terminate(tcb, {}, /*send_reset=*/false);
}

void TcpEngine::OnUserTimeoutTimer(Tcb& tcb) {
  if (tcb.flight_size() == 0) return;
  counters_.Increment(Counter::kTcpTimeouts);
  Terminate(tcb, Errno(ETIMEDOUT), /*send_reset=*/true);
}

}  // namespace tapstack::tcp
