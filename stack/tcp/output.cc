// What to send and when: segmentization under the send and congestion windows, Nagle's algorithm,
// FIN, ACK policy, resets, and the segment builder itself.
#include <algorithm>

#include "stack/tcp/engine.h"
#include "stack/wire/ipv4.h"

namespace tapstack::tcp {

namespace {

bool SendsData(State state) {
  switch (state) {
    case State::kEstablished:
    case State::kCloseWait:
    case State::kFinWait1:
    case State::kClosing:
    case State::kLastAck:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::uint16_t TcpEngine::AdvertisedWindow(const Tcb& tcb) const {
  const std::size_t window = tcb.receive_buffer.window() >> tcb.rcv_wscale;
  return static_cast<std::uint16_t>(std::min<std::size_t>(window, 0xffff));
}

void TcpEngine::SendSegment(Tcb& tcb, Seq seq, std::uint8_t flags,
                            std::span<const std::uint8_t> payload, bool with_syn_options) {
  wire::TcpRepr segment;
  segment.src_port = tcb.tuple.local_port;
  segment.dst_port = tcb.tuple.remote_port;
  segment.seq = seq.value();
  segment.flags = flags;
  if (flags & wire::TcpFlags::kAck) segment.ack = tcb.rcv_nxt.value();
  if (flags & wire::TcpFlags::kSyn) {
    // RFC 7323 2.2: the window of a SYN is never scaled.
    segment.window = static_cast<std::uint16_t>(
        std::min<std::size_t>(tcb.receive_buffer.window(), 0xffff));
  } else {
    segment.window = AdvertisedWindow(tcb);
  }
  if (with_syn_options) {
    segment.options.mss = static_cast<std::uint16_t>(InitialMss());
    // Offer scaling on an active open; on a passive one only echo the peer's offer.
    if (!tcb.passive_open || tcb.snd_wscale != 0 || tcb.rcv_wscale != 0) {
      segment.options.window_scale = tcb.rcv_wscale;
    }
  }
  segment.payload = payload;
  Transmit(tcb.tuple, segment);
  if (flags & wire::TcpFlags::kAck) {
    // Every ACK we send carries RCV.NXT: a pending delayed ACK is now redundant.
    tcb.segments_unacked = 0;
    timers_.Cancel(tcb.delayed_ack_timer);
  }
}

void TcpEngine::SendAck(Tcb& tcb) {
  // SND.NXT of RFC 9293 is the highest sequence number sent: after a timeout rewound snd_nxt for
  // go-back-N, an ACK carrying the rewound value would fall below the peer's RCV.NXT and be
  // dropped as unacceptable, ACK field and all.
  SendSegment(tcb, tcb.snd_max, wire::TcpFlags::kAck, {});
}

void TcpEngine::ScheduleAck(Tcb& tcb, bool immediately) {
  if (immediately) {
    SendAck(tcb);
  } else if (!tcb.delayed_ack_timer.is_scheduled()) {
    timers_.ScheduleAfter(tcb.delayed_ack_timer, config_.delayed_ack);
  }
}

void TcpEngine::SendRateLimitedAck(Tcb& tcb, bool is_keepalive_probe) {
  // Linux's tcp_invalid_ratelimit: at most one such ACK per interval per connection, so that
  // forged out-of-window segments cannot turn us into an ACK generator.
  const Duration now = Now();
  if (tcb.sent_invalid_ack && now - tcb.last_invalid_ack < config_.invalid_ack_ratelimit) {
    counters_.Increment(Counter::kTcpRateLimitedAcks);
    return;
  }
  tcb.sent_invalid_ack = true;
  tcb.last_invalid_ack = now;
  // RFC 9293 3.10.7.4: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
  SendAck(tcb);
  if (is_keepalive_probe) {
    counters_.Increment(Counter::kTcpPeerProbesAnswered);
    EmitTrace(Trace{.type = TraceType::kProbeAnswered, .connection = tcb.id,
                    .seq = tcb.snd_max.value()});
  }
}

void TcpEngine::SendReset(const FourTuple& tuple, Seq seq, std::optional<Seq> ack) {
  wire::TcpRepr segment;
  segment.src_port = tuple.local_port;
  segment.dst_port = tuple.remote_port;
  segment.seq = seq.value();
  segment.flags = wire::TcpFlags::kRst;
  if (ack) {
    segment.flags |= wire::TcpFlags::kAck;
    segment.ack = ack->value();
  }
  Transmit(tuple, segment);
  counters_.Increment(Counter::kTcpResetsSent);
}

void TcpEngine::Transmit(const FourTuple& tuple, const wire::TcpRepr& segment) {
  // Written in place into the outgoing frame: the payload is copied once, by WriteTcp.
  const std::size_t length = wire::TcpHeaderLen(segment.options) + segment.payload.size();
  ip_.Send(tuple.remote_address, wire::IpProtocol::kTcp, length, [&](std::span<std::uint8_t> out) {
    return wire::WriteTcp(segment, tuple.local_address, tuple.remote_address, out);
  });
  counters_.Increment(Counter::kTxTcpSegments);
}

void TcpEngine::ArmRetransmitTimer(Tcb& tcb) {
  timers_.ScheduleAfter(tcb.retransmit_timer, tcb.rto.rto());
}

void TcpEngine::Output(Tcb& tcb, bool override_sws) {
  if (!SendsData(tcb.state)) return;
  // Data held back with nothing in flight has no retransmission timer to wake it: the window
  // (zero, or too small for SWS avoidance to send into) only reopens by an ACK from the peer,
  // and a lost window update would deadlock both ends. The persist timer probes then (RFC 9293
  // 3.8.6.1), as Linux arms its probe timer whenever data waits and nothing is in flight.
  auto arm_persist_if_stalled = [&](std::size_t unsent, std::uint32_t in_flight) {
    if (unsent > 0 && in_flight == 0 && !tcb.persist_timer.is_scheduled()) {
      timers_.ScheduleAfter(tcb.persist_timer, tcb.rto.rto());
    }
  };
  while (true) {
    const std::uint32_t sent_offset = tcb.snd_nxt - tcb.snd_una;
    const std::size_t buffered = tcb.send_buffer.size();
    const std::size_t unsent = sent_offset < buffered ? buffered - sent_offset : 0;
    const std::uint32_t in_flight = tcb.snd_nxt - tcb.snd_una;
    const std::uint32_t window = std::min(tcb.snd_wnd, tcb.congestion.cwnd());
    const std::uint32_t usable = window > in_flight ? window - in_flight : 0;
    const std::size_t length = std::min<std::size_t>({unsent, usable, tcb.mss});

    if (length == 0) {
      // The FIN goes once every byte before it is sent (RFC 9293 3.10.4), and again after a
      // timeout rewound SND.NXT.
      const bool fin_due = tcb.fin_queued && unsent == 0 && sent_offset == buffered &&
                           (!tcb.fin_sent || tcb.snd_nxt < tcb.snd_max);
      if (fin_due) {
        SendSegment(tcb, tcb.snd_nxt, wire::TcpFlags::kFin | wire::TcpFlags::kAck, {});
        tcb.fin_sent = true;
        tcb.snd_nxt += 1;
        tcb.snd_max = Max(tcb.snd_max, tcb.snd_nxt);
        if (!tcb.retransmit_timer.is_scheduled()) ArmRetransmitTimer(tcb);
      } else {
        arm_persist_if_stalled(unsent, in_flight);
      }
      return;
    }
    // Nagle (RFC 1122 4.2.3.4) and sender-side SWS avoidance: a short segment goes only when
    // nothing is in flight (or Nagle is off) and it carries everything queued.
    const bool full_segment = length == tcb.mss;
    const bool everything_queued = length == unsent;
    const bool may_send_short = (in_flight == 0 || tcb.options.no_delay) && everything_queued;
    const bool half_window = length >= tcb.max_snd_wnd / 2 && in_flight == 0;
    if (!full_segment && !may_send_short && !half_window && !override_sws) {
      arm_persist_if_stalled(unsent, in_flight);
      return;
    }
    override_sws = false;  // one segment only

    payload_buffer_.resize(length);
    tcb.send_buffer.Read(sent_offset, payload_buffer_);
    const bool new_data = tcb.snd_nxt == tcb.snd_max;
    const bool retransmission = tcb.snd_nxt < tcb.snd_max;
    std::uint8_t flags = wire::TcpFlags::kAck;
    if (everything_queued) flags |= wire::TcpFlags::kPsh;
    const Seq seq = tcb.snd_nxt;
    SendSegment(tcb, seq, flags, payload_buffer_);
    tcb.window_probe_outstanding = false;  // the probed byte now goes out as ordinary data
    tcb.snd_nxt += static_cast<std::uint32_t>(length);
    tcb.snd_max = Max(tcb.snd_max, tcb.snd_nxt);
    if (retransmission) {
      counters_.Increment(Counter::kTcpRetransmits);
      EmitTrace(Trace{.type = TraceType::kRetransmit, .connection = tcb.id, .seq = seq.value(),
                      .length = static_cast<std::uint32_t>(length)});
    }
    if (new_data && !tcb.rtt_seq) {
      tcb.rtt_seq = tcb.snd_nxt;
      tcb.rtt_start = Now();
    }
    if (!tcb.retransmit_timer.is_scheduled()) ArmRetransmitTimer(tcb);
    if (tcb.options.user_timeout > Duration::zero() && !tcb.user_timeout_timer.is_scheduled()) {
      timers_.ScheduleAfter(tcb.user_timeout_timer, tcb.options.user_timeout);
    }
    timers_.Cancel(tcb.persist_timer);
  }
}

void TcpEngine::RetransmitFirstSegment(Tcb& tcb) {
  // Fast retransmit (RFC 5681 3.2) and RFC 6582 partial ACKs: resend the segment at SND.UNA
  // without moving SND.NXT.
  const std::size_t buffered = tcb.send_buffer.size();
  const std::size_t length = std::min<std::size_t>(buffered, tcb.mss);
  if (length == 0) {
    if (tcb.fin_sent) SendSegment(tcb, tcb.snd_max - 1, wire::TcpFlags::kFin | wire::TcpFlags::kAck, {});
    return;
  }
  payload_buffer_.resize(length);
  tcb.send_buffer.Read(0, payload_buffer_);
  SendSegment(tcb, tcb.snd_una, wire::TcpFlags::kAck, payload_buffer_);
  tcb.rtt_seq.reset();  // Karn
  counters_.Increment(Counter::kTcpRetransmits);
  EmitTrace(Trace{.type = TraceType::kRetransmit, .connection = tcb.id,
                  .seq = tcb.snd_una.value(), .length = static_cast<std::uint32_t>(length)});
}

}  // namespace tapstack::tcp
