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

void TcpEngine::SendSegment(Tcb& tcb, Seq seq, std::uint8_t flags,
                            std::span<const std::uint8_t> payload, bool with_syn_options,
                            std::span<const std::uint8_t> payload_continued) {
  wire::TcpRepr segment{.src_port = tcb.tuple.local_port,
                        .dst_port = tcb.tuple.remote_port,
                        .seq = seq.value(),
                        .flags = flags,
                        .payload = payload,
                        .payload_continued = payload_continued};
  Receiver& receiver = tcb.receiver;
  if (flags & wire::TcpFlags::kAck) segment.ack = receiver.rcv_nxt().value();
  // RFC 7323 2.2: the window of a SYN is never scaled.
  const bool syn = (flags & wire::TcpFlags::kSyn) != 0;
  segment.window = syn ? receiver.SynWindowField() : receiver.WindowField();
  if (with_syn_options) {
    segment.options.mss = static_cast<std::uint16_t>(InitialMss(tcb.ipv6));
    // Offer scaling on an active open; on a passive one only echo the peer's offer.
    if (!tcb.passive_open || tcb.sender.window_shift() != 0 || receiver.window_shift() != 0) {
      segment.options.window_scale = receiver.window_shift();
    }
    // RFC 2018 2: SACK-permitted goes in a SYN, and in a SYN-ACK only when the peer's SYN offered
    // it (ApplySynOptions decided that already).
    segment.options.sack_permitted = tcb.passive_open ? receiver.sack_permitted() : config_.sack;
  }
  // RFC 7323 3.2: once agreed, timestamps go in every segment; a SYN offers them when the stack's
  // switch is on, a SYN-ACK only when the peer's SYN did (ApplySynOptions decided that already).
  // TSecr is TS.Recent in a segment with ACK and 0 in a SYN without.
  if (tcb.timestamps_ok) {
    segment.options.timestamps = wire::TcpOptions::Timestamps{
        .value = tcb.timestamps.TsVal(Now()),
        .echo_reply = (flags & wire::TcpFlags::kAck) ? tcb.timestamps.ts_recent() : 0};
  } else if (with_syn_options && !tcb.passive_open && config_.timestamps) {
    segment.options.timestamps = wire::TcpOptions::Timestamps{
        .value = TimestampValue(Now(), TimestampOffsetOf(tcb)), .echo_reply = 0};
  }
  if (!with_syn_options && (flags & wire::TcpFlags::kAck) && receiver.sack_permitted()) {
    AddSackBlocks(tcb, segment);
  }
  Transmit(tcb, segment);
  if (flags & wire::TcpFlags::kAck) {
    if (tcb.timestamps_ok) tcb.timestamps.OnAckSent(receiver.rcv_nxt());
    // Every ACK we send carries RCV.NXT and our window: a pending delayed ACK is now redundant,
    // and the right edge the peer knows has moved.
    receiver.OnAckSent(syn ? std::uint32_t{segment.window}
                           : std::uint32_t{segment.window} << receiver.window_shift());
    timers_.Cancel(tcb.delayed_ack_timer);
  }
}

