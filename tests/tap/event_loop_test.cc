// EventLoop: devices with and without descriptors, extra readers, the timer source on a real and
// a virtual clock, Stop(). Real-clock tests check only that nothing happens before its time,
// never how soon after: that would be flaky on a loaded machine.
#include "tap/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "tap/clock.h"
#include "tap/faulty_link.h"
#include "tap/memory_link.h"
#include "tests/tap/test_frames.h"

namespace tapstack::tap {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;
using test_frames::MakeFrame;
using test_frames::SeqOf;

const timers::TimePoint kT0 = timers::TimePoint{} + std::chrono::hours(1);

// A pipe whose ends close with the test.
struct Pipe {
  Pipe() { EXPECT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0); }
  ~Pipe() {
    close(fds[0]);
    close(fds[1]);
  }
  void Write() { ASSERT_EQ(write(fds[1], "x", 1), 1); }
  int ReadAll() {
    char buffer[64];
    int total = 0;
    ssize_t n;
    while ((n = read(fds[0], buffer, sizeof(buffer))) > 0) total += static_cast<int>(n);
    return total;
  }
  int fds[2];
};

TEST(EventLoopTest, DeliversFramesOfADeviceWithoutDescriptor) {
  RealClock clock;
  EventLoop loop(clock);
  auto [a, b] = MemoryLink::CreatePair();
  std::vector<std::uint64_t> seqs;
  ASSERT_FALSE(loop.AttachDevice(*b, [&](std::span<const std::uint8_t> frame, timers::TimePoint,
                                         RxChecksum) { seqs.push_back(SeqOf(frame)); }));
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(a->Send(MakeFrame(i), clock.Now()));
  // A generous cap: the frames are due now, so the loop must not sleep at all.
  ASSERT_FALSE(loop.RunOnce(seconds(10)));
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(loop.stats().frames, 3u);
  EXPECT_EQ(loop.AttachDevice(*b, nullptr), std::errc::file_exists);
}

TEST(EventLoopTest, SleepsUntilADelayedFrameIsDue) {
  RealClock clock;
  EventLoop loop(clock);
  auto [a, b] = MemoryLink::CreatePair();
  FaultyLink delayed(*a, {.min_delay = milliseconds(20), .max_delay = milliseconds(20)});
  timers::TimePoint arrived{};
  // The FaultyLink is attached first, so the frame it releases reaches b in the same iteration.
  ASSERT_FALSE(loop.AttachDevice(delayed, [](auto, auto, auto) {}));
  ASSERT_FALSE(loop.AttachDevice(*b, [&](auto, timers::TimePoint now, auto) {
    arrived = now;
    loop.Stop();
  }));
  const timers::TimePoint sent = clock.Now();
  ASSERT_FALSE(delayed.Send(MakeFrame(1), sent));
  ASSERT_FALSE(loop.Run());
  EXPECT_GE(arrived, sent + milliseconds(20));
  EXPECT_GE(clock.Now(), sent + milliseconds(20));
}

TEST(EventLoopTest, VirtualClockNeverSleepsAndDeliversWhenTimeComes) {
  VirtualClock clock(kT0);
  EventLoop loop(clock);
  auto [a, b] = MemoryLink::CreatePair();
  FaultyLink delayed(*a, {.min_delay = milliseconds(10), .max_delay = milliseconds(10)});
  std::vector<timers::TimePoint> arrivals;
  ASSERT_FALSE(loop.AttachDevice(delayed, [](auto, auto, auto) {}));
  ASSERT_FALSE(
      loop.AttachDevice(*b, [&](auto, timers::TimePoint now, auto) { arrivals.push_back(now); }));
  ASSERT_FALSE(delayed.Send(MakeFrame(1), clock.Now()));
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
  EXPECT_TRUE(arrivals.empty());
  clock.Advance(milliseconds(9));
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
  EXPECT_TRUE(arrivals.empty());
  clock.Advance(milliseconds(1));
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
  EXPECT_EQ(arrivals, std::vector<timers::TimePoint>{kT0 + milliseconds(10)});
}

