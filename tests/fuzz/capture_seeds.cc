#include "tests/fuzz/capture_seeds.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "stack/tcp/seq.h"
#include "stack/wire/arp.h"
#include "stack/wire/bytes.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmp.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/tcp.h"
#include "tests/fuzz/fuzz_drivers.h"

namespace tapstack::fuzz {
namespace {

using Bytes = std::vector<std::uint8_t>;
using tcp::Seq;
using wire::TcpFlags;

// docs/testbed.md: our stack is 192.0.2.2 in every interop test and in the demo.
constexpr wire::Ipv4Address kStackAddress(192, 0, 2, 2);

// What the fuzz target's connection is asked to send: 4000 bytes queued at the start, 1500 more
// per kAppSend (fuzz_drivers.cc, Session); and its MSS (the fuzz peer's SYN offers 1460).
constexpr std::uint32_t kFuzzInitialQueued = 4000;
constexpr std::uint32_t kFuzzAppSendBytes = 1500;
constexpr std::uint32_t kFuzzMss = 1460;

// ---- Which frames the peer sent towards our stack ----

// The MAC address our stack used in this capture: the source of its first IPv4 or ARP frame.
std::optional<wire::MacAddress> StackMac(std::span<const CapturedFrame> frames) {
  for (const CapturedFrame& frame : frames) {
    const auto ethernet = wire::EthernetView::Parse(frame.bytes);
    if (!ethernet.ok()) continue;
    if (ethernet->ethertype() == wire::EtherType::kIpv4) {
      const auto ip = wire::Ipv4View::Parse(ethernet->payload());
      if (ip.ok() && ip->src() == kStackAddress) return ethernet->src();
    } else if (ethernet->ethertype() == wire::EtherType::kArp) {
      const auto arp = wire::ArpView::Parse(ethernet->payload());
      if (arp.ok() && arp->sender_ip() == kStackAddress) return ethernet->src();
    }
  }
  return std::nullopt;
}

// True for frames from the peer's side addressed to our stack. IPv4 and ARP decide by address
// (raw header bytes, so that malformed datagrams the peer sent still count); anything else by
// MAC: not from our stack, and to it or to a group.
bool SentTowardsStack(std::span<const std::uint8_t> frame,
                      const std::optional<wire::MacAddress>& stack_mac) {
  if (frame.size() < wire::kEthernetHeaderLen) return false;
  const wire::MacAddress dst = wire::MacAddress::FromBytes(&frame[0]);
  const wire::MacAddress src = wire::MacAddress::FromBytes(&frame[6]);
  if (stack_mac && src == *stack_mac) return false;
  const std::span<const std::uint8_t> payload = frame.subspan(wire::kEthernetHeaderLen);
  switch (wire::LoadBe16(&frame[12])) {
    case wire::EtherType::kIpv4:
      // RFC 791 3.1: source at byte 12, destination at byte 16 of the header.
      if (payload.size() < wire::kIpv4MinHeaderLen) return true;
      return wire::Ipv4Address::FromBytes(&payload[16]) == kStackAddress &&
             wire::Ipv4Address::FromBytes(&payload[12]) != kStackAddress;
    case wire::EtherType::kArp:
      // RFC 826: sender IP at byte 14, target IP at byte 24 (Ethernet and IPv4 sizes).
      if (payload.size() < wire::kArpPacketLen) return true;
      return wire::Ipv4Address::FromBytes(&payload[24]) == kStackAddress &&
             wire::Ipv4Address::FromBytes(&payload[14]) != kStackAddress;
    default:
      return dst.IsMulticast() || (stack_mac && dst == *stack_mac);
  }
}

// ---- Shapes ----

std::string SizeClass(std::size_t size) {
  if (size <= 1) return std::to_string(size);
  if (size <= 64) return "small";
  if (size <= 1000) return "medium";
  return "large";
}

// The option kinds in order (RFC 9293 3.1: kinds 0 and 1 are one byte, the others carry a length
// byte); "!" where the list stops making sense.
std::string OptionKinds(std::span<const std::uint8_t> options) {
  std::string kinds;
  std::size_t at = 0;
  while (at < options.size()) {
    const std::uint8_t kind = options[at];
    absl::StrAppend(&kinds, kind, ",");
    if (kind == 0) break;
    if (kind == 1) {
      ++at;
      continue;
    }
    if (at + 1 >= options.size() || options[at + 1] < 2) {
      kinds += "!";
      break;
    }
    at += options[at + 1];
  }
  return kinds;
}

// Why a parser refused a frame, as text for the shape.
std::string Reason(wire::ParseError error) { return std::string(wire::ParseErrorMessage(error)); }

std::string FrameShape(std::span<const std::uint8_t> frame) {
  const auto ethernet = wire::EthernetView::Parse(frame);
  if (!ethernet.ok()) return absl::StrCat("runt ", frame.size());
  if (ethernet->ethertype() == wire::EtherType::kArp) {
    const auto arp = wire::ArpView::Parse(ethernet->payload());
    if (!arp.ok()) return absl::StrCat("arp bad: ", Reason(arp.error()));
    return absl::StrCat("arp op ", static_cast<int>(arp->op()), " len ",
                        SizeClass(ethernet->payload().size()));
  }
  if (ethernet->ethertype() != wire::EtherType::kIpv4) {
    return absl::StrFormat("ethertype %04x%s", ethernet->ethertype(),
                           ethernet->dst().IsMulticast() ? " group" : "");
  }
  const auto ip = wire::Ipv4View::Parse(ethernet->payload());
  if (!ip.ok()) return absl::StrCat("ipv4 bad: ", Reason(ip.error()));
  std::string shape =
      absl::StrCat("ipv4 hl ", ip->header_len(), " proto ", ip->protocol(), " frag ",
                   ip->is_fragment(), " csum ", ip->header_checksum_valid(), " pad ",
                   ethernet->payload().size() > ip->total_length());
  if (ip->is_fragment()) return shape;
  if (ip->protocol() == wire::IpProtocol::kTcp) {
    const auto tcp = wire::TcpView::Parse(ip->payload());
    if (!tcp.ok()) return absl::StrCat(shape, " tcp bad: ", Reason(tcp.error()));
    absl::StrAppendFormat(&shape, " tcp flags %02x options %s data %s csum %d", tcp->flags(),
                          OptionKinds(tcp->options_bytes()), SizeClass(tcp->payload().size()),
                          tcp->checksum_valid(ip->src(), ip->dst()));
  } else if (ip->protocol() == wire::IpProtocol::kIcmp) {
    const auto icmp = wire::IcmpView::Parse(ip->payload());
    if (!icmp.ok()) return absl::StrCat(shape, " icmp bad: ", Reason(icmp.error()));
    absl::StrAppend(&shape, " icmp ", static_cast<int>(icmp->type()), "/", icmp->code(), " data ",
                    SizeClass(icmp->payload().size()), " csum ", icmp->checksum_valid());
  }
  return shape;
}

// ---- TCP segments and connections ----

// The views of a frame that carries a TCP segment in an unfragmented IPv4 datagram; they point
// into the captured frame.
struct TcpInFrame {
  wire::Ipv4View ip;
  wire::TcpView tcp;
};

std::optional<TcpInFrame> ParseTcpInFrame(std::span<const std::uint8_t> frame) {
  const auto ethernet = wire::EthernetView::Parse(frame);
  if (!ethernet.ok() || ethernet->ethertype() != wire::EtherType::kIpv4) return std::nullopt;
  const auto ip = wire::Ipv4View::Parse(ethernet->payload());
  if (!ip.ok() || ip->is_fragment() || ip->protocol() != wire::IpProtocol::kTcp) {
    return std::nullopt;
  }
  const auto tcp = wire::TcpView::Parse(ip->payload());
  if (!tcp.ok()) return std::nullopt;
  return TcpInFrame{*ip, *tcp};
}

bool Has(std::uint8_t flags, std::uint8_t bit) { return (flags & bit) != 0; }

// RFC 9293 3.4 SEG.LEN: the data, and one each for SYN and FIN.
std::uint32_t SequenceLength(const wire::TcpView& tcp) {
  return static_cast<std::uint32_t>(tcp.payload().size()) +
         (Has(tcp.flags(), TcpFlags::kSyn) ? 1 : 0) + (Has(tcp.flags(), TcpFlags::kFin) ? 1 : 0);
}

// The peer's address and port and our port.
using ConnectionKey = std::tuple<std::uint32_t, std::uint16_t, std::uint16_t>;

// One peer segment of a connection, numbered for the fuzz target.
struct PeerSegment {
  std::chrono::microseconds time{0};
  Bytes frame;                 // up to the end of the IP datagram (no link padding)
  std::size_t tcp_offset = 0;  // of the TCP header in `frame`
  std::uint8_t flags = 0;
  std::uint16_t src_port = 0;
  bool carries_data = false;
  bool to_listener = false;
  std::uint32_t relative_seq = 0;  // SEQ - RCV.NXT of our captured stack
  std::int32_t newly_acked = 0;    // ACK - SND.UNA of our captured stack (<= 0: nothing new)
  bool acks_stack_fin = false;
  bool stack_shut_before = false;  // our stack's FIN went out since the previous peer segment
};

// What our captured stack's receive and send sequence variables were, worked out from the
// segments both sides sent (RFC 9293 3.3.1).
class Connection {
 public:
  void OnStackSegment(const wire::TcpView& tcp) {
    // Our SYN counts as acknowledged: the fuzz target's connection is already established.
    if (Has(tcp.flags(), TcpFlags::kSyn) && !snd_una_) snd_una_ = Seq(tcp.seq()) + 1;
    if (Has(tcp.flags(), TcpFlags::kFin) && !stack_fin_end_) {
      stack_fin_end_ = Seq(tcp.seq()) + SequenceLength(tcp);
      stack_shut_pending_ = true;
    }
  }

