// `tapstack diagram`'s parts on captures built here: reading pcap files of every link type the
// reader knows (one written by libtins), splitting them into conversations, the labels of the
// TCP analysis, and the diagram drawn from them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <tins/tins.h>

#include <string>
#include <vector>

#include "tests/support/files.h"
#include "tests/tools/capture_bytes.h"
#include "tools/diagram/capture_decode.h"
#include "tools/diagram/capture_file.h"
#include "tools/diagram/conversations.h"
#include "tools/diagram/sequence_diagram.h"

namespace tapstack::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using tools::diagram::Capture;
using tools::diagram::ReadCapture;
using tools::diagram::SegmentLabels;
using tools::diagram::SplitConversations;
using tools::diagram::TcpConversation;

constexpr std::uint32_t kClientIsn = 1000;
constexpr std::uint32_t kServerIsn = 0xffffffff;  // its first byte wraps to 0

// One conversation between 192.0.2.1:40000 (client) and 198.51.100.2:80, sequence numbers given
// relative to each side's ISN, times in milliseconds.
class Script {
 public:
  void Client(int ms, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
              std::size_t payload = 0, std::uint16_t window = 1000) {
    Add(ms, {.seq = kClientIsn + seq,
             .ack = (flags & kAck) ? kServerIsn + ack : 0,
             .flags = flags,
             .window = window,
             .payload = payload});
  }
  void Server(int ms, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
              std::size_t payload = 0, std::uint16_t window = 1000) {
    Add(ms, {.src = 0xc6336402,
             .dst = 0xc0000201,
             .src_port = 80,
             .dst_port = 40000,
             .seq = kServerIsn + seq,
             .ack = (flags & kAck) ? kClientIsn + ack : 0,
             .flags = flags,
             .window = window,
             .payload = payload});
  }
  void Handshake() {
    Client(0, kSyn, 0, 0);
    Server(1, kSyn | kAck, 0, 1);
    Client(2, kAck, 1, 1);
  }
  void Add(int ms, const TcpSpec& spec) {
    records.push_back({static_cast<std::uint32_t>(1000 + ms / 1000),
                       static_cast<std::uint32_t>(ms % 1000) * 1000, Ipv4Tcp(spec)});
  }
  // The records inside `wrap`'s link layer, as a pcap file of `link_type`, read back.
  Capture Read(std::uint32_t link_type, Bytes (*wrap)(const Bytes&)) const {
    std::vector<Record> wrapped = records;
    for (Record& record : wrapped) record.bytes = wrap(record.bytes);
    const std::string path = TempPath("diagram.pcap");
    WriteBytes(path, PcapFile(link_type, wrapped));
    absl::StatusOr<Capture> capture = ReadCapture(path);
    EXPECT_TRUE(capture.ok()) << capture.status();
    return capture.ok() ? *capture : Capture{};
  }
  std::vector<TcpConversation> Conversations() const {
    const Capture capture = Read(1, [](const Bytes& ip) { return Ethernet(ip); });
    return SplitConversations(capture.tcp, capture.first_timestamp);
  }

  std::vector<Record> records;
};

std::vector<std::vector<std::string>> Labels(const TcpConversation& conversation) {
  std::vector<std::vector<std::string>> labels;
  for (const auto& segment : conversation.segments) {
    labels.push_back(SegmentLabels({}, segment));
  }
  return labels;
}

using Strings = std::vector<std::string>;

