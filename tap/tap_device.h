// A Linux TAP interface as a Device: Ethernet frames in and out of the kernel through
// /dev/net/tun (IFF_TAP | IFF_NO_PI, see the kernel's Documentation/networking/tuntap.rst).
//
// The device may live in another network namespace than the calling process: Open() enters the
// namespace on the calling thread only (setns), opens /dev/net/tun and binds it to the interface
// there (TUNSETIFF), then returns to the original namespace. A tun descriptor belongs to the
// interface it was bound to, so the process keeps talking to a device in the test's namespace
// while its own sockets and its other threads stay where they were.
//
// A device created here (not there before) is not persistent: the kernel deletes it when the
// TapDevice is destroyed and its descriptor closed.
//
// Offloads (TapOptions::offload): the descriptor is opened with IFF_VNET_HDR, so that a
// virtio-net header (tap/virtio_net_header.h) travels before every frame, and the kernel is told
// with TUNSETOFFLOAD (TUN_F_CSUM | TUN_F_TSO4) that we take frames with partial checksums and TCP
// super-segments up to 64 KiB: its TCP then hands us whole TSO segments and what GRO merged, one
// read per super-segment instead of one per 1500-byte frame, and we skip the checksums it vouches
// for. The other way, the stack hands us TCP super-segments with partial checksums
// (SendWithOffload) and the header asks the kernel to finish them; every other frame goes with a
// zeroed header, as in the plain mode. When the kernel refuses any of these steps, the device falls
// back to the plain mode (offload_status() says which step and why).
#ifndef TAPSTACK_TAP_TAP_DEVICE_H_
#define TAPSTACK_TAP_TAP_DEVICE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>

#include "tap/device.h"
#include "tap/virtio_net_header.h"

namespace tapstack::tap {

struct TapOptions {
  // Interface name: 1 to IFNAMSIZ-1 (15) characters from [A-Za-z0-9_.-], not "." or "..".
  std::string name{};
  // Named network namespace (as `ip netns add NAME` creates under /var/run/netns); empty: the
  // calling thread's current namespace.
  std::string netns{};
  // true: attach to the interface if it exists, create it otherwise. false: it must exist.
  bool create = true;
  // The interface MTU. Open() sets the kernel's MTU for the interface to it when it differs, so
  // both sides agree on the largest frame.
  std::size_t mtu = 1500;
  // Ask the kernel for receive offloads (virtio-net header, partial checksums, TCP super-segments);
  // falls back to the plain mode when it refuses. Off: the plain mode, as before offloads existed.
  bool offload = false;
};

// Whether a TapDevice runs with offloads, and if not, why.
struct TapOffloadStatus {
  bool asked = false;   // TapOptions::offload
  bool active = false;  // the virtio-net header is on and the kernel took our offload flags
  // When asked but not active: the request the kernel refused ("TUNSETOFFLOAD", ...) and its
  // errno. Static text, nothing allocated.
  const char* refused_request = nullptr;
  std::error_code refused_error;
};

// For logs: "on (virtio-net header: partial checksums and TCPv4 super-segments, both ways)",
// "off (not asked)", or "off (the kernel refused TUNSETOFFLOAD: Invalid argument)".
std::string DescribeOffloadStatus(const TapOffloadStatus& status);

class TapDevice : public Device {
 public:
  // Errors are the errno of the check or system call that failed:
  //   EINVAL  a bad interface or namespace name or MTU (checked before any system call), or an
  //           interface of that name that is not a TAP device without packet info (TUNSETIFF);
  //   ENOENT  the namespace does not exist, or /dev/net/tun is missing (ENODEV or ENXIO when the
  //           node is there but the tun module is not loaded);
  //   ENODEV  create is false and the interface does not exist;
  //   EPERM, EACCES  without root or CAP_NET_ADMIN (CAP_SYS_ADMIN too to enter a namespace);
  //   EBUSY   the interface is already attached to another descriptor.
  // The code alone does not say which step failed; DescribeOpenError() does, for messages.
  // When the kernel's side of the interface is up, Open returns once the kernel runs it
  // (IFF_RUNNING, at most a second after attaching), so that the first frames sent are answered.
  static Result<std::unique_ptr<TapDevice>> Open(const TapOptions& options);
  ~TapDevice() override;

