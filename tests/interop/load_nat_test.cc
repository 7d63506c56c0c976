// Keepalive's second job at scale: two `tapstack load` processes, each on its own TAP device,
// hold 20,000 connections through a Linux NAT namespace (masquerade, a short
// nf_conntrack_tcp_timeout_established, no mid-stream pickup, invalid packets dropped). With a
// keepalive idle time below the conntrack timeout every flow stays in the NAT's table across three
// timeouts and its data still gets through; without keepalive the NAT forgets every idle flow and
// the next send on each ends in ETIMEDOUT. The NAT's own table is the witness.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "testbed/failure.h"
#include "testbed/process.h"
#include "testbed/topology.h"
#include "tests/support/files.h"
#include "tests/support/netns.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr std::size_t kConnections = 20'000;
constexpr std::uint16_t kPort = 7000;
constexpr auto kConntrackTimeout = seconds(6);
// Every connection sends one byte this long after its handshake: after three conntrack timeouts.
constexpr auto kSendAfter = seconds(20);
constexpr char kSendAfterText[] = "20s";
// Far above what each step needs (a few seconds), so that only a hang trips them.
constexpr auto kStepTimeout = seconds(90);

class LoadNatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RequireTapOrSkip()) return;
    Result<std::unique_ptr<testbed::LoadNatTopology>> topology =
        testbed::LoadNatTopology::Create(testbed::kTestNames, "load", kConntrackTimeout);
    ASSERT_TRUE(topology.ok()) << testbed::LastFailure();
    topology_ = *std::move(topology);
  }

  testbed::Process StartLoad(const std::vector<std::string>& args, const std::string& output) {
    std::vector<std::string> argv = {TAPSTACK_BINARY,         "load",       "--netns",
                                     topology_->nat().name(), "--progress", "0s"};
    argv.insert(argv.end(), args.begin(), args.end());
    Result<testbed::Process> process = testbed::Process::Spawn(argv, {.output_path = output});
    EXPECT_TRUE(process.ok()) << testbed::LastFailure();
    return *std::move(process);
  }

  // The server on tap1, and once it listens, the client on tap0 with `client_args` added.
  void StartBoth(const std::vector<std::string>& client_args) {
    const std::string ready = TempPath("load-server.ready");
    server_.emplace(
        StartLoad({"--tap", testbed::kServerTapName, "--addr", "198.51.100.2/24", "--gateway",
                   "198.51.100.1", "--listen", absl::StrCat(kPort), "--connections",
                   absl::StrCat(kConnections), "--json", server_json_, "--ready-file", ready},
                  server_output_));
    ASSERT_TRUE(WaitFor([&] { return !ReadFile(ready).empty(); }, kStepTimeout))
        << ReadFile(server_output_);
    std::vector<std::string> args = {"--tap",          testbed::kTapName,
                                     "--addr",         "192.0.2.2/24",
                                     "--gateway",      "192.0.2.1",
                                     "--connections",  absl::StrCat(kConnections),
                                     "--send",         "1",
                                     "--every",        kSendAfterText,
                                     "--duration",     "27s",
                                     "--json",         client_json_};
    args.insert(args.end(), client_args.begin(), client_args.end());
    args.push_back(absl::StrCat("198.51.100.2:", kPort));
    client_.emplace(StartLoad(args, client_output_));
  }

  // Checks `done` every 100 ms until it holds or `timeout` passes.
  template <typename Done>
  static bool WaitFor(Done done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return true;
  }

  std::size_t Established() { return topology_->EstablishedTo(kPort).value_or(0); }

  // Waits for the client's run to end and the server to report, then returns both reports.
  std::pair<std::string, std::string> Finish() {
    const std::optional<int> client_status = client_->Wait(kStepTimeout);
    EXPECT_EQ(client_status, 0) << ReadFile(client_output_);
    // The client resets its connections as it ends; the server then holds none.
    server_->Signal(SIGTERM);
    EXPECT_EQ(server_->Wait(kStepTimeout), 0) << ReadFile(server_output_);
    return {ReadFile(client_json_), ReadFile(server_json_)};
  }

  std::unique_ptr<testbed::LoadNatTopology> topology_;
  const std::string client_output_ = TempPath("load-client.out");
  const std::string server_output_ = TempPath("load-server.out");
  const std::string client_json_ = TempPath("load-client.json");
  const std::string server_json_ = TempPath("load-server.json");
  std::optional<testbed::Process> server_;
  std::optional<testbed::Process> client_;
};

