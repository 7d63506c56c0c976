#include "tests/fuzz/fuzz_drivers.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <variant>

#include "stack/stack.h"
#include "stack/wire/arp.h"
#include "stack/wire/checksum.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmp.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/neighbor_discovery.h"
#include "stack/wire/router_advertisement.h"
#include "stack/wire/tcp.h"
#include "stack/wire/tcp_options.h"
#include "stack/wire/tcp_segmentation.h"
#include "tap/virtio_net_header.h"
#include "tools/diagram/capture_decode.h"

namespace tapstack::fuzz {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Reads every byte a span covers, so ASan sees any accessor that hands out a span past the input.
std::uint32_t Touch(std::span<const std::uint8_t> bytes) {
  std::uint32_t sum = 0;
  for (std::uint8_t b : bytes) sum += b;
  return sum;
}

void TouchOptions(std::span<const std::uint8_t> bytes) {
  const wire::Parsed<wire::TcpOptions> options = wire::ParseTcpOptions(bytes);
  if (!options.ok()) return;
  // Whatever parses must be writable again within the documented bounds.
  std::uint8_t out[wire::kTcpMaxOptionsLen + 64];
  const std::size_t written = wire::WriteTcpOptions(*options, out);
  if (written > sizeof(out) || written % 4 != 0) std::abort();
  for (const auto& block : options->sacks()) (void)(block.left + block.right);
}

void WireTcp(std::span<const std::uint8_t> bytes, const wire::Ipv4View* ip) {
  const wire::Parsed<wire::TcpView> tcp = wire::TcpView::Parse(bytes);
  if (!tcp.ok()) return;
  volatile std::uint32_t sink = tcp->src_port() + tcp->dst_port() + tcp->seq() + tcp->ack() +
                                tcp->data_offset() + tcp->flags() + tcp->window() +
                                tcp->checksum() + tcp->urgent_pointer();
  if (tcp->header_len() + tcp->payload().size() != tcp->bytes().size()) std::abort();
  sink = sink + Touch(tcp->options_bytes()) + Touch(tcp->payload());
  if (ip != nullptr) sink = sink + tcp->checksum_valid(ip->src(), ip->dst());
  TouchOptions(tcp->options_bytes());
  const wire::Parsed<wire::TcpRepr> repr = tcp->Repr();
  if (repr.ok()) sink = sink + Touch(repr->payload);
  (void)sink;
}

void WireIcmp(std::span<const std::uint8_t> bytes) {
  const wire::Parsed<wire::IcmpView> icmp = wire::IcmpView::Parse(bytes);
  if (!icmp.ok()) return;
  volatile std::uint32_t sink = static_cast<std::uint8_t>(icmp->type()) + icmp->code() +
                                icmp->checksum() + icmp->checksum_valid() +
                                icmp->echo_identifier() + icmp->echo_sequence() +
                                icmp->next_hop_mtu() + Touch(icmp->payload());
  // The quoted datagram of an error message is itself parsed by the stack (ICMP errors for TCP).
  const wire::Parsed<wire::Ipv4View> quoted = wire::Ipv4View::Parse(icmp->payload());
  if (quoted.ok()) sink = sink + Touch(wire::IcmpErrorQuote(*quoted));
  (void)sink;
}

void WireIpv4(std::span<const std::uint8_t> bytes) {
  const wire::Parsed<wire::Ipv4View> ip = wire::Ipv4View::Parse(bytes);
  if (!ip.ok()) return;
  volatile std::uint32_t sink =
      ip->version() + ip->dscp_ecn() + ip->total_length() + ip->identification() +
      ip->dont_fragment() + ip->more_fragments() + ip->fragment_offset() + ip->is_fragment() +
      ip->ttl() + ip->protocol() + ip->header_checksum() + ip->header_checksum_valid() +
      ip->src().value() + ip->dst().value() + Touch(ip->options()) + Touch(ip->header());
  if (ip->header_len() + ip->payload().size() != ip->total_length()) std::abort();
  (void)ip->Repr();
  sink = sink + Touch(wire::IcmpErrorQuote(*ip));
  (void)sink;
  WireTcp(ip->payload(), &*ip);
  WireIcmp(ip->payload());
}

std::uint32_t TouchNdOptions(const wire::NdLinkLayerOptions& options) {
  return (options.source_link_layer_address ? options.source_link_layer_address->octets()[5] : 0) +
         (options.target_link_layer_address ? options.target_link_layer_address->octets()[5] : 0);
}

void WireIcmpv6(std::span<const std::uint8_t> bytes, const wire::Ipv6Address& src,
                const wire::Ipv6Address& dst) {
  const wire::Parsed<wire::Icmpv6View> icmp = wire::Icmpv6View::Parse(bytes);
  if (!icmp.ok()) return;
  volatile std::uint32_t sink = static_cast<std::uint8_t>(icmp->type()) + icmp->code() +
                                icmp->checksum() + icmp->checksum_valid(src, dst) +
                                icmp->echo_identifier() + icmp->echo_sequence() +
                                Touch(icmp->payload());
  // Neighbor Discovery bodies are parsed whatever the type, so the option walk sees every input.
  const auto solicitation = wire::NeighborSolicitationView::Parse(bytes);
  if (solicitation.ok()) {
    sink = sink + solicitation->target().octets()[15] + TouchNdOptions(solicitation->options());
  }
  const auto advertisement = wire::NeighborAdvertisementView::Parse(bytes);
  if (advertisement.ok()) {
    sink = sink + advertisement->router() + advertisement->solicited() +
           advertisement->override_flag() + advertisement->target().octets()[15] +
           TouchNdOptions(advertisement->options());
  }
  const wire::Parsed<wire::NdLinkLayerOptions> options = wire::ParseNdOptions(bytes);
  if (options.ok()) sink = sink + TouchNdOptions(*options);
  const auto router = wire::RouterAdvertisementView::Parse(bytes);
  if (router.ok()) {
    const wire::RouterAdvertisementRepr& repr = router->Repr();
    sink = sink + repr.cur_hop_limit + repr.router_lifetime_s + repr.prefixes.size() +
           (repr.mtu ? *repr.mtu : 0) +
           (repr.source_link_layer_address ? repr.source_link_layer_address->octets()[5] : 0);
  }
  (void)sink;
}

void WireIpv6(std::span<const std::uint8_t> bytes) {
  const wire::Parsed<wire::Ipv6View> ip = wire::Ipv6View::Parse(bytes);
  if (!ip.ok()) return;
  volatile std::uint32_t sink =
      ip->version() + ip->traffic_class() + ip->flow_label() + ip->payload_length() +
      ip->next_header() + ip->hop_limit() + ip->upper_layer_protocol() + ip->is_fragment() +
      ip->src().octets()[0] + ip->dst().octets()[15] + Touch(ip->header()) +
      Touch(ip->extension_headers()) + Touch(wire::Icmpv6ErrorQuote(*ip));
  if (ip->header().size() + ip->extension_headers().size() + ip->upper_layer_payload().size() !=
      ip->bytes().size()) {
    std::abort();
  }
  (void)ip->Repr();
  const wire::Parsed<wire::TcpView> tcp = wire::TcpView::Parse(ip->upper_layer_payload());
  if (tcp.ok()) sink = sink + tcp->checksum_valid(ip->src(), ip->dst());
  (void)sink;
  WireIcmpv6(ip->upper_layer_payload(), ip->src(), ip->dst());
}

// ---- stack_fuzz ----

const wire::Ipv4Address kOurAddress = *wire::Ipv4Address::Parse("192.0.2.2");
const wire::Ipv4Address kPeerAddress = *wire::Ipv4Address::Parse("192.0.2.1");
const wire::MacAddress kOurMac = *wire::MacAddress::Parse("02:00:00:00:00:02");
const wire::MacAddress kPeerMac = *wire::MacAddress::Parse("02:00:00:00:00:01");

// The emitted-frame oracle for one TCP segment over either family, checksummed over `src` and
// `dst`: SACK blocks we generate (RFC 2018 3) only on ACKs, never on a SYN, each a non-empty range
// of at most one window; a D-SACK block (RFC 2883) lies below the ACK, the others above it. Data
// and options together stay within `mss`, what the peer could have announced at most.
template <typename Address>
void CheckEmittedTcp(std::span<const std::uint8_t> segment, const Address& src, const Address& dst,
                     std::size_t mss) {
  const auto tcp = wire::TcpView::Parse(segment);
  if (!tcp.ok() || !tcp->checksum_valid(src, dst)) std::abort();
  const wire::Parsed<wire::TcpOptions> options = wire::ParseTcpOptions(tcp->options_bytes());
  if (!options.ok()) std::abort();
  for (const wire::TcpOptions::SackBlock& block : options->sacks()) {
    const std::uint32_t length = block.right - block.left;
    if ((tcp->flags() & wire::TcpFlags::kSyn) || !(tcp->flags() & wire::TcpFlags::kAck) ||
        length == 0 || length > (1u << 30)) {
      std::abort();
    }
  }
  if (tcp->payload().size() + tcp->options_bytes().size() > mss &&
      !(tcp->flags() & wire::TcpFlags::kSyn)) {
    std::abort();
  }
}

// The emitted-frame oracle: our stack must never send a frame the wire views reject.
void CheckEmitted(std::span<const std::uint8_t> frame) {
  const auto ethernet = wire::EthernetView::Parse(frame);
  if (!ethernet.ok()) std::abort();
  if (ethernet->ethertype() == wire::EtherType::kArp) {
    if (!wire::ArpView::Parse(ethernet->payload()).ok()) std::abort();
    return;
  }
  if (ethernet->ethertype() == wire::EtherType::kIpv6) {
    // Over IPv6 the stack sends TCP (an MSS of 1500 - 60 at most) and ICMPv6 (echo, Neighbor
    // Discovery, errors), checksummed.
    const auto ip = wire::Ipv6View::Parse(ethernet->payload());
    if (!ip.ok()) std::abort();
    if (ip->upper_layer_protocol() == wire::IpProtocol::kTcp) {
      CheckEmittedTcp(ip->upper_layer_payload(), ip->src(), ip->dst(), 1440);
      return;
    }
    if (ip->upper_layer_protocol() != wire::IpProtocol::kIcmpv6) std::abort();
    const auto icmp = wire::Icmpv6View::Parse(ip->upper_layer_payload());
    if (!icmp.ok() || !icmp->checksum_valid(ip->src(), ip->dst())) std::abort();
    if (ip->payload().size() > wire::kIpv6MinMtu - wire::kIpv6HeaderLen &&
        static_cast<std::uint8_t>(icmp->type()) < 128) {
      std::abort();  // RFC 4443 2.4 (c): an error fits in the minimum MTU
    }
    return;
  }
  if (ethernet->ethertype() != wire::EtherType::kIpv4) std::abort();
  const auto ip = wire::Ipv4View::Parse(ethernet->payload());
  if (!ip.ok() || !ip->header_checksum_valid()) std::abort();
  if (ip->protocol() == wire::IpProtocol::kTcp) {
    CheckEmittedTcp(ip->payload(), ip->src(), ip->dst(), 1460);
  } else if (ip->protocol() == wire::IpProtocol::kIcmp) {
    const auto icmp = wire::IcmpView::Parse(ip->payload());
    if (!icmp.ok() || !icmp->checksum_valid()) std::abort();
  }
}

// One fuzz input's world: the stack, its clock and the established connection.
class Session {
 public:
  explicit Session(std::vector<Bytes>* emitted = nullptr)
      : now_(timers::TimePoint{} + std::chrono::hours(24)),
        emitted_(emitted),
        stack_(MakeConfig(), now_, [this](std::span<const std::uint8_t> frame) {
          CheckEmitted(frame);
          if (emitted_ != nullptr) emitted_->emplace_back(frame.begin(), frame.end());
          last_frame_.assign(frame.begin(), frame.end());
        }) {
    stack_.Ingest(ArpFrame(/*request=*/true), now_);  // teaches the stack the peer's MAC
    if (stack_.Listen(kListenPort, 8, now_)) std::abort();
    wire::TcpOptions syn_options;
    syn_options.mss = 1460;
    syn_options.window_scale = 7;
    syn_options.sack_permitted = true;
    // No timestamps: with them agreed, every record would need a TSval that passes PAWS (RFC 7323
    // 5.3) and most mutations would end as a counted drop before reaching the engine. Timestamps
    // are fuzzed on connections that records open through the listener.
    stack_.Ingest(
        TcpFrame(kPeerPort, kListenPort, wire::TcpFlags::kSyn, kPeerIss, 0, {}, syn_options), now_);
    // The SYN-ACK carries our ISS.
    const auto ethernet = wire::EthernetView::Parse(last_frame_);
    const auto ip = wire::Ipv4View::Parse(ethernet->payload());
    const auto syn_ack = wire::TcpView::Parse(ip->payload());
    const std::uint32_t iss = syn_ack->seq();
    stack_.Ingest(TcpFrame(kPeerPort, kListenPort, wire::TcpFlags::kAck, kPeerIss + 1, iss + 1, {}),
                  now_);
    const std::optional<tcp::ConnectionId> id = stack_.Accept(kListenPort);
    if (!id) std::abort();
    connection_ = *id;
    // Data in flight, so ACKs, SACKs, retransmission and the send path are reachable.
    const Bytes data(4000, 'x');
    stack_.Send(connection_, data, now_);
  }

