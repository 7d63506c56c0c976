// TCP against the Linux kernel over TAP, in namespaces the tests create (docs/testbed.md).
//
// The kernel's side is the testbed's Linux peer (testbed/linux_peer.py), run inside the namespace.
// Our side is either the stack in this process on the namespace's TAP device (a testbed::StackHost
// opened by OpenInProcessStack: the tests then see every event and state), or the real `tapstack
// nc` binary. Every loop is capped by a wall-clock deadline, so a bug fails the test instead of
// hanging it; transfers are checked with SHA-256 on both ends (hashlib there, tests/support/sha256
// here).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "testbed/failure.h"
#include "testbed/linux_peer.h"
#include "tests/interop/tap_fixture.h"
#include "tests/interop/tcp_interop_support.h"
#include "tests/support/tshark.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr char kServerAddress[] = "198.51.100.2";  // behind the router (docs/testbed.md)
constexpr char kRouterAddress[] = "198.51.100.1";

class TcpInteropTest : public TapTest {
 protected:
  // Our stack in this process on tap0 as 192.0.2.2.
  std::unique_ptr<testbed::StackHost> OpenStack(InProcessStackOptions options = {}) {
    options.netns = netns().name();
    Result<std::unique_ptr<testbed::StackHost>> stack = OpenInProcessStack(options);
    EXPECT_TRUE(stack.ok()) << testbed::LastFailure();
    if (!stack.ok()) return nullptr;
    WaitForOperstateUp();
    return *std::move(stack);
  }

  std::unique_ptr<testbed::LinuxPeer> StartPeer(const std::vector<std::string>& args,
                                                const std::string& in_netns = "") {
    Result<std::unique_ptr<testbed::LinuxPeer>> peer = testbed::LinuxPeer::Start(
        in_netns.empty() ? netns().name() : in_netns, args, TempPath("tcp_peer.out"));
    EXPECT_TRUE(peer.ok()) << testbed::LastFailure();
    return peer.ok() ? *std::move(peer) : nullptr;
  }

  // Runs `command` in the namespace while our stack keeps answering, and returns its exit code
  // (-1 when it did not end within `timeout`).
  int RunWhileServing(testbed::StackHost& stack, const std::string& command, milliseconds timeout) {
    const std::string output = TempPath("command.out");
    Result<testbed::Process> child =
        testbed::Process::Spawn(netns().ExecArgv({"sh", "-c", command}), {.output_path = output});
    EXPECT_TRUE(child.ok()) << child.error().message();
    if (!child.ok()) return -1;
    std::optional<int> status;
    stack.RunUntil([&] { return (status = child->Wait(milliseconds(0))).has_value(); }, timeout);
    EXPECT_TRUE(status.has_value()) << command << " did not finish: " << ReadFile(output);
    return status.value_or(-1);
  }

  // Everything useful when a test fails.
  static std::string Describe(testbed::StackHost& stack, const AppHost& apps,
                              testbed::LinuxPeer* peer = nullptr) {
    std::ostringstream text;
    std::size_t shown = 0;
    for (const auto& app : apps.apps()) {
      // Only unfinished connections, and a few of them: enough to see what is stuck.
      if (app->Finished() || ++shown > 8) continue;
      const std::optional<tcp::ConnectionInfo> info = stack.stack().Info(app->id());
      text << "app " << app->id().value
           << ": state=" << (info ? tcp::StateName(info->state) : "gone")
           << " sent=" << app->bytes_sent() << " received=" << app->bytes_received()
           << " peer_eof=" << app->peer_eof() << " shut=" << app->write_shut()
           << " closed=" << app->closed() << " close_error=" << app->close_error().message()
           << " io_error=" << app->io_error().message();
      if (info) {
        text << " snd_una=" << info->snd_una << " snd_nxt=" << info->snd_nxt
             << " snd_wnd=" << info->snd_wnd << " cwnd=" << info->cwnd
             << " rcv_wnd=" << info->rcv_wnd << " send_buffered=" << info->send_buffered
             << " receive_buffered=" << info->receive_buffered;
      }
      text << "\n";
    }
    stack.stack().counters().ForEach([&](std::string_view name, std::uint64_t value) {
      if (value != 0) text << name << "=" << value << " ";
    });
    if (const tap::FaultyLink* faulty = stack.faulty_link()) {
      const tap::FaultStats& f = faulty->fault_stats();
      text << "\nfaults: in=" << f.frames_in << " lost=" << f.lost << " reordered=" << f.reordered
           << " released=" << f.released;
    }
    if (peer != nullptr) {
      text << "\nkernel peer (exit "
           << (peer->exit_code() ? std::to_string(*peer->exit_code()) : "running") << "):\n"
           << peer->Output();
    }
    return text.str();
  }
};

// 1. A kernel client sends 32 MiB to our listening stack, which echoes it; the kernel checks that
// what came back hashes like what it sent, and we check that we received what it sent.
TEST_F(TcpInteropTest, KernelClientSends32MiBAndOurStackEchoesIt) {
  std::unique_ptr<testbed::StackHost> stack = OpenStack();
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  ASSERT_TRUE(apps.Serve(5001, 8, {.mode = StreamPlan::Mode::kEcho}).ok());
  std::unique_ptr<testbed::LinuxPeer> peer =
      StartPeer({"client", kStackAddress, "5001", "--send", std::to_string(32 * kMiB), "--seed",
                 "1", "--expect-echo"});
  ASSERT_NE(peer, nullptr);
  const bool done =
      stack->RunUntil([&] { return peer->Exited() && apps.CountFinished() == 1; }, seconds(20));
  ASSERT_TRUE(done) << Describe(*stack, apps, peer.get());
  ASSERT_EQ(peer->exit_code(), 0) << Describe(*stack, apps, peer.get());
  const auto results = peer->Results();
  EXPECT_EQ(results.at("received_bytes"), std::to_string(32 * kMiB));
  EXPECT_EQ(results.at("received_sha"), results.at("sent_sha")) << "the kernel's check";
  const StreamApp& echo = *apps.apps().front();
  EXPECT_EQ(echo.bytes_received(), 32 * kMiB);
  EXPECT_EQ(echo.received_sha(), results.at("sent_sha")) << "our check";
  EXPECT_FALSE(echo.close_error()) << echo.close_error().message();
  EXPECT_FALSE(echo.io_error()) << echo.io_error().message();
}

