#include "tap/event_loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <utility>

namespace tapstack::tap {
namespace {

constexpr std::uint64_t kWakeId = 0;

// epoll_wait's timeout: -1 (forever) without a limit, else the wait rounded up to whole ms.
int TimeoutMs(timers::TimePoint now, std::optional<timers::TimePoint> wakeup,
              std::optional<timers::Duration> max_wait) {
  std::optional<timers::Duration> wait;
  if (wakeup.has_value()) wait = std::max(*wakeup - now, timers::Duration::zero());
  if (max_wait.has_value()) {
    const timers::Duration cap = std::max(*max_wait, timers::Duration::zero());
    wait = wait.has_value() ? std::min(*wait, cap) : cap;
  }
  if (!wait.has_value()) return -1;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*wait).count();
  return static_cast<int>(std::min<decltype(ms)>(ms, std::numeric_limits<int>::max()));
}

}  // namespace

EventLoop::EventLoop(Clock& clock) : clock_(clock) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    init_error_ = Errno(errno);
    return;
  }
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    init_error_ = Errno(errno);
    return;
  }
  init_error_ = Watch(wake_fd_, kWakeId);
}

EventLoop::~EventLoop() {
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

std::error_code EventLoop::Watch(int fd, std::uint64_t id) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = id;
  // EEXIST when the descriptor is already in the set, as for AddReader's own check.
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return Errno(errno);
  return {};
}

std::error_code EventLoop::AddReader(int fd, std::function<void()> on_readable) {
  if (init_error_) return init_error_;
  if (ids_by_fd_.contains(fd)) return Errno(EEXIST);
  const std::uint64_t id = next_id_++;
  if (std::error_code error = Watch(fd, id)) return error;
  auto source = std::make_shared<Source>();
  source->fd = fd;
  source->on_readable = std::move(on_readable);
  sources_.emplace(id, std::move(source));
  ids_by_fd_.emplace(fd, id);
  return {};
}

std::error_code EventLoop::RemoveReader(int fd) {
  auto it = ids_by_fd_.find(fd);
  if (it == ids_by_fd_.end() || sources_.at(it->second)->device != nullptr) return Errno(ENOENT);
  auto source = sources_.find(it->second);
  source->second->removed = true;
  sources_.erase(source);
  ids_by_fd_.erase(it);
  // The descriptor may already be closed, which removed it from the epoll set by itself.
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr) != 0 && errno != EBADF && errno != ENOENT) {
    return Errno(errno);
  }
  return {};
}

std::error_code EventLoop::AttachDevice(Device& device, FrameHandler on_frame) {
  auto source = std::make_shared<Source>();
  source->on_frame = std::move(on_frame);
  source->max_frame = std::max(device.capabilities().max_receive_frame, MaxFrameSize(device.mtu()));
  source->buffer.resize(source->max_frame);
  return Attach(device, std::move(source));
}

std::error_code EventLoop::AttachDeviceBursts(Device& device, BurstHandler on_burst) {
  auto source = std::make_shared<Source>();
  source->on_burst = std::move(on_burst);
  const DeviceCapabilities capabilities = device.capabilities();
  const std::size_t mtu_frame = MaxFrameSize(device.mtu());
  source->max_frame = std::max(capabilities.max_receive_frame, mtu_frame);
  source->burst_limit = capabilities.max_burst_frames == 0
                            ? kMaxBurstFrames
                            : std::min(kMaxBurstFrames, capabilities.max_burst_frames);
  // A frame is read only while a whole max_frame still fits after the frames before it, so this
  // holds burst_limit frames of MTU size, and kMinLargeFramesPerBurst of max_frame.
  source->buffer.resize(std::max((source->burst_limit - 1) * mtu_frame + source->max_frame,
                                 kMinLargeFramesPerBurst * source->max_frame));
  source->burst_frames.resize(source->burst_limit);
  source->burst_checksums.resize(source->burst_limit);
  return Attach(device, std::move(source));
}

