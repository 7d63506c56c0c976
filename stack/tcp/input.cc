// SEGMENT ARRIVES (RFC 9293 3.10.7), with the RFC 5961 defences against blind injection.
#include <algorithm>
#include <cerrno>

#include "stack/tcp/engine.h"

namespace tapstack::tcp {

namespace {

bool Has(std::uint8_t flags, std::uint8_t flag) { return (flags & flag) != 0; }

}  // namespace

void TcpEngine::Ingest(wire::Ipv4Address source, std::span<const std::uint8_t> bytes) {
  const wire::Parsed<wire::TcpView> segment = wire::TcpView::Parse(bytes);
  if (!segment.ok()) {
    counters_.Increment(Counter::kDropTcpMalformed);
    return;
  }
  if (!segment->checksum_valid(source, local_address_)) {
    counters_.Increment(Counter::kDropTcpBadChecksum);
    return;
  }
  const wire::Parsed<wire::TcpOptions> options = wire::ParseTcpOptions(segment->options_bytes());
  if (!options.ok()) {
    counters_.Increment(Counter::kDropTcpMalformed);
    return;
  }
  counters_.Increment(Counter::kRxTcp);
  const FourTuple tuple{local_address_, segment->dst_port(), source, segment->src_port()};
  const std::uint8_t flags = segment->flags();

  if (const auto it = connections_.find(tuple); it != connections_.end()) {
    Tcb& tcb = *it->second;
    if (tcb.state == State::kSynSent) {
      IngestSynSent(tcb, *segment, *options);
    } else {
      IngestSynchronizing(tcb, *segment);
    }
    return;
  }
  if (const auto it = listeners_.find(segment->dst_port()); it != listeners_.end()) {
    // RFC 9293 3.10.7.2 (LISTEN): RST is ignored, an ACK gets a RST, a SYN opens.
    if (Has(flags, wire::TcpFlags::kRst)) {
      counters_.Increment(Counter::kDropTcpNoConnection);
    } else if (Has(flags, wire::TcpFlags::kAck)) {
      if (!Has(flags, wire::TcpFlags::kSyn) && AcceptSynCookie(it->second, tuple, *segment)) {
        return;
      }
      counters_.Increment(Counter::kDropTcpNoConnection);
      SendReset(tuple, Seq(segment->ack()), std::nullopt);
    } else if (Has(flags, wire::TcpFlags::kSyn)) {
      IngestListen(it->second, tuple, *segment, *options);
    } else {
      counters_.Increment(Counter::kDropTcpNoConnection);
    }
    return;
  }
  IngestNoConnection(source, *segment, static_cast<std::uint32_t>(segment->payload().size()));
}

void TcpEngine::IngestNoConnection(const wire::Ipv4Address& source, const wire::TcpView& segment,
                                   std::uint32_t payload_len) {
  // RFC 9293 3.10.7.1 (CLOSED): anything but a RST is answered with a RST.
  counters_.Increment(Counter::kDropTcpNoConnection);
  const std::uint8_t flags = segment.flags();
  if (Has(flags, wire::TcpFlags::kRst)) return;
  const FourTuple tuple{local_address_, segment.dst_port(), source, segment.src_port()};
  if (Has(flags, wire::TcpFlags::kAck)) {
    SendReset(tuple, Seq(segment.ack()), std::nullopt);
  } else {
    const std::uint32_t length = payload_len + (Has(flags, wire::TcpFlags::kSyn) ? 1 : 0) +
                                 (Has(flags, wire::TcpFlags::kFin) ? 1 : 0);
    SendReset(tuple, Seq(0), Seq(segment.seq()) + length);
  }
}

void TcpEngine::ApplySynOptions(Tcb& tcb, const wire::TcpOptions& options) {
  // RFC 9293 3.7.1: without an MSS option the peer takes 536; never more than our own MTU allows.
  const std::uint32_t peer_mss = options.mss.value_or(536);
  tcb.mss = std::clamp<std::uint32_t>(peer_mss, 64, InitialMss());
  tcb.congestion.set_mss(tcb.mss);
  // RFC 7323 2.2: scaling is on only when both sides offered it.
  if (options.window_scale && (tcb.passive_open || tcb.state == State::kSynSent)) {
    tcb.snd_wscale = std::min<std::uint8_t>(*options.window_scale, 14);
    if (tcb.passive_open) tcb.rcv_wscale = ReceiveWindowScale(tcb.options.receive_buffer);
  } else {
    tcb.snd_wscale = 0;
    tcb.rcv_wscale = 0;
  }
}

void TcpEngine::IngestSynSent(Tcb& tcb, const wire::TcpView& segment,
                              const wire::TcpOptions& options) {
  // RFC 9293 3.10.7.3.
  const std::uint8_t flags = segment.flags();
  const Seq ack(segment.ack());
  if (Has(flags, wire::TcpFlags::kAck) && (ack <= tcb.iss || ack > tcb.snd_max)) {
    counters_.Increment(Counter::kDropTcpBadAck);
    if (!Has(flags, wire::TcpFlags::kRst)) SendReset(tcb.tuple, ack, std::nullopt);
    return;
  }
  if (Has(flags, wire::TcpFlags::kRst)) {
    if (!Has(flags, wire::TcpFlags::kAck)) {
      counters_.Increment(Counter::kDropTcpUnacceptable);
      return;
    }
    counters_.Increment(Counter::kTcpResetsReceived);
    EmitTrace(Trace{.type = TraceType::kResetReceived, .connection = tcb.id});
    Terminate(tcb, Errno(ECONNREFUSED), /*send_reset=*/false);
    return;
  }
  if (!Has(flags, wire::TcpFlags::kSyn)) {
    counters_.Increment(Counter::kDropTcpUnacceptable);
    return;
  }
  tcb.irs = Seq(segment.seq());
  tcb.rcv_nxt = tcb.irs + 1;
  ApplySynOptions(tcb, options);
  tcb.last_received = Now();
  if (!Has(flags, wire::TcpFlags::kAck)) {
    // Simultaneous open: answer with our SYN again, now acknowledging theirs.
    tcb.snd_wnd = tcb.max_snd_wnd = segment.window();
    SetState(tcb, State::kSynReceived);
    SendSegment(tcb, tcb.iss, wire::TcpFlags::kSyn | wire::TcpFlags::kAck, {},
                /*with_syn_options=*/true);
    return;
  }
  tcb.snd_una = ack;
  if (tcb.syn_retransmissions == 0) tcb.rto.OnRttSample(Now() - tcb.rtt_start);
  tcb.rto.ResetBackoff();
  timers_.Cancel(tcb.retransmit_timer);
  tcb.snd_wnd = tcb.max_snd_wnd = segment.window();  // unscaled in a SYN
  tcb.snd_wl1 = tcb.irs;
  tcb.snd_wl2 = ack;
  // A FIN queued in SYN-SENT behind queued data (Shutdown) goes out after that data now.
  SetState(tcb, tcb.fin_queued ? State::kFinWait1 : State::kEstablished);
  if (!tcb.app_closed) Emit(Event{.type = EventType::kConnected, .connection = tcb.id});
  SendAck(tcb);
  Output(tcb);
}

bool TcpEngine::SegmentAcceptable(const Tcb& tcb, Seq seq, std::uint32_t length) const {
  // RFC 9293 3.10.7.4, the four cases of the acceptability test.
  const auto window = static_cast<std::uint32_t>(tcb.receive_buffer.window());
  const Seq window_end = tcb.rcv_nxt + window;
  if (length == 0) {
    return window == 0 ? seq == tcb.rcv_nxt : InHalfOpenRange(seq, tcb.rcv_nxt, window_end);
  }
  if (window == 0) return false;
  return InHalfOpenRange(seq, tcb.rcv_nxt, window_end) ||
         InHalfOpenRange(seq + (length - 1), tcb.rcv_nxt, window_end);
}

void TcpEngine::IngestSynchronizing(Tcb& tcb, const wire::TcpView& segment) {
  const std::uint8_t flags = segment.flags();
  Seq seq(segment.seq());
  std::span<const std::uint8_t> payload = segment.payload();
  bool syn = Has(flags, wire::TcpFlags::kSyn);
  const bool fin = Has(flags, wire::TcpFlags::kFin);

  // Keepalive bookkeeping costs one store per segment: any segment from the peer proves it alive.
  // The keepalive timer notices the new stamp when it fires (keepalive.cc).
  if (!Has(flags, wire::TcpFlags::kRst)) OnPeerActivity(tcb);
  // Any segment answers our window probes (RFC 6429: the peer is alive, however long its window
  // stays closed).
  if (!Has(flags, wire::TcpFlags::kRst)) tcb.persist_probes_unanswered = 0;

  if (tcb.state == State::kSynReceived && syn && !Has(flags, wire::TcpFlags::kAck) &&
      seq == tcb.irs) {
    // The peer retransmitted its SYN: our SYN-ACK was lost.
    SendSegment(tcb, tcb.iss, wire::TcpFlags::kSyn | wire::TcpFlags::kAck, {},
                /*with_syn_options=*/true);
    return;
  }

  if (tcb.state == State::kSynReceived && !tcb.passive_open && syn &&
      Has(flags, wire::TcpFlags::kAck) && seq == tcb.irs) {
    // Simultaneous open: the peer's SYN-ACK repeats a SYN we already acknowledged. Its ACK still
    // completes the handshake (the RFC 9293 acceptability test alone would drop it).
    seq += 1;
    syn = false;
  }
  const auto length = static_cast<std::uint32_t>(payload.size()) + (syn ? 1 : 0) + (fin ? 1 : 0);

  // First: is the segment in the window?
  if (!SegmentAcceptable(tcb, seq, length)) {
    counters_.Increment(Counter::kDropTcpUnacceptable);
    if (Has(flags, wire::TcpFlags::kRst)) return;
    if (tcb.state == State::kTimeWait && fin) {
      // A retransmitted FIN: our last ACK was lost. Acknowledge again and restart 2MSL.
      SendAck(tcb);
      timers_.ScheduleAfter(tcb.time_wait_timer, config_.time_wait);
      return;
    }
    // A keepalive probe: SEQ = RCV.NXT - 1 with zero or one byte (RFC 1122 4.2.3.6).
    const bool keepalive_probe = seq == tcb.rcv_nxt - 1 && payload.size() <= 1 && !syn && !fin;
    if (!payload.empty() && !syn && !keepalive_probe) {
      // Data we already have, sent again because our ACK was lost or the peer went back to
      // SND.UNA after a timeout: RFC 9293 3.10.7.4 asks for an ACK, and it must go every time or
      // the peer's recovery waits for its next (backed-off) timeout. The rate limit is for ACKs
      // that could feed an ACK loop (RFC 5961 7); data segments cannot, so Linux exempts them
      // too (tcp_oow_rate_limited).
      SendAck(tcb);
      return;
    }
    SendRateLimitedAck(tcb, keepalive_probe);
    return;
  }
  // Trim what precedes RCV.NXT (a retransmission overlapping what we have).
  if (seq < tcb.rcv_nxt) {
    const std::uint32_t skip = std::min<std::uint32_t>(tcb.rcv_nxt - seq, payload.size());
    payload = payload.subspan(skip);
    seq += skip;
  }

  // Second: RST (RFC 5961 3.2: only the exact next sequence number resets; in-window others get
  // a challenge ACK).
  if (Has(flags, wire::TcpFlags::kRst)) {
    if (Seq(segment.seq()) != tcb.rcv_nxt) {
      counters_.Increment(Counter::kTcpChallengeAcks);
      SendRateLimitedAck(tcb, /*is_keepalive_probe=*/false);
      return;
    }
    counters_.Increment(Counter::kTcpResetsReceived);
    EmitTrace(Trace{.type = TraceType::kResetReceived, .connection = tcb.id});
    switch (tcb.state) {
      case State::kSynReceived:
        // Passive: back to LISTEN, which here means forgetting the half-open connection.
        Terminate(tcb, Errno(ECONNREFUSED), /*send_reset=*/false);
        return;
      case State::kEstablished:
      case State::kFinWait1:
      case State::kFinWait2:
      case State::kCloseWait:
        Terminate(tcb, Errno(ECONNRESET), /*send_reset=*/false);
        return;
      default:
        Terminate(tcb, {}, /*send_reset=*/false);
        return;
    }
  }

  // Fourth: a SYN in a synchronized state (RFC 5961 4.2): challenge ACK, never a reset.
  if (syn) {
    counters_.Increment(Counter::kTcpChallengeAcks);
    SendRateLimitedAck(tcb, /*is_keepalive_probe=*/false);
    return;
  }

  // Fifth: the ACK field.
  if (!Has(flags, wire::TcpFlags::kAck)) {
    counters_.Increment(Counter::kDropTcpNoAck);
    return;
  }
  if (!ProcessAck(tcb, segment, static_cast<std::uint32_t>(segment.payload().size()))) return;

  // Seventh and eighth: the text and the FIN.
  if (ProcessText(tcb, seq, payload, fin)) Output(tcb);
}

void TcpEngine::UpdateSendWindow(Tcb& tcb, const wire::TcpView& segment) {
  // RFC 9293 3.10.7.4: take the window from the newest segment only (SND.WL1/SND.WL2).
  const Seq seq(segment.seq());
  const Seq ack(segment.ack());
  if (tcb.snd_wl1 < seq || (tcb.snd_wl1 == seq && tcb.snd_wl2 <= ack)) {
    tcb.snd_wnd = static_cast<std::uint32_t>(segment.window()) << tcb.snd_wscale;
    tcb.max_snd_wnd = std::max(tcb.max_snd_wnd, tcb.snd_wnd);
    tcb.snd_wl1 = seq;
    tcb.snd_wl2 = ack;
    if (tcb.snd_wnd > 0) timers_.Cancel(tcb.persist_timer);
  }
}

bool TcpEngine::ProcessAck(Tcb& tcb, const wire::TcpView& segment, std::uint32_t payload_len) {
  const Seq ack(segment.ack());
  if (tcb.state == State::kSynReceived) {
    if (!(tcb.snd_una < ack && ack <= tcb.snd_max)) {
      counters_.Increment(Counter::kDropTcpBadAck);
      SendReset(tcb.tuple, ack, std::nullopt);
      return false;
    }
    if (tcb.passive_open && tcb.listener_port != 0) {
      const auto listener = listeners_.find(tcb.listener_port);
      if (listener != listeners_.end() &&
          listener->second.accept_queue.size() >=
              static_cast<std::size_t>(listener->second.backlog)) {
        // Like Linux, ignore the ACK while the accept queue is full; the SYN-ACK retransmits.
        counters_.Increment(Counter::kDropTcpAcceptQueueFull);
        return false;
      }
    }
    tcb.snd_wnd = static_cast<std::uint32_t>(segment.window()) << tcb.snd_wscale;
    tcb.max_snd_wnd = std::max(tcb.max_snd_wnd, tcb.snd_wnd);
    tcb.snd_wl1 = Seq(segment.seq());
    tcb.snd_wl2 = ack;
    timers_.Cancel(tcb.retransmit_timer);
    if (tcb.syn_retransmissions == 0) tcb.rto.OnRttSample(Now() - tcb.rtt_start);
    tcb.rto.ResetBackoff();
    SetState(tcb, tcb.fin_queued ? State::kFinWait1 : State::kEstablished);
    if (tcb.passive_open) {
      if (!OnEstablishedFromListen(tcb)) return false;
    } else {
      Emit(Event{.type = EventType::kConnected, .connection = tcb.id});
    }
  }

  if (tcb.window_probe_outstanding && ack == tcb.snd_max + 1) {
    // The peer's window had opened (its update was lost or crossed our probe) and it kept the
    // byte our zero-window probe carried (RFC 9293 3.8.6.1 probes with new data). That byte was
    // sent, so its ACK is valid: counting it as sent now keeps the ACK from being refused as
    // acknowledging unsent data below, which left both ends waiting for each other forever.
    tcb.window_probe_outstanding = false;
    tcb.snd_max = ack;
    tcb.snd_nxt = ack;
  }
  // RFC 5961 5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT].
  if (ack > tcb.snd_max || ack < tcb.snd_una - tcb.max_snd_wnd) {
    counters_.Increment(Counter::kDropTcpBadAck);
    SendRateLimitedAck(tcb, /*is_keepalive_probe=*/false);
    return false;
  }

  const std::uint32_t window = static_cast<std::uint32_t>(segment.window()) << tcb.snd_wscale;
  if (tcb.snd_una < ack) {
    std::uint32_t acked = ack - tcb.snd_una;
    std::uint32_t data_acked = acked;
    if (tcb.snd_una == tcb.iss) --data_acked;  // our SYN
    const bool fin_acked = tcb.fin_sent && ack == tcb.snd_max;
    if (fin_acked) --data_acked;
    tcb.send_buffer.Acknowledge(std::min<std::size_t>(data_acked, tcb.send_buffer.size()));
    AccountBuffers(tcb);
    tcb.snd_una = ack;
    if (tcb.snd_nxt < tcb.snd_una) tcb.snd_nxt = tcb.snd_una;
    // RFC 6298 (Karn): only segments sent once give RTT samples; rtt_seq is cleared on RTO.
    if (tcb.rtt_seq && *tcb.rtt_seq <= ack) {
      tcb.rto.OnRttSample(Now() - tcb.rtt_start);
      tcb.rtt_seq.reset();
    }
    tcb.rto.ResetBackoff();
    tcb.retransmissions = 0;
    tcb.duplicate_acks = 0;
    if (tcb.congestion.OnNewAck(ack, acked)) {
      counters_.Increment(Counter::kTcpFastRetransmits);
      RetransmitFirstSegment(tcb);  // RFC 6582 partial ACK
    }
    if (tcb.flight_size() == 0) {
      timers_.Cancel(tcb.retransmit_timer);
      timers_.Cancel(tcb.user_timeout_timer);
    } else {
      ArmRetransmitTimer(tcb);  // RFC 6298 5.3: restart on new data acknowledged
      if (tcb.options.user_timeout > Duration::zero()) {
        timers_.ScheduleAfter(tcb.user_timeout_timer, tcb.options.user_timeout);
      }
    }
    if (tcb.want_writable && tcb.send_buffer.free_space() > 0) {
      tcb.want_writable = false;
      if (!tcb.app_closed) Emit(Event{.type = EventType::kWritable, .connection = tcb.id});
    }
  } else if (ack == tcb.snd_una && payload_len == 0 &&
             !(segment.flags() & (wire::TcpFlags::kSyn | wire::TcpFlags::kFin)) &&
             tcb.flight_size() > 0 && window == tcb.snd_wnd) {
    // RFC 5681 2, a duplicate ACK: it may signal a lost segment.
    ++tcb.duplicate_acks;
    if (tcb.congestion.OnDuplicateAck(tcb.snd_una, tcb.snd_max, tcb.flight_size())) {
      counters_.Increment(Counter::kTcpFastRetransmits);
      RetransmitFirstSegment(tcb);
    }
  }
  UpdateSendWindow(tcb, segment);

  const bool our_fin_acked = tcb.fin_sent && tcb.snd_una == tcb.snd_max;
  switch (tcb.state) {
    case State::kFinWait1:
      if (our_fin_acked) SetState(tcb, State::kFinWait2);
      break;
    case State::kClosing:
      if (our_fin_acked) SetState(tcb, State::kTimeWait);
      break;
    case State::kLastAck:
      if (our_fin_acked) {
        Terminate(tcb, {}, /*send_reset=*/false);
        return false;
      }
      break;
    default:
      break;
  }
  return true;
}

bool TcpEngine::ProcessText(Tcb& tcb, Seq seq, std::span<const std::uint8_t> payload, bool fin) {
  const bool accepts_text = tcb.state == State::kEstablished || tcb.state == State::kFinWait1 ||
                            tcb.state == State::kFinWait2;
  std::size_t trimmed = 0;
  if (!payload.empty() && accepts_text) {
    if (tcb.app_closed) {
      // Nobody will ever read this (RFC 2525 2.17): reset, as Linux does for orphaned sockets.
      Terminate(tcb, {}, /*send_reset=*/true);
      return false;
    }
    if (payload.size() > BufferMemoryLeft()) {
      // The stack-wide budget is spent (TcpConfig::max_buffer_memory): drop the data, and say
      // where we are so the peer retransmits once the application has read.
      counters_.Increment(Counter::kDropTcpMemoryLimit);
      ScheduleAck(tcb, /*immediately=*/true);
      return true;
    }
    const std::uint32_t offset = seq - tcb.rcv_nxt;
    const bool gap_before = tcb.receive_buffer.has_out_of_order();
    const InsertResult result = tcb.receive_buffer.Insert(offset, payload);
    AccountBuffers(tcb);
    trimmed = result.trimmed;
    if (trimmed > 0) counters_.Increment(Counter::kTcpBytesBeyondWindow, trimmed);
    if (result.dropped_out_of_order) counters_.Increment(Counter::kDropTcpOutOfOrderFull);
    const bool had_gap = offset > 0 || gap_before;
    tcb.rcv_nxt += static_cast<std::uint32_t>(result.advanced);
    if (result.advanced > 0) Emit(Event{.type = EventType::kReadable, .connection = tcb.id});
    // RFC 5681 4.2 / RFC 1122 4.2.3.2: ACK out-of-order data and gap fills at once, otherwise
    // every second full segment, otherwise within the delayed-ACK timeout.
    if (had_gap || result.advanced == 0) {
      ScheduleAck(tcb, /*immediately=*/true);
    } else {
      tcb.segments_unacked += 1;
      ScheduleAck(tcb, /*immediately=*/tcb.segments_unacked >= 2);
    }
  }
  if (fin && trimmed == 0) {
    const Seq fin_seq = seq + static_cast<std::uint32_t>(payload.size());
    if (fin_seq == tcb.rcv_nxt) {
      ProcessFin(tcb);
    } else if (tcb.rcv_nxt < fin_seq) {
      tcb.peer_fin_seq = fin_seq;  // arrived ahead of missing data
    }
  } else if (tcb.peer_fin_seq && *tcb.peer_fin_seq == tcb.rcv_nxt) {
    ProcessFin(tcb);
  }
  return true;
}

void TcpEngine::ProcessFin(Tcb& tcb) {
  // RFC 9293 3.10.7.4, eighth: the FIN takes one sequence number and is acknowledged at once.
  tcb.peer_fin_seq.reset();
  tcb.rcv_nxt += 1;
  ScheduleAck(tcb, /*immediately=*/true);
  if (!tcb.app_closed && !tcb.peer_closed_signalled) {
    tcb.peer_closed_signalled = true;
    Emit(Event{.type = EventType::kPeerClosed, .connection = tcb.id});
  }
  switch (tcb.state) {
    case State::kSynReceived:
    case State::kEstablished:
      SetState(tcb, State::kCloseWait);
      break;
    case State::kFinWait1:
      SetState(tcb, tcb.fin_sent && tcb.snd_una == tcb.snd_max ? State::kTimeWait
                                                                : State::kClosing);
      break;
    case State::kFinWait2:
      SetState(tcb, State::kTimeWait);
      break;
    case State::kTimeWait:
      timers_.ScheduleAfter(tcb.time_wait_timer, config_.time_wait);
      break;
    default:
      break;
  }
}

}  // namespace tapstack::tcp