// 2. Our client and a kernel server, 32 MiB each way at the same time.
TEST_F(TcpInteropTest, OurClientAndKernelServerExchange32MiBEachWay) {
  std::unique_ptr<testbed::StackHost> stack = OpenStack();
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  std::unique_ptr<testbed::LinuxPeer> peer =
      StartPeer({"server", "5002", "--send", std::to_string(32 * kMiB), "--seed", "2"});
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(peer->WaitForKey("READY", seconds(10))) << peer->Output();
  absl::StatusOr<StreamApp*> client =
      apps.Connect(kKernelAddress, 5002, {.send_bytes = 32 * kMiB, .seed = 7});
  ASSERT_TRUE(client.ok()) << client.status();
  const bool done =
      stack->RunUntil([&] { return peer->Exited() && (*client)->Finished(); }, seconds(20));
  ASSERT_TRUE(done) << Describe(*stack, apps, peer.get());
  ASSERT_EQ(peer->exit_code(), 0) << Describe(*stack, apps, peer.get());
  const auto results = peer->Results();
  EXPECT_EQ(results.at("received_bytes"), std::to_string(32 * kMiB));
  EXPECT_EQ(results.at("received_sha"), (*client)->sent_sha()) << "ours, as the kernel got it";
  EXPECT_EQ((*client)->bytes_received(), 32 * kMiB);
  EXPECT_EQ((*client)->received_sha(), results.at("sent_sha")) << "the kernel's, as we got it";
  EXPECT_FALSE((*client)->io_error()) << (*client)->io_error().message();
  EXPECT_FALSE((*client)->close_error()) << (*client)->close_error().message();
}

