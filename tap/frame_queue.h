// A first-in first-out queue of frames, each with the time it becomes ready: one direction of an
// in-memory link (memory_link.h).
//
// Frames are stored back to back, each after a small header, in chunks of contiguous memory that
// are used as a ring, doubled when full and kept once allocated. Pushing and popping walk the
// memory in order, so a deep queue (a million keepalive probes sent in one tick) streams through
// the cache instead of missing it once per frame, and after warm-up a steady flow allocates
// nothing.
#ifndef TAPSTACK_TAP_FRAME_QUEUE_H_
#define TAPSTACK_TAP_FRAME_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "timers/timer_queue.h"

namespace tapstack::tap {

class FrameQueue {
 public:
  // `max_frame_bytes` is the largest frame Push will be given.
  explicit FrameQueue(std::size_t max_frame_bytes);

  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }
  // Chunks allocated so far (they are kept for reuse): how far the queue has grown.
  std::size_t chunk_count() const { return chunks_.size(); }

  // Appends a copy of `frame`, at most max_frame_bytes long.
  void Push(std::span<const std::uint8_t> frame, timers::TimePoint ready);
  // The oldest frame and its ready time; only when !empty().
  std::span<const std::uint8_t> front() const;
  timers::TimePoint front_ready() const;
  void Pop();
  void Clear();

 private:
  struct Header {
    timers::TimePoint ready;
    std::uint32_t length;
  };
  struct Chunk {
    std::unique_ptr<std::uint8_t[]> bytes;
    std::size_t read = 0;   // offset of the oldest record
    std::size_t write = 0;  // offset past the newest record
  };
  static std::size_t RecordBytes(std::size_t frame_bytes);
  Header HeaderAt(const Chunk& chunk) const;
  Chunk NewChunk() const;

  std::size_t chunk_bytes_;
  // A ring of chunks: the frames are in chunks_[reading_] through chunks_[writing_], wrapping.
  std::vector<Chunk> chunks_;
  std::size_t reading_ = 0;
  std::size_t writing_ = 0;
  std::size_t count_ = 0;
};

}  // namespace tapstack::tap

#endif  // TAPSTACK_TAP_FRAME_QUEUE_H_
