// A Device wrapper that injects seeded, reproducible faults into the frames it sends: loss,
// duplication, reordering, delay, bit corruption, and a blackhole switch ("pull the cable").
//
// Faults apply to the SEND direction, except `receive_loss`, which drops received frames: the one
// fault a TAP device needs on its receive side, where no second endpoint can be wrapped (the kernel
// is the other end). To fault both directions of a MemoryLink, wrap both endpoints (with different
// seeds).
//
// Per frame, in this order: blackhole (drop), loss (drop), corruption (one random bit flipped),
// duplication (the frame goes out twice, back to back), delay (uniform in [min_delay, max_delay]),
// reordering (the frame, and its duplicate, is held back until the next frame that is not held has
// been released, and then follows it; or until reorder_timeout has passed without such a frame).
// Every decision draws from one std::mt19937_64 seeded with `seed`, and each frame always consumes
// the same number of draws, so the same seed and the same sequence of Send calls give the same
// output, whatever the timing of the calls. Receive-side drops draw from a generator of their own,
// so they leave the send side's sequence unchanged.
//
// Frames waiting for their release time sit in a queue ordered by release time (equal times keep
// send order): a binary heap keyed by (release time, send order) over buffers taken from a free
// list, so after warm-up a steady flow of frames allocates nothing, whatever the faults. They are
// handed to the wrapped device, stamped with their release time, by the next Send, Receive or Flush
// whose `now` has reached it. NextReadyTime() includes the earliest pending release, so an event
// loop wakes up then and calls Receive, which releases them.
#ifndef TAPSTACK_TAP_FAULTY_LINK_H_
#define TAPSTACK_TAP_FAULTY_LINK_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "tap/device.h"

namespace tapstack::tap {

struct FaultOptions {
  std::uint64_t seed = 0;
  double loss = 0;       // probability that a frame is dropped
  double duplicate = 0;  // probability that a frame is sent twice
  double reorder = 0;    // probability that a frame is held back behind the next one
  double corrupt = 0;    // probability that one bit of a frame is flipped
  timers::Duration min_delay{0};
  timers::Duration max_delay{0};
  // How long a held-back frame waits for a frame to overtake it before it goes out anyway, so the
  // last frame of a burst is late rather than lost.
  timers::Duration reorder_timeout = std::chrono::milliseconds(10);
  double receive_loss = 0;  // probability that a frame received from the wrapped device is dropped

  // Whether anything is done to frames sent (frames then pass straight to the wrapped device,
  // offloads and all).
  bool faults_sending() const {
    return loss > 0 || duplicate > 0 || reorder > 0 || corrupt > 0 ||
           max_delay > timers::Duration::zero();
  }
};

// How many frames each fault touched.
// Frames given with an offload and passed through whole (no send faults) count once each.
struct FaultStats {
  std::uint64_t frames_in = 0;       // valid frames given to Send
  std::uint64_t blackholed = 0;      // dropped because the blackhole was on (at Send or at release)
  std::uint64_t lost = 0;            // dropped by `loss`
  std::uint64_t corrupted = 0;       // frames with one bit flipped
  std::uint64_t duplicated = 0;      // frames sent twice (counts the originals)
  std::uint64_t reordered = 0;       // frames held back behind a later one
  std::uint64_t delayed = 0;         // frames given a non-zero delay
  std::uint64_t released = 0;        // frames handed to the wrapped device (duplicates included)
  std::uint64_t release_errors = 0;  // releases the wrapped device refused with an error
  std::uint64_t received_lost = 0;   // received frames dropped by `receive_loss`
};

class FaultyLink : public Device {
 public:
  FaultyLink(std::unique_ptr<Device> inner, FaultOptions options);
  // Wraps a device owned elsewhere, which must outlive this wrapper.
  FaultyLink(Device& inner, FaultOptions options);

  FaultyLink(const FaultyLink&) = delete;
  FaultyLink& operator=(const FaultyLink&) = delete;