void TcpEngine::AddSackBlocks(Tcb& tcb, wire::TcpRepr& segment) {
  // RFC 2018 3 and 4: every ACK sent while out-of-order data is held carries SACK blocks, and
  // the ACK after a duplicate a D-SACK block (RFC 2883 4). They take what room the other options
  // leave in the 40 bytes, and on a data segment no more than the payload leaves under the
  // peer's MSS, which bounds data and options together (RFC 9293 3.7.1): a full-sized segment
  // carries none, and its data is never cut to make room. The pure ACK that every out-of-order
  // segment and every duplicate gets at once (RFC 5681 4.2) always has room for four (three
  // beside timestamps).
  // The sender's MSS is the peer's less what timestamps take (ApplySynOptions): the budget for
  // payload and options together is the peer's.
  const std::size_t payload = segment.payload_size();
  const std::uint32_t budget =
      tcb.sender.mss() + (tcb.timestamps_ok ? kTimestampsOptionSpace : std::uint32_t{0});
  const std::size_t room =
      payload == 0 ? wire::kTcpMaxOptionsLen : (payload < budget ? budget - payload : 0);
  const std::size_t fit = wire::SackBlocksThatFit(segment.options, room);
  if (fit == 0) return;
  const bool dsack = tcb.receiver.dsack_pending();
  const std::size_t count = tcb.receiver.SackBlocks(
      std::span<wire::TcpOptions::SackBlock>(segment.options.sack_blocks).first(fit));
  if (count == 0) return;
  segment.options.sack_block_count = count;
  counters_.Increment(Counter::kTcpSackBlocksSent, dsack ? count - 1 : count);
  if (dsack) counters_.Increment(Counter::kTcpDsacksSent);
  if (trace_handler_) {
    const wire::TcpOptions::SackBlock& first = segment.options.sack_blocks[0];
    EmitTrace(Trace{.type = dsack ? TraceType::kDsackSent : TraceType::kSackSent,
                    .connection = IdOf(tcb),
                    .seq = first.left,
                    .length = first.right - first.left,
                    .number = static_cast<int>(count)});
  }
}

void TcpEngine::SendAck(Tcb& tcb) {
  // SND.NXT of RFC 9293 is the highest sequence number sent: after a timeout rewound snd_nxt for
  // go-back-N, an ACK carrying the rewound value would fall below the peer's RCV.NXT and be
  // dropped as unacceptable, ACK field and all.
  SendSegment(tcb, tcb.sender.snd_max(), wire::TcpFlags::kAck, {});
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
    EmitTrace(Trace{.type = TraceType::kProbeAnswered,
                    .connection = IdOf(tcb),
                    .seq = tcb.sender.snd_max().value()});
  }
}

void TcpEngine::SendReset(const AnyFourTuple& tuple, Seq seq, std::optional<Seq> ack) {
  wire::TcpRepr segment;
  std::visit(
      [&](const auto& t) {
        segment.src_port = t.local_port;
        segment.dst_port = t.remote_port;
      },
      tuple);
  segment.seq = seq.value();
  segment.flags = wire::TcpFlags::kRst;
  if (ack) {
    segment.flags |= wire::TcpFlags::kAck;
    segment.ack = ack->value();
  }
  Transmit(tuple, segment);
  counters_.Increment(Counter::kTcpResetsSent);
}

void TcpEngine::Transmit(const Tcb& tcb, const wire::TcpRepr& segment) {
  if (!tcb.ipv6) [[likely]] {
    // A super-segment (NextTransmission under a TSO limit) is cut by the device at our MSS.
    const std::uint32_t mss = tcb.sender.mss();
    TransmitOver(tcb.tuple, segment,
                 segment.payload_size() > mss ? static_cast<std::uint16_t>(mss) : std::uint16_t{0});
  } else {
    TransmitOver(ipv6_tuples_.at(ConnectionSlab::IndexOf(tcb)), segment);
  }
}

void TcpEngine::Transmit(const AnyFourTuple& tuple, const wire::TcpRepr& segment) {
  std::visit([&](const auto& t) { TransmitOver(t, segment); }, tuple);
}

