#include "tap/memory_link.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <vector>

namespace tapstack::tap {
namespace {

struct QueuedFrame {
  std::vector<std::uint8_t> bytes;
  timers::TimePoint ready;
};

// What both endpoints share: one queue per direction. queues[i] holds frames for endpoint i.
struct LinkState {
  std::size_t mtu;
  std::size_t queue_limit;
  std::deque<QueuedFrame> queues[2];
  bool alive[2] = {true, true};
};

class MemoryLinkEndpoint : public Device {
 public:
  MemoryLinkEndpoint(std::shared_ptr<LinkState> state, int side)
      : state_(std::move(state)), side_(side) {}
  ~MemoryLinkEndpoint() override {
    state_->alive[side_] = false;
    // Nobody will read these any more.
    state_->queues[side_].clear();
  }

  absl::Status Send(std::span<const std::uint8_t> frame, timers::TimePoint now) override {
    if (absl::Status s = CheckSendSize(frame); !s.ok()) return s;
    const int peer = 1 - side_;
    DeviceStats& stats = mutable_stats();
    if (!state_->alive[peer]) {
      ++stats.tx_dropped_link_down;
      return absl::OkStatus();
    }
    std::deque<QueuedFrame>& queue = state_->queues[peer];
    if (queue.size() >= state_->queue_limit) {
      ++stats.tx_dropped_queue_full;
      return absl::OkStatus();
    }
    queue.push_back({std::vector<std::uint8_t>(frame.begin(), frame.end()), now});
    ++stats.frames_sent;
    stats.bytes_sent += frame.size();
    return absl::OkStatus();
  }

  absl::StatusOr<std::size_t> Receive(std::span<std::uint8_t> buffer,
                                      timers::TimePoint now) override {
    std::deque<QueuedFrame>& queue = state_->queues[side_];
    DeviceStats& stats = mutable_stats();
    while (!queue.empty() && queue.front().ready <= now) {
      QueuedFrame frame = std::move(queue.front());
      queue.pop_front();
      if (frame.bytes.size() > buffer.size()) {
        ++stats.rx_dropped_too_big;
        continue;
      }
      std::copy(frame.bytes.begin(), frame.bytes.end(), buffer.begin());
      ++stats.frames_received;
      stats.bytes_received += frame.bytes.size();
      return frame.bytes.size();
    }
    return 0;
  }

  std::optional<timers::TimePoint> NextReadyTime() const override {
    const std::deque<QueuedFrame>& queue = state_->queues[side_];
    if (queue.empty()) return std::nullopt;
    return queue.front().ready;
  }

  std::size_t mtu() const override { return state_->mtu; }

 private:
  std::shared_ptr<LinkState> state_;
  int side_;
};

}  // namespace

std::pair<std::unique_ptr<Device>, std::unique_ptr<Device>> MemoryLink::CreatePair(
    std::size_t mtu, std::size_t queue_limit) {
  auto state = std::make_shared<LinkState>();
  state->mtu = mtu;
  state->queue_limit = queue_limit;
  return {std::make_unique<MemoryLinkEndpoint>(state, 0),
          std::make_unique<MemoryLinkEndpoint>(state, 1)};
}

}  // namespace tapstack::tap