  PeerSegment OnPeerSegment(const TcpInFrame& segment, const CapturedFrame& captured) {
    const wire::TcpView& tcp = segment.tcp;
    PeerSegment peer;
    peer.time = captured.time;
    peer.tcp_offset = wire::kEthernetHeaderLen + segment.ip.header_len();
    peer.frame.assign(captured.bytes.begin(),
                      captured.bytes.begin() +
                          static_cast<long>(wire::kEthernetHeaderLen + segment.ip.total_length()));
    peer.flags = tcp.flags();
    peer.src_port = tcp.src_port();
    peer.carries_data = !tcp.payload().empty();
    peer.stack_shut_before = stack_shut_pending_;
    stack_shut_pending_ = false;
    const Seq seq(tcp.seq());
    const bool syn = Has(tcp.flags(), TcpFlags::kSyn);
    if (syn && !Has(tcp.flags(), TcpFlags::kAck)) {
      // A new connection (or its retransmitted SYN): numbering starts again after it.
      peer.to_listener = true;
      rcv_nxt_ = seq + 1;
      out_of_order_.clear();
      return peer;
    }
    if (!rcv_nxt_) rcv_nxt_ = seq + (syn ? 1 : 0);
    peer.relative_seq = seq - *rcv_nxt_;
    // RFC 9293 3.10.7.4: a RST carries no data to accept.
    if (!Has(tcp.flags(), TcpFlags::kRst)) Accept(seq, SequenceLength(tcp));
    if (Has(tcp.flags(), TcpFlags::kAck)) {
      const Seq ack(tcp.ack());
      if (!snd_una_) snd_una_ = ack;
      peer.newly_acked = static_cast<std::int32_t>(ack - *snd_una_);
      peer.acks_stack_fin = stack_fin_end_ && ack == *stack_fin_end_ && peer.newly_acked > 0;
      if (ack > *snd_una_) snd_una_ = ack;
    }
    return peer;
  }

