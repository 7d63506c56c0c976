// The receiving half of a connection: the receive sequence space of RFC 9293 3.3.1 (RCV.NXT,
// RCV.WND, IRS), the receive buffer with its reassembly, the acceptability test (3.10.7.4), the
// ACK policy (RFC 1122 4.2.3.2, RFC 5681 4.2) and the window we advertise, with receiver-side
// silly window syndrome avoidance (RFC 9293 3.8.6.2.2, RFC 1122 4.2.3.3).
//
// Like the sender it keeps no timer and sends nothing: it tells the connection whether an ACK is
// due now, may wait for the delayed-ACK timer, or is not needed, and the connection tells it
// (OnAckSent) whenever a segment carrying RCV.NXT and our window went out. When both sides
// agreed to SACK (RFC 2018) it also says which SACK blocks that segment carries: a D-SACK block
// for data received twice (RFC 2883), then the out-of-order ranges held. Timestamps (TS.Recent)
// are the connection's (timestamps.h): sending and receiving both read them.
#ifndef TAPSTACK_STACK_TCP_RECEIVER_H_
#define TAPSTACK_STACK_TCP_RECEIVER_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/tcp/receive_buffer.h"
#include "stack/tcp/seq.h"
#include "stack/wire/tcp_options.h"

namespace tapstack::tcp {

// When the ACK for what just arrived should go.
enum class AckTiming { kNotNeeded, kDelayed, kNow };

// What one segment's data did.
struct TextResult {
  std::size_t advanced = 0;  // bytes that became readable in order (RCV.NXT moved by as much)
  std::size_t trimmed = 0;   // bytes beyond the window, cut
  // Out-of-order data that did not fit the receive buffer (counter drop_tcp_out_of_order_full):
  // what reassembly holds is bounded by the buffer's capacity, each range charged its bookkeeping
  // besides its bytes (receive_buffer.h), so a peer scattering tiny fragments cannot make it grow.
  bool dropped_out_of_order = false;
  std::size_t evicted = 0;  // out-of-order bytes given up to make room for this segment
  AckTiming ack = AckTiming::kNotNeeded;
};

class Receiver {
 public:
  explicit Receiver(std::size_t buffer_capacity);

  // The peer's SYN carried `irs` (RFC 9293 3.10.7.2, 3.10.7.3).
  void Start(Seq irs);
  // Our window shift (RFC 7323 2.2): what we offered when the peer offered too, else 0.
  void set_window_shift(std::uint8_t shift) { rcv_wscale_ = shift & 0xf; }
  // Both SYNs carried SACK-permitted (RFC 2018 2): our ACKs carry SACK blocks.
  void set_sack_permitted(bool permitted) { sack_permitted_ = permitted; }

  // RFC 9293 3.10.7.4, the four cases of the acceptability test.
  bool Acceptable(Seq seq, std::uint32_t length) const;
  // An RFC 1122 4.2.3.6 keepalive probe: SEQ = RCV.NXT - 1 with zero or one byte.
  bool IsKeepaliveProbe(Seq seq, std::size_t payload_len) const {
    return seq == rcv_nxt_ - 1 && payload_len <= 1;
  }

  // Stores an acceptable segment's data, trimmed so that `seq` is at or after RCV.NXT
  // (RFC 9293 3.10.7.4, seventh), and says when to acknowledge it: at once for out-of-order data,
  // gap fills (RFC 5681 4.2) and data we already held, for every second segment (RFC 1122
  // 4.2.3.2), otherwise within the delayed-ACK timeout. With SACK, bytes already held out of
  // order are noted for a D-SACK block (NoteDuplicate). A segment longer than `mss` (the largest
  // the peer may put in one packet: what we advertised) is a super-segment that TSO or GRO made of
  // several, and counts as the ceil(length / mss) segments it stands for, as Linux's receiver
  // counts a GRO packet by its bytes: one of two or more is ACKed at once.
  TextResult Insert(Seq seq, std::span<const std::uint8_t> payload, RingPool* pool,
                    std::uint32_t mss);

