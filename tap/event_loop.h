// A single-threaded epoll event loop that drives devices, extra descriptors and one timer source.
//
// Each iteration (RunOnce):
//   0. with a receive hold set (set_receive_hold), and bulk data read in the last iteration,
//      first sleeps the hold, so that more frames gather;
//   1. computes the wake-up time: the earliest of the timer source's next deadline and every
//      attached device's NextReadyTime();
//   2. sleeps in epoll_wait until a descriptor is readable, the wake-up time comes, or max_wait
//      passes, whichever is first;
//   3. reads the clock once, and with that `now`: calls the readers whose descriptors are ready;
//      drains every device whose descriptor is ready or whose NextReadyTime() has come, passing
//      each frame to its handler, or, for a device attached with AttachDeviceBursts, every frame
//      ready (up to kMaxBurstFrames at a time) to its handler in one call; then, if the timer
//      source's deadline has come, calls on_time.
//
// Frames are read with Device::ReceiveFrame into buffers of the device's
// capabilities().max_receive_frame bytes (coalesced TCP super-segments up to 64 KiB from a TAP
// device with offloads), and each frame's handler learns what the device knows of its checksum.
//
// Sleep precision: epoll_wait takes whole milliseconds, so the wait is rounded UP to the next
// millisecond. The loop therefore never wakes before a deadline (and never spins on a deadline
// that is still a fraction of a millisecond away); it may wake up to 1 ms late plus scheduling
// latency. That matches the 1 ms resolution of the stack's timer wheel; sub-millisecond sleeps
// (timerfd or epoll_pwait2) were not worth a second mechanism.
//
// Virtual time: the loop reads time only from its Clock, so with a VirtualClock a test decides
// what "now" is. Deadlines are then virtual and sleeping on them in real time would be wrong:
// drive the loop with RunOnce(Duration::zero()), which polls descriptors without sleeping and
// fires what is due at the virtual now, and advance the clock by hand between calls. Run() and
// RunOnce(std::nullopt) are for real clocks.
//
// Callbacks may call AddReader, RemoveReader, AttachDevice, DetachDevice, SetTimerSource and
// Stop, including on themselves; they must not call RunOnce or Run. Stop() may also be called from
// another thread or a signal handler.
//
// Errors are std::error_code values in the POSIX category (stack/result.h): those of epoll and of
// the devices' Receive as they come, and EEXIST, ENOENT or EDEADLK for misuse, as documented below.
#ifndef TAPSTACK_TAP_EVENT_LOOP_H_
#define TAPSTACK_TAP_EVENT_LOOP_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "tap/clock.h"
#include "tap/device.h"

namespace tapstack::tap {

struct EventLoopStats {
  std::uint64_t iterations = 0;      // RunOnce calls that waited
  std::uint64_t reader_calls = 0;    // AddReader callbacks run
  std::uint64_t frames = 0;          // frames handed to device handlers
  std::uint64_t bursts = 0;          // burst handler calls (each with one frame or more)
  std::uint64_t timer_calls = 0;     // on_time calls
  std::uint64_t receive_errors = 0;  // Device::Receive failures (also returned by RunOnce)
  std::uint64_t receive_holds = 0;   // receive_hold() sleeps (each after bulk data was read)
};

class EventLoop {
 public:
  // `checksum`: what the device knows of the frame's TCP checksum (Device::ReceiveFrame).
  using FrameHandler = std::function<void(std::span<const std::uint8_t> frame,
                                          timers::TimePoint now, RxChecksum checksum)>;
  // Frames received together in one wakeup, in arrival order, and each one's checksum status
  // (checksums[i] for frames[i]). The spans point into buffers owned by the loop and are valid
  // only during the call.
  using BurstHandler =
      std::function<void(std::span<const std::span<const std::uint8_t>> frames,
                         timers::TimePoint now, std::span<const RxChecksum> checksums)>;
  using DeadlineSource = std::function<std::optional<timers::TimePoint>()>;
  using TimeHandler = std::function<void(timers::TimePoint now)>;

  // At most this many frames are read from one device per iteration: "all ready frames" in
  // practice, but a flooding device cannot starve the timers and the other devices. What is left
  // keeps the descriptor readable (or NextReadyTime due), so the next iteration does not sleep.
  static constexpr std::size_t kMaxFramesPerDeviceWakeup = 1024;
  // The most frames one burst handler call carries; a device with more ready gets several calls
  // in the same wakeup. Fewer for a device whose capabilities().max_burst_frames is smaller.
  static constexpr std::size_t kMaxBurstFrames = 64;
  // A burst's frames are read back to back into one buffer per device, allocated when attached:
  // room for a full burst of MTU-sized frames, and for at least this many frames of the device's
  // max_receive_frame (coalesced super-segments; a burst ends early when the next might not fit).
  static constexpr std::size_t kMinLargeFramesPerBurst = 8;
  // A frame at least this long carries bulk data: larger than a pure ACK with every TCP option, an
  // ARP or NDP frame, or a short request (set_receive_hold).
  static constexpr std::size_t kBulkFrameBytes = 1000;

  // `clock` must outlive the loop. A failure to create the epoll instance (its errno: EMFILE,
  // ENOMEM...) is returned by every later call.
  explicit EventLoop(Clock& clock);
  ~EventLoop();

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Calls `on_readable` whenever `fd` is readable (level-triggered: until it is read), or has hung
  // up or failed. The loop does not own `fd`. EEXIST if `fd` is already watched; epoll_ctl's errno
  // if epoll refuses it (EBADF, EPERM for a regular file...).
  std::error_code AddReader(int fd, std::function<void()> on_readable);
  // ENOENT if `fd` is not a reader of this loop.
  std::error_code RemoveReader(int fd);

