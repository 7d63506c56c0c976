// `tapstack diagram`'s labels against Wireshark's own TCP analysis, on conversations between two
// Linux sockets over the loopback of a namespace the test creates, captured with dumpcap:
// keepalive with TCP_KEEPIDLE 1 s, a dead peer, and a bulk transfer that loses segments. Every
// frame's labels must match tshark's tcp.analysis flags, and each conversation must show the
// labels it is there for, so that agreeing on nothing cannot pass.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "stack/wire/tcp.h"
#include "testbed/failure.h"
#include "testbed/linux_peer.h"
#include "tests/support/files.h"
#include "tests/support/netns.h"
#include "tools/diagram/capture_file.h"
#include "tools/diagram/conversations.h"

namespace tapstack::testing {
namespace {

namespace diagram = tools::diagram;

// The labels of one frame, by the names of Wireshark's flags.
using Labels = std::vector<std::string>;

class DiagramTsharkTest : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    capture_ = TempPath("conversation.pcapng");
    server_out_ = TempPath("server.out");
    client_out_ = TempPath("client.out");
  }

  void TearDown() override {
    if (!capture_pid_.empty()) (void)RunShell("kill -9 " + capture_pid_);
    client_.reset();
    server_.reset();
    NetnsTest::TearDown();
  }

  static bool WaitUntil(const std::function<bool()>& condition, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }

  void StartCapture() {
    const std::string log = TempPath("dumpcap.out");
    const CommandResult started = netns().Shell(absl::StrCat(
        "dumpcap -q -i lo -w ", ShellQuote(capture_), " >", ShellQuote(log), " 2>&1 & echo $!"));
    ASSERT_EQ(started.exit_code, 0) << started.output;
    capture_pid_ = std::string(absl::StripAsciiWhitespace(started.output));
    ASSERT_TRUE(WaitUntil([&] { return ReadFile(log).find("Capturing on") != std::string::npos; },
                          std::chrono::seconds(10)))
        << ReadFile(log);
  }

  // dumpcap completes the file on SIGINT; the capture is read once the process is gone.
  void StopCapture() {
    ASSERT_EQ(RunShell("kill -INT " + capture_pid_).exit_code, 0);
    ASSERT_TRUE(WaitUntil([&] { return RunShell("kill -0 " + capture_pid_).exit_code != 0; },
                          std::chrono::seconds(10)));
    capture_pid_.clear();
  }

  void StartServer() {
    Result<std::unique_ptr<testbed::LinuxPeer>> server =
        testbed::LinuxPeer::Start(netns().name(), {"loopback-server"}, server_out_);
    ASSERT_TRUE(server.ok()) << testbed::LastFailure();
    server_ = *std::move(server);
    ASSERT_FALSE(server_->WaitForOutput("READY", std::chrono::seconds(10)))
        << testbed::LastFailure();
  }

  // Starts the client side of a conversation (a loopback-* mode of the Linux peer).
  void StartClient(const std::string& mode) {
    Result<std::unique_ptr<testbed::LinuxPeer>> client =
        testbed::LinuxPeer::Start(netns().name(), {mode}, client_out_);
    ASSERT_TRUE(client.ok()) << testbed::LastFailure();
    client_ = *std::move(client);
  }

  // Runs the client side of a conversation to its end; its exit status.
  std::optional<int> RunClient(const std::string& mode) {
    StartClient(mode);
    if (client_ == nullptr) return std::nullopt;
    return client_->Wait(std::chrono::seconds(60));
  }

