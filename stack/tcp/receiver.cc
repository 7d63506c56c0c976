#include "stack/tcp/receiver.h"

#include <algorithm>

namespace tapstack::tcp {

Receiver::Receiver(std::size_t buffer_capacity) : buffer_(buffer_capacity) {}

void Receiver::Start(Seq irs) {
  irs_ = irs;
  rcv_nxt_ = irs + 1;
  // An active open's SYN offered this window (unscaled) before IRS was known; a passive open's
  // SYN-ACK sets the edge as it goes out (OnAckSent).
  advertised_edge_ = rcv_nxt_ + SynWindowField();
}

bool Receiver::Acceptable(Seq seq, std::uint32_t length) const {
  const std::uint32_t window = receive_window();
  const Seq window_end = rcv_nxt_ + window;
  if (length == 0) {
    return window == 0 ? seq == rcv_nxt_ : InHalfOpenRange(seq, rcv_nxt_, window_end);
  }
  if (window == 0) return false;
  return InHalfOpenRange(seq, rcv_nxt_, window_end) ||
         InHalfOpenRange(seq + (length - 1), rcv_nxt_, window_end);
}

TextResult Receiver::Insert(Seq seq, std::span<const std::uint8_t> payload, RingPool* pool,
                            std::uint32_t mss) {
  const std::uint32_t offset = seq - rcv_nxt_;
  // RFC 9293 3.10.7.4: what lies beyond RCV.WND, the window we advertised, is cut, even when the
  // buffer has room for it (it has more than we advertised without window scaling, or when
  // scaling rounded the window down).
  const std::uint32_t window = receive_window();
  const std::size_t in_window =
      offset < window ? std::min<std::size_t>(payload.size(), window - offset) : 0;
  const std::size_t beyond_window = payload.size() - in_window;
  payload = payload.first(in_window);
  const bool gap_before = buffer_.has_out_of_order();
  const InsertResult stored = buffer_.Insert(offset, payload, pool);
  if (!stored.duplicate.empty()) {
    NoteDuplicate(rcv_nxt_ + static_cast<std::uint32_t>(stored.duplicate.begin),
                  rcv_nxt_ + static_cast<std::uint32_t>(stored.duplicate.end));
  }
  rcv_nxt_ += static_cast<std::uint32_t>(stored.advanced);
  TextResult result{.advanced = stored.advanced,
                    .trimmed = stored.trimmed + beyond_window,
                    .dropped_out_of_order = stored.dropped_out_of_order,
                    .evicted = stored.evicted};
  if (offset > 0 || gap_before || stored.advanced == 0 || dsack_pending()) {
    // RFC 5681 4.2: out-of-order data, a gap being filled, or nothing new: ACK at once, so the
    // sender sees duplicate ACKs (or the filled gap) without delay. A D-SACK goes at once too:
    // the sender learns of the spurious retransmission while it can still undo its effect.
    result.ack = AckTiming::kNow;
  } else {
    // RFC 1122 4.2.3.2: an ACK at least for every second segment, within the delayed-ACK timeout.
    const std::size_t segments =
        mss == 0 || payload.size() <= mss ? 1 : (payload.size() + mss - 1) / mss;
    segments_unacked_ =
        static_cast<std::uint8_t>(std::min<std::size_t>(2, segments_unacked_ + segments));
    result.ack = segments_unacked_ >= 2 ? AckTiming::kNow : AckTiming::kDelayed;
  }
  // The peer sent up to the edge we advertised, short of less than a segment: the window, not
  // the peer, stopped it (GrowIfWindowLimited).
  if (stored.advanced > 0 && receive_window() < std::max<std::uint32_t>(mss, 1)) {
    window_filled_ = true;
  }
  return result;
}

bool Receiver::OnFin(Seq fin_seq) {
  if (fin_seq == rcv_nxt_) {
    fin_queued_ = false;
    rcv_nxt_ += 1;  // RFC 9293 3.10.7.4, eighth: the FIN takes one sequence number
    return true;
  }
  if (rcv_nxt_ < fin_seq) {
    fin_queued_ = true;  // ahead of missing data
    queued_fin_ = fin_seq;
  }
  return false;
}

bool Receiver::TakeQueuedFin() { return fin_queued_ && OnFin(queued_fin_); }

bool Receiver::GrowIfWindowLimited(std::size_t limit) {
  if (!window_filled_) return false;
  window_filled_ = false;  // the first read after the peer filled the window decides
  // Without window scaling (the peer did not offer it) nothing beyond 65,535 bytes can be
  // advertised, so a larger buffer would only hold more, not let the peer send more.
  limit = std::min(limit, std::size_t{0xffff} << rcv_wscale_);
  const std::size_t capacity = buffer_.capacity();
  if (capacity >= limit || buffer_.has_out_of_order()) return false;
  if (buffer_.readable() > capacity / 2) return false;  // the application is behind
  buffer_.Grow(std::min(2 * capacity, limit));
  return true;
}

bool Receiver::WindowUpdateDue(std::uint32_t mss) const {
  const Seq edge_now = rcv_nxt_ + (std::uint32_t{WindowField()} << rcv_wscale_);
  if (!(advertised_edge_ < edge_now)) return false;
  // Half of the largest window we can advertise: the buffer, or what the window field can carry
  // without scaling.
  const std::size_t half_window =
      std::min<std::size_t>(buffer_.capacity(), std::size_t{0xffff} << rcv_wscale_) / 2;
  if (edge_now - advertised_edge_ < std::min<std::size_t>(mss, half_window)) return false;
  const std::uint32_t room_left = rcv_nxt_ < advertised_edge_ ? advertised_edge_ - rcv_nxt_ : 0;
  return room_left <= half_window;
}

std::uint16_t Receiver::WindowField() const {
  return static_cast<std::uint16_t>(std::min<std::size_t>(buffer_.window() >> rcv_wscale_, 0xffff));
}

std::uint16_t Receiver::SynWindowField() const {
  return static_cast<std::uint16_t>(std::min<std::size_t>(buffer_.window(), 0xffff));
}

void Receiver::OnAckSent(std::uint32_t window) {
  segments_unacked_ = 0;
  // The edge never moves back (RFC 9293 3.8.6.2.2: a receiver should not shrink the window): the
  // scaled window field rounds down, and the peer may send up to the furthest edge it was shown.
  advertised_edge_ = Max(advertised_edge_, rcv_nxt_ + window);
  dsack_length_ = 0;
}

void Receiver::NoteDuplicate(Seq begin, Seq end) {
  if (!sack_permitted_ || dsack_pending() || !(begin < end)) return;
  dsack_begin_ = begin;
  dsack_length_ = static_cast<std::uint16_t>(std::min<std::uint32_t>(end - begin, 0xffff));
}

void Receiver::NoteRepeatedData(Seq seq, std::uint32_t length) {
  if (!sack_permitted_ || length == 0 || !(seq < rcv_nxt_)) return;
  // Distances down from RCV.NXT: the segment must start no further back than the first byte the
  // peer sent.
  if (rcv_nxt_ - seq > rcv_nxt_ - (irs_ + 1)) return;
  NoteDuplicate(seq, Min(seq + length, rcv_nxt_));
}

std::size_t Receiver::SackBlocks(std::span<wire::TcpOptions::SackBlock> out) const {
  if (!sack_permitted_) return 0;
  std::size_t count = 0;
  if (dsack_pending() && count < out.size()) {
    out[count++] = {dsack_begin_.value(), (dsack_begin_ + dsack_length_).value()};
  }
  if (!buffer_.has_out_of_order()) return count;
  for (const ByteRange& range : buffer_.OutOfOrderRanges(out.size() - count)) {
    out[count++] = {(rcv_nxt_ + static_cast<std::uint32_t>(range.begin)).value(),
                    (rcv_nxt_ + static_cast<std::uint32_t>(range.end)).value()};
  }
  return count;
}

}  // namespace tapstack::tcp
