// The TAP's receive offloads against the Linux kernel, in namespaces the tests create and delete
// (docs/testbed.md): with the virtio-net header on, the kernel's TCP hands us super-segments up
// to 64 KiB with partial checksums, and a bulk transfer still arrives byte for byte; without
// offloads (the plain mode, or `--no-offload`) not one frame is coalesced or left partial.
// Every wait is for a condition (a transfer's end, a process's exit), capped by a deadline.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "testbed/failure.h"
#include "testbed/linux_peer.h"
#include "tests/interop/tap_fixture.h"
#include "tests/interop/tcp_interop_support.h"

namespace tapstack::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr std::uint64_t kMiB = 1024 * 1024;

// Our stack in this process on the namespace's persistent tap0, and a kernel client.
class OffloadTapTest : public TapTest {
 protected:
  std::unique_ptr<testbed::StackHost> OpenStack(bool offload, const std::string& pcap_path = "") {
    InProcessStackOptions options;
    options.netns = netns().name();
    options.offload = offload;
    options.pcap_path = pcap_path;
    Result<std::unique_ptr<testbed::StackHost>> stack = OpenInProcessStack(options);
    EXPECT_TRUE(stack.ok()) << testbed::LastFailure();
    if (!stack.ok()) return nullptr;
    WaitForOperstateUp();
    return *std::move(stack);
  }

  // A kernel client sends `kernel_bytes` to our stack listening on `port`, which sends
  // `our_bytes` back at the same time; runs until both ends are done or `timeout` passed. The
  // peer is left in `peer` (null if it could not start).
  bool RunKernelClient(testbed::StackHost& stack, AppHost& apps, std::uint16_t port,
                       std::uint64_t kernel_bytes, std::uint64_t our_bytes,
                       std::unique_ptr<testbed::LinuxPeer>& peer, seconds timeout) {
    if (!apps.Serve(port, 1, {.send_bytes = our_bytes, .seed = 21}).ok()) return false;
    Result<std::unique_ptr<testbed::LinuxPeer>> started =
        testbed::LinuxPeer::Start(netns().name(),
                                  {"client", kStackAddress, std::to_string(port), "--send",
                                   std::to_string(kernel_bytes), "--seed", "20"},
                                  TempPath("offload_peer.out"));
    EXPECT_TRUE(started.ok()) << testbed::LastFailure();
    if (!started.ok()) return false;
    peer = *std::move(started);
    return stack.RunUntil([&] { return peer->Exited() && apps.CountFinished() == 1; }, timeout);
  }

  static std::string Describe(testbed::StackHost& stack, testbed::LinuxPeer* peer) {
    std::string text;
    stack.stack().counters().ForEach([&](std::string_view name, std::uint64_t value) {
      if (value != 0) absl::StrAppend(&text, std::string(name), "=", value, " ");
    });
    const tap::DeviceStats device = stack.tap().stats();
    absl::StrAppend(
        &text, "\ntap: offload ", tap::DescribeOffloadStatus(stack.tap().offload_status()),
        " frames ", device.frames_received, " coalesced ", device.rx_coalesced_frames, " partial ",
        device.rx_checksum_partial, " verified ", device.rx_checksum_verified, " bad header ",
        device.rx_dropped_bad_vnet_header, " too big ", device.rx_dropped_too_big);
    if (peer != nullptr) absl::StrAppend(&text, "\nkernel peer:\n", peer->Output());
    return text;
  }
};

// The same with offloads on (the parameter) and off.
class OffloadInteropTest : public OffloadTapTest, public ::testing::WithParamInterface<bool> {
 protected:
  bool offload() const { return GetParam(); }
};

