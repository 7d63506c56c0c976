#include "tap/tap_device.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>  // struct ifreq, if_nametoindex; <linux/if.h> would clash with it
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>
#include <variant>

#include "stack/wire/tcp_segmentation.h"

namespace tapstack::tap {
namespace {

// Owns a descriptor; closes it unless released.
class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// The kernel accepts more (anything but '/', ':' and whitespace), but names that need quoting in
// a shell or look like a printf pattern ("tap%d") only cause trouble in tests and scripts.
bool ValidName(std::string_view name, std::size_t max_length) {
  if (name.empty() || name.size() > max_length || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), IsNameChar);
}

std::string NetnsPath(const std::string& netns) { return "/var/run/netns/" + netns; }

// Moves the calling thread into a named network namespace and back out when destroyed.
class NetnsGuard {
 public:
  // Does nothing when `netns` is empty. ENOENT when the namespace does not exist; otherwise the
  // errno of the open(2) or setns(2) that failed (EPERM without CAP_SYS_ADMIN).
  std::error_code Enter(const std::string& netns) {
    if (netns.empty()) return {};
    // thread-self, not self: setns changes only the calling thread, and /proc/self/ns/net would
    // be the main thread's namespace.
    original_.reset(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (original_.get() < 0) return Errno(errno);
    ScopedFd target(open(NetnsPath(netns).c_str(), O_RDONLY | O_CLOEXEC));
    if (target.get() < 0) return Errno(errno);
    if (setns(target.get(), CLONE_NEWNET) != 0) return Errno(errno);
    entered_ = true;
    return {};
  }

  ~NetnsGuard() {
    if (!entered_) return;
    if (setns(original_.get(), CLONE_NEWNET) != 0) {
      // A thread silently left in a test namespace would send the rest of the program's traffic
      // to the wrong place; that is worse than stopping here.
      std::fprintf(stderr, "tapstack: cannot return to the original network namespace: %s\n",
                   std::strerror(errno));
      std::abort();
    }
  }

 private:
  ScopedFd original_;
  bool entered_ = false;
};

// Makes the kernel's MTU for `name` equal to `mtu`, and reads its transmit queue length into
// `queue_length` (0 when it cannot be read); runs inside the device's namespace.
std::error_code MatchMtu(const std::string& name, std::size_t mtu, std::size_t& queue_length) {
  ScopedFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return Errno(errno);
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  queue_length = ioctl(sock.get(), SIOCGIFTXQLEN, &ifr) == 0 && ifr.ifr_qlen > 0
                     ? static_cast<std::size_t>(ifr.ifr_qlen)
                     : 0;
  if (ioctl(sock.get(), SIOCGIFMTU, &ifr) != 0) return Errno(errno);
  if (static_cast<std::size_t>(ifr.ifr_mtu) == mtu) return {};
  ifr.ifr_mtu = static_cast<int>(mtu);
  if (ioctl(sock.get(), SIOCSIFMTU, &ifr) != 0) return Errno(errno);
  return {};
}

// Attaching a descriptor turns the interface's carrier on, but the kernel takes the interface
// into operation (its transmit queue among it) a little later, in its link-watch work: until then
// what it sends on the interface is dropped, an answer to our first ARP request included, and the
// first connection waited a second for ARP's retry. So when the interface is up, wait until the
// kernel reports it running (IFF_RUNNING), for at most `limit`. An interface that is down stays
// down whatever we wait; it is not waited for.
void AwaitRunning(const std::string& name, std::chrono::milliseconds limit) {
  ScopedFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), std::min(name.size(), std::size_t{IFNAMSIZ - 1}));
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (ioctl(sock.get(), SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP) != 0 &&
         (ifr.ifr_flags & IFF_RUNNING) == 0 && std::chrono::steady_clock::now() < deadline) {
    const timespec pause{.tv_sec = 0, .tv_nsec = 1'000'000};
    nanosleep(&pause, nullptr);
  }
}