// 3a. We shut down our write side first; the kernel sends only after it read our end of stream,
// and we still receive all of it, in FIN-WAIT-1/2.
TEST_F(TcpInteropTest, WeHalfCloseAndStillReceiveFromTheKernel) {
  std::unique_ptr<testbed::StackHost> stack = OpenStack();
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  std::unique_ptr<testbed::LinuxPeer> peer = StartPeer(
      {"server", "5003", "--send", std::to_string(kMiB), "--seed", "3", "--send-after-eof"});
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(peer->WaitForKey("READY", seconds(10))) << peer->Output();
  absl::StatusOr<StreamApp*> client =
      apps.Connect(kKernelAddress, 5003, {.send_bytes = 100'000, .seed = 8});
  ASSERT_TRUE(client.ok()) << client.status();
  const bool done =
      stack->RunUntil([&] { return peer->Exited() && (*client)->Finished(); }, seconds(15));
  ASSERT_TRUE(done) << Describe(*stack, apps, peer.get());
  ASSERT_EQ(peer->exit_code(), 0) << Describe(*stack, apps, peer.get());
  const auto results = peer->Results();
  EXPECT_EQ(results.at("received_sha"), (*client)->sent_sha());
  EXPECT_EQ((*client)->bytes_received(), kMiB);
  EXPECT_EQ((*client)->received_sha(), results.at("sent_sha"));
  // Every byte was read after our FIN went out (the kernel sends only once it has read our end of
  // stream), most of it in FIN-WAIT-2: 1 MiB does not fit our 256 KiB window, so reading had to
  // start before the kernel's FIN came. The last reads may find that FIN already in (TIME-WAIT).
  const std::vector<tcp::State>& states = (*client)->states_while_receiving();
  for (tcp::State state : states) {
    EXPECT_TRUE(state == tcp::State::kFinWait1 || state == tcp::State::kFinWait2 ||
                state == tcp::State::kTimeWait)
        << tcp::StateName(state);
  }
  EXPECT_THAT(states, ::testing::Contains(tcp::State::kFinWait2));
  EXPECT_FALSE((*client)->close_error()) << (*client)->close_error().message();
}

// 3b. The kernel sends, then shutdown(SHUT_WR), and only then reads: we send to it after its end
// of stream (from CLOSE-WAIT) and it receives everything.
TEST_F(TcpInteropTest, KernelHalfClosesAndStillReceivesFromUs) {
  std::unique_ptr<testbed::StackHost> stack = OpenStack();
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  ASSERT_TRUE(
      apps.Serve(5004, 8, {.send_bytes = kMiB, .seed = 9, .send_after_peer_eof = true}).ok());
  std::unique_ptr<testbed::LinuxPeer> peer = StartPeer(
      {"client", kStackAddress, "5004", "--send", "100000", "--seed", "4", "--sequential"});
  ASSERT_NE(peer, nullptr);
  const bool done =
      stack->RunUntil([&] { return peer->Exited() && apps.CountFinished() == 1; }, seconds(15));
  ASSERT_TRUE(done) << Describe(*stack, apps, peer.get());
  ASSERT_EQ(peer->exit_code(), 0) << Describe(*stack, apps, peer.get());
  const auto results = peer->Results();
  const StreamApp& server = *apps.apps().front();
  EXPECT_EQ(server.received_sha(), results.at("sent_sha"));
  EXPECT_EQ(results.at("received_bytes"), std::to_string(kMiB));
  EXPECT_EQ(results.at("received_sha"), server.sent_sha());
  EXPECT_FALSE(server.close_error()) << server.close_error().message();
  EXPECT_FALSE(server.io_error()) << server.io_error().message();
}

// 4a. Nobody listens on the kernel's port: its RST ends our SYN-SENT with ECONNREFUSED.
TEST_F(TcpInteropTest, ConnectToClosedKernelPortIsRefused) {
  std::unique_ptr<testbed::StackHost> stack = OpenStack();
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  absl::StatusOr<StreamApp*> client = apps.Connect(kKernelAddress, 5005, {});
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(stack->RunUntil([&] { return (*client)->closed(); }, seconds(10)))
      << Describe(*stack, apps);
  EXPECT_EQ((*client)->close_error(), tcp::Errno(ECONNREFUSED))
      << (*client)->close_error().message();
  EXPECT_FALSE((*client)->started()) << "never connected";
  EXPECT_EQ(stack->stack().counters()[Counter::kTcpResetsReceived], 1u);
}

// 4b. The kernel connects to a port of ours nobody listens on: our RST makes it
// ConnectionRefusedError.
TEST_F(TcpInteropTest, KernelConnectingToOurClosedPortIsRefused) {
  std::unique_ptr<testbed::StackHost> stack = OpenStack();
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  ASSERT_TRUE(apps.Serve(5006, 8, {}).ok());  // a listener elsewhere must not matter
  std::unique_ptr<testbed::LinuxPeer> peer = StartPeer({"refused", kStackAddress, "5007"});
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(stack->RunUntil([&] { return peer->Exited(); }, seconds(15)))
      << Describe(*stack, apps, peer.get());
  EXPECT_EQ(peer->exit_code(), 0) << peer->Output();
  EXPECT_EQ(peer->Results()["refused"], "1") << peer->Output();
  EXPECT_THAT(peer->Output(), HasSubstr("ConnectionRefusedError"));
  EXPECT_GE(stack->stack().counters()[Counter::kTcpResetsSent], 1u);
  EXPECT_TRUE(apps.apps().empty());
}

// 5. The kernel aborts (SO_LINGER {1, 0}, then close): its RST reaches our application as
// ECONNRESET.
TEST_F(TcpInteropTest, KernelAbortIsConnectionResetForOurApplication) {
  std::unique_ptr<testbed::StackHost> stack = OpenStack();
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  ASSERT_TRUE(apps.Serve(5008, 8, {.mode = StreamPlan::Mode::kEcho}).ok());
  std::unique_ptr<testbed::LinuxPeer> peer =
      StartPeer({"abort", kStackAddress, "5008", "--send", "20000", "--seed", "5"});
  ASSERT_NE(peer, nullptr);
  const bool done =
      stack->RunUntil([&] { return peer->Exited() && apps.CountClosed() == 1; }, seconds(15));
  ASSERT_TRUE(done) << Describe(*stack, apps, peer.get());
  EXPECT_EQ(peer->exit_code(), 0) << peer->Output();
  EXPECT_EQ(peer->Results()["echoed"], "1");
  const StreamApp& echo = *apps.apps().front();
  EXPECT_EQ(echo.bytes_received(), 20000u);
  EXPECT_EQ(echo.close_error(), tcp::Errno(ECONNRESET)) << echo.close_error().message();
  EXPECT_FALSE(echo.peer_eof()) << "a reset is not an end of stream";
  EXPECT_EQ(stack->stack().counters()[Counter::kTcpResetsReceived], 1u);
  // The handle is gone: later calls say so instead of touching a dead connection.
  std::vector<std::uint8_t> buffer(16);
  EXPECT_EQ(stack->stack().Receive(echo.id(), buffer, stack->Now()).error, tcp::Errno(ENOTCONN));
}

// 6. A thousand kernel connections at once, each sending 1 KiB, half-closing and reading the echo
// back before our end of stream.
//
// Limits: the burst brings up to 1000 SYNs at once and Linux's SYN retransmission waits 1 s, so
// nothing may be refused for lack of room. TcpConfig::max_half_open is 2048 (default 1024) and the
// listen backlog 1024 (Accept() runs on every kAcceptReady, so the queue stays short anyway).
// The TAP's txqueuelen is raised to 5000 so the kernel's burst does not overflow the queue
// between it and us.
TEST_F(TcpInteropTest, ThousandConcurrentKernelConnectionsAllComplete) {
  constexpr int kConnections = 1000;
  ASSERT_TRUE(netns().Shell("ip link set tap0 txqueuelen 5000").ok());
  InProcessStackOptions options;
  options.tcp.max_half_open = 2048;
  std::unique_ptr<testbed::StackHost> stack = OpenStack(options);
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  ASSERT_TRUE(apps.Serve(5009, 1024, {.mode = StreamPlan::Mode::kEcho}).ok());
  // Resolve each other's MAC first, so the SYN burst does not wait in the kernel's ARP queue.
  ASSERT_EQ(RunWhileServing(*stack, absl::StrCat("ping -c 1 -W 2 ", kStackAddress), seconds(5)), 0);
  std::unique_ptr<testbed::LinuxPeer> peer =
      StartPeer({"many", kStackAddress, "5009", "--count", std::to_string(kConnections), "--size",
                 "1024", "--timeout", "18"});
  ASSERT_NE(peer, nullptr);
  const bool done = stack->RunUntil(
      [&] { return peer->Exited() && apps.CountClosed() == kConnections; }, seconds(20));
  ASSERT_TRUE(done) << "finished " << apps.CountFinished() << " of " << apps.apps().size() << "\n"
                    << Describe(*stack, apps, peer.get());
  EXPECT_EQ(peer->exit_code(), 0) << peer->Output();
  EXPECT_EQ(peer->Results()["completed"], std::to_string(kConnections)) << peer->Output();
  ASSERT_EQ(apps.apps().size(), static_cast<std::size_t>(kConnections));
  for (const auto& app : apps.apps()) {
    EXPECT_EQ(app->bytes_received(), 1024u);
    EXPECT_EQ(app->bytes_sent(), 1024u);
    EXPECT_TRUE(app->Finished());
    EXPECT_FALSE(app->close_error()) << app->close_error().message();
  }
  EXPECT_EQ(stack->stack().counters()[Counter::kDropTcpHalfOpenFull], 0u);
  EXPECT_EQ(stack->stack().counters()[Counter::kDropTcpAcceptQueueFull], 0u);
  EXPECT_EQ(stack->stack().tcp_connection_count(), 0u) << "every connection closed and freed";
}

// 7. Loss both ways, reordering too, at 1, 5 and 10 %: the kernel server sits behind a router
// namespace (the one with tap0) whose forward chain drops that share of what goes to us (nft
// numgen); our FaultyLink drops the same share of what we send and holds 5% back behind the next
// frame. A router is used because a drop in the kernel's own output path is reported to its TCP as
// a local send failure (and retried), not lost on a wire; a drop while forwarding is a real loss
// for the sender. Each way moves TAPSTACK_LOSS_INTEROP_MIB MiB (4 unless set; 64 for the full
// acceptance run of docs/testing.md).
class LossInteropTest : public TcpInteropTest, public ::testing::WithParamInterface<int> {
 protected:
  static std::uint64_t MiBEachWay() {
    const char* set = std::getenv("TAPSTACK_LOSS_INTEROP_MIB");
    const long long mib = set != nullptr ? std::strtoll(set, nullptr, 10) : 0;
    return mib >= 1 && mib <= 1024 ? static_cast<std::uint64_t>(mib) : 4;
  }
};

TEST_P(LossInteropTest, TransferSurvivesLossAndReorderingBothWays) {
  const int loss_percent = GetParam();
  const std::uint64_t mib = MiBEachWay();
  const std::uint64_t kBytes = mib * kMiB;
  // Segments lost each way, as expected from the rate: the checks below ask for half of it.
  const std::uint64_t expected_losses =
      kBytes / 1448 * static_cast<std::uint64_t>(loss_percent) / 100;
  Result<std::unique_ptr<testbed::Namespace>> server_ns = CreateTestNamespace();
  ASSERT_TRUE(server_ns.ok()) << testbed::LastFailure();
  const std::string server = (*server_ns)->name();
  for (const std::string& command : {
           absl::StrCat("ip link add r0 type veth peer name p0 netns ", server),
           absl::StrCat("ip addr add ", kRouterAddress, "/24 dev r0"),
           std::string("ip link set r0 up"),
           std::string("sysctl -qw net.ipv4.ip_forward=1"),
           std::string("nft add table inet lossy"),
           std::string(
               "nft add chain inet lossy to_stack '{ type filter hook forward priority 0; }'"),
           absl::StrCat("nft add rule inet lossy to_stack oifname tap0 numgen random mod 100 '<' ",
                        loss_percent, " counter drop"),
       }) {
    ASSERT_TRUE(netns().Shell(command).ok()) << command;
  }
  // gso_max_segs 1: the server's TCP hands the veth one segment per packet, so the router drops
  // single segments rather than whole 64 KiB TSO bursts.
  for (const std::string& command : {
           absl::StrCat("ip addr add ", kServerAddress, "/24 dev p0"),
           std::string("ip link set p0 up gso_max_segs 1"),
           absl::StrCat("ip route add default via ", kRouterAddress),
       }) {
    ASSERT_TRUE((*server_ns)->Shell(command).ok()) << command;
  }
  InProcessStackOptions options;
  options.gateway = kKernelAddress;
  options.faults = tap::FaultOptions{.seed = 42, .loss = loss_percent / 100.0, .reorder = 0.05};
  // What crossed the TAP, for Wireshark's reading of the options and blocks below.
  options.pcap_path = TempPath("loss.pcap");
  std::unique_ptr<testbed::StackHost> stack = OpenStack(options);
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  std::unique_ptr<testbed::LinuxPeer> peer =
      StartPeer({"server", "5010", "--send", std::to_string(kBytes), "--seed", "10"}, server);
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(peer->WaitForKey("READY", seconds(10))) << peer->Output();
  absl::StatusOr<StreamApp*> client =
      apps.Connect(kServerAddress, 5010, {.send_bytes = kBytes, .seed = 11});
  ASSERT_TRUE(client.ok()) << client.status();
  bool sack_agreed = false, timestamps_agreed = false;  // seen while the connection exists
  const bool done = stack->RunUntil(
      [&] {
        if (const auto info = stack->stack().Info((*client)->id())) {
          sack_agreed = sack_agreed || info->sack_permitted;
          timestamps_agreed = timestamps_agreed || info->timestamps;
        }
        return peer->Exited() && (*client)->Finished();
      },
      // A bound for a hang, not a speed test. With SACK agreed and 4 MiB at 5 %, Linux's half is
      // done in a quarter of a second and ours in about 5 s (see docs/testing.md).
      seconds(30 + 30 * static_cast<std::int64_t>(mib) / 4 * std::max(loss_percent, 5) / 5));
  ASSERT_TRUE(done) << Describe(*stack, apps, peer.get());
  ASSERT_EQ(peer->exit_code(), 0) << Describe(*stack, apps, peer.get());
  EXPECT_TRUE(sack_agreed) << "the kernel's SYN-ACK carries SACK-permitted (RFC 2018 2)";
  EXPECT_TRUE(timestamps_agreed) << "and the timestamps option (RFC 7323 3.2)";
  const auto results = peer->Results();
  EXPECT_EQ(results.at("received_bytes"), std::to_string(kBytes));
  EXPECT_EQ(results.at("received_sha"), (*client)->sent_sha());
  EXPECT_EQ((*client)->bytes_received(), kBytes);
  EXPECT_EQ((*client)->received_sha(), results.at("sent_sha"));
  // The faults really happened, both ways.
  const tap::FaultStats& faults = stack->faulty_link()->fault_stats();
  EXPECT_GT(faults.lost, expected_losses / 2);
  EXPECT_GT(faults.reordered, 50u);
  const CommandResult rule = netns().Shell("nft list chain inet lossy to_stack");
  const std::size_t counter = rule.output.find("counter packets ");
  ASSERT_NE(counter, std::string::npos) << rule.output;
  EXPECT_GT(std::stoul(rule.output.substr(counter + 16)), expected_losses / 2) << rule.output;
  EXPECT_GT(stack->stack().counters()[Counter::kTcpRetransmits], 0u);
  // SACK with Linux (RFC 2018): our SYN offered it, and we send blocks only when the kernel's
  // SYN-ACK carried SACK-permitted; the losses on our side left holes that our ACKs reported.
  EXPECT_GT(stack->stack().counters()[Counter::kTcpSackBlocksSent], 0u)
      << Describe(*stack, apps, peer.get());
  // And our sender used the kernel's blocks (RFC 6675): holes resent from the scoreboard. The
  // first hole of a recovery goes out as the fast retransmit; only a second hole in the same
  // window is resent from the blocks. At 1 % a run can lose no two segments of one window (one
  // did: 18 recoveries, 18 fast retransmits), so the check waits for 5 %, where about 145
  // segments of ours are lost.
  if (loss_percent >= 5) {
    EXPECT_GT(stack->stack().counters()[Counter::kTcpSackRetransmits], 0u)
        << Describe(*stack, apps, peer.get());
  }

  // Wireshark's dissectors, independent of ours, read the same from the capture: both SYNs offer
  // SACK and timestamps (RFC 2018 2, RFC 7323 3.2), both sides send SACK blocks, and every data
  // segment either side sends carries a timestamp.
  stack.reset();  // closes the capture
  const std::string ours = "ip.src == 192.0.2.2";
  const std::string kernels = absl::StrCat("ip.src == ", kServerAddress);
  EXPECT_EQ(TsharkCount(options.pcap_path,
                        "tcp.flags.syn == 1 && tcp.flags.ack == 0 && " + ours +
                            " && tcp.options.sack_perm && tcp.options.timestamp.tsval"),
            TsharkCount(options.pcap_path, "tcp.flags.syn == 1 && tcp.flags.ack == 0 && " + ours));
  EXPECT_GE(TsharkCount(options.pcap_path,
                        "tcp.flags.syn == 1 && tcp.flags.ack == 1 && " + kernels +
                            " && tcp.options.sack_perm && tcp.options.timestamp.tsval"),
            1);
  EXPECT_GT(TsharkCount(options.pcap_path, "tcp.options.sack_le && " + kernels), 0)
      << "the kernel's SACK blocks";
  EXPECT_GT(TsharkCount(options.pcap_path, "tcp.options.sack_le && " + ours), 0)
      << "our SACK blocks";
  EXPECT_EQ(TsharkCount(options.pcap_path, "tcp.len > 0 && !tcp.options.timestamp.tsval"), 0)
      << "a data segment without a timestamp";
  EXPECT_GT(TsharkCount(options.pcap_path, "tcp.len > 0 && tcp.options.timestamp.tsval"), 0);
}

INSTANTIATE_TEST_SUITE_P(Rates, LossInteropTest, ::testing::Values(1, 5, 10),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return absl::StrCat("loss", info.param);
                         });

// 8. Issue #4's acceptance: the real `tapstack nc` moves a file each way, byte for byte.
class NcInteropTest : public TapTest {
 protected:
  // `tapstack nc ARGS` on tap0 as 192.0.2.2, standard output to `stdout_path` (the received
  // bytes, nothing else), standard error to Output().
  testbed::Process StartNc(const std::vector<std::string>& args, const std::string& stdout_path,
                           const std::string& stdin_path) {
    std::string command = absl::StrCat("exec ", ShellQuote(TAPSTACK_BINARY), " nc --netns ",
                                       ShellQuote(netns().name()), " --tap tap0 --addr ",
                                       kStackAddress, "/24 --mac ", kStackMac, " --stats");
    for (const std::string& arg : args) absl::StrAppend(&command, " ", ShellQuote(arg));
    absl::StrAppend(&command, " >", ShellQuote(stdout_path));
    Result<testbed::Process> child = testbed::Process::Spawn(
        {"/bin/sh", "-c", command}, {.output_path = output_path(), .input_path = stdin_path});
    EXPECT_TRUE(child.ok()) << child.error().message();
    return *std::move(child);
  }

  std::string WriteTestFile(std::uint64_t bytes, std::uint64_t seed) {
    const std::string path = ScratchPath("nc-input.bin");
    std::vector<std::uint8_t> content(bytes);
    PatternStream(seed).Fill(content);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(content.data()),
               static_cast<std::streamsize>(content.size()));
    return path;
  }

  // A temporary file removed after a passing test (kept after a failure, to look at).
  std::string ScratchPath(const std::string& stem) {
    scratch_.push_back(TempPath(stem));
    return scratch_.back();
  }

  void TearDown() override {
    if (!HasFailure()) {
      for (const std::string& path : scratch_) std::remove(path.c_str());
    }
    TapTest::TearDown();
  }

 private:
  std::vector<std::string> scratch_;  // megabytes each
};

