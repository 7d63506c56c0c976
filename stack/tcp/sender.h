// The sending half of a connection: the send sequence space of RFC 9293 3.3.1 (SND.UNA, SND.NXT,
// SND.WND, SND.WL1, SND.WL2, ISS), the send buffer, the retransmission timeout estimator (RFC
// 6298), congestion control (congestion.h: NewReno or CUBIC) and the decisions of segmentization,
// Nagle, sender-side SWS avoidance, retransmission and window probing.
//
// The sender keeps no timer and sends nothing itself. The connection asks it what to send next
// (NextTransmission), tells it what went out (OnTransmitted), hands it every acceptable ACK
// (OnAck) and every expiry of its retransmission and persist timers, and acts on the answers. That
// keeps every SND.* variable private to this class and lets it be tested without a wire or a
// clock. With SACK agreed, the peer's blocks feed a scoreboard (sack_scoreboard.h) and loss
// recovery follows RFC 6675: what to resend comes from the scoreboard, and how much may be sent
// from pipe, the estimate of the bytes still in the network. Later seams: RACK sits beside the
// scoreboard, fed from OnAck. The congestion controller gets every ACK of new data with the time,
// the RTT sample the ACK gave and SRTT (AckSample), so CUBIC and HyStart++ need nothing else.
#ifndef TAPSTACK_STACK_TCP_SENDER_H_
#define TAPSTACK_STACK_TCP_SENDER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "stack/tcp/congestion.h"
#include "stack/tcp/rto.h"
#include "stack/tcp/sack_scoreboard.h"
#include "stack/tcp/send_buffer.h"
#include "stack/tcp/seq.h"
#include "stack/tcp/tcp_types.h"

namespace tapstack::tcp {

// One segment the sender wants on the wire: `length` bytes of the send buffer from `seq` (offset
// `offset` from SND.UNA), with or without a FIN after them.
struct Transmission {
  Seq seq;
  std::size_t offset = 0;
  std::uint32_t length = 0;
  bool fin = false;
  bool push = false;  // the segment empties the send buffer (PSH)
  // Whether and why the segment goes below SND.MAX again. Only kTimeout (go-back-N) moves SND.NXT;
  // the others resend a hole and leave it where it is.
  RetransmitCause retransmit = RetransmitCause::kNone;
  // A hole resent once more in this recovery: its earlier copy was lost too (RFC 8985 6.2).
  bool lost_again = false;
};

// How the sender classified an ACK, and what the connection must do about it.
struct AckResult {
  // Eight bytes, the count first, so that the result comes back in one register: with the bools
  // around the count, GCC assembled it on the stack with byte stores and read it back with wider
  // loads, a store-forwarding stall on every ACK.
  std::uint32_t bytes_acked = 0;  // sequence space newly acknowledged (SYN and FIN included)
  bool acceptable : 1 = true;     // false: outside [SND.UNA - MAX.SND.WND, SND.MAX] (RFC 5961 5.2)
  bool retransmit_first : 1 = false;  // fast retransmit or an RFC 6582 partial ACK: resend SND.UNA
  bool writable : 1 = false;          // buffer space freed for an application that wanted it
  bool window_opened : 1 = false;  // the segment updated SND.WND (SND.WL1/WL2) to a non-zero value
  bool recovery_started : 1 = false;  // fast recovery began with this ACK
  bool recovery_ended : 1 = false;    // this ACK covered everything recovery had to recover
  // With retransmit_first: the copy of the first segment resent in this recovery is lost too.
  bool retransmission_lost : 1 = false;
  // A tail loss probe that resent the last segment repaired a loss (RFC 8985 7.4.2).
  bool probe_repaired_loss : 1 = false;
  // The ACK showed the last retransmission timeout spurious (RFC 3522), and the sender undid
  // what it had changed (RFC 4015).
  bool spurious_timeout : 1 = false;
};

// What the first retransmission timeout of an episode changed, kept so that it can be undone
// when the timeout proves spurious (RFC 3522, RFC 4015): the congestion controller as it was,
// the data in flight, and when the first retransmission went out (RFC 3522's RetransmitTS).
struct TimeoutUndo {
  CongestionControl congestion;
  Duration retransmitted_at;
  std::uint32_t flight_size;
};

// What a SACK connection keeps once it meets loss, allocated then so that a connection that
// never does pays one pointer for it: the scoreboard, and the undo record of a timeout.
struct LossRecord {
  SackScoreboard scoreboard;
  // Armed by the first timeout of an episode, settled by the next ACK of new data.
  std::optional<TimeoutUndo> timeout_undo;
};

class Sender {
 public:
  Sender(std::size_t buffer_capacity, const RtoConfig& rto_config, std::uint32_t mss,
         CongestionAlgorithm congestion_algorithm = CongestionAlgorithm::kCubic);