// Opens /dev/net/tun and binds it to the TAP interface (TUNSETIFF) with `extra_flags` besides
// IFF_TAP | IFF_NO_PI; `name` receives the name the kernel confirmed.
Result<int> AttachTap(const TapOptions& options, short extra_flags, std::string& name) {
  ScopedFd fd(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return Errno(errno);

  // ENODEV, as an ioctl on a missing interface answers, and distinct from a missing namespace.
  if (!options.create && if_nametoindex(options.name.c_str()) == 0) return Errno(ENODEV);

  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | extra_flags);
  std::memcpy(ifr.ifr_name, options.name.data(), options.name.size());
  if (ioctl(fd.get(), TUNSETIFF, &ifr) != 0) return Errno(errno);
  name.assign(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  return fd.release();
}

// Sets up the virtio-net header on a descriptor attached with IFF_VNET_HDR (the kernel's
// Documentation/networking/tuntap.rst; the requests in include/uapi/linux/if_tun.h). On failure
// `refused` names the request the kernel refused.
std::error_code EnableOffloads(int fd, const char*& refused) {
  // The header's size, set even though 10 is the default: a persistent interface keeps the size
  // an earlier user set.
  int header_size = static_cast<int>(kVirtioNetHeaderSize);
  if (ioctl(fd, TUNSETVNETHDRSZ, &header_size) != 0) {
    refused = "TUNSETVNETHDRSZ";
    return Errno(errno);
  }
  // Little-endian header fields whatever the host's byte order (legacy virtio is native-endian).
  int little_endian = 1;
  if (ioctl(fd, TUNSETVNETLE, &little_endian) != 0) {
    refused = "TUNSETVNETLE";
    return Errno(errno);
  }
  // What we accept from the kernel: partial checksums, and TCPv4 super-segments (which need
  // TUN_F_CSUM). Not TUN_F_TSO_ECN: the kernel then cuts ECN-marked super-segments itself.
  if (ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(TUN_F_CSUM | TUN_F_TSO4)) != 0) {
    refused = "TUNSETOFFLOAD";
    return Errno(errno);
  }
  return {};
}

}  // namespace

std::string DescribeOffloadStatus(const TapOffloadStatus& status) {
  if (status.active) {
    return "on (virtio-net header: partial checksums and TCPv4 super-segments, both ways)";
  }
  if (!status.asked) return "off (not asked)";
  return std::string("off (the kernel refused ") +
         (status.refused_request != nullptr ? status.refused_request : "the offloads") + ": " +
         status.refused_error.message() + ")";
}

Result<std::unique_ptr<TapDevice>> TapDevice::Open(const TapOptions& options) {
  if (!ValidName(options.name, IFNAMSIZ - 1)) return Errno(EINVAL);
  // The name becomes a path under /var/run/netns: no '/' and no "..".
  if (!options.netns.empty() && !ValidName(options.netns, 255)) return Errno(EINVAL);
  // 68: the smallest MTU IPv4 allows (RFC 791); 65535: the largest the IP length field can use.
  if (options.mtu < 68 || options.mtu > 65535) return Errno(EINVAL);

  NetnsGuard netns;
  if (std::error_code error = netns.Enter(options.netns)) return error;

  std::string name;
  ScopedFd fd;
  TapOffloadStatus offload{.asked = options.offload};
  if (options.offload) {
    Result<int> attached = AttachTap(options, IFF_VNET_HDR, name);
    if (attached.ok()) {
      fd.reset(*attached);
      offload.refused_error = EnableOffloads(fd.get(), offload.refused_request);
      offload.active = !offload.refused_error;
      // Closing detaches (and deletes an interface this descriptor created): the plain attach
      // below starts over without the header.
      if (!offload.active) fd.reset(-1);
    } else if (attached.error() == std::errc::invalid_argument) {
      // An old kernel refuses the flag; any other failure is not about offloads and would be
      // the same without it.
      offload.refused_request = "TUNSETIFF with IFF_VNET_HDR";
      offload.refused_error = attached.error();
    } else {
      return attached.error();
    }
  }
  if (!offload.active) {
    Result<int> attached = AttachTap(options, 0, name);
    if (!attached.ok()) return attached.error();
    fd.reset(*attached);
    // A persistent interface keeps the offloads an earlier user set; without the header we could
    // not tell a super-segment or a partial checksum, so the kernel must finish both itself. An
    // old kernel without the request has no offloads to clear.
    (void)ioctl(fd.get(), TUNSETOFFLOAD, 0UL);
  }

  std::size_t queue_length = 0;
  if (std::error_code error = MatchMtu(name, options.mtu, queue_length)) return error;
  AwaitRunning(name, std::chrono::seconds(1));

  return std::unique_ptr<TapDevice>(new TapDevice(fd.release(), std::move(name), options.netns,
                                                  options.mtu, queue_length, offload));
}

