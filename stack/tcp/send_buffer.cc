#include "stack/tcp/send_buffer.h"

#include <algorithm>

namespace tapstack::tcp {

std::size_t SendBuffer::Write(std::span<const std::uint8_t> data, RingPool* pool) {
  const std::size_t accepted = std::min(data.size(), free_space());
  if (accepted == 0) return 0;
  ring_.Reserve(size_ + accepted, size_, capacity_, pool);
  ring_.Write(size_, data.first(accepted));
  size_ += accepted;
  return accepted;
}

void SendBuffer::set_capacity(std::size_t capacity) {
  capacity_ = capacity;
  // Give back storage beyond what the new capacity (or the data still held) needs.
  const std::size_t needed = std::max(capacity_, size_);
  if (ring_.allocated_bytes() > needed) ring_.Resize(needed, size_);
}

std::size_t SendBuffer::Read(std::size_t offset, std::span<std::uint8_t> out) const {
  if (offset >= size_) return 0;
  const std::size_t count = std::min(out.size(), size_ - offset);
  ring_.Read(offset, out.first(count));
  return count;
}

void SendBuffer::Acknowledge(std::size_t bytes, RingPool* pool) {
  const std::size_t dropped = std::min(bytes, size_);
  ring_.Consume(dropped);
  size_ -= dropped;
  if (size_ == 0) ring_.Release(pool);
}

}  // namespace tapstack::tcp