TEST_F(NcInteropTest, ListeningNcReceivesAFileFromTheKernel) {
  const std::string input = WriteTestFile(8 * kMiB, 12);
  const std::string received = ScratchPath("nc-received.bin");
  // Standard input is empty: nc half-closes at once and keeps receiving.
  testbed::Process nc = StartNc({"-l", "5011"}, received, "");
  WaitUntilStackAnswers();
  Result<std::unique_ptr<testbed::LinuxPeer>> peer = testbed::LinuxPeer::Start(
      netns().name(), {"client", kStackAddress, "5011", "--send-file", input},
      TempPath("tcp_peer.out"));
  ASSERT_TRUE(peer.ok()) << testbed::LastFailure();
  EXPECT_EQ((*peer)->Wait(seconds(20)), 0) << (*peer)->Output();
  EXPECT_EQ(nc.Wait(seconds(10)), 0) << Output();
  EXPECT_EQ((*peer)->Results()["received_bytes"], "0") << "nc had nothing to send";
  const std::string sent = ReadFile(input);
  const std::string got = ReadFile(received);
  EXPECT_EQ(got.size(), sent.size());
  EXPECT_TRUE(got == sent) << "the received file differs";
}

// --receive-loss drops the kernel's segments on our side, a loss its TCP has to repair (a drop on
// the kernel's own output would be reported to it and resent at once): the file still arrives
// whole, and our ACKs carried SACK blocks for the holes.
TEST_F(NcInteropTest, ListeningNcWithReceiveLossStillGetsTheWholeFile) {
  const std::string input = WriteTestFile(4 * kMiB, 16);
  const std::string received = ScratchPath("nc-received.bin");
  testbed::Process nc = StartNc({"--receive-loss", "5", "-l", "5015"}, received, "");
  WaitUntilStackAnswers();
  Result<std::unique_ptr<testbed::LinuxPeer>> peer = testbed::LinuxPeer::Start(
      netns().name(), {"client", kStackAddress, "5015", "--send-file", input},
      TempPath("tcp_peer.out"));
  ASSERT_TRUE(peer.ok()) << testbed::LastFailure();
  EXPECT_EQ((*peer)->Wait(seconds(60)), 0) << (*peer)->Output();
  EXPECT_EQ(nc.Wait(seconds(10)), 0) << Output();
  const std::string got = ReadFile(received);
  EXPECT_EQ(got.size(), 4 * kMiB);
  EXPECT_TRUE(got == ReadFile(input)) << "the received file differs";
  const std::map<std::string, long long> stats = ParseStats(Output());
  EXPECT_GT(stats.at("tap_rx_dropped_receive_loss"), 0) << Output();
  EXPECT_GT(stats.at("tcp_sack_blocks_sent"), 0) << Output();
  // Bulk data came in: nc's event loop held for more after reading it (--rx-hold, 50 us).
  EXPECT_GT(stats.at("loop_receive_holds"), 0) << Output();
}