  // Applies the faults and releases what is due at `now`. Returns an error the wrapped device gave
  // for a released frame (the frame given here has been taken all the same).
  std::error_code Send(std::span<const std::uint8_t> frame, timers::TimePoint now) override;
  // With faults on the send side, the offload is done in software first, so that the faults
  // apply to the frames a wire would carry; without them (and no blackhole), the frame and its
  // offload go straight to the wrapped device.
  std::error_code SendWithOffload(std::span<const std::uint8_t> frame, const TxOffload& offload,
                                  timers::TimePoint now) override;
  // Releases what is due at `now` (errors from that are counted, not returned), then receives from
  // the wrapped device, dropping frames with probability `receive_loss`.
  Result<std::size_t> Receive(std::span<std::uint8_t> buffer, timers::TimePoint now) override;
  Result<ReceivedFrame> ReceiveFrame(std::span<std::uint8_t> buffer,
                                     timers::TimePoint now) override;
  int poll_fd() const override { return inner_->poll_fd(); }
  DeviceCapabilities capabilities() const override { return inner_->capabilities(); }
  std::optional<timers::TimePoint> NextReadyTime() const override;
  std::size_t mtu() const override { return inner_->mtu(); }
  // The wrapped device's counters (what really went on the wire), plus frames this wrapper refused
  // as invalid.
  DeviceStats stats() const override;

  // Hands every frame whose release time is at or before `now` to the wrapped device. Returns the
  // first error the wrapped device gave (the remaining due frames are still released).
  std::error_code Flush(timers::TimePoint now);

  // While on, every frame is dropped: those sent and those whose release time comes.
  void SetBlackhole(bool on) { blackhole_ = on; }
  bool blackhole() const { return blackhole_; }

  const FaultStats& fault_stats() const { return fault_stats_; }
  // Frames waiting for their release time or held back for reordering.
  std::size_t pending_frames() const { return queue_.size() + held_.size(); }
  Device& inner() { return *inner_; }

 private:
  struct Held {
    std::vector<std::uint8_t> bytes;
    timers::TimePoint release;  // when it would have gone out had it not been held
    timers::TimePoint give_up;  // release + reorder_timeout: goes out then if nothing overtook it
  };
  struct Queued {
    timers::TimePoint release;
    std::uint64_t order;  // ties on release go out in the order they were queued
    std::vector<std::uint8_t> bytes;
  };
  // std::push_heap keeps the largest on top: "larger" here means released later.
  struct ReleasedLater {
    bool operator()(const Queued& a, const Queued& b) const {
      return a.release != b.release ? a.release > b.release : a.order > b.order;
    }
  };

  double Uniform01();
  timers::Duration DrawDelay(double u) const;
  // Moves held frames into the release queue: behind a frame released at `overtaker`, or, when
  // nothing overtook them in time, each at its give_up time.
  void ReleaseHeld(std::optional<timers::TimePoint> overtaker);
  std::optional<timers::TimePoint> EarliestGiveUp() const;
  // A buffer holding a copy of `frame`, recycled from the free list when one is there.
  std::vector<std::uint8_t> TakeBuffer(std::span<const std::uint8_t> frame);
  void Enqueue(timers::TimePoint release, std::vector<std::uint8_t> bytes);

  std::unique_ptr<Device> owned_;
  Device* inner_;
  FaultOptions options_;
  std::mt19937_64 rng_;
  std::mt19937_64 receive_rng_;  // receive_loss's draws, apart from the send side's
  bool blackhole_ = false;
  std::vector<Queued> queue_;  // a heap under ReleasedLater: the next frame due is front()
  std::uint64_t next_order_ = 0;
  std::vector<Held> held_;                               // in send order
  std::vector<std::vector<std::uint8_t>> free_buffers_;  // released frames' storage, for reuse
  FaultStats fault_stats_;
};

}  // namespace tapstack::tap

#endif  // TAPSTACK_TAP_FAULTY_LINK_H_
