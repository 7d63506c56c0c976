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
  RangeList& out_of_order_ = reassembly_->ranges;
  std::optional<std::size_t>& latest_out_of_order_ = reassembly_->latest;

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
    store(cursor, range->begin);
    cursor = std::max(cursor, range->end);
    merged_bytes += range->end - range->begin;
    merged.begin = std::min(merged.begin, range->begin);
    merged.end = std::max(merged.end, range->end);
  }
  store(cursor, end);
  const auto after_merged = out_of_order_.erase(first, last);

  if (!in_order) {
    out_of_order_.insert(after_merged, merged);
    out_of_order_bytes_ += static_cast<std::uint32_t>((merged.end - merged.begin) - merged_bytes);
    latest_out_of_order_ = offset;
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
  if (latest_out_of_order_.has_value()) {
    if (*latest_out_of_order_ < result.advanced) {
      latest_out_of_order_.reset();
    } else {
      *latest_out_of_order_ -= result.advanced;
    }
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
  const RangeList& out_of_order_ = reassembly_->ranges;
  const std::optional<std::size_t>& latest_out_of_order_ = reassembly_->latest;
  const ByteRange* latest = nullptr;
  if (latest_out_of_order_.has_value()) {
    for (const ByteRange& range : out_of_order_) {
      if (range.begin <= *latest_out_of_order_ && *latest_out_of_order_ < range.end) {
        latest = &range;
        break;
      }
    }
  }
  if (latest != nullptr && ranges.size() < max_ranges) ranges.push_back(*latest);
  for (const ByteRange& range : out_of_order_) {
    if (ranges.size() >= max_ranges) break;
    if (&range != latest) ranges.push_back(range);
  }
  return ranges;
}

std::size_t ReceiveBuffer::allocated_bytes() const {
  if (reassembly_ == nullptr) return ring_.allocated_bytes();
  const RangeList& ranges = reassembly_->ranges;
  const std::size_t range_heap =
      ranges.capacity() > kInlineRanges ? ranges.capacity() * sizeof(ByteRange) : 0;
  return ring_.allocated_bytes() + sizeof(Reassembly) + range_heap;
}

void ReceiveBuffer::ReleaseIfEmpty(RingPool* pool) {
  if (has_out_of_order()) return;
  reassembly_.reset();  // gives back the range list, and any heap it grew
  if (readable_ == 0) ring_.Release(pool);
}

}  // namespace tapstack::tcp
