// The receive side's byte store (RFC 9293 3.3.1, 3.10.7.4): data that has arrived in order and
// waits for the application, plus out-of-order data held until the hole before it is filled.
//
// Every offset here is relative to RCV.NXT, so the buffer needs no sequence-number arithmetic: the
// TCB trims a segment's bytes before RCV.NXT (already received) and passes the rest as
// (offset = SEG.SEQ - RCV.NXT, data). The buffer trims what lies beyond the window it advertises.
//
// Memory is bounded and lazy. What the buffer holds is charged against capacity(): the in-order
// bytes, the out-of-order bytes, and kRangeOverhead for each disjoint out-of-order range, the
// price of its bookkeeping (as Linux charges an skb's truesize, not its payload, to the receive
// buffer). The charge never exceeds capacity(), so a peer that scatters tiny segments with holes
// between them holds at most capacity() / (1 + kRangeOverhead) ranges, however it orders them,
// and the bookkeeping stays a fraction of capacity(). Storage is allocated on the first Insert
// that stores something, grows with the data held, and is freed whenever the buffer becomes
// empty again.
#ifndef TAPSTACK_STACK_TCP_RECEIVE_BUFFER_H_
#define TAPSTACK_STACK_TCP_RECEIVE_BUFFER_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <utility>

#include "absl/container/btree_map.h"
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
  // True when out-of-order data was not stored because it did not fit: holding it, with the
  // overhead of the range it would add, would have charged more than the capacity even after
  // evicting the ranges beyond it. The caller still acknowledges RCV.NXT as usual.
  bool dropped_out_of_order = false;
  // Out-of-order bytes held before this segment and given up to make room for it: whole ranges
  // beyond it, the furthest first (RFC 2018 8 allows a receiver to discard data it reported in
  // SACK blocks; the sender must be ready to resend it).
  std::size_t evicted = 0;
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
  // What one out-of-order range costs against the capacity besides its payload: its entry in the
  // ordered map of ranges (16 bytes) in nodes that are at worst about half full, plus the inner
  // nodes above them, rounded up (measured: 18 to 22 bytes a range with a thousand held). A hole of
  // at least this many bytes before every range pays for it, so losing whole segments never reaches
  // the limit; only holes smaller than this do.
  static constexpr std::size_t kRangeOverhead = 64;

  // `capacity` bounds what is held: in-order bytes, out-of-order bytes and kRangeOverhead per
  // out-of-order range. Capacities beyond kMaxCapacity are clamped to it.
  explicit ReceiveBuffer(std::size_t capacity)
      : capacity_(static_cast<std::uint32_t>(std::min(capacity, kMaxCapacity))) {}

  // Stores `data`, whose first byte sits `offset` bytes after RCV.NXT.
  //   - Bytes beyond the window (offset window() and on) are trimmed and counted.
  //   - Bytes already held are ignored: the copy that arrived first is kept.
  //   - Data with offset > 0 is held out of order (RFC 9293 3.10.7.4) when the charge after
  //     storing it stays within capacity(). When it would not, the ranges that lie wholly beyond
  //     the segment are evicted, the furthest first, until it fits: data closer to RCV.NXT is
  //     worth more, since the application needs it sooner. If it still does not fit the whole
  //     segment is dropped.
  //   - Data at offset 0 is always stored (it lies inside the window, which the in-order bytes
  //     never exceed); when what it joins up with leaves the charge above capacity(), ranges are
  //     evicted from the right until it fits.
  // Each segment costs O(log n) in the number n of ranges held, plus a step for every range it
  // touches or evicts. A range merged or evicted is gone, so those steps are paid for by the
  // segments that made the ranges; a segment that touches ranges and is then dropped walked at
  // most one per two of its bytes, no more than copying it would cost. A peer cannot make a
  // segment walk the ranges it scattered elsewhere.
  // Returns how far RCV.NXT advances and what was cut, dropped or evicted.
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
  // The overhead of the ranges is charged against capacity() but not taken from the window:
  // taking it would move the right edge we advertised to the left whenever a range is added
  // (RFC 9293 3.8.6). It only limits what is held; a segment that does not fit is dropped and
  // the peer sends it again.
  std::size_t capacity() const { return capacity_; }
  // Raises capacity() to `capacity` (clamped to kMaxCapacity); a smaller value changes nothing, so
  // the window never shrinks. Storage still grows only with the data held.
  void Grow(std::size_t capacity) {
    capacity_ = std::max(capacity_, static_cast<std::uint32_t>(std::min(capacity, kMaxCapacity)));
  }

  // The reassembly bookkeeping exists exactly while out-of-order data is held.
  bool has_out_of_order() const { return reassembly_ != nullptr; }
  std::size_t out_of_order_bytes() const { return out_of_order_bytes_; }
  // Disjoint out-of-order ranges held.
  std::size_t out_of_order_ranges() const {
    return reassembly_ == nullptr ? 0 : reassembly_->ranges.size();
  }
  // What is charged against capacity(): in-order bytes, out-of-order bytes and kRangeOverhead per
  // range. Never more than capacity().
  std::size_t charged_bytes() const {
    return readable_ + out_of_order_bytes_ + out_of_order_ranges() * kRangeOverhead;
  }

  // Up to `max_ranges` ranges of out-of-order data held, for SACK blocks (RFC 2018), most
  // recently changed first: the range holding the latest out-of-order segment stored (or
  // received again) comes first, as RFC 2018 4 asks of the first SACK block, and the others
  // follow in the order they last grew, which repeats the blocks reported most recently first
  // as RFC 2018 4 asks of the rest. A range that grew is a new block to the sender, so "most
  // recently reported first" and "most recently changed first" are the same order.
  // The order is kept for the kRecentRanges most recently changed ranges, all that one SACK
  // option can carry; when fewer of those are left (merged, delivered or evicted) and more ranges
  // are held, the others follow in ascending order, the holes nearest RCV.NXT first. Costs
  // O(max_ranges + log n), whatever the number n of ranges held.
  RangeList OutOfOrderRanges(std::size_t max_ranges = kInlineRanges) const;

  // Heap bytes held by the buffer (payload storage and reassembly bookkeeping, counted as it is
  // allocated); 0 whenever it is empty.
  std::size_t allocated_bytes() const;
  // The payload storage alone: never more than capacity() once the buffer has grown to it.
  std::size_t payload_storage_bytes() const { return ring_.allocated_bytes(); }

 private:
  // How many recently changed ranges keep their order for SACK: the blocks one option carries
  // (RFC 2018 3).
  static constexpr std::size_t kRecentRanges = 4;

  // Counts the bytes the ordered map allocates, for allocated_bytes().
  template <typename T>
  struct CountingAllocator {
    using value_type = T;
    std::size_t* allocated;
    explicit CountingAllocator(std::size_t* counter) : allocated(counter) {}
    template <typename U>
    CountingAllocator(const CountingAllocator<U>& other) : allocated(other.allocated) {}
    T* allocate(std::size_t count) {
      *allocated += count * sizeof(T);
      return std::allocator<T>().allocate(count);
    }
    void deallocate(T* pointer, std::size_t count) {
      *allocated -= count * sizeof(T);
      std::allocator<T>().deallocate(pointer, count);
    }
    friend bool operator==(const CountingAllocator& a, const CountingAllocator& b) {
      return a.allocated == b.allocated;
    }
  };

  // Out-of-order ranges by their first byte: begin -> end, as stream positions (below).
  using RangeMap =
      absl::btree_map<std::uint64_t, std::uint64_t, std::less<std::uint64_t>,
                      CountingAllocator<std::pair<const std::uint64_t, std::uint64_t>>>;

  // What only a connection reassembling out-of-order data needs, kept off the connection (one
  // pointer) while there is none: most connections never have any. The SACK ordering lives here
  // for the same reason: it costs the connection nothing.
  //
  // Positions are counted in bytes of the stream since this bookkeeping was created, not from
  // RCV.NXT, so that RCV.NXT moving forward renumbers nothing: a range's key stays put until it
  // is merged, delivered or evicted.
  struct Reassembly {
    Reassembly() : ranges(RangeMap::allocator_type(&map_bytes)) {}
    // Stream position of RCV.NXT.
    std::uint64_t rcv_nxt = 0;
    // Heap bytes the map holds; declared before it, so that it outlives it.
    std::size_t map_bytes = 0;
    // Disjoint, non-adjacent ranges of out-of-order data, all beyond rcv_nxt; never empty.
    RangeMap ranges;
    // The first bytes of the most recently changed ranges, most recent first: the first
    // recent_count entries are live, each the key of a range held, no two the same. Every range
    // not listed changed before every range listed.
    std::array<std::uint64_t, kRecentRanges> recent{};
    std::uint8_t recent_count = 0;

    // The range starting at `begin` is the most recently changed.
    void MarkRecent(std::uint64_t begin);
    // Forgets listed ranges whose first byte lies in [from, to).
    void ForgetRecent(std::uint64_t from, std::uint64_t to);
  };

  // One past the last out-of-order byte held, relative to RCV.NXT; 0 when there is none.
  std::size_t out_of_order_extent() const {
    if (reassembly_ == nullptr || reassembly_->ranges.empty()) return 0;
    return reassembly_->ranges.rbegin()->second - reassembly_->rcv_nxt;
  }
  // Evicts whole ranges from the right, each starting at or after stream position `keep_below`,
  // until the charge plus `extra` fits the capacity or no such range is left. Returns the bytes
  // evicted.
  std::size_t EvictFromRight(std::uint64_t keep_below, std::size_t extra);
  // Frees all storage once nothing is held.
  void ReleaseIfEmpty(RingPool* pool);

  ByteRing ring_;  // position 0: oldest readable byte; position readable_: RCV.NXT
  std::uint32_t capacity_;
  std::uint32_t readable_ = 0;
  std::uint32_t out_of_order_bytes_ = 0;
  std::unique_ptr<Reassembly> reassembly_;  // null while no out-of-order data is held
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_RECEIVE_BUFFER_H_