TEST_F(NcInteropTest, ConnectingNcSendsAFileToTheKernel) {
  const std::string input = WriteTestFile(8 * kMiB, 13);
  const std::string saved = ScratchPath("kernel-received.bin");
  const std::string nc_stdout = ScratchPath("nc-stdout.bin");
  Result<std::unique_ptr<testbed::LinuxPeer>> peer = testbed::LinuxPeer::Start(
      netns().name(), {"server", "5012", "--save", saved}, TempPath("tcp_peer.out"));
  ASSERT_TRUE(peer.ok()) << testbed::LastFailure();
  ASSERT_TRUE((*peer)->WaitForKey("READY", seconds(10))) << (*peer)->Output();
  testbed::Process nc = StartNc({kKernelAddress, "5012"}, nc_stdout, input);
  EXPECT_EQ(nc.Wait(seconds(20)), 0) << Output();
  EXPECT_EQ((*peer)->Wait(seconds(10)), 0) << (*peer)->Output();
  const std::string sent = ReadFile(input);
  const std::string got = ReadFile(saved);
  EXPECT_EQ(got.size(), sent.size());
  EXPECT_TRUE(got == sent) << "the kernel's copy differs";
  EXPECT_EQ((*peer)->Results()["sent_bytes"], "0");
  EXPECT_TRUE(ReadFile(nc_stdout).empty());
}

// Over IPv6 (an IPv6 --addr beside the IPv4 one, and an IPv6 HOST): the same file, byte for byte.
TEST_F(NcInteropTest, ConnectingNcSendsAFileToTheKernelOverIpv6) {
  AddKernelIpv6Address();
  const std::string input = WriteTestFile(8 * kMiB, 14);
  const std::string saved = ScratchPath("kernel-received.bin");
  const std::string nc_stdout = ScratchPath("nc-stdout.bin");
  Result<std::unique_ptr<testbed::LinuxPeer>> peer = testbed::LinuxPeer::Start(
      netns().name(), {"server", "5013", "--save", saved}, TempPath("tcp_peer.out"));
  ASSERT_TRUE(peer.ok()) << testbed::LastFailure();
  ASSERT_TRUE((*peer)->WaitForKey("READY", seconds(10))) << (*peer)->Output();
  testbed::Process nc =
      StartNc({"--addr", kStackAddress6 + "/64", kKernelAddress6, "5013"}, nc_stdout, input);
  EXPECT_EQ(nc.Wait(seconds(20)), 0) << Output();
  EXPECT_EQ((*peer)->Wait(seconds(10)), 0) << (*peer)->Output();
  EXPECT_EQ(ReadFile(saved) == ReadFile(input), true) << "the kernel's copy differs";
  EXPECT_THAT((*peer)->Results()["peer"], ::testing::StartsWith(kStackAddress6 + ":"));
}