void TcpEngine::TransmitOver(const FourTuple& tuple, const wire::TcpRepr& segment,
                             std::uint16_t tso_segment_size) {
  // Written in place into the outgoing frame: the payload is copied once, by WriteTcp, from
  // wherever it lies (for data, the send buffer itself). A device with checksum offload sums it;
  // one that cuts super-segments must, since every segment it makes has its own checksum.
  const std::size_t length = wire::TcpHeaderLen(segment.options) + segment.payload_size();
  const TxOffload offload{.tcp_segment_size = tso_segment_size,
                          .tcp_checksum_partial = tx_checksum_partial_ || tso_segment_size != 0};
  const wire::TcpChecksum checksum =
      offload.tcp_checksum_partial ? wire::TcpChecksum::kPartial : wire::TcpChecksum::kComplete;
  ip_.Send(
      tuple.local_address, tuple.remote_address, wire::IpProtocol::kTcp, length,
      [&](std::span<std::uint8_t> out) {
        return wire::WriteTcp(segment, tuple.local_address, tuple.remote_address, out, checksum);
      },
      offload);
  counters_.Increment(Counter::kTxTcpSegments);
  if (offload.tcp_checksum_partial) {
    counters_.Increment(Counter::kTxTcpChecksumOffloaded);
    if (tso_segment_size != 0) counters_.Increment(Counter::kTxTcpSuperSegments);
  }
}

void TcpEngine::TransmitOver(const Ipv6FourTuple& tuple, const wire::TcpRepr& segment) {
  // Only a connection, or an answer to a segment that came over IPv6, gets here: either needs the
  // IPv6 layer, which set_ipv6_output gave.
  const std::size_t length = wire::TcpHeaderLen(segment.options) + segment.payload_size();
  ipv6_output_->Send(tuple.local_address, tuple.remote_address, wire::IpProtocol::kTcp, length,
                     [&](std::span<std::uint8_t> out) {
                       return wire::WriteTcp(segment, tuple.local_address, tuple.remote_address,
                                             out);
                     });
  counters_.Increment(Counter::kTxTcpSegments);
}

void TcpEngine::ArmRetransmitTimer(Tcb& tcb) {
  tcb.send_timer_mode = SendTimerMode::kRetransmit;
  Duration delay = tcb.sender.rto();
  if (tcb.synchronized()) {
    if (const std::optional<Duration> probe = tcb.sender.ProbeTimeout()) {
      tcb.send_timer_mode = SendTimerMode::kLossProbe;
      delay = *probe;
    }
  }
  const Duration user_timeout = tcb.options->user_timeout;
  if (user_timeout > Duration::zero() && tcb.synchronized()) {
    // Never sleep past the user timeout, so that the connection is aborted when it is reached
    // and not at the next backed-off retransmission (Linux: tcp_clamp_rto_to_user_timeout).
    const Duration left = tcb.unacknowledged_since + user_timeout - Now();
    delay = std::clamp(left, Duration::zero(), delay);
  }
  timers_.ScheduleAfter(tcb.send_timer, delay);
}

bool TcpEngine::UserTimeoutExpired(const Tcb& tcb) const {
  const Duration user_timeout = tcb.options->user_timeout;
  return user_timeout > Duration::zero() && tcb.synchronized() &&
         Now() - tcb.unacknowledged_since >= user_timeout;
}

void TcpEngine::ArmPersistTimer(Tcb& tcb) {
  tcb.send_timer_mode = SendTimerMode::kPersist;
  timers_.ScheduleAfter(tcb.send_timer, tcb.sender.rto());
}

void TcpEngine::CancelRetransmitTimer(Tcb& tcb) {
  if (tcb.send_timer_mode != SendTimerMode::kPersist) timers_.Cancel(tcb.send_timer);
}

void TcpEngine::CancelPersistTimer(Tcb& tcb) {
  if (tcb.send_timer_mode == SendTimerMode::kPersist) timers_.Cancel(tcb.send_timer);
}

void TcpEngine::OnSendTimer(Tcb& tcb) {
  switch (tcb.send_timer_mode) {
    case SendTimerMode::kRetransmit:
      OnRetransmitTimer(tcb);
      return;
    case SendTimerMode::kLossProbe:
      OnLossProbeTimer(tcb);
      return;
    case SendTimerMode::kPersist:
      OnPersistTimer(tcb);
      return;
  }
}