  // --- Opening (RFC 9293 3.10.1, 3.10.7.2, 3.10.7.3).
  // Our SYN is sent with sequence number `iss` at `now` (its round trip is timed).
  void Start(Seq iss, Duration now);
  // A SYN cookie's connection: our SYN-ACK (sequence `iss`) is already acknowledged.
  void StartAcknowledged(Seq iss);
  // The peer's SYN options: its MSS (already clamped to what we can send) and window shift.
  void ApplyPeerSyn(std::uint32_t mss, std::uint8_t window_shift);
  // The window the peer offered in its SYN (never scaled, RFC 7323 2.2), or in the segment that
  // completed a cookie's handshake (scaled); `wl1`/`wl2` name that segment (RFC 9293 3.10.7.4).
  void SetInitialWindow(std::uint32_t window, Seq wl1, Seq wl2);
  // Both SYNs offered SACK (RFC 2018 2): the peer's blocks drive loss recovery (RFC 6675).
  void set_sack_permitted(bool permitted) {
    sack_permitted_ = permitted;
    congestion_.set_sack_recovery(permitted);
  }
  // Both SYNs offered timestamps (RFC 7323 3.2): round trips come from their echoes (OnAck).
  void set_timestamps(bool agreed) { timestamps_ = agreed; }
  // SYN-SENT: the peer's SYN-ACK acknowledged our SYN with `ack`.
  void AcknowledgeSyn(Seq ack) { snd_una_ = ack; }
  // The handshake completed at `now`: the SYN's round trip is the first RTT sample, or, when the
  // SYN had to be retransmitted, RFC 6298 5.7 sets the timeout back to 3 s.
  void OnHandshakeComplete(Duration now);
  // The SYN (or SYN-ACK) timed out: back off. Returns false once `limit` retries are spent.
  bool OnSynTimeout(int limit);

  // --- The application's data (RFC 9293 3.10.2, 3.10.4).
  std::size_t Write(std::span<const std::uint8_t> data, RingPool* pool) {
    return buffer_.Write(data, pool);
  }
  void QueueFin() { fin_queued_ = true; }
  void set_want_writable() { want_writable_ = true; }

  // --- Output. The next segment that the windows, Nagle's algorithm (RFC 1122 4.2.3.4) and SWS
  // avoidance allow, or nullopt. `override_sws` lets one short segment through (the override
  // timeout of RFC 1122 4.2.3.4). Only meaningful in a state that sends data. `offload_limit`:
  // the most payload the device cuts from one super-segment (TSO, stack/tx_offload.h); from two
  // segments' worth on, new data goes out as super-segments of whole MSS-sized segments.
  // Retransmissions stay one segment each.
  std::optional<Transmission> NextTransmission(bool no_delay, bool override_sws,
                                               std::uint32_t offload_limit = 0) const;
  // The segment went out at `now`.
  void OnTransmitted(const Transmission& transmission, Duration now);
  // A transmission's payload, in place in the send buffer (at most two runs).
  std::array<std::span<const std::uint8_t>, 2> PayloadOf(const Transmission& transmission) const {
    return buffer_.Peek(transmission.offset, transmission.length);
  }
  // Copies `out.size()` bytes of the buffer at `offset` from SND.UNA (a segment's payload).
  void ReadPayload(std::size_t offset, std::span<std::uint8_t> out) const {
    buffer_.Read(offset, out);
  }
  // Data waits but nothing is in flight: only an ACK from the peer can restart output, so the
  // persist timer must run (RFC 9293 3.8.6.1).
  bool Stalled() const { return unsent() > 0 && in_flight() == 0; }
  // Fast retransmission (RFC 5681 3.2, RFC 6582): the first segment at SND.UNA, resent without
  // moving SND.NXT, and ending where the scoreboard shows data held. nullopt when only a FIN
  // remains and none was sent.
  std::optional<Transmission> FirstSegment() const;
  // A retransmission (fast or partial-ACK) of FirstSegment() went out.
  void OnFirstSegmentRetransmitted(const Transmission& transmission);

