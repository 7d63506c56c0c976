// The demo's sequence diagram and the segment analysis under it, on hand-made frames: relative
// sequence numbers, keepalive probes and answers, lost and NAT-dropped segments, notes and idle
// gaps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/tcp.h"
#include "tools/demo/diagram.h"
#include "tools/demo/recording.h"
#include "tools/demo/segments.h"

namespace tapstack::tools::demo {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using wire::TcpFlags;

constexpr std::uint8_t kSyn = TcpFlags::kSyn;
constexpr std::uint8_t kAck = TcpFlags::kAck;
constexpr std::uint8_t kPsh = TcpFlags::kPsh;
constexpr std::uint8_t kFin = TcpFlags::kFin;
constexpr std::uint8_t kRst = TcpFlags::kRst;

const wire::Ipv4Address kUs(192, 0, 2, 2);
const wire::Ipv4Address kPeer(192, 0, 2, 1);
const wire::Ipv4Address kServer(198, 51, 100, 2);
const wire::Ipv4Address kNatOutside(198, 51, 100, 1);
constexpr std::uint16_t kOurPort = 40000;
constexpr std::uint16_t kPeerPort = 7003;
constexpr std::uint16_t kMappedPort = 55555;  // our port after the NAT

struct Tcp {
  wire::Ipv4Address src, dst;
  std::uint16_t src_port, dst_port;
  std::uint8_t flags;
  std::uint32_t seq, ack;
  std::size_t payload = 0;
};

std::vector<std::uint8_t> Frame(const Tcp& tcp) {
  const std::vector<std::uint8_t> payload(tcp.payload, 'x');
  wire::TcpRepr repr;
  repr.src_port = tcp.src_port;
  repr.dst_port = tcp.dst_port;
  repr.seq = tcp.seq;
  repr.ack = tcp.ack;
  repr.flags = tcp.flags;
  repr.window = 1000;
  repr.payload = payload;
  std::vector<std::uint8_t> segment(wire::kTcpMaxHeaderLen + payload.size());
  segment.resize(wire::WriteTcp(repr, tcp.src, tcp.dst, segment));
  std::vector<std::uint8_t> frame(wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen +
                                  segment.size());
  wire::WriteEthernet({*wire::MacAddress::Parse("02:00:00:00:00:01"),
                       *wire::MacAddress::Parse("02:00:00:00:00:02"), wire::EtherType::kIpv4},
                      frame);
  wire::Ipv4Repr ip;
  ip.src = tcp.src;
  ip.dst = tcp.dst;
  ip.protocol = wire::IpProtocol::kTcp;
  ip.payload_len = static_cast<std::uint16_t>(segment.size());
  wire::WriteIpv4Header(ip, std::span(frame).subspan(wire::kEthernetHeaderLen));
  std::copy(segment.begin(), segment.end(),
            frame.begin() + wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen);
  return frame;
}

// Our stack and a peer on the same link, with chosen initial sequence numbers.
class Link {
 public:
  Link(std::uint32_t our_isn, std::uint32_t peer_isn) : our_isn_(our_isn), peer_isn_(peer_isn) {}

  // Sequence numbers are given relative to the ISNs, as the diagram shows them.
  void Ours(int ms, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
            std::size_t payload = 0) {
    recording.AddStackFrame(milliseconds(ms), true,
                            Frame({kUs, kPeer, kOurPort, kPeerPort, flags, our_isn_ + seq,
                                   (flags & kAck) ? peer_isn_ + ack : 0, payload}));
  }
  void Theirs(int ms, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
              std::size_t payload = 0) {
    recording.AddStackFrame(milliseconds(ms), false,
                            Frame({kPeer, kUs, kPeerPort, kOurPort, flags, peer_isn_ + seq,
                                   (flags & kAck) ? our_isn_ + ack : 0, payload}));
  }
  void Handshake(int ms) {
    Ours(ms, kSyn, 0, 0);
    Theirs(ms + 1, kSyn | kAck, 0, 1);
    Ours(ms + 1, kAck, 1, 1);
  }

  Recording recording;

