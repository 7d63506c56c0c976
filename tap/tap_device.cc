#include "tap/tap_device.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>  // struct ifreq, if_nametoindex; <linux/if.h> would clash with it
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

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

std::string ErrnoText(int error) { return std::strerror(error); }

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// The kernel accepts more (anything but '/', ':' and whitespace), but names that need quoting in
// a shell or look like a printf pattern ("tap%d") only cause trouble in tests and scripts.
absl::Status ValidateName(absl::string_view what, absl::string_view name, std::size_t max_length) {
  if (name.empty() || name.size() > max_length || name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat("invalid ", what, " name '", name,
                                                   "': needs 1 to ", max_length,
                                                   " characters, not '.' or '..'"));
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid ", what, " name '", name,
                                                     "': only letters, digits, '_', '-' and '.'"));
    }
  }
  return absl::OkStatus();
}

// Moves the calling thread into a named network namespace and back out when destroyed.
class NetnsGuard {
 public:
  // Does nothing when `netns` is empty.
  absl::Status Enter(const std::string& netns) {
    if (netns.empty()) return absl::OkStatus();
    // thread-self, not self: setns changes only the calling thread, and /proc/self/ns/net would
    // be the main thread's namespace.
    original_.reset(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (original_.get() < 0) {
      return absl::ErrnoToStatus(errno, "opening /proc/thread-self/ns/net");
    }
    const std::string path = absl::StrCat("/var/run/netns/", netns);
    ScopedFd target(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (target.get() < 0) {
      const int error = errno;
      if (error == ENOENT) {
        return absl::NotFoundError(absl::StrCat("network namespace '", netns, "' does not exist (",
                                                path, " is missing; create it with `ip netns add ",
                                                netns, "`)"));
      }
      if (error == EACCES || error == EPERM) {
        return absl::PermissionDeniedError(
            absl::StrCat("opening ", path, ": ", ErrnoText(error), " (needs root)"));
      }
      return absl::ErrnoToStatus(error, absl::StrCat("opening ", path));
    }
    if (setns(target.get(), CLONE_NEWNET) != 0) {
      const int error = errno;
      if (error == EPERM) {
        return absl::PermissionDeniedError(
            absl::StrCat("entering network namespace '", netns, "' needs root or CAP_SYS_ADMIN"));
      }
      return absl::ErrnoToStatus(error, absl::StrCat("setns into '", netns, "'"));
    }
    entered_ = true;
    return absl::OkStatus();
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

absl::Status OpenError(int error) {
  if (error == ENOENT || error == ENODEV || error == ENXIO) {
    return absl::NotFoundError(
        "/dev/net/tun is missing: load the tun module (`modprobe tun` as root)");
  }
  if (error == EACCES || error == EPERM) {
    return absl::PermissionDeniedError("opening /dev/net/tun needs root or CAP_NET_ADMIN: " +
                                       ErrnoText(error));
  }
  return absl::ErrnoToStatus(error, "opening /dev/net/tun");
}

absl::Status SetIffError(int error, const std::string& name) {
  switch (error) {
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(absl::StrCat(
          "attaching to TAP device '", name, "' needs root or CAP_NET_ADMIN: ", ErrnoText(error)));
    case EBUSY:
      return absl::FailedPreconditionError(
          absl::StrCat("TAP device '", name, "' is already attached to another descriptor"));
    case EINVAL:
      return absl::FailedPreconditionError(absl::StrCat(
          "interface '", name, "' exists and is not a TAP device without packet info"));
    default:
      return absl::ErrnoToStatus(error, absl::StrCat("TUNSETIFF '", name, "'"));
  }
}

// Makes the kernel's MTU for `name` equal to `mtu`; runs inside the device's namespace.
absl::Status MatchMtu(const std::string& name, std::size_t mtu) {
  ScopedFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return absl::ErrnoToStatus(errno, "socket for MTU ioctls");
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(sock.get(), SIOCGIFMTU, &ifr) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("SIOCGIFMTU '", name, "'"));
  }
  if (static_cast<std::size_t>(ifr.ifr_mtu) == mtu) return absl::OkStatus();
  ifr.ifr_mtu = static_cast<int>(mtu);
  if (ioctl(sock.get(), SIOCSIFMTU, &ifr) != 0) {
    const int error = errno;
    if (error == EPERM) {
      return absl::PermissionDeniedError(
          absl::StrCat("setting the MTU of '", name, "' needs root or CAP_NET_ADMIN"));
    }
    return absl::ErrnoToStatus(error, absl::StrCat("setting the MTU of '", name, "' to ", mtu));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TapDevice>> TapDevice::Open(const TapOptions& options) {
  if (absl::Status s = ValidateName("interface", options.name, IFNAMSIZ - 1); !s.ok()) return s;
  if (!options.netns.empty()) {
    // The name becomes a path under /var/run/netns: no '/' and no "..".
    if (absl::Status s = ValidateName("network namespace", options.netns, 255); !s.ok()) return s;
  }
  // 68: the smallest MTU IPv4 allows (RFC 791); 65535: the largest the IP length field can use.
  if (options.mtu < 68 || options.mtu > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("MTU ", options.mtu, " is outside [68, 65535]"));
  }

  NetnsGuard netns;
  if (absl::Status s = netns.Enter(options.netns); !s.ok()) return s;

  ScopedFd fd(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return OpenError(errno);

  if (!options.create && if_nametoindex(options.name.c_str()) == 0) {
    return absl::NotFoundError(absl::StrCat(
        "no interface '", options.name, "' in ",
        options.netns.empty() ? std::string("the current network namespace")
                              : absl::StrCat("network namespace '", options.netns, "'"),
        " (TapOptions.create is false)"));
  }

  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, options.name.data(), options.name.size());
  if (ioctl(fd.get(), TUNSETIFF, &ifr) != 0) return SetIffError(errno, options.name);
  std::string name(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));

  if (absl::Status s = MatchMtu(name, options.mtu); !s.ok()) return s;

  return std::unique_ptr<TapDevice>(
      new TapDevice(fd.release(), std::move(name), options.netns, options.mtu));
}

TapDevice::~TapDevice() { close(fd_); }

absl::Status TapDevice::Send(std::span<const std::uint8_t> frame, timers::TimePoint /*now*/) {
  if (absl::Status s = CheckSendSize(frame); !s.ok()) return s;
  DeviceStats& stats = mutable_stats();
  ssize_t n;
  do {
    n = write(fd_, frame.data(), frame.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const int error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS) {
      ++stats.tx_dropped_queue_full;
      return absl::OkStatus();
    }
    if (error == EIO) {
      ++stats.tx_dropped_link_down;
      return absl::OkStatus();
    }
    ++stats.tx_errors;
    return absl::ErrnoToStatus(error, absl::StrCat("writing a frame to TAP device '", name_, "'"));
  }
  // The tun driver takes a whole frame or nothing; a short count would be a kernel bug.
  if (static_cast<std::size_t>(n) != frame.size()) {
    ++stats.tx_errors;
    return absl::InternalError(
        absl::StrCat("TAP device '", name_, "' took ", n, " of ", frame.size(), " bytes"));
  }
  ++stats.frames_sent;
  stats.bytes_sent += frame.size();
  return absl::OkStatus();
}

absl::StatusOr<std::size_t> TapDevice::Receive(std::span<std::uint8_t> buffer,
                                               timers::TimePoint /*now*/) {
  DeviceStats& stats = mutable_stats();
  for (;;) {
    // One spare byte after the buffer: a read that reaches it proves the frame was larger than
    // the buffer (read() alone truncates silently).
    std::uint8_t spare;
    iovec iov[2] = {{buffer.data(), buffer.size()}, {&spare, 1}};
    const ssize_t n = readv(fd_, iov, 2);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) return 0;
      ++stats.rx_errors;
      return absl::ErrnoToStatus(error,
                                 absl::StrCat("reading a frame from TAP device '", name_, "'"));
    }
    if (static_cast<std::size_t>(n) > buffer.size()) {
      ++stats.rx_dropped_too_big;
      continue;
    }
    ++stats.frames_received;
    stats.bytes_received += static_cast<std::size_t>(n);
    return static_cast<std::size_t>(n);
  }
}

}  // namespace tapstack::tap