std::error_code EventLoop::Attach(Device& device, std::shared_ptr<Source> source) {
  if (init_error_) return init_error_;
  for (const auto& d : devices_) {
    if (d->device == &device) return Errno(EEXIST);
  }
  const std::uint64_t id = next_id_++;
  source->fd = device.poll_fd();
  source->device = &device;
  if (source->fd >= 0) {
    if (ids_by_fd_.contains(source->fd)) return Errno(EEXIST);
    if (std::error_code error = Watch(source->fd, id)) return error;
    ids_by_fd_.emplace(source->fd, id);
  }
  sources_.emplace(id, source);
  devices_.push_back(std::move(source));
  return {};
}

std::error_code EventLoop::DetachDevice(Device& device) {
  auto it = std::find_if(devices_.begin(), devices_.end(),
                         [&device](const auto& d) { return d->device == &device; });
  if (it == devices_.end()) return Errno(ENOENT);
  std::shared_ptr<Source> source = *it;
  devices_.erase(it);
  source->removed = true;
  if (source->fd >= 0) {
    const std::uint64_t id = ids_by_fd_.at(source->fd);
    sources_.erase(id);
    ids_by_fd_.erase(source->fd);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, source->fd, nullptr) != 0 && errno != EBADF &&
        errno != ENOENT) {
      return Errno(errno);
    }
  } else {
    std::erase_if(sources_, [&source](const auto& entry) { return entry.second == source; });
  }
  return {};
}

void EventLoop::SetTimerSource(DeadlineSource next_deadline, TimeHandler on_time) {
  if (!next_deadline || !on_time) {
    timer_.reset();
    return;
  }
  timer_ = std::make_shared<TimerSource>(TimerSource{std::move(next_deadline), std::move(on_time)});
}

std::optional<timers::TimePoint> EventLoop::NextWakeup() const {
  std::optional<timers::TimePoint> wakeup;
  auto consider = [&wakeup](std::optional<timers::TimePoint> t) {
    if (t.has_value() && (!wakeup.has_value() || *t < *wakeup)) wakeup = t;
  };
  if (timer_ != nullptr) consider(timer_->next_deadline());
  for (const auto& d : devices_) consider(d->device->NextReadyTime());
  return wakeup;
}

std::error_code EventLoop::Drain(Source& source, timers::TimePoint now) {
  for (std::size_t i = 0; i < kMaxFramesPerDeviceWakeup && !source.removed; ++i) {
    const Result<ReceivedFrame> received = source.device->ReceiveFrame(source.buffer, now);
    if (!received.ok()) {
      ++stats_.receive_errors;
      return received.error();
    }
    if (received->size == 0) break;
    ++stats_.frames;
    read_bulk_frame_ |= received->size >= kBulkFrameBytes;
    source.on_frame(std::span<const std::uint8_t>(source.buffer.data(), received->size), now,
                    received->checksum);
  }
  return {};
}

std::error_code EventLoop::DrainBursts(Source& source, timers::TimePoint now) {
  std::size_t total = 0;
  while (total < kMaxFramesPerDeviceWakeup && !source.removed) {
    const std::size_t limit = std::min(source.burst_limit, kMaxFramesPerDeviceWakeup - total);
    std::size_t count = 0;
    std::size_t used = 0;  // bytes of source.buffer the frames read so far take
    bool drained = false;
    std::error_code error;
    for (; count < limit && source.buffer.size() - used >= source.max_frame; ++count) {
      const std::span<std::uint8_t> room(source.buffer.data() + used, source.max_frame);
      const Result<ReceivedFrame> received = source.device->ReceiveFrame(room, now);
      if (!received.ok()) {
        ++stats_.receive_errors;
        error = received.error();
        break;
      }
      if (received->size == 0) {
        drained = true;
        break;
      }
      read_bulk_frame_ |= received->size >= kBulkFrameBytes;
      source.burst_frames[count] = room.first(received->size);
      source.burst_checksums[count] = received->checksum;
      used += received->size;
    }
    if (count > 0) {  // frames read before an error are still delivered
      stats_.frames += count;
      ++stats_.bursts;
      source.on_burst(
          std::span<const std::span<const std::uint8_t>>(source.burst_frames.data(), count), now,
          std::span<const RxChecksum>(source.burst_checksums.data(), count));
    }
    total += count;
    if (error) return error;
    if (drained) break;
  }
  return {};
}