  // Frame number to labels, as tshark's analysis sets its flags.
  std::map<std::uint64_t, Labels> TsharkLabels() const {
    static const std::vector<std::pair<std::string, std::string>> kFields = {
        {"tcp.analysis.keep_alive", "keepalive probe"},
        {"tcp.analysis.keep_alive_ack", "keepalive answer"},
        {"tcp.analysis.retransmission", "retransmission"},
        {"tcp.analysis.fast_retransmission", "retransmission"},
        {"tcp.analysis.spurious_retransmission", "retransmission"},
        // Wireshark's guess for a repeat that comes within about a round trip; captured at the
        // sender, as here, it is a retransmission.
        {"tcp.analysis.out_of_order", "retransmission"},
        {"tcp.analysis.duplicate_ack", "duplicate ACK"},
        {"tcp.analysis.window_update", "window update"},
        {"tcp.analysis.zero_window", "zero window"},
        {"tcp.analysis.zero_window_probe", "zero-window probe"},
    };
    std::string command =
        absl::StrCat("tshark -r ", ShellQuote(capture_),
                     " -Y tcp -T fields -E separator=, -E occurrence=f -e frame.number");
    for (const auto& [field, label] : kFields) absl::StrAppend(&command, " -e ", field);
    const CommandResult tshark = RunShell(command + " 2>/dev/null");
    EXPECT_EQ(tshark.exit_code, 0) << tshark.output;
    std::map<std::uint64_t, Labels> labels;
    for (absl::string_view line : absl::StrSplit(tshark.output, '\n', absl::SkipEmpty())) {
      const std::vector<std::string> columns = absl::StrSplit(line, ',');
      std::uint64_t frame = 0;
      if (columns.size() != kFields.size() + 1 || !absl::SimpleAtoi(columns[0], &frame)) {
        ADD_FAILURE() << "unexpected tshark line: " << line;
        continue;
      }
      Labels& frame_labels = labels[frame];
      for (std::size_t i = 0; i < kFields.size(); ++i) {
        const std::string& label = kFields[i].second;
        if (!columns[i + 1].empty() &&
            std::find(frame_labels.begin(), frame_labels.end(), label) == frame_labels.end()) {
          frame_labels.push_back(label);
        }
      }
    }
    return labels;
  }

  // Frame number to labels, from our analysis, in the same names. Our answer to a probe that is
  // a RST, or that carries a new window, is not Wireshark's keep_alive_ack (tcp_analysis.h).
  std::map<std::uint64_t, Labels> OurLabels() const {
    absl::StatusOr<diagram::Capture> capture = diagram::ReadCapture(capture_);
    EXPECT_TRUE(capture.ok()) << capture.status();
    std::map<std::uint64_t, Labels> labels;
    if (!capture.ok()) return labels;
    for (const diagram::TcpConversation& conversation :
         diagram::SplitConversations(capture->tcp, capture->first_timestamp)) {
      for (const diagram::Segment& segment : conversation.segments) {
        Labels& frame = labels[segment.order];
        if (segment.marked(diagram::kKeepaliveProbe)) frame.push_back("keepalive probe");
        if (segment.marked(diagram::kKeepaliveAnswer) && !segment.marked(diagram::kWindowUpdate) &&
            !segment.has(wire::TcpFlags::kRst)) {
          frame.push_back("keepalive answer");
        }
        if (segment.marked(diagram::kRetransmission)) frame.push_back("retransmission");
        if (segment.marked(diagram::kDuplicateAck)) frame.push_back("duplicate ACK");
        if (segment.marked(diagram::kWindowUpdate)) frame.push_back("window update");
        if (segment.marked(diagram::kZeroWindow)) frame.push_back("zero window");
        if (segment.marked(diagram::kZeroWindowProbe)) frame.push_back("zero-window probe");
      }
    }
    return labels;
  }

  // Every frame labelled alike; returns how many frames carry each label.
  std::map<std::string, int> CompareWithTshark() {
    const std::map<std::uint64_t, Labels> theirs = TsharkLabels();
    const std::map<std::uint64_t, Labels> ours = OurLabels();
    EXPECT_EQ(ours.size(), theirs.size()) << "frames with TCP";
    std::map<std::string, int> counts;
    for (const auto& [frame, their_labels] : theirs) {
      Labels expected = their_labels;
      Labels actual = ours.count(frame) ? ours.at(frame) : Labels{};
      std::sort(expected.begin(), expected.end());
      std::sort(actual.begin(), actual.end());
      EXPECT_EQ(actual, expected) << "frame " << frame << ": ours [" << absl::StrJoin(actual, ", ")
                                  << "], tshark's [" << absl::StrJoin(expected, ", ") << "] in "
                                  << capture_;
      for (const std::string& label : actual) ++counts[label];
    }
    return counts;
  }