  void Run(std::span<const std::uint8_t> data) {
    while (data.size() >= 4) {
      const std::size_t length = (std::size_t{data[0]} << 8) | data[1];
      const std::uint8_t advance = data[2];
      const std::uint8_t control = data[3];
      data = data.subspan(4);
      if (length > data.size()) break;
      Bytes frame(data.begin(), data.begin() + length);
      data = data.subspan(length);

      now_ += advance < 200 ? timers::Duration(std::chrono::milliseconds(advance))
                            : timers::Duration(std::chrono::seconds(advance - 199));
      stack_.Advance(now_);
      Rewrite(frame, control);
      stack_.Ingest(frame, now_);
      Application(control);
    }
    // Let every pending timer run out (retransmissions, keepalive, TIME-WAIT) in a bounded
    // number of steps: a timer that keeps rescheduling itself at the same instant would hang here.
    for (int i = 0; i < 64; ++i) {
      const std::optional<timers::TimePoint> next = stack_.NextDeadline();
      if (!next) break;
      now_ = std::max(now_, *next);
      stack_.Advance(now_);
    }
  }

 private:
  static StackConfig MakeConfig() {
    StackConfig config;
    config.interface.mac = kOurMac;
    config.interface.address = kOurAddress;
    config.interface.prefix_len = 24;
    // IPv6 beside it, its addresses usable at once, so that every IPv6 path is a frame away.
    config.interface.ipv6.enabled = true;
    config.interface.ipv6.addresses = {Ipv6Prefix{kOurAddress6, 64}};
    config.ndp.dad_transmits = 0;
    config.random_seed = 7;
    // Small limits, so that a few frames reach them: SYN cookies (RFC 4987) from the third
    // concurrent SYN on, the connection-limit refusal from the 17th connection.
    config.tcp.max_half_open = 2;
    config.tcp.max_connections = 16;
    return config;
  }