 private:
  // RCV.NXT moves over in-order data and over whatever earlier out-of-order data it now reaches.
  void Accept(Seq seq, std::uint32_t length) {
    if (length == 0) return;
    const Seq end = seq + length;
    if (end <= *rcv_nxt_) return;  // a duplicate
    if (seq > *rcv_nxt_) {
      out_of_order_.emplace_back(seq, end);
      return;
    }
    rcv_nxt_ = end;
    bool moved = true;
    while (moved) {
      moved = false;
      for (auto it = out_of_order_.begin(); it != out_of_order_.end(); ++it) {
        if (it->first <= *rcv_nxt_) {
          rcv_nxt_ = tcp::Max(*rcv_nxt_, it->second);
          out_of_order_.erase(it);
          moved = true;
          break;
        }
      }
    }
  }

  std::optional<Seq> rcv_nxt_;
  std::vector<std::pair<Seq, Seq>> out_of_order_;
  std::optional<Seq> snd_una_;
  std::optional<Seq> stack_fin_end_;
  bool stack_shut_pending_ = false;
};

// The record format's clock advance nearest to `gap` (fuzz_drivers.h): milliseconds up to 199,
// then whole seconds from 1 to 56.
std::uint8_t EncodeAdvance(std::chrono::microseconds gap) {
  using std::chrono::milliseconds;
  if (gap < milliseconds(200)) {
    return static_cast<std::uint8_t>(std::max<long long>(0, gap / milliseconds(1)));
  }
  if (gap < milliseconds(600)) return 199;  // nearer to 199 ms than to 1 s
  const long long seconds = (gap + milliseconds(500)) / std::chrono::seconds(1);
  return static_cast<std::uint8_t>(199 + std::clamp<long long>(seconds, 1, 56));
}

struct Record {
  std::chrono::microseconds time{0};  // when the frame was captured
  std::uint8_t control = 0;
  Bytes frame;
  std::string kind;  // with the control bits, what makes two conversations different
};

// Keeps the first kHeadRecords and last kTailRecords items; `merge(dropped, next_kept)` carries
// over what a dropped item must not lose.
template <typename T, typename Merge>
std::vector<T> HeadAndTail(std::vector<T> items, Merge merge) {
  if (items.size() <= kHeadRecords + kTailRecords) return items;
  const std::size_t tail_start = items.size() - kTailRecords;
  for (std::size_t i = kHeadRecords; i < tail_start; ++i) merge(items[i], items[i + 1]);
  items.erase(items.begin() + static_cast<long>(kHeadRecords),
              items.begin() + static_cast<long>(tail_start));
  return items;
}

// The records as one fuzz input, each advancing the clock by its time since the record before.
Bytes Serialize(const std::vector<Record>& records, std::string* shape) {
  Bytes input;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Record& record = records[i];
    const std::uint8_t advance = i == 0 ? 0 : EncodeAdvance(record.time - records[i - 1].time);
    AppendRecord(input, advance, record.control, record.frame);
    // Idle seconds (keepalive, timeouts) make conversations differ; millisecond jitter does not.
    const std::string idle = advance >= 200 ? absl::StrCat(" after ", advance - 199, " s") : "";
    absl::StrAppendFormat(shape, "%02x %s%s;", record.control, record.kind, idle);
  }
  return input;
}

// What the fuzz target's connection has sent of what its application queued, as its sender
// decides (stack/tcp/output.cc): full segments at once, a short one only when nothing is in
// flight (Nagle, RFC 1122 4.2.3.4), the FIN once every byte before it went (RFC 9293 3.10.4). The
// windows are taken as open: the fuzz peer's window scale is 7 and its ACKs come in order.
class FuzzSender {
 public:
  std::uint32_t queued_but_unacked() const { return queued_ - acked_; }