  // Delivers every frame `device` receives to `on_frame`, through a buffer of
  // device.capabilities().max_receive_frame bytes owned by the loop and reused (the span is valid
  // only during the call). The device must stay alive until detached or the loop is destroyed.
  // EEXIST if the device, or its descriptor, is already attached.
  std::error_code AttachDevice(Device& device, FrameHandler on_frame);
  // The same, but every frame ready in one wakeup (up to kMaxBurstFrames per call) goes to
  // `on_burst` at once: read back to back into one buffer owned by the loop (see
  // kMinLargeFramesPerBurst), allocated here and reused, so a wakeup allocates nothing. A stack's
  // IngestBurst is the handler this is for: its timers advance and its events are delivered once
  // per burst.
  std::error_code AttachDeviceBursts(Device& device, BurstHandler on_burst);
  // ENOENT if `device` is not attached to this loop.
  std::error_code DetachDevice(Device& device);

  // The loop sleeps until next_deadline() at most, and calls on_time(now) once now has reached it.
  // next_deadline is asked again every iteration. Replaces any earlier source; pass empty
  // functions to remove it.
  void SetTimerSource(DeadlineSource next_deadline, TimeHandler on_time);

  // One iteration (see the top of this file). `max_wait` caps the sleep; nullopt: sleep until a
  // descriptor, device or deadline needs attention (forever if none ever does). Returns the first
  // error from epoll or a device's Receive; handlers have still run for everything else. EDEADLK
  // when called from one of the loop's own callbacks.
  std::error_code RunOnce(std::optional<timers::Duration> max_wait);

  // Iterates until Stop() is called or keep_going (asked before each iteration) returns false.
  // A Stop() that comes while Run is not running makes the next Run return at once.
  std::error_code Run(std::function<bool()> keep_going = nullptr);

  // Makes Run return after the current iteration, waking it if it sleeps.
  void Stop();

  // Receive moderation, as a NIC's adaptive interrupt moderation (ethtool's rx-usecs) or Linux's
  // NAPI deferral (gro_flush_timeout) does it: after an iteration that read a bulk frame (at least
  // kBulkFrameBytes) from a device, the next one first sleeps `hold` (real time) before it waits on
  // the descriptors, so that frames arriving meanwhile are read, and answered, as one burst
  // instead of one wakeup each. A sender that paces its frames (the kernel's BBR) otherwise costs
  // a wakeup per frame. Small frames (the ACKs a sender of bulk data reads, requests and answers
  // of a few hundred bytes) never cause a hold: holding them would only delay the answer. The
  // first frame after a quiet iteration is read with no delay; a frame that arrives during a hold
  // waits for it. Zero (the default) turns it off. Only iterations allowed to sleep hold: RunOnce
  // with a max_wait of zero (a virtual clock's) never does.
  void set_receive_hold(timers::Duration hold) { receive_hold_ = hold; }
  timers::Duration receive_hold() const { return receive_hold_; }

  Clock& clock() const { return clock_; }
  const EventLoopStats& stats() const { return stats_; }

 private:
  struct Source {
    int fd = -1;
    Device* device = nullptr;  // null for readers
    std::function<void()> on_readable;
    FrameHandler on_frame;  // devices attached with AttachDevice
    BurstHandler on_burst;  // devices attached with AttachDeviceBursts
    // on_frame devices: one frame; on_burst devices: a burst's frames back to back.
    std::vector<std::uint8_t> buffer;
    std::size_t max_frame = 0;    // the device's max_receive_frame
    std::size_t burst_limit = 0;  // frames per burst call (on_burst devices)
    std::vector<std::span<const std::uint8_t>> burst_frames;  // on_burst devices: this burst's
    std::vector<RxChecksum> burst_checksums;                  // and their checksum status
    bool ready = false;    // the descriptor was reported readable this iteration
    bool removed = false;  // detached during dispatch
  };

  struct TimerSource {
    DeadlineSource next_deadline;
    TimeHandler on_time;
  };

  std::optional<timers::TimePoint> NextWakeup() const;
  std::error_code Watch(int fd, std::uint64_t id);
  std::error_code Attach(Device& device, std::shared_ptr<Source> source);
  std::error_code Drain(Source& source, timers::TimePoint now);
  std::error_code DrainBursts(Source& source, timers::TimePoint now);

  Clock& clock_;
  std::error_code init_error_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd that Stop() writes to
  std::atomic<bool> stop_requested_{false};
  bool in_run_once_ = false;
  timers::Duration receive_hold_{0};
  bool read_bulk_frame_ = false;  // this iteration read a frame of kBulkFrameBytes or more
  std::uint64_t next_id_ = 1;     // 0 is wake_fd_
  // Every watched source by id (the epoll data), plus lookups by descriptor and device.
  std::unordered_map<std::uint64_t, std::shared_ptr<Source>> sources_;
  std::unordered_map<int, std::uint64_t> ids_by_fd_;
  std::vector<std::shared_ptr<Source>> devices_;   // in attach order
  std::vector<std::shared_ptr<Source>> dispatch_;  // reused snapshot of devices_ per iteration
  // Shared so that on_time may replace the source while it runs.
  std::shared_ptr<TimerSource> timer_;
  EventLoopStats stats_;
};

}  // namespace tapstack::tap

#endif  // TAPSTACK_TAP_EVENT_LOOP_H_