  // Receive-buffer autotuning (ConnectionOptions::receive_buffer_max), after Linux's; called after
  // the application read. When in-order data reached the furthest right edge we advertised, short
  // of less than a segment, since the last such call (the window, not the peer, stopped the
  // transfer), and this read left at most half the buffer unread (the application keeps up), the
  // buffer doubles, up to `limit` and to what our window scale can advertise (RFC 7323 2.3). The
  // first read after the window filled decides, so an application that reads a little at a time
  // keeps the buffer it has. The edge only moves right (RFC 9293 3.8.6.2.2). Returns whether the
  // buffer grew.
  bool GrowIfWindowLimited(std::size_t limit);

  // RFC 2883 4: the peer sent [begin, end) again, data we already have (below RCV.NXT or held
  // out of order). With SACK the next ACK reports it once, in its first block. The first
  // duplicate noted since the last ACK is the one reported: every duplicate is acknowledged at
  // once, so there is no other in practice. A range longer than a segment can be is cut to
  // 65535 bytes.
  void NoteDuplicate(Seq begin, Seq end);
  // The same for `length` bytes of a segment at `seq` that lie below RCV.NXT: those of them the
  // peer had sent before, that is from IRS + 1 on (a segment from before the connection, or one
  // that only looks old because it is far out of the window, duplicates nothing).
  void NoteRepeatedData(Seq seq, std::uint32_t length);
  bool dsack_pending() const { return dsack_length_ != 0; }

  // The SACK blocks of the next ACK, at most out.size() (RFC 2018 3: at most four fit in the
  // options; fewer beside other options): the pending D-SACK block first (RFC 2883 4), then the
  // out-of-order ranges held, the one holding the latest segment first and the rest most recently
  // changed first (RFC 2018 4). Returns how many it wrote; none without SACK.
  std::size_t SackBlocks(std::span<wire::TcpOptions::SackBlock> out) const;
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
  // acknowledge, the right edge the peer knows is at least RCV.NXT + window, and a D-SACK block
  // it carried is not reported again (RFC 2883 4: each duplicate is reported once).
  void OnAckSent(std::uint32_t window);

  Seq irs() const { return irs_; }
  Seq rcv_nxt() const { return rcv_nxt_; }
  std::uint8_t window_shift() const { return rcv_wscale_; }
  bool sack_permitted() const { return sack_permitted_; }
  std::size_t window() const { return buffer_.window(); }
  // RCV.WND of RFC 9293 3.3.1: from RCV.NXT to the furthest right edge we advertised. The
  // acceptability test and the trimming of data use it, not the buffer's room.
  std::uint32_t receive_window() const {
    return rcv_nxt_ < advertised_edge_ ? advertised_edge_ - rcv_nxt_ : 0;
  }
  const ReceiveBuffer& buffer() const { return buffer_; }

 private:
  // Hot: what every data segment and every ACK we send reads and writes.
  Seq rcv_nxt_;
  // RCV.NXT + RCV.WND: the furthest right edge a segment we sent advertised (RFC 9293 3.8.6).
  Seq advertised_edge_;
  std::uint8_t segments_unacked_ = 0;  // in-order data segments since our last ACK
  // Bit-fields, so that the SACK state fits in what was padding and the receiver (and so the
  // connection) stays the same size (docs/architecture.md).
  std::uint8_t rcv_wscale_ : 4 = 0;  // our shift (at most 14), applied to windows we advertise
  std::uint8_t fin_queued_ : 1 = 0;  // the peer's FIN arrived ahead of missing data, at queued_fin_
  std::uint8_t sack_permitted_ : 1 = 0;  // both SYNs offered SACK (RFC 2018 2)
  // In-order data reached the advertised edge since the last GrowIfWindowLimited.
  std::uint8_t window_filled_ : 1 = 0;
  // The duplicate to report in the next ACK's D-SACK block (RFC 2883): [dsack_begin_,
  // dsack_begin_ + dsack_length_), none while the length is 0. One segment's worth at most.
  std::uint16_t dsack_length_ = 0;
  Seq queued_fin_;
  Seq irs_;
  Seq dsack_begin_;
  ReceiveBuffer buffer_;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_RECEIVER_H_
