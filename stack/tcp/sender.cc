#include "stack/tcp/sender.h"

#include <algorithm>

namespace tapstack::tcp {

Sender::Sender(std::size_t buffer_capacity, const RtoConfig& rto_config, std::uint32_t mss)
    : mss_(mss), buffer_(buffer_capacity), congestion_(mss), rto_(rto_config) {}

void Sender::Start(Seq iss, Duration now) {
  iss_ = iss;
  snd_una_ = sacked_high_ = iss;
  snd_nxt_ = snd_max_ = iss + 1;
  rtt_start_ = now;  // times the SYN (RFC 6298 2.2 takes the first sample from it)
}

void Sender::StartAcknowledged(Seq iss) {
  iss_ = iss;
  snd_una_ = snd_nxt_ = snd_max_ = sacked_high_ = iss + 1;
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

std::optional<Transmission> Sender::NextTransmission(bool no_delay, bool override_sws) const {
  const std::uint32_t sent_offset = in_flight();
  const std::size_t buffered = buffer_.size();
  const std::size_t waiting = unsent();
  // Nothing to send, the common case after a received segment: answered before the congestion
  // window is read, which lives on a line of the connection such a segment otherwise never needs.
  if (waiting == 0 && !fin_queued_) return std::nullopt;
  const std::uint32_t window = std::min(snd_wnd_, congestion_.cwnd());
  const std::uint32_t usable = window > sent_offset ? window - sent_offset : 0;
  const auto length = static_cast<std::uint32_t>(std::min<std::size_t>({waiting, usable, mss_}));

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
  // when it fills half the largest window the peer ever offered.
  const bool full_segment = length == mss_;
  const bool everything_queued = length == waiting;
  const bool may_send_short = (sent_offset == 0 || no_delay) && everything_queued;
  const bool half_window = length >= max_snd_wnd_ / 2 && sent_offset == 0;
  if (!full_segment && !may_send_short && !half_window && !override_sws) return std::nullopt;
  return Transmission{.seq = snd_nxt_,
                      .offset = sent_offset,
                      .length = length,
                      .push = everything_queued,
                      .retransmission = snd_nxt_ < snd_max_};
}

void Sender::OnTransmitted(const Transmission& transmission, Duration now) {
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
  if (new_data && !rtt_timing_) {
    rtt_timing_ = true;
    rtt_seq_ = snd_nxt_;
    rtt_start_ = now;
  }
}

std::optional<Transmission> Sender::FirstSegment() const {
  const auto length = static_cast<std::uint32_t>(std::min<std::size_t>(buffer_.size(), mss_));
  if (length == 0) {
    if (!fin_sent_) return std::nullopt;
    return Transmission{.seq = snd_max_ - 1, .fin = true, .retransmission = true};
  }
  return Transmission{.seq = snd_una_, .offset = 0, .length = length, .retransmission = true};
}

bool Sender::SacksNewData(Seq ack, std::optional<Seq> sacked_edge) {
  // New: beyond both the ACK and what earlier blocks reported. A block beyond SND.MAX reports
  // data we never sent, and proves nothing.
  if (!sacked_edge || !(ack < *sacked_edge) || snd_max_ < *sacked_edge) return false;
  // What earlier blocks reported counts only while it lies ahead of the ACK (and within what we
  // sent); once SND.UNA has passed it, it says nothing.
  const bool earlier_ahead = ack < sacked_high_ && !(snd_max_ < sacked_high_);
  if (earlier_ahead && !(sacked_high_ < *sacked_edge)) return false;
  sacked_high_ = *sacked_edge;
  return true;
}

AckResult Sender::OnAck(Seq seq, Seq ack, std::uint16_t raw_window, std::uint32_t payload_len,
                        bool duplicate_candidate, Duration now, RingPool* pool,
                        std::optional<Seq> sacked_edge) {
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
  if (snd_una_ < ack) {
    const std::uint32_t acked = ack - snd_una_;
    std::uint32_t data_acked = acked;
    if (snd_una_ == iss_) --data_acked;              // our SYN
    if (fin_sent_ && ack == snd_max_) --data_acked;  // our FIN
    buffer_.Acknowledge(std::min<std::size_t>(data_acked, buffer_.size()), pool);
    snd_una_ = ack;
    if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;
    // RFC 6298 (Karn): only segments sent once give RTT samples; timing stops on a timeout.
    if (rtt_timing_ && rtt_seq_ <= ack) {
      rto_.OnRttSample(now - rtt_start_);
      rtt_timing_ = false;
    }
    rto_.ResetBackoff();
    retransmissions_ = 0;
    result.bytes_acked = acked;
    // RFC 6582: a partial ACK in fast recovery asks for the next hole to be resent.
    result.retransmit_first = congestion_.OnNewAck(ack, acked);
    if (want_writable_ && buffer_.free_space() > 0) {
      want_writable_ = false;
      result.writable = true;
    }
  } else if (ack == snd_una_ && duplicate_candidate && flight_size() > 0 &&
             ((payload_len == 0 && window == snd_wnd_) || SacksNewData(ack, sacked_edge))) {
    // A duplicate ACK, which may signal a lost segment. Without SACK, RFC 5681 2: no data, the
    // same window. With SACK, RFC 6675 2: an ACK whose blocks report data not reported before,
    // even if it carries data or changes the window. Both matter with Linux: its window grows
    // while it queues our out-of-order segments, and while it sends too, its ACKs ride on its
    // data; with the RFC 5681 test alone, nearly every loss waited for the retransmission timer.
    result.retransmit_first = congestion_.OnDuplicateAck(snd_una_, snd_max_, flight_size());
  }
  if (snd_wl1_ < seq || (snd_wl1_ == seq && snd_wl2_ <= ack)) {
    UpdateWindow(seq, ack, window);
    result.window_opened = snd_wnd_ > 0;
  }
  return result;
}

void Sender::UpdateWindow(Seq seq, Seq ack, std::uint32_t window) {
  snd_wnd_ = window;
  max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
  snd_wl1_ = seq;
  snd_wl2_ = ack;
}

bool Sender::OnRetransmitTimeout(int max_retransmissions) {
  if (retransmissions_ >= max_retransmissions) return false;
  // RFC 6298 5.4 to 5.6 and RFC 5681 3.1: back off, collapse the window, resend from SND.UNA.
  ++retransmissions_;
  congestion_.OnRetransmitTimeout(flight_size(), snd_max_);
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