std::string DescribeOpenError(const TapOptions& options, std::error_code error) {
  std::string text = "cannot open TAP device '" + options.name + "'";
  if (!options.netns.empty()) text += " in network namespace '" + options.netns + "'";
  text += ": " + error.message();
  const std::string where = options.netns.empty() ? std::string("the current network namespace")
                                                  : "network namespace '" + options.netns + "'";
  std::string hint;
  if (error == std::errc::invalid_argument) {
    if (!ValidName(options.name, IFNAMSIZ - 1)) {
      hint = "an interface name has 1 to 15 characters from [A-Za-z0-9_.-], not '.' or '..'";
    } else if (!options.netns.empty() && !ValidName(options.netns, 255)) {
      hint = "a namespace name has 1 to 255 characters from [A-Za-z0-9_.-], not '.' or '..'";
    } else if (options.mtu < 68 || options.mtu > 65535) {
      hint = "MTU " + std::to_string(options.mtu) + " is outside [68, 65535]";
    } else {
      hint = "interface '" + options.name + "' exists and is not a TAP device without packet info";
    }
  } else if (error == std::errc::no_such_file_or_directory) {
    // Both a missing namespace and a missing /dev/net/tun give ENOENT; look again to say which.
    if (!options.netns.empty() && access(NetnsPath(options.netns).c_str(), F_OK) != 0) {
      hint = NetnsPath(options.netns) + " is missing: create the namespace with `ip netns add " +
             options.netns + "`";
    } else {
      hint = "/dev/net/tun is missing: load the tun module (`modprobe tun` as root)";
    }
  } else if (error == std::errc::no_such_device) {
    hint = options.create ? "/dev/net/tun has no driver: load the tun module (`modprobe tun`)"
                          : "no interface '" + options.name + "' in " + where +
                                " (TapOptions.create is false)";
  } else if (error == std::errc::operation_not_permitted || error == std::errc::permission_denied) {
    hint = options.netns.empty() ? "needs root or CAP_NET_ADMIN"
                                 : "needs root, or CAP_NET_ADMIN and CAP_SYS_ADMIN";
  } else if (error == std::errc::device_or_resource_busy) {
    hint = "it is already attached to another descriptor";
  }
  if (!hint.empty()) text += " (" + hint + ")";
  return text;
}

TapDevice::~TapDevice() { close(fd_); }

DeviceCapabilities TapDevice::capabilities() const {
  return DeviceCapabilities{
      .max_receive_frame = offload_.active ? kMaxCoalescedFrameSize : MaxFrameSize(mtu_),
      .max_tcp_segment_offload = offload_.active ? kMaxTcpSegmentOffload : 0,
      .tx_checksum_offload = offload_.active,
      .rx_checksum_offload = offload_.active,
      .max_burst_frames = queue_length_};
}

std::error_code TapDevice::Send(std::span<const std::uint8_t> frame, timers::TimePoint /*now*/) {
  if (std::error_code error = CheckSendSize(frame)) return error;
  // With the virtio-net header on, a zeroed one first: nothing for the kernel to finish.
  return Write(kPlainVirtioNetHeader, frame);
}

std::error_code TapDevice::SendWithOffload(std::span<const std::uint8_t> frame,
                                           const TxOffload& offload, timers::TimePoint now) {
  if (offload.none()) return Send(frame, now);
  // Without the virtio-net header the kernel cannot be told; over IPv6 it was not offered TSO.
  if (!offload_.active) return SendInSoftware(frame, offload, now);
  const auto located = wire::LocateTcp(frame);
  const auto* layout = std::get_if<wire::TcpFrameLayout>(&located);
  if (layout == nullptr || frame.size() > kMaxCoalescedFrameSize) {
    ++mutable_stats().tx_dropped_invalid;
    return Errno(layout == nullptr ? EINVAL : EMSGSIZE);
  }
  if (layout->ipv6 && offload.tcp_segment_size != 0) return SendInSoftware(frame, offload, now);
  // The kernel sums from the TCP header on into its checksum field, and for a super-segment cuts
  // the payload behind the first hdr_len bytes every gso_size bytes (virtio 1.2 5.1.6.2).
  VirtioNetHeader header{.needs_csum = true,
                         .csum_start = static_cast<std::uint16_t>(layout->tcp_offset),
                         .csum_offset = 16};
  if (offload.tcp_segment_size != 0 && layout->payload_len > offload.tcp_segment_size) {
    header.gso_tcpv4 = true;
    header.hdr_len = static_cast<std::uint16_t>(layout->headers_len());
    header.gso_size = offload.tcp_segment_size;
  } else if (frame.size() > MaxFrameSize(mtu_)) {
    ++mutable_stats().tx_dropped_invalid;
    return Errno(EMSGSIZE);
  }
  const std::uint64_t sent_before = mutable_stats().frames_sent;
  const std::error_code error = Write(SerializeVirtioNetHeader(header), frame);
  if (mutable_stats().frames_sent != sent_before) {
    ++mutable_stats().tx_checksum_partial;
    if (header.gso_tcpv4) ++mutable_stats().tx_super_segments;
  }
  return error;
}

