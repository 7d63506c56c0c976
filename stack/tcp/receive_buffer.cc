#include "stack/tcp/receive_buffer.h"

#include <algorithm>
#include <cassert>
#include <iterator>

namespace tapstack::tcp {

void ReceiveBuffer::Reassembly::MarkRecent(std::uint64_t begin) {
  std::size_t slot = 0;
  while (slot < recent_count && recent[slot] != begin) ++slot;
  if (slot == recent_count) {
    // Not listed: it takes a new slot, or the oldest one's when all are taken.
    if (recent_count < kRecentRanges) ++recent_count;
    slot = recent_count - 1u;
  }
  for (; slot > 0; --slot) recent[slot] = recent[slot - 1];
  recent[0] = begin;
}

void ReceiveBuffer::Reassembly::ForgetRecent(std::uint64_t from, std::uint64_t to) {
  std::uint8_t kept = 0;
  for (std::size_t slot = 0; slot < recent_count; ++slot) {
    if (recent[slot] < from || recent[slot] >= to) recent[kept++] = recent[slot];
  }
  recent_count = kept;
}

namespace {

// The held ranges that overlap or touch the stream positions [begin, end), and so merge with
// them: [first, last) in the map's order.
template <typename Map>
std::pair<typename Map::iterator, typename Map::iterator> RangesTouching(Map& ranges,
                                                                         std::uint64_t begin,
                                                                         std::uint64_t end) {
  auto first = ranges.upper_bound(begin);  // the first range starting after `begin`
  if (first != ranges.begin() && std::prev(first)->second >= begin) --first;
  return {first, ranges.upper_bound(end)};
}

}  // namespace

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
  const bool in_order = offset == 0;

  // RFC 9293 3.10.7.4: out-of-order data may be held for later processing, within what the
  // buffer may hold. First what storing it would cost: the bytes it adds, plus the overhead of
  // the range it starts (out of order), less that of the ranges it joins into one.
  const std::uint64_t base = has_out_of_order() ? reassembly_->rcv_nxt : 0;
  const std::uint64_t segment_begin = base + offset;
  const std::uint64_t segment_end = base + end;
  std::size_t new_bytes = length;
  std::size_t touched_ranges = 0;
  if (has_out_of_order()) {
    auto [first, last] = RangesTouching(reassembly_->ranges, segment_begin, segment_end);
    for (auto range = first; range != last; ++range, ++touched_ranges) {
      const std::uint64_t overlap_begin = std::max(segment_begin, range->first);
      const std::uint64_t overlap_end = std::min(segment_end, range->second);
      if (overlap_begin < overlap_end) new_bytes -= overlap_end - overlap_begin;
    }
  }
  auto charge_after = [&] {
    return charged_bytes() + new_bytes + (in_order ? 0 : kRangeOverhead) -
           touched_ranges * kRangeOverhead;
  };
  if (charge_after() > capacity_ && has_out_of_order()) {
    // Make room by giving up what lies furthest from RCV.NXT: only ranges wholly beyond the
    // segment, so the segment and what it touches stay as measured.
    result.evicted = EvictFromRight(segment_end + 1, charge_after() - capacity_);
  }
  if (charge_after() > capacity_) {
    // Only out-of-order data can get here: in-order data fits once every range beyond it is
    // gone, since it lies inside the window.
    assert(!in_order);
    result.dropped_out_of_order = true;
    ReleaseIfEmpty(pool);  // eviction may have emptied the range map
    return result;
  }
  if (reassembly_ == nullptr) reassembly_ = std::make_unique<Reassembly>();
  Reassembly& reassembly = *reassembly_;
  RangeMap& ranges = reassembly.ranges;
  const auto [first, last] = RangesTouching(ranges, segment_begin, segment_end);