  void Rewrite(Bytes& frame, std::uint8_t control) {
    if ((control & kAddressToConnection) == 0) return;
    if (frame.size() < wire::kEthernetHeaderLen) return;
    kOurMac.ToBytes(&frame[0]);
    kPeerMac.ToBytes(&frame[6]);
    wire::StoreBe16(&frame[12], wire::EtherType::kIpv4);
    std::span<std::uint8_t> ip = std::span(frame).subspan(wire::kEthernetHeaderLen);
    if (ip.size() < wire::kIpv4MinHeaderLen) return;
    ip[0] = static_cast<std::uint8_t>(0x40 | std::max(ip[0] & 0x0f, 5));
    ip[9] = wire::IpProtocol::kTcp;
    kPeerAddress.ToBytes(&ip[12]);
    kOurAddress.ToBytes(&ip[16]);
    const std::size_t header_len = std::size_t{ip[0] & 0x0fu} * 4;
    if (ip.size() < header_len) return;
    // The total length covers what is there (the fuzzer may still shorten it by keeping checksums
    // and writing its own).
    const std::size_t total = std::min<std::size_t>(ip.size(), 0xffff);
    if ((control & kKeepChecksums) == 0) {
      wire::StoreBe16(&ip[2], static_cast<std::uint16_t>(total));
      ip[6] &= 0x40;  // no fragments
      ip[7] = 0;
    }
    std::span<std::uint8_t> tcp = ip.subspan(header_len, total - header_len);
    if (tcp.size() >= wire::kTcpMinHeaderLen) {
      const std::optional<tcp::ConnectionInfo> info = stack_.Info(connection_);
      if ((control & kToListener) == 0) {
        wire::StoreBe16(&tcp[0], kPeerPort);
        wire::StoreBe16(&tcp[2], info ? info->local_port : kListenPort);
      } else {
        wire::StoreBe16(&tcp[2], kListenPort);
      }
      if ((control & kRelativeNumbers) != 0 && info) {
        wire::StoreBe32(&tcp[4], wire::LoadBe32(&tcp[4]) + info->rcv_nxt);
        wire::StoreBe32(&tcp[8], wire::LoadBe32(&tcp[8]) + info->snd_una);
        ShiftSackBlocks(tcp, info->snd_una);
      }
    }
    if ((control & kKeepChecksums) != 0) return;
    wire::StoreBe16(&ip[10], 0);
    wire::StoreBe16(&ip[10], wire::InternetChecksum(ip.first(header_len)));
    if (tcp.size() >= wire::kTcpMinHeaderLen) {
      wire::StoreBe16(&tcp[16], 0);
      wire::StoreBe16(&tcp[16], wire::TransportChecksum(kPeerAddress, kOurAddress,
                                                        wire::IpProtocol::kTcp, tcp));
    }
  }

