// The link-layer device interface that the event loop and the stack's drivers talk to.
//
// A Device moves whole Ethernet frames (no preamble, no FCS). Implementations: TapDevice (a Linux
// TAP interface), MemoryLink (two endpoints joined in memory), and wrappers that stack over any
// device: FaultyLink (seeded loss, delay, reordering...) and PcapRecorder (a capture file).
//
// Time is always passed in, never read: a device works the same under a RealClock and under a
// VirtualClock driven by a test. Devices are single-threaded, like the event loop that drives them.
//
// Errors follow the project's one model (stack/result.h): std::error_code values in the POSIX
// category. They carry no text: Send and Receive run once per frame, so a failure costs no more
// than a success, and the caller that reports it adds the context it knows.
#ifndef TAPSTACK_TAP_DEVICE_H_
#define TAPSTACK_TAP_DEVICE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "stack/result.h"
#include "stack/rx_checksum.h"
#include "stack/tx_offload.h"
#include "timers/timer_wheel.h"

namespace tapstack::tap {

// Destination + source MAC + EtherType.
inline constexpr std::size_t kEthernetHeaderSize = 14;
// Room for an 802.1Q tag on top of the header, so a tagged full-MTU frame still fits.
inline constexpr std::size_t kMaxFrameOverhead = kEthernetHeaderSize + 4;

// The largest frame a device with this MTU sends or receives, and the buffer size that always
// holds one received frame.
constexpr std::size_t MaxFrameSize(std::size_t mtu) { return mtu + kMaxFrameOverhead; }

// The largest frame a device with receive offloads may hand over: a TCP super-segment of the
// largest IPv4 datagram (65535 bytes, RFC 791) behind an Ethernet header and an 802.1Q tag.
inline constexpr std::size_t kMaxCoalescedFrameSize = 65535 + kMaxFrameOverhead;

// The TCP payload a TSO super-segment may carry so that it fits the largest IPv4 datagram whatever
// its headers: 65535 less a 20-byte IPv4 header and a TCP header with 40 bytes of options.
inline constexpr std::size_t kMaxTcpSegmentOffload = 65535 - 20 - 60;

// What a device can do for the stack beyond moving frames, in the spirit of smoltcp's
// DeviceCapabilities. Wrappers report those of the device they wrap.
struct DeviceCapabilities {
  // The largest frame Receive may return: MaxFrameSize(mtu()) for a plain device, more when the
  // device hands over coalesced TCP super-segments (GRO/LRO; kMaxCoalescedFrameSize). A receive
  // buffer of this size never loses a frame.
  std::size_t max_receive_frame = 0;
  // TSO: the largest TCP segment (payload bytes) the device accepts in one frame and cuts to the
  // MSS itself. 0: none, every frame we send fits the MTU.
  std::size_t max_tcp_segment_offload = 0;
  // The device computes the TCP checksum of frames we send (it would take them partial).
  bool tx_checksum_offload = false;
  // Received frames may come with their TCP checksum verified, or partial from a local sender
  // (ReceivedFrame::checksum says which); without it every frame is RxChecksum::kUnverified.
  bool rx_checksum_offload = false;
  // The most frames the device can hold ready at once (its receive queue), so the most one wakeup
  // can drain; 0 when it has no such limit.
  std::size_t max_burst_frames = 0;
};

// What a device has done. Every frame that does not make it is counted under one reason.
struct DeviceStats {
  std::uint64_t frames_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t frames_received = 0;
  std::uint64_t bytes_received = 0;

  // Send-side drops.
  std::uint64_t tx_dropped_queue_full = 0;  // the link or kernel could not take the frame now
  std::uint64_t tx_dropped_link_down = 0;   // the interface is down (TAP: EIO)
  std::uint64_t tx_dropped_invalid = 0;     // shorter than an Ethernet header or > MaxFrameSize
  std::uint64_t tx_errors = 0;              // any other failure, returned as an error

  // Receive-side drops.
  std::uint64_t rx_dropped_too_big = 0;  // did not fit the caller's buffer
  std::uint64_t rx_errors = 0;           // failures returned as an error
  // A virtio-net header that does not fit its frame (TapDevice with offloads; the reasons apart
  // in TapDevice::vnet_header_drops()).
  std::uint64_t rx_dropped_bad_vnet_header = 0;

  // Receive offloads at work (TapDevice with offloads): frames received...
  std::uint64_t rx_coalesced_frames = 0;   // as TCP super-segments (GSO TCPV4): GRO or local TSO
  std::uint64_t rx_checksum_partial = 0;   // with a partial checksum (NEEDS_CSUM), not checked
  std::uint64_t rx_checksum_verified = 0;  // with the checksum verified (DATA_VALID), not checked