// 64 MiB each way at once between a kernel client and our listening stack: both hashes match,
// and with offloads the kernel's half arrived as super-segments with partial checksums.
TEST_P(OffloadInteropTest, BulkBothWaysIsByteIdenticalAndOffloadsAreUsedOnlyWhenOn) {
  std::unique_ptr<testbed::StackHost> stack = OpenStack(offload());
  ASSERT_NE(stack, nullptr);
  ASSERT_EQ(stack->tap().offload_status().active, offload())
      << tap::DescribeOffloadStatus(stack->tap().offload_status());
  AppHost apps(*stack);
  std::unique_ptr<testbed::LinuxPeer> peer;
  const bool done = RunKernelClient(*stack, apps, 5020, 64 * kMiB, 64 * kMiB, peer, seconds(60));
  ASSERT_TRUE(done) << Describe(*stack, peer.get());
  ASSERT_EQ(peer->exit_code(), 0) << Describe(*stack, peer.get());
  const auto results = peer->Results();
  const StreamApp& ours = *apps.apps().front();
  EXPECT_EQ(results.at("received_bytes"), std::to_string(64 * kMiB));
  EXPECT_EQ(results.at("received_sha"), ours.sent_sha()) << "ours, as the kernel got it";
  EXPECT_EQ(ours.bytes_received(), 64 * kMiB);
  EXPECT_EQ(ours.received_sha(), results.at("sent_sha")) << "the kernel's, as we got it";
  EXPECT_FALSE(ours.io_error()) << ours.io_error().message();

  const tap::DeviceStats device = stack->tap().stats();
  const Counters& counters = stack->stack().counters();
  EXPECT_EQ(counters[Counter::kDropTcpBadChecksum], 0u) << Describe(*stack, peer.get());
  EXPECT_EQ(device.rx_dropped_bad_vnet_header, 0u) << Describe(*stack, peer.get());
  EXPECT_EQ(device.rx_dropped_too_big, 0u) << Describe(*stack, peer.get());
  if (offload()) {
    // The kernel's TSO output reached us whole: frames beyond the MTU, checksums left partial,
    // and the stack skipped exactly those checks.
    EXPECT_GT(device.rx_coalesced_frames, 0u) << Describe(*stack, peer.get());
    EXPECT_GT(device.rx_checksum_partial, 0u) << Describe(*stack, peer.get());
    EXPECT_GT(counters[Counter::kRxTcpChecksumOffloaded], 0u) << Describe(*stack, peer.get());
    // 64 MiB in frames of at most 1500 bytes would take over 46,000 reads.
    EXPECT_LT(device.frames_received, 40'000u) << Describe(*stack, peer.get());
    // And the other way: our half left as super-segments the kernel took and cut (TSO), in
    // fewer writes than 1500-byte frames would take, every checksum left to the kernel.
    EXPECT_GT(device.tx_super_segments, 0u) << Describe(*stack, peer.get());
    EXPECT_GT(counters[Counter::kTxTcpSuperSegments], 0u) << Describe(*stack, peer.get());
    EXPECT_LT(device.frames_sent, 40'000u) << Describe(*stack, peer.get());
    EXPECT_EQ(device.tx_software_offloaded, 0u) << "the kernel did the work, not us";
  } else {
    EXPECT_EQ(device.rx_coalesced_frames, 0u) << Describe(*stack, peer.get());
    EXPECT_EQ(device.rx_checksum_partial, 0u) << Describe(*stack, peer.get());
    EXPECT_EQ(device.rx_checksum_verified, 0u) << Describe(*stack, peer.get());
    EXPECT_EQ(counters[Counter::kRxTcpChecksumOffloaded], 0u) << Describe(*stack, peer.get());
    EXPECT_EQ(device.tx_super_segments, 0u) << Describe(*stack, peer.get());
    EXPECT_EQ(device.tx_checksum_partial, 0u) << Describe(*stack, peer.get());
    EXPECT_EQ(counters[Counter::kTxTcpChecksumOffloaded], 0u) << Describe(*stack, peer.get());
  }
}

// The pcap holds what crossed the device, super-segments whole (as tcpdump on the host's side of
// the TAP shows them), and tshark reads it.
TEST_P(OffloadInteropTest, PcapRecordsWhatCrossedTheDeviceAndTsharkReadsIt) {
  const std::string pcap = TempPath("offload.pcap");
  std::unique_ptr<testbed::StackHost> stack = OpenStack(offload(), pcap);
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  std::unique_ptr<testbed::LinuxPeer> peer;
  const bool done = RunKernelClient(*stack, apps, 5021, 4 * kMiB, 4 * kMiB, peer, seconds(30));
  ASSERT_TRUE(done) << Describe(*stack, peer.get());
  ASSERT_EQ(apps.apps().front()->bytes_received(), 4 * kMiB);
  const std::uint64_t frames = stack->tap().stats().frames_received;
  const std::uint64_t sent = stack->tap().stats().frames_sent;
  stack.reset();  // completes the file

  const CommandResult all = RunShell(absl::StrCat("tshark -r ", pcap, " 2>/dev/null | wc -l"));
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_EQ(std::stoull(all.output), frames + sent) << "every frame, each way, is in the file";
  // Standard error only, without tshark's warning about running as root: a record longer than
  // the file's snapshot length, or a cut one, would be reported here.
  const CommandResult errors =
      RunShell(absl::StrCat("tshark -r ", pcap, " 2>&1 >/dev/null | grep -v 'Running as user'"));
  EXPECT_EQ(errors.output, "") << "tshark complained";
  const CommandResult big =
      RunShell(absl::StrCat("tshark -r ", pcap, " -Y 'frame.len > 1514' 2>/dev/null | wc -l"));
  ASSERT_EQ(big.exit_code, 0) << big.output;
  // Ours among them: what the stack handed the device for the kernel to cut (TSO).
  const CommandResult ours = RunShell(
      absl::StrCat("tshark -r ", pcap, " -Y 'frame.len > 1514 && ip.src == ", kStackAddress,
                   "' 2>/dev/null | wc -l"));
  ASSERT_EQ(ours.exit_code, 0) << ours.output;
  if (offload()) {
    EXPECT_GT(std::stoull(big.output), 0u) << "super-segments beyond the MTU";
    EXPECT_GT(std::stoull(ours.output), 0u) << "our super-segments";
  } else {
    EXPECT_EQ(std::stoull(big.output), 0u);
    EXPECT_EQ(std::stoull(ours.output), 0u);
  }
}

// tap0 is persistent (the fixture made it) and keeps the offload flags a descriptor set. A plain
// user after an offload user must still get plain frames: Open clears them, or the kernel would
// hand over super-segments that do not fit an MTU-sized buffer and a transfer would stall.
TEST_F(OffloadTapTest, PlainModeAfterAnOffloadUserGetsPlainFrames) {
  {
    std::unique_ptr<testbed::StackHost> first = OpenStack(/*offload=*/true);
    ASSERT_NE(first, nullptr);
    ASSERT_TRUE(first->tap().offload_status().active);
  }
  std::unique_ptr<testbed::StackHost> stack = OpenStack(/*offload=*/false);
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  std::unique_ptr<testbed::LinuxPeer> peer;
  const bool done = RunKernelClient(*stack, apps, 5022, 8 * kMiB, 0, peer, seconds(30));
  ASSERT_TRUE(done) << Describe(*stack, peer.get());
  EXPECT_EQ(apps.apps().front()->bytes_received(), 8 * kMiB);
  EXPECT_EQ(apps.apps().front()->received_sha(), peer->Results().at("sent_sha"));
  const tap::DeviceStats device = stack->tap().stats();
  EXPECT_EQ(device.rx_dropped_too_big, 0u) << Describe(*stack, peer.get());
  EXPECT_EQ(device.rx_coalesced_frames, 0u);
  EXPECT_EQ(stack->stack().counters()[Counter::kDropTcpBadChecksum], 0u)
      << "a partial checksum reached the plain mode";
}

INSTANTIATE_TEST_SUITE_P(OffloadOnAndOff, OffloadInteropTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Offload") : std::string("NoOffload");
                         });

// `tapstack up` asks for offloads unless told --no-offload, and says which mode it runs in: on
// its first line and in --stats.
class OffloadCliTest : public TapTest {
 protected:
  std::string RunUp(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--duration", "1s", "--stats"};
    args.insert(args.end(), extra.begin(), extra.end());
    testbed::Process up = StartTapstack("up", args);
    const std::optional<int> status = up.Wait(seconds(20));
    EXPECT_EQ(status, 0) << Output();
    return Output();
  }
};

TEST_F(OffloadCliTest, UpSaysWhichModeItRunsIn) {
  const std::string with = RunUp({});
  EXPECT_THAT(with, HasSubstr("offloads on (virtio-net header")) << with;
  EXPECT_EQ(ParseStats(with).at("tap_offload"), 1) << with;
  const std::string without = RunUp({"--no-offload"});
  EXPECT_THAT(without, HasSubstr("offloads off (not asked)")) << without;
  EXPECT_EQ(ParseStats(without).at("tap_offload"), 0) << without;
}

// nc's event log starts with the device's mode and what the stack may hand it unfinished. The
// connection is refused (nothing listens on the port): the first line is written before it.
TEST_F(OffloadCliTest, NcEventsSayWhichModeItRunsIn) {
  for (const bool offload : {true, false}) {
    SCOPED_TRACE(offload);
    const std::string events = TempPath(offload ? "on.jsonl" : "off.jsonl");
    std::vector<std::string> args = {"--events", events};
    if (!offload) args.push_back("--no-offload");
    args.insert(args.end(), {kKernelAddress, "9"});
    testbed::Process nc = StartTapstack("nc", args);
    ASSERT_TRUE(nc.Wait(seconds(20)).has_value()) << Output();
    const std::string log = ReadFile(events);
    const std::string first = log.substr(0, log.find('\n'));
    EXPECT_THAT(first, HasSubstr("\"event\":\"device\"")) << log;
    if (offload) {
      EXPECT_THAT(first, HasSubstr("\"offload\":true,\"mode\":\"on (virtio-net header"));
      EXPECT_THAT(first, HasSubstr(absl::StrCat("\"tso\":", tap::kMaxTcpSegmentOffload,
                                                ",\"tx_checksum\":true")));
    } else {
      EXPECT_THAT(first, HasSubstr("\"offload\":false,\"mode\":\"off (not asked)\",\"tso\":0,"
                                   "\"tx_checksum\":false"));
    }
  }
}

}  // namespace
}  // namespace tapstack::testing