  // Adds `base` to both edges of every block of a well-formed SACK option in `tcp`'s options, so
  // that a seed can SACK our data relative to SND.UNA. Anything malformed is left alone (the
  // stack's own parser has its say on it).
  static void ShiftSackBlocks(std::span<std::uint8_t> tcp, std::uint32_t base) {
    const std::size_t header_len = (std::size_t{tcp[12]} >> 4) * 4;
    if (header_len < wire::kTcpMinHeaderLen || header_len > tcp.size()) return;
    std::span<std::uint8_t> options =
        tcp.subspan(wire::kTcpMinHeaderLen, header_len - wire::kTcpMinHeaderLen);
    while (!options.empty()) {
      const std::uint8_t kind = options[0];
      if (kind == 0) return;  // end of option list
      if (kind == 1) {        // no-operation
        options = options.subspan(1);
        continue;
      }
      if (options.size() < 2 || options[1] < 2 || options[1] > options.size()) return;
      const std::size_t length = options[1];
      if (kind == 5 && (length - 2) % 8 == 0) {  // SACK (RFC 2018 3)
        for (std::size_t edge = 2; edge + 4 <= length; edge += 4) {
          wire::StoreBe32(&options[edge], wire::LoadBe32(&options[edge]) + base);
        }
      }
      options = options.subspan(length);
    }
  }

