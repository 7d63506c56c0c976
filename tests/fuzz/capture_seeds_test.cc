// Seeds from captures (capture_seeds.h): a conversation like the interop tests record, written to
// a pcap with tap::PcapWriter, read back and turned into seeds. The stack_fuzz seed is checked
// record by record and then replayed through the fuzz driver, whose stack must take the peer's
// data in order, close cleanly and send no RST.
#include "tests/fuzz/capture_seeds.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "stack/wire/bytes.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/tcp.h"
#include "tap/pcap_writer.h"
#include "tests/fuzz/fuzz_drivers.h"

namespace tapstack::fuzz {
namespace {

using Bytes = std::vector<std::uint8_t>;
using std::chrono::milliseconds;
using wire::TcpFlags;

constexpr std::uint8_t kA = TcpFlags::kAck;
constexpr std::uint8_t kS = TcpFlags::kSyn;
constexpr std::uint8_t kF = TcpFlags::kFin;

struct Endpoint {
  wire::MacAddress mac;
  wire::Ipv4Address address;
  std::uint16_t port;
};
const Endpoint kKernel{*wire::MacAddress::Parse("0a:00:00:00:00:01"),
                       wire::Ipv4Address(192, 0, 2, 1), 45000};
const Endpoint kStack{*wire::MacAddress::Parse("02:00:00:00:00:02"),
                      wire::Ipv4Address(192, 0, 2, 2), 5001};
constexpr std::uint32_t kKernelIsn = 7'000'000;
constexpr std::uint32_t kStackIsn = 90'000;

Bytes Segment(const Endpoint& from, const Endpoint& to, std::uint8_t flags, std::uint32_t seq,
              std::uint32_t ack, std::size_t payload_len = 0) {
  const Bytes payload(payload_len, 'k');
  wire::TcpRepr tcp;
  tcp.src_port = from.port;
  tcp.dst_port = to.port;
  tcp.seq = seq;
  tcp.ack = ack;
  tcp.flags = flags;
  tcp.window = 502;
  if ((flags & kS) != 0) {
    tcp.options.mss = 1460;
    tcp.options.sack_permitted = true;
    tcp.options.timestamps = wire::TcpOptions::Timestamps{11, 0};
    tcp.options.window_scale = 7;
  }
  tcp.payload = payload;
  Bytes segment(wire::TcpHeaderLen(tcp.options) + payload.size());
  segment.resize(wire::WriteTcp(tcp, from.address, to.address, segment));
  wire::Ipv4Repr ip;
  ip.src = from.address;
  ip.dst = to.address;
  ip.protocol = wire::IpProtocol::kTcp;
  ip.payload_len = static_cast<std::uint16_t>(segment.size());
  Bytes frame(wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen + segment.size());
  wire::WriteEthernet(wire::EthernetRepr{to.mac, from.mac, wire::EtherType::kIpv4}, frame);
  wire::WriteIpv4Header(ip, std::span(frame).subspan(wire::kEthernetHeaderLen));
  std::copy(segment.begin(), segment.end(),
            frame.begin() + wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen);
  return frame;
}

struct ParsedRecord {
  std::uint8_t advance = 0;
  std::uint8_t control = 0;
  Bytes frame;
  // The TCP header fields of `frame` (20-byte IP header, as Segment() writes).
  std::uint32_t seq() const { return wire::LoadBe32(&frame[38]); }
  std::uint32_t ack() const { return wire::LoadBe32(&frame[42]); }
  std::uint8_t flags() const { return frame[47]; }
};

std::vector<ParsedRecord> ParseRecords(std::span<const std::uint8_t> input) {
  std::vector<ParsedRecord> records;
  while (input.size() >= 4) {
    const std::size_t length = wire::LoadBe16(&input[0]);
    if (input.size() - 4 < length) break;
    records.push_back({input[2], input[3], Bytes(input.begin() + 4, input.begin() + 4 + length)});
    input = input.subspan(4 + length);
  }
  return records;
}

// A TCP segment the fuzz target's stack emitted.
struct Emitted {
  std::uint16_t dst_port;
  std::uint8_t flags;
  std::uint32_t ack;
  std::uint32_t seq;
  std::size_t payload_len;
};

std::vector<Emitted> EmittedSegments(const std::vector<Bytes>& frames) {
  std::vector<Emitted> segments;
  for (const Bytes& frame : frames) {
    const auto ethernet = wire::EthernetView::Parse(frame);
    if (!ethernet.ok() || ethernet->ethertype() != wire::EtherType::kIpv4) continue;
    const auto ip = wire::Ipv4View::Parse(ethernet->payload());
    if (!ip.ok() || ip->protocol() != wire::IpProtocol::kTcp) continue;
    const auto tcp = wire::TcpView::Parse(ip->payload());
    if (tcp.ok()) {
      segments.push_back(
          {tcp->dst_port(), tcp->flags(), tcp->ack(), tcp->seq(), tcp->payload().size()});
    }
  }
  return segments;
}

class CaptureSeedsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(::testing::TempDir(), "capture_seeds_", getpid(), "_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".pcap");
  }
  void TearDown() override { std::remove(path_.c_str()); }

