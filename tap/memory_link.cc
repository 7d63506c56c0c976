#include "tap/memory_link.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace tapstack::tap {
namespace {

// One direction's frames in flight: a ring of slots, each holding one frame's bytes in a vector
// that keeps its capacity. Slots are added lazily, up to the queue limit, and then reused, so a
// steady flow of frames allocates nothing once the ring has grown to its working size and each
// slot has held a full-size frame. A slot is not given a full-size frame up front: it grows to a
// full frame only when it first carries a frame larger than kSmallFrame, so a burst of 60-byte
// keepalive probes through a deep queue does not cost a full frame of memory per slot.
class FrameRing {
 public:
  FrameRing(std::size_t limit, std::size_t full_frame) : limit_(limit), full_frame_(full_frame) {}

  bool empty() const { return count_ == 0; }
  bool full() const { return count_ >= limit_; }
  std::size_t size() const { return count_; }

  // Appends a copy of `frame`. The caller checks full() first.
  void Push(std::span<const std::uint8_t> frame, timers::TimePoint ready) {
    if (count_ == slots_.size()) Grow();
    Slot& slot = slots_[(head_ + count_) % slots_.size()];
    if (frame.size() > slot.bytes.capacity()) {
      slot.bytes.reserve(frame.size() > kSmallFrame ? std::max(full_frame_, frame.size())
                                                    : frame.size());
    }
    slot.bytes.assign(frame.begin(), frame.end());
    slot.ready = ready;
    ++count_;
  }

  // The oldest frame; only when !empty().
  std::span<const std::uint8_t> front() const { return slots_[head_].bytes; }
  timers::TimePoint front_ready() const { return slots_[head_].ready; }

  void Pop() {
    head_ = (head_ + 1) % slots_.size();
    --count_;
  }

  void Clear() {
    head_ = 0;
    count_ = 0;
  }

 private:
  struct Slot {
    std::vector<std::uint8_t> bytes;
    timers::TimePoint ready;
  };

  // Doubles the ring (within the limit), moving the frames in flight to its front in order.
  void Grow() {
    const std::size_t new_size =
        std::min(limit_, std::max<std::size_t>(kInitialSlots, 2 * slots_.size()));
    std::vector<Slot> grown(new_size);
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      grown[i] = std::move(slots_[(head_ + i) % slots_.size()]);
    }
    slots_ = std::move(grown);
    head_ = 0;
  }

  static constexpr std::size_t kInitialSlots = 16;
  // Pure ACKs, keepalive probes and the like (an Ethernet frame with IPv4 and TCP headers and
  // a few options).
  static constexpr std::size_t kSmallFrame = 128;
  std::size_t limit_;
  std::size_t full_frame_;
  std::vector<Slot> slots_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

// What both endpoints share: one ring per direction. rings[i] holds frames for endpoint i.
struct LinkState {
  LinkState(std::size_t mtu, std::size_t queue_limit)
      : mtu(mtu),
        rings{FrameRing(queue_limit, MaxFrameSize(mtu)),
              FrameRing(queue_limit, MaxFrameSize(mtu))} {}
  std::size_t mtu;
  FrameRing rings[2];
  bool alive[2] = {true, true};
};

class MemoryLinkEndpoint : public Device {
 public:
  MemoryLinkEndpoint(std::shared_ptr<LinkState> state, int side)
      : state_(std::move(state)), side_(side) {}
  ~MemoryLinkEndpoint() override {
    state_->alive[side_] = false;
    // Nobody will read these any more.
    state_->rings[side_].Clear();
  }

  std::error_code Send(std::span<const std::uint8_t> frame, timers::TimePoint now) override {
    if (std::error_code error = CheckSendSize(frame)) return error;
    const int peer = 1 - side_;
    DeviceStats& stats = mutable_stats();
    if (!state_->alive[peer]) {
      ++stats.tx_dropped_link_down;
      return {};
    }
    FrameRing& ring = state_->rings[peer];
    if (ring.full()) {
      ++stats.tx_dropped_queue_full;
      return {};
    }
    ring.Push(frame, now);
    ++stats.frames_sent;
    stats.bytes_sent += frame.size();
    return {};
  }

  Result<std::size_t> Receive(std::span<std::uint8_t> buffer, timers::TimePoint now) override {
    FrameRing& ring = state_->rings[side_];
    DeviceStats& stats = mutable_stats();
    while (!ring.empty() && ring.front_ready() <= now) {
      const std::span<const std::uint8_t> frame = ring.front();
      const std::size_t length = frame.size();
      if (length > buffer.size()) {
        ring.Pop();
        ++stats.rx_dropped_too_big;
        continue;
      }
      std::copy(frame.begin(), frame.end(), buffer.begin());
      ring.Pop();
      ++stats.frames_received;
      stats.bytes_received += length;
      return length;
    }
    return 0;
  }

  std::optional<timers::TimePoint> NextReadyTime() const override {
    const FrameRing& ring = state_->rings[side_];
    if (ring.empty()) return std::nullopt;
    return ring.front_ready();
  }

  std::size_t mtu() const override { return state_->mtu; }

 private:
  std::shared_ptr<LinkState> state_;
  int side_;
};

}  // namespace

std::pair<std::unique_ptr<Device>, std::unique_ptr<Device>> MemoryLink::CreatePair(
    std::size_t mtu, std::size_t queue_limit) {
  auto state = std::make_shared<LinkState>(mtu, queue_limit);
  return {std::make_unique<MemoryLinkEndpoint>(state, 0),
          std::make_unique<MemoryLinkEndpoint>(state, 1)};
}

}  // namespace tapstack::tap
