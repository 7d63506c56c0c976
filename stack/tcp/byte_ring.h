// The storage under SendBuffer and ReceiveBuffer: a ring of bytes that holds no heap memory until
// it is first needed, grows on demand up to a limit, and can be released when its owner is empty.
//
// Positions are offsets from the ring's head, the oldest byte its owner still needs. The ring does
// not know which positions hold data: the owner tells it how many leading bytes are live whenever
// the storage is reallocated, and only reads positions it has written.
#ifndef TAPSTACK_STACK_TCP_BYTE_RING_H_
#define TAPSTACK_STACK_TCP_BYTE_RING_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace tapstack::tcp {

// Ring storage released by one connection's buffer and taken again by the next one that needs
// storage, so that a connection whose buffers drain and refill with every segment (bulk receive,
// request/response) reuses the same few blocks instead of allocating per segment, while an idle
// connection still holds no buffer memory at all. Bounded: beyond `max_blocks` free blocks or
// `max_bytes` in them, released storage goes back to the heap. The default block count covers a
// burst (Stack::IngestBurst takes up to 64 frames, and the application drains what they brought
// only after the burst): a burst of small segments to 64 idle connections then fills 64 buffers
// from the pool and gives them back, with no malloc. One per engine; not thread-safe.
class RingPool {
 public:
  static constexpr std::size_t kDefaultMaxBlocks = 64;
  static constexpr std::size_t kDefaultMaxBytes = std::size_t{4} << 20;
  explicit RingPool(std::size_t max_blocks = kDefaultMaxBlocks,
                    std::size_t max_bytes = kDefaultMaxBytes);

  // A block of at least `needed` and at most `limit` bytes from the free ones, or nullptr.
  std::unique_ptr<std::uint8_t[]> Take(std::size_t needed, std::size_t limit, std::size_t& length);
  // Keeps `storage` (of `length` bytes) for a later Take, or frees it when the pool is full.
  void Give(std::unique_ptr<std::uint8_t[]> storage, std::size_t length);

  std::size_t free_blocks() const { return free_.size(); }
  // Heap bytes held in free blocks.
  std::size_t free_bytes() const { return free_bytes_; }

 private:
  struct Block {
    std::unique_ptr<std::uint8_t[]> storage;
    std::size_t length = 0;
  };
  std::vector<Block> free_;  // capacity reserved up front: Give never allocates
  std::size_t free_bytes_ = 0;
  std::size_t max_blocks_;
  std::size_t max_bytes_;
};

class ByteRing {
 public:
  // The smallest allocation, so that a trickle of small writes does not reallocate every time.
  static constexpr std::size_t kMinimumAllocation = 2048;

  ByteRing() = default;
  ByteRing(ByteRing&&) noexcept = default;
  ByteRing& operator=(ByteRing&&) noexcept = default;
  ByteRing(const ByteRing&) = delete;
  ByteRing& operator=(const ByteRing&) = delete;

  // Heap bytes held; 0 when released.
  std::size_t allocated_bytes() const { return length_; }

  // Makes positions [0, needed) addressable, keeping the contents of positions [0, live). Grows
  // geometrically (doubling, at least kMinimumAllocation) but not beyond `limit`, unless `needed`
  // itself is larger. Requires live <= allocated_bytes(). Empty storage is taken from `pool`
  // when it has a block that fits.
  void Reserve(std::size_t needed, std::size_t live, std::size_t limit, RingPool* pool = nullptr);

  // Reallocates to exactly `length` bytes (releases when 0), keeping the contents of positions
  // [0, live). Requires live <= length and live <= allocated_bytes().
  void Resize(std::size_t length, std::size_t live);

  // Copies `data` to positions [position, position + data.size()), which must be addressable.
  void Write(std::size_t position, std::span<const std::uint8_t> data);

  // Copies positions [position, position + out.size()), which must be addressable, into `out`.
  void Read(std::size_t position, std::span<std::uint8_t> out) const;
  // Positions [position, position + count), which must be addressable, as at most two runs of
  // the storage (the second empty unless the range wraps): for copying them without a bounce.
  std::array<std::span<const std::uint8_t>, 2> Peek(std::size_t position, std::size_t count) const;

  // Moves the head forward by `count` bytes (count <= allocated_bytes()); position `count` becomes
  // position 0.
  void Consume(std::size_t count);

  // Frees the storage, into `pool` when one is given.
  void Release(RingPool* pool = nullptr);

 private:
  // Index in storage_ of `position`.
  std::size_t IndexOf(std::size_t position) const;

  std::unique_ptr<std::uint8_t[]> storage_;
  // 32 bits: a buffer holds at most a TCP window (2^30 bytes), and a connection holds two rings.
  std::uint32_t length_ = 0;  // bytes in storage_
  std::uint32_t head_ = 0;    // index in storage_ of position 0
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_BYTE_RING_H_
