#include "tools/runtime.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "testbed/failure.h"

namespace tapstack::tools {

namespace {

// The most addresses one `--addr FIRST-LAST` adds: a /16's worth, 4 Gi ports towards one server.
constexpr std::uint32_t kMaxAddressRange = 65536;

// A further `--addr`: ADDRESS or FIRST-LAST, each optionally with the first --addr's prefix
// length. They are on the first address's link (InterfaceConfig::extra_addresses), so another
// prefix length would say something the stack does not do.
absl::Status AddExtraAddresses(const std::string& text, InterfaceConfig& interface) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad --addr '", text, "': ", why,
                     " (a further --addr is ADDRESS or FIRST-LAST, as 192.0.2.10-192.0.2.40)"));
  };
  std::string_view range = text;
  if (const std::size_t slash = range.find('/'); slash != std::string_view::npos) {
    if (range.substr(slash + 1) != absl::StrCat(interface.prefix_len)) {
      return bad(
          absl::StrCat("its prefix length must be the first --addr's, /", interface.prefix_len));
    }
    range = range.substr(0, slash);
  }
  const std::size_t dash = range.find('-');
  const std::optional<wire::Ipv4Address> first = wire::Ipv4Address::Parse(range.substr(0, dash));
  const std::optional<wire::Ipv4Address> last =
      dash == std::string_view::npos ? first : wire::Ipv4Address::Parse(range.substr(dash + 1));
  if (!first || !last) return bad("not an IPv4 address or range");
  if (last->value() < first->value()) return bad("the range is empty");
  if (last->value() - first->value() >= kMaxAddressRange) {
    return bad(absl::StrCat("a range holds at most ", kMaxAddressRange, " addresses"));
  }
  for (std::uint32_t value = first->value();; ++value) {
    interface.extra_addresses.push_back(wire::Ipv4Address(value));
    if (value == last->value()) break;
  }
  return absl::OkStatus();
}

// The IPv6 --addr: ADDRESS/PREFIX, given once. It turns IPv6 on, beside IPv4.
absl::Status AddIpv6Address(const std::string& text, InterfaceConfig& interface) {
  if (!interface.ipv6.addresses.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad --addr '", text, "': one IPv6 address only (one --addr per family)"));
  }
  const Result<Ipv6Prefix> parsed = ParseIpv6AddressWithPrefix(text);
  if (text.find('/') == std::string::npos || !parsed.ok() || parsed->address.IsMulticast() ||
      parsed->address.IsUnspecified() || parsed->address.IsLinkLocalUnicast()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --addr '", text,
        "': expected a global IPv6 address and a prefix length of 0 to 128, as 2001:db8::2/64 "
        "(the link-local address comes from the MAC)"));
  }
  interface.ipv6.enabled = true;
  interface.ipv6.addresses.push_back(*parsed);
  return absl::OkStatus();
}

