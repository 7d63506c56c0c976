#include "tap/frame_queue.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <iterator>

namespace tapstack::tap {
namespace {

// Big enough that a chunk holds many frames (about a thousand keepalive probes), small enough
// that a quiet link costs little.
constexpr std::size_t kMinChunkBytes = 64 * 1024;

}  // namespace

FrameQueue::FrameQueue(std::size_t max_frame_bytes)
    : chunk_bytes_(std::max(kMinChunkBytes, RecordBytes(max_frame_bytes))) {}

// A record is the header and the frame, padded so that the next header is aligned.
std::size_t FrameQueue::RecordBytes(std::size_t frame_bytes) {
  constexpr std::size_t kAlign = alignof(Header);
  return (sizeof(Header) + frame_bytes + kAlign - 1) / kAlign * kAlign;
}

FrameQueue::Header FrameQueue::HeaderAt(const Chunk& chunk) const {
  Header header;
  std::memcpy(&header, chunk.bytes.get() + chunk.read, sizeof(header));
  return header;
}

FrameQueue::Chunk FrameQueue::NewChunk() const {
  return Chunk{.bytes = std::make_unique_for_overwrite<std::uint8_t[]>(chunk_bytes_)};
}

void FrameQueue::Push(std::span<const std::uint8_t> frame, timers::TimePoint ready) {
  const std::size_t record_bytes = RecordBytes(frame.size());
  assert(record_bytes <= chunk_bytes_);
  if (chunks_.empty()) chunks_.push_back(NewChunk());
  if (chunks_[writing_].write + record_bytes > chunk_bytes_) {
    std::size_t next = (writing_ + 1) % chunks_.size();
    if (next == reading_) {
      // Every chunk holds frames still waiting: the ring doubles, the new chunks going after the
      // writing one. Growing by one chunk would leave a flow that has reached its working depth
      // allocating again whenever its frames straddle one more chunk boundary than before.
      const std::size_t added = chunks_.size();
      std::vector<Chunk> grown;
      grown.reserve(added);
      for (std::size_t i = 0; i < added; ++i) grown.push_back(NewChunk());
      chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(writing_) + 1,
                     std::make_move_iterator(grown.begin()), std::make_move_iterator(grown.end()));
      if (reading_ > writing_) reading_ += added;
      next = writing_ + 1;
    }
    writing_ = next;
    chunks_[writing_].read = 0;
    chunks_[writing_].write = 0;
  }
  Chunk& chunk = chunks_[writing_];
  const Header header{.ready = ready, .length = static_cast<std::uint32_t>(frame.size())};
  std::memcpy(chunk.bytes.get() + chunk.write, &header, sizeof(header));
  if (!frame.empty()) {
    std::memcpy(chunk.bytes.get() + chunk.write + sizeof(header), frame.data(), frame.size());
  }
  chunk.write += record_bytes;
  ++count_;
}

std::span<const std::uint8_t> FrameQueue::front() const {
  const Chunk& chunk = chunks_[reading_];
  return {chunk.bytes.get() + chunk.read + sizeof(Header), HeaderAt(chunk).length};
}

timers::TimePoint FrameQueue::front_ready() const { return HeaderAt(chunks_[reading_]).ready; }

void FrameQueue::Pop() {
  Chunk& chunk = chunks_[reading_];
  chunk.read += RecordBytes(HeaderAt(chunk).length);
  --count_;
  if (count_ == 0) {
    // Empty: start again at the front of this chunk, which is still in the cache.
    chunk.read = 0;
    chunk.write = 0;
    writing_ = reading_;
  } else if (chunk.read == chunk.write) {
    reading_ = (reading_ + 1) % chunks_.size();
  }
}

void FrameQueue::Clear() {
  count_ = 0;
  reading_ = 0;
  writing_ = 0;
  if (!chunks_.empty()) {
    chunks_[0].read = 0;
    chunks_[0].write = 0;
  }
}

}  // namespace tapstack::tap