  void Queue(std::uint32_t bytes) {
    queued_ += bytes;
    Pump();
  }
  void Shutdown() {
    shut_ = true;
    Pump();
  }
  // The ACK (relative to SND.UNA) for a peer that acknowledges `wanted` new bytes, or our FIN
  // too: never beyond what was sent.
  std::uint32_t Acknowledge(std::uint32_t wanted, bool fin) {
    std::uint32_t ack = std::min(wanted, sent_ - acked_);
    if (fin && fin_sent_ && !fin_acked_) {
      ack = sent_ - acked_ + 1;
      fin_acked_ = true;
    }
    acked_ = std::min(sent_, acked_ + ack);
    Pump();
    return ack;
  }

 private:
  void Pump() {
    while (queued_ - sent_ >= kFuzzMss) sent_ += kFuzzMss;
    if (sent_ < queued_ && sent_ == acked_) sent_ = queued_;
    fin_sent_ = shut_ && sent_ == queued_;
  }

  std::uint32_t queued_ = 0, sent_ = 0, acked_ = 0;
  bool shut_ = false, fin_sent_ = false, fin_acked_ = false;
};

// The records that replay one connection's peer segments against the fuzz target (see the
// header for the rules).
std::vector<Record> ConnectionRecords(std::vector<PeerSegment> segments) {
  segments = HeadAndTail(std::move(segments), [](const PeerSegment& dropped, PeerSegment& next) {
    next.stack_shut_before = next.stack_shut_before || dropped.stack_shut_before;
  });
  std::vector<Record> records;
  FuzzSender sender;
  sender.Queue(kFuzzInitialQueued);
  bool shut = false;
  for (PeerSegment& peer : segments) {
    Record record;
    record.time = peer.time;
    if (peer.stack_shut_before) {
      // The application shuts down after the record before, as ours did between the two.
      (records.empty() ? record.control : records.back().control) |= kAppShutdown;
      sender.Shutdown();
      shut = true;
    }
    if (peer.to_listener) {
      record.control |= kAddressToConnection | kToListener;
      // The listener must see a new connection, not the established one's port.
      if (peer.src_port == kPeerPort) {
        wire::StoreBe16(&peer.frame[peer.tcp_offset], kPeerPort + 1);
      }
    } else {
      record.control |= kAddressToConnection | kRelativeNumbers;
      if (peer.carries_data || Has(peer.flags, TcpFlags::kFin)) {
        record.control |= kAppReceive;
      }
      std::uint32_t ack = 0;
      if (Has(peer.flags, TcpFlags::kAck)) {
        if (peer.newly_acked > 0) {
          const std::uint32_t wanted = static_cast<std::uint32_t>(peer.newly_acked);
          if (wanted > sender.queued_but_unacked() && !shut && !records.empty() &&
              (records.back().control & kAppSend) == 0) {
            records.back().control |= kAppSend;
            sender.Queue(kFuzzAppSendBytes);
          }
          ack = sender.Acknowledge(wanted, peer.acks_stack_fin);
        } else {
          ack = static_cast<std::uint32_t>(peer.newly_acked);  // as old as it was
        }
      }
      wire::StoreBe32(&peer.frame[peer.tcp_offset + 4], peer.relative_seq);
      wire::StoreBe32(&peer.frame[peer.tcp_offset + 8], ack);
    }
    record.kind = absl::StrFormat("%02x%s", peer.flags, peer.carries_data ? " data" : "");
    record.frame = std::move(peer.frame);
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace

absl::StatusOr<std::vector<CapturedFrame>> ReadPcap(const std::string& path) {
  // The classic pcap format (what tap::PcapWriter, tcpdump and tshark -F pcap write): a 24-byte
  // file header whose magic number gives the byte order and the timestamp unit, then records of a
  // 16-byte header (seconds, sub-seconds, captured length, wire length) and the captured bytes.
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  const std::vector<std::uint8_t> file((std::istreambuf_iterator<char>(in)),
                                       std::istreambuf_iterator<char>());
  constexpr std::size_t kFileHeader = 24, kRecordHeader = 16;
  if (file.size() < kFileHeader)
    return absl::InvalidArgumentError(absl::StrCat(path, ": too short"));
  const std::uint32_t magic = wire::LoadBe32(&file[0]);
  bool swapped = false, nanoseconds = false;
  switch (magic) {
    case 0xa1b2c3d4:
      break;
    case 0xd4c3b2a1:
      swapped = true;
      break;
    case 0xa1b23c4d:
      nanoseconds = true;
      break;
    case 0x4d3cb2a1:
      swapped = nanoseconds = true;
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(path, ": not a pcap file"));
  }
  const auto field = [&](std::size_t offset) {
    const std::uint32_t value = wire::LoadBe32(&file[offset]);
    return swapped ? __builtin_bswap32(value) : value;
  };
  constexpr std::uint32_t kLinktypeEthernet = 1;
  if (field(20) != kLinktypeEthernet) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not an Ethernet capture"));
  }
  std::vector<CapturedFrame> frames;
  std::size_t position = kFileHeader;
  // A truncated last record (a capture cut off mid-write) ends the list.
  while (file.size() - position >= kRecordHeader) {
    const std::uint32_t seconds = field(position), fraction = field(position + 4);
    const std::uint32_t captured = field(position + 8), on_wire = field(position + 12);
    position += kRecordHeader;
    if (captured > file.size() - position) break;
    if (captured >= on_wire) {
      CapturedFrame frame;
      frame.time =
          std::chrono::seconds(seconds) + (nanoseconds ? std::chrono::microseconds(fraction / 1000)
                                                       : std::chrono::microseconds(fraction));
      frame.bytes.assign(file.begin() + static_cast<std::ptrdiff_t>(position),
                         file.begin() + static_cast<std::ptrdiff_t>(position + captured));
      frames.push_back(std::move(frame));
    }
    position += captured;
  }
  return frames;
}

std::vector<CaptureSeed> WireSeedsFromCapture(std::span<const CapturedFrame> frames,
                                              const std::string& label) {
  const std::optional<wire::MacAddress> stack_mac = StackMac(frames);
  std::vector<CaptureSeed> seeds;
  std::set<std::string> seen_shapes;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (!SentTowardsStack(frames[i].bytes, stack_mac)) continue;
    std::string shape = FrameShape(frames[i].bytes);
    if (!seen_shapes.insert(shape).second) continue;
    seeds.push_back({absl::StrCat(label, "-frame", i), std::move(shape), frames[i].bytes});
  }
  return seeds;
}

