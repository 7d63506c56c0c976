// The storage under SendBuffer and ReceiveBuffer: a ring of bytes that holds no heap memory until
// it is first needed, grows on demand up to a limit, and can be released when its owner is empty.
//
// Positions are offsets from the ring's head, the oldest byte its owner still needs. The ring does
// not know which positions hold data: the owner tells it how many leading bytes are live whenever
// the storage is reallocated, and only reads positions it has written.
#ifndef TAPSTACK_STACK_TCP_BYTE_RING_H_
#define TAPSTACK_STACK_TCP_BYTE_RING_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace tapstack::tcp {

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
  // itself is larger. Requires live <= allocated_bytes().
  void Reserve(std::size_t needed, std::size_t live, std::size_t limit);

  // Reallocates to exactly `length` bytes (releases when 0), keeping the contents of positions
  // [0, live). Requires live <= length and live <= allocated_bytes().
  void Resize(std::size_t length, std::size_t live);

  // Copies `data` to positions [position, position + data.size()), which must be addressable.
  void Write(std::size_t position, std::span<const std::uint8_t> data);

  // Copies positions [position, position + out.size()), which must be addressable, into `out`.
  void Read(std::size_t position, std::span<std::uint8_t> out) const;

  // Moves the head forward by `count` bytes (count <= allocated_bytes()); position `count` becomes
  // position 0.
  void Consume(std::size_t count);

  // Frees the storage.
  void Release();

 private:
  // Index in storage_ of `position`.
  std::size_t IndexOf(std::size_t position) const;

  std::unique_ptr<std::uint8_t[]> storage_;
  std::size_t length_ = 0;  // bytes in storage_
  std::size_t head_ = 0;    // index in storage_ of position 0
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_BYTE_RING_H_