void TcpEngine::SendTransmission(Tcb& tcb, const Transmission& transmission) {
  if (transmission.fin) {
    SendSegment(tcb, transmission.seq, wire::TcpFlags::kFin | wire::TcpFlags::kAck, {});
    return;
  }
  std::uint8_t flags = wire::TcpFlags::kAck;
  if (transmission.push) flags |= wire::TcpFlags::kPsh;
  const auto [payload, payload_continued] = tcb.sender.PayloadOf(transmission);
  SendSegment(tcb, transmission.seq, flags, payload, /*with_syn_options=*/false, payload_continued);
  if (transmission.retransmit != RetransmitCause::kNone) {
    counters_.Increment(Counter::kTcpRetransmits);
    if (transmission.retransmit == RetransmitCause::kSack) {
      counters_.Increment(Counter::kTcpSackRetransmits);
    }
    if (transmission.lost_again) counters_.Increment(Counter::kTcpLostRetransmits);
    EmitTrace(Trace{.type = TraceType::kRetransmit,
                    .connection = IdOf(tcb),
                    .seq = transmission.seq.value(),
                    .length = transmission.length,
                    .cause = transmission.retransmit});
  }
}

void TcpEngine::Output(Tcb& tcb, bool override_sws) {
  if (!SendsData(tcb.state)) return;
  Sender& sender = tcb.sender;
  bool sent_new_data = false;
  bool sent_fin = false;
  while (const std::optional<Transmission> next = sender.NextTransmission(
             tcb.options->no_delay, override_sws, tcb.ipv6 ? 0 : tso_limit_)) {
    override_sws = false;  // one short segment only
    // The user timeout counts from the first byte sent with nothing in flight.
    if (sender.flight_size() == 0) tcb.unacknowledged_since = Now();
    SendTransmission(tcb, *next);
    sender.OnTransmitted(*next, Now());
    sent_new_data |= next->retransmit == RetransmitCause::kNone;
    // Arming the retransmission timer also ends any persist period: data is in flight now.
    if (!tcb.retransmit_timer_armed()) ArmRetransmitTimer(tcb);
    if (next->fin) {
      sent_fin = true;
      break;
    }
  }
  // RFC 8985 7.2: the probe timer restarts after new data goes out, so that its timeout follows
  // the flight. Armed when one segment was in flight, it includes the peer's worst-case delayed
  // ACK (200 ms); left so while more segments followed, each burst after an ACK that emptied the
  // flight waited that long whenever its last segments were lost, or the peer held its ACK.
  if (sent_new_data && tcb.send_timer_mode == SendTimerMode::kLossProbe) ArmRetransmitTimer(tcb);
  if (sent_fin) return;
  // Data held back with nothing in flight has no retransmission timer to wake it: the window
  // (zero, or too small for SWS avoidance to send into) only reopens by an ACK from the peer,
  // and a lost window update would deadlock both ends. The persist timer probes then (RFC 9293
  // 3.8.6.1), as Linux arms its probe timer whenever data waits and nothing is in flight. With
  // data in flight (after a timeout rewound SND.NXT) the retransmission timer keeps the timer.
  if (sender.Stalled() && sender.flight_size() == 0 && !tcb.persist_timer_armed()) {
    ArmPersistTimer(tcb);
  }
}

void TcpEngine::RetransmitFirstSegment(Tcb& tcb, RetransmitCause cause) {
  // Fast retransmit (RFC 5681 3.2) and RFC 6582 partial ACKs: resend the segment at SND.UNA
  // without moving SND.NXT. Also a copy of it that the scoreboard shows lost (cause kSack).
  std::optional<Transmission> first = tcb.sender.FirstSegment();
  if (!first) return;
  first->retransmit = cause;
  if (first->fin) {
    SendSegment(tcb, first->seq, wire::TcpFlags::kFin | wire::TcpFlags::kAck, {});
    return;
  }
  SendTransmission(tcb, *first);
  tcb.sender.OnFirstSegmentRetransmitted(*first);
}

}  // namespace tapstack::tcp