  void Application(std::uint8_t control) {
    // Connections the listener completed are accepted (and kept) so its queue keeps moving.
    while (stack_.Accept(kListenPort)) {
    }
    if ((control & kAppReceive) != 0) {
      std::uint8_t buffer[4096];
      stack_.Receive(connection_, buffer, now_);
    }
    if ((control & kAppSend) != 0) {
      const Bytes data(1500, 'y');
      stack_.Send(connection_, data, now_);
    }
    if ((control & kAppShutdown) != 0) stack_.Shutdown(connection_, now_);
    if ((control & kAppClose) != 0) stack_.Close(connection_, now_);
  }

  timers::TimePoint now_;
  std::vector<Bytes>* emitted_;
  Bytes last_frame_;
  Stack stack_;
  tcp::ConnectionId connection_{};
};

}  // namespace

namespace {

// `tapstack diagram`'s decoding of a capture record, under every link type it knows and one it
// does not.
void DecodeAsCaptureRecord(std::span<const std::uint8_t> data) {
  for (const int link_type : {tools::diagram::kLinkNull, tools::diagram::kLinkEthernet,
                              tools::diagram::kLinkRaw, tools::diagram::kLinkLoop,
                              tools::diagram::kLinkLinuxSll, tools::diagram::kLinkLinuxSll2, 105}) {
    const std::optional<tools::diagram::CapturedTcp> tcp =
        tools::diagram::DecodeTcp(link_type, data);
    if (!tcp) continue;
    volatile std::uint32_t sink =
        tcp->seq + tcp->ack + tcp->payload_length + tcp->window + tcp->window_scale.value_or(0);
    (void)sink;
  }
}

void WireEthernet(std::span<const std::uint8_t> data) {
  const wire::Parsed<wire::EthernetView> ethernet = wire::EthernetView::Parse(data);
  if (!ethernet.ok()) return;
  volatile std::uint32_t sink = ethernet->dst().octets()[0] + ethernet->src().octets()[5] +
                                ethernet->ethertype() + Touch(ethernet->payload());
  (void)ethernet->Repr();
  const wire::Parsed<wire::ArpView> arp = wire::ArpView::Parse(ethernet->payload());
  if (arp.ok()) {
    const wire::ArpRepr repr = arp->Repr();
    sink = sink + static_cast<std::uint16_t>(repr.op) + repr.sender_ip.value();
  }
  (void)sink;
  WireIpv4(ethernet->payload());
  WireIpv6(ethernet->payload());
}

// The input as one read of a TAP descriptor with offloads: a virtio-net header, then the frame.
// What the parser accepts must describe bytes inside the frame; the checksum field it points at
// is read, so ASan sees one that is not.
void WireVirtioNet(std::span<const std::uint8_t> data) {
  const std::size_t header_length = std::min(data.size(), tap::kVirtioNetHeaderSize);
  const std::span<const std::uint8_t> frame = data.subspan(header_length);
  const std::variant<tap::VirtioNetHeader, tap::VirtioNetHeaderError> parsed =
      tap::ParseVirtioNetHeader(data.first(header_length), frame.size());
  const auto* header = std::get_if<tap::VirtioNetHeader>(&parsed);
  if (header == nullptr) {
    (void)tap::VirtioNetHeaderErrorName(std::get<tap::VirtioNetHeaderError>(parsed));
    return;
  }
  volatile std::uint32_t sink = static_cast<std::uint8_t>(header->checksum());
  if (header->needs_csum) {
    sink = sink + Touch(frame.subspan(header->csum_start + header->csum_offset, 2));
  }
  if (header->gso_tcpv4) {
    if (!header->needs_csum || header->gso_size == 0 || header->hdr_len > frame.size()) {
      std::abort();
    }
    sink = sink + Touch(frame.first(header->hdr_len));
  }
  (void)sink;
  WireEthernet(frame);
}

// The input as a frame the stack hands a device with transmit offloads: two bytes of segment
// size (0: checksum only), then the frame. Software segmentation must refuse what does not fit
// or cut it into frames that each parse as TCP, no larger than a segment, carrying the whole
// payload between them.
void WireTxOffload(std::span<const std::uint8_t> data) {
  if (data.size() < 2) return;
  const auto segment_size = static_cast<std::uint16_t>(data[0] << 8 | data[1]);
  const std::span<const std::uint8_t> frame = data.subspan(2);
  const TxOffload offload{.tcp_segment_size = segment_size, .tcp_checksum_partial = true};
  std::vector<std::uint8_t> scratch;
  std::size_t payload = 0;
  const std::optional<wire::TcpFrameError> refused =
      wire::FinishTxOffload(frame, offload, scratch, [&](std::span<const std::uint8_t> out) {
        const auto located = wire::LocateTcp(out);
        const auto* layout = std::get_if<wire::TcpFrameLayout>(&located);
        if (layout == nullptr) std::abort();
        if (segment_size != 0 && layout->payload_len > segment_size) std::abort();
        payload += layout->payload_len;
      });
  if (refused) {
    (void)wire::TcpFrameErrorName(*refused);
    return;
  }
  const auto located = wire::LocateTcp(frame);
  if (payload != std::get<wire::TcpFrameLayout>(located).payload_len) std::abort();
}

}  // namespace

