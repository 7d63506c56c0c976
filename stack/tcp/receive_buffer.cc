#include "stack/tcp/receive_buffer.h"

#include <algorithm>
#include <cassert>

namespace tapstack::tcp {

InsertResult ReceiveBuffer::Insert(std::size_t offset, std::span<const std::uint8_t> data,
                                   RingPool* pool) {
  InsertResult result;
  // RFC 9293 3.10.7.4: keep only the part of the segment inside the receive window.
  const std::size_t window_size = window();
  if (offset >= window_size) {
    result.trimmed = data.size();
    return result;
  }
  const std::size_t length = std::min(data.size(), window_size - offset);
  result.trimmed = data.size() - length;
  if (length == 0) return result;
  const std::size_t end = offset + length;

  if (offset == 0 && !has_out_of_order()) {
    // The common case, in-order data with nothing held beyond it.
    ring_.Reserve(readable_ + length, readable_, capacity_, pool);
    ring_.Write(readable_, data.first(length));
    readable_ += static_cast<std::uint32_t>(length);
    result.advanced = length;
    return result;
  }
  if (offset > 0 && reassembly_ == nullptr) {
    if (max_out_of_order_ranges_ == 0) {
      result.dropped_out_of_order = true;
      return result;
    }
    reassembly_ = std::make_unique<Reassembly>();
  }
  HeldRangeList& out_of_order_ = reassembly_->ranges;

  // The held ranges [first, last) overlap or touch [offset, end) and merge with it.
  const auto first = std::find_if(out_of_order_.begin(), out_of_order_.end(),
                                  [offset](const ByteRange& range) { return range.end >= offset; });
  const auto last = std::find_if(first, out_of_order_.end(),
                                 [end](const ByteRange& range) { return range.begin > end; });
  const bool in_order = offset == 0;
  if (!in_order && first == last && out_of_order_.size() >= max_out_of_order_ranges_) {
    // It would start a new range and there is no room for one.
    result.dropped_out_of_order = true;
    return result;
  }

  // Copy only the bytes that fill gaps between held ranges: held bytes keep their first copy.
  const std::size_t held_extent = out_of_order_extent();
  ring_.Reserve(readable_ + std::max(end, held_extent), readable_ + held_extent, capacity_, pool);
  auto store = [&](std::size_t from, std::size_t to) {
    if (from < to) ring_.Write(readable_ + from, data.subspan(from - offset, to - from));
  };
  std::size_t cursor = offset;
  std::size_t merged_bytes = 0;
  ByteRange merged{offset, end};
  for (auto range = first; range != last; ++range) {
    // RFC 2883 4: the first run of bytes we already held is the duplicate to report.
    const ByteRange overlap{std::max(offset, range->begin), std::min(end, range->end)};
    if (result.duplicate.empty() && !overlap.empty()) result.duplicate = overlap;
    store(cursor, range->begin);
    cursor = std::max(cursor, range->end);
    merged_bytes += range->end - range->begin;
    merged.begin = std::min(merged.begin, range->begin);
    merged.end = std::max(merged.end, range->end);
  }
  store(cursor, end);
  const auto after_merged = out_of_order_.erase(first, last);

  if (!in_order) {
    // The range holding this segment is now the most recently changed (RFC 2018 4), even when
    // the segment brought nothing new.
    out_of_order_.insert(after_merged, HeldRange{merged, ++reassembly_->changes});
    out_of_order_bytes_ += static_cast<std::uint32_t>((merged.end - merged.begin) - merged_bytes);
    return result;
  }

  // The segment starts at RCV.NXT: it and every range it reached become readable, and the ranges
  // left over are renumbered from the new RCV.NXT.
  result.advanced = merged.end;
  readable_ += static_cast<std::uint32_t>(result.advanced);
  out_of_order_bytes_ -= static_cast<std::uint32_t>(merged_bytes);
  for (ByteRange& range : out_of_order_) {
    assert(range.begin > result.advanced);
    range.begin -= result.advanced;
    range.end -= result.advanced;
  }
  ReleaseIfEmpty(pool);  // an emptied range list gives back any heap it grew
  return result;
}

std::size_t ReceiveBuffer::Read(std::span<std::uint8_t> out, RingPool* pool) {
  const std::size_t count = std::min<std::size_t>(out.size(), readable_);
  ring_.Read(0, out.first(count));
  ring_.Consume(count);
  readable_ -= static_cast<std::uint32_t>(count);
  ReleaseIfEmpty(pool);
  return count;
}

ReceiveBuffer::RangeList ReceiveBuffer::OutOfOrderRanges(std::size_t max_ranges) const {
  RangeList ranges;
  if (!has_out_of_order()) return ranges;
  // Picks the most recently changed range not yet taken, max_ranges times: a few passes over at
  // most max_out_of_order_ranges() ranges, and no allocation on the path of every ACK we send.
  std::uint64_t taken_below = ~std::uint64_t{0};  // every range changed at or after it is taken
  while (ranges.size() < max_ranges) {
    const HeldRange* next = nullptr;
    for (const HeldRange& range : reassembly_->ranges) {
      if (range.last_changed < taken_below &&
          (next == nullptr || range.last_changed > next->last_changed)) {
        next = &range;
      }
    }
    if (next == nullptr) break;
    ranges.push_back(static_cast<const ByteRange&>(*next));
    taken_below = next->last_changed;
  }
  return ranges;
}

std::size_t ReceiveBuffer::allocated_bytes() const {
  if (reassembly_ == nullptr) return ring_.allocated_bytes();
  const HeldRangeList& ranges = reassembly_->ranges;
  const std::size_t range_heap =
      ranges.capacity() > kInlineRanges ? ranges.capacity() * sizeof(HeldRange) : 0;
  return ring_.allocated_bytes() + sizeof(Reassembly) + range_heap;
}

void ReceiveBuffer::ReleaseIfEmpty(RingPool* pool) {
  if (has_out_of_order()) return;
  reassembly_.reset();  // gives back the range list, and any heap it grew
  if (readable_ == 0) ring_.Release(pool);
}

}  // namespace tapstack::tcp
