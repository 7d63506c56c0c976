// The floor of the stack against the Linux kernel over TAP, in a namespace the test creates:
// ARP both ways, ICMP echo both ways, and a burst of malformed frames that must each be counted;
// over IPv6, Neighbor Discovery and ICMPv6 echo both ways and duplicate address detection.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "stack/wire/checksum.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmp.h"
#include "stack/wire/ipv4.h"
#include "tests/interop/tap_fixture.h"

namespace tapstack::testing {
namespace {

using std::chrono::seconds;

class PingTest : public TapTest {
 protected:
  // Runs `command` in the namespace until it succeeds (at most `attempts` times, 100 ms apart).
  bool ShellSucceeds(const std::string& command, int attempts) {
    for (int attempt = 0; attempt < attempts; ++attempt) {
      if (netns().Shell(command).exit_code == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // Waits until the stack's output holds `text` (up reports its IPv6 addresses once DAD is over).
  bool OutputShows(const std::string& text) const {
    for (int attempt = 0; attempt < 100; ++attempt) {
      if (Output().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
};

TEST_F(PingTest, KernelResolvesAndPingsOurStackAndWePingItBack) {
  testbed::Process stack =
      StartTapstack("up", {"--ping", kKernelAddress, "--count", "3", "--interval", "200ms",
                           "--duration", "30s", "--stats"});
  WaitUntilStackAnswers();
  // The kernel's neighbour table holds our MAC.
  const CommandResult neighbours = netns().Shell(std::string("ip neigh show ") + kStackAddress);
  EXPECT_THAT(neighbours.output, ::testing::HasSubstr(kStackMac)) << neighbours.output;
  const CommandResult ping = netns().Shell(std::string("ping -c 5 -i 0.2 -W 2 ") + kStackAddress);
  EXPECT_EQ(ping.exit_code, 0) << ping.output;
  EXPECT_THAT(ping.output, ::testing::HasSubstr("5 received")) << ping.output;
  // Our own pings to the kernel (after resolving its MAC) all came back.
  stack.Signal(SIGTERM);
  const std::optional<int> status = stack.Wait(std::chrono::seconds(20));
  ASSERT_TRUE(status.has_value()) << Output();
  EXPECT_EQ(*status, 0) << Output();
  EXPECT_THAT(Output(), ::testing::HasSubstr("3 packets transmitted, 3 received"));
  const auto stats = ParseStats(Output());
  EXPECT_GE(stats.at("tx_icmp_echo_replies"), 6);
  EXPECT_EQ(stats.at("rx_icmp_echo_replies"), 3);
  // Who asks first is a race: the kernel may learn our MAC from our own request for its address.
  EXPECT_GE(stats.at("tx_arp_requests"), 1) << "we resolved the kernel's MAC ourselves";
  EXPECT_GE(stats.at("rx_arp"), 1);
  // The event loop's share: every frame came in a burst of one or more. With this little traffic
  // no wakeup finds more than a burst's 64 frames ready, so each burst had a wakeup of its own
  // (the wakeups also count the timeouts of the ping interval).
  EXPECT_GE(stats.at("loop_bursts"), 1);
  EXPECT_LE(stats.at("loop_bursts"), stats.at("tap_rx_frames"));
  EXPECT_GE(stats.at("loop_wakeups"), stats.at("loop_bursts"));
  // Pings and ARP are small frames: the loop never held for more (--rx-hold holds after bulk
  // data only).
  EXPECT_EQ(stats.at("loop_receive_holds"), 0);
}

// Frames written into the namespace side of the TAP with a raw packet socket, addressed to us.
std::vector<std::string> MalformedFrames(const std::string& kernel_mac) {
  const wire::MacAddress ours = *wire::MacAddress::Parse(kStackMac);
  const wire::MacAddress theirs = *wire::MacAddress::Parse(kernel_mac);
  const wire::Ipv4Address kernel = *wire::Ipv4Address::Parse(kKernelAddress);
  const wire::Ipv4Address stack = *wire::Ipv4Address::Parse(kStackAddress);
  auto ethernet = [&](const std::vector<std::uint8_t>& payload) {
    std::vector<std::uint8_t> frame(wire::kEthernetHeaderLen + payload.size());
    wire::WriteEthernet(wire::EthernetRepr{ours, theirs, wire::EtherType::kIpv4}, frame);
    std::copy(payload.begin(), payload.end(), frame.begin() + wire::kEthernetHeaderLen);
    return frame;
  };
  auto ip = [&](std::uint8_t protocol, const std::vector<std::uint8_t>& payload) {
    wire::Ipv4Repr repr;
    repr.src = kernel;
    repr.dst = stack;
    repr.protocol = protocol;
    repr.payload_len = static_cast<std::uint16_t>(payload.size());
    std::vector<std::uint8_t> packet(wire::kIpv4MinHeaderLen + payload.size());
    wire::WriteIpv4Header(repr, packet);
    std::copy(payload.begin(), payload.end(), packet.begin() + wire::kIpv4MinHeaderLen);
    return packet;
  };
  auto fix_ip_checksum = [](std::vector<std::uint8_t>& packet) {
    packet[10] = packet[11] = 0;
    const std::uint16_t sum = wire::InternetChecksum(std::span(packet).first(20));
    packet[10] = static_cast<std::uint8_t>(sum >> 8);
    packet[11] = static_cast<std::uint8_t>(sum);
  };
  std::vector<std::uint8_t> echo(wire::kIcmpHeaderLen + 4);
  wire::WriteIcmpEcho(wire::IcmpType::kEchoRequest, 1, 1, std::vector<std::uint8_t>{1, 2, 3, 4},
                      echo);

  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<std::uint8_t> short_ihl = ip(wire::IpProtocol::kIcmp, echo);
  short_ihl[0] = 0x44;
  frames.push_back(ethernet(short_ihl));  // ipv4 malformed
  std::vector<std::uint8_t> long_total = ip(wire::IpProtocol::kIcmp, echo);
  long_total[2] = 0x08;
  fix_ip_checksum(long_total);
  frames.push_back(ethernet(long_total));  // ipv4 malformed
  std::vector<std::uint8_t> bad_checksum = ip(wire::IpProtocol::kIcmp, echo);
  bad_checksum[10] ^= 0x5a;
  frames.push_back(ethernet(bad_checksum));  // ipv4 bad checksum
  std::vector<std::uint8_t> fragment = ip(wire::IpProtocol::kIcmp, echo);
  fragment[6] = 0x20;
  fix_ip_checksum(fragment);
  frames.push_back(ethernet(fragment));                                 // fragment
  frames.push_back(ethernet(ip(17, std::vector<std::uint8_t>(8, 0))));  // unsupported protocol
  std::vector<std::uint8_t> bad_icmp = echo;
  bad_icmp[3] ^= 0x33;
  frames.push_back(ethernet(ip(wire::IpProtocol::kIcmp, bad_icmp)));  // icmp bad checksum
  std::vector<std::uint8_t> bad_tcp(20, 0);
  bad_tcp[12] = 0x30;                                               // data offset 3
  frames.push_back(ethernet(ip(wire::IpProtocol::kTcp, bad_tcp)));  // tcp malformed
  std::vector<std::string> hex;
  for (const auto& frame : frames) {
    hex.push_back(absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(frame.data()), frame.size())));
  }
  return hex;
}

// With --ready-file the stack says when it is attached: the kernel's very first ping after the
// file appears is answered (the README's "bring it up and ping it" relies on this), and our own
// pings print their round-trip times.
TEST_F(PingTest, ReadyFileMeansTheFirstPingIsAnswered) {
  const std::string ready = TempPath("up.ready");
  testbed::Process stack =
      StartTapstack("up", {"--ready-file", ready, "--ping", kKernelAddress, "--count", "2",
                           "--interval", "200ms", "--duration", "30s"});
  bool appeared = false;
  for (int attempt = 0; attempt < 100 && !appeared; ++attempt) {
    appeared = !ReadFile(ready).empty();
    if (!appeared) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(appeared) << Output();
  EXPECT_EQ(ReadFile(ready), absl::StrCat(kStackAddress, "/24 tap0 ", kStackMac, "\n"));
  const CommandResult ping = netns().Shell(std::string("ping -c 1 -W 3 ") + kStackAddress);
  EXPECT_EQ(ping.exit_code, 0) << ping.output;
  EXPECT_THAT(ping.output, ::testing::HasSubstr("1 received")) << ping.output;
  // Our two pings, 200 ms apart, may still be under way.
  for (int attempt = 0; attempt < 100 && Output().find("seq=2 ") == std::string::npos; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stack.Signal(SIGTERM);
  ASSERT_EQ(stack.Wait(std::chrono::seconds(10)), 0) << Output();
  EXPECT_THAT(Output(),
              ::testing::ContainsRegex("reply from 192.0.2.1: seq=1 time=[0-9]+\\.[0-9]{3} ms"));
  EXPECT_TRUE(ReadFile(ready).empty()) << "the ready file outlived the stack";
}

TEST_F(PingTest, MalformedBurstIsCountedAndPingStillWorks) {
  testbed::Process stack = StartTapstack("up", {"--duration", "60s", "--stats"});
  WaitUntilStackAnswers();
  const std::string kernel_mac =
      netns().Shell("cat /sys/class/net/tap0/address").output.substr(0, 17);
  const std::vector<std::string> frames = MalformedFrames(kernel_mac);
  const std::string script = absl::StrCat(
      "import socket,sys\n"
      "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
      "s.bind(('tap0',0))\n"
      "for h in sys.argv[1:]:\n"
      "  for _ in range(10): s.send(bytes.fromhex(h))\n");
  const CommandResult burst = netns().Shell(
      absl::StrCat("python3 -c ", ShellQuote(script), " ", absl::StrJoin(frames, " ")));
  ASSERT_EQ(burst.exit_code, 0) << burst.output;
  const CommandResult ping = netns().Shell(std::string("ping -c 3 -i 0.2 -W 2 ") + kStackAddress);
  EXPECT_THAT(ping.output, ::testing::HasSubstr("3 received")) << ping.output;
  stack.Signal(SIGTERM);
  ASSERT_EQ(stack.Wait(std::chrono::seconds(10)), 0) << Output();
  const auto stats = ParseStats(Output());
  EXPECT_EQ(stats.at("drop_ipv4_malformed"), 20) << Output();
  EXPECT_EQ(stats.at("drop_ipv4_bad_checksum"), 10);
  EXPECT_EQ(stats.at("drop_ipv4_fragment"), 10);
  EXPECT_EQ(stats.at("drop_ipv4_unsupported_protocol"), 10);
  EXPECT_EQ(stats.at("drop_icmp_bad_checksum"), 10);
  EXPECT_EQ(stats.at("drop_tcp_malformed"), 10);
}

// IPv6 beside IPv4, addresses from the documentation prefix (RFC 3849).
TEST_F(PingTest, KernelAndStackPingEachOtherOverIpv6) {
  AddKernelIpv6Address();
  testbed::Process stack =
      StartTapstack("up", {"--addr", kStackAddress6 + "/64", "--ping", kKernelAddress6, "--count",
                           "3", "--interval", "200ms", "--duration", "30s", "--stats"});
  // Our duplicate address detection ends, then the kernel resolves us (Neighbor Discovery) and
  // pings us.
  ASSERT_TRUE(OutputShows(kStackAddress6 + " preferred")) << Output();
  ASSERT_TRUE(ShellSucceeds("ping -6 -c 1 -W 1 " + kStackAddress6, 30)) << Output();
  const CommandResult ping = netns().Shell("ping -6 -c 5 -i 0.2 -W 2 " + kStackAddress6);
  EXPECT_THAT(ping.output, ::testing::HasSubstr("5 received")) << ping.output;
  // And over the link-local address derived from our MAC (modified EUI-64).
  const CommandResult link_local = netns().Shell("ping -6 -c 2 -i 0.2 -W 2 fe80::ff:fe00:2%tap0");
  EXPECT_THAT(link_local.output, ::testing::HasSubstr("2 received")) << link_local.output;
  const CommandResult neighbours = netns().Shell("ip -6 neigh show " + kStackAddress6);
  EXPECT_THAT(neighbours.output, ::testing::HasSubstr(kStackMac)) << neighbours.output;
  // Our three pings resolved the kernel's address (our solicitation) and came back.
  ASSERT_TRUE(OutputShows("seq=3 ")) << Output();
  stack.Signal(SIGTERM);
  ASSERT_EQ(stack.Wait(std::chrono::seconds(10)), 0) << Output();
  EXPECT_THAT(Output(), ::testing::HasSubstr("3 packets transmitted, 3 received"));
  EXPECT_THAT(Output(), ::testing::ContainsRegex("reply from 2001:db8::1: seq=1 time="));
  const auto stats = ParseStats(Output());
  EXPECT_GE(stats.at("tx_icmpv6_echo_replies"), 8);
  EXPECT_EQ(stats.at("rx_icmpv6_echo_replies"), 3);
  EXPECT_GE(stats.at("tx_ndp_solicitations"), 3) << "two DAD probes and a resolution";
  EXPECT_GE(stats.at("tx_ndp_advertisements"), 1) << "the kernel resolved us";
  EXPECT_EQ(stats.at("ndp_dad_duplicates"), 0);
  EXPECT_EQ(stats.at("drop_ipv6_malformed"), 0);
}

TEST_F(PingTest, DuplicateAddressDetectedAgainstTheKernel) {
  // The kernel already holds the address the stack is told to use: its answer to our DAD probe
  // (RFC 4862 5.4.4) makes the address a duplicate; the link-local one is still ours.
  // The kernel transmits on the TAP only up to a second after we attach (WaitForOperstateUp):
  // three probes a second apart are sure to be heard.
  ASSERT_EQ(netns().Shell("ip addr add " + kStackAddress6 + "/64 dev tap0 nodad").exit_code, 0);
  testbed::Process stack = StartTapstack("up", {"--addr", kStackAddress6 + "/64", "--dad-transmits",
                                                "3", "--duration", "30s", "--stats"});
  ASSERT_TRUE(OutputShows(kStackAddress6 + " duplicate")) << Output();
  EXPECT_THAT(Output(), ::testing::HasSubstr("fe80::ff:fe00:2 preferred"));
  EXPECT_TRUE(ShellSucceeds("ping -6 -c 1 -W 1 fe80::ff:fe00:2%tap0", 30)) << Output();
  stack.Signal(SIGTERM);
  ASSERT_EQ(stack.Wait(std::chrono::seconds(10)), 0) << Output();
  EXPECT_EQ(ParseStats(Output()).at("ndp_dad_duplicates"), 1);
}

TEST_F(PingTest, KernelDetectsOurAddressAsDuplicate) {
  // The other way round: the kernel probes for an address we hold; our advertisement to
  // all-nodes (RFC 4861 7.2.4) makes its copy fail DAD.
  testbed::Process stack = StartTapstack(
      "up", {"--addr", kStackAddress6 + "/64", "--dad-transmits", "0", "--duration", "30s"});
  WaitUntilStackAnswers();
  WaitForOperstateUp();
  ASSERT_EQ(netns().Shell("ip addr add " + kStackAddress6 + "/64 dev tap0").exit_code, 0);
  EXPECT_TRUE(ShellSucceeds("ip -6 addr show dev tap0 | grep -q dadfailed", 50))
      << netns().Shell("ip -6 addr show dev tap0").output << Output();
  stack.Signal(SIGTERM);
  ASSERT_EQ(stack.Wait(std::chrono::seconds(10)), 0) << Output();
}

TEST_F(PingTest, ClearErrorWhenTheNamespaceIsMissing) {
  const std::string out = TempPath("missing.out");
  Result<testbed::Process> child = testbed::Process::Spawn(
      {TAPSTACK_BINARY, "up", "--netns", "no-such-namespace-tapstack", "--addr", "192.0.2.2/24"},
      {.output_path = out});
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(child->Wait(std::chrono::seconds(10)), 1);
  EXPECT_THAT(ReadFile(out), ::testing::HasSubstr("no-such-namespace-tapstack"));
}

}  // namespace
}  // namespace tapstack::testing
