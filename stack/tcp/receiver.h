// The receiving half of a connection: the receive sequence space of RFC 9293 3.3.1 (RCV.NXT,
// RCV.WND, IRS), the receive buffer with its reassembly, the acceptability test (3.10.7.4), the
// ACK policy (RFC 1122 4.2.3.2, RFC 5681 4.2) and the window we advertise, with receiver-side
// silly window syndrome avoidance (RFC 9293 3.8.6.2.2, RFC 1122 4.2.3.3).
//
// Like the sender it keeps no timer and sends nothing: it tells the connection whether an ACK is
// due now, may wait for the delayed-ACK timer, or is not needed, and the connection tells it
// (OnAckSent) whenever a segment carrying RCV.NXT and our window went out. Later seams: SACK
// blocks come from buffer().OutOfOrderRanges(); TS.Recent for timestamps sits beside RCV.NXT.
#ifndef TAPSTACK_STACK_TCP_RECEIVER_H_
#define TAPSTACK_STACK_TCP_RECEIVER_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/tcp/receive_buffer.h"
#include "stack/tcp/seq.h"

namespace tapstack::tcp {

// When the ACK for what just arrived should go.
enum class AckTiming { kNotNeeded, kDelayed, kNow };

// What one segment's data did.
struct TextResult {
  std::size_t advanced = 0;  // bytes that became readable in order (RCV.NXT moved by as much)
  std::size_t trimmed = 0;   // bytes beyond the window, cut
  bool dropped_out_of_order = false;
  AckTiming ack = AckTiming::kNotNeeded;
};

// Disjoint out-of-order ranges one connection holds for reassembly; a segment that would need
// more is dropped (counter drop_tcp_out_of_order_full), so a peer sending scattered fragments
// cannot make reassembly bookkeeping grow. Eight is twice what four SACK blocks (RFC 2018 3) can
// describe, enough for the loss patterns a real path produces.
inline constexpr std::size_t kMaxOutOfOrderRanges = 8;

class Receiver {
 public:
  explicit Receiver(std::size_t buffer_capacity);

  // The peer's SYN carried `irs` (RFC 9293 3.10.7.2, 3.10.7.3).
  void Start(Seq irs);
  // Our window shift (RFC 7323 2.2): what we offered when the peer offered too, else 0.
  void set_window_shift(std::uint8_t shift) { rcv_wscale_ = shift; }

  // RFC 9293 3.10.7.4, the four cases of the acceptability test.
  bool Acceptable(Seq seq, std::uint32_t length) const;
  // An RFC 1122 4.2.3.6 keepalive probe: SEQ = RCV.NXT - 1 with zero or one byte.
  bool IsKeepaliveProbe(Seq seq, std::size_t payload_len) const {
    return seq == rcv_nxt_ - 1 && payload_len <= 1;
  }

  // Stores an acceptable segment's data, trimmed so that `seq` is at or after RCV.NXT
  // (RFC 9293 3.10.7.4, seventh), and says when to acknowledge it: at once for out-of-order data
  // and gap fills (RFC 5681 4.2), for every second segment (RFC 1122 4.2.3.2), otherwise within
  // the delayed-ACK timeout.
  TextResult Insert(Seq seq, std::span<const std::uint8_t> payload, RingPool* pool);
  // The peer's FIN occupies `fin_seq` (RFC 9293 3.10.7.4, eighth). True when it is next in
  // sequence: it is consumed (RCV.NXT moves past it) and must be acknowledged at once. A FIN
  // ahead of missing data is remembered and taken by TakeQueuedFin once the gap fills.
  bool OnFin(Seq fin_seq);
  bool TakeQueuedFin();

  // Moves in-order bytes to the application (RFC 9293 3.10.3).
  std::size_t Read(std::span<std::uint8_t> out, RingPool* pool) { return buffer_.Read(out, pool); }
  // After a read: whether to send a window update now. RFC 1122 4.2.3.3 allows one only once the
  // right edge can move by min(MSS, half the largest window) beyond the edge last advertised;
  // like Linux (tcp_cleanup_rbuf) it is sent at once only when the sender has at most half the
  // largest window left to send into, otherwise it rides on the next ACK, so a reader that keeps
  // up does not defeat delayed ACKs.
  bool WindowUpdateDue(std::uint32_t mss) const;

  // The window field of a segment we send (scaled by our shift; a SYN's is never scaled,
  // RFC 7323 2.2).
  std::uint16_t WindowField() const;
  std::uint16_t SynWindowField() const;
  // A segment carrying ACK = RCV.NXT and a window of `window` bytes went out: nothing is left to
  // acknowledge and the right edge the peer knows is RCV.NXT + window.
  void OnAckSent(std::uint32_t window);

  Seq irs() const { return irs_; }
  Seq rcv_nxt() const { return rcv_nxt_; }
  std::uint8_t window_shift() const { return rcv_wscale_; }
  std::size_t window() const { return buffer_.window(); }
  const ReceiveBuffer& buffer() const { return buffer_; }

 private:
  // Hot: what every data segment and every ACK we send reads and writes.
  Seq rcv_nxt_;
  Seq advertised_edge_;  // RCV.NXT + RCV.WND as of the last segment we sent (RFC 9293 3.8.6)
  std::uint8_t segments_unacked_ = 0;  // in-order data segments since our last ACK
  std::uint8_t rcv_wscale_ = 0;        // our shift, applied to windows we advertise
  bool fin_queued_ = false;  // the peer's FIN arrived ahead of missing data, at queued_fin_
  Seq queued_fin_;
  Seq irs_;
  ReceiveBuffer buffer_;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_RECEIVER_H_