  // --- Input (RFC 9293 3.10.7.4, fifth: the ACK field). `seq`, `ack`, `raw_window` and
  // `payload_len` come from the segment; `duplicate_candidate` says it carries no SYN or FIN.
  // Acknowledged storage goes back to `pool` when the buffer empties. `sack_blocks`: the
  // segment's SACK blocks (RFC 2018 3), ignored unless SACK was agreed. `echoed_round_trip`: with
  // timestamps, the round trip its TSecr measures (RFC 7323 4.1), the RTT sample when the ACK
  // acknowledges new data, retransmitted or not (the echo tells the copies apart, so Karn's rule
  // does not apply).
  AckResult OnAck(Seq seq, Seq ack, std::uint16_t raw_window, std::uint32_t payload_len,
                  bool duplicate_candidate, Duration now, RingPool* pool,
                  std::span<const SeqRange> sack_blocks = {},
                  std::optional<Duration> echoed_round_trip = std::nullopt);

  // --- Tail loss probes (RFC 8985 7). A connection with SACK agreed, data in flight, not
  // recovering and with no timeout backed off arms the probe timer instead of the retransmission
  // timer: if no ACK comes for about two round trips, one probe elicits the SACK blocks that
  // start fast recovery, where the retransmission timer would have collapsed the window.
  // The probe timeout (RFC 8985 7.2) when a probe may be armed now, else nullopt.
  std::optional<Duration> ProbeTimeout() const;
  // What the probe timer sends (RFC 8985 7.3): a segment of new data if the peer's window takes
  // it, else the last segment sent (or the FIN alone) again. nullopt when nothing is in flight.
  std::optional<Transmission> LossProbe() const;
  // The probe went out (after OnTransmitted): one probe at a time until an ACK settles it.
  void OnLossProbeSent(const Transmission& probe);

  // --- Timers.
  // RFC 6298 5.4 to 5.6: back off, collapse cwnd, go back to SND.UNA. False when
  // `max_retransmissions` are spent (the connection times out). `now`: the timer's expiry, when
  // the first retransmission goes out. With SACK and timestamps agreed, the first timeout of an
  // episode keeps what it changes: if the ACK that ends the episode echoes the timestamp of an
  // earlier transmission than that retransmission, the original arrived and the timeout was
  // spurious (RFC 3522), and OnAck undoes it (RFC 4015, RFC 9438 4.9).
  bool OnRetransmitTimeout(int max_retransmissions, Duration now);
  // What the persist timer should do (RFC 9293 3.8.6.1, RFC 1122 4.2.3.4).
  enum class PersistAction { kNothing, kGiveUp, kOverrideSws, kZeroWindowProbe };
  PersistAction OnPersistTimeout(int max_probes);
  // A zero-window probe of one byte at SND.NXT went out (SND.NXT stays: the byte is sent for real
  // once the window opens).
  void OnZeroWindowProbeSent();
  // After a timeout, the FIN alone was sent again at SND.UNA: SND.NXT returns to SND.MAX.
  void OnFinRetransmitted() { snd_nxt_ = snd_max_; }
  // Any segment from the peer answers our window probes (RFC 6429).
  void OnPeerAnsweredProbes() { persist_probes_unanswered_ = 0; }