TEST_F(NcInteropTest, ListeningNcTakesAnIpv6ConnectionFromTheKernel) {
  AddKernelIpv6Address();
  const std::string input = WriteTestFile(8 * kMiB, 15);
  const std::string received = ScratchPath("nc-received.bin");
  const std::string ready = ScratchPath("ready");
  testbed::Process nc = StartNc(
      {"--addr", kStackAddress6 + "/64", "--ready-file", ready, "-l", "5014"}, received, "");
  // nc listens, and says so, only once duplicate address detection made the address ours.
  bool listening = false;
  for (int attempt = 0; attempt < 200 && !listening; ++attempt) {
    listening = !ReadFile(ready).empty();
    if (!listening) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(listening) << Output();
  Result<std::unique_ptr<testbed::LinuxPeer>> peer = testbed::LinuxPeer::Start(
      netns().name(), {"client", kStackAddress6, "5014", "--send-file", input},
      TempPath("tcp_peer.out"));
  ASSERT_TRUE(peer.ok()) << testbed::LastFailure();
  EXPECT_EQ((*peer)->Wait(seconds(20)), 0) << (*peer)->Output();
  EXPECT_EQ(nc.Wait(seconds(10)), 0) << Output();
  EXPECT_TRUE(ReadFile(received) == ReadFile(input)) << "the received file differs";
}

// 9. A SYN flood over TAP: 100,000 SYNs from spoofed sources, written as raw frames into tap0 in
// the namespace, while a kernel client connects to the same port and has 1 MiB echoed. The
// half-open connections stop at the cap and the rest are answered with SYN cookies; the client
// gets in with one.
TEST_F(TcpInteropTest, SynFloodLeavesMemoryBoundedAndAKernelClientStillConnects) {
  constexpr int kFloodSyns = 100'000;
  InProcessStackOptions options;
  options.tcp.max_half_open = 256;  // well below the flood, so that cookies carry most of it
  std::unique_ptr<testbed::StackHost> stack = OpenStack(options);
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  ASSERT_TRUE(apps.Serve(5011, 8, {.mode = StreamPlan::Mode::kEcho}).ok());
  const Stack& ours = stack->stack();
  std::size_t most_connections = 0;
  const auto track = [&] {
    most_connections = std::max(most_connections, ours.tcp_connection_count());
  };

  std::unique_ptr<testbed::LinuxPeer> flood =
      StartPeer({"synflood", kStackAddress, "5011", "--count", std::to_string(kFloodSyns), "--mac",
                 kStackMac, "--seconds", "4", "--seed", "8"});
  ASSERT_NE(flood, nullptr);
  ASSERT_TRUE(stack->RunUntil(
      [&] {
        track();
        return ours.counters()[Counter::kTcpSynCookiesSent] > 0;
      },
      seconds(20)))
      << Describe(*stack, apps, flood.get());

  // The half-open queue is full of spoofed connections: the client's SYN gets a cookie.
  std::unique_ptr<testbed::LinuxPeer> client =
      StartPeer({"client", kStackAddress, "5011", "--send", std::to_string(kMiB), "--seed", "12",
                 "--expect-echo"});
  ASSERT_NE(client, nullptr);
  const bool done = stack->RunUntil(
      [&] {
        track();
        return client->Exited() && flood->Exited() && apps.CountFinished() == 1;
      },
      seconds(60));
  ASSERT_TRUE(done) << Describe(*stack, apps, client.get()) << "\nflood: " << flood->Output();
  ASSERT_EQ(client->exit_code(), 0) << Describe(*stack, apps, client.get());
  ASSERT_EQ(flood->exit_code(), 0) << flood->Output();
  EXPECT_EQ(flood->Results().at("flood_sent"), std::to_string(kFloodSyns));
  EXPECT_EQ(client->Results().at("received_sha"), client->Results().at("sent_sha"));

  const Counters& counters = ours.counters();
  const std::uint64_t syns_seen =
      counters[Counter::kTcpPassiveOpens] + counters[Counter::kTcpSynCookiesSent];
  // Every SYN the kernel delivered to the TAP was answered one way or the other (the kernel may
  // drop some when its TAP queue is full while we are busy; those never reach us).
  EXPECT_GE(syns_seen, kFloodSyns * 9 / 10) << Describe(*stack, apps);
  // The client's SYN, plus its retransmissions when the kernel lost our answer in the crowd
  // (Linux tcp_syn_retries is 6).
  EXPECT_LE(syns_seen, kFloodSyns + 1u + 6u);
  EXPECT_EQ(counters[Counter::kTcpPassiveOpens], options.tcp.max_half_open + 1);
  EXPECT_EQ(counters[Counter::kTcpSynCookiesAccepted], 1u);
  EXPECT_LE(most_connections, options.tcp.max_half_open + 1);
  EXPECT_LE(ours.tcp_half_open_count(), options.tcp.max_half_open);
  RecordProperty("syns_seen", std::to_string(syns_seen));
  RecordProperty("most_connections", std::to_string(most_connections));
}

// 10. Blind in-window attacks over TAP (RFC 5961): a Linux client has 16 MiB echoed and pauses
// after the first MiB until the attack is over. Meanwhile an off-path attacker who knows the
// 4-tuple and even where our receive window lies (but not the exact sequence numbers) sends 30,000
// RSTs, SYNs and data segments into it, with the kernel's addresses. The connection survives, not
// one injected byte reaches the application, and the challenge ACKs are rate-limited.
TEST_F(TcpInteropTest, BlindInWindowAttackOnALiveTransferChangesNothing) {
  constexpr int kAttackSegments = 30'000;
  // Without timestamps: with them agreed, every SYN and data segment of an attacker who does not
  // know to carry the option is dropped before RFC 5961 is asked (RFC 7323 3.2), and RFC 5961 is
  // what this test is about. TimestampsTest covers those drops.
  InProcessStackOptions options;
  options.tcp.timestamps = false;
  std::unique_ptr<testbed::StackHost> stack = OpenStack(options);
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  ASSERT_TRUE(apps.Serve(5012, 8, {.mode = StreamPlan::Mode::kEcho}).ok());
  const std::string resume_file = TempPath("resume");
  std::unique_ptr<testbed::LinuxPeer> client =
      StartPeer({"client", kStackAddress, "5012", "--send", std::to_string(16 * kMiB), "--seed",
                 "13", "--expect-echo", "--pause-after", std::to_string(kMiB), "--pause", "60",
                 "--resume-file", resume_file});
  ASSERT_NE(client, nullptr);
  // The first MiB is in and echoed, and the client is silent: the window stays put.
  ASSERT_TRUE(stack->RunUntil(
      [&] {
        return client->Results().contains("paused") && !apps.apps().empty() &&
               apps.apps().front()->bytes_received() == kMiB &&
               apps.apps().front()->bytes_sent() == kMiB;
      },
      seconds(20)))
      << Describe(*stack, apps, client.get());

  const std::optional<tcp::ConnectionInfo> info = stack->stack().Info(apps.apps().front()->id());
  ASSERT_TRUE(info.has_value());
  // Frames the kernel drops because our TAP queue is full (we are busy) never reach us; count
  // them, so that every frame is accounted for.
  const auto tap_tx_dropped = [&] {
    return std::stoull(netns().Shell("cat /sys/class/net/tap0/statistics/tx_dropped").output);
  };
  const std::uint64_t dropped_before = tap_tx_dropped();
  const auto attack_start = std::chrono::steady_clock::now();
  std::unique_ptr<testbed::LinuxPeer> attacker =
      StartPeer({"blind", kStackAddress, "5012", "--src-port", std::to_string(info->remote_port),
                 "--base", std::to_string(info->rcv_nxt), "--window", std::to_string(info->rcv_wnd),
                 "--ack-base", std::to_string(info->snd_una), "--count",
                 std::to_string(kAttackSegments), "--mac", kStackMac, "--seed", "14"});
  ASSERT_NE(attacker, nullptr);
  ASSERT_TRUE(stack->RunUntil([&] { return attacker->Exited(); }, seconds(60)))
      << attacker->Output();
  ASSERT_EQ(attacker->exit_code(), 0) << attacker->Output();
  stack->RunFor(milliseconds(200));  // what is still queued on the TAP
  const auto attack_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - attack_start).count();
  const Counters attack_counters = stack->stack().counters();
  const std::uint64_t dropped_by_kernel = tap_tx_dropped() - dropped_before;

  // The attack is over: the client resumes and the transfer completes.
  std::ofstream(resume_file) << "go\n";
  const bool done =
      stack->RunUntil([&] { return client->Exited() && apps.CountFinished() == 1; }, seconds(60));
  ASSERT_TRUE(done) << Describe(*stack, apps, client.get());
  ASSERT_EQ(client->exit_code(), 0) << Describe(*stack, apps, client.get());
  EXPECT_EQ(client->Results().at("resumed"), "file") << "the pause ended before the attack did";

  // Byte for byte, both ways: the kernel checked its echo, we check what we received.
  const auto results = client->Results();
  EXPECT_EQ(results.at("received_sha"), results.at("sent_sha"));
  const StreamApp& echo = *apps.apps().front();
  EXPECT_EQ(echo.received_sha(), results.at("sent_sha"));
  EXPECT_FALSE(echo.close_error()) << echo.close_error().message();

  EXPECT_EQ(stack->stack().counters()[Counter::kTcpResetsReceived], 0u);
  const Counters& counters = attack_counters;
  // Every RST and SYN was in the window (RFC 5961 3.2, 4.2), every data segment's ACK
  // unacceptable (5.2): each asks for a challenge ACK, and the rate limit (one per
  // invalid_ack_ratelimit, 200 ms) lets through only a handful.
  const std::uint64_t challenges =
      counters[Counter::kTcpChallengeAcks] + counters[Counter::kDropTcpBadAck];
  const std::uint64_t suppressed = counters[Counter::kTcpRateLimitedAcks];
  EXPECT_LE(challenges, static_cast<std::uint64_t>(kAttackSegments));
  EXPECT_GE(challenges + dropped_by_kernel, static_cast<std::uint64_t>(kAttackSegments))
      << dropped_by_kernel << " dropped by the kernel";
  // Most of the attack reached us, so the checks above are not met by the kernel's drops alone.
  // How much the kernel drops depends on how fast we read while the attacker writes (one CI run
  // under ASan on a busy machine: 5,484 of the 30,000), which is not what this test measures.
  EXPECT_GT(challenges, kAttackSegments / 2u) << dropped_by_kernel << " dropped by the kernel";
  ASSERT_LE(suppressed, challenges);
  EXPECT_LE(challenges - suppressed, static_cast<std::uint64_t>(attack_seconds / 0.2) + 2)
      << "over " << attack_seconds << " s";
  RecordProperty("attack_seconds", std::to_string(attack_seconds));
  RecordProperty("challenge_acks_sent", std::to_string(challenges - suppressed));
  RecordProperty("dropped_by_kernel", std::to_string(dropped_by_kernel));
}

