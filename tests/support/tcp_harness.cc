#include "tests/support/tcp_harness.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "stack/wire/arp.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/tcp_segmentation.h"

namespace tapstack::testing {

const wire::Ipv4Address TcpHarness::kOurAddress = *wire::Ipv4Address::Parse("192.0.2.2");
const wire::Ipv4Address TcpHarness::kPeerAddress = *wire::Ipv4Address::Parse("192.0.2.1");
const wire::MacAddress TcpHarness::kOurMac = *wire::MacAddress::Parse("02:00:00:00:00:02");
const wire::MacAddress TcpHarness::kPeerMac = *wire::MacAddress::Parse("02:00:00:00:00:01");

std::string Segment::Describe() const {
  std::string flag_text;
  for (const auto& [flag, letter] : {std::pair{wire::TcpFlags::kSyn, 'S'},
                                     {wire::TcpFlags::kAck, 'A'},
                                     {wire::TcpFlags::kFin, 'F'},
                                     {wire::TcpFlags::kRst, 'R'},
                                     {wire::TcpFlags::kPsh, 'P'}}) {
    if (Has(flag)) flag_text += letter;
  }
  std::string text = absl::StrCat("[", flag_text, "] seq=", seq, " ack=", ack, " win=", window,
                                  " len=", payload.size());
  for (const wire::TcpOptions::SackBlock& block : options.sacks()) {
    absl::StrAppend(&text, " sack=[", block.left, ",", block.right, ")");
  }
  return text;
}

std::optional<Segment> DecodeTcp(std::span<const std::uint8_t> frame) {
  const auto ethernet = wire::EthernetView::Parse(frame);
  if (!ethernet.ok() || ethernet->ethertype() != wire::EtherType::kIpv4) return std::nullopt;
  const auto ip = wire::Ipv4View::Parse(ethernet->payload());
  if (!ip.ok() || ip->protocol() != wire::IpProtocol::kTcp) return std::nullopt;
  const auto tcp = wire::TcpView::Parse(ip->payload());
  EXPECT_TRUE(tcp.ok()) << "our stack emitted a malformed TCP segment";
  if (!tcp.ok()) return std::nullopt;
  EXPECT_TRUE(tcp->checksum_valid(ip->src(), ip->dst())) << "bad TCP checksum from our stack";
  const auto options = wire::ParseTcpOptions(tcp->options_bytes());
  EXPECT_TRUE(options.ok());
  Segment segment;
  segment.flags = tcp->flags();
  segment.seq = tcp->seq();
  segment.ack = tcp->ack();
  segment.window = tcp->window();
  if (options.ok()) segment.options = *options;
  segment.payload.assign(tcp->payload().begin(), tcp->payload().end());
  segment.src_port = tcp->src_port();
  segment.dst_port = tcp->dst_port();
  return segment;
}

StackConfig TcpHarness::MakeConfig(const HarnessOptions& options) {
  StackConfig config;
  config.interface.mac = kOurMac;
  config.interface.address = kOurAddress;
  config.interface.prefix_len = 24;
  config.tcp = options.tcp;
  config.random_seed = 7;
  config.tx_offload = options.tx_offload;
  return config;
}

TcpHarness::TcpHarness(HarnessOptions options)
    : options_(std::move(options)),
      now_(timers::TimePoint{} + std::chrono::hours(24)),
      stack_(MakeConfig(options_), now_,
             [this](std::span<const std::uint8_t> frame, const TxOffload& offload) {
               // A partial checksum is completed as the device would, so that DecodeTcp checks
               // it; a super-segment stays whole, and Segment::offload says how it would be cut.
               Bytes bytes(frame.begin(), frame.end());
               if (offload.tcp_checksum_partial) {
                 std::vector<std::uint8_t> scratch;
                 const auto refused =
                     wire::FinishTxOffload(frame, TxOffload{.tcp_checksum_partial = true}, scratch,
                                           [&](std::span<const std::uint8_t> done) {
                                             bytes.assign(done.begin(), done.end());
                                           });
                 EXPECT_FALSE(refused.has_value()) << "an offloaded frame the device would refuse";
               }
               sent_.push_back(SentFrame{std::move(bytes), offload});
             }) {
  stack_.set_tcp_event_handler([this](const tcp::Event& e) { events_.push_back(e); });
  stack_.set_tcp_trace_handler([this](const tcp::Trace& t) { traces_.push_back(t); });
  // Teach the stack the peer's MAC (the peer ARPs for us first), and drop the ARP reply.
  Bytes arp(wire::kArpPacketLen);
  wire::WriteArp(
      wire::ArpRepr{wire::ArpOp::kRequest, kPeerMac, kPeerAddress, wire::MacAddress(), kOurAddress},
      arp);
  Bytes frame(wire::kEthernetHeaderLen + arp.size());
  wire::WriteEthernet(
      wire::EthernetRepr{wire::MacAddress::Broadcast(), kPeerMac, wire::EtherType::kArp}, frame);
  std::copy(arp.begin(), arp.end(), frame.begin() + wire::kEthernetHeaderLen);
  stack_.Ingest(frame, now_);
  sent_.clear();
}

void TcpHarness::AdvanceBy(tcp::Duration duration) { AdvanceTo(now_ + duration); }

void TcpHarness::AdvanceTo(timers::TimePoint time) {
  // Step from deadline to deadline so the peer can answer ARP in time, as a live host would.
  while (true) {
    const std::optional<timers::TimePoint> next = stack_.NextDeadline();
    if (!next || *next > time) break;
    now_ = std::max(now_, *next);
    stack_.Advance(now_);
    AnswerArp();
  }
  now_ = std::max(now_, time);
  stack_.Advance(now_);
  AnswerArp();
}

void TcpHarness::AnswerArp() {
  std::vector<Bytes> requests;
  std::erase_if(sent_, [&](const SentFrame& sent) {
    const Bytes& frame = sent.bytes;
    const auto ethernet = wire::EthernetView::Parse(frame);
    if (!ethernet.ok() || ethernet->ethertype() != wire::EtherType::kArp) return false;
    const auto arp = wire::ArpView::Parse(ethernet->payload());
    if (arp.ok() && arp->op() == wire::ArpOp::kRequest && arp->target_ip() == kPeerAddress) {
      requests.push_back(frame);
    }
    return true;
  });
  for (std::size_t i = 0; i < requests.size(); ++i) {
    Bytes reply(wire::kArpPacketLen);
    wire::WriteArp(wire::ArpRepr{wire::ArpOp::kReply, kPeerMac, kPeerAddress, kOurMac, kOurAddress},
                   reply);
    Bytes frame(wire::kEthernetHeaderLen + reply.size());
    wire::WriteEthernet(wire::EthernetRepr{kOurMac, kPeerMac, wire::EtherType::kArp}, frame);
    std::copy(reply.begin(), reply.end(), frame.begin() + wire::kEthernetHeaderLen);
    stack_.Ingest(frame, now_);
  }
}

std::vector<Segment> TcpHarness::Take() {
  std::vector<Segment> segments;
  for (const SentFrame& sent : sent_) {
    if (std::optional<Segment> segment = DecodeTcp(sent.bytes)) {
      segment->offload = sent.offload;
      segments.push_back(*segment);
    }
  }
  sent_.clear();
  return segments;
}

Segment TcpHarness::TakeOne() {
  std::vector<Segment> segments = Take();
  if (segments.size() != 1) {
    std::string listing;
    for (const Segment& s : segments) absl::StrAppend(&listing, "\n  ", s.Describe());
    ADD_FAILURE() << "expected exactly one segment, got " << segments.size() << listing;
  }
  return segments.empty() ? Segment{} : segments.front();
}

void TcpHarness::Inject(std::uint16_t our_port, std::uint8_t flags, std::uint32_t seq,
                        std::uint32_t ack, std::uint16_t window,
                        std::span<const std::uint8_t> payload, const wire::TcpOptions& options) {
  wire::TcpRepr tcp;
  tcp.src_port = options_.peer_port;
  tcp.dst_port = our_port;
  tcp.seq = seq;
  tcp.ack = ack;
  tcp.flags = flags;
  tcp.window = window;
  tcp.options = options;
  tcp.payload = payload;
  stack_.Ingest(TcpFrame(kPeerMac, kPeerAddress, kOurMac, kOurAddress, tcp), now_);
}

std::string TcpHarness::ReadAll(tcp::ConnectionId id) {
  std::string text;
  std::uint8_t buffer[4096];
  while (true) {
    const tcp::IoResult read = stack_.Receive(id, buffer, now_);
    if (!read.ok() || read.bytes == 0) break;
    text.append(buffer, buffer + read.bytes);
  }
  return text;
}

Bytes TcpFrame(const wire::MacAddress& src_mac, wire::Ipv4Address src,
               const wire::MacAddress& dst_mac, wire::Ipv4Address dst,
               const wire::TcpRepr& segment) {
  Bytes tcp(wire::TcpHeaderLen(segment.options) + segment.payload.size());
  tcp.resize(wire::WriteTcp(segment, src, dst, tcp));
  wire::Ipv4Repr ip;
  ip.src = src;
  ip.dst = dst;
  ip.protocol = wire::IpProtocol::kTcp;
  ip.payload_len = static_cast<std::uint16_t>(tcp.size());
  Bytes frame(wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen + tcp.size());
  wire::WriteEthernet(wire::EthernetRepr{dst_mac, src_mac, wire::EtherType::kIpv4}, frame);
  wire::WriteIpv4Header(ip, std::span(frame).subspan(wire::kEthernetHeaderLen));
  std::copy(tcp.begin(), tcp.end(),
            frame.begin() + wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen);
  return frame;
}

tcp::ConnectionId TcpHarness::EstablishPassive(std::uint16_t our_port, std::uint32_t peer_iss,
                                               std::uint16_t peer_window) {
  our_port_ = our_port;
  peer_iss_ = peer_iss;
  EXPECT_FALSE(stack_.Listen(our_port, 16, now_));
  wire::TcpOptions syn_options;
  syn_options.mss = 1460;
  syn_options.sack_permitted = options_.peer_offers_sack;
  Inject(our_port, wire::TcpFlags::kSyn, peer_iss, 0, peer_window, {}, syn_options);
  const Segment syn_ack = Take().at(0);
  EXPECT_TRUE(syn_ack.Only(wire::TcpFlags::kSyn | wire::TcpFlags::kAck)) << syn_ack.Describe();
  EXPECT_EQ(syn_ack.ack, peer_iss + 1);
  our_iss_ = syn_ack.seq;
  Inject(our_port, wire::TcpFlags::kAck, peer_iss + 1, our_iss_ + 1, peer_window);
  EXPECT_TRUE(Take().empty());
  const std::optional<tcp::ConnectionId> id = stack_.Accept(our_port);
  EXPECT_TRUE(id.has_value());
  return id.value_or(tcp::ConnectionId{});
}

tcp::ConnectionId TcpHarness::EstablishActive(std::uint16_t peer_port, std::uint32_t peer_iss,
                                              std::uint16_t peer_window) {
  options_.peer_port = peer_port;
  peer_iss_ = peer_iss;
  const tcp::Result<tcp::ConnectionId> id = stack_.Connect(kPeerAddress, peer_port, now_);
  EXPECT_TRUE(id.ok());
  const Segment syn = Take().at(0);
  EXPECT_TRUE(syn.Only(wire::TcpFlags::kSyn)) << syn.Describe();
  our_iss_ = syn.seq;
  our_port_ = syn.src_port;
  wire::TcpOptions options;
  options.mss = 1460;
  options.sack_permitted = options_.peer_offers_sack;
  Inject(our_port_, wire::TcpFlags::kSyn | wire::TcpFlags::kAck, peer_iss, our_iss_ + 1,
         peer_window, {}, options);
  const Segment ack = Take().at(0);
  EXPECT_TRUE(ack.Only(wire::TcpFlags::kAck)) << ack.Describe();
  EXPECT_EQ(ack.ack, peer_iss + 1);
  return id.ok() ? *id : tcp::ConnectionId{};
}

}  // namespace tapstack::testing
