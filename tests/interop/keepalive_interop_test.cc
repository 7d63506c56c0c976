// Keepalive against the Linux kernel over TAP, with the real `tapstack nc` binary and the
// testbed's Linux peer in namespaces the tests create. tshark on our captures is the external
// oracle for what a probe and a probe's answer look like.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "testbed/failure.h"
#include "testbed/linux_peer.h"
#include "tests/interop/tap_fixture.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kPort = 7777;

struct JsonEvent {
  double t;
  std::string line;
};

std::vector<JsonEvent> Events(const std::string& path, const std::string& name) {
  std::vector<JsonEvent> events;
  const std::string content = ReadFile(path);
  std::size_t start = 0;
  while (start < content.size()) {
    std::size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    const std::string line = content.substr(start, end - start);
    start = end + 1;
    if (line.find("\"event\":\"" + name + "\"") == std::string::npos) continue;
    const std::size_t t = line.find("\"t\":");
    events.push_back(JsonEvent{std::stod(line.substr(t + 4)), line});
  }
  return events;
}

class KeepaliveInteropTest : public TapTest {
 protected:
  void SetUp() override {
    TapTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    events_ = TempPath("events.jsonl");
    pcap_ = CapturePath().value_or(TempPath("capture.pcap"));
    die_ = TempPath("die");
    server_out_ = TempPath("server.out");
    fifo_ = TempPath("stdin.fifo");
    ASSERT_EQ(mkfifo(fifo_.c_str(), 0600), 0);
    // Held open read-write so the child's stdin stays open until CloseInput().
    fifo_fd_ = open(fifo_.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fifo_fd_, 0);
  }
  void TearDown() override {
    CloseInput();
    server_.reset();
    TapTest::TearDown();
  }

  // The Linux peer's hello-server in `ns` on address:kPort: says hello, echoes, and "crashes"
  // when the file die_ appears.
  void StartServer(const testbed::Namespace& ns, const std::string& address, double hold_seconds) {
    Result<std::unique_ptr<testbed::LinuxPeer>> server = testbed::LinuxPeer::Start(
        ns.name(),
        {"hello-server", address, std::to_string(kPort), absl::StrCat(hold_seconds), die_},
        server_out_);
    ASSERT_TRUE(server.ok()) << testbed::LastFailure();
    server_ = *std::move(server);
    WaitFor([&] {
      const Result<bool> listening = testbed::KernelHasSocketOnPort(ns, kPort);
      return listening.ok() && *listening;
    });
  }
  void StartServer(double hold_seconds) { StartServer(netns(), kKernelAddress, hold_seconds); }

  testbed::Process StartClient(const std::vector<std::string>& extra,
                               const std::string& host = kKernelAddress) {
    std::vector<std::string> args = {"--events", events_, "--pcap", pcap_};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(host);
    args.push_back(std::to_string(kPort));
    testbed::Process nc = StartTapstack("nc", args, fifo_);
    WaitFor([&] { return Output().find("hello") != std::string::npos; });
    return nc;
  }

  // docs/testbed.md, "a dead peer": nothing from our stack reaches the kernel (and, both ways,
  // nothing from the kernel reaches us).
  void Unplug(bool both_directions) {
    ASSERT_FALSE(testbed::UnplugTap(netns(), both_directions)) << testbed::LastFailure();
  }
  void Replug() { ASSERT_FALSE(testbed::ReplugTap(netns())) << testbed::LastFailure(); }