 private:
  std::uint32_t our_isn_;
  std::uint32_t peer_isn_;
};

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(DemoDiagramTest, DeadPeerDrawnExactly) {
  Link link(1000, 5000);
  link.Handshake(0);
  link.Ours(10, kPsh | kAck, 1, 1, 6);
  link.Theirs(11, kAck, 1, 7);
  link.recording.AddNote(milliseconds(300), NoteKind::kPeerUnplugged, "peer unplugged");
  link.Ours(2011, kAck, 6, 1);
  link.Ours(3011, kAck, 6, 1);
  link.Ours(4011, kAck, 6, 1);
  link.recording.AddNote(milliseconds(5011), NoteKind::kInfo, "keepalive gives up");
  link.Ours(5011, kRst | kAck, 7, 1);
  DiagramSpec spec{.stack_title = "our stack", .peer_title = "Linux", .keepalive_count = 3};
  const std::string expected =
      R"(    t (s)  our stack                                          Linux
           192.0.2.2:40000                                    192.0.2.1:7003
           |                                                  |
    0.000  |-- SYN seq=0 len=0 ------------------------------>|
    0.001  |<-------------------- SYN,ACK seq=0 ack=1 len=0 --|
    0.001  |-- ACK seq=1 ack=1 len=0 ------------------------>|
    0.010  |-- PSH,ACK seq=1 ack=1 len=6 -------------------->|
    0.011  |<------------------------ ACK seq=1 ack=7 len=0 --|
    0.300  |  * peer unplugged                                |
           :  (1.7 s)                                         :
    2.011  |-- ACK seq=6 ack=1 len=0 ---------------------x   |  keepalive probe 1/3, lost: the peer is unplugged
           :  (1.0 s)                                         :
    3.011  |-- ACK seq=6 ack=1 len=0 ---------------------x   |  keepalive probe 2/3, lost: the peer is unplugged
           :  (1.0 s)                                         :
    4.011  |-- ACK seq=6 ack=1 len=0 ---------------------x   |  keepalive probe 3/3, lost: the peer is unplugged
           :  (1.0 s)                                         :
    5.011  |  * keepalive gives up                            |
    5.011  |-- RST,ACK seq=7 ack=1 len=0 -----------------x   |  reset, lost: the peer is unplugged
           |                                                  |
          x: never arrived (the peer was unplugged)
)";
  EXPECT_EQ(RenderSequenceDiagram(spec, link.recording), expected);
}

TEST(DemoDiagramTest, SequenceNumbersAreRelativeAcrossTheWrap) {
  // Both ISNs just below 2^32: the relative numbers must count on through the wrap.
  Link link(0xfffffffcu, 0xfffffffeu);
  link.Handshake(0);
  link.Ours(5, kPsh | kAck, 1, 1, 100);
  link.Theirs(6, kPsh | kAck, 1, 101, 50);
  const std::string diagram = RenderSequenceDiagram({}, link.recording);
  EXPECT_THAT(diagram, HasSubstr("|-- PSH,ACK seq=1 ack=1 len=100 --"));
  EXPECT_THAT(diagram, HasSubstr(" PSH,ACK seq=1 ack=101 len=50 --|"));
  const Conversation conversation = ReadConversation(link.recording, false);
  ASSERT_EQ(conversation.segments.size(), 5u);
  EXPECT_EQ(conversation.segments[3].seq, 0xfffffffcu + 1);
  EXPECT_EQ(conversation.segments[4].relative_ack, 101u);
}