// The whole drawing, from a file libtins wrote: relative numbers, FIN both ways, the times since
// the capture's first packet.
TEST(DiagramTest, LibtinsCaptureDrawnExactly) {
  const std::string path = TempPath("libtins.pcap");
  {
    Tins::PacketWriter writer(path, Tins::DataLinkType<Tins::EthernetII>());
    const auto write = [&](int ms, bool from_client, std::uint8_t flags, std::uint32_t seq,
                           std::uint32_t ack, const std::string& payload) {
      Tins::TCP tcp(from_client ? 7003 : 40100, from_client ? 40100 : 7003);
      tcp.seq(seq);
      tcp.ack_seq(ack);
      tcp.flags(flags);
      tcp.window(64240);
      Tins::EthernetII frame = Tins::EthernetII() /
                               Tins::IP(from_client ? "192.0.2.1" : "192.0.2.2",
                                        from_client ? "192.0.2.2" : "192.0.2.1") /
                               tcp;
      if (!payload.empty()) frame /= Tins::RawPDU(payload);
      Tins::Packet packet(frame, Tins::Timestamp(std::chrono::microseconds(
                                     std::int64_t{1'700'000'000'000'000} + ms * 1000)));
      writer.write(packet);
    };
    write(0, true, Tins::TCP::SYN, 500, 0, "");
    write(1, false, Tins::TCP::SYN | Tins::TCP::ACK, 9000, 501, "");
    write(1, true, Tins::TCP::ACK, 501, 9001, "");
    write(10, true, Tins::TCP::PSH | Tins::TCP::ACK, 501, 9001, "hello\n");
    write(11, false, Tins::TCP::ACK, 9001, 507, "");
    write(1500, true, Tins::TCP::FIN | Tins::TCP::ACK, 507, 9001, "");
    write(1501, false, Tins::TCP::FIN | Tins::TCP::ACK, 9001, 508, "");
    write(1502, true, Tins::TCP::ACK, 508, 9002, "");
  }
  absl::StatusOr<Capture> capture = ReadCapture(path);
  ASSERT_TRUE(capture.ok()) << capture.status();
  EXPECT_EQ(capture->records, 8u);
  const std::vector<TcpConversation> conversations =
      SplitConversations(capture->tcp, capture->first_timestamp);
  ASSERT_EQ(conversations.size(), 1u);
  const tools::diagram::DiagramSpec spec{.left_title = "client",
                                         .right_title = "server",
                                         .left_endpoint = "192.0.2.1:40100",
                                         .right_endpoint = "192.0.2.2:7003"};
  EXPECT_EQ(tools::diagram::RenderSequenceDiagram(spec, conversations[0].segments, {}),
            R"(    t (s)  client                                             server
           192.0.2.1:40100                                    192.0.2.2:7003
           |                                                  |
    0.000  |-- SYN seq=0 len=0 ------------------------------>|
    0.001  |<-------------------- SYN,ACK seq=0 ack=1 len=0 --|
    0.001  |-- ACK seq=1 ack=1 len=0 ------------------------>|
    0.010  |-- PSH,ACK seq=1 ack=1 len=6 -------------------->|
    0.011  |<------------------------ ACK seq=1 ack=7 len=0 --|
           :  (1.5 s)                                         :
    1.500  |-- FIN,ACK seq=7 ack=1 len=0 -------------------->|  done sending
    1.501  |<-------------------- FIN,ACK seq=1 ack=8 len=0 --|  done sending
    1.502  |-- ACK seq=8 ack=2 len=0 ------------------------>|
           |                                                  |
)");
  EXPECT_EQ(conversations[0].left.port, 40100);
  EXPECT_TRUE(conversations[0].opened_in_capture);
}

// Every label of the analysis, each where Wireshark's tcp.analysis flags would put it.
TEST(DiagramTest, LabelsFollowWiresharksAnalysis) {
  Script script;
  script.Handshake();
  script.Client(10, kPsh | kAck, 1, 1, 100);
  script.Server(11, kAck, 1, 101);
  script.Client(20, kPsh | kAck, 101, 1, 100);  // lost on the way
  script.Client(21, kPsh | kAck, 201, 1, 100);
  script.Server(22, kAck, 1, 101);              // duplicate ACK
  script.Server(23, kAck, 1, 101);              // and another
  script.Client(24, kPsh | kAck, 101, 1, 100);  // fast retransmission
  script.Server(25, kAck, 1, 301, 0, 0);        // the receiver's buffer is full
  script.Client(300, kAck, 301, 1, 1);          // zero-window probe
  script.Server(301, kAck, 1, 301, 0, 0);
  script.Server(400, kAck, 1, 301, 0, 2000);   // window update
  script.Client(3000, kAck, 300, 1);           // keepalive probe
  script.Server(3001, kAck, 1, 301, 0, 2000);  // its answer
  script.Client(5000, kAck, 300, 1);           // probe 1 again: the server spoke meanwhile
  script.Client(6000, kAck, 300, 1);           // probe 2, unanswered
  script.Server(6001, kRst, 1, 0, 0, 0);       // a server that lost the connection
  const std::vector<TcpConversation> conversations = script.Conversations();
  ASSERT_EQ(conversations.size(), 1u);
  EXPECT_THAT(
      Labels(conversations[0]),
      ElementsAre(Strings{}, Strings{}, Strings{}, Strings{}, Strings{}, Strings{}, Strings{},
                  Strings{"duplicate ACK"}, Strings{"duplicate ACK"}, Strings{"retransmission"},
                  Strings{"zero window"}, Strings{"zero-window probe"}, Strings{"zero window"},
                  Strings{"window update"}, Strings{"keepalive probe 1"},
                  Strings{"answer to keepalive probe 1"}, Strings{"keepalive probe 1"},
                  Strings{"keepalive probe 2"}, Strings{"answer to keepalive probe 2", "reset"}));
  // Relative numbers count on through the wrap of the server's numbers past 2^32.
  EXPECT_EQ(conversations[0].segments[4].seq, 0u);
  EXPECT_EQ(conversations[0].segments[4].relative_seq, 1u);
  EXPECT_EQ(conversations[0].segments[4].relative_ack, 101u);
}

// RFC 7323 2.2: once both SYNs carried the option, windows compare scaled, and the SYN's own
// window never is. The same raw window then is a new one.
TEST(DiagramTest, WindowsCompareScaledOnceBothSidesOfferedScaling) {
  for (const bool scaled : {true, false}) {
    Script script;
    std::optional<std::uint8_t> shift;
    if (scaled) shift = 7;
    script.Add(0, {.seq = kClientIsn, .flags = kSyn, .window = 512, .window_scale = shift});
    script.Add(1, {.src = 0xc6336402,
                   .dst = 0xc0000201,
                   .src_port = 80,
                   .dst_port = 40000,
                   .seq = kServerIsn,
                   .ack = kClientIsn + 1,
                   .flags = kSyn | kAck,
                   .window = 512,
                   .window_scale = shift});
    script.Server(2, kAck, 1, 1, 0, 512);
    const std::vector<TcpConversation> conversations = script.Conversations();
    ASSERT_EQ(conversations.size(), 1u);
    EXPECT_THAT(SegmentLabels({}, conversations[0].segments[2]),
                ElementsAre(scaled ? "window update" : "duplicate ACK"));
  }
}

Bytes Raw(const Bytes& ip) { return ip; }
Bytes NullLoopback(const Bytes& ip) {
  Bytes frame = {2, 0, 0, 0};  // AF_INET, little-endian as written on x86
  frame.insert(frame.end(), ip.begin(), ip.end());
  return frame;
}
Bytes VlanEthernet(const Bytes& ip) {
  Bytes tagged = {0x00, 0x64};  // VLAN 100
  tagged.insert(tagged.end(), {0x08, 0x00});
  tagged.insert(tagged.end(), ip.begin(), ip.end());
  return Ethernet(tagged, 0x8100);
}

// The same conversation through every link type the reader decodes.
TEST(DiagramTest, EveryLinkTypeGivesTheSameConversation) {
  Script script;
  script.Handshake();
  script.Client(10, kPsh | kAck, 1, 1, 5);
  struct Case {
    std::uint32_t link_type;
    Bytes (*wrap)(const Bytes&);
  };
  for (const Case& test :
       {Case{1, [](const Bytes& ip) { return Ethernet(ip); }}, Case{1, VlanEthernet},
        Case{113, Sll}, Case{276, Sll2}, Case{101, Raw}, Case{228, Raw}, Case{0, NullLoopback}}) {
    const Capture capture = script.Read(test.link_type, test.wrap);
    ASSERT_EQ(capture.tcp.size(), 4u) << "link type " << test.link_type;
    const std::vector<TcpConversation> conversations =
        SplitConversations(capture.tcp, capture.first_timestamp);
    ASSERT_EQ(conversations.size(), 1u);
    EXPECT_EQ(conversations[0].left.address.ToString(), "192.0.2.1");
    EXPECT_EQ(conversations[0].right.port, 80);
    EXPECT_EQ(conversations[0].segments[3].payload_length, 5u);
    EXPECT_EQ(conversations[0].segments[3].relative_seq, 1u);
  }
}

// Conversations are numbered in the order they first appear; a port reused after a RST is a new
// one, and without the SYN the first sender is on the left.
TEST(DiagramTest, ConversationsSplitByTupleAndByReuse) {
  Script script;
  script.Add(0, {.src_port = 41000, .seq = 5, .ack = 7, .flags = kAck, .payload = 10});
  script.Handshake();
  script.Server(50, kRst, 1, 0);
  script.Client(60, kSyn, 5000, 0);
  const Capture capture = script.Read(1, [](const Bytes& ip) { return Ethernet(ip); });
  const std::vector<TcpConversation> conversations =
      SplitConversations(capture.tcp, capture.first_timestamp);
  ASSERT_EQ(conversations.size(), 3u);
  EXPECT_EQ(conversations[0].left.port, 41000);
  EXPECT_FALSE(conversations[0].opened_in_capture);
  EXPECT_EQ(conversations[0].segments[0].relative_seq, 0u);
  EXPECT_EQ(conversations[1].segments.size(), 4u);
  EXPECT_EQ(conversations[2].stream, 2);
  EXPECT_EQ(conversations[2].segments.size(), 1u);
  // Times count from the capture's first packet.
  EXPECT_EQ(conversations[2].segments[0].at, std::chrono::milliseconds(60));
}

// Malformed and foreign records decode to nothing; a snap length that cut the payload does not
// change its length.
TEST(DiagramTest, DecodeChecksEveryLength) {
  using tools::diagram::DecodeTcp;
  const Bytes good = Ipv4Tcp({.flags = kAck, .payload = 40});
  ASSERT_TRUE(DecodeTcp(12, good).has_value());
  Bytes cut = good;
  cut.resize(40);  // headers only, as with a small snap length
  ASSERT_TRUE(DecodeTcp(12, cut).has_value());
  EXPECT_EQ(DecodeTcp(12, cut)->payload_length, 40u);
  for (std::size_t size = 0; size < 40; ++size) {
    EXPECT_FALSE(DecodeTcp(12, Bytes(good.begin(), good.begin() + size)).has_value()) << size;
  }
  Bytes short_ihl = good;
  short_ihl[0] = 0x44;
  EXPECT_FALSE(DecodeTcp(12, short_ihl).has_value());
  Bytes short_total = good;
  short_total[2] = 0;
  short_total[3] = 30;  // less than the two headers
  EXPECT_FALSE(DecodeTcp(12, short_total).has_value());
  Bytes short_offset = good;
  short_offset[32] = 0x40;  // data offset 4
  EXPECT_FALSE(DecodeTcp(12, short_offset).has_value());
  Bytes udp = good;
  udp[9] = 17;
  EXPECT_FALSE(DecodeTcp(12, udp).has_value());
  Bytes later_fragment = good;
  later_fragment[6] = 0x00;
  later_fragment[7] = 0x10;
  EXPECT_FALSE(DecodeTcp(12, later_fragment).has_value());
  EXPECT_FALSE(DecodeTcp(1, Ethernet(good, 0x0806)).has_value());  // ARP's EtherType
  EXPECT_FALSE(DecodeTcp(105, good).has_value());                  // 802.11: not decoded
  EXPECT_FALSE(DecodeTcp(113, Bytes(15, 0)).has_value());
}

}  // namespace
}  // namespace tapstack::testing
