// The send side's byte store (RFC 9293 3.3.1): everything the application has written that the
// peer has not yet acknowledged, from SND.UNA onwards, i.e. data sent but unacknowledged followed
// by data not yet sent. The TCB decides what to send; this class only keeps the bytes.
//
// Memory: an idle connection must cost little, so the buffer holds no heap memory while it is
// empty. Storage is allocated on the first Write, grows with the data held up to the capacity, and
// is freed as soon as Acknowledge empties the buffer.
#ifndef TAPSTACK_STACK_TCP_SEND_BUFFER_H_
#define TAPSTACK_STACK_TCP_SEND_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/tcp/byte_ring.h"

namespace tapstack::tcp {

class SendBuffer {
 public:
  explicit SendBuffer(std::size_t capacity) : capacity_(capacity) {}

  // Appends as much of `data` as fits in free_space(); returns the number of bytes accepted (a
  // short count is the application's cue that the buffer is full, as with a non-blocking send).
  // Storage comes from `pool` when it has a fitting block (byte_ring.h).
  std::size_t Write(std::span<const std::uint8_t> data, RingPool* pool = nullptr);

  // Bytes held: sent but unacknowledged, plus not yet sent. Offset 0 is the byte at SND.UNA.
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t free_space() const { return size_ < capacity_ ? capacity_ - size_ : 0; }
  std::size_t capacity() const { return capacity_; }

  // Changes the limit on bytes held (as SO_SNDBUF does). Data already held is never discarded:
  // when it exceeds the new capacity, free_space() stays 0 until acknowledgments drain it.
  void set_capacity(std::size_t capacity);

  // Copies bytes starting `offset` bytes after the oldest byte held (SND.UNA) into `out`, for a
  // first transmission or a retransmission. Returns the number of bytes copied: fewer than
  // out.size() when the buffer ends first, 0 when offset >= size().
  std::size_t Read(std::size_t offset, std::span<std::uint8_t> out) const;

  // The `count` bytes at `offset` from SND.UNA, as at most two runs of the storage; requires
  // offset + count <= size(). For building a segment without copying the payload first.
  std::array<std::span<const std::uint8_t>, 2> Peek(std::size_t offset, std::size_t count) const {
    return ring_.Peek(offset, count);
  }

  // Drops the `bytes` oldest bytes, which the peer has acknowledged (SND.UNA advanced over them).
  // The caller passes data bytes only: a SYN or FIN also occupies sequence space but never sat in
  // this buffer. More than size() drops everything. Frees the storage (into `pool`, when given)
  // when the buffer empties.
  void Acknowledge(std::size_t bytes, RingPool* pool = nullptr);

  // Heap bytes held by the buffer; 0 whenever it is empty.
  std::size_t allocated_bytes() const { return ring_.allocated_bytes(); }

 private:
  // size_ first: a segment that acknowledges nothing new still reads it (the engine's buffer
  // accounting), and this way it shares a line with the sender's hot fields (tcb.h).
  std::size_t size_ = 0;
  std::size_t capacity_;
  ByteRing ring_;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_SEND_BUFFER_H_