  // Transmit offloads at work: frames sent...
  std::uint64_t tx_super_segments = 0;    // as TCP super-segments for the device to cut (TSO)
  std::uint64_t tx_checksum_partial = 0;  // with a partial TCP checksum for the device to finish
  // Frames the default SendWithOffload cut or completed in software (one per resulting frame).
  std::uint64_t tx_software_offloaded = 0;

  std::uint64_t tx_dropped() const {
    return tx_dropped_queue_full + tx_dropped_link_down + tx_dropped_invalid + tx_errors;
  }
};

// One received frame: its length in the caller's buffer (0: none was ready) and what the device
// knows of its TCP checksum.
struct ReceivedFrame {
  std::size_t size = 0;
  RxChecksum checksum = RxChecksum::kUnverified;
};

class Device {
 public:
  virtual ~Device() = default;

  // Sends one Ethernet frame. Never blocks: a frame that cannot go out now is dropped and counted.
  // Returns an empty error_code when the frame was taken or dropped as counted. A frame shorter
  // than kEthernetHeaderSize (EINVAL) or longer than MaxFrameSize(mtu()) (EMSGSIZE) is a caller
  // bug: it is counted as tx_dropped_invalid and the error is returned.
  virtual std::error_code Send(std::span<const std::uint8_t> frame, timers::TimePoint now) = 0;

  // Sends one frame with what the stack asks the device to finish on it (stack/tx_offload.h): a
  // TCP super-segment to cut (up to kMaxCoalescedFrameSize), a partial checksum to complete. The
  // default does it in software and sends each resulting frame with Send, so that every device
  // takes offloaded frames whatever its capabilities; a device that passes the work on (TapDevice
  // with offloads) overrides it. A frame the offload cannot apply to (not TCP, inconsistent
  // lengths) is counted as tx_dropped_invalid and EINVAL is returned.
  virtual std::error_code SendWithOffload(std::span<const std::uint8_t> frame,
                                          const TxOffload& offload, timers::TimePoint now);

  // Copies one received frame that is ready at `now` into `buffer`; returns its length, 0 when
  // none is ready. A frame larger than `buffer` is dropped (rx_dropped_too_big) and the next one is
  // tried, so a buffer of MaxFrameSize(mtu()) bytes never loses a frame. An error means the device
  // itself failed (EBADF, EIO, ENODEV...: a closed or removed interface), not a bad frame.
  virtual Result<std::size_t> Receive(std::span<std::uint8_t> buffer, timers::TimePoint now) = 0;

  // Receive, also saying what the device knows of the frame's TCP checksum; the event loop reads
  // through this. The default, for devices without receive offloads, reports kUnverified. A
  // device with rx_checksum_offload must override it (its Receive alone loses the status, and a
  // partial checksum would then look wrong); wrappers override it to pass their device's on.
  virtual Result<ReceivedFrame> ReceiveFrame(std::span<std::uint8_t> buffer, timers::TimePoint now);

  // What the device can do beyond moving frames. The default: a plain device of this MTU.
  virtual DeviceCapabilities capabilities() const;

  // A descriptor that becomes readable when Receive may return a frame, or -1 (then the loop polls
  // via NextReadyTime).
  virtual int poll_fd() const { return -1; }

  // Earliest time at which this device wants Receive to be called: a queued frame becomes ready
  // (delayed links), or a wrapper has held-back outgoing frames to release. nullopt if none queued.
  // A time at or before now means "call Receive now".
  virtual std::optional<timers::TimePoint> NextReadyTime() const { return std::nullopt; }

  virtual std::size_t mtu() const = 0;

  // Frames/bytes sent/received and drops by reason. The default returns the counters kept through
  // mutable_stats(); wrappers return those of the device they wrap.
  virtual DeviceStats stats() const { return stats_; }

 protected:
  DeviceStats& mutable_stats() { return stats_; }
  // What the default SendWithOffload does: finish the offload in software, Send each frame.
  std::error_code SendInSoftware(std::span<const std::uint8_t> frame, const TxOffload& offload,
                                 timers::TimePoint now);

  // Checks the size of a frame about to be sent; counts a bad one as tx_dropped_invalid and
  // returns EINVAL (shorter than an Ethernet header) or EMSGSIZE (longer than MaxFrameSize(mtu())).
  std::error_code CheckSendSize(std::span<const std::uint8_t> frame);

 private:
  DeviceStats stats_;
  // Where SendInSoftware builds the frames it cuts; keeps its capacity.
  std::vector<std::uint8_t> offload_scratch_;
};

}  // namespace tapstack::tap

#endif  // TAPSTACK_TAP_DEVICE_H_