  // --- What the connection reads.
  Seq iss() const { return iss_; }
  Seq snd_una() const { return snd_una_; }
  Seq snd_nxt() const { return snd_nxt_; }
  // The highest sequence number sent: after a timeout SND.NXT goes back to SND.UNA (go-back-N)
  // while ACKs up to SND.MAX stay acceptable, and every ACK we send carries SND.MAX.
  Seq snd_max() const { return snd_max_; }
  std::uint32_t snd_wnd() const { return snd_wnd_; }
  std::uint32_t mss() const { return mss_; }
  std::uint8_t window_shift() const { return snd_wscale_; }
  std::uint32_t flight_size() const { return snd_max_ - snd_una_; }
  std::uint32_t cwnd() const { return congestion_.cwnd(); }
  std::uint32_t ssthresh() const { return congestion_.ssthresh(); }
  CongestionAlgorithm congestion_algorithm() const { return congestion_.algorithm(); }
  // RFC 6675 recovery is running: the scoreboard and pipe decide what goes out.
  bool in_sack_recovery() const { return sack_recovery_; }
  bool fin_queued() const { return fin_queued_; }
  bool fin_sent() const { return fin_sent_; }
  // Our FIN went out and every byte up to it is acknowledged.
  bool fin_acknowledged() const { return fin_sent_ && snd_una_ == snd_max_; }
  // The retransmission of a FIN alone (everything before it is acknowledged).
  bool only_fin_outstanding() const { return fin_sent_ && buffer_.size() == 0; }
  bool has_unsent_data() const { return unsent() > 0; }
  Duration rto() const { return rto_.rto(); }
  std::size_t buffered() const { return buffer_.size(); }
  std::size_t free_space() const { return buffer_.free_space(); }

 private:
  std::uint32_t in_flight() const { return snd_nxt_ - snd_una_; }
  std::size_t unsent() const {
    const std::uint32_t sent = in_flight();
    return sent < buffer_.size() ? buffer_.size() - sent : 0;
  }
  // New data under `congestion_room` (what cwnd leaves) and the peer's window, as segmentization,
  // Nagle and SWS avoidance allow; the FIN once everything before it went out.
  std::optional<Transmission> NextNewData(bool no_delay, bool override_sws,
                                          std::uint32_t congestion_room,
                                          std::uint32_t offload_limit) const;
  // RFC 6675 5 (C) and NextSeg (4): what recovery sends next.
  std::optional<Transmission> NextRecoveryTransmission(bool no_delay, bool override_sws,
                                                       std::uint32_t offload_limit) const;
  // A retransmission of the hole `hole` (bytes of the buffer, or the FIN past them).
  Transmission Resend(SeqRange hole) const;
  // RFC 6675 IsLost as a boundary: unSACKed bytes below it are lost (SND.UNA: none).
  Seq LostBoundary() const;
  // RFC 6675 SetPipe, in bytes.
  std::uint32_t Pipe(Seq lost_boundary) const;
  // Go-back-N after a timeout skips what the peer has reported held since (RFC 6675 5.1).
  void SkipSackedData();
  // RFC 3522: whether an ACK of new data that arrives at `now` and echoes a transmission
  // `echoed_round_trip` ago shows the timeout recorded in `undo` spurious.
  static bool TimeoutWasSpurious(const TimeoutUndo& undo, Duration now,
                                 std::optional<Duration> echoed_round_trip);
  // RFC 4015's response to a spurious timeout, on the ACK that showed it (`bytes_acked`). False
  // when the congestion controller cannot undo it (CongestionControl::UndoTimeout), and nothing
  // changed.
  bool UndoTimeout(const TimeoutUndo& undo, std::uint32_t bytes_acked);
  // RFC 8985 7.4: whether this ACK settles the outstanding probe, and whether the probe repaired
  // a loss.
  void SettleLossProbe(Seq ack, std::span<const SeqRange> sack_blocks, AckResult& result);
  // Whether the copy of the segment at SND.UNA resent in this recovery is lost as well: RFC 6675
  // leaves that to the retransmission timer; Linux, before RACK (RFC 8985) took it over, told it
  // as this does, by data sent after the copy being SACKed while the copy is not.
  bool FirstResendLost() const;
  // Tells the scoreboard a hole went out again, and how far we had sent (RFC 8985 6.2).
  void RecordResend(const Transmission& transmission);
  // RACK's reordering window in recovery, in bytes SACKed after a copy (RFC 8985 6.2): none
  // until the path has reordered our segments, then more than DupThresh - 1 segments.
  std::uint32_t ReorderingMargin() const;
  // RFC 9293 3.10.7.4: take the window from the newest segment only (SND.WL1/SND.WL2).
  void UpdateWindow(Seq seq, Seq ack, std::uint32_t window);

