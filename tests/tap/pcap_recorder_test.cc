// PcapRecorder and PcapWriter, with tshark as the judge of the files they write.
#include "tap/pcap_recorder.h"

#include <gtest/gtest.h>
#include <tins/arp.h>
#include <tins/ethernetII.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tap/memory_link.h"
#include "tests/support/netns.h"
#include "tests/tap/test_frames.h"

namespace tapstack::tap {
namespace {

using std::chrono::milliseconds;
using ::tapstack::testing::CommandResult;
using ::tapstack::testing::RunShell;
using test_frames::MakeFrame;

const timers::TimePoint kT0 = timers::TimePoint{} + std::chrono::seconds(1000);

class PcapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunShell("command -v tshark").exit_code, 0)
        << "tshark is needed to check pcap files (scripts/install-deps.sh installs it)";
    path_ = absl::StrCat(::testing::TempDir(), "tapstack_pcap_", getpid(), "_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".pcap");
  }
  void TearDown() override { std::remove(path_.c_str()); }

  // tshark's output (standard error dropped: as root it warns about running as root).
  std::string Tshark(const std::string& args) {
    CommandResult r = RunShell(absl::StrCat("tshark -r ", path_, " ", args, " 2>/dev/null"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.output;
  }

  std::vector<std::string> Lines(const std::string& text) {
    return absl::StrSplit(absl::StripTrailingAsciiWhitespace(text), '\n', absl::SkipEmpty());
  }

  std::string path_;
};

TEST_F(PcapTest, RecordsEveryFrameSentAndReceived) {
  auto [a, b] = MemoryLink::CreatePair();
  Result<std::unique_ptr<PcapRecorder>> recorder = PcapRecorder::Open(std::move(a), path_);
  ASSERT_TRUE(recorder.ok()) << recorder.error().message();
  for (int i = 0; i < 30; ++i) {
    ASSERT_FALSE((*recorder)->Send(MakeFrame(i, 60 + i), kT0 + milliseconds(i)));
    ASSERT_FALSE(b->Send(MakeFrame(100 + i), kT0 + milliseconds(i)));
  }
  std::vector<std::uint8_t> buffer(MaxFrameSize((*recorder)->mtu()));
  int received = 0;
  for (;;) {
    Result<std::size_t> n = (*recorder)->Receive(buffer, kT0 + milliseconds(50));
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    ++received;
  }
  EXPECT_EQ(received, 30);
  EXPECT_EQ((*recorder)->writer().frames_written(), 60u);
  EXPECT_EQ((*recorder)->stats().frames_sent, 30u);  // the wrapped device's counters
  (*recorder)->Close();

  std::vector<std::string> numbers = Lines(Tshark("-T fields -e frame.number"));
  ASSERT_EQ(numbers.size(), 60u);
  EXPECT_EQ(numbers.back(), "60");
  // Sizes and timestamps as given: frame i of the sent ones is 60 + i bytes, stamped T0 + i ms.
  std::vector<std::string> first = Lines(Tshark("-c 3 -T fields -e frame.len -e frame.time_epoch"));
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0], "60\t1000.000000000");
  EXPECT_EQ(first[2], "62\t1000.002000000");
  // The received ones were recorded at the time Receive was called.
  EXPECT_EQ(Lines(Tshark("-T fields -e frame.time_epoch")).back(), "1000.050000000");
}

TEST_F(PcapTest, TsharkDecodesAnArpRequest) {
  Result<std::unique_ptr<PcapWriter>> writer = PcapWriter::Open(path_);
  ASSERT_TRUE(writer.ok()) << writer.error().message();
  Tins::EthernetII request =
      Tins::ARP::make_arp_request("192.0.2.1", "192.0.2.2", "02:00:00:00:00:02");
  const std::vector<std::uint8_t> bytes = request.serialize();
  ASSERT_FALSE((*writer)->Write(MakeFrame(1), kT0));
  ASSERT_FALSE((*writer)->Write(bytes, kT0 + milliseconds(1)));
  ASSERT_FALSE((*writer)->Write(MakeFrame(2), kT0 + milliseconds(2)));
  (*writer)->Close();
  EXPECT_EQ((*writer)->Write(bytes, kT0), std::errc::bad_file_descriptor);

  std::vector<std::string> arp = Lines(Tshark(
      "-Y arp -T fields -e frame.number -e eth.dst -e eth.src -e arp.opcode -e arp.src.hw_mac "
      "-e arp.src.proto_ipv4 -e arp.dst.proto_ipv4"));
  ASSERT_EQ(arp.size(), 1u);
  EXPECT_EQ(arp[0],
            "2\tff:ff:ff:ff:ff:ff\t02:00:00:00:00:02\t1\t02:00:00:00:00:02\t192.0.2.2\t192.0.2.1");
}

// A TCP super-segment from a TAP with offloads is one record, whole: the file's snapshot length
// (262144, tcpdump's default) is above it, so readers neither cut nor refuse it.
TEST_F(PcapTest, RecordsASuperSegmentWholeUnderTheSnapshotLength) {
  Result<std::unique_ptr<PcapWriter>> writer = PcapWriter::Open(path_);
  ASSERT_TRUE(writer.ok()) << writer.error().message();
  ASSERT_FALSE((*writer)->Write(MakeFrame(1, kMaxCoalescedFrameSize), kT0));
  EXPECT_EQ((*writer)->Write(MakeFrame(2, PcapWriter::kSnapshotLength + 1), kT0),
            std::errc::message_size);
  (*writer)->Close();

  std::FILE* file = std::fopen(path_.c_str(), "rb");
  ASSERT_NE(file, nullptr);
  std::uint32_t header[6] = {};
  ASSERT_EQ(std::fread(header, sizeof(header), 1, file), 1u);
  std::fclose(file);
  EXPECT_EQ(header[0], 0xa1b2c3d4u) << "microsecond pcap, our byte order";
  EXPECT_EQ(header[4], 262144u) << "snapshot length";
  EXPECT_EQ(header[5], 1u) << "LINKTYPE_ETHERNET";
  EXPECT_EQ(
      Lines(Tshark("-T fields -e frame.len -e frame.cap_len")),
      std::vector<std::string>{absl::StrCat(kMaxCoalescedFrameSize, "\t", kMaxCoalescedFrameSize)});
}

TEST_F(PcapTest, OpenFailsOnAnUnwritablePath) {
  Result<std::unique_ptr<PcapWriter>> writer = PcapWriter::Open("/nonexistent-dir/x.pcap");
  EXPECT_EQ(writer.error(), std::errc::no_such_file_or_directory) << writer.error().message();
}

}  // namespace
}  // namespace tapstack::tap