std::error_code TapDevice::Write(std::span<const std::uint8_t, kVirtioNetHeaderSize> vnet_header,
                                 std::span<const std::uint8_t> frame) {
  DeviceStats& stats = mutable_stats();
  const std::size_t header_size = offload_.active ? kVirtioNetHeaderSize : 0;
  iovec iov[2] = {{const_cast<std::uint8_t*>(vnet_header.data()), header_size},
                  {const_cast<std::uint8_t*>(frame.data()), frame.size()}};
  const int first = offload_.active ? 0 : 1;
  ssize_t n;
  do {
    n = writev(fd_, iov + first, 2 - first);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const int error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS) {
      ++stats.tx_dropped_queue_full;
      return {};
    }
    if (error == EIO) {
      ++stats.tx_dropped_link_down;
      return {};
    }
    ++stats.tx_errors;
    return Errno(error);
  }
  // The tun driver takes a whole frame or nothing; a short count would be a kernel bug.
  if (static_cast<std::size_t>(n) != header_size + frame.size()) {
    ++stats.tx_errors;
    return Errno(EIO);
  }
  ++stats.frames_sent;
  stats.bytes_sent += frame.size();
  return {};
}

Result<std::size_t> TapDevice::Receive(std::span<std::uint8_t> buffer, timers::TimePoint now) {
  const Result<ReceivedFrame> received = ReceiveFrame(buffer, now);
  if (!received.ok()) return received.error();
  return received->size;
}

Result<ReceivedFrame> TapDevice::ReceiveFrame(std::span<std::uint8_t> buffer,
                                              timers::TimePoint /*now*/) {
  DeviceStats& stats = mutable_stats();
  const std::size_t header_size = offload_.active ? kVirtioNetHeaderSize : 0;
  for (;;) {
    // The virtio-net header lands apart from the frame, so the caller's buffer holds the frame
    // alone. One spare byte after the buffer: a read that reaches it proves the frame was larger
    // than the buffer (read() alone truncates silently).
    std::array<std::uint8_t, kVirtioNetHeaderSize> header;
    std::uint8_t spare;
    iovec iov[3] = {{header.data(), header_size}, {buffer.data(), buffer.size()}, {&spare, 1}};
    const int first = offload_.active ? 0 : 1;
    const ssize_t n = readv(fd_, iov + first, 3 - first);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) return ReceivedFrame{};
      ++stats.rx_errors;
      return Errno(error);
    }
    const auto total = static_cast<std::size_t>(n);
    if (total > header_size + buffer.size()) {
      ++stats.rx_dropped_too_big;
      continue;
    }
    ReceivedFrame frame;
    if (offload_.active) {
      const std::size_t frame_length = total > header_size ? total - header_size : 0;
      const std::variant<VirtioNetHeader, VirtioNetHeaderError> parsed = ParseVirtioNetHeader(
          std::span<const std::uint8_t>(header.data(), std::min(total, header_size)), frame_length);
      if (const auto* error = std::get_if<VirtioNetHeaderError>(&parsed)) {
        ++stats.rx_dropped_bad_vnet_header;
        ++vnet_header_drops_[static_cast<std::size_t>(*error)];
        continue;
      }
      const VirtioNetHeader& vnet = std::get<VirtioNetHeader>(parsed);
      frame.size = frame_length;
      frame.checksum = vnet.checksum();
      if (vnet.gso_tcpv4) ++stats.rx_coalesced_frames;
      if (frame.checksum == RxChecksum::kPartial) ++stats.rx_checksum_partial;
      if (frame.checksum == RxChecksum::kVerified) ++stats.rx_checksum_verified;
    } else {
      frame.size = total;
    }
    ++stats.frames_received;
    stats.bytes_received += frame.size;
    return frame;
  }
}

}  // namespace tapstack::tap