  // Writes `frames` to the pcap, the n-th at t0 + times[n].
  void WritePcap(const std::vector<Bytes>& frames, const std::vector<milliseconds>& times) {
    Result<std::unique_ptr<tap::PcapWriter>> writer = tap::PcapWriter::Open(path_);
    ASSERT_TRUE(writer.ok()) << writer.error().message();
    for (std::size_t i = 0; i < frames.size(); ++i) {
      ASSERT_FALSE((*writer)->Write(frames[i], kT0 + times[i]));
    }
    (*writer)->Close();
  }

  std::vector<CapturedFrame> ReadBack() {
    absl::StatusOr<std::vector<CapturedFrame>> frames = ReadPcap(path_);
    EXPECT_TRUE(frames.ok()) << frames.status();
    return frames.ok() ? *frames : std::vector<CapturedFrame>{};
  }

  const timers::TimePoint kT0 = timers::TimePoint{} + std::chrono::seconds(5000);
  std::string path_;
};

TEST_F(CaptureSeedsTest, ReadPcapReturnsEveryFrameWithItsTime) {
  const std::vector<Bytes> frames = {
      Segment(kKernel, kStack, kS, kKernelIsn, 0),
      Segment(kStack, kKernel, kS | kA, kStackIsn, kKernelIsn + 1),
      Segment(kKernel, kStack, kA, kKernelIsn + 1, kStackIsn + 1, 9)};
  WritePcap(frames, {milliseconds(0), milliseconds(2), milliseconds(3500)});
  const std::vector<CapturedFrame> read = ReadBack();
  ASSERT_EQ(read.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(read[i].bytes, frames[i]) << i;
  EXPECT_EQ(read[1].time - read[0].time, milliseconds(2));
  EXPECT_EQ(read[2].time - read[0].time, milliseconds(3500));
}

TEST_F(CaptureSeedsTest, ReadPcapKeepsTheFramesBeforeATruncatedRecord) {
  WritePcap({Segment(kKernel, kStack, kS, kKernelIsn, 0),
             Segment(kKernel, kStack, kA, kKernelIsn + 1, kStackIsn + 1, 100)},
            {milliseconds(0), milliseconds(1)});
  std::filesystem::resize_file(path_, std::filesystem::file_size(path_) - 10);
  EXPECT_EQ(ReadBack().size(), 1u);
}

TEST_F(CaptureSeedsTest, ReadPcapFailsOnAMissingFile) {
  EXPECT_FALSE(ReadPcap(path_ + ".missing").ok());
}

TEST_F(CaptureSeedsTest, ReadPcapRejectsWhatIsNotAnEthernetPcap) {
  for (const std::string& content :
       {std::string("not a capture at all, just text long enough"), std::string("\xa1\xb2")}) {
    std::ofstream(path_, std::ios::binary) << content;
    EXPECT_FALSE(ReadPcap(path_).ok());
  }
  // A valid header with link type 101 (raw IP) instead of Ethernet.
  std::string header("\xa1\xb2\xc3\xd4\x00\x02\x00\x04", 8);
  header += std::string(12, '\0') + std::string("\x00\x00\x00\x65", 4);
  std::ofstream(path_, std::ios::binary) << header;
  EXPECT_FALSE(ReadPcap(path_).ok());
}

TEST_F(CaptureSeedsTest, WireSeedsAreThePeersFramesOnePerShape) {
  WritePcap({Segment(kKernel, kStack, kS, kKernelIsn, 0),
             Segment(kStack, kKernel, kS | kA, kStackIsn, kKernelIsn + 1),
             Segment(kKernel, kStack, kA, kKernelIsn + 1, kStackIsn + 1, 1448),
             Segment(kKernel, kStack, kA, kKernelIsn + 1449, kStackIsn + 1, 1448),
             Segment(kKernel, kStack, kA | kF, kKernelIsn + 2897, kStackIsn + 1)},
            {milliseconds(0), milliseconds(1), milliseconds(2), milliseconds(3), milliseconds(4)});
  const std::vector<CaptureSeed> seeds = WireSeedsFromCapture(ReadBack(), "cap");
  ASSERT_EQ(seeds.size(), 3u) << "SYN, one of the two data segments, FIN; nothing of ours";
  EXPECT_EQ(seeds[0].name, "cap-frame0");
  EXPECT_EQ(seeds[1].name, "cap-frame2");
  EXPECT_EQ(seeds[2].name, "cap-frame4");
}

// A kernel client's whole connection: handshake, data out of order, our data acknowledged, the
// kernel's FIN, ours, and the last ACK.
TEST_F(CaptureSeedsTest, ConnectionSeedHitsTheListenerThenTheEstablishedConnection) {
  const std::uint32_t k = kKernelIsn + 1;  // the kernel's first data byte
  const std::uint32_t s = kStackIsn + 1;
  WritePcap({Segment(kKernel, kStack, kS, kKernelIsn, 0),             // 0 to the listener
             Segment(kStack, kKernel, kS | kA, kStackIsn, k),         //
             Segment(kKernel, kStack, kA, k, s),                      // 1
             Segment(kKernel, kStack, kA, k, s, 1000),                // 2 bytes 0-999
             Segment(kKernel, kStack, kA, k + 2000, s, 1000),         // 3 bytes 2000-2999
             Segment(kStack, kKernel, kA, s, k + 1000, 3000),         //   (SACK aside)
             Segment(kKernel, kStack, kA, k + 1000, s + 3000, 1000),  // 4 bytes 1000-1999
             Segment(kKernel, kStack, kA | kF, k + 3000, s + 3000),   // 5 the kernel's FIN
             Segment(kStack, kKernel, kA | kF, s + 3000, k + 3001),   //   ours
             Segment(kKernel, kStack, kA, k + 3001, s + 3001)},       // 6 acknowledges it
            {milliseconds(0), milliseconds(1), milliseconds(2), milliseconds(7), milliseconds(8),
             milliseconds(9), milliseconds(10), milliseconds(3010), milliseconds(3011),
             milliseconds(3012)});
  const std::vector<CaptureSeed> seeds = StackSeedsFromCapture(ReadBack(), "cap");
  ASSERT_EQ(seeds.size(), 1u);
  EXPECT_EQ(seeds[0].name, "cap-conn0");
  const std::vector<ParsedRecord> records = ParseRecords(seeds[0].bytes);
  ASSERT_EQ(records.size(), 7u);

  constexpr std::uint8_t kConnection = kAddressToConnection | kRelativeNumbers;
  EXPECT_EQ(records[0].control, kAddressToConnection | kToListener);
  EXPECT_EQ(records[0].seq(), kKernelIsn) << "a new connection keeps its own numbers";
  EXPECT_EQ(records[1].control, kConnection);
  EXPECT_EQ(records[1].advance, 2);  // milliseconds
  EXPECT_EQ(records[2].control, kConnection | kAppReceive);
  EXPECT_EQ(records[2].seq(), 0u) << "in order";
  EXPECT_EQ(records[3].seq(), 1000u) << "1000 bytes beyond RCV.NXT";
  EXPECT_EQ(records[4].seq(), 0u) << "fills the hole";
  EXPECT_EQ(records[4].ack(), 2920u)
      << "our 3000 bytes, as far as the fuzz connection sent its 4000 (two full segments, the "
         "rest held back by Nagle)";
  EXPECT_EQ(records[5].seq(), 0u) << "the FIN comes after all 3000 bytes";
  EXPECT_EQ(records[5].advance, 202) << "3 s";
  EXPECT_EQ(records[5].control, kConnection | kAppReceive | kAppShutdown)
      << "our FIN went out after the kernel's";
  EXPECT_EQ(records[6].seq(), 0u) << "after the FIN";
  EXPECT_EQ(records[6].ack(), 1081u) << "the rest of the 4000 bytes and the FIN";

  // Replayed, the listener answers the SYN, the established connection takes all 3000 bytes and
  // the FIN in order (its ACK reaches the fuzz peer's ISS + 1 + 3001), sends its own FIN, and
  // nothing is reset.
  const std::vector<Emitted> emitted = EmittedSegments(RunStackInputAndCollect(seeds[0].bytes));
  bool syn_ack_to_kernel = false, all_data_acked = false, fin_to_peer = false;
  for (const Emitted& segment : emitted) {
    EXPECT_EQ(segment.flags & TcpFlags::kRst, 0) << "port " << segment.dst_port;
    syn_ack_to_kernel |= segment.dst_port == kKernel.port && segment.flags == (kS | kA);
    if (segment.dst_port != kPeerPort) continue;
    all_data_acked |= segment.ack == kPeerIss + 1 + 3001;
    fin_to_peer |= (segment.flags & kF) != 0;
  }
  EXPECT_TRUE(syn_ack_to_kernel);
  EXPECT_TRUE(all_data_acked);
  EXPECT_TRUE(fin_to_peer);
}

// A bulk transfer from our stack: far more acknowledged than the fuzz connection has in flight,
// and far more records than a seed keeps.
TEST_F(CaptureSeedsTest, LongConnectionKeepsHeadAndTailAndNeverAcknowledgesUnsentData) {
  const std::uint32_t k = kKernelIsn + 1;
  const std::uint32_t s = kStackIsn + 1;
  std::vector<Bytes> frames = {Segment(kStack, kKernel, kS, kStackIsn, 0),
                               Segment(kKernel, kStack, kS | kA, kKernelIsn, s)};
  std::uint32_t kernel_sent = 0;
  for (std::uint32_t i = 1; i <= 100; ++i) {
    frames.push_back(Segment(kStack, kKernel, kA, s + (i - 1) * 1448, k + kernel_sent, 1448));
    const std::size_t data = i % 10 == 0 ? 10 : 0;
    frames.push_back(Segment(kKernel, kStack, kA, k + kernel_sent, s + i * 1448, data));
    kernel_sent += static_cast<std::uint32_t>(data);
  }
  std::vector<milliseconds> times;
  for (std::size_t i = 0; i < frames.size(); ++i) times.push_back(milliseconds(i));
  WritePcap(frames, times);
  const std::vector<CaptureSeed> seeds = StackSeedsFromCapture(ReadBack(), "bulk");
  ASSERT_EQ(seeds.size(), 1u);
  const std::vector<ParsedRecord> records = ParseRecords(seeds[0].bytes);
  ASSERT_EQ(records.size(), kHeadRecords + kTailRecords);
  EXPECT_EQ(records[0].seq(), 0xffffffffu) << "the SYN-ACK is RCV.NXT - 1";
  std::uint64_t acked = 0, asked = 4000;
  for (const ParsedRecord& record : records) {
    EXPECT_EQ(record.control & kToListener, 0);
    if (record.seq() != 0xffffffffu) {
      EXPECT_EQ(record.seq(), 0u) << "in order";
    }
    acked += record.ack();
    if ((record.control & kAppSend) != 0) asked += 1500;
    EXPECT_LE(acked, asked);
  }
  EXPECT_GT(asked, 4000u) << "the application was asked to send more";
  // The kernel's 10-byte segments all arrive in order, the skipped ones too being relative.
  std::uint32_t data_records = 0;
  for (const ParsedRecord& record : records) data_records += record.frame.size() == 64 ? 1 : 0;
  bool acked_all_data = false;
  for (const Emitted& segment : EmittedSegments(RunStackInputAndCollect(seeds[0].bytes))) {
    EXPECT_EQ(segment.flags & TcpFlags::kRst, 0);
    acked_all_data |=
        segment.dst_port == kPeerPort && segment.ack == kPeerIss + 1 + 10 * data_records;
  }
  EXPECT_TRUE(acked_all_data) << data_records << " data records";
}

TEST_F(CaptureSeedsTest, FramesOutsideConnectionsFormOneSeedAsCaptured) {
  Bytes runt = Segment(kKernel, kStack, kA, 1, 2);
  runt.resize(wire::kEthernetHeaderLen + 10);  // an IPv4 header cut short
  // Our stack's frames, whole (so the capture shows which MAC is ours) and cut short.
  const Bytes ours = Segment(kStack, kKernel, kA, 1, 2);
  const Bytes our_runt(ours.begin(), ours.begin() + wire::kEthernetHeaderLen + 10);
  WritePcap({ours, runt, our_runt}, {milliseconds(0), milliseconds(1), milliseconds(2)});
  const std::vector<CaptureSeed> seeds = StackSeedsFromCapture(ReadBack(), "cap");
  ASSERT_EQ(seeds.size(), 1u);
  EXPECT_EQ(seeds[0].name, "cap-other");
  const std::vector<ParsedRecord> records = ParseRecords(seeds[0].bytes);
  ASSERT_EQ(records.size(), 1u) << "our own frame is not a seed";
  EXPECT_EQ(records[0].control, 0);
  EXPECT_EQ(records[0].frame, runt);
}

}  // namespace
}  // namespace tapstack::fuzz