TEST(DemoDiagramTest, AnsweredProbesRestartTheCount) {
  Link link(7, 9);
  link.Handshake(0);
  link.Ours(2000, kAck, 0, 1);    // probe 1
  link.Theirs(2001, kAck, 1, 1);  // its answer
  link.Ours(4001, kAck, 0, 1);    // probe 1 again: the peer spoke meanwhile
  link.Ours(5001, kAck, 0, 1);    // probe 2
  link.Theirs(5002, kAck, 1, 1);  // answers probe 2
  const Conversation conversation = ReadConversation(link.recording, false);
  std::vector<std::pair<std::uint16_t, int>> kinds;
  for (std::size_t i = 3; i < conversation.segments.size(); ++i) {
    kinds.emplace_back(conversation.segments[i].marks, conversation.segments[i].probe_number);
  }
  EXPECT_THAT(kinds, ElementsAre(std::pair<std::uint16_t, int>(diagram::kKeepaliveProbe, 1),
                                 std::pair<std::uint16_t, int>(diagram::kKeepaliveAnswer, 1),
                                 std::pair<std::uint16_t, int>(diagram::kKeepaliveProbe, 1),
                                 std::pair<std::uint16_t, int>(diagram::kKeepaliveProbe, 2),
                                 std::pair<std::uint16_t, int>(diagram::kKeepaliveAnswer, 2)));
  const std::string diagram = RenderSequenceDiagram({.keepalive_count = 5}, link.recording);
  EXPECT_THAT(diagram, HasSubstr("|  keepalive probe 2/5\n"));
  EXPECT_THAT(diagram, HasSubstr("|  answer to probe 2/5\n"));
}

TEST(DemoDiagramTest, OneByteProbesAndRstAnswersAreRecognised) {
  Link link(100, 200);
  link.Handshake(0);
  link.Ours(10, kPsh | kAck, 1, 1, 4);
  link.Theirs(11, kAck, 1, 5);
  link.Ours(2000, kAck, 4, 1, 1);  // one garbage byte, already acknowledged
  link.Theirs(2001, kRst, 5, 0);   // a rebooted peer: no such connection
  const Conversation conversation = ReadConversation(link.recording, false);
  ASSERT_EQ(conversation.segments.size(), 7u);
  EXPECT_EQ(conversation.segments[5].marks, std::uint16_t{diagram::kKeepaliveProbe});
  EXPECT_EQ(conversation.segments[6].marks, std::uint16_t{diagram::kKeepaliveAnswer});
  EXPECT_THAT(
      RenderSequenceDiagram({.keepalive_count = 3}, link.recording),
      HasSubstr("<------------------------------ RST seq=5 len=0 --|  answer to probe 1/3"));
}

TEST(DemoDiagramTest, DataAtSndNxtMinusOneIsARetransmissionNotAProbe) {
  Link link(100, 200);
  link.Handshake(0);
  link.Ours(10, kPsh | kAck, 1, 1, 1);   // one byte, not acknowledged yet
  link.Ours(210, kPsh | kAck, 1, 1, 1);  // its retransmission: SEQ = SND.NXT - 1 as well
  link.Theirs(211, kAck, 1, 2);
  link.Ours(220, kFin | kAck, 2, 1);
  const Conversation conversation = ReadConversation(link.recording, false);
  ASSERT_EQ(conversation.segments.size(), 7u);
  EXPECT_EQ(conversation.segments[3].marks, 0u);
  EXPECT_EQ(conversation.segments[4].marks, std::uint16_t{diagram::kRetransmission});
  EXPECT_EQ(conversation.segments[6].marks, 0u);
  EXPECT_THAT(RenderSequenceDiagram({}, link.recording), HasSubstr("|  retransmission\n"));
}

TEST(DemoDiagramTest, OnlyTheFirstConnectionOfOursIsDrawn) {
  Link link(100, 200);
  link.recording.AddStackFrame(milliseconds(0), false,
                               Frame({kPeer, kUs, 22, 33333, kAck, 1, 1, 0}));  // unrelated
  link.Handshake(1);
  const Conversation conversation = ReadConversation(link.recording, false);
  EXPECT_EQ(conversation.segments.size(), 3u);
  EXPECT_EQ(conversation.stack_port, kOurPort);
}

TEST(DemoDiagramTest, NoTcpAtAll) {
  Recording recording;
  recording.AddNote(milliseconds(5), NoteKind::kInfo, "nothing happened");
  const std::string diagram = RenderSequenceDiagram({}, recording);
  EXPECT_THAT(diagram, HasSubstr("  * nothing happened"));
  EXPECT_THAT(diagram, HasSubstr("(no TCP segment was exchanged)"));
}

