// SEGMENT ARRIVES (RFC 9293 3.10.7), with the RFC 5961 defences against blind injection.
#include <algorithm>
#include <cerrno>

#include "stack/tcp/engine.h"

namespace tapstack::tcp {

namespace {

bool Has(std::uint8_t flags, std::uint8_t flag) { return (flags & flag) != 0; }

}  // namespace

FourTuple TcpEngine::TupleOf(wire::Ipv4Address source, wire::Ipv4Address destination,
                             std::span<const std::uint8_t> segment) {
  return FourTuple{.local_address = destination,
                   .remote_address = source,
                   .local_port = wire::LoadBe16(&segment[2]),
                   .remote_port = wire::LoadBe16(&segment[0])};
}

void TcpEngine::PrefetchDemux(wire::Ipv4Address source, wire::Ipv4Address destination,
                              std::span<const std::uint8_t> segment) const {
  if (segment.size() < 4) return;
  connections_.Prefetch(TupleOf(source, destination, segment));
}

void TcpEngine::PrefetchConnection(wire::Ipv4Address source, wire::Ipv4Address destination,
                                   std::span<const std::uint8_t> segment) const {
  if (segment.size() < 4) return;
  if (const std::uint32_t index = connections_.Find(TupleOf(source, destination, segment));
      index != DemuxTable<FourTuple>::kNotFound) {
    slab_.Prefetch(index);
  }
}

Ipv6FourTuple TcpEngine::TupleOf(const wire::Ipv6Address& source,
                                 const wire::Ipv6Address& destination,
                                 std::span<const std::uint8_t> segment) {
  return Ipv6FourTuple{.local_address = destination,
                       .remote_address = source,
                       .local_port = wire::LoadBe16(&segment[2]),
                       .remote_port = wire::LoadBe16(&segment[0])};
}

void TcpEngine::Ingest(wire::Ipv4Address source, wire::Ipv4Address destination,
                       std::span<const std::uint8_t> bytes, RxChecksum checksum) {
  IngestFrom(source, destination, bytes, checksum);
}

void TcpEngine::Ingest(const wire::Ipv6Address& source, const wire::Ipv6Address& destination,
                       std::span<const std::uint8_t> bytes, RxChecksum checksum) {
  IngestFrom(source, destination, bytes, checksum);
}

template <typename Address>
void TcpEngine::IngestFrom(const Address& source, const Address& destination,
                           std::span<const std::uint8_t> bytes, RxChecksum checksum) {
  const wire::Parsed<wire::TcpView> segment = wire::TcpView::Parse(bytes);
  if (!segment.ok()) {
    counters_.Increment(Counter::kDropTcpMalformed);
    return;
  }
  if (!NeedsSoftwareChecksum(checksum)) {
    // The device verified it, or the sender is on this host and left it partial
    // (stack/rx_checksum.h): checking would cost a pass over the payload, or fail.
    counters_.Increment(Counter::kRxTcpChecksumOffloaded);
  } else if (!segment->checksum_valid(source, destination)) {
    counters_.Increment(Counter::kDropTcpBadChecksum);
    return;
  }
  // Most segments carry no options: skip the parser's work for them.
  const std::span<const std::uint8_t> option_bytes = segment->options_bytes();
  const wire::Parsed<wire::TcpOptions> options =
      option_bytes.empty() ? wire::Parsed<wire::TcpOptions>(wire::TcpOptions{})
                           : wire::ParseTcpOptions(option_bytes);
  if (!options.ok()) {
    counters_.Increment(Counter::kDropTcpMalformed);
    return;
  }
  counters_.Increment(Counter::kRxTcp);
  // The address the segment was sent to is the connection's: with several addresses on the
  // interface, a connection answers from the one the peer chose.
  const auto tuple = TupleOf(source, destination, bytes);
  if (const std::uint32_t index = DemuxFor(tuple).Find(tuple); index != kNotInDemuxTable) {
    Tcb& tcb = slab_.At(index);
    if (tcb.state == State::kSynSent) {
      IngestSynSent(tcb, *segment, *options);
    } else {
      IngestSynchronizing(tcb, *segment, *options);
    }
    return;
  }
  IngestWithoutConnection(tuple, *segment, *options);
}

void TcpEngine::IngestWithoutConnection(const AnyFourTuple& tuple, const wire::TcpView& segment,
                                        const wire::TcpOptions& options) {
  const std::uint8_t flags = segment.flags();
  if (const auto it = listeners_.find(segment.dst_port()); it != listeners_.end()) {
    // RFC 9293 3.10.7.2 (LISTEN): RST is ignored, an ACK gets a RST, a SYN opens.
    if (Has(flags, wire::TcpFlags::kRst)) {
      counters_.Increment(Counter::kDropTcpNoConnection);
    } else if (Has(flags, wire::TcpFlags::kAck)) {
      if (!Has(flags, wire::TcpFlags::kSyn) && AcceptSynCookie(it->second, tuple, segment)) {
        return;
      }
      counters_.Increment(Counter::kDropTcpNoConnection);
      SendReset(tuple, Seq(segment.ack()), std::nullopt);
    } else if (Has(flags, wire::TcpFlags::kSyn)) {
      IngestListen(it->second, tuple, segment, options);
    } else {
      counters_.Increment(Counter::kDropTcpNoConnection);
    }
    return;
  }
  IngestNoConnection(tuple, segment, static_cast<std::uint32_t>(segment.payload().size()));
}

void TcpEngine::IngestNoConnection(const AnyFourTuple& tuple, const wire::TcpView& segment,
                                   std::uint32_t payload_len) {
  // RFC 9293 3.10.7.1 (CLOSED): anything but a RST is answered with a RST.
  counters_.Increment(Counter::kDropTcpNoConnection);
  const std::uint8_t flags = segment.flags();
  if (Has(flags, wire::TcpFlags::kRst)) return;
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
  const std::uint32_t peer_mss =
      std::clamp<std::uint32_t>(options.mss.value_or(536), 64, InitialMss(tcb.ipv6));
  // With timestamps every segment carries 12 bytes of options, which the peer's MSS counts
  // against the payload (RFC 9293 3.7.1, RFC 6691): a full segment carries that much less data.
  const std::uint32_t option_space =
      config_.timestamps && options.timestamps ? kTimestampsOptionSpace : 0;
  const std::uint32_t send_mss = peer_mss - option_space;
  // RFC 7323 2.2: scaling is on only when both sides offered it.
  if (options.window_scale && (tcb.passive_open || tcb.state == State::kSynSent)) {
    tcb.sender.ApplyPeerSyn(send_mss, std::min<std::uint8_t>(*options.window_scale, 14));
    if (tcb.passive_open) {
      tcb.receiver.set_window_shift(ReceiveWindowScale(tcb.options->largest_receive_buffer()));
    }
  } else {
    tcb.sender.ApplyPeerSyn(send_mss, 0);
    tcb.receiver.set_window_shift(0);
  }
  // RFC 2018 2: SACK only when both SYNs offer it. An active open offered it when the stack's
  // switch is on (output.cc); a passive one answers in kind.
  tcb.receiver.set_sack_permitted(config_.sack && options.sack_permitted);
  tcb.sender.set_sack_permitted(tcb.receiver.sack_permitted());
  // RFC 7323 3.2: timestamps likewise. The peer's SYN (or SYN-ACK) gives the first TS.Recent.
  tcb.timestamps_ok = config_.timestamps && options.timestamps.has_value();
  tcb.sender.set_timestamps(tcb.timestamps_ok);
  if (tcb.timestamps_ok) {
    tcb.timestamps.Start(TimestampOffsetOf(tcb), options.timestamps->value, Now());
  }
}

void TcpEngine::IngestSynSent(Tcb& tcb, const wire::TcpView& segment,
                              const wire::TcpOptions& options) {
  // RFC 9293 3.10.7.3.
  const std::uint8_t flags = segment.flags();
  const Seq ack(segment.ack());
  if (Has(flags, wire::TcpFlags::kAck) && (ack <= tcb.sender.iss() || ack > tcb.sender.snd_max())) {
    counters_.Increment(Counter::kDropTcpBadAck);
    if (!Has(flags, wire::TcpFlags::kRst)) SendReset(TupleOf(tcb), ack, std::nullopt);
    return;
  }
  if (Has(flags, wire::TcpFlags::kRst)) {
    if (!Has(flags, wire::TcpFlags::kAck)) {
      counters_.Increment(Counter::kDropTcpUnacceptable);
      return;
    }
    counters_.Increment(Counter::kTcpResetsReceived);
    EmitTrace(Trace{.type = TraceType::kResetReceived, .connection = IdOf(tcb)});
    Terminate(tcb, Errno(ECONNREFUSED), /*send_reset=*/false);
    return;
  }
  if (!Has(flags, wire::TcpFlags::kSyn)) {
    counters_.Increment(Counter::kDropTcpUnacceptable);
    return;
  }
  tcb.receiver.Start(Seq(segment.seq()));
  ApplySynOptions(tcb, options);
  tcb.last_received = Now();
  if (!Has(flags, wire::TcpFlags::kAck)) {
    // Simultaneous open: answer with our SYN again, now acknowledging theirs.
    tcb.sender.SetInitialWindow(segment.window(), tcb.receiver.irs(), tcb.sender.iss());
    SetState(tcb, State::kSynReceived);
    SendSegment(tcb, tcb.sender.iss(), wire::TcpFlags::kSyn | wire::TcpFlags::kAck, {},
                /*with_syn_options=*/true);
    return;
  }
  tcb.sender.AcknowledgeSyn(ack);
  tcb.sender.OnHandshakeComplete(Now());
  CancelRetransmitTimer(tcb);
  tcb.sender.SetInitialWindow(segment.window(), tcb.receiver.irs(), ack);  // unscaled in a SYN
  // A FIN queued in SYN-SENT behind queued data (Shutdown) goes out after that data now.
  SetState(tcb, tcb.sender.fin_queued() ? State::kFinWait1 : State::kEstablished);
  if (!tcb.app_closed) Emit(Event{.type = EventType::kConnected, .connection = IdOf(tcb)});
  SendAck(tcb);
  Output(tcb);
}

void TcpEngine::IngestSynchronizing(Tcb& tcb, const wire::TcpView& segment,
                                    const wire::TcpOptions& options) {
  const std::uint8_t flags = segment.flags();
  Seq seq(segment.seq());
  std::span<const std::uint8_t> payload = segment.payload();
  bool syn = Has(flags, wire::TcpFlags::kSyn);
  const bool fin = Has(flags, wire::TcpFlags::kFin);
  const Seq irs = tcb.receiver.irs();

  if (tcb.state == State::kSynReceived && syn && !Has(flags, wire::TcpFlags::kAck) && seq == irs) {
    // The peer retransmitted its SYN: our SYN-ACK was lost.
    SendSegment(tcb, tcb.sender.iss(), wire::TcpFlags::kSyn | wire::TcpFlags::kAck, {},
                /*with_syn_options=*/true);
    return;
  }

  if (tcb.state == State::kSynReceived && !tcb.passive_open && syn &&
      Has(flags, wire::TcpFlags::kAck) && seq == irs) {
    // Simultaneous open: the peer's SYN-ACK repeats a SYN we already acknowledged. Its ACK still
    // completes the handshake (the RFC 9293 acceptability test alone would drop it).
    seq += 1;
    syn = false;
  }
  const auto length = static_cast<std::uint32_t>(payload.size()) + (syn ? 1 : 0) + (fin ? 1 : 0);

  if (tcb.timestamps_ok && !CheckTimestamps(tcb, segment, options)) return;

  // First: is the segment in the window?
  if (!tcb.receiver.Acceptable(seq, length)) {
    counters_.Increment(Counter::kDropTcpUnacceptable);
    if (Has(flags, wire::TcpFlags::kRst)) return;
    if (tcb.state == State::kTimeWait && fin) {
      // A retransmitted FIN: our last ACK was lost. Acknowledge again and restart 2MSL.
      SendAck(tcb);
      timers_.ScheduleAfter(tcb.keepalive_timer, config_.time_wait);
      return;
    }
    // A keepalive probe (RFC 1122 4.2.3.6). It proves nothing about the peer here: anyone on the
    // path can forge an off-window segment with the right 4-tuple. Only the probe's answer, an
    // acceptable ACK, would (see OnPeerActivity below).
    const bool keepalive_probe = tcb.receiver.IsKeepaliveProbe(seq, payload.size()) && !syn && !fin;
    if (!payload.empty() && !syn && !keepalive_probe) {
      // Data we already have, sent again because our ACK was lost or the peer went back to
      // SND.UNA after a timeout: RFC 9293 3.10.7.4 asks for an ACK, and it must go every time or
      // the peer's recovery waits for its next (backed-off) timeout. The rate limit is for ACKs
      // that could feed an ACK loop (RFC 5961 7); data segments cannot, so Linux exempts them
      // too (tcp_oow_rate_limited). With SACK the ACK reports the duplicate (RFC 2883 4).
      tcb.receiver.NoteRepeatedData(seq, static_cast<std::uint32_t>(payload.size()));
      SendAck(tcb);
      return;
    }
    SendRateLimitedAck(tcb, keepalive_probe);
    return;
  }
  // RFC 7323 5.3 R3: an acceptable segment may become the one whose timestamp we echo.
  if (tcb.timestamps_ok && options.timestamps) {
    tcb.timestamps.OnAcceptableSegment(Seq(segment.seq()), options.timestamps->value, Now());
  }
  // Trim what precedes RCV.NXT (a retransmission overlapping what we have).
  const Seq rcv_nxt = tcb.receiver.rcv_nxt();
  std::uint32_t repeated = 0;  // payload bytes trimmed: data received before
  if (seq < rcv_nxt) {
    repeated = std::min<std::uint32_t>(rcv_nxt - seq, payload.size());
    payload = payload.subspan(repeated);
    seq += repeated;
  }

  // Second: RST (RFC 5961 3.2: only the exact next sequence number resets; in-window others get
  // a challenge ACK).
  if (Has(flags, wire::TcpFlags::kRst)) {
    if (Seq(segment.seq()) != rcv_nxt) {
      counters_.Increment(Counter::kTcpChallengeAcks);
      SendRateLimitedAck(tcb, /*is_keepalive_probe=*/false);
      return;
    }
    counters_.Increment(Counter::kTcpResetsReceived);
    EmitTrace(Trace{.type = TraceType::kResetReceived, .connection = IdOf(tcb)});
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

  // An acceptable segment that is not a reset: the peer is alive. Keepalive costs one store per
  // segment here, and the keepalive timer notices the new stamp when it fires (keepalive.cc). It
  // also answers our window probes (RFC 6429: the peer is alive, however long its window stays
  // closed). Like Linux, only an acceptable segment counts: an off-window one, which a blind
  // attacker can forge, must not keep a dead connection alive.
  OnPeerActivity(tcb);
  tcb.sender.OnPeerAnsweredProbes();

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
  if (!ProcessAck(tcb, segment, options)) return;

  // Seventh and eighth: the text and the FIN. Data that partly repeats what we have is reported
  // with a D-SACK block for the repeated part (RFC 2883 4), as when all of it does.
  tcb.receiver.NoteRepeatedData(seq - repeated, repeated);
  if (ProcessText(tcb, seq, payload, fin)) Output(tcb);
}

bool TcpEngine::CheckTimestamps(Tcb& tcb, const wire::TcpView& segment,
                                const wire::TcpOptions& options) {
  // A RST needs no timestamp and PAWS does not apply to it (RFC 7323 3.2, 5.3 R1): an old RST
  // cannot pass RFC 5961's exact-sequence test anyway.
  if (Has(segment.flags(), wire::TcpFlags::kRst)) return true;
  if (!options.timestamps) {
    // RFC 7323 3.2: a non-RST segment without the option, once agreed, SHOULD be dropped
    // silently (and never aborts the connection).
    counters_.Increment(Counter::kDropTcpNoTimestamp);
    return false;
  }
  if (!tcb.timestamps.IsOldDuplicate(options.timestamps->value, Now())) return true;
  // RFC 7323 5.3 R1: an old duplicate is unacceptable, answered with an ACK as RFC 9293 3.10.7.4
  // answers any unacceptable segment (rate-limited unless it carries data, as there).
  counters_.Increment(Counter::kDropTcpPaws);
  if (segment.payload().empty()) {
    SendRateLimitedAck(tcb, /*is_keepalive_probe=*/false);
  } else {
    SendAck(tcb);
  }
  return false;
}

bool TcpEngine::ProcessAck(Tcb& tcb, const wire::TcpView& segment,
                           const wire::TcpOptions& options) {
  const Seq ack(segment.ack());
  Sender& sender = tcb.sender;
  if (tcb.state == State::kSynReceived) {
    if (!(sender.snd_una() < ack && ack <= sender.snd_max())) {
      counters_.Increment(Counter::kDropTcpBadAck);
      SendReset(TupleOf(tcb), ack, std::nullopt);
      return false;
    }
    if (tcb.passive_open && tcb.listener_port != 0) {
      const auto listener = listeners_.find(tcb.listener_port);
      if (listener != listeners_.end() && listener->second.full()) {
        // Like Linux, ignore the ACK while the accept queue is full; the SYN-ACK retransmits.
        counters_.Increment(Counter::kDropTcpAcceptQueueFull);
        return false;
      }
    }
    sender.SetInitialWindow(std::uint32_t{segment.window()} << sender.window_shift(),
                            Seq(segment.seq()), ack);
    CancelRetransmitTimer(tcb);
    sender.OnHandshakeComplete(Now());
    SetState(tcb, sender.fin_queued() ? State::kFinWait1 : State::kEstablished);
    if (tcb.passive_open) {
      if (!OnEstablishedFromListen(tcb)) return false;
    } else {
      Emit(Event{.type = EventType::kConnected, .connection = IdOf(tcb)});
    }
  }

  const std::uint8_t flags = segment.flags();
  // The segment's SACK blocks (RFC 2018 3), for the sender's scoreboard.
  std::array<SeqRange, wire::TcpOptions::kMaxSackBlocks> sack_blocks;
  std::size_t sack_block_count = 0;
  if (tcb.receiver.sack_permitted()) {
    for (const wire::TcpOptions::SackBlock& block : options.sacks()) {
      sack_blocks[sack_block_count++] = SeqRange{Seq(block.left), Seq(block.right)};
    }
  }
  const AckResult result = sender.OnAck(
      Seq(segment.seq()), ack, segment.window(),
      static_cast<std::uint32_t>(segment.payload().size()),
      /*duplicate_candidate=*/!(flags & (wire::TcpFlags::kSyn | wire::TcpFlags::kFin)), Now(),
      &ring_pool_, std::span<const SeqRange>(sack_blocks.data(), sack_block_count),
      tcb.timestamps_ok && options.timestamps
          ? tcb.timestamps.RoundTrip(options.timestamps->echo_reply, Now(), config_.rto.max)
          : std::nullopt);
  if (!result.acceptable) {
    counters_.Increment(Counter::kDropTcpBadAck);
    SendRateLimitedAck(tcb, /*is_keepalive_probe=*/false);
    return false;
  }
  if (result.bytes_acked > 0) {
    AccountBuffers(tcb);
    if (sender.flight_size() == 0) {
      CancelRetransmitTimer(tcb);
    } else {
      // RFC 6298 5.3: restart on new data acknowledged; the user timeout starts over too.
      tcb.unacknowledged_since = Now();
      ArmRetransmitTimer(tcb);
    }
    if (result.writable && !tcb.app_closed) {
      Emit(Event{.type = EventType::kWritable, .connection = IdOf(tcb)});
    }
  }
  if (result.recovery_ended) {
    EmitTrace(Trace{.type = TraceType::kRecoveryEnded,
                    .connection = IdOf(tcb),
                    .seq = sender.snd_una().value(),
                    .length = sender.cwnd()});
  }
  if (result.probe_repaired_loss) {
    counters_.Increment(Counter::kTcpLossProbeRepairs);
    EmitTrace(Trace{.type = TraceType::kLossProbeRepaired,
                    .connection = IdOf(tcb),
                    .seq = sender.snd_una().value(),
                    .length = sender.cwnd()});
  }
  if (result.spurious_timeout) {
    counters_.Increment(Counter::kTcpSpuriousTimeouts);
    EmitTrace(Trace{.type = TraceType::kSpuriousTimeout,
                    .connection = IdOf(tcb),
                    .seq = sender.snd_una().value(),
                    .length = sender.cwnd(),
                    .number = static_cast<int>(sender.ssthresh())});
  }
  if (result.recovery_started) {
    // A probe timer armed before recovery began gives way to the retransmission timer.
    if (tcb.send_timer_mode == SendTimerMode::kLossProbe) ArmRetransmitTimer(tcb);
    counters_.Increment(Counter::kTcpRecoveries);
    EmitTrace(Trace{.type = TraceType::kRecoveryStarted,
                    .connection = IdOf(tcb),
                    .seq = sender.snd_una().value(),
                    .length = sender.cwnd(),
                    .number = static_cast<int>(sender.ssthresh()),
                    .count = sender.in_sack_recovery() ? 1 : 0});
  }
  if (result.retransmission_lost) {
    counters_.Increment(Counter::kTcpLostRetransmits);
    RetransmitFirstSegment(tcb, RetransmitCause::kSack);
  } else if (result.retransmit_first) {
    counters_.Increment(Counter::kTcpFastRetransmits);
    RetransmitFirstSegment(tcb);
  }
  if (result.window_opened) CancelPersistTimer(tcb);

  switch (tcb.state) {
    case State::kFinWait1:
      if (sender.fin_acknowledged()) SetState(tcb, State::kFinWait2);
      break;
    case State::kClosing:
      if (sender.fin_acknowledged()) SetState(tcb, State::kTimeWait);
      break;
    case State::kLastAck:
      if (sender.fin_acknowledged()) {
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
      SendAck(tcb);
      return true;
    }
    const TextResult result = tcb.receiver.Insert(seq, payload, &ring_pool_, InitialMss(tcb.ipv6));
    AccountBuffers(tcb);
    trimmed = result.trimmed;
    if (trimmed > 0) counters_.Increment(Counter::kTcpBytesBeyondWindow, trimmed);
    if (result.dropped_out_of_order) counters_.Increment(Counter::kDropTcpOutOfOrderFull);
    // Out-of-order bytes given up to make room for this segment (receive_buffer.h).
    if (result.evicted > 0) counters_.Increment(Counter::kTcpOutOfOrderEvicted, result.evicted);
    if (result.advanced > 0) Emit(Event{.type = EventType::kReadable, .connection = IdOf(tcb)});
    if (result.ack == AckTiming::kNow) {
      SendAck(tcb);
    } else if (result.ack == AckTiming::kDelayed && !tcb.delayed_ack_timer.is_scheduled()) {
      timers_.ScheduleAfter(tcb.delayed_ack_timer, config_.delayed_ack);
    }
  }
  if (fin && trimmed == 0) {
    if (tcb.receiver.OnFin(seq + static_cast<std::uint32_t>(payload.size()))) ProcessFin(tcb);
  } else if (tcb.receiver.TakeQueuedFin()) {
    ProcessFin(tcb);
  }
  // A duplicate noted for a D-SACK block (RFC 2883) that no ACK has carried yet, because nothing
  // new was left to store: acknowledge now, as for any duplicate.
  if (tcb.receiver.dsack_pending()) SendAck(tcb);
  return true;
}

void TcpEngine::ProcessFin(Tcb& tcb) {
  // RFC 9293 3.10.7.4, eighth: the FIN took one sequence number (Receiver::OnFin) and is
  // acknowledged at once.
  SendAck(tcb);
  if (!tcb.app_closed && !tcb.peer_closed_signalled) {
    tcb.peer_closed_signalled = true;
    Emit(Event{.type = EventType::kPeerClosed, .connection = IdOf(tcb)});
  }
  switch (tcb.state) {
    case State::kSynReceived:
    case State::kEstablished:
      SetState(tcb, State::kCloseWait);
      break;
    case State::kFinWait1:
      SetState(tcb, tcb.sender.fin_acknowledged() ? State::kTimeWait : State::kClosing);
      break;
    case State::kFinWait2:
      SetState(tcb, State::kTimeWait);
      break;
    case State::kTimeWait:
      timers_.ScheduleAfter(tcb.keepalive_timer, config_.time_wait);
      break;
    default:
      break;
  }
}

}  // namespace tapstack::tcp
