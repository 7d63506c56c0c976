#include "tap/faulty_link.h"

#include <algorithm>
#include <utility>

namespace tapstack::tap {

FaultyLink::FaultyLink(std::unique_ptr<Device> inner, FaultOptions options)
    : FaultyLink(*inner, options) {
  owned_ = std::move(inner);
}

FaultyLink::FaultyLink(Device& inner, FaultOptions options)
    : inner_(&inner),
      options_(options),
      rng_(options.seed),
      receive_rng_(options.seed ^ 0x9e3779b97f4a7c15u) {
  // Negative or inverted delay bounds would make "uniform in [min, max]" meaningless; clamp them
  // rather than fail, since a constructor cannot return an error.
  options_.min_delay = std::max(options_.min_delay, timers::Duration::zero());
  options_.max_delay = std::max(options_.max_delay, options_.min_delay);
  options_.reorder_timeout = std::max(options_.reorder_timeout, timers::Duration::zero());
}

double FaultyLink::Uniform01() {
  // The top 53 bits as a double in [0, 1): portable, unlike std::uniform_real_distribution whose
  // output differs between standard libraries.
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

timers::Duration FaultyLink::DrawDelay(double u) const {
  const auto span = (options_.max_delay - options_.min_delay).count();
  auto offset = static_cast<timers::Duration::rep>(u * static_cast<double>(span + 1));
  offset = std::min(offset, span);  // guards against rounding up to span + 1
  return options_.min_delay + timers::Duration(offset);
}

std::error_code FaultyLink::Send(std::span<const std::uint8_t> frame, timers::TimePoint now) {
  if (std::error_code error = CheckSendSize(frame)) return error;
  // Frames due before this one go first.
  const std::error_code flushed = Flush(now);
  ++fault_stats_.frames_in;

  // Always six draws per frame, so one frame's fate never shifts the decisions for later frames.
  const double u_loss = Uniform01();
  const double u_corrupt = Uniform01();
  const double u_bit = Uniform01();
  const double u_duplicate = Uniform01();
  const double u_delay = Uniform01();
  const double u_reorder = Uniform01();

  if (blackhole_) {
    ++fault_stats_.blackholed;
    return flushed;
  }
  if (u_loss < options_.loss) {
    ++fault_stats_.lost;
    return flushed;
  }
  std::vector<std::uint8_t> bytes = TakeBuffer(frame);
  if (u_corrupt < options_.corrupt) {
    const std::size_t bits = bytes.size() * 8;
    const std::size_t bit =
        std::min(static_cast<std::size_t>(u_bit * static_cast<double>(bits)), bits - 1);
    bytes[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    ++fault_stats_.corrupted;
  }
  const int copies = u_duplicate < options_.duplicate ? 2 : 1;
  if (copies == 2) ++fault_stats_.duplicated;
  const timers::Duration delay = DrawDelay(u_delay);
  if (delay > timers::Duration::zero()) ++fault_stats_.delayed;
  const timers::TimePoint release = now + delay;

  if (u_reorder < options_.reorder) {
    ++fault_stats_.reordered;
    const timers::TimePoint give_up = release + options_.reorder_timeout;
    if (copies == 2) held_.push_back({TakeBuffer(bytes), release, give_up});
    held_.push_back({std::move(bytes), release, give_up});
  } else {
    if (copies == 2) Enqueue(release, TakeBuffer(bytes));
    Enqueue(release, std::move(bytes));
    ReleaseHeld(release);
  }
  const std::error_code released = Flush(now);
  return flushed ? flushed : released;
}

std::vector<std::uint8_t> FaultyLink::TakeBuffer(std::span<const std::uint8_t> frame) {
  std::vector<std::uint8_t> bytes;
  if (!free_buffers_.empty()) {
    bytes = std::move(free_buffers_.back());
    free_buffers_.pop_back();
  } else {
    bytes.reserve(MaxFrameSize(inner_->mtu()));  // any later frame fits without growing it
  }
  bytes.assign(frame.begin(), frame.end());
  return bytes;
}

void FaultyLink::Enqueue(timers::TimePoint release, std::vector<std::uint8_t> bytes) {
  queue_.push_back(Queued{release, next_order_++, std::move(bytes)});
  std::push_heap(queue_.begin(), queue_.end(), ReleasedLater{});
}

void FaultyLink::ReleaseHeld(std::optional<timers::TimePoint> overtaker) {
  for (Held& h : held_) {
    Enqueue(overtaker.has_value() ? std::max(h.release, *overtaker) : h.give_up,
            std::move(h.bytes));
  }
  held_.clear();
}

std::optional<timers::TimePoint> FaultyLink::EarliestGiveUp() const {
  std::optional<timers::TimePoint> earliest;
  for (const Held& h : held_) {
    if (!earliest.has_value() || h.give_up < *earliest) earliest = h.give_up;
  }
  return earliest;
}

std::error_code FaultyLink::Flush(timers::TimePoint now) {
  // Held frames nobody overtook in time go out at the end of their wait.
  if (std::optional<timers::TimePoint> give_up = EarliestGiveUp(); give_up && *give_up <= now) {
    ReleaseHeld(std::nullopt);
  }
  std::error_code first_error;
  while (!queue_.empty() && queue_.front().release <= now) {
    std::pop_heap(queue_.begin(), queue_.end(), ReleasedLater{});
    Queued due = std::move(queue_.back());
    queue_.pop_back();
    if (blackhole_) {
      ++fault_stats_.blackholed;
    } else if (const std::error_code error = inner_->Send(due.bytes, due.release); !error) {
      ++fault_stats_.released;
    } else {
      ++fault_stats_.release_errors;
      if (!first_error) first_error = error;
    }
    free_buffers_.push_back(std::move(due.bytes));
  }
  return first_error;
}

Result<std::size_t> FaultyLink::Receive(std::span<std::uint8_t> buffer, timers::TimePoint now) {
  const Result<ReceivedFrame> received = ReceiveFrame(buffer, now);
  if (!received.ok()) return received.error();
  return received->size;
}

Result<ReceivedFrame> FaultyLink::ReceiveFrame(std::span<std::uint8_t> buffer,
                                               timers::TimePoint now) {
  // A release the wrapped device refuses is counted (release_errors and its tx_errors) rather
  // than returned: returning it here would lose the frame being received.
  (void)Flush(now);
  for (;;) {
    const Result<ReceivedFrame> received = inner_->ReceiveFrame(buffer, now);
    if (!received.ok() || received->size == 0 || options_.receive_loss <= 0) return received;
    const double u = static_cast<double>(receive_rng_() >> 11) * 0x1.0p-53;
    if (u >= options_.receive_loss) return received;
    ++fault_stats_.received_lost;
  }
}

std::error_code FaultyLink::SendWithOffload(std::span<const std::uint8_t> frame,
                                            const TxOffload& offload, timers::TimePoint now) {
  if (offload.none() || options_.faults_sending() || blackhole_) {
    return SendInSoftware(frame, offload, now);
  }
  // Frames due before this one go first, as in Send.
  const std::error_code flushed = Flush(now);
  ++fault_stats_.frames_in;
  const std::error_code error = inner_->SendWithOffload(frame, offload, now);
  if (error) return error;
  ++fault_stats_.released;
  return flushed;
}

std::optional<timers::TimePoint> FaultyLink::NextReadyTime() const {
  std::optional<timers::TimePoint> next = inner_->NextReadyTime();
  auto consider = [&next](timers::TimePoint t) {
    if (!next.has_value() || t < *next) next = t;
  };
  if (!queue_.empty()) consider(queue_.front().release);
  if (std::optional<timers::TimePoint> give_up = EarliestGiveUp()) consider(*give_up);
  return next;
}

DeviceStats FaultyLink::stats() const {
  DeviceStats stats = inner_->stats();
  stats.tx_dropped_invalid += Device::stats().tx_dropped_invalid;
  return stats;
}

}  // namespace tapstack::tap
