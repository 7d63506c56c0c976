// Every parser against truncated and random input. Each buffer is a heap allocation of exactly its
// length, so under AddressSanitizer a read one byte past the end fails the test: a Parse that
// succeeds must leave views whose accessors stay inside the bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "stack/wire/arp.h"
#include "stack/wire/checksum.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmp.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/neighbor_discovery.h"
#include "stack/wire/tcp.h"
#include "stack/wire/tcp_options.h"
#include "tests/wire/random_wire.h"

namespace tapstack::wire {
namespace {

// The reason a parser gave: ParseError::kNone when it accepted the bytes.
template <typename T>
ParseError ReasonOf(const Parsed<T>& parsed) {
  return parsed.error();
}

using testing::RandomBool;
using testing::RandomBytes;
using testing::RandomInt;
using testing::RandomTcpOptions;
using testing::Rng;

using Bytes = std::vector<std::uint8_t>;

// Folds every byte a span covers into a value the optimiser cannot drop.
std::uint64_t Touch(std::span<const std::uint8_t> bytes) {
  std::uint64_t sum = 0;
  for (std::uint8_t byte : bytes) sum = sum * 31 + byte;
  return sum;
}

std::uint64_t TouchTcpOptions(std::span<const std::uint8_t> bytes) {
  const Parsed<TcpOptions> options = ParseTcpOptions(bytes);
  if (!options.ok()) return 1;
  EXPECT_LE(options->sack_block_count, TcpOptions::kMaxSackBlocks);
  std::uint64_t sum = options->mss.value_or(0) + options->window_scale.value_or(0);
  for (const TcpOptions::SackBlock& block : options->sacks()) sum += block.left ^ block.right;
  if (options->timestamps) sum += options->timestamps->value ^ options->timestamps->echo_reply;
  return sum;
}

std::uint64_t TouchTcp(std::span<const std::uint8_t> bytes, Ipv4Address src, Ipv4Address dst) {
  const Parsed<TcpView> view = TcpView::Parse(bytes);
  if (!view.ok()) return 1;
  EXPECT_GE(view->header_len(), kTcpMinHeaderLen);
  EXPECT_EQ(view->header_len(), kTcpMinHeaderLen + view->options_bytes().size());
  EXPECT_EQ(view->header_len() + view->payload().size(), bytes.size());
  std::uint64_t sum = view->src_port() + view->dst_port() + view->seq() + view->ack() +
                      view->data_offset() + view->flags() + view->window() + view->checksum() +
                      view->urgent_pointer() + view->checksum_valid(src, dst);
  sum += Touch(view->options_bytes()) + Touch(view->payload()) + Touch(view->bytes());
  sum += TouchTcpOptions(view->options_bytes());
  const Parsed<TcpRepr> repr = view->Repr();
  if (repr.ok()) sum += Touch(repr->payload);
  return sum;
}

std::uint64_t TouchIcmp(std::span<const std::uint8_t> bytes) {
  const Parsed<IcmpView> view = IcmpView::Parse(bytes);
  if (!view.ok()) return 1;
  EXPECT_EQ(kIcmpHeaderLen + view->payload().size(), bytes.size());
  return static_cast<std::uint64_t>(view->type()) + view->code() + view->checksum() +
         view->checksum_valid() + view->echo_identifier() + view->echo_sequence() +
         view->next_hop_mtu() + Touch(view->payload()) + Touch(view->bytes());
}

std::uint64_t TouchIpv4(std::span<const std::uint8_t> bytes) {
  const Parsed<Ipv4View> view = Ipv4View::Parse(bytes);
  if (!view.ok()) return 1;
  EXPECT_EQ(view->version(), 4);
  EXPECT_GE(view->header_len(), kIpv4MinHeaderLen);
  EXPECT_LE(view->header_len(), kIpv4MaxHeaderLen);
  EXPECT_EQ(view->header_len() + view->payload().size(), view->total_length());
  EXPECT_LE(view->total_length(), bytes.size());
  std::uint64_t sum = view->dscp_ecn() + view->total_length() + view->identification() +
                      view->dont_fragment() + view->more_fragments() + view->fragment_offset() +
                      view->is_fragment() + view->ttl() + view->protocol() +
                      view->header_checksum() + view->src().value() + view->dst().value() +
                      view->header_checksum_valid();
  sum += Touch(view->options()) + Touch(view->header()) + Touch(view->payload()) +
         Touch(view->bytes()) + Touch(IcmpErrorQuote(*view)) + view->Repr().payload_len;
  if (view->protocol() == IpProtocol::kTcp)
    sum += TouchTcp(view->payload(), view->src(), view->dst());
  if (view->protocol() == IpProtocol::kIcmp) sum += TouchIcmp(view->payload());
  return sum;
}

std::uint64_t TouchNdOptions(const NdLinkLayerOptions& options) {
  return (options.source_link_layer_address ? options.source_link_layer_address->octets()[5] : 0) +
         (options.target_link_layer_address ? options.target_link_layer_address->octets()[5] : 0);
}

std::uint64_t TouchIcmpv6(std::span<const std::uint8_t> bytes, const Ipv6Address& src,
                          const Ipv6Address& dst) {
  const Parsed<Icmpv6View> view = Icmpv6View::Parse(bytes);
  if (!view.ok()) return 1;
  EXPECT_EQ(kIcmpv6HeaderLen + view->payload().size(), bytes.size());
  std::uint64_t sum = static_cast<std::uint64_t>(view->type()) + view->code() + view->checksum() +
                      view->checksum_valid(src, dst) + view->echo_identifier() +
                      view->echo_sequence() + Touch(view->payload()) + Touch(view->bytes());
  const Parsed<NeighborSolicitationView> solicitation = NeighborSolicitationView::Parse(bytes);
  if (solicitation.ok()) {
    sum += solicitation->target().octets()[15] + TouchNdOptions(solicitation->options()) +
           Touch(solicitation->bytes()) + solicitation->Repr().target.octets()[0];
  }
  const Parsed<NeighborAdvertisementView> advertisement = NeighborAdvertisementView::Parse(bytes);
  if (advertisement.ok()) {
    sum += advertisement->router() + advertisement->solicited() + advertisement->override_flag() +
           advertisement->target().octets()[15] + TouchNdOptions(advertisement->options()) +
           advertisement->Repr().target.octets()[0];
  }
  return sum;
}

std::uint64_t TouchIpv6(std::span<const std::uint8_t> bytes) {
  const Parsed<Ipv6View> view = Ipv6View::Parse(bytes);
  if (!view.ok()) return 1;
  EXPECT_EQ(view->version(), 6);
  EXPECT_EQ(kIpv6HeaderLen + view->payload_length(), view->bytes().size());
  EXPECT_EQ(
      view->header().size() + view->extension_headers().size() + view->upper_layer_payload().size(),
      view->bytes().size());
  EXPECT_LE(view->bytes().size(), bytes.size());
  std::uint64_t sum = view->traffic_class() + view->flow_label() + view->payload_length() +
                      view->next_header() + view->hop_limit() + view->src().octets()[0] +
                      view->dst().octets()[15] + view->upper_layer_protocol() +
                      view->is_fragment() + view->Repr().payload_len;
  sum += Touch(view->header()) + Touch(view->extension_headers()) +
         Touch(view->upper_layer_payload()) + Touch(view->payload()) + Touch(view->bytes()) +
         Touch(Icmpv6ErrorQuote(*view));
  if (view->upper_layer_protocol() == IpProtocol::kTcp) {
    const Parsed<TcpView> tcp = TcpView::Parse(view->upper_layer_payload());
    if (tcp.ok()) sum += tcp->checksum_valid(view->src(), view->dst());
  }
  if (view->upper_layer_protocol() == IpProtocol::kIcmpv6) {
    sum += TouchIcmpv6(view->upper_layer_payload(), view->src(), view->dst());
  }
  return sum;
}

std::uint64_t TouchArp(std::span<const std::uint8_t> bytes) {
  const Parsed<ArpView> view = ArpView::Parse(bytes);
  if (!view.ok()) return 1;
  const ArpRepr repr = view->Repr();
  return static_cast<std::uint64_t>(view->op()) + view->sender_ip().value() +
         view->target_ip().value() + view->sender_mac().octets()[5] +
         view->target_mac().octets()[5] + repr.sender_ip.value();
}

std::uint64_t TouchEthernet(std::span<const std::uint8_t> frame) {
  const Parsed<EthernetView> view = EthernetView::Parse(frame);
  if (!view.ok()) return 1;
  EXPECT_EQ(kEthernetHeaderLen + view->payload().size(), frame.size());
  std::uint64_t sum = view->dst().octets()[0] + view->src().octets()[0] + view->ethertype() +
                      Touch(view->payload()) + view->Repr().ethertype;
  if (view->ethertype() == EtherType::kIpv4) sum += TouchIpv4(view->payload());
  if (view->ethertype() == EtherType::kArp) sum += TouchArp(view->payload());
  if (view->ethertype() == EtherType::kIpv6) sum += TouchIpv6(view->payload());
  return sum;
}

// Every parser on the same bytes, each as if the bytes were its own layer.
std::uint64_t TouchAllLayers(std::span<const std::uint8_t> bytes) {
  return TouchEthernet(bytes) + TouchArp(bytes) + TouchIpv4(bytes) + TouchIcmp(bytes) +
         TouchTcp(bytes, Ipv4Address(1, 2, 3, 4), Ipv4Address(5, 6, 7, 8)) +
         TouchTcpOptions(bytes) + TouchIpv6(bytes) +
         TouchIcmpv6(bytes, Ipv6Address(), Ipv6Address::AllNodes());
}

// A copy of bytes[0, len) in an allocation of exactly len bytes.
Bytes Prefix(const Bytes& bytes, std::size_t len) {
  return Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
}

const MacAddress kMacA({0x02, 0, 0, 0, 0, 0x0a});
const MacAddress kMacB({0x02, 0, 0, 0, 0, 0x0b});
const Ipv4Address kIpA(10, 0, 0, 1);
const Ipv4Address kIpB(10, 0, 0, 2);

// Ethernet + IPv4 + TCP with every option kind and 9 bytes of data.
Bytes TcpFrame() {
  TcpRepr tcp;
  tcp.src_port = 1234;
  tcp.dst_port = 80;
  tcp.seq = 1000;
  tcp.ack = 2000;
  tcp.flags = TcpFlags::kAck | TcpFlags::kPsh;
  tcp.window = 512;
  tcp.options.mss = 1460;
  tcp.options.window_scale = 7;
  tcp.options.timestamps = TcpOptions::Timestamps{5, 6};
  tcp.options.sack_block_count = 2;
  tcp.options.sack_blocks[0] = {100, 200};
  tcp.options.sack_blocks[1] = {300, 400};
  const Bytes data = {'p', 'a', 'y', 'l', 'o', 'a', 'd', '!', '?'};
  tcp.payload = data;
  const std::size_t tcp_len = TcpHeaderLen(tcp.options) + data.size();
  Bytes frame(kEthernetHeaderLen + kIpv4MinHeaderLen + tcp_len);
  std::span<std::uint8_t> out(frame);
  WriteEthernet({kMacB, kMacA, EtherType::kIpv4}, out);
  Ipv4Repr ip;
  ip.src = kIpA;
  ip.dst = kIpB;
  ip.protocol = IpProtocol::kTcp;
  ip.payload_len = static_cast<std::uint16_t>(tcp_len);
  WriteIpv4Header(ip, out.subspan(kEthernetHeaderLen));
  EXPECT_EQ(WriteTcp(tcp, kIpA, kIpB, out.subspan(kEthernetHeaderLen + kIpv4MinHeaderLen)),
            tcp_len);
  return frame;
}

// Ethernet + IPv4 (with a 4-byte option) + ICMP echo request with 5 bytes of data.
Bytes IcmpFrame() {
  const Bytes data = {1, 2, 3, 4, 5};
  const std::size_t icmp_len = kIcmpHeaderLen + data.size();
  Bytes frame(kEthernetHeaderLen + 24 + icmp_len);
  std::span<std::uint8_t> out(frame);
  WriteEthernet({kMacB, kMacA, EtherType::kIpv4}, out);
  Ipv4Repr ip;
  ip.src = kIpA;
  ip.dst = kIpB;
  ip.protocol = IpProtocol::kIcmp;
  ip.payload_len = static_cast<std::uint16_t>(icmp_len + 4);
  std::span<std::uint8_t> ip_bytes = out.subspan(kEthernetHeaderLen);
  WriteIpv4Header(ip, ip_bytes);
  ip_bytes[0] = 0x46;  // IHL 6: the option is four no-operations (RFC 791 3.1 type 1)
  for (std::size_t i = 20; i < 24; ++i) ip_bytes[i] = 1;
  StoreBe16(&ip_bytes[10], 0);
  StoreBe16(&ip_bytes[10], InternetChecksum(ip_bytes.first(24)));
  WriteIcmpEcho(IcmpType::kEchoRequest, 77, 3, data, ip_bytes.subspan(24));
  return frame;
}

Bytes ArpFrame() {
  Bytes frame(kEthernetHeaderLen + kArpPacketLen);
  std::span<std::uint8_t> out(frame);
  WriteEthernet({MacAddress::Broadcast(), kMacA, EtherType::kArp}, out);
  WriteArp({ArpOp::kRequest, kMacA, kIpA, MacAddress(), kIpB}, out.subspan(kEthernetHeaderLen));
  return frame;
}

const Ipv6Address kIp6A = *Ipv6Address::Parse("fe80::a");
const Ipv6Address kIp6B = *Ipv6Address::Parse("2001:db8::b");

// Ethernet + IPv6 + hop-by-hop (8 bytes) + destination options (16 bytes) + a neighbor
// solicitation with its source link-layer address option (32 bytes).
constexpr std::size_t kNdExtensionsLen = 24;
Bytes NeighborSolicitationFrame() {
  const NeighborSolicitationRepr ns{kIp6B, kMacA};
  const std::size_t ns_len = NeighborSolicitationLen(ns);
  Bytes frame(kEthernetHeaderLen + kIpv6HeaderLen + kNdExtensionsLen + ns_len, 0);
  std::span<std::uint8_t> out(frame);
  WriteEthernet({Ipv6MulticastMac(SolicitedNodeMulticast(kIp6B)), kMacA, EtherType::kIpv6}, out);
  Ipv6Repr ip;
  ip.src = kIp6A;
  ip.dst = SolicitedNodeMulticast(kIp6B);
  ip.next_header = IpProtocol::kIpv6HopByHop;
  ip.hop_limit = 255;
  ip.payload_len = static_cast<std::uint16_t>(kNdExtensionsLen + ns_len);
  std::span<std::uint8_t> ip_bytes = out.subspan(kEthernetHeaderLen);
  WriteIpv6Header(ip, ip_bytes);
  std::span<std::uint8_t> extensions = ip_bytes.subspan(kIpv6HeaderLen);
  extensions[0] = IpProtocol::kIpv6DestinationOptions;  // hop-by-hop, length 0: 8 bytes
  extensions[2] = 1;                                    // PadN over the remaining 4
  extensions[3] = 4;
  extensions[8] = IpProtocol::kIcmpv6;  // destination options, length 1: 16 bytes
  extensions[9] = 1;
  extensions[10] = 1;
  extensions[11] = 12;
  WriteNeighborSolicitation(ns, ip.src, ip.dst, extensions.subspan(kNdExtensionsLen));
  return frame;
}

TEST(MalformedTest, SampleFramesParseCompletely) {
  const Bytes tcp_frame = TcpFrame();
  const Parsed<Ipv4View> ip = Ipv4View::Parse(EthernetView::Parse(tcp_frame)->payload());
  ASSERT_TRUE(ip.ok()) << ip.error();
  EXPECT_TRUE(ip->header_checksum_valid());
  const Parsed<TcpView> tcp = TcpView::Parse(ip->payload());
  ASSERT_TRUE(tcp.ok()) << tcp.error();
  EXPECT_TRUE(tcp->checksum_valid(kIpA, kIpB));
  EXPECT_TRUE(tcp->Repr().ok());

  const Bytes icmp_frame = IcmpFrame();
  const Parsed<Ipv4View> icmp_ip = Ipv4View::Parse(EthernetView::Parse(icmp_frame)->payload());
  ASSERT_TRUE(icmp_ip.ok()) << icmp_ip.error();
  EXPECT_EQ(icmp_ip->header_len(), 24u);
  EXPECT_TRUE(icmp_ip->header_checksum_valid());
  const Parsed<IcmpView> icmp = IcmpView::Parse(icmp_ip->payload());
  ASSERT_TRUE(icmp.ok());
  EXPECT_TRUE(icmp->checksum_valid());

  const Bytes arp_frame = ArpFrame();
  EXPECT_TRUE(ArpView::Parse(EthernetView::Parse(arp_frame)->payload()).ok());

  const Bytes ns_frame = NeighborSolicitationFrame();
  const Parsed<Ipv6View> ip6 = Ipv6View::Parse(EthernetView::Parse(ns_frame)->payload());
  ASSERT_TRUE(ip6.ok()) << ip6.error();
  EXPECT_EQ(ip6->upper_layer_protocol(), IpProtocol::kIcmpv6);
  EXPECT_EQ(ip6->extension_headers().size(), kNdExtensionsLen);
  const Parsed<Icmpv6View> icmpv6 = Icmpv6View::Parse(ip6->upper_layer_payload());
  ASSERT_TRUE(icmpv6.ok());
  EXPECT_TRUE(icmpv6->checksum_valid(ip6->src(), ip6->dst()));
  const Parsed<NeighborSolicitationView> ns = NeighborSolicitationView::Parse(icmpv6->bytes());
  ASSERT_TRUE(ns.ok()) << ns.error();
  EXPECT_EQ(ns->Repr(), (NeighborSolicitationRepr{kIp6B, kMacA}));
}

// The payload length covers the whole packet, so any cut of the frame is a packet too short;
// with the payload length rewritten to each cut instead, the extension chain decides.
TEST(MalformedTest, Ipv6FrameTruncatedAtEveryLength) {
  const Bytes frame = NeighborSolicitationFrame();
  const std::size_t ip_start = kEthernetHeaderLen;
  for (std::size_t len = 0; len <= frame.size(); ++len) {
    const Bytes prefix = Prefix(frame, len);
    TouchAllLayers(prefix);
    if (len < ip_start) continue;
    Bytes ip_bytes(prefix.begin() + ip_start, prefix.end());
    const ParseError expected = ip_bytes.size() < kIpv6HeaderLen ? ParseError::kTruncatedHeader
                                : len < frame.size() ? ParseError::kPayloadLengthPastBuffer
                                                     : ParseError::kNone;
    EXPECT_EQ(ReasonOf(Ipv6View::Parse(ip_bytes)), expected) << len;
    TouchAllLayers(ip_bytes);
    if (ip_bytes.size() < kIpv6HeaderLen) continue;

    const std::size_t payload_len = ip_bytes.size() - kIpv6HeaderLen;
    StoreBe16(&ip_bytes[4], static_cast<std::uint16_t>(payload_len));
    // Hop-by-hop at 0 (8 bytes), destination options at 8 (16 bytes), ICMPv6 from 24.
    const ParseError chain_expected = payload_len < 2    ? ParseError::kExtensionHeaderTruncated
                                      : payload_len < 8  ? ParseError::kExtensionHeaderPastPayload
                                      : payload_len < 10 ? ParseError::kExtensionHeaderTruncated
                                      : payload_len < 24 ? ParseError::kExtensionHeaderPastPayload
                                                         : ParseError::kNone;
    EXPECT_EQ(ReasonOf(Ipv6View::Parse(ip_bytes)), chain_expected) << len;
    TouchAllLayers(ip_bytes);
    if (payload_len >= kNdExtensionsLen) {
      const Bytes ns(ip_bytes.begin() + kIpv6HeaderLen + kNdExtensionsLen, ip_bytes.end());
      const ParseError ns_expected = ns.size() < kNeighborMessageLen ? ParseError::kTruncatedHeader
                                     : ns.size() == kNeighborMessageLen || ns.size() == 32
                                         ? ParseError::kNone
                                         : ParseError::kNdOptionPastEnd;
      EXPECT_EQ(ReasonOf(NeighborSolicitationView::Parse(ns)), ns_expected) << len;
      TouchAllLayers(ns);
    }
  }
}

TEST(MalformedTest, Ipv6ExtensionLengthsPastThePayload) {
  const Bytes frame = NeighborSolicitationFrame();
  const Bytes packet(frame.begin() + kEthernetHeaderLen, frame.end());
  // Every length of the destination options header: only its own (1) fits the chain as built;
  // 0 leaves the ICMPv6 message where the walk looks for the next header, larger runs past.
  for (int units = 0; units < 256; ++units) {
    Bytes bad = packet;
    bad[kIpv6HeaderLen + 9] = static_cast<std::uint8_t>(units);
    const Parsed<Ipv6View> view = Ipv6View::Parse(bad);
    const std::size_t end = 8 + (static_cast<std::size_t>(units) + 1) * 8;
    if (end > bad.size() - kIpv6HeaderLen) {
      EXPECT_EQ(view.error(), ParseError::kExtensionHeaderPastPayload) << units;
    } else {
      EXPECT_TRUE(view.ok()) << units << " " << view.error();
      EXPECT_EQ(view->extension_headers().size(), end);
    }
    TouchAllLayers(bad);
  }
}

TEST(MalformedTest, NeighborDiscoveryOptionOfLengthZero) {
  Bytes frame = NeighborSolicitationFrame();
  const std::size_t option = frame.size() - kNdLinkLayerOptionLen;
  frame[option + 1] = 0;
  const Parsed<Ipv6View> ip = Ipv6View::Parse(EthernetView::Parse(frame)->payload());
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(NeighborSolicitationView::Parse(ip->upper_layer_payload()).error(),
            ParseError::kNdOptionZeroLength);
  EXPECT_EQ(NeighborAdvertisementView::Parse(ip->upper_layer_payload()).error(),
            ParseError::kNdOptionZeroLength);
  TouchAllLayers(frame);
}

// Cuts `frame` at every length. Each layer must refuse a prefix shorter than what its header
// declares and accept one that holds all of it; ASan checks nothing reads past the cut.
TEST(MalformedTest, TcpFrameTruncatedAtEveryLength) {
  const Bytes frame = TcpFrame();
  const std::size_t ip_start = kEthernetHeaderLen;
  const std::size_t tcp_start = ip_start + kIpv4MinHeaderLen;
  const std::size_t tcp_header_end = tcp_start + 60;  // MSS, TS, WS, two SACK blocks
  ASSERT_EQ(TcpView::Parse(std::span(frame).subspan(tcp_start))->header_len(), 60u);
  for (std::size_t len = 0; len <= frame.size(); ++len) {
    const Bytes prefix = Prefix(frame, len);
    TouchAllLayers(prefix);
    EXPECT_EQ(ReasonOf(EthernetView::Parse(prefix)),
              len >= kEthernetHeaderLen ? ParseError::kNone : ParseError::kTruncatedHeader)
        << len;
    if (len >= ip_start) {
      const Bytes ip_bytes(prefix.begin() + ip_start, prefix.end());
      // The total length covers the whole datagram: any cut is a datagram too short.
      const ParseError expected = ip_bytes.size() < kIpv4MinHeaderLen ? ParseError::kTruncatedHeader
                                  : len < frame.size() ? ParseError::kTotalLengthPastBuffer
                                                       : ParseError::kNone;
      EXPECT_EQ(ReasonOf(Ipv4View::Parse(ip_bytes)), expected) << len;
      TouchAllLayers(ip_bytes);
    }
    if (len >= tcp_start) {
      const Bytes tcp_bytes(prefix.begin() + tcp_start, prefix.end());
      const ParseError expected = tcp_bytes.size() < kTcpMinHeaderLen ? ParseError::kTruncatedHeader
                                  : len < tcp_header_end ? ParseError::kHeaderPastBuffer
                                                         : ParseError::kNone;
      EXPECT_EQ(ReasonOf(TcpView::Parse(tcp_bytes)), expected) << len;
      TouchAllLayers(tcp_bytes);
    }
    if (len >= tcp_start + kTcpMinHeaderLen) {
      // The options as far as the cut reaches (TcpOptionsTruncatedAtEveryLength checks results).
      const Bytes options(
          frame.begin() + static_cast<std::ptrdiff_t>(tcp_start + kTcpMinHeaderLen),
          frame.begin() + static_cast<std::ptrdiff_t>(std::min(len, tcp_header_end)));
      TouchTcpOptions(options);
    }
  }
}

TEST(MalformedTest, TcpOptionsTruncatedAtEveryLength) {
  // MSS at 0, NOP NOP timestamps at 4, NOP window scale at 16, NOP NOP SACK (2 blocks) at 20.
  const Bytes frame = TcpFrame();
  const std::size_t options_start = kEthernetHeaderLen + kIpv4MinHeaderLen + 20;
  const Bytes options(frame.begin() + options_start, frame.begin() + options_start + 40);
  // Lengths at which a cut leaves only whole options (NOPs count as whole options), and those
  // at which it leaves an option's kind byte without its length byte; any other cut leaves an
  // option whose length runs past the end.
  const std::vector<std::size_t> whole = {0, 4, 5, 6, 16, 17, 20, 21, 22, 40};
  const std::vector<std::size_t> kind_only = {1, 7, 18, 23};
  for (std::size_t len = 0; len <= options.size(); ++len) {
    const Bytes prefix = Prefix(options, len);
    const ParseError expected =
        std::find(whole.begin(), whole.end(), len) != whole.end() ? ParseError::kNone
        : std::find(kind_only.begin(), kind_only.end(), len) != kind_only.end()
            ? ParseError::kOptionTruncated
            : ParseError::kOptionPastEnd;
    EXPECT_EQ(ReasonOf(ParseTcpOptions(prefix)), expected) << len;
    TouchAllLayers(prefix);
  }
}

TEST(MalformedTest, IcmpFrameTruncatedAtEveryLength) {
  const Bytes frame = IcmpFrame();
  const std::size_t ip_start = kEthernetHeaderLen;
  const std::size_t icmp_start = ip_start + 24;
  for (std::size_t len = 0; len <= frame.size(); ++len) {
    const Bytes prefix = Prefix(frame, len);
    TouchAllLayers(prefix);
    if (len >= ip_start) {
      const Bytes ip_bytes(prefix.begin() + ip_start, prefix.end());
      // A 24-byte header (IHL 6), then a total length that only the whole frame holds.
      const ParseError expected = ip_bytes.size() < kIpv4MinHeaderLen ? ParseError::kTruncatedHeader
                                  : ip_bytes.size() < 24 ? ParseError::kHeaderPastBuffer
                                  : len < frame.size()   ? ParseError::kTotalLengthPastBuffer
                                                         : ParseError::kNone;
      EXPECT_EQ(ReasonOf(Ipv4View::Parse(ip_bytes)), expected) << len;
      TouchAllLayers(ip_bytes);
    }
    if (len >= icmp_start) {
      const Bytes icmp_bytes(prefix.begin() + icmp_start, prefix.end());
      EXPECT_EQ(ReasonOf(IcmpView::Parse(icmp_bytes)), len >= icmp_start + kIcmpHeaderLen
                                                           ? ParseError::kNone
                                                           : ParseError::kTruncatedHeader)
          << len;
      TouchAllLayers(icmp_bytes);
    }
  }
}

TEST(MalformedTest, ArpFrameTruncatedAtEveryLength) {
  const Bytes frame = ArpFrame();
  for (std::size_t len = 0; len <= frame.size(); ++len) {
    const Bytes prefix = Prefix(frame, len);
    TouchAllLayers(prefix);
    if (len >= kEthernetHeaderLen) {
      const Bytes arp_bytes(prefix.begin() + kEthernetHeaderLen, prefix.end());
      EXPECT_EQ(ReasonOf(ArpView::Parse(arp_bytes)), arp_bytes.size() >= kArpPacketLen
                                                         ? ParseError::kNone
                                                         : ParseError::kTruncatedHeader)
          << len;
      TouchAllLayers(arp_bytes);
    }
  }
}

TEST(MalformedTest, IpHeaderWithOptionsTruncatedAtEveryLength) {
  // Here the total length is rewritten to each cut, so only the header length decides.
  const Bytes frame = IcmpFrame();
  const Bytes datagram(frame.begin() + kEthernetHeaderLen, frame.end());
  for (std::size_t len = 0; len <= datagram.size(); ++len) {
    Bytes prefix = Prefix(datagram, len);
    if (len >= 4) StoreBe16(&prefix[2], static_cast<std::uint16_t>(len));
    const ParseError expected = len < kIpv4MinHeaderLen ? ParseError::kTruncatedHeader
                                : len < 24              ? ParseError::kHeaderPastBuffer
                                                        : ParseError::kNone;
    EXPECT_EQ(ReasonOf(Ipv4View::Parse(prefix)), expected) << len;
    TouchAllLayers(prefix);
  }
}

// Cheap fuzzing: random bytes of random length through every parser, then the sample frames
// with random bytes overwritten, which reach deeper (valid Ethernet and IPv4 headers around
// damaged TCP, ICMP and ARP).
TEST(MalformedTest, RandomBuffersThroughEveryParser) {
  Rng rng(0xf022);
  std::uint64_t sink = 0;
  for (int i = 0; i < 100000; ++i) {
    const Bytes bytes = RandomBytes(rng, RandomInt<std::size_t>(rng, 0, 120));
    sink += TouchAllLayers(bytes);
  }
  EXPECT_NE(sink, 0u);
}

TEST(MalformedTest, MutatedFramesThroughEveryParser) {
  Rng rng(0xbadf);
  const Bytes samples[] = {TcpFrame(), IcmpFrame(), ArpFrame(), NeighborSolicitationFrame()};
  std::uint64_t sink = 0;
  for (int i = 0; i < 100000; ++i) {
    Bytes frame = samples[i % 4];
    const int mutations = RandomInt<int>(rng, 1, 4);
    for (int m = 0; m < mutations; ++m) {
      frame[RandomInt<std::size_t>(rng, 0, frame.size() - 1)] = RandomInt<std::uint8_t>(rng);
    }
    if (RandomBool(rng)) frame.resize(RandomInt<std::size_t>(rng, 0, frame.size()));
    frame.shrink_to_fit();
    sink += TouchAllLayers(frame);
  }
  EXPECT_NE(sink, 0u);
}

TEST(MalformedTest, RandomOptionBytes) {
  Rng rng(0x0915);
  for (int i = 0; i < 100000; ++i) {
    // Bias kinds towards the known ones so the length checks are exercised, not just skipping.
    Bytes options = RandomBytes(rng, RandomInt<std::size_t>(rng, 0, 40));
    for (std::uint8_t& byte : options) {
      if (RandomInt<int>(rng, 0, 2) == 0) byte = RandomInt<std::uint8_t>(rng, 0, 12);
    }
    TouchTcpOptions(options);
  }
  // And valid option sets must always parse back.
  for (int i = 0; i < 1000; ++i) {
    Bytes out(kTcpMaxOptionsLen);
    const TcpOptions options = RandomTcpOptions(rng);
    out.resize(WriteTcpOptions(options, out));
    EXPECT_TRUE(ParseTcpOptions(out).ok());
  }
}

TEST(MalformedTest, EveryReasonHasItsOwnMessage) {
  const ParseError reasons[] = {
      ParseError::kTruncatedHeader,          ParseError::kBadVersion,
      ParseError::kBadHeaderLength,          ParseError::kHeaderPastBuffer,
      ParseError::kTotalLengthBelowHeader,   ParseError::kTotalLengthPastBuffer,
      ParseError::kUnsupportedHardwareType,  ParseError::kUnsupportedProtocolType,
      ParseError::kBadAddressLength,         ParseError::kOptionTruncated,
      ParseError::kOptionBadLength,          ParseError::kOptionPastEnd,
      ParseError::kOptionWrongLength,        ParseError::kPayloadLengthPastBuffer,
      ParseError::kExtensionHeaderTruncated, ParseError::kExtensionHeaderPastPayload,
      ParseError::kHopByHopNotFirst,         ParseError::kNdOptionZeroLength,
      ParseError::kNdOptionPastEnd,          ParseError::kNdOptionWrongLength,
  };
  std::vector<std::string_view> messages;
  for (const ParseError reason : reasons) {
    const std::string_view message = ParseErrorMessage(reason);
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(std::find(messages.begin(), messages.end(), message), messages.end()) << message;
    messages.push_back(message);
  }
}

}  // namespace
}  // namespace tapstack::wire
