// The receive side's byte store (RFC 9293 3.3.1, 3.10.7.4): data that has arrived in order and
// waits for the application, plus out-of-order data held until the hole before it is filled.
//
// Every offset here is relative to RCV.NXT, so the buffer needs no sequence-number arithmetic: the
// TCB trims a segment's bytes before RCV.NXT (already received) and passes the rest as
// (offset = SEG.SEQ - RCV.NXT, data). The buffer trims what lies beyond the window it advertises.
//
// Memory is bounded and lazy: at most capacity() payload bytes are ever held (in-order plus
// out-of-order), storage is allocated on the first Insert that stores something, grows with the
// data held, and is freed whenever the buffer becomes empty again.
#ifndef TAPSTACK_STACK_TCP_RECEIVE_BUFFER_H_
#define TAPSTACK_STACK_TCP_RECEIVE_BUFFER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "absl/container/inlined_vector.h"
#include "stack/tcp/byte_ring.h"

namespace tapstack::tcp {

// A half-open range [begin, end) of bytes, as offsets from RCV.NXT. For out-of-order data held
// both ends are above 0: the byte at RCV.NXT is by definition missing.
struct ByteRange {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool empty() const { return begin >= end; }
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

// What Insert did with a segment.
struct InsertResult {
  // How many bytes became readable in order: how far RCV.NXT advances. When the segment fills a
  // hole this includes the out-of-order data it joined up with.
  std::size_t advanced = 0;
  // True when out-of-order data was not stored because it would have needed more disjoint ranges
  // than the buffer may hold. The caller still acknowledges RCV.NXT as usual.
  bool dropped_out_of_order = false;
  // Bytes cut off because they lay beyond the receive window.
  std::size_t trimmed = 0;
  // The first run of the segment's bytes that the buffer already held out of order, as offsets
  // from RCV.NXT before the insert; empty when there is none. A D-SACK block (RFC 2883 4) reports
  // it.
  ByteRange duplicate;
};

class ReceiveBuffer {
 public:
  // Ranges kept inline: one SACK option carries at most four blocks (RFC 2018 3).
  static constexpr std::size_t kInlineRanges = 4;
  using RangeList = absl::InlinedVector<ByteRange, kInlineRanges>;
  // The largest window TCP can advertise (RFC 7323 2.3: 2^30 with the largest shift).
  static constexpr std::size_t kMaxCapacity = std::size_t{1} << 30;

  // `capacity` bounds the payload held, in order plus out of order; `max_out_of_order_ranges`
  // bounds how fragmented the out-of-order data may become (0: every out-of-order segment is
  // dropped, as a receiver without reassembly would).
  // Capacities beyond kMaxCapacity are clamped to it.
  ReceiveBuffer(std::size_t capacity, std::size_t max_out_of_order_ranges)
      : capacity_(static_cast<std::uint32_t>(std::min(capacity, kMaxCapacity))),
        max_out_of_order_ranges_(static_cast<std::uint32_t>(max_out_of_order_ranges)) {}

  // Stores `data`, whose first byte sits `offset` bytes after RCV.NXT.
  //   - Bytes beyond the window (offset window() and on) are trimmed and counted.
  //   - Bytes already held are ignored: the copy that arrived first is kept.
  //   - Data with offset > 0 is held out of order unless that would need more than
  //     max_out_of_order_ranges disjoint ranges; then the whole segment is dropped.
  // Returns how far RCV.NXT advances and what was cut or dropped.
  // Storage comes from `pool` when it has a fitting block, and returns to it when the buffer
  // empties (byte_ring.h).
  InsertResult Insert(std::size_t offset, std::span<const std::uint8_t> data,
                      RingPool* pool = nullptr);

  // Moves up to out.size() in-order bytes to `out`, consuming them; returns the count. The window
  // opens by as much.
  std::size_t Read(std::span<std::uint8_t> out, RingPool* pool = nullptr);

  // In-order bytes waiting for the application.
  std::size_t readable() const { return readable_; }
  // What to advertise as RCV.WND: the space after the in-order data. Out-of-order data lies inside
  // this window, so holding it never moves the right edge to the left (RFC 9293 3.8.6: a receiver
  // should not shrink the window).
  std::size_t window() const { return capacity_ - readable_; }
  std::size_t capacity() const { return capacity_; }
  std::size_t max_out_of_order_ranges() const { return max_out_of_order_ranges_; }

  bool has_out_of_order() const { return reassembly_ != nullptr && !reassembly_->ranges.empty(); }
  std::size_t out_of_order_bytes() const { return out_of_order_bytes_; }

  // Up to `max_ranges` ranges of out-of-order data held, for SACK blocks (RFC 2018), most
  // recently changed first: the range holding the latest out-of-order segment stored (or
  // received again) comes first, as RFC 2018 4 asks of the first SACK block, and the others
  // follow in the order they last grew, which repeats the blocks reported most recently first
  // as RFC 2018 4 asks of the rest. A range that grew is a new block to the sender, so "most
  // recently reported first" and "most recently changed first" are the same order.
  RangeList OutOfOrderRanges(std::size_t max_ranges = kInlineRanges) const;

  // Heap bytes held by the buffer (payload storage and reassembly bookkeeping); 0 whenever it is
  // empty.
  std::size_t allocated_bytes() const;
  // The payload storage alone: never more than capacity() once the buffer has grown to it.
  std::size_t payload_storage_bytes() const { return ring_.allocated_bytes(); }

 private:
  // One past the last out-of-order byte held, relative to RCV.NXT; 0 when there is none.
  std::size_t out_of_order_extent() const {
    return has_out_of_order() ? reassembly_->ranges.back().end : 0;
  }
  // Frees all storage once nothing is held.
  void ReleaseIfEmpty(RingPool* pool);

  // A range held and when it last changed: the value of Reassembly::changes after the segment
  // that last grew it (or arrived again inside it). Unique among the ranges held.
  struct HeldRange : ByteRange {
    std::uint64_t last_changed = 0;
  };
  using HeldRangeList = absl::InlinedVector<HeldRange, kInlineRanges>;

  // What only a connection reassembling out-of-order data needs, kept off the connection (one
  // pointer) while there is none: most connections never have any. The SACK ordering lives here
  // for the same reason: it costs the connection nothing.
  struct Reassembly {
    // Disjoint, non-adjacent, ascending ranges of out-of-order data, relative to RCV.NXT.
    HeldRangeList ranges;
    // Out-of-order segments taken so far: the clock that orders the ranges for SACK.
    std::uint64_t changes = 0;
  };

  ByteRing ring_;  // position 0: oldest readable byte; position readable_: RCV.NXT
  std::uint32_t capacity_;
  std::uint32_t max_out_of_order_ranges_;
  std::uint32_t readable_ = 0;
  std::uint32_t out_of_order_bytes_ = 0;
  std::unique_ptr<Reassembly> reassembly_;  // null while no out-of-order data is held
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_RECEIVE_BUFFER_H_