// 12. TCP over IPv6: our stack as 2001:db8::2 beside 192.0.2.2, the kernel's tap0 as
// 2001:db8::1. Neighbor Discovery resolves both ways; the checksum is over the IPv6 pseudo-header
// (RFC 8200 8.1) and the MSS is the MTU less 60 (RFC 8200 8.3).
class Ipv6InteropTest : public TcpInteropTest {
 protected:
  std::unique_ptr<testbed::StackHost> OpenDualStack() {
    AddKernelIpv6Address();
    InProcessStackOptions options;
    options.ipv6_address = kStackAddress6;
    pcap_ = CapturePath().value_or(TempPath("ipv6.pcap"));
    options.pcap_path = pcap_;
    return OpenStack(options);
  }

  // Checks both ends of one 8 MiB-each-way exchange and what the capture shows of it.
  void ExpectExchanged(const std::map<std::string, std::string>& results, const StreamApp& ours,
                       std::uint64_t bytes) {
    EXPECT_EQ(results.at("received_bytes"), std::to_string(bytes));
    EXPECT_EQ(results.at("received_sha"), ours.sent_sha()) << "ours, as the kernel got it";
    EXPECT_EQ(ours.bytes_received(), bytes);
    EXPECT_EQ(ours.received_sha(), results.at("sent_sha")) << "the kernel's, as we got it";
    EXPECT_FALSE(ours.io_error()) << ours.io_error().message();
    EXPECT_FALSE(ours.close_error()) << ours.close_error().message();
  }

  void ExpectIpv6Capture() {
    const std::string ours = "ipv6.src == " + kStackAddress6;
    const std::string theirs = "ipv6.src == " + kKernelAddress6;
    // Both SYNs offer an MSS of 1500 - 40 - 20, and everything else of the handshake.
    EXPECT_EQ(TsharkCount(pcap_, "tcp.flags.syn == 1 && tcp.options.mss_val == 1440 && " + ours),
              1);
    EXPECT_EQ(TsharkCount(pcap_, "tcp.flags.syn == 1 && tcp.options.mss_val == 1440 && " + theirs),
              1);
    EXPECT_GT(TsharkCount(pcap_, "tcp.len > 0 && tcp.options.timestamp.tsval && " + ours), 0);
    EXPECT_GT(TsharkCount(pcap_, "tcp.len > 0 && " + theirs), 0);
    // tshark checks every TCP checksum against the IPv6 pseudo-header: none is bad. tshark wants
    // the field to equal its own result, but in one's complement 0xffff and 0x0000 are both zero
    // and both verify (RFC 1624 3): the kernel now and then sends 0xffff where tshark computes
    // 0x0000 (seen on a pure ACK of its own), which is no error.
    const std::vector<std::string> check = {"-o", "tcp.check_checksum:TRUE"};
    EXPECT_EQ(TsharkCount(pcap_,
                          "tcp.checksum.status == \"Bad\" && "
                          "!(tcp.checksum == 0xffff && tcp.checksum_calculated == 0x0000)",
                          check),
              0);
    EXPECT_GT(TsharkCount(pcap_, "tcp.checksum.status == \"Good\" && " + ours, check), 0);
    EXPECT_EQ(TsharkCount(pcap_, "ip && tcp"), 0) << "nothing of these connections over IPv4";
  }

