#include "tap/memory_link.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "tap/frame_queue.h"

namespace tapstack::tap {
namespace {

// What both endpoints share: one queue per direction. queues[i] holds frames for endpoint i.
struct LinkState {
  LinkState(std::size_t mtu, std::size_t queue_limit, bool tx_offloads)
      : mtu(mtu),
        queue_limit(queue_limit),
        tx_offloads(tx_offloads),
        queues{FrameQueue(MaxFrameSize(mtu)), FrameQueue(MaxFrameSize(mtu))} {}
  std::size_t mtu;
  std::size_t queue_limit;
  bool tx_offloads;
  FrameQueue queues[2];
  bool alive[2] = {true, true};
};

class MemoryLinkEndpoint : public Device {
 public:
  MemoryLinkEndpoint(std::shared_ptr<LinkState> state, int side)
      : state_(std::move(state)), side_(side) {}
  ~MemoryLinkEndpoint() override {
    state_->alive[side_] = false;
    // Nobody will read these any more.
    state_->queues[side_].Clear();
  }

  std::error_code Send(std::span<const std::uint8_t> frame, timers::TimePoint now) override {
    if (std::error_code error = CheckSendSize(frame)) return error;
    const int peer = 1 - side_;
    DeviceStats& stats = mutable_stats();
    if (!state_->alive[peer]) {
      ++stats.tx_dropped_link_down;
      return {};
    }
    FrameQueue& queue = state_->queues[peer];
    if (queue.size() >= state_->queue_limit) {
      ++stats.tx_dropped_queue_full;
      return {};
    }
    queue.Push(frame, now);
    ++stats.frames_sent;
    stats.bytes_sent += frame.size();
    return {};
  }

  Result<std::size_t> Receive(std::span<std::uint8_t> buffer, timers::TimePoint now) override {
    FrameQueue& queue = state_->queues[side_];
    DeviceStats& stats = mutable_stats();
    while (!queue.empty() && queue.front_ready() <= now) {
      const std::span<const std::uint8_t> frame = queue.front();
      const std::size_t length = frame.size();
      if (length > buffer.size()) {
        queue.Pop();
        ++stats.rx_dropped_too_big;
        continue;
      }
      std::copy(frame.begin(), frame.end(), buffer.begin());
      queue.Pop();
      ++stats.frames_received;
      stats.bytes_received += length;
      return length;
    }
    return 0;
  }

  std::optional<timers::TimePoint> NextReadyTime() const override {
    const FrameQueue& queue = state_->queues[side_];
    if (queue.empty()) return std::nullopt;
    return queue.front_ready();
  }

  std::size_t mtu() const override { return state_->mtu; }
  // A plain cable, or one that offers TSO and checksum offload and does the work in software
  // (Device::SendWithOffload), as the kernel does behind a TAP; a wakeup finds at most the
  // queue's limit ready.
  DeviceCapabilities capabilities() const override {
    return DeviceCapabilities{
        .max_receive_frame = MaxFrameSize(state_->mtu),
        .max_tcp_segment_offload = state_->tx_offloads ? kMaxTcpSegmentOffload : 0,
        .tx_checksum_offload = state_->tx_offloads,
        .max_burst_frames = state_->queue_limit};
  }

 private:
  std::shared_ptr<LinkState> state_;
  int side_;
};

}  // namespace

std::pair<std::unique_ptr<Device>, std::unique_ptr<Device>> MemoryLink::CreatePair(
    std::size_t mtu, std::size_t queue_limit, bool tx_offloads) {
  auto state = std::make_shared<LinkState>(mtu, queue_limit, tx_offloads);
  return {std::make_unique<MemoryLinkEndpoint>(state, 0),
          std::make_unique<MemoryLinkEndpoint>(state, 1)};
}

}  // namespace tapstack::tap