std::vector<CaptureSeed> StackSeedsFromCapture(std::span<const CapturedFrame> frames,
                                               const std::string& label) {
  const std::optional<wire::MacAddress> stack_mac = StackMac(frames);
  std::map<ConnectionKey, Connection> connections;
  std::map<ConnectionKey, std::vector<PeerSegment>> peer_segments;
  std::vector<ConnectionKey> order;  // by first appearance
  std::vector<Record> others;
  for (const CapturedFrame& captured : frames) {
    const std::optional<TcpInFrame> segment = ParseTcpInFrame(captured.bytes);
    const bool from_peer = SentTowardsStack(captured.bytes, stack_mac);
    if (segment && (from_peer || segment->ip.src() == kStackAddress)) {
      const wire::Ipv4View& ip = segment->ip;
      const wire::TcpView& tcp = segment->tcp;
      const ConnectionKey key =
          from_peer ? ConnectionKey{ip.src().value(), tcp.src_port(), tcp.dst_port()}
                    : ConnectionKey{ip.dst().value(), tcp.dst_port(), tcp.src_port()};
      if (!connections.contains(key)) order.push_back(key);
      Connection& connection = connections[key];
      if (from_peer) {
        peer_segments[key].push_back(connection.OnPeerSegment(*segment, captured));
      } else {
        connection.OnStackSegment(segment->tcp);
      }
      continue;
    }
    if (!from_peer) continue;
    // Not TCP, or TCP that does not parse: delivered as captured (control 0: no rewriting).
    others.push_back({captured.time, 0, captured.bytes, FrameShape(captured.bytes)});
  }

  std::vector<CaptureSeed> seeds;
  for (std::size_t i = 0; i < order.size(); ++i) {
    auto it = peer_segments.find(order[i]);
    if (it == peer_segments.end()) continue;  // the peer never sent anything
    CaptureSeed seed{absl::StrCat(label, "-conn", i), "conn ", {}};
    seed.bytes = Serialize(ConnectionRecords(std::move(it->second)), &seed.shape);
    seeds.push_back(std::move(seed));
  }
  if (!others.empty()) {
    CaptureSeed seed{absl::StrCat(label, "-other"), "other ", {}};
    seed.bytes =
        Serialize(HeadAndTail(std::move(others), [](const Record&, Record&) {}), &seed.shape);
    seeds.push_back(std::move(seed));
  }
  return seeds;
}

}  // namespace tapstack::fuzz