TEST(EventLoopTest, TimerSourceFiresAtItsDeadlineOnVirtualTime) {
  VirtualClock clock(kT0);
  EventLoop loop(clock);
  timers::TimePoint deadline = kT0 + seconds(5);
  std::vector<timers::TimePoint> fired;
  loop.SetTimerSource([&]() -> std::optional<timers::TimePoint> { return deadline; },
                      [&](timers::TimePoint now) {
                        fired.push_back(now);
                        deadline = now + seconds(5);
                      });
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
  clock.Advance(milliseconds(4999));
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
  EXPECT_TRUE(fired.empty());
  clock.Advance(milliseconds(1));
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
  EXPECT_EQ(fired, std::vector<timers::TimePoint>{kT0 + seconds(5)});
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
  EXPECT_EQ(fired.size(), 1u);
  EXPECT_EQ(loop.stats().timer_calls, 1u);
}

TEST(EventLoopTest, TimerSourceNeverFiresBeforeItsDeadlineOnRealTime) {
  RealClock clock;
  EventLoop loop(clock);
  // 30.4 ms: not a whole number of milliseconds, so a rounded-down timeout would fire early.
  std::vector<timers::Duration> offsets = {microseconds(30'400), microseconds(300),
                                           milliseconds(2)};
  for (timers::Duration offset : offsets) {
    const timers::TimePoint deadline = clock.Now() + offset;
    timers::TimePoint fired_at{};
    int calls = 0;
    loop.SetTimerSource([&]() -> std::optional<timers::TimePoint> { return deadline; },
                        [&](timers::TimePoint now) {
                          fired_at = now;
                          ++calls;
                          loop.Stop();
                        });
    ASSERT_FALSE(loop.Run());
    EXPECT_EQ(calls, 1);
    EXPECT_GE(fired_at, deadline);
    EXPECT_GE(clock.Now(), deadline);
  }
  loop.SetTimerSource(nullptr, nullptr);
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
}

TEST(EventLoopTest, DoesNotSpinWhileWaitingForATimer) {
  RealClock clock;
  EventLoop loop(clock);
  const timers::TimePoint deadline = clock.Now() + milliseconds(50);
  loop.SetTimerSource([&]() -> std::optional<timers::TimePoint> { return deadline; },
                      [&](timers::TimePoint) { loop.Stop(); });
  ASSERT_FALSE(loop.Run());
  // One sleep of 50 ms, perhaps one more for a sub-millisecond remainder: never hundreds.
  EXPECT_LE(loop.stats().iterations, 3u);
}

TEST(EventLoopTest, ReaderIsCalledWhenItsDescriptorIsReadable) {
  RealClock clock;
  EventLoop loop(clock);
  Pipe pipe;
  int calls = 0;
  int bytes = 0;
  ASSERT_FALSE(loop.AddReader(pipe.fds[0], [&] {
    ++calls;
    bytes += pipe.ReadAll();
  }));
  EXPECT_EQ(loop.AddReader(pipe.fds[0], [] {}), std::errc::file_exists);
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
  EXPECT_EQ(calls, 0);
  pipe.Write();
  ASSERT_FALSE(loop.RunOnce(seconds(10)));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(bytes, 1);
  ASSERT_FALSE(loop.RemoveReader(pipe.fds[0]));
  EXPECT_EQ(loop.RemoveReader(pipe.fds[0]), std::errc::no_such_file_or_directory);
  pipe.Write();
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
  EXPECT_EQ(calls, 1);
}

TEST(EventLoopTest, StopFromACallbackEndsRun) {
  RealClock clock;
  EventLoop loop(clock);
  Pipe pipe;
  int calls = 0;
  ASSERT_FALSE(loop.AddReader(pipe.fds[0], [&] {
    ++calls;
    loop.Stop();  // left unread: level-triggered, it would fire again and again
  }));
  pipe.Write();
  ASSERT_FALSE(loop.Run());
  EXPECT_EQ(calls, 1);
  // A callback may remove itself too.
  ASSERT_FALSE(loop.RemoveReader(pipe.fds[0]));
  ASSERT_FALSE(loop.AddReader(pipe.fds[0], [&] {
    ++calls;
    EXPECT_FALSE(loop.RemoveReader(pipe.fds[0]));
    loop.Stop();
  }));
  ASSERT_FALSE(loop.Run());
  EXPECT_EQ(calls, 2);
}

TEST(EventLoopTest, StopBeforeRunMakesRunReturnAtOnce) {
  RealClock clock;
  EventLoop loop(clock);
  loop.Stop();
  ASSERT_FALSE(loop.Run());  // would block forever otherwise: nothing to wait for
  EXPECT_EQ(loop.stats().iterations, 0u);
}

TEST(EventLoopTest, KeepGoingEndsRun) {
  VirtualClock clock(kT0);
  EventLoop loop(clock);
  int ticks = 0;
  loop.SetTimerSource([&]() -> std::optional<timers::TimePoint> { return clock.Now(); },
                      [&](timers::TimePoint) { ++ticks; });
  ASSERT_FALSE(loop.Run([&] { return ticks < 5; }));
  EXPECT_EQ(ticks, 5);
}

TEST(EventLoopTest, CallbacksMayDetachTheirDeviceButNotReenterTheLoop) {
  VirtualClock clock(kT0);
  EventLoop loop(clock);
  auto [a, b] = MemoryLink::CreatePair();
  int frames = 0;
  std::error_code nested;
  ASSERT_FALSE(loop.AttachDevice(*b, [&](auto, auto, auto) {
    ++frames;
    nested = loop.RunOnce(timers::Duration::zero());
    EXPECT_FALSE(loop.DetachDevice(*b));
  }));
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(a->Send(MakeFrame(i), kT0));
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
  EXPECT_EQ(frames, 1);
  EXPECT_EQ(nested, std::errc::resource_deadlock_would_occur);
  EXPECT_EQ(b->NextReadyTime(), kT0) << "the other frames stay queued";
  EXPECT_EQ(loop.DetachDevice(*b), std::errc::no_such_file_or_directory);
}

// A device with a descriptor, like a TAP device: a pipe that is readable while frames wait.
class FakeDescriptorDevice : public Device {
 public:
  void Queue(std::vector<std::uint8_t> frame, RxChecksum checksum = RxChecksum::kUnverified) {
    if (next_ == frames_.size()) pipe_.Write();  // nothing was waiting: readable from now on
    frames_.push_back(std::move(frame));
    checksums_.push_back(checksum);
  }
  // Like a TAP with offloads: frames up to `max_frame` bytes, each with its checksum status.
  void OfferLargeFrames(std::size_t max_frame) { max_frame_ = max_frame; }
  Result<ReceivedFrame> ReceiveFrame(std::span<std::uint8_t> buffer,
                                     timers::TimePoint now) override {
    const std::size_t index = next_;
    const Result<std::size_t> size = Receive(buffer, now);
    if (!size.ok()) return size.error();
    if (*size == 0) return ReceivedFrame{};
    return ReceivedFrame{.size = *size, .checksum = checksums_[index]};
  }
  DeviceCapabilities capabilities() const override {
    DeviceCapabilities capabilities = Device::capabilities();
    if (max_frame_ != 0) {
      capabilities.max_receive_frame = max_frame_;
      capabilities.rx_checksum_offload = true;
    }
    return capabilities;
  }
  std::error_code Send(std::span<const std::uint8_t>, timers::TimePoint) override { return {}; }
  Result<std::size_t> Receive(std::span<std::uint8_t> buffer, timers::TimePoint) override {
    ++receive_calls;
    if (next_ == frames_.size()) {
      pipe_.ReadAll();
      return std::size_t{0};
    }
    const std::vector<std::uint8_t>& frame = frames_[next_++];
    if (frame.size() > buffer.size()) return Errno(EMSGSIZE);  // the loop's buffer was too small
    std::copy(frame.begin(), frame.end(), buffer.begin());
    return frame.size();
  }
  int poll_fd() const override { return pipe_.fds[0]; }
  std::size_t mtu() const override { return 1500; }

  int receive_calls = 0;

 private:
  Pipe pipe_;
  std::vector<std::vector<std::uint8_t>> frames_;
  std::vector<RxChecksum> checksums_;
  std::size_t next_ = 0;
  std::size_t max_frame_ = 0;
};

TEST(EventLoopTest, BurstDeviceIsDrainedInOneWakeup) {
  RealClock clock;
  EventLoop loop(clock);
  FakeDescriptorDevice device;
  for (int i = 0; i < 150; ++i) device.Queue(MakeFrame(i));
  std::vector<std::size_t> burst_sizes;
  std::vector<std::uint64_t> seqs;
  ASSERT_FALSE(loop.AttachDeviceBursts(
      device, [&](std::span<const std::span<const std::uint8_t>> frames, timers::TimePoint, auto) {
        burst_sizes.push_back(frames.size());
        for (const auto frame : frames) seqs.push_back(SeqOf(frame));
      }));
  // A generous cap: the descriptor is readable, so the loop must not sleep at all.
  ASSERT_FALSE(loop.RunOnce(seconds(10)));
  EXPECT_EQ(loop.stats().iterations, 1u);
  EXPECT_EQ(burst_sizes, (std::vector<std::size_t>{64, 64, 22}));
  ASSERT_EQ(seqs.size(), 150u);
  for (std::uint64_t i = 0; i < 150; ++i) EXPECT_EQ(seqs[i], i);
  EXPECT_EQ(loop.stats().frames, 150u);
  EXPECT_EQ(loop.stats().bursts, 3u);
  EXPECT_EQ(device.receive_calls, 151) << "every frame, then the empty read that ends the drain";
}

// Receive moderation: after an iteration that read a bulk frame, the next one first sleeps the
// hold, so frames arriving meanwhile come in one burst; no hold after small frames only, after a
// quiet iteration, in an iteration that may not sleep, or when it is zero. Real clock: only "not
// before" is checked.
TEST(EventLoopTest, ReceiveHoldSleepsOnlyAfterAnIterationThatReadBulkData) {
  RealClock clock;
  EventLoop loop(clock);
  constexpr timers::Duration kHold = milliseconds(20);
  constexpr std::size_t kBulk = EventLoop::kBulkFrameBytes;
  loop.set_receive_hold(kHold);
  FakeDescriptorDevice device;
  std::vector<std::size_t> burst_sizes;
  ASSERT_FALSE(loop.AttachDeviceBursts(
      device, [&](std::span<const std::span<const std::uint8_t>> frames, timers::TimePoint, auto) {
        burst_sizes.push_back(frames.size());
      }));
  device.Queue(MakeFrame(0, kBulk));
  ASSERT_FALSE(loop.RunOnce(seconds(10)));
  EXPECT_EQ(loop.stats().receive_holds, 0u) << "nothing was read before: the frame comes at once";

  // Two frames that came while the first was handled: the hold comes first, then one burst.
  device.Queue(MakeFrame(1, kBulk));
  device.Queue(MakeFrame(2, 64));
  const auto before = std::chrono::steady_clock::now();
  ASSERT_FALSE(loop.RunOnce(seconds(10)));
  EXPECT_GE(std::chrono::steady_clock::now() - before, kHold);
  EXPECT_EQ(loop.stats().receive_holds, 1u);
  EXPECT_EQ(burst_sizes, (std::vector<std::size_t>{1, 2}));

  // An iteration that may not sleep does not hold either, though the last one read bulk data.
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
  EXPECT_EQ(loop.stats().receive_holds, 1u);
  // After a quiet iteration, a frame is read with no hold.
  device.Queue(MakeFrame(3, 64));
  ASSERT_FALSE(loop.RunOnce(seconds(10)));
  EXPECT_EQ(loop.stats().receive_holds, 1u);
  // That frame was small (one byte short of bulk, like an ACK): no hold after it either.
  device.Queue(MakeFrame(4, kBulk - 1));
  ASSERT_FALSE(loop.RunOnce(seconds(10)));
  EXPECT_EQ(loop.stats().receive_holds, 1u);
  EXPECT_EQ(burst_sizes, (std::vector<std::size_t>{1, 2, 1, 1}));

  // Zero turns it off.
  device.Queue(MakeFrame(5, kBulk));
  ASSERT_FALSE(loop.RunOnce(seconds(10)));
  loop.set_receive_hold(timers::Duration::zero());
  device.Queue(MakeFrame(6, kBulk));
  ASSERT_FALSE(loop.RunOnce(seconds(10)));
  EXPECT_EQ(loop.stats().receive_holds, 1u);
  EXPECT_EQ(loop.stats().frames, 7u);
}

// Super-segments of a TAP with offloads: a burst is read back to back into one buffer, so it ends
// when the next frame might not fit (8 frames of 60,000 bytes here), every frame arrives whole and
// in order, and each keeps the checksum status its device gave it.
TEST(EventLoopTest, LargeFramesFillBurstsWholeWithTheirChecksumStatus) {
  RealClock clock;
  EventLoop loop(clock);
  FakeDescriptorDevice device;
  device.OfferLargeFrames(kMaxCoalescedFrameSize);
  for (int i = 0; i < 20; ++i) {
    device.Queue(MakeFrame(i, 60000), i % 2 == 0 ? RxChecksum::kPartial : RxChecksum::kVerified);
  }
  std::vector<std::size_t> burst_sizes;
  std::vector<std::uint64_t> seqs;
  std::vector<RxChecksum> statuses;
  std::vector<std::uint8_t> last_frame;
  ASSERT_FALSE(loop.AttachDeviceBursts(
      device, [&](std::span<const std::span<const std::uint8_t>> frames, timers::TimePoint,
                  std::span<const RxChecksum> checksums) {
        burst_sizes.push_back(frames.size());
        ASSERT_EQ(checksums.size(), frames.size());
        for (std::size_t i = 0; i < frames.size(); ++i) {
          EXPECT_EQ(frames[i].size(), 60000u);
          seqs.push_back(SeqOf(frames[i]));
          statuses.push_back(checksums[i]);
        }
        last_frame.assign(frames.back().begin(), frames.back().end());
      }));
  ASSERT_FALSE(loop.RunOnce(seconds(10)));
  EXPECT_EQ(burst_sizes, (std::vector<std::size_t>{8, 8, 4}));
  ASSERT_EQ(seqs.size(), 20u);
  for (std::uint64_t i = 0; i < 20; ++i) {
    EXPECT_EQ(seqs[i], i);
    EXPECT_EQ(statuses[i], i % 2 == 0 ? RxChecksum::kPartial : RxChecksum::kVerified) << i;
  }
  EXPECT_EQ(last_frame, MakeFrame(19, 60000)) << "not overwritten by a later read";
}

TEST(EventLoopTest, BurstDeviceWithoutDescriptorOnVirtualTime) {
  VirtualClock clock(kT0);
  EventLoop loop(clock);
  auto [a, b] = MemoryLink::CreatePair();
  std::vector<std::size_t> burst_sizes;
  ASSERT_FALSE(loop.AttachDeviceBursts(
      *b, [&](std::span<const std::span<const std::uint8_t>> frames, timers::TimePoint, auto) {
        burst_sizes.push_back(frames.size());
      }));
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(a->Send(MakeFrame(i), kT0));
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(a->Send(MakeFrame(i), kT0 + milliseconds(1)));
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
  EXPECT_EQ(burst_sizes, (std::vector<std::size_t>{5})) << "only the frames due now";
  clock.Set(kT0 + milliseconds(1));
  ASSERT_FALSE(loop.RunOnce(timers::Duration::zero()));
  EXPECT_EQ(burst_sizes, (std::vector<std::size_t>{5, 3}));
  EXPECT_EQ(loop.AttachDevice(*b, nullptr), std::errc::file_exists);
}

}  // namespace
}  // namespace tapstack::tap
