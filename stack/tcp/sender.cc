#include "stack/tcp/sender.h"

#include <algorithm>

#include "stack/tcp/timestamps.h"

namespace tapstack::tcp {

Sender::Sender(std::size_t buffer_capacity, const RtoConfig& rto_config, std::uint32_t mss,
               CongestionAlgorithm congestion_algorithm)
    : mss_(mss),
      buffer_(buffer_capacity),
      congestion_(mss, congestion_algorithm),
      rto_(rto_config) {}

void Sender::Start(Seq iss, Duration now) {
  iss_ = iss;
  snd_una_ = high_rxt_ = iss;
  snd_nxt_ = snd_max_ = iss + 1;
  rtt_start_ = now;  // times the SYN (RFC 6298 2.2 takes the first sample from it)
}

void Sender::StartAcknowledged(Seq iss) {
  iss_ = iss;
  snd_una_ = snd_nxt_ = snd_max_ = high_rxt_ = iss + 1;
}

void Sender::ApplyPeerSyn(std::uint32_t mss, std::uint8_t window_shift) {
  mss_ = mss;
  congestion_.set_mss(mss);
  snd_wscale_ = window_shift;
}

void Sender::SetInitialWindow(std::uint32_t window, Seq wl1, Seq wl2) {
  snd_wnd_ = window;
  max_snd_wnd_ = std::max(max_snd_wnd_, window);
  snd_wl1_ = wl1;
  snd_wl2_ = wl2;
}

void Sender::OnHandshakeComplete(Duration now) {
  if (syn_retransmissions_ == 0) {
    rto_.OnRttSample(now - rtt_start_);
    rto_.ResetBackoff();
  } else {
    // RFC 6298 5.7: the SYN was retransmitted, so its round trip is ambiguous (Karn) and the
    // backed-off timeout says nothing about the path: start data transfer with 3 s.
    rto_.OnEstablishedAfterSynLoss();
  }
}

bool Sender::OnSynTimeout(int limit) {
  if (syn_retransmissions_ >= limit) return false;
  ++syn_retransmissions_;
  rto_.Backoff();
  return true;
}

std::optional<Transmission> Sender::NextTransmission(bool no_delay, bool override_sws,
                                                     std::uint32_t offload_limit) const {
  if (sack_recovery_) return NextRecoveryTransmission(no_delay, override_sws, offload_limit);
  // Nothing to send, the common case after a received segment: answered before the congestion
  // window is read, which lives on a line of the connection such a segment otherwise never needs.
  if (unsent() == 0 && !fin_queued_) return std::nullopt;
  std::uint32_t cwnd = congestion_.cwnd();
  // Limited transmit (RFC 3042): the first and second duplicate ACKs each let one new segment go
  // beyond cwnd, so that a window too small to raise three duplicates by itself still raises
  // them, and a loss is repaired by fast retransmit, not by the retransmission timer. Only new
  // data: go-back-N after a timeout resends within cwnd.
  const std::uint32_t duplicates = congestion_.duplicate_acks();
  if (duplicates > 0 && duplicates < CongestionControl::kDuplicateAckThreshold &&
      !congestion_.in_recovery() && snd_nxt_ == snd_max_) {
    cwnd = static_cast<std::uint32_t>(std::min<std::uint64_t>(
        std::uint64_t{cwnd} + std::uint64_t{duplicates} * mss_, ~std::uint32_t{0}));
  }
  const std::uint32_t sent_offset = in_flight();
  return NextNewData(no_delay, override_sws, cwnd > sent_offset ? cwnd - sent_offset : 0,
                     offload_limit);
}

std::optional<Transmission> Sender::NextNewData(bool no_delay, bool override_sws,
                                                std::uint32_t congestion_room,
                                                std::uint32_t offload_limit) const {
  const std::uint32_t sent_offset = in_flight();
  const std::size_t buffered = buffer_.size();
  const std::size_t waiting = unsent();
  if (waiting == 0 && !fin_queued_) return std::nullopt;
  const std::uint32_t window_room = snd_wnd_ > sent_offset ? snd_wnd_ - sent_offset : 0;
  const std::uint32_t usable = std::min(window_room, congestion_room);
  auto length = static_cast<std::uint32_t>(std::min<std::size_t>({waiting, usable, mss_}));
  const bool retransmission = snd_nxt_ < snd_max_;  // go-back-N after a timeout
  if (retransmission && loss_ && length > 0) {
    // Stop where the peer reported data held since the timeout (SkipSackedData jumps over it).
    if (const auto hole = loss_->scoreboard.NextHole(snd_nxt_, snd_nxt_ + length, length)) {
      length = hole->length();
    }
  }

  if (length == 0) {
    // The FIN goes once every byte before it is sent (RFC 9293 3.10.4), and again after a timeout
    // rewound SND.NXT.
    const bool fin_due = fin_queued_ && waiting == 0 && sent_offset == buffered &&
                         (!fin_sent_ || snd_nxt_ < snd_max_);
    if (!fin_due) return std::nullopt;
    return Transmission{.seq = snd_nxt_, .offset = sent_offset, .fin = true};
  }
  // Nagle (RFC 1122 4.2.3.4) and sender-side SWS avoidance (RFC 9293 3.8.6.2.1): a short segment
  // goes only when nothing is in flight (or Nagle is off) and it carries everything queued, or
  // when it fills half the largest window the peer ever offered. Both are about new data: bytes
  // sent before go again as they were cut, or as the peer's SACK blocks cut them.
  const bool full_segment = length == mss_;
  const bool everything_queued = length == waiting;
  const bool may_send_short = (sent_offset == 0 || no_delay) && everything_queued;
  const bool half_window = length >= max_snd_wnd_ / 2 && sent_offset == 0;
  if (!full_segment && !may_send_short && !half_window && !override_sws && !retransmission) {
    return std::nullopt;
  }
  if (full_segment && offload_limit >= 2 * mss_ && !retransmission) {
    // TSO: the full segments that would follow this one go in the same super-segment, which the
    // device cuts at every MSS. A short tail goes with them only where it would go alone, with
    // Nagle off and ending the queue; otherwise the super-segment stops at a segment boundary
    // and the tail waits, so the device puts exactly the segments on the wire that this sender
    // would have sent one by one.
    const std::uint32_t limit = offload_limit - offload_limit % mss_;
    length = static_cast<std::uint32_t>(std::min<std::size_t>({waiting, usable, limit}));
    if (length % mss_ != 0 && !(no_delay && length == waiting)) length -= length % mss_;
  }
  return Transmission{
      .seq = snd_nxt_,
      .offset = sent_offset,
      .length = length,
      .push = length == waiting,
      .retransmit = retransmission ? RetransmitCause::kTimeout : RetransmitCause::kNone};
}

std::optional<Transmission> Sender::NextRecoveryTransmission(bool no_delay, bool override_sws,
                                                             std::uint32_t offload_limit) const {
  // RFC 6675 5 (C): send while cwnd leaves room for a full segment above pipe.
  const Seq lost_boundary = LostBoundary();
  const std::uint32_t pipe = Pipe(lost_boundary);
  const std::uint32_t cwnd = congestion_.cwnd();
  if (pipe >= cwnd || cwnd - pipe < mss_) return std::nullopt;
  // NextSeg: never a byte already resent in this recovery (HighRxt).
  const Seq resend_from = Max(high_rxt_, snd_una_);
  if (loss_) {
    // RFC 8985 6.2 for every copy: a hole resent in this recovery whose copy is lost too (data
    // sent after the copy is SACKed, it is not) goes again before anything else, where RFC 6675
    // alone, never resending below HighRxt, would leave it to the retransmission timer.
    if (const auto lost = loss_->scoreboard.FirstLostResend(snd_max_, ReorderingMargin(), mss_)) {
      Transmission again = Resend(*lost);
      again.lost_again = true;
      return again;
    }
    // Rule 1: the first byte taken for lost.
    if (resend_from < lost_boundary) {
      if (const auto hole = loss_->scoreboard.NextHole(resend_from, lost_boundary, mss_)) {
        return Resend(*hole);
      }
    }
  }
  // Rule 2: new data, as far as the peer's window and cwnd - pipe allow.
  if (auto next = NextNewData(no_delay, override_sws, cwnd - pipe, offload_limit)) return next;
  // Rule 3: a hole below the highest byte SACKed that nothing has shown lost yet; without it
  // the last holes of a window wait for the retransmission timer.
  if (loss_) {
    if (const auto hole = loss_->scoreboard.NextHole(
            resend_from, loss_->scoreboard.HighestSacked(snd_una_), mss_)) {
      return Resend(*hole);
    }
  }
  return std::nullopt;
}

Transmission Sender::Resend(SeqRange hole) const {
  // Holes lie in [SND.UNA, SND.MAX): bytes of the buffer, and our FIN just past them.
  const Seq data_end = snd_una_ + static_cast<std::uint32_t>(buffer_.size());
  if (!(hole.left < data_end)) {
    return Transmission{.seq = hole.left, .fin = true, .retransmit = RetransmitCause::kSack};
  }
  return Transmission{.seq = hole.left,
                      .offset = hole.left - snd_una_,
                      .length = Min(hole.right, data_end) - hole.left,
                      .retransmit = RetransmitCause::kSack};
}

Seq Sender::LostBoundary() const {
  if (!loss_) return snd_una_;
  return loss_->scoreboard.LostBoundary(snd_una_, mss_, CongestionControl::kDuplicateAckThreshold);
}

std::uint32_t Sender::Pipe(Seq lost_boundary) const {
  // RFC 6675 SetPipe, a byte at a time in the RFC and a run at a time here: an unSACKed byte
  // counts once unless it is taken for lost (it may still be in the network), and once more if it
  // was resent in this recovery (the copy may be).
  if (!loss_) {
    return flight_size() + (sack_recovery_ && snd_una_ < high_rxt_ ? high_rxt_ - snd_una_ : 0);
  }
  std::uint32_t pipe = loss_->scoreboard.UnsackedBytes(Max(lost_boundary, snd_una_), snd_max_);
  if (sack_recovery_ && snd_una_ < high_rxt_) {
    // Copies known lost (RFC 8985 6.2) have left the network: they no longer count.
    const Seq resent_end = Min(high_rxt_, snd_max_);
    const std::uint32_t resent = loss_->scoreboard.UnsackedBytes(snd_una_, resent_end);
    const std::uint32_t lost =
        loss_->scoreboard.LostResendBytes(snd_una_, resent_end, snd_max_, ReorderingMargin());
    pipe += resent - std::min(lost, resent);
  }
  return pipe;
}

void Sender::SkipSackedData() {
  if (!loss_) return;
  for (const SeqRange& range : loss_->scoreboard.ranges()) {
    if (!(range.left <= snd_nxt_)) break;
    if (snd_nxt_ < range.right) snd_nxt_ = Min(range.right, snd_max_);
  }
}

void Sender::OnTransmitted(const Transmission& transmission, Duration now) {
  if (transmission.retransmit == RetransmitCause::kProbe) {
    if (transmission.seq < rtt_seq_) rtt_timing_ = false;  // Karn (RFC 6298 3)
    return;
  }
  if (transmission.retransmit == RetransmitCause::kSack) {
    // A hole resent from the scoreboard: SND.NXT stays, HighRxt moves (RFC 6675 NextSeg).
    high_rxt_ = Max(high_rxt_, transmission.seq + (transmission.fin ? 1 : transmission.length));
    RecordResend(transmission);
    if (transmission.seq == snd_una_) {
      first_resent_ = true;
      first_resent_at_max_ = snd_max_;
    }
    if (transmission.seq < rtt_seq_) rtt_timing_ = false;  // Karn (RFC 6298 3)
    return;
  }
  if (transmission.fin) {
    fin_sent_ = true;
    snd_nxt_ += 1;
    snd_max_ = Max(snd_max_, snd_nxt_);
    return;
  }
  window_probe_outstanding_ = false;  // a probed byte now goes out as ordinary data
  const bool new_data = snd_nxt_ == snd_max_;
  snd_nxt_ += transmission.length;
  snd_max_ = Max(snd_max_, snd_nxt_);
  if (snd_nxt_ < snd_max_) SkipSackedData();
  if (new_data && !rtt_timing_ && !timestamps_) {
    rtt_timing_ = true;
    rtt_seq_ = snd_nxt_;
    rtt_start_ = now;
  }
}

std::optional<Transmission> Sender::FirstSegment() const {
  auto length = static_cast<std::uint32_t>(std::min<std::size_t>(buffer_.size(), mss_));
  if (length == 0) {
    if (!fin_sent_) return std::nullopt;
    return Transmission{.seq = snd_max_ - 1, .fin = true, .retransmit = RetransmitCause::kFast};
  }
  if (loss_) {
    if (const std::optional<Seq> held = loss_->scoreboard.FirstSackedLeft()) {
      length = std::min(length, *held - snd_una_);
    }
  }
  return Transmission{
      .seq = snd_una_, .offset = 0, .length = length, .retransmit = RetransmitCause::kFast};
}

void Sender::OnFirstSegmentRetransmitted(const Transmission& transmission) {
  rtt_timing_ = false;  // Karn (RFC 6298 3)
  if (sack_recovery_) {
    high_rxt_ = Max(high_rxt_, transmission.seq + (transmission.fin ? 1 : transmission.length));
    first_resent_ = true;
    first_resent_at_max_ = snd_max_;
    RecordResend(transmission);
  }
}

void Sender::RecordResend(const Transmission& transmission) {
  if (!loss_) return;
  loss_->scoreboard.RecordResend(
      SeqRange{transmission.seq, transmission.seq + (transmission.fin ? 1 : transmission.length)},
      snd_max_);
}

std::uint32_t Sender::ReorderingMargin() const {
  // RFC 8985 6.2 in recovery: no reordering window as long as the path has not been seen to
  // reorder; after that, IsLost's margin (RFC 6675): more than DupThresh - 1 segments.
  return reordering_seen_ ? (CongestionControl::kDuplicateAckThreshold - 1) * mss_
                          : std::uint32_t{0};
}

bool Sender::FirstResendLost() const {
  if (!sack_recovery_ || !first_resent_ || !loss_) return false;
  if (!(first_resent_at_max_ < snd_max_)) return false;
  const std::uint32_t sent_after = snd_max_ - first_resent_at_max_;
  const std::uint32_t sacked_after =
      sent_after - loss_->scoreboard.UnsackedBytes(first_resent_at_max_, snd_max_);
  // RFC 8985 6.2 takes a segment for lost once one sent after it is delivered and a reordering
  // window has passed, and in recovery, where this rule applies, makes that window zero as long as
  // the path has not been seen to reorder: any data sent after the copy and SACKed shows it lost.
  // That matters when cwnd is small: a copy followed by one or two new segments is all recovery
  // may send, and with the margin below it waited for the retransmission timer. Once the path
  // has reordered, the margin is IsLost's (RFC 6675): more than DupThresh - 1 segments.
  return sacked_after > ReorderingMargin();
}

AckResult Sender::OnAck(Seq seq, Seq ack, std::uint16_t raw_window, std::uint32_t payload_len,
                        bool duplicate_candidate, Duration now, RingPool* pool,
                        std::span<const SeqRange> sack_blocks,
                        std::optional<Duration> echoed_round_trip) {
  AckResult result;
  if (window_probe_outstanding_ && ack == snd_max_ + 1) {
    // The peer's window had opened (its update was lost or crossed our probe) and it kept the byte
    // our zero-window probe carried (RFC 9293 3.8.6.1 probes with new data). That byte was sent,
    // so its ACK is valid: counting it as sent now keeps the ACK from being refused as
    // acknowledging unsent data below, which left both ends waiting for each other forever.
    window_probe_outstanding_ = false;
    snd_max_ = snd_nxt_ = ack;
  }
  // RFC 5961 5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT].
  if (ack > snd_max_ || ack < snd_una_ - max_snd_wnd_) {
    result.acceptable = false;
    return result;
  }
  const std::uint32_t window = std::uint32_t{raw_window} << snd_wscale_;
  const bool was_in_recovery = congestion_.in_recovery();
  // RFC 6675 2: blocks that SACK bytes not SACKed before make the ACK a duplicate.
  bool sacks_news = false;
  bool entered_recovery = false;
  // A hole at SND.UNA with data SACKed above it, before this ACK (for NoteReordering).
  const std::optional<Seq> held_above_una =
      loss_ ? loss_->scoreboard.FirstSackedLeft() : std::nullopt;
  if (sack_permitted_ && !sack_blocks.empty()) {
    if (!loss_) loss_ = std::make_unique<LossRecord>();
    sacks_news = loss_->scoreboard.Update(Max(ack, snd_una_), snd_max_, sack_blocks);
  }
  if (snd_una_ < ack) {
    // RFC 8985 6.2 step 2: data delivered below data delivered before it, and never resent,
    // was reordered by the path: here, the hole at SND.UNA filled without our resending it.
    if (held_above_una && snd_una_ < *held_above_una && !(snd_una_ < high_rxt_) && !first_resent_ &&
        retransmissions_ == 0 && !(tlp_pending_ && tlp_resent_)) {
      reordering_seen_ = true;
    }
    const std::uint32_t acked = ack - snd_una_;
    const std::uint32_t flight_before = flight_size();
    std::uint32_t data_acked = acked;
    if (snd_una_ == iss_) --data_acked;              // our SYN
    if (fin_sent_ && ack == snd_max_) --data_acked;  // our FIN
    buffer_.Acknowledge(std::min<std::size_t>(data_acked, buffer_.size()), pool);
    snd_una_ = ack;
    if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;
    if (loss_) loss_->scoreboard.Acknowledge(ack);
    // The new first segment was resent if it lies below HighRxt, at a time we no longer know:
    // SND.MAX now is a bound that can only make FirstResendLost later, never wrong.
    first_resent_ = ack < high_rxt_;
    first_resent_at_max_ = snd_max_;
    AckSample sample{.now = now, .snd_nxt = snd_max_};
    // Whether cwnd limited the flight this ACK found: in slow start, at least half the window
    // in use (slow start doubles the window a round trip, so a flight of half of it is the
    // window of the round before); in congestion avoidance, no room for one more segment. The
    // sender fills the window after every ACK when it has the data, so the flight an ACK finds
    // is what the last round trip could use.
    const std::uint32_t cwnd = congestion_.cwnd();
    sample.cwnd_limited =
        congestion_.in_slow_start() ? flight_before >= cwnd / 2 : flight_before + mss_ > cwnd;
    if (echoed_round_trip) {
      // RFC 7323 Appendix G: about one sample per two segments in flight (one ACK for every
      // second segment) in each round trip, each weighed accordingly.
      const std::uint32_t expected_samples = (flight_before + 2 * mss_ - 1) / (2 * mss_);
      rto_.OnRttSample(*echoed_round_trip, expected_samples);
      sample.rtt = *echoed_round_trip;
    } else if (rtt_timing_ && rtt_seq_ <= ack) {
      // RFC 6298 (Karn): only segments sent once give RTT samples; timing stops on a timeout.
      sample.rtt = now - rtt_start_;
      rto_.OnRttSample(*sample.rtt);
      rtt_timing_ = false;
    }
    rto_.ResetBackoff();
    retransmissions_ = 0;
    result.bytes_acked = acked;
    if (loss_ && loss_->timeout_undo) {
      // RFC 3522: the first ACK of new data after a timeout settles whether it was spurious.
      result.spurious_timeout = TimeoutWasSpurious(*loss_->timeout_undo, now, echoed_round_trip) &&
                                UndoTimeout(*loss_->timeout_undo, acked);
      loss_->timeout_undo.reset();
    }
    sample.srtt = rto_.srtt().value_or(Duration::zero());
    if (!result.spurious_timeout) {
      // RFC 6582: a partial ACK in fast recovery asks for the next hole to be resent (without
      // SACK; with it, the scoreboard picks the holes).
      result.retransmit_first = congestion_.OnNewAck(ack, acked, sample);
    }
    result.recovery_ended = was_in_recovery && !congestion_.in_recovery();
    if (want_writable_ && buffer_.free_space() > 0) {
      want_writable_ = false;
      result.writable = true;
    }
  } else if (ack == snd_una_ && duplicate_candidate && flight_size() > 0 &&
             ((payload_len == 0 && window == snd_wnd_) || sacks_news)) {
    // A duplicate ACK, which may signal a lost segment. Without SACK, RFC 5681 2: no data, the
    // same window. With SACK, RFC 6675 2: an ACK whose blocks report data not reported before,
    // even if it carries data or changes the window. Both matter with Linux: its window grows
    // while it queues our out-of-order segments, and while it sends too, its ACKs ride on its
    // data; with the RFC 5681 test alone, nearly every loss waited for the retransmission timer.
    // True only when recovery begins with it: later duplicates only add to pipe's estimate.
    entered_recovery = congestion_.OnDuplicateAck(snd_una_, snd_max_, flight_size());
  }
  // RFC 6675 5 step 2: the scoreboard may show the first byte lost before three duplicates
  // arrived (several segments SACKed by one ACK, or ACKs lost on the way).
  if (loss_ && !congestion_.in_recovery() && flight_size() > 0 && snd_una_ < LostBoundary()) {
    entered_recovery = congestion_.OnLossDetected(snd_una_, snd_max_, flight_size());
  }
  if (!entered_recovery && !result.recovery_ended && FirstResendLost()) {
    result.retransmit_first = true;
    result.retransmission_lost = true;
  }
  if (tlp_pending_) SettleLossProbe(ack, sack_blocks, result);
  if ((entered_recovery || result.recovery_ended) && loss_) loss_->scoreboard.ClearResends();
  if (entered_recovery) {
    tlp_pending_ = false;  // recovery's own response covers what a probe would have found
    // RFC 5681 3.2 step 2, RFC 6675 5 step 4.3: resend the first segment now. Nothing else of
    // this recovery has been resent yet (HighRxt).
    result.recovery_started = true;
    result.retransmit_first = true;
    sack_recovery_ = sack_permitted_;
    high_rxt_ = snd_una_;
  } else if (result.recovery_ended) {
    sack_recovery_ = false;
  }
  if (snd_nxt_ < snd_max_) SkipSackedData();  // go-back-N after a timeout
  if (snd_wl1_ < seq || (snd_wl1_ == seq && snd_wl2_ <= ack)) {
    UpdateWindow(seq, ack, window);
    result.window_opened = snd_wnd_ > 0;
  }
  return result;
}

std::optional<Duration> Sender::ProbeTimeout() const {
  if (!sack_permitted_ || sack_recovery_ || congestion_.in_recovery() || tlp_pending_ ||
      retransmissions_ > 0 || flight_size() == 0 || snd_nxt_ < snd_max_) {
    return std::nullopt;
  }
  // RFC 8985 7.2: two round trips; with one segment in flight, also the longest the peer may
  // delay its ACK. Never less than 2 ms (Linux adds two ticks of its clock, 2 ms at 1000 Hz), so
  // that a round trip measured as nearly nothing does not send a probe after every segment;
  // never later than the timeout. Linux's floor was 10 ms until it took RACK-TLP as RFC 8985
  // has it; over a LAN, where a loss costs one probe timeout, 10 ms were most of the time lost.
  constexpr Duration kWorstCaseDelayedAck = std::chrono::milliseconds(200);
  constexpr Duration kMinimum = std::chrono::milliseconds(2);
  const std::optional<Duration> srtt = rto_.srtt();
  Duration timeout = srtt ? 2 * *srtt : Duration(std::chrono::seconds(1));
  if (srtt && flight_size() <= mss_) timeout += kWorstCaseDelayedAck;
  return std::min(std::max(timeout, kMinimum), rto_.rto());
}

std::optional<Transmission> Sender::LossProbe() const {
  const std::uint32_t sent = in_flight();
  const std::size_t waiting = unsent();
  // RFC 8985 7.3: new data, when the peer's window takes a whole segment of it (or all of it).
  const std::uint32_t window_room = snd_wnd_ > sent ? snd_wnd_ - sent : 0;
  const auto wanted = static_cast<std::uint32_t>(std::min<std::size_t>(waiting, mss_));
  if (wanted > 0 && window_room >= wanted) {
    return Transmission{
        .seq = snd_nxt_, .offset = sent, .length = wanted, .push = wanted == waiting};
  }
  // Otherwise the last segment sent, again: the data's last MSS, or the FIN alone.
  const auto data_sent = static_cast<std::uint32_t>(buffer_.size() - waiting);
  if (data_sent == 0) {
    if (!fin_sent_ || flight_size() == 0) return std::nullopt;
    return Transmission{.seq = snd_max_ - 1, .fin = true, .retransmit = RetransmitCause::kProbe};
  }
  const std::uint32_t length = std::min(data_sent, mss_);
  return Transmission{.seq = snd_una_ + (data_sent - length),
                      .offset = data_sent - length,
                      .length = length,
                      .retransmit = RetransmitCause::kProbe};
}

void Sender::OnLossProbeSent(const Transmission& probe) {
  tlp_pending_ = true;
  tlp_resent_ = probe.retransmit == RetransmitCause::kProbe;
  tlp_end_seq_ = snd_max_;
}

void Sender::SettleLossProbe(Seq ack, std::span<const SeqRange> sack_blocks, AckResult& result) {
  if (ack < tlp_end_seq_) return;
  if (!tlp_resent_) {  // a probe of new data was delivered: nothing to conclude
    tlp_pending_ = false;
    return;
  }
  // RFC 8985 7.4.1: a D-SACK block reporting the probe's copy says the original arrived: no loss.
  for (const SeqRange& block : sack_blocks) {
    if (block.right == tlp_end_seq_ && !(ack < block.right)) {
      tlp_pending_ = false;
      return;
    }
  }
  // The ACK of the original and of the copy both reach TLP.end_seq; only an ACK beyond it without
  // a D-SACK on the way shows that the copy repaired a loss (RFC 8985 7.4.2).
  if (!(tlp_end_seq_ < ack)) return;
  tlp_pending_ = false;
  congestion_.OnLossRepairedByProbe();
  result.probe_repaired_loss = true;
}

void Sender::UpdateWindow(Seq seq, Seq ack, std::uint32_t window) {
  snd_wnd_ = window;
  max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
  snd_wl1_ = seq;
  snd_wl2_ = ack;
}

bool Sender::TimeoutWasSpurious(const TimeoutUndo& undo, Duration now,
                                std::optional<Duration> echoed_round_trip) {
  if (!echoed_round_trip) return false;
  // RFC 3522: spurious when the echoed timestamp is older than the retransmission's
  // (RetransmitTS). TSecr is our clock, in ticks, when the echoed segment left; our offset cancels
  // out of the comparison.
  const auto echoed_tick = now / kTimestampTick - *echoed_round_trip / kTimestampTick;
  return echoed_tick < undo.retransmitted_at / kTimestampTick;
}

bool Sender::UndoTimeout(const TimeoutUndo& undo, std::uint32_t bytes_acked) {
  if (!congestion_.UndoTimeout(undo.congestion, snd_una_, undo.flight_size, flight_size(),
                               bytes_acked)) {
    return false;
  }
  // RFC 4015 also raises SRTT to the late ACK's round trip. Not done: in the commonest spurious
  // timeout, an ACK lost after all the data arrived, the late ACK echoes the original, sent a
  // whole timeout earlier, so its round trip measures the timeout rather than the path; raised
  // to it, the next timeouts were three times as long (docs/loss-recovery.md).
  // RFC 4015: the data go-back-N would send again is in the network already; resume with new
  // data.
  snd_nxt_ = snd_max_;
  return true;
}

bool Sender::OnRetransmitTimeout(int max_retransmissions, Duration now) {
  if (retransmissions_ >= max_retransmissions) return false;
  if (retransmissions_ == 0 && sack_permitted_ && timestamps_ && !(tlp_pending_ && tlp_resent_)) {
    // RFC 3522: remember the first retransmission of the episode (and what the timeout is
    // about to change), so that the ACK that ends it can tell whether it was needed. Not after a
    // tail loss probe that resent the last segment: that probe was the episode's first
    // retransmission, an ACK echoing it would pass for one echoing an original, and undoing
    // would skip the reduction RFC 8985 7.4 asks for when the probe's copy repaired a loss.
    if (!loss_) loss_ = std::make_unique<LossRecord>();
    loss_->timeout_undo.emplace(TimeoutUndo{
        .congestion = congestion_, .retransmitted_at = now, .flight_size = flight_size()});
  }
  // RFC 6298 5.4 to 5.6 and RFC 5681 3.1: back off, collapse the window, resend from SND.UNA.
  ++retransmissions_;
  congestion_.OnRetransmitTimeout(flight_size(), snd_max_);
  // RFC 2018 8: the receiver may have reneged on what it SACKed; RFC 6675 5.1: recovery ends,
  // and SACK blocks that arrive from now on steer go-back-N around what they report held.
  sack_recovery_ = false;
  tlp_pending_ = false;
  if (loss_) loss_->scoreboard.Clear();
  rto_.Backoff();
  rtt_timing_ = false;
  snd_nxt_ = snd_una_;
  return true;
}

Sender::PersistAction Sender::OnPersistTimeout(int max_probes) {
  if (buffer_.size() <= in_flight() || flight_size() > 0) return PersistAction::kNothing;
  // RFC 6429 and RFC 9293 3.8.6.1 (MUST-37): the connection stays open for as long as the peer
  // answers the probes, but probes nobody answers mean the peer is gone. Like Linux
  // (tcp_probe_timer, bounded by tcp_retries2), give up after as many unanswered probes as
  // retransmissions are allowed; any segment from the peer resets the count.
  if (persist_probes_unanswered_ >= max_probes) return PersistAction::kGiveUp;
  ++persist_probes_unanswered_;
  // A window too small for sender SWS avoidance to use: the override timeout (RFC 1122 4.2.3.4)
  // sends what fits, which also draws the peer's current window. A zero window: probe.
  return snd_wnd_ > 0 ? PersistAction::kOverrideSws : PersistAction::kZeroWindowProbe;
}

void Sender::OnZeroWindowProbeSent() {
  window_probe_outstanding_ = true;
  rto_.Backoff();  // probes back off like retransmissions
}

}  // namespace tapstack::tcp