std::error_code EventLoop::RunOnce(std::optional<timers::Duration> max_wait) {
  if (init_error_) return init_error_;
  // A loop waiting on itself, as pthread_join on the calling thread answers.
  if (in_run_once_) return Errno(EDEADLK);
  in_run_once_ = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{in_run_once_};
  ++stats_.iterations;

  // Receive moderation (set_receive_hold): the last iteration read bulk data, so more is likely on
  // its way; let it gather before waiting, unless this iteration may not sleep.
  const bool read_bulk_frame = std::exchange(read_bulk_frame_, false);
  if (read_bulk_frame && receive_hold_ > timers::Duration::zero() &&
      (!max_wait.has_value() || *max_wait > timers::Duration::zero())) {
    const timers::Duration hold =
        max_wait.has_value() ? std::min(receive_hold_, *max_wait) : receive_hold_;
    const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(hold).count();
    const timespec sleep{.tv_sec = static_cast<time_t>(nanoseconds / 1'000'000'000),
                         .tv_nsec = static_cast<long>(nanoseconds % 1'000'000'000)};
    ++stats_.receive_holds;
    // A signal (EINTR) only ends the hold early.
    clock_nanosleep(CLOCK_MONOTONIC, 0, &sleep, nullptr);
  }

  std::array<epoll_event, 64> events;
  const int timeout = TimeoutMs(clock_.Now(), NextWakeup(), max_wait);
  int count = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout);
  if (count < 0) {
    if (errno != EINTR) return Errno(errno);
    count = 0;  // a signal: treat as a short sleep, then do what is due
  }
  const timers::TimePoint now = clock_.Now();

  // Readers first, in the order epoll reported them; devices only get marked here, so that all of
  // them are drained below in attach order whatever woke the loop.
  for (int i = 0; i < count; ++i) {
    const std::uint64_t id = events[i].data.u64;
    if (id == kWakeId) {
      std::uint64_t value;
      while (read(wake_fd_, &value, sizeof(value)) > 0) {
      }
      continue;
    }
    auto it = sources_.find(id);
    if (it == sources_.end()) continue;  // removed by an earlier callback of this iteration
    std::shared_ptr<Source> source = it->second;
    if (source->device != nullptr) {
      source->ready = true;
    } else if (!source->removed) {
      ++stats_.reader_calls;
      source->on_readable();
    }
  }

  std::error_code first_error;
  dispatch_.assign(devices_.begin(), devices_.end());
  for (const std::shared_ptr<Source>& source : dispatch_) {
    if (source->removed) continue;
    const bool ready = std::exchange(source->ready, false);
    std::optional<timers::TimePoint> queued = source->device->NextReadyTime();
    if (!ready && !(queued.has_value() && *queued <= now)) continue;
    const std::error_code error =
        source->on_burst ? DrainBursts(*source, now) : Drain(*source, now);
    if (error && !first_error) first_error = error;
  }
  dispatch_.clear();

  if (std::shared_ptr<TimerSource> timer = timer_) {
    std::optional<timers::TimePoint> deadline = timer->next_deadline();
    if (deadline.has_value() && *deadline <= now) {
      ++stats_.timer_calls;
      timer->on_time(now);
    }
  }
  return first_error;
}

std::error_code EventLoop::Run(std::function<bool()> keep_going) {
  std::error_code error;
  while (!stop_requested_.load()) {
    if (keep_going && !keep_going()) break;
    error = RunOnce(std::nullopt);
    if (error) break;
  }
  stop_requested_.store(false);
  return error;
}

void EventLoop::Stop() {
  stop_requested_.store(true);
  if (wake_fd_ >= 0) {
    const std::uint64_t one = 1;
    // Only async-signal-safe calls here. A full counter (EAGAIN) already means "wake up".
    [[maybe_unused]] ssize_t ignored = write(wake_fd_, &one, sizeof(one));
  }
}

}  // namespace tapstack::tap