  TapDevice(const TapDevice&) = delete;
  TapDevice& operator=(const TapDevice&) = delete;

  // EAGAIN/ENOBUFS (kernel queue full) count as tx_dropped_queue_full, EIO (interface down) as
  // tx_dropped_link_down; both return no error. Other write(2) failures are returned as they
  // come (EIO when the kernel took part of a frame, which it never should).
  std::error_code Send(std::span<const std::uint8_t> frame, timers::TimePoint now) override;
  // With offloads on, the kernel finishes the work: the frame goes in one write behind a
  // virtio-net header that asks for its TCP checksum (NEEDS_CSUM) and, for a super-segment, for
  // segmentation at the MSS (GSO TCPV4). Without, or for TSO over IPv6, the work is done in
  // software (Device::SendInSoftware). Errors and drops as Send.
  std::error_code SendWithOffload(std::span<const std::uint8_t> frame, const TxOffload& offload,
                                  timers::TimePoint now) override;
  // Returns 0 on EAGAIN, and readv(2)'s errno on failure. The descriptor is non-blocking. With
  // offloads, a frame whose virtio-net header does not fit it is dropped and counted
  // (rx_dropped_bad_vnet_header, and by reason in vnet_header_drops()), and the next is tried.
  // Receive alone loses what the header said of the checksum: with offloads, read through
  // ReceiveFrame (the event loop does), or a partial checksum would be checked and fail.
  Result<std::size_t> Receive(std::span<std::uint8_t> buffer, timers::TimePoint now) override;
  Result<ReceivedFrame> ReceiveFrame(std::span<std::uint8_t> buffer,
                                     timers::TimePoint now) override;
  int poll_fd() const override { return fd_; }
  std::size_t mtu() const override { return mtu_; }
  // With offloads, frames up to kMaxCoalescedFrameSize and checksum status per frame received,
  // and TSO (TCPv4, up to kMaxTcpSegmentOffload bytes of payload) and checksum offload for what we
  // send through SendWithOffload. The burst limit is the interface's transmit queue length, the
  // size of the kernel's queue of frames for us (drivers/net/tun.c sizes its ring by tx_queue_len).
  DeviceCapabilities capabilities() const override;

  const TapOffloadStatus& offload_status() const { return offload_; }
  // Frames dropped for a bad virtio-net header, by VirtioNetHeaderError.
  const std::array<std::uint64_t, kVirtioNetHeaderErrorCount>& vnet_header_drops() const {
    return vnet_header_drops_;
  }

  // The interface name the kernel confirmed.
  const std::string& name() const { return name_; }
  const std::string& netns() const { return netns_; }

 private:
  // One write(2) of `vnet_header` (when offloads are on) and `frame`; drops counted as Send says.
  std::error_code Write(std::span<const std::uint8_t, kVirtioNetHeaderSize> vnet_header,
                        std::span<const std::uint8_t> frame);

  TapDevice(int fd, std::string name, std::string netns, std::size_t mtu, std::size_t queue_length,
            TapOffloadStatus offload)
      : fd_(fd),
        name_(std::move(name)),
        netns_(std::move(netns)),
        mtu_(mtu),
        queue_length_(queue_length),
        offload_(offload) {}

  int fd_;
  std::string name_;
  std::string netns_;
  std::size_t mtu_;
  std::size_t queue_length_;  // the interface's tx_queue_len; 0 if unknown
  TapOffloadStatus offload_;
  std::array<std::uint64_t, kVirtioNetHeaderErrorCount> vnet_header_drops_{};
};

// A sentence for a person about an error TapDevice::Open(options) returned: which device and
// namespace, the error, and what most likely caused it ("cannot open TAP device 'tap0' in network
// namespace 'lab': No such file or directory (network namespace 'lab' does not exist ...)").
// Kept apart from Open so that Open builds no text; this may look at the file system again (to
// tell a missing namespace from a missing /dev/net/tun), so call it right after the failure.
std::string DescribeOpenError(const TapOptions& options, std::error_code error);

}  // namespace tapstack::tap

#endif  // TAPSTACK_TAP_TAP_DEVICE_H_