  void Crash() {
    std::FILE* file = std::fopen(die_.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fclose(file);
    WaitFor([&] { return ReadFile(server_out_).find("crashed") != std::string::npos; });
  }

  void WriteInput(const std::string& text) {
    ASSERT_EQ(write(fifo_fd_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void CloseInput() {
    if (fifo_fd_ >= 0) close(fifo_fd_);
    fifo_fd_ = -1;
  }

  int Tshark(const std::string& filter) {
    const CommandResult result = RunShell(absl::StrCat(
        "tshark -r ", pcap_, " -Y ", ShellQuote(filter), " -T fields -e frame.number 2>/dev/null"));
    return static_cast<int>(std::count(result.output.begin(), result.output.end(), '\n'));
  }

  void WaitFor(const std::function<bool()>& condition) {
    // Waiting on real processes and the kernel, bounded; TCP logic itself is tested on a virtual
    // clock elsewhere.
    for (int i = 0; i < 100; ++i) {
      if (condition()) return;
      std::this_thread::sleep_for(milliseconds(100));
    }
    FAIL() << "timed out waiting; tapstack output:\n" << Output();
  }

  std::string events_, pcap_, die_, server_out_, fifo_;
  int fifo_fd_ = -1;
  std::unique_ptr<testbed::LinuxPeer> server_;
};

TEST_F(KeepaliveInteropTest, ProbesAnsweredByTheKernelKeepTheConnectionUp) {
  StartServer(/*hold_seconds=*/6);
  testbed::Process nc = StartClient({"--keepalive", "1s,1s,3"});
  // The server closes after 6 idle seconds; then we close our side.
  WaitFor([&] { return ReadFile(server_out_).find("server done") != std::string::npos; });
  CloseInput();
  ASSERT_EQ(nc.Wait(seconds(10)), 0) << Output();
  const std::vector<JsonEvent> probes = Events(events_, "keepalive_probe");
  const std::vector<JsonEvent> answers = Events(events_, "keepalive_answered");
  EXPECT_GE(probes.size(), 4u);
  // Every probe is answered, except one that crossed the server's FIN on the wire: the kernel
  // then answers with the FIN itself, which ends the watch instead of counting as an answer.
  const std::vector<JsonEvent> closed = Events(events_, "peer_closed");
  ASSERT_EQ(closed.size(), 1u) << ReadFile(events_);
  const auto well_before_close = static_cast<std::size_t>(
      std::count_if(probes.begin(), probes.end(),
                    [&](const JsonEvent& probe) { return probe.t < closed[0].t - 0.1; }));
  EXPECT_GE(answers.size(), well_before_close) << "every probe answered\n" << ReadFile(events_);
  EXPECT_LE(answers.size(), probes.size());
  EXPECT_TRUE(Events(events_, "keepalive_timeout").empty());
  // The external oracle: Wireshark's dissector recognises our probes and the kernel's answers.
  EXPECT_GE(Tshark("tcp.analysis.keep_alive && ip.src == 192.0.2.2"), 4);
  EXPECT_GE(Tshark("tcp.analysis.keep_alive_ack && ip.src == 192.0.2.1"), 4);
}

TEST_F(KeepaliveInteropTest, KernelProbesAreAnsweredByUs) {
  testbed::Process nc = StartTapstack(
      "nc", {"-l", "--events", events_, "--pcap", pcap_, std::to_string(kPort)}, fifo_);
  WaitUntilStackAnswers();
  const CommandResult client = testbed::RunCommand(testbed::LinuxPeerArgv(
      netns().name(), {"keepalive-client", kStackAddress, std::to_string(kPort), "10"}));
  EXPECT_EQ(client.exit_code, 0) << client.output;
  EXPECT_THAT(client.output, ::testing::HasSubstr("ok")) << "the kernel kept the connection";
  CloseInput();
  ASSERT_EQ(nc.Wait(seconds(10)), 0) << Output();
  EXPECT_THAT(Output(), ::testing::HasSubstr("still here"));
  EXPECT_GE(Events(events_, "peer_probe_answered").size(), 6u);
  EXPECT_GE(Tshark("tcp.analysis.keep_alive && ip.src == 192.0.2.1"), 6);
  EXPECT_GE(Tshark("tcp.analysis.keep_alive_ack && ip.src == 192.0.2.2"), 6);
}

TEST_F(KeepaliveInteropTest, DeadPeerIsFoundAfterCountProbesThenReset) {
  StartServer(/*hold_seconds=*/60);
  testbed::Process nc = StartClient({"--keepalive", "1s,1s,3"});
  Unplug(/*both_directions=*/false);
  const std::optional<int> status = nc.Wait(seconds(15));
  ASSERT_TRUE(status.has_value()) << Output();
  EXPECT_EQ(*status, 110) << "ETIMEDOUT\n" << Output();
  const std::vector<JsonEvent> probes = Events(events_, "keepalive_probe");
  const std::vector<JsonEvent> timeouts = Events(events_, "keepalive_timeout");
  ASSERT_EQ(probes.size(), 3u) << ReadFile(events_);
  ASSERT_EQ(timeouts.size(), 1u);
  for (std::size_t i = 0; i < probes.size(); ++i) {
    EXPECT_THAT(probes[i].line, ::testing::HasSubstr(absl::StrCat("\"probe\":", i + 1)));
  }
  // At the configured times: one interval between probes and between the last probe and the
  // reset. Real time, so a generous tolerance, but never early.
  for (std::size_t i = 1; i < probes.size(); ++i) {
    EXPECT_GE(probes[i].t - probes[i - 1].t, 0.99);
    EXPECT_LE(probes[i].t - probes[i - 1].t, 1.3);
  }
  EXPECT_GE(timeouts[0].t - probes.back().t, 0.99);
  EXPECT_LE(timeouts[0].t - probes.back().t, 1.3);
  EXPECT_FALSE(Events(events_, "reset_sent").empty());
  EXPECT_EQ(Tshark("tcp.analysis.keep_alive && ip.src == 192.0.2.2"), 3);
  EXPECT_EQ(Tshark("tcp.flags.reset == 1 && ip.src == 192.0.2.2"), 1);
}

// The same over IPv6: the probes, the reset and ETIMEDOUT do not depend on the family.
TEST_F(KeepaliveInteropTest, DeadPeerOverIpv6IsFoundAfterCountProbesThenReset) {
  AddKernelIpv6Address();
  StartServer(netns(), kKernelAddress6, /*hold_seconds=*/60);
  testbed::Process nc = StartClient(
      {"--addr", kStackAddress6 + "/64", "--dad-transmits", "0", "--keepalive", "1s,1s,3"},
      kKernelAddress6);
  Unplug(/*both_directions=*/false);
  const std::optional<int> status = nc.Wait(seconds(15));
  ASSERT_TRUE(status.has_value()) << Output();
  EXPECT_EQ(*status, 110) << "ETIMEDOUT\n" << Output();
  const std::vector<JsonEvent> probes = Events(events_, "keepalive_probe");
  ASSERT_EQ(probes.size(), 3u) << ReadFile(events_);
  for (std::size_t i = 1; i < probes.size(); ++i) {
    EXPECT_GE(probes[i].t - probes[i - 1].t, 0.99);
    EXPECT_LE(probes[i].t - probes[i - 1].t, 1.3);
  }
  ASSERT_EQ(Events(events_, "keepalive_timeout").size(), 1u);
  EXPECT_FALSE(Events(events_, "reset_sent").empty());
  const std::string ours = "ipv6.src == " + kStackAddress6;
  EXPECT_EQ(Tshark("tcp.analysis.keep_alive && " + ours), 3);
  EXPECT_EQ(Tshark("tcp.flags.reset == 1 && " + ours), 1);
  EXPECT_EQ(Tshark("ip && tcp"), 0) << "the connection ran over IPv6 only";
}

TEST_F(KeepaliveInteropTest, RebootedPeerAnswersTheProbeWithReset) {
  StartServer(/*hold_seconds=*/60);
  testbed::Process nc = StartClient({"--keepalive", "2s,1s,5"});
  Unplug(/*both_directions=*/true);
  Crash();
  Replug();
  const auto replugged = std::chrono::steady_clock::now();
  const std::optional<int> status = nc.Wait(seconds(10));
  ASSERT_TRUE(status.has_value()) << Output();
  EXPECT_EQ(*status, 104) << "ECONNRESET\n" << Output();
  EXPECT_LE(std::chrono::steady_clock::now() - replugged, milliseconds(2500))
      << "found by the next probe";
  EXPECT_FALSE(Events(events_, "reset_received").empty());
  EXPECT_GE(Tshark("tcp.analysis.keep_alive && ip.src == 192.0.2.2"), 1);
}

TEST_F(KeepaliveInteropTest, WithoutKeepaliveTheRebootIsOnlyFoundWhenWeSend) {
  StartServer(/*hold_seconds=*/60);
  testbed::Process nc = StartClient({});
  Unplug(/*both_directions=*/true);
  Crash();
  Replug();
  // Idle: nothing tells us the peer forgot the connection.
  EXPECT_FALSE(nc.Wait(seconds(3)).has_value()) << "the stale connection looks alive";
  WriteInput("are you there?\n");
  const std::optional<int> status = nc.Wait(seconds(10));
  ASSERT_TRUE(status.has_value()) << Output();
  EXPECT_EQ(*status, 104) << "ECONNRESET, the classic PSH / RST\n" << Output();
  EXPECT_EQ(Tshark("tcp.analysis.keep_alive && ip.src == 192.0.2.2"), 0);
  EXPECT_GE(Tshark("tcp.flags.reset == 1 && ip.src == 192.0.2.1"), 1);
}

// The second job of keepalive: our stack behind a real Linux NAT whose connection tracking
// forgets an established connection after 3 idle seconds (docs/testbed.md). The fixture's namespace
// (with our TAP) is the NAT; the server lives in a second namespace behind a veth.
class NatKeepaliveTest : public KeepaliveInteropTest {
 protected:
  void SetUp() override {
    KeepaliveInteropTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Result<std::unique_ptr<testbed::Namespace>> server = CreateTestNamespace();
    ASSERT_TRUE(server.ok()) << testbed::LastFailure();
    server_ns_ = std::move(*server);
    // The NAT (docs/testbed.md): the fixture's namespace, which holds our TAP, routes to the
    // server's namespace and forgets an idle connection after 3 s.
    ASSERT_FALSE(testbed::WireNat(netns(), *server_ns_, seconds(3))) << testbed::LastFailure();
    (void)server_ns_->Shell("sysctl -qw net.ipv4.tcp_invalid_ratelimit=0");
    StartServer(*server_ns_, "198.51.100.2", 120);
  }
  void TearDown() override {
    KeepaliveInteropTest::TearDown();
    server_ns_.reset();
  }

  testbed::Process ConnectThroughNat(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--gateway", kKernelAddress, "--events",
                                     events_,     "--pcap",       pcap_};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("198.51.100.2");
    args.push_back(std::to_string(kPort));
    testbed::Process nc = StartTapstack("nc", args, fifo_);
    WaitFor([&] { return Output().find("hello") != std::string::npos; });
    return nc;
  }

  std::unique_ptr<testbed::Namespace> server_ns_;
};

TEST_F(NatKeepaliveTest, WithoutKeepaliveTheNatForgetsTheIdleConnection) {
  testbed::Process nc = ConnectThroughNat({"--user-timeout", "4s"});
  std::this_thread::sleep_for(seconds(5));  // longer than the 3 s conntrack timeout
  WriteInput("after the idle period\n");
  const std::optional<int> status = nc.Wait(seconds(15));
  ASSERT_TRUE(status.has_value()) << Output();
  EXPECT_EQ(*status, 110) << "the data never got through: ETIMEDOUT\n" << Output();
  EXPECT_THAT(Output(), ::testing::Not(::testing::HasSubstr("after the idle period")));
}

TEST_F(NatKeepaliveTest, KeepaliveKeepsTheNatEntryAcrossTenIdlePeriods) {
  testbed::Process nc = ConnectThroughNat({"--keepalive", "1s,1s,3", "--user-timeout", "4s"});
  for (int period = 1; period <= 10; ++period) {
    std::this_thread::sleep_for(milliseconds(3500));  // each longer than the conntrack timeout
    const std::string line = absl::StrCat("message ", period, "\n");
    WriteInput(line);
    WaitFor([&] { return Output().find(line) != std::string::npos; });  // echoed back
    ASSERT_FALSE(HasFatalFailure()) << "lost after period " << period;
  }
  CloseInput();
  ASSERT_EQ(nc.Wait(seconds(10)), 0) << Output();
  EXPECT_GE(Events(events_, "keepalive_probe").size(), 20u);
  EXPECT_TRUE(Events(events_, "keepalive_timeout").empty());
}

}  // namespace
}  // namespace tapstack::testing