void RunWireInput(std::span<const std::uint8_t> data) {
  TouchOptions(data);
  DecodeAsCaptureRecord(data);
  WireIpv4(data);
  WireIpv6(data);
  WireTcp(data, nullptr);
  WireEthernet(data);
  WireVirtioNet(data);
  WireTxOffload(data);
}

Bytes TcpFrame(std::uint16_t src_port, std::uint16_t dst_port, std::uint8_t flags,
               std::uint32_t seq, std::uint32_t ack, std::span<const std::uint8_t> payload,
               const wire::TcpOptions& options) {
  wire::TcpRepr tcp;
  tcp.src_port = src_port;
  tcp.dst_port = dst_port;
  tcp.seq = seq;
  tcp.ack = ack;
  tcp.flags = flags;
  tcp.window = 65535;
  tcp.options = options;
  tcp.payload = payload;
  Bytes segment(wire::TcpHeaderLen(options) + payload.size());
  segment.resize(wire::WriteTcp(tcp, kPeerAddress, kOurAddress, segment));
  wire::Ipv4Repr ip;
  ip.src = kPeerAddress;
  ip.dst = kOurAddress;
  ip.protocol = wire::IpProtocol::kTcp;
  ip.payload_len = static_cast<std::uint16_t>(segment.size());
  Bytes frame(wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen + segment.size());
  wire::WriteEthernet(wire::EthernetRepr{kOurMac, kPeerMac, wire::EtherType::kIpv4}, frame);
  wire::WriteIpv4Header(ip, std::span(frame).subspan(wire::kEthernetHeaderLen));
  std::copy(segment.begin(), segment.end(),
            frame.begin() + wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen);
  return frame;
}