  // Copy only the bytes that fill gaps between held ranges: held bytes keep their first copy.
  const std::size_t held_extent = out_of_order_extent();
  ring_.Reserve(readable_ + std::max(end, held_extent), readable_ + held_extent, capacity_, pool);
  auto store = [&](std::uint64_t from, std::uint64_t to) {
    if (from < to) {
      ring_.Write(readable_ + (from - base), data.subspan(from - segment_begin, to - from));
    }
  };
  std::uint64_t cursor = segment_begin;
  std::size_t merged_bytes = 0;
  std::uint64_t merged_begin = segment_begin;
  std::uint64_t merged_end = segment_end;
  for (auto range = first; range != last; ++range) {
    // RFC 2883 4: the first run of bytes we already held is the duplicate to report.
    const std::uint64_t overlap_begin = std::max(segment_begin, range->first);
    const std::uint64_t overlap_end = std::min(segment_end, range->second);
    if (result.duplicate.empty() && overlap_begin < overlap_end) {
      result.duplicate = {overlap_begin - base, overlap_end - base};
    }
    store(cursor, range->first);
    cursor = std::max(cursor, range->second);
    merged_bytes += range->second - range->first;
    merged_begin = std::min(merged_begin, range->first);
    merged_end = std::max(merged_end, range->second);
  }
  store(cursor, segment_end);

  if (!in_order) {
    if (first != last && first->first == merged_begin) {
      // The first range touched keeps its key and grows over the others.
      first->second = merged_end;
      ranges.erase(std::next(first), last);
    } else {
      ranges.emplace_hint(ranges.erase(first, last), merged_begin, merged_end);
    }
    // The range holding this segment is now the most recently changed (RFC 2018 4), even when
    // the segment brought nothing new; the ranges it swallowed are gone.
    reassembly.ForgetRecent(merged_begin, merged_end + 1);
    reassembly.MarkRecent(merged_begin);
    out_of_order_bytes_ += static_cast<std::uint32_t>((merged_end - merged_begin) - merged_bytes);
    return result;
  }

  // The segment starts at RCV.NXT: it and every range it reached become readable. The ranges
  // left keep their keys (stream positions), so nothing is renumbered.
  ranges.erase(first, last);
  result.advanced = merged_end - base;
  readable_ += static_cast<std::uint32_t>(result.advanced);
  out_of_order_bytes_ -= static_cast<std::uint32_t>(merged_bytes);
  reassembly.rcv_nxt = merged_end;
  reassembly.ForgetRecent(base, merged_end + 1);
  assert(ranges.empty() || ranges.begin()->first > reassembly.rcv_nxt);
  ReleaseIfEmpty(pool);  // an emptied range map gives back its nodes
  return result;
}

std::size_t ReceiveBuffer::EvictFromRight(std::uint64_t keep_below, std::size_t room_needed) {
  RangeMap& ranges = reassembly_->ranges;
  std::size_t freed = 0;
  std::size_t evicted = 0;
  while (freed < room_needed && !ranges.empty()) {
    const auto highest = std::prev(ranges.end());
    if (highest->first < keep_below) break;
    const std::size_t bytes = highest->second - highest->first;
    freed += bytes + kRangeOverhead;
    evicted += bytes;
    out_of_order_bytes_ -= static_cast<std::uint32_t>(bytes);
    reassembly_->ForgetRecent(highest->first, highest->first + 1);
    ranges.erase(highest);
  }
  return evicted;
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
  RangeList list;
  if (!has_out_of_order()) return list;
  const Reassembly& reassembly = *reassembly_;
  const std::uint64_t base = reassembly.rcv_nxt;
  auto add = [&](std::uint64_t begin, std::uint64_t end) {
    list.push_back(ByteRange{begin - base, end - base});
  };
  // The most recently changed ranges, in the order they changed (RFC 2018 4)...
  const auto recent = std::span(reassembly.recent).first(reassembly.recent_count);
  for (std::uint64_t begin : recent) {
    if (list.size() == max_ranges) return list;
    const auto range = reassembly.ranges.find(begin);
    assert(range != reassembly.ranges.end());
    add(range->first, range->second);
  }
  // ...then the others, all older, nearest RCV.NXT first. At most kRecentRanges are skipped.
  for (auto range = reassembly.ranges.begin();
       range != reassembly.ranges.end() && list.size() < max_ranges; ++range) {
    if (std::find(recent.begin(), recent.end(), range->first) == recent.end()) {
      add(range->first, range->second);
    }
  }
  return list;
}

std::size_t ReceiveBuffer::allocated_bytes() const {
  if (reassembly_ == nullptr) return ring_.allocated_bytes();
  return ring_.allocated_bytes() + sizeof(Reassembly) + reassembly_->map_bytes;
}

void ReceiveBuffer::ReleaseIfEmpty(RingPool* pool) {
  if (reassembly_ != nullptr && reassembly_->ranges.empty()) reassembly_.reset();
  if (reassembly_ == nullptr && readable_ == 0) ring_.Release(pool);
}

}  // namespace tapstack::tcp