  std::string capture_;
  std::string capture_pid_;
  std::string server_out_;
  std::string client_out_;
  std::unique_ptr<testbed::LinuxPeer> server_;
  std::unique_ptr<testbed::LinuxPeer> client_;
};

TEST_F(DiagramTsharkTest, KeepaliveProbesAndAnswers) {
  StartCapture();
  StartServer();
  ASSERT_EQ(RunClient("loopback-keepalive-client"), 0) << ReadFile(client_out_);
  ASSERT_TRUE(
      WaitUntil([&] { return ReadFile(server_out_).find("received=") != std::string::npos; },
                std::chrono::seconds(10)));
  StopCapture();
  std::map<std::string, int> counts = CompareWithTshark();
  EXPECT_GE(counts["keepalive probe"], 2);
  EXPECT_EQ(counts["keepalive answer"], counts["keepalive probe"]);
}

TEST_F(DiagramTsharkTest, DeadPeerLeavesProbesUnanswered) {
  StartCapture();
  StartServer();
  StartClient("loopback-dead-client");
  ASSERT_TRUE(WaitUntil([&] { return ReadFile(client_out_).find("GREETED") != std::string::npos; },
                        std::chrono::seconds(10)));
  // docs/testbed.md, "a dead peer": from now on nothing reaches the server's port.
  ASSERT_TRUE(netns().Shell("nft add table inet dead").ok());
  ASSERT_TRUE(
      netns().Shell("nft add chain inet dead in '{ type filter hook input priority -300; }'").ok());
  ASSERT_TRUE(netns().Shell("nft add rule inet dead in tcp dport 7000 drop").ok());
  ASSERT_TRUE(WaitUntil([&] { return ReadFile(client_out_).find("closed=") != std::string::npos; },
                        std::chrono::seconds(15)));
  EXPECT_THAT(ReadFile(client_out_), ::testing::HasSubstr("closed=110"));
  StopCapture();
  std::map<std::string, int> counts = CompareWithTshark();
  EXPECT_EQ(counts["keepalive probe"], 3);
  EXPECT_EQ(counts["keepalive answer"], 0);
}

TEST_F(DiagramTsharkTest, LossBringsRetransmissionsAndDuplicateAcks) {
  // Segments of Ethernet size, and one data segment in seven to the server dropped.
  ASSERT_TRUE(netns().Shell("ip link set lo mtu 1500").ok());
  ASSERT_TRUE(netns().Shell("nft add table inet lossy").ok());
  ASSERT_TRUE(netns()
                  .Shell("nft add chain inet lossy in '{ type filter hook input priority -300; }'")
                  .ok());
  ASSERT_TRUE(netns()
                  .Shell("nft add rule inet lossy in tcp dport 7000 meta length gt 1000 "
                         "numgen inc mod 7 == 3 drop")
                  .ok());
  StartCapture();
  StartServer();
  ASSERT_EQ(RunClient("loopback-bulk-client"), 0) << ReadFile(client_out_);
  ASSERT_TRUE(
      WaitUntil([&] { return ReadFile(server_out_).find("received=1000000") != std::string::npos; },
                std::chrono::seconds(20)))
      << ReadFile(server_out_);
  StopCapture();
  std::map<std::string, int> counts = CompareWithTshark();
  EXPECT_GE(counts["retransmission"], 1);
  EXPECT_GE(counts["duplicate ACK"], 1);
}

}  // namespace
}  // namespace tapstack::testing
