// TapDevice against the Linux kernel, inside a network namespace the test creates: the kernel
// answers our ARP request. Needs root and /dev/net/tun (skips without, fails with REQUIRE_TAP=1).
#include "tap/tap_device.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <tins/arp.h>
#include <tins/ethernetII.h>
#include <tins/exceptions.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tap/clock.h"
#include "tap/event_loop.h"
#include "tests/support/netns.h"

namespace tapstack::tap {
namespace {

using ::tapstack::testing::CommandResult;
using ::tapstack::testing::RunShell;

constexpr char kOurMac[] = "02:00:00:00:00:02";
constexpr char kOurIp[] = "192.0.2.2";
constexpr char kKernelIp[] = "192.0.2.1";

class TapDeviceTest : public ::tapstack::testing::NetnsTest {
 protected:
  Result<std::unique_ptr<TapDevice>> OpenTap(const std::string& name, bool create = true,
                                             std::size_t mtu = 1500) {
    return TapDevice::Open({.name = name, .netns = netns().name(), .create = create, .mtu = mtu});
  }
  bool LinkExists(const std::string& name) {
    return RunShell(absl::StrCat("ip -n ", netns().name(), " link show ", name)).exit_code == 0;
  }
};

std::string OwnNetns() {
  std::error_code error;
  return std::filesystem::read_symlink("/proc/thread-self/ns/net", error).string();
}

// The MAC address of the kernel's side of tap0.
std::string KernelMac(testbed::Namespace& ns) {
  CommandResult mac = ns.Shell("cat /sys/class/net/tap0/address");
  EXPECT_EQ(mac.exit_code, 0) << mac.output;
  return std::string(absl::StripTrailingAsciiWhitespace(mac.output));
}

// Brings tap0 up with the kernel's address (unless `configured_mac` gives the MAC of an interface
// already configured: then nothing runs between the caller's Open and the request), sends the
// kernel one ARP request for it through `tap` and checks the reply against the interface's MAC.
void ExpectKernelAnswersArp(TapDevice& tap, testbed::Namespace& ns,
                            std::optional<std::string> configured_mac = std::nullopt) {
  if (!configured_mac) {
    ASSERT_TRUE(
        ns.Shell(absl::StrCat("ip addr add ", kKernelIp, "/24 dev tap0 && ip link set tap0 up"))
            .ok());
  }
  const std::string kernel_mac = configured_mac ? *configured_mac : KernelMac(ns);

  RealClock clock;
  EventLoop loop(clock);
  std::optional<Tins::ARP> reply;
  int other_frames = 0;
  ASSERT_FALSE(loop.AttachDevice(tap, [&](std::span<const std::uint8_t> frame, auto, auto) {
    try {
      Tins::EthernetII eth(frame.data(), static_cast<std::uint32_t>(frame.size()));
      const Tins::ARP* arp = eth.find_pdu<Tins::ARP>();
      if (arp != nullptr && arp->opcode() == Tins::ARP::REPLY) {
        reply = *arp;
        loop.Stop();
        return;
      }
    } catch (const Tins::exception_base&) {
    }
    ++other_frames;  // IPv6 router solicitations and the like
  }));
  const timers::TimePoint give_up = clock.Now() + std::chrono::seconds(5);
  loop.SetTimerSource([&]() -> std::optional<timers::TimePoint> { return give_up; },
                      [&](timers::TimePoint) { loop.Stop(); });

  const std::vector<std::uint8_t> request =
      Tins::ARP::make_arp_request(kKernelIp, kOurIp, kOurMac).serialize();
  ASSERT_FALSE(tap.Send(request, clock.Now()));
  ASSERT_FALSE(loop.Run());

  ASSERT_TRUE(reply.has_value()) << "no ARP reply within 5 s; " << other_frames
                                 << " other frames; stats: sent " << tap.stats().frames_sent
                                 << " received " << tap.stats().frames_received;
  EXPECT_EQ(reply->sender_ip_addr().to_string(), kKernelIp);
  EXPECT_EQ(reply->sender_hw_addr().to_string(), kernel_mac);
  EXPECT_EQ(reply->target_ip_addr().to_string(), kOurIp);
  EXPECT_EQ(reply->target_hw_addr().to_string(), kOurMac);
  EXPECT_EQ(tap.stats().frames_sent, 1u);
  EXPECT_GE(tap.stats().frames_received, 1u);
}

TEST_F(TapDeviceTest, KernelAnswersOurArpRequest) {
  const std::string before = OwnNetns();
  Result<std::unique_ptr<TapDevice>> tap = OpenTap("tap0");
  ASSERT_TRUE(tap.ok()) << tap.error().message();
  EXPECT_EQ(OwnNetns(), before) << "Open() left the thread in the device's namespace";
  EXPECT_EQ((*tap)->name(), "tap0");
  EXPECT_EQ((*tap)->netns(), netns().name());
  EXPECT_GE((*tap)->poll_fd(), 0);
  ASSERT_TRUE(LinkExists("tap0"));
  EXPECT_FALSE((*tap)->offload_status().asked);
  EXPECT_FALSE((*tap)->offload_status().active);
  EXPECT_EQ((*tap)->capabilities().max_receive_frame, MaxFrameSize(1500));
  EXPECT_FALSE((*tap)->capabilities().rx_checksum_offload);
  ExpectKernelAnswersArp(**tap, netns());

  // A device we created is not persistent: it goes away with the descriptor.
  tap->reset();
  EXPECT_FALSE(LinkExists("tap0"));
}

// An interface the kernel already has up with its address (as `ip tuntap add` and a script leave
// it) answers the very first frame we send once Open returns: Open waits until the kernel runs
// the interface. Before it did, the kernel's answer to a first ARP request sent at once was
// sometimes dropped, and a connection started at once waited a second for ARP's retry.
TEST_F(TapDeviceTest, AConfiguredInterfaceAnswersTheFirstFrameAfterOpen) {
  ASSERT_TRUE(netns()
                  .Shell(absl::StrCat("ip tuntap add dev tap0 mode tap && ip addr add ", kKernelIp,
                                      "/24 dev tap0 && ip link set tap0 up"))
                  .ok());
  const std::string kernel_mac = KernelMac(netns());
  for (int attempt = 0; attempt < 5; ++attempt) {
    SCOPED_TRACE(attempt);
    Result<std::unique_ptr<TapDevice>> tap = OpenTap("tap0", /*create=*/false);
    ASSERT_TRUE(tap.ok()) << tap.error().message();
    ExpectKernelAnswersArp(**tap, netns(), kernel_mac);
  }
}

// With offloads the kernel takes IFF_VNET_HDR and our offload flags (the build machine's kernel
// does; an old one would fall back), frames carry the header both ways, and the capabilities say
// what the loop must be ready for.
TEST_F(TapDeviceTest, OffloadsAreTakenAndFramesStillFlowBothWays) {
  Result<std::unique_ptr<TapDevice>> tap =
      TapDevice::Open({.name = "tap0", .netns = netns().name(), .create = true, .offload = true});
  ASSERT_TRUE(tap.ok()) << tap.error().message();
  ASSERT_TRUE((*tap)->offload_status().active) << DescribeOffloadStatus((*tap)->offload_status());
  const DeviceCapabilities capabilities = (*tap)->capabilities();
  EXPECT_EQ(capabilities.max_receive_frame, kMaxCoalescedFrameSize);
  EXPECT_TRUE(capabilities.rx_checksum_offload);
  EXPECT_TRUE(capabilities.tx_checksum_offload);
  EXPECT_EQ(capabilities.max_tcp_segment_offload, kMaxTcpSegmentOffload);
  const CommandResult queue = netns().Shell("cat /sys/class/net/tap0/tx_queue_len");
  EXPECT_EQ(std::to_string(capabilities.max_burst_frames) + "\n", queue.output);
  ExpectKernelAnswersArp(**tap, netns());
  EXPECT_EQ((*tap)->stats().rx_dropped_bad_vnet_header, 0u);
}

TEST_F(TapDeviceTest, AttachesToAnExistingDeviceAndNeedsOneWhenNotCreating) {
  Result<std::unique_ptr<TapDevice>> missing = OpenTap("tap1", /*create=*/false);
  EXPECT_EQ(missing.error(), std::errc::no_such_device) << missing.error().message();
  const std::string message = DescribeOpenError(
      {.name = "tap1", .netns = netns().name(), .create = false}, missing.error());
  EXPECT_NE(message.find("no interface 'tap1'"), std::string::npos) << message;
  EXPECT_FALSE(LinkExists("tap1"));

  ASSERT_TRUE(netns().Shell("ip tuntap add dev tap1 mode tap").ok());
  Result<std::unique_ptr<TapDevice>> attached = OpenTap("tap1", /*create=*/false);
  ASSERT_TRUE(attached.ok()) << attached.error().message();
  // Only one descriptor per (single-queue) device.
  Result<std::unique_ptr<TapDevice>> second = OpenTap("tap1");
  EXPECT_EQ(second.error(), std::errc::device_or_resource_busy) << second.error().message();
  attached->reset();
  EXPECT_TRUE(LinkExists("tap1")) << "a persistent device outlives our descriptor";
}

TEST_F(TapDeviceTest, RefusesAnInterfaceThatIsNotATap) {
  // A veth (the kernel here has no dummy driver).
  ASSERT_TRUE(netns().Shell("ip link add veth0 type veth peer name veth1").ok());
  Result<std::unique_ptr<TapDevice>> tap = OpenTap("veth0");
  EXPECT_EQ(tap.error(), std::errc::invalid_argument) << tap.error().message();
  const std::string message = DescribeOpenError({.name = "veth0"}, tap.error());
  EXPECT_NE(message.find("is not a TAP device"), std::string::npos) << message;
}

TEST_F(TapDeviceTest, SetsTheKernelMtu) {
  Result<std::unique_ptr<TapDevice>> tap = OpenTap("tap0", true, 1400);
  ASSERT_TRUE(tap.ok()) << tap.error().message();
  EXPECT_EQ((*tap)->mtu(), 1400u);
  CommandResult mtu = netns().Shell("cat /sys/class/net/tap0/mtu");
  EXPECT_EQ(mtu.output, "1400\n");
}

TEST_F(TapDeviceTest, NothingToReadIsZeroAndADownLinkCountsDrops) {
  Result<std::unique_ptr<TapDevice>> tap = OpenTap("tap0");
  ASSERT_TRUE(tap.ok()) << tap.error().message();
  std::vector<std::uint8_t> buffer(MaxFrameSize(1500));
  Result<std::size_t> n = (*tap)->Receive(buffer, timers::TimePoint{});
  ASSERT_TRUE(n.ok()) << n.error().message();
  EXPECT_EQ(*n, 0u);
  // The interface is down: the kernel refuses the frame, which is a counted drop, not an error.
  const std::vector<std::uint8_t> request =
      Tins::ARP::make_arp_request(kKernelIp, kOurIp, kOurMac).serialize();
  EXPECT_FALSE((*tap)->Send(request, timers::TimePoint{}));
  const DeviceStats stats = (*tap)->stats();
  EXPECT_EQ(stats.tx_dropped_link_down, 1u);
  EXPECT_EQ(stats.frames_sent, 0u);
  EXPECT_EQ((*tap)->Send(std::vector<std::uint8_t>(3), timers::TimePoint{}),
            std::errc::invalid_argument);
}

// Runs TapDevice::Open in a child process after `prepare` and returns the errno it got, 0 on
// success (-1 when the child failed otherwise). The child changes only itself: its credentials, its
// mounts.
int OpenCodeInChild(const std::function<bool()>& prepare) {
  const pid_t child = fork();
  if (child == 0) {
    if (!prepare()) _exit(100);
    Result<std::unique_ptr<TapDevice>> tap = TapDevice::Open({.name = "tap0"});
    if (!tap.ok()) std::fprintf(stderr, "child: %s\n", tap.error().message().c_str());
    _exit(tap.error().value());
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status) == 100 ? -1 : WEXITSTATUS(status);
}

TEST_F(TapDeviceTest, WithoutPrivilegesIsPermissionDenied) {
  const int code = OpenCodeInChild([] {
    return setgroups(0, nullptr) == 0 && setresgid(65534, 65534, 65534) == 0 &&
           setresuid(65534, 65534, 65534) == 0;
  });
  // TUNSETIFF refuses with EPERM; EACCES would come from /dev/net/tun's own permissions.
  EXPECT_TRUE(code == EPERM || code == EACCES) << "errno " << code;
}

TEST_F(TapDeviceTest, MissingTunDeviceIsNotFound) {
  // Hide /dev/net behind an empty tmpfs in a private mount namespace of the child.
  const int code = OpenCodeInChild([] {
    return unshare(CLONE_NEWNS) == 0 &&
           mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
           mount("none", "/dev/net", "tmpfs", 0, nullptr) == 0;
  });
  EXPECT_EQ(code, ENOENT);
}

}  // namespace
}  // namespace tapstack::tap