  // Hot: what every ACK and every transmission reads and writes.
  Seq snd_una_, snd_nxt_, snd_max_;
  std::uint32_t snd_wnd_ = 0;      // scaled
  std::uint32_t max_snd_wnd_ = 0;  // the largest window the peer offered (RFC 5961 5.2)
  Seq snd_wl1_, snd_wl2_;
  std::uint32_t mss_;            // effective send MSS
  std::uint8_t snd_wscale_ = 0;  // the peer's shift, applied to its windows
  // Flags as bit-fields, one byte for all, so that the hot fields stay 48 bytes.
  bool fin_queued_ : 1 = false;  // the application closed or shut down the write side
  bool fin_sent_ : 1 = false;
  bool want_writable_ : 1 = false;
  // A zero-window probe carried the byte at SND.MAX without counting it as sent.
  bool window_probe_outstanding_ : 1 = false;
  // RTT timing of one segment at a time (Karn: never a retransmitted one).
  bool rtt_timing_ : 1 = false;
  bool sack_permitted_ : 1 = false;
  // See in_sack_recovery(). It mirrors the congestion controller's in_recovery() for a SACK
  // connection, kept here so that NextTransmission decides on this line before it reads the
  // congestion state's.
  bool sack_recovery_ : 1 = false;
  // Timestamps agreed (RFC 7323): every ACK of new data times a round trip from its echo, so no
  // segment is timed here.
  bool timestamps_ : 1 = false;
  std::uint16_t syn_retransmissions_ = 0;
  std::uint16_t retransmissions_ = 0;            // consecutive timeouts without progress
  std::uint16_t persist_probes_unanswered_ = 0;  // window probes since the peer last spoke
  Seq rtt_seq_;  // timed segment's end: an ACK at or past it gives the sample
  // RFC 6675 HighRxt: the end of the highest hole resent in this recovery.
  Seq high_rxt_;
  // The send buffer's size, right after the hot fields (48 bytes), is read by every segment.
  SendBuffer buffer_;
  // Read and written when an ACK acknowledges new data.
  Duration rtt_start_{};
  CongestionControl congestion_;
  Seq iss_;
  // See first_resent_. Data SACKed above it was sent after that copy: once more than two
  // segments' worth is, the copy is taken for lost (FirstResendLost). Read in SACK recovery only,
  // so it fills the padding here rather than pushing the send buffer off the hot line.
  Seq first_resent_at_max_;
  // Colder: read once per RTT sample or timeout.
  RtoEstimator rto_;
  // RFC 8985 TLP.end_seq: SND.MAX after the outstanding probe (valid while tlp_pending_).
  Seq tlp_end_seq_;
  bool tlp_pending_ : 1 = false;
  bool tlp_resent_ : 1 = false;  // the probe resent the last segment (TLP.is_retrans)
  // In SACK recovery, the segment at SND.UNA has been resent, when SND.MAX was
  // first_resent_at_max_ or earlier.
  bool first_resent_ : 1 = false;
  // The path has reordered our segments (RFC 8985 6.2 step 2): a hole at SND.UNA was filled
  // without our resending it. FirstResendLost then waits for a margin against reordering.
  bool reordering_seen_ : 1 = false;
  // Created when the first SACK block arrives, or at the first timeout once SACK and timestamps
  // are agreed: a connection that never sees loss, which is most of them, pays eight bytes for
  // it.
  std::unique_ptr<LossRecord> loss_;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_SENDER_H_