TEST_F(LoadNatTest, KeepaliveHoldsEveryFlowAcrossThreeConntrackTimeouts) {
  if (!topology_) return;
  // No user timeout here: with one set, Linux's rule (ours too) aborts on the first probe left
  // unanswered past it, and a machine loaded enough to delay one answer by a second would lose
  // flows that the NAT still holds. The count of three decides, as RFC 1122 4.2.3.6 describes.
  StartBoth({"--keepalive", "3s,1s,3"});
  ASSERT_TRUE(WaitFor([&] { return Established() == kConnections; }, kStepTimeout))
      << Established() << " tracked; client: " << ReadFile(client_output_);
  // The table as `conntrack -C` counts it holds exactly our flows.
  EXPECT_EQ(topology_->TrackedCount(), kConnections);

  // Three conntrack timeouts with no data: keepalive alone keeps every entry.
  const auto hold_end = std::chrono::steady_clock::now() + 3 * kConntrackTimeout;
  std::size_t fewest = kConnections;
  while (std::chrono::steady_clock::now() < hold_end) {
    fewest = std::min(fewest, Established());
    std::this_thread::sleep_for(milliseconds(250));
  }
  EXPECT_EQ(fewest, kConnections) << "the NAT forgot flows that keepalive should have kept";

  const auto [client, server] = Finish();
  EXPECT_THAT(client, HasSubstr(absl::StrCat("\"established\":", kConnections, ",")));
  EXPECT_THAT(client, HasSubstr("\"failed\":{}"));
  EXPECT_THAT(client, HasSubstr("\"lost\":{}"));
  // Each flow's byte, sent after the three timeouts, came back through the NAT.
  EXPECT_THAT(client, HasSubstr(absl::StrCat("\"bytes_echoed\":", kConnections, ",")));
  EXPECT_THAT(client, ::testing::Not(HasSubstr("\"probes_answered\":0,")));
  EXPECT_THAT(server, HasSubstr(absl::StrCat("\"accepted\":", kConnections, ",")));
  EXPECT_EQ(topology_->InvalidDropped(), 0u);
}

TEST_F(LoadNatTest, WithoutKeepaliveEveryIdleFlowIsEvicted) {
  if (!topology_) return;
  // The user timeout ends each evicted flow's retransmissions soon after its send.
  StartBoth({"--user-timeout", "3s"});
  ASSERT_TRUE(WaitFor([&] { return Established() == kConnections; }, kStepTimeout))
      << Established() << " tracked; client: " << ReadFile(client_output_);
  // Idle flows outlive the NAT's memory of them: the entries vanish.
  ASSERT_TRUE(WaitFor([&] { return Established() == 0; }, kStepTimeout)) << Established();
  EXPECT_EQ(topology_->TrackedCount(), 0u);

  // The next send on each flow is invalid to the NAT, dropped, retransmitted until the user
  // timeout: every connection ends in ETIMEDOUT, none got its byte back.
  const auto [client, server] = Finish();
  EXPECT_THAT(client, HasSubstr(absl::StrCat("\"established\":", kConnections, ",")));
  EXPECT_THAT(client, HasSubstr(absl::StrCat("\"lost\":{\"ETIMEDOUT\":", kConnections, "}")));
  EXPECT_THAT(client, HasSubstr("\"bytes_echoed\":0,"));
  EXPECT_GE(topology_->InvalidDropped().value_or(0), kConnections);
}

}  // namespace
}  // namespace tapstack::testing