// A --gateway of either family, at most one of each.
absl::Status SetGateway(const std::string& text, InterfaceConfig& interface) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("bad --gateway '", text, "': ", why));
  };
  if (text.find(':') != std::string::npos) {
    const std::optional<wire::Ipv6Address> ip = wire::Ipv6Address::Parse(text);
    if (!ip || ip->IsMulticast() || ip->IsUnspecified()) return bad("not an IPv6 unicast address");
    if (interface.ipv6.gateway) return bad("one IPv6 gateway only");
    interface.ipv6.gateway = *ip;
    return absl::OkStatus();
  }
  const std::optional<wire::Ipv4Address> ip = wire::Ipv4Address::Parse(text);
  if (!ip) return bad("not an IPv4 or IPv6 address");
  if (interface.gateway) return bad("one IPv4 gateway only");
  interface.gateway = *ip;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RuntimeOptions> ParseRuntimeOptions(const Args& args) {
  RuntimeOptions options;
  if (auto tap = args.Get("--tap")) options.tap_name = *tap;
  if (auto netns = args.Get("--netns")) options.netns = *netns;
  if (auto pcap = args.Get("--pcap")) options.pcap_path = *pcap;
  if (auto ready = args.Get("--ready-file")) {
    if (ready->empty()) return absl::InvalidArgumentError("--ready-file needs a file name");
    options.ready_file = *ready;
  }
  // An IPv6 --addr (it has a colon) is taken apart from the IPv4 ones: one of each family.
  std::vector<std::string> addresses;
  for (const std::string& text : args.GetAll("--addr")) {
    if (text.find(':') == std::string::npos) {
      addresses.push_back(text);
      continue;
    }
    absl::Status added = AddIpv6Address(text, options.stack.interface);
    if (!added.ok()) return added;
  }
  if (addresses.empty()) {
    return absl::InvalidArgumentError("--addr IPV4-ADDRESS/PREFIX is required (IPv6 is beside it)");
  }
  if (auto hold = args.Get("--rx-hold")) {
    // "0" needs no unit: it turns the hold off.
    absl::StatusOr<std::chrono::nanoseconds> value =
        *hold == "0" ? std::chrono::nanoseconds(0) : ParseDuration("--rx-hold", *hold);
    if (!value.ok()) return value.status();
    if (*value > std::chrono::milliseconds(1)) {
      return absl::InvalidArgumentError("--rx-hold: at most 1ms (0 turns it off)");
    }
    options.receive_hold = *value;
  }
  if (auto transmits = args.Get("--dad-transmits")) {
    absl::StatusOr<long long> value = ParseInteger("--dad-transmits", *transmits, 0, 10);
    if (!value.ok()) return value.status();
    options.stack.ndp.dad_transmits = static_cast<int>(*value);
  }
  const std::string* address = &addresses.front();
  // The prefix is required on the command line: a bare address would be a /32 with nothing
  // on-link, so without --gateway every destination, the peer next to us included, would be
  // unreachable. (The library's ParseAddressWithPrefix still reads a bare address as /32.)
  if (address->find('/') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --addr '", *address, "': the prefix length is required, as 192.0.2.2/24"));
  }
  const Result<std::pair<wire::Ipv4Address, int>> parsed = ParseAddressWithPrefix(*address);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --addr '", *address, "': expected an IPv4 address and a prefix length of 0 to 32, ",
        "as 192.0.2.2/24"));
  }
  options.stack.interface.address = parsed->first;
  options.stack.interface.prefix_len = parsed->second;
  for (std::size_t i = 1; i < addresses.size(); ++i) {
    absl::Status added = AddExtraAddresses(addresses[i], options.stack.interface);
    if (!added.ok()) return added;
  }
  for (const std::string& gateway : args.GetAll("--gateway")) {
    absl::Status set = SetGateway(gateway, options.stack.interface);
    if (!set.ok()) return set;
  }
  if (auto mac = args.Get("--mac")) {
    const std::optional<wire::MacAddress> parsed_mac = wire::MacAddress::Parse(*mac);
    if (!parsed_mac) return absl::InvalidArgumentError(absl::StrCat("bad --mac '", *mac, "'"));
    options.stack.interface.mac = *parsed_mac;
  }
  if (auto mtu = args.Get("--mtu")) {
    absl::StatusOr<long long> value = ParseInteger("--mtu", *mtu, 576, 9000);
    if (!value.ok()) return value.status();
    options.stack.interface.mtu = static_cast<std::size_t>(*value);
  }
  options.stack.random_seed =
      std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
  return options;
}

absl::StatusOr<std::unique_ptr<StackRuntime>> StackRuntime::Start(const RuntimeOptions& options) {
  std::unique_ptr<StackRuntime> runtime(new StackRuntime());
  if (absl::Status status = runtime->Init(options); !status.ok()) return status;
  return runtime;
}

absl::Status StackRuntime::Init(const RuntimeOptions& options) {
  testbed::StackHostOptions host;
  host.tap.name = options.tap_name;
  host.tap.netns = options.netns;
  host.tap.mtu = options.stack.interface.mtu;
  host.tap.offload = options.offload;
  host.pcap_path = options.pcap_path;
  host.stack = options.stack;
  if (options.receive_loss > 0) {
    host.faults =
        tap::FaultOptions{.seed = options.stack.random_seed, .receive_loss = options.receive_loss};
  }
  // Every frame ready in one wakeup goes to the stack as one burst: its timers advance and its
  // events are delivered once per burst, not once per frame.
  host.bursts = true;
  Result<std::unique_ptr<testbed::StackHost>> opened = testbed::StackHost::Open(host);
  if (!opened.ok()) return absl::UnavailableError(testbed::LastFailure());
  host_ = *std::move(opened);
  host_->loop().set_receive_hold(options.receive_hold);
  tap_name_ = host_->tap().name();
  ready_file_ = options.ready_file;

  // SIGINT and SIGTERM end the run through the loop, so the pcap and the stats are written.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  signal_fd_ = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) return absl::InternalError("signalfd failed");
  const std::error_code watched = host_->loop().AddReader(signal_fd_, [this] {
    signalfd_siginfo info;
    while (read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
    }
    interrupted_ = true;
    host_->loop().Stop();
  });
  if (watched) {
    return absl::InternalError(
        absl::StrCat("cannot watch the signal descriptor with epoll: ", watched.message()));
  }
  return absl::OkStatus();
}