Bytes Ipv6Frame(const wire::Ipv6Address& src, const wire::Ipv6Address& dst,
                std::uint8_t next_header, std::span<const std::uint8_t> payload,
                std::uint8_t hop_limit) {
  wire::Ipv6Repr ip;
  ip.src = src;
  ip.dst = dst;
  ip.next_header = next_header;
  ip.hop_limit = hop_limit;
  ip.payload_len = static_cast<std::uint16_t>(payload.size());
  Bytes frame(wire::kEthernetHeaderLen + wire::kIpv6HeaderLen + payload.size());
  const wire::MacAddress mac = dst.IsMulticast() ? wire::Ipv6MulticastMac(dst) : kOurMac;
  wire::WriteEthernet(wire::EthernetRepr{mac, kPeerMac, wire::EtherType::kIpv6}, frame);
  wire::WriteIpv6Header(ip, std::span(frame).subspan(wire::kEthernetHeaderLen));
  std::copy(payload.begin(), payload.end(),
            frame.begin() + wire::kEthernetHeaderLen + wire::kIpv6HeaderLen);
  return frame;
}

Bytes ArpFrame(bool request) {
  const wire::ArpOp op = request ? wire::ArpOp::kRequest : wire::ArpOp::kReply;
  Bytes frame(wire::kEthernetHeaderLen + wire::kArpPacketLen);
  wire::WriteEthernet(
      wire::EthernetRepr{op == wire::ArpOp::kRequest ? wire::MacAddress::Broadcast() : kOurMac,
                         kPeerMac, wire::EtherType::kArp},
      frame);
  wire::WriteArp(
      wire::ArpRepr{op, kPeerMac, kPeerAddress,
                    op == wire::ArpOp::kRequest ? wire::MacAddress() : kOurMac, kOurAddress},
      std::span(frame).subspan(wire::kEthernetHeaderLen));
  return frame;
}

void RunStackInput(std::span<const std::uint8_t> data) {
  Session session;
  session.Run(data);
}

std::vector<std::vector<std::uint8_t>> RunStackInputAndCollect(std::span<const std::uint8_t> data) {
  std::vector<Bytes> emitted;
  Session session(&emitted);
  session.Run(data);
  return emitted;
}

void AppendRecord(std::vector<std::uint8_t>& input, std::uint8_t advance, std::uint8_t control,
                  std::span<const std::uint8_t> frame) {
  input.push_back(static_cast<std::uint8_t>(frame.size() >> 8));
  input.push_back(static_cast<std::uint8_t>(frame.size()));
  input.push_back(advance);
  input.push_back(control);
  input.insert(input.end(), frame.begin(), frame.end());
}

std::vector<std::vector<std::uint8_t>> SetupFrames() {
  std::vector<Bytes> emitted;
  Session session(&emitted);
  return emitted;
}

}  // namespace tapstack::fuzz