// Behind a NAT: the server's link sees our segments with the NAT's address and port.
class NatLink {
 public:
  void Ours(int ms, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::size_t payload,
            bool crosses) {
    const Tcp sent{kUs, kServer, kOurPort, kPeerPort, flags, seq, ack, payload};
    recording.AddStackFrame(milliseconds(ms), true, Frame(sent));
    if (crosses) {
      Tcp forwarded = sent;
      forwarded.src = kNatOutside;
      forwarded.src_port = kMappedPort;
      recording.AddServerFrame(milliseconds(ms), false, Frame(forwarded));
    }
  }
  // The server's segment as the loop may record it: on our link first, on the server's later.
  void Theirs(int ms, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::size_t payload,
              bool crosses) {
    const Tcp sent{kServer, kNatOutside, kPeerPort, kMappedPort, flags, seq, ack, payload};
    if (crosses) {
      Tcp forwarded = sent;
      forwarded.dst = kUs;
      forwarded.dst_port = kOurPort;
      recording.AddStackFrame(milliseconds(ms), false, Frame(forwarded));
    }
    recording.AddServerFrame(milliseconds(ms + 1), true, Frame(sent));
  }
  Recording recording;
};

TEST(DemoDiagramTest, NatColumnShowsWhatCrossedAndWhatWasDropped) {
  NatLink link;
  link.Ours(0, kSyn, 10, 0, 0, true);
  link.Theirs(1, kSyn | kAck, 90, 11, 0, true);
  link.Ours(2, kAck, 11, 91, 0, true);
  link.recording.AddNote(milliseconds(3100), NoteKind::kInfo, "conntrack entry expired");
  link.Ours(5000, kPsh | kAck, 11, 91, 5, false);
  link.Theirs(5001, kAck, 91, 11, 0, false);  // the server's own segment, stopped by the NAT
  const DiagramSpec spec{.stack_title = "our stack",
                         .peer_title = "server",
                         .nat_title = "NAT (Linux)",
                         .nat_subtitle = "3 s"};
  const std::vector<std::string> lines = Lines(RenderSequenceDiagram(spec, link.recording));
  ASSERT_EQ(lines.size(), 13u);
  EXPECT_EQ(lines[0],
            "    t (s)  our stack                                    NAT (Linux)      server");
  EXPECT_EQ(
      lines[1],
      "           192.0.2.2:40000                              3 s              198.51.100.2:7003");
  EXPECT_EQ(lines[3], "    0.000  |-- SYN seq=0 len=0 ------------------------>|--------------->|");
  // Recorded on our link before the server's capture was read, yet drawn as one crossing.
  EXPECT_EQ(lines[4], "    0.001  |<-------------- SYN,ACK seq=0 ack=1 len=0 --|<---------------|");
  EXPECT_EQ(lines[5], "    0.002  |-- ACK seq=1 ack=1 len=0 ------------------>|--------------->|");
  EXPECT_EQ(lines[6], "           :  (3.1 s)                                   :                :");
  EXPECT_EQ(lines[7], "    3.100  |  * conntrack entry expired                 |                |");
  EXPECT_EQ(lines[9],
            "    5.000  |-- PSH,ACK seq=1 ack=1 len=5 -------------->X                |  dropped "
            "by the NAT");
  EXPECT_EQ(lines[10],
            "    5.002  |                                            X<---------------|  ACK seq=1 "
            "ack=1 len=0 dropped by the NAT, duplicate ACK");
  EXPECT_EQ(lines.back(), "          X: dropped by the NAT");
}

TEST(DemoDiagramTest, FlagNamesInBitOrder) {
  EXPECT_EQ(FlagNames(kSyn | kAck), "SYN,ACK");
  EXPECT_EQ(FlagNames(kFin | kPsh | kAck), "FIN,PSH,ACK");
  EXPECT_EQ(FlagNames(kRst), "RST");
  EXPECT_EQ(FlagNames(0), "none");
}

}  // namespace
}  // namespace tapstack::tools::demo