  std::string pcap_;
};

TEST_F(Ipv6InteropTest, KernelClientSends8MiBOverIpv6AndOurStackEchoesIt) {
  std::unique_ptr<testbed::StackHost> stack = OpenDualStack();
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  ASSERT_TRUE(apps.Serve(5001, 8, {.mode = StreamPlan::Mode::kEcho}).ok());
  std::unique_ptr<testbed::LinuxPeer> peer =
      StartPeer({"client", kStackAddress6, "5001", "--send", std::to_string(8 * kMiB), "--seed",
                 "21", "--expect-echo"});
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(
      stack->RunUntil([&] { return peer->Exited() && apps.CountFinished() == 1; }, seconds(20)))
      << Describe(*stack, apps, peer.get());
  ASSERT_EQ(peer->exit_code(), 0) << Describe(*stack, apps, peer.get());
  const auto results = peer->Results();
  EXPECT_EQ(results.at("received_sha"), results.at("sent_sha")) << "the kernel's check";
  const StreamApp& echo = *apps.apps().front();
  EXPECT_EQ(echo.bytes_received(), 8 * kMiB);
  EXPECT_EQ(echo.received_sha(), results.at("sent_sha")) << "our check";
  EXPECT_FALSE(echo.close_error()) << echo.close_error().message();
  const std::optional<tcp::ConnectionInfo> info = stack->stack().Info(echo.id());
  if (info) {
    EXPECT_EQ(info->remote_address.ToString(), kKernelAddress6);
  }
  stack.reset();  // flushes the capture
  ExpectIpv6Capture();
}

TEST_F(Ipv6InteropTest, OurClientAndKernelServerExchange8MiBEachWayOverIpv6) {
  std::unique_ptr<testbed::StackHost> stack = OpenDualStack();
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  std::unique_ptr<testbed::LinuxPeer> peer =
      StartPeer({"server", "5002", "--send", std::to_string(8 * kMiB), "--seed", "22"});
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(peer->WaitForKey("READY", seconds(10))) << peer->Output();
  absl::StatusOr<StreamApp*> client =
      apps.Connect(kKernelAddress6, 5002, {.send_bytes = 8 * kMiB, .seed = 23});
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(stack->RunUntil([&] { return peer->Exited() && (*client)->Finished(); }, seconds(20)))
      << Describe(*stack, apps, peer.get());
  ASSERT_EQ(peer->exit_code(), 0) << Describe(*stack, apps, peer.get());
  const auto results = peer->Results();
  ExpectExchanged(results, **client, 8 * kMiB);
  EXPECT_THAT(results.at("peer"), ::testing::StartsWith(kStackAddress6 + ":"));
  stack.reset();
  ExpectIpv6Capture();
}

// Dual stack: at once, our client opens one connection to the kernel over IPv4 and one over IPv6,
// and the kernel opens one to our listener over each; all four move data both ways.
TEST_F(Ipv6InteropTest, IPv4AndIpv6ConnectionsAtOnceBothWays) {
  std::unique_ptr<testbed::StackHost> stack = OpenDualStack();
  ASSERT_NE(stack, nullptr);
  AppHost apps(*stack);
  ASSERT_TRUE(apps.Serve(5003, 8, {.mode = StreamPlan::Mode::kEcho}).ok());
  constexpr std::uint64_t kBytes = 2 * kMiB;
  std::unique_ptr<testbed::LinuxPeer> server4 =
      StartPeer({"server", "5004", "--send", std::to_string(kBytes), "--seed", "24"});
  std::unique_ptr<testbed::LinuxPeer> server6 =
      StartPeer({"server", "5005", "--send", std::to_string(kBytes), "--seed", "25"});
  ASSERT_TRUE(server4 && server6);
  ASSERT_TRUE(server4->WaitForKey("READY", seconds(10))) << server4->Output();
  ASSERT_TRUE(server6->WaitForKey("READY", seconds(10))) << server6->Output();
  std::unique_ptr<testbed::LinuxPeer> client4 =
      StartPeer({"client", kStackAddress, "5003", "--send", std::to_string(kBytes), "--seed", "26",
                 "--expect-echo"});
  std::unique_ptr<testbed::LinuxPeer> client6 =
      StartPeer({"client", kStackAddress6, "5003", "--send", std::to_string(kBytes), "--seed", "27",
                 "--expect-echo"});
  ASSERT_TRUE(client4 && client6);
  absl::StatusOr<StreamApp*> to4 =
      apps.Connect(kKernelAddress, 5004, {.send_bytes = kBytes, .seed = 28});
  absl::StatusOr<StreamApp*> to6 =
      apps.Connect(kKernelAddress6, 5005, {.send_bytes = kBytes, .seed = 29});
  ASSERT_TRUE(to4.ok() && to6.ok());
  const bool done = stack->RunUntil(
      [&] {
        return server4->Exited() && server6->Exited() && client4->Exited() && client6->Exited() &&
               apps.CountFinished() == 4;
      },
      seconds(30));
  ASSERT_TRUE(done) << Describe(*stack, apps, server6.get());
  for (testbed::LinuxPeer* peer : {server4.get(), server6.get(), client4.get(), client6.get()}) {
    EXPECT_EQ(peer->exit_code(), 0) << peer->Output();
  }
  ExpectExchanged(server4->Results(), **to4, kBytes);
  ExpectExchanged(server6->Results(), **to6, kBytes);
  // The dual-stack kernel server sees our IPv4 connection IPv4-mapped.
  EXPECT_THAT(server4->Results().at("peer"),
              ::testing::StartsWith("::ffff:" + kStackAddress + ":"));
  EXPECT_THAT(server6->Results().at("peer"), ::testing::StartsWith(kStackAddress6 + ":"));
  for (testbed::LinuxPeer* client : {client4.get(), client6.get()}) {
    const auto results = client->Results();
    EXPECT_EQ(results.at("received_sha"), results.at("sent_sha")) << "the kernel's echo check";
  }
  // Our listener's two echoes, one per family.
  for (const auto& app : apps.apps()) {
    if (app.get() == *to4 || app.get() == *to6) continue;
    EXPECT_EQ(app->bytes_received(), kBytes);
    EXPECT_FALSE(app->close_error()) << app->close_error().message();
  }
  EXPECT_EQ(apps.apps().size(), 4u);
}

}  // namespace
}  // namespace tapstack::testing
