#include "stack/tcp/byte_ring.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

namespace tapstack::tcp {

RingPool::RingPool(std::size_t max_blocks, std::size_t max_bytes)
    : max_blocks_(max_blocks), max_bytes_(max_bytes) {
  free_.reserve(max_blocks_);
}

std::unique_ptr<std::uint8_t[]> RingPool::Take(std::size_t needed, std::size_t limit,
                                               std::size_t& length) {
  for (std::size_t i = 0; i < free_.size(); ++i) {
    if (free_[i].length < needed || free_[i].length > std::max(needed, limit)) continue;
    std::unique_ptr<std::uint8_t[]> storage = std::move(free_[i].storage);
    length = free_[i].length;
    free_bytes_ -= length;
    free_[i] = std::move(free_.back());
    free_.pop_back();
    return storage;
  }
  return nullptr;
}

void RingPool::Give(std::unique_ptr<std::uint8_t[]> storage, std::size_t length) {
  if (free_.size() >= max_blocks_ || free_bytes_ + length > max_bytes_) return;  // freed
  free_bytes_ += length;
  free_.push_back(Block{std::move(storage), length});
}

void ByteRing::Reserve(std::size_t needed, std::size_t live, std::size_t limit, RingPool* pool) {
  if (needed <= length_) return;
  if (length_ == 0 && pool != nullptr) {
    std::size_t length = 0;
    if (auto storage = pool->Take(needed, limit, length)) {
      storage_ = std::move(storage);
      length_ = static_cast<std::uint32_t>(length);
      head_ = 0;
      return;
    }
  }
  const std::size_t doubled = length_ > limit / 2 ? limit : 2 * length_;
  const std::size_t preferred = std::min(std::max(doubled, kMinimumAllocation), limit);
  Resize(std::max(needed, preferred), live);
}

void ByteRing::Resize(std::size_t length, std::size_t live) {
  assert(live <= length && live <= length_);
  if (length == 0) {
    Release();
    return;
  }
  auto storage = std::make_unique_for_overwrite<std::uint8_t[]>(length);
  Read(0, std::span<std::uint8_t>(storage.get(), live));
  storage_ = std::move(storage);
  length_ = static_cast<std::uint32_t>(length);
  head_ = 0;
}

void ByteRing::Write(std::size_t position, std::span<const std::uint8_t> data) {
  if (data.empty()) return;
  assert(position + data.size() <= length_);
  // The bytes go to at most two runs: up to the end of the storage, then from its start.
  const std::size_t index = IndexOf(position);
  const std::size_t first_run = std::min(data.size(), length_ - index);
  std::memcpy(storage_.get() + index, data.data(), first_run);
  std::memcpy(storage_.get(), data.data() + first_run, data.size() - first_run);
}

void ByteRing::Read(std::size_t position, std::span<std::uint8_t> out) const {
  if (out.empty()) return;
  assert(position + out.size() <= length_);
  const std::size_t index = IndexOf(position);
  const std::size_t first_run = std::min(out.size(), length_ - index);
  std::memcpy(out.data(), storage_.get() + index, first_run);
  std::memcpy(out.data() + first_run, storage_.get(), out.size() - first_run);
}

std::array<std::span<const std::uint8_t>, 2> ByteRing::Peek(std::size_t position,
                                                            std::size_t count) const {
  if (count == 0) return {};
  assert(position + count <= length_);
  const std::size_t index = IndexOf(position);
  const std::size_t first_run = std::min<std::size_t>(count, length_ - index);
  return {std::span<const std::uint8_t>(storage_.get() + index, first_run),
          std::span<const std::uint8_t>(storage_.get(), count - first_run)};
}

void ByteRing::Consume(std::size_t count) {
  assert(count <= length_);
  if (length_ == 0) return;
  head_ = static_cast<std::uint32_t>(IndexOf(count));
}

void ByteRing::Release(RingPool* pool) {
  if (pool != nullptr && storage_ != nullptr) {
    pool->Give(std::move(storage_), length_);
  }
  storage_.reset();
  length_ = 0;
  head_ = 0;
}

std::size_t ByteRing::IndexOf(std::size_t position) const {
  // position <= length_ and head_ < length_, so this neither overflows nor needs a division.
  const std::size_t index = head_ + position;
  return index >= length_ ? index - length_ : index;
}

}  // namespace tapstack::tcp