absl::Status StackRuntime::SignalReady() {
  if (ready_file_.empty()) return absl::OkStatus();
  const std::string text = absl::StrCat(host_->stack().interface().address.ToString(), "/",
                                        host_->stack().interface().prefix_len, " ", tap_name_, " ",
                                        host_->stack().interface().mac->ToString(), "\n");
  // Written aside and renamed, so that whoever waits for the file never reads half of it.
  const std::string partial = ready_file_ + ".partial";
  std::FILE* file = std::fopen(partial.c_str(), "w");
  if (file == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot write --ready-file ", ready_file_, ": ", std::strerror(errno)));
  }
  const bool written = std::fputs(text.c_str(), file) >= 0;
  if (std::fclose(file) != 0 || !written ||
      std::rename(partial.c_str(), ready_file_.c_str()) != 0) {
    const int error = errno;
    std::remove(partial.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot write --ready-file ", ready_file_, ": ", std::strerror(error)));
  }
  ready_file_written_ = true;
  return absl::OkStatus();
}

StackRuntime::~StackRuntime() {
  // A ready file left behind would tell the next waiter that a stack is up when none is.
  if (ready_file_written_) std::remove(ready_file_.c_str());
  if (host_ && signal_fd_ >= 0) (void)host_->loop().RemoveReader(signal_fd_);
  if (signal_fd_ >= 0) close(signal_fd_);
}

std::string StackRuntime::DescribeLoopError(std::error_code error) const {
  // Receive on the TAP is what fails in practice (EIO, EBADF once the interface is gone); an
  // epoll_wait error would be a bug of ours.
  return absl::StrCat("reading TAP device '", tap_name_,
                      "' (or waiting in epoll) failed: ", error.message());
}

void StackRuntime::PrintStats(std::FILE* out) const {
  const auto print = [out](std::string_view name, std::uint64_t value) {
    std::fprintf(out, "%.*s %llu\n", static_cast<int>(name.size()), name.data(),
                 static_cast<unsigned long long>(value));
  };
  host_->stack().counters().ForEach(print);
  const tap::DeviceStats device = host_->tap().stats();
  print("tap_offload", host_->tap().offload_status().active ? 1 : 0);
  print("tap_rx_frames", device.frames_received);
  print("tap_rx_coalesced_frames", device.rx_coalesced_frames);
  print("tap_rx_checksum_partial", device.rx_checksum_partial);
  print("tap_rx_checksum_verified", device.rx_checksum_verified);
  print("tap_rx_dropped_bad_vnet_header", device.rx_dropped_bad_vnet_header);
  print("tap_tx_frames", device.frames_sent);
  print("tap_tx_super_segments", device.tx_super_segments);
  print("tap_tx_checksum_partial", device.tx_checksum_partial);
  print("tap_tx_software_offloaded", device.tx_software_offloaded);
  if (const tap::FaultyLink* faulty = host_->faulty_link()) {
    print("tap_rx_dropped_receive_loss", faulty->fault_stats().received_lost);
  }
  // How the frames came: wakeups of the event loop and bursts (the frames one wakeup read).
  const tap::EventLoopStats& loop = host_->loop().stats();
  print("loop_wakeups", loop.iterations);
  print("loop_bursts", loop.bursts);
  print("loop_receive_holds", loop.receive_holds);
}

std::string StackRuntime::DescribeOffload() const {
  return tap::DescribeOffloadStatus(host_->tap().offload_status());
}

absl::Status StackRuntime::AwaitIpv6Addresses(std::chrono::seconds limit) {
  const Ipv6Layer* ipv6 = stack().ipv6();
  if (ipv6 == nullptr) return absl::OkStatus();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ipv6->addresses().settled()) {
    if (interrupted_) return absl::CancelledError("interrupted");
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError("duplicate address detection did not finish");
    }
    if (const std::error_code error = loop().RunOnce(std::chrono::milliseconds(100))) {
      return absl::InternalError(DescribeLoopError(error));
    }
  }
  return absl::OkStatus();
}

}  // namespace tapstack::tools
