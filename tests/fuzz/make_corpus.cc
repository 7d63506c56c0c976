// Writes the seed corpus of both fuzz targets into OUT_DIR/wire_fuzz and OUT_DIR/stack_fuzz:
//   make_corpus OUT_DIR [PCAP...]
// Always the builder-made seeds ("seed-N"): frames built with the wire builders, the frames the
// stack itself sends during the fuzz session's setup, and short hand-written conversations. Then,
// for each pcap (captures of the interop tests and the demo; scripts/make-corpus.sh records them),
// the seeds capture_seeds.h makes of what the kernel peer sent, named after the pcap. A seed whose
// shape or bytes an earlier one already had is left out, across all pcaps.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "stack/wire/ethernet.h"
#include "stack/wire/icmp.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ip_protocol.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/neighbor_discovery.h"
#include "stack/wire/router_advertisement.h"
#include "stack/wire/tcp.h"
#include "tests/fuzz/capture_seeds.h"
#include "tests/fuzz/fuzz_drivers.h"

namespace {

using tapstack::fuzz::AppendRecord;
using tapstack::fuzz::TcpFrame;
using Bytes = std::vector<std::uint8_t>;
namespace wire = tapstack::wire;
namespace fuzz = tapstack::fuzz;

void Write(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// An IPv4 frame from the peer to us carrying `payload` as `protocol`.
Bytes IpFrame(std::uint8_t protocol, const Bytes& payload) {
  const Bytes tcp = TcpFrame(1, 2, 0, 0, 0, {});  // for the Ethernet and IP header bytes
  wire::Ipv4Repr ip;
  ip.src = *wire::Ipv4Address::Parse("192.0.2.1");
  ip.dst = *wire::Ipv4Address::Parse("192.0.2.2");
  ip.protocol = protocol;
  ip.payload_len = static_cast<std::uint16_t>(payload.size());
  Bytes frame(tcp.begin(), tcp.begin() + wire::kEthernetHeaderLen);
  frame.resize(wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen + payload.size());
  wire::WriteIpv4Header(ip, std::span(frame).subspan(wire::kEthernetHeaderLen));
  std::copy(payload.begin(), payload.end(),
            frame.begin() + wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen);
  return frame;
}

Bytes Echo() {
  const Bytes data = {'p', 'i', 'n', 'g'};
  Bytes icmp(wire::kIcmpHeaderLen + data.size());
  wire::WriteIcmpEcho(wire::IcmpType::kEchoRequest, 7, 1, data, icmp);
  return IpFrame(wire::IpProtocol::kIcmp, icmp);
}

// RFC 1191 "fragmentation needed" quoting a segment of the connection (our port 80 to the peer).
Bytes FragNeeded(const Bytes& quoted_frame) {
  const std::span<const std::uint8_t> quoted =
      std::span(quoted_frame).subspan(wire::kEthernetHeaderLen);
  Bytes icmp(wire::kIcmpHeaderLen + quoted.size());
  wire::WriteIcmpDestinationUnreachable(wire::IcmpUnreachableCode::kFragmentationNeeded, quoted,
                                        icmp);
  return IpFrame(wire::IpProtocol::kIcmp, icmp);
}

// Writes the seeds not seen before (by shape or by content) to `dir`; returns how many.
int WriteNewSeeds(const std::filesystem::path& dir, const std::vector<fuzz::CaptureSeed>& seeds,
                  std::set<std::string>& seen_shapes, std::set<Bytes>& seen_bytes) {
  int written = 0;
  for (const fuzz::CaptureSeed& seed : seeds) {
    if (!seen_shapes.insert(seed.shape).second || !seen_bytes.insert(seed.bytes).second) continue;
    Write(dir / seed.name, seed.bytes);
    ++written;
  }
  return written;
}

// Seeds from each pcap; false when one cannot be read.
bool WriteCaptureSeeds(const std::filesystem::path& out, std::span<char*> pcaps) {
  std::set<std::string> wire_shapes, stack_shapes;
  std::set<Bytes> wire_bytes, stack_bytes;
  for (const char* path : pcaps) {
    const absl::StatusOr<std::vector<fuzz::CapturedFrame>> frames = fuzz::ReadPcap(path);
    if (!frames.ok()) {
      std::fprintf(stderr, "make_corpus: %s\n", std::string(frames.status().message()).c_str());
      return false;
    }
    const std::string label = std::filesystem::path(path).stem().string();
    const int wire = WriteNewSeeds(out / "wire_fuzz", fuzz::WireSeedsFromCapture(*frames, label),
                                   wire_shapes, wire_bytes);
    const int stack = WriteNewSeeds(out / "stack_fuzz", fuzz::StackSeedsFromCapture(*frames, label),
                                    stack_shapes, stack_bytes);
    std::printf("%s: %zu frames, %d wire_fuzz and %d stack_fuzz seeds\n", path, frames->size(),
                wire, stack);
  }
  return true;
}

}  // namespace

// IPv6 frames, named apart (ipv6-*) so that the numbered seeds keep their names: one of each
// message the stack reads for wire_fuzz, and for stack_fuzz a resolution of the peer with echo
// both ways, DAD and router traffic, an upper layer it lacks, broken extension chains, and TCP
// over IPv6 (a listener's SYN-RECEIVED, its SYN cookies, resets, a SYN to a group).
void WriteIpv6Seeds(const std::filesystem::path& out) {
  const wire::Ipv6Address& ours = fuzz::kOurAddress6;
  const wire::Ipv6Address& peer = fuzz::kPeerAddress6;
  const wire::MacAddress peer_mac = *wire::MacAddress::Parse("02:00:00:00:00:01");
  const wire::Ipv6Address router = *wire::Ipv6Address::Parse("fe80::1");
  const auto icmp = [](const wire::Ipv6Address& src, const wire::Ipv6Address& dst,
                       const Bytes& message, std::uint8_t hop_limit = 255) {
    return fuzz::Ipv6Frame(src, dst, wire::IpProtocol::kIcmpv6, message, hop_limit);
  };
  const auto echo = [&](wire::Icmpv6Type type) {
    Bytes message(wire::kIcmpv6HeaderLen + 4);
    wire::WriteIcmpv6Echo(type, 1, 1, Bytes{1, 2, 3, 4}, peer, ours, message);
    return icmp(peer, ours, message, 64);
  };
  const auto solicitation = [&](const wire::Ipv6Address& src, const wire::Ipv6Address& target) {
    const wire::NeighborSolicitationRepr repr{
        target, src.IsUnspecified() ? std::nullopt : std::optional<wire::MacAddress>(peer_mac)};
    Bytes message(wire::NeighborSolicitationLen(repr));
    const wire::Ipv6Address dst = wire::SolicitedNodeMulticast(target);
    wire::WriteNeighborSolicitation(repr, src, dst, message);
    return icmp(src, dst, message);
  };
  const auto advertisement = [&](bool solicited) {
    const wire::NeighborAdvertisementRepr repr{false, solicited, true, peer, peer_mac};
    Bytes message(wire::NeighborAdvertisementLen(repr));
    wire::WriteNeighborAdvertisement(repr, peer, ours, message);
    return icmp(peer, ours, message);
  };
  wire::RouterAdvertisementRepr router_repr;
  router_repr.cur_hop_limit = 64;
  router_repr.router_lifetime_s = 30;
  router_repr.source_link_layer_address = *wire::MacAddress::Parse("02:00:00:00:00:fe");
  router_repr.mtu = 1500;
  router_repr.prefixes.push_back(
      {*wire::Ipv6Address::Parse("2001:db8:5::"), 64, true, true, 60, 30});
  Bytes router_message(wire::RouterAdvertisementLen(router_repr));
  wire::WriteRouterAdvertisement(router_repr, router, wire::Ipv6Address::AllNodes(),
                                 router_message);
  const Bytes router_frame = icmp(router, wire::Ipv6Address::AllNodes(), router_message);
  // UDP behind a destination options header: a Parameter Problem pointing at that header.
  Bytes udp_behind_options = {17, 0, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const Bytes udp =
      fuzz::Ipv6Frame(peer, ours, wire::IpProtocol::kIpv6DestinationOptions, udp_behind_options);
  Bytes truncated_chain = fuzz::Ipv6Frame(peer, ours, wire::IpProtocol::kIpv6HopByHop, Bytes{58});
  Bytes fragment = fuzz::Ipv6Frame(peer, ours, wire::IpProtocol::kIpv6Fragment,
                                   Bytes{58, 0, 0, 1, 0, 0, 0, 1, 128, 0, 0, 0});

  const auto tcp = [&](const wire::Ipv6Address& dst, std::uint16_t src_port, std::uint16_t dst_port,
                       std::uint8_t flags, std::uint32_t seq, std::uint32_t ack) {
    wire::TcpRepr repr{.src_port = src_port,
                       .dst_port = dst_port,
                       .seq = seq,
                       .ack = ack,
                       .flags = flags,
                       .window = 65535};
    if (flags & wire::TcpFlags::kSyn) {
      repr.options.mss = 1440;
      repr.options.window_scale = 7;
      repr.options.sack_permitted = true;
      repr.options.timestamps = wire::TcpOptions::Timestamps{.value = 1000, .echo_reply = 0};
    }
    Bytes segment(wire::TcpHeaderLen(repr.options));
    wire::WriteTcp(repr, peer, dst, segment);
    return fuzz::Ipv6Frame(peer, dst, wire::IpProtocol::kTcp, segment, 64);
  };
  constexpr std::uint8_t kSyn = wire::TcpFlags::kSyn;
  constexpr std::uint8_t kAck = wire::TcpFlags::kAck;

  const std::vector<std::pair<std::string, Bytes>> frames = {
      {"tcp-syn", tcp(ours, 40000, fuzz::kListenPort, kSyn, 1000, 0)},
      {"echo-request", echo(wire::Icmpv6Type::kEchoRequest)},
      {"echo-reply", echo(wire::Icmpv6Type::kEchoReply)},
      {"solicitation", solicitation(peer, ours)},
      {"dad-probe", solicitation(wire::Ipv6Address(), ours)},
      {"advertisement", advertisement(true)},
      {"router-advertisement", router_frame},
      {"udp-behind-options", udp},
      {"truncated-chain", truncated_chain},
      {"fragment", fragment}};
  for (const auto& [name, frame] : frames) Write(out / "wire_fuzz" / ("ipv6-" + name), frame);

  const auto stack_seed = [&](const std::string& name,
                              const std::vector<std::pair<std::uint8_t, Bytes>>& records) {
    Bytes input;
    for (const auto& [advance, frame] : records) AppendRecord(input, advance, 0, frame);
    Write(out / "stack_fuzz" / ("ipv6-" + name), input);
  };
  // The peer resolves us and pings; we answer through a STALE entry that goes to DELAY and PROBE.
  stack_seed("ping-us", {{1, solicitation(peer, ours)},
                         {1, echo(wire::Icmpv6Type::kEchoRequest)},
                         {206, echo(wire::Icmpv6Type::kEchoRequest)},
                         {1, advertisement(true)}});
  // A reply to nothing, an unsolicited advertisement, and another node's DAD for our address.
  stack_seed("neighbors", {{1, echo(wire::Icmpv6Type::kEchoReply)},
                           {1, advertisement(false)},
                           {1, solicitation(wire::Ipv6Address(), ours)}});
  // A router, then its lifetime and the prefix's running out.
  stack_seed("router",
             {{1, router_frame}, {230, router_frame}, {255, echo(wire::Icmpv6Type::kEchoRequest)}});
  // TCP over IPv6 to the listener: a SYN (SYN-RECEIVED, the SYN-ACK and its retransmission), two
  // more from other ports (the third is answered with a cookie: the stack allows two half-open),
  // an ACK no cookie made (a RST), a SYN to a closed port (a RST) and one to a group (dropped).
  stack_seed("tcp",
             {{1, solicitation(peer, ours)},
              {1, tcp(ours, 40000, fuzz::kListenPort, kSyn, 1000, 0)},
              {1, tcp(ours, 40001, fuzz::kListenPort, kSyn, 2000, 0)},
              {1, tcp(ours, 40002, fuzz::kListenPort, kSyn, 3000, 0)},
              {1, tcp(ours, 40003, fuzz::kListenPort, kAck, 4001, 77)},
              {1, tcp(ours, 40004, 9, kSyn, 5000, 0)},
              {1, tcp(wire::Ipv6Address::AllNodes(), 40005, fuzz::kListenPort, kSyn, 6000, 0)},
              {255, tcp(ours, 40000, fuzz::kListenPort, kAck, 1001, 1)}});
  // Errors (to the peer, known from its solicitation): a burst past the rate limit, and
  // malformed packets.
  stack_seed("errors", {{1, solicitation(peer, ours)},
                        {1, udp},
                        {0, udp},
                        {0, udp},
                        {0, udp},
                        {0, udp},
                        {0, udp},
                        {0, udp},
                        {1, truncated_chain},
                        {1, fragment}});
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_corpus OUT_DIR [PCAP...]\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out / "wire_fuzz");
  std::filesystem::create_directories(out / "stack_fuzz");
  constexpr std::uint8_t kA = wire::TcpFlags::kAck;
  constexpr std::uint8_t kS = wire::TcpFlags::kSyn;
  constexpr std::uint8_t kF = wire::TcpFlags::kFin;
  constexpr std::uint8_t kR = wire::TcpFlags::kRst;
  constexpr std::uint8_t kP = wire::TcpFlags::kPsh;
  const Bytes hundred(100, 'd');

  // wire_fuzz: the stack's own frames, then one of each kind the stack receives.
  int n = 0;
  const auto wire_seed = [&](const Bytes& frame) {
    Write(out / "wire_fuzz" / ("seed-" + std::to_string(n++)), frame);
  };
  for (const Bytes& frame : fuzz::SetupFrames()) wire_seed(frame);
  wire_seed(fuzz::ArpFrame(true));
  wire_seed(fuzz::ArpFrame(false));
  wire_seed(Echo());
  wire::TcpOptions all;
  all.mss = 1460;
  all.window_scale = 7;
  all.timestamps = wire::TcpOptions::Timestamps{5, 6};
  all.sack_block_count = 2;
  all.sack_blocks[0] = {100, 200};
  all.sack_blocks[1] = {300, 400};
  const Bytes with_options = TcpFrame(40000, 80, kA, 1, 2, hundred, all);
  wire_seed(with_options);
  // A TAP with offloads reads a virtio-net header before each frame (tap/virtio_net_header.h):
  // the same frame as the kernel would describe it with a checksum verified, left partial, and as
  // a TCPv4 super-segment of 50-byte segments. Named apart so the numbered seeds keep their names.
  const auto vnet_seed = [&](const std::string& name, std::uint8_t flags, std::uint8_t gso_type,
                             std::uint16_t gso_size) {
    const std::uint16_t tcp_start = wire::kEthernetHeaderLen + 20;
    const std::uint16_t hdr_len = static_cast<std::uint16_t>(with_options.size() - hundred.size());
    Bytes input = {flags,
                   gso_type,
                   static_cast<std::uint8_t>(hdr_len),
                   static_cast<std::uint8_t>(hdr_len >> 8),
                   static_cast<std::uint8_t>(gso_size),
                   static_cast<std::uint8_t>(gso_size >> 8),
                   static_cast<std::uint8_t>(tcp_start),
                   0,
                   16,
                   0};
    input.insert(input.end(), with_options.begin(), with_options.end());
    Write(out / "wire_fuzz" / name, input);
  };
  vnet_seed("vnet-data-valid", 2, 0, 0);
  vnet_seed("vnet-needs-csum", 1, 0, 0);
  vnet_seed("vnet-gso-tcpv4", 1, 1, 50);
  const Bytes data_frame = TcpFrame(80, 40000, kA | kP, 1, 2, hundred);
  wire_seed(FragNeeded(data_frame));
  Bytes with_ip_options = TcpFrame(40000, 80, kS, 1, 0, {});
  // IHL 6 with a 4-byte no-op option block: exercises options() and header_len() > 20.
  with_ip_options.insert(with_ip_options.begin() + wire::kEthernetHeaderLen + 20, {1, 1, 1, 0});
  with_ip_options[wire::kEthernetHeaderLen] = 0x46;
  wire_seed(with_ip_options);

  // stack_fuzz: short conversations with the established connection. Relative numbers: SEQ 0 is
  // RCV.NXT and ACK 0 is SND.UNA at the time the frame arrives.
  n = 0;
  const auto stack_seed = [&](const Bytes& input) {
    Write(out / "stack_fuzz" / ("seed-" + std::to_string(n++)), input);
  };
  constexpr std::uint8_t kConn = fuzz::kAddressToConnection | fuzz::kRelativeNumbers;
  const auto seg = [&](std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
                       const Bytes& payload = {}, const wire::TcpOptions& options = {}) {
    return TcpFrame(fuzz::kPeerPort, fuzz::kListenPort, flags, seq, ack, payload, options);
  };
  Bytes in;
  // Data in order, acknowledged, read.
  in.clear();
  AppendRecord(in, 1, kConn, seg(kA | kP, 0, 1460, hundred));
  AppendRecord(in, 50, kConn | fuzz::kAppReceive, seg(kA, 0, 1460));
  stack_seed(in);
  // Out of order, then the hole filled.
  in.clear();
  AppendRecord(in, 1, kConn, seg(kA, 100, 0, hundred));
  AppendRecord(in, 1, kConn | fuzz::kAppReceive, seg(kA, 0, 0, hundred));
  stack_seed(in);
  // Three duplicate ACKs with SACK: fast retransmit.
  in.clear();
  wire::TcpOptions sack;
  sack.sack_block_count = 1;
  sack.sack_blocks[0] = {0, 0};
  for (int i = 0; i < 4; ++i) AppendRecord(in, 5, kConn, seg(kA, 0, 0, {}, sack));
  AppendRecord(in, 5, kConn | fuzz::kAppSend, seg(kA, 0, 4000));
  stack_seed(in);
  // Our sender's recovery with SACK (RFC 6675): the peer SACKs more and more of our data above
  // a lost first segment while the application sends more (limited transmit), until the
  // scoreboard shows the first segment lost; then a partial ACK, and an ACK of everything the
  // two limited transmits sent (Nagle held 1080 of the first 4000 bytes back: 2920 in flight).
  in.clear();
  for (std::uint32_t sacked_end : {2920u, 4000u, 5500u}) {
    wire::TcpOptions blocks;
    blocks.sack_block_count = 1;
    blocks.sack_blocks[0] = {1460, sacked_end};
    AppendRecord(in, 5, kConn | fuzz::kAppSend, seg(kA, 0, 0, {}, blocks));
  }
  {
    wire::TcpOptions blocks;
    blocks.sack_block_count = 1;
    blocks.sack_blocks[0] = {1460, 4040};
    AppendRecord(in, 5, kConn, seg(kA, 0, 1460, {}, blocks));
  }
  AppendRecord(in, 5, kConn, seg(kA, 0, 5840 - 1460));  // up to the second limited transmit
  stack_seed(in);
  // SACK blocks and D-SACK (RFC 2018, RFC 2883): five holes (more ranges than four blocks
  // report), a duplicate of an out-of-order segment, the first hole filled, a duplicate below
  // RCV.NXT (sequence numbers are relative to RCV.NXT), then the other holes filled.
  in.clear();
  for (std::uint32_t offset : {200u, 400u, 600u, 800u, 1000u}) {
    AppendRecord(in, 1, kConn, seg(kA, offset, 0, hundred));
  }
  AppendRecord(in, 1, kConn, seg(kA, 400, 0, hundred));
  AppendRecord(in, 1, kConn, seg(kA, 0, 0, hundred));
  AppendRecord(in, 1, kConn, seg(kA, 0u - 100u, 0, hundred));
  for (int hole = 0; hole < 5; ++hole) AppendRecord(in, 1, kConn, seg(kA, 0, 0, hundred));
  stack_seed(in);
  // Peer closes, we close: LAST-ACK, then everything acknowledged.
  in.clear();
  AppendRecord(in, 1, kConn, seg(kA | kF, 0, 4000));
  AppendRecord(in, 1, kConn | fuzz::kAppReceive | fuzz::kAppClose, seg(kA, 1, 0));
  AppendRecord(in, 1, kConn, seg(kA, 0, 1));
  stack_seed(in);
  // We close first: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, then 2MSL passes.
  in.clear();
  AppendRecord(in, 1, kConn | fuzz::kAppClose, seg(kA, 0, 4000));
  AppendRecord(in, 1, kConn, seg(kA, 0, 1));
  AppendRecord(in, 1, kConn, seg(kA | kF, 0, 0));
  AppendRecord(in, 255, kConn, seg(kA, 1, 0));
  AppendRecord(in, 255, kConn, seg(kA | kF, 0, 0));
  stack_seed(in);
  // Resets: in-window inexact (challenge ACK), then exact.
  in.clear();
  AppendRecord(in, 1, kConn, seg(kR, 100, 0));
  AppendRecord(in, 1, kConn, seg(kR, 0, 0));
  stack_seed(in);
  // SYN on the established connection (challenge ACK), data with a bad ACK.
  in.clear();
  AppendRecord(in, 1, kConn, seg(kS, 5, 0));
  AppendRecord(in, 1, kConn, seg(kA, 0, 0x80000000u, hundred));
  stack_seed(in);
  // Zero window: persist timer and probes over seconds.
  in.clear();
  Bytes zero = seg(kA, 0, 1460);
  zero[wire::kEthernetHeaderLen + 20 + 14] = 0;
  zero[wire::kEthernetHeaderLen + 20 + 15] = 0;
  AppendRecord(in, 1, kConn, zero);
  AppendRecord(in, 210, kConn, zero);
  AppendRecord(in, 230, kConn | fuzz::kAppSend, seg(kA, 0, 0));
  stack_seed(in);
  // Silence: retransmission timeouts and their backoff.
  in.clear();
  for (int i = 0; i < 6; ++i) AppendRecord(in, 220, 0, fuzz::ArpFrame(true));
  stack_seed(in);
  // A second peer connects to the listener and completes (its ACK is relative to nothing useful,
  // the fuzzer has to learn the ISS).
  in.clear();
  AppendRecord(in, 1, fuzz::kAddressToConnection | fuzz::kToListener,
               TcpFrame(40001, 80, kS, 5000, 0, {}, all));
  AppendRecord(in, 1, fuzz::kAddressToConnection | fuzz::kToListener,
               TcpFrame(40001, 80, kA, 5001, 0, {}));
  stack_seed(in);
  // A third peer agrees timestamps (RFC 7323) through the listener: its handshake, in-order data
  // echoing our TSval, an old duplicate that PAWS drops, a segment without the option, then a RST.
  // Our ISS and TSval come from replaying the SYN: the session is deterministic.
  in.clear();
  wire::TcpOptions timestamp_syn;
  timestamp_syn.mss = 1460;
  timestamp_syn.sack_permitted = true;
  timestamp_syn.timestamps = wire::TcpOptions::Timestamps{1000, 0};
  AppendRecord(in, 1, fuzz::kAddressToConnection | fuzz::kToListener,
               TcpFrame(40002, 80, kS, 7000, 0, {}, timestamp_syn));
  std::uint32_t syn_ack_seq = 0, syn_ack_tsval = 0;
  for (const Bytes& frame : fuzz::RunStackInputAndCollect(in)) {
    const auto ethernet = wire::EthernetView::Parse(frame);
    if (!ethernet.ok()) continue;
    const auto ip = wire::Ipv4View::Parse(ethernet->payload());
    if (!ip.ok()) continue;
    const auto tcp = wire::TcpView::Parse(ip->payload());
    if (!tcp.ok() || tcp->dst_port() != 40002) continue;
    const auto options = wire::ParseTcpOptions(tcp->options_bytes());
    if (!options.ok() || !options->timestamps) continue;
    syn_ack_seq = tcp->seq();
    syn_ack_tsval = options->timestamps->value;
  }
  const auto stamped = [&](std::uint32_t tsval) {
    wire::TcpOptions options;
    options.timestamps = wire::TcpOptions::Timestamps{tsval, syn_ack_tsval};
    return options;
  };
  AppendRecord(in, 1, 0, TcpFrame(40002, 80, kA, 7001, syn_ack_seq + 1, {}, stamped(1001)));
  AppendRecord(in, 1, 0,
               TcpFrame(40002, 80, kA | kP, 7001, syn_ack_seq + 1, hundred, stamped(1002)));
  AppendRecord(in, 1, 0,
               TcpFrame(40002, 80, kA | kP, 7001, syn_ack_seq + 1, hundred, stamped(900)));
  AppendRecord(in, 1, 0, TcpFrame(40002, 80, kA | kP, 7101, syn_ack_seq + 1, hundred));
  AppendRecord(in, 1, 0, TcpFrame(40002, 80, kR, 7101, 0, {}));
  stack_seed(in);
  // Ping, ARP, and an ICMP "fragmentation needed" for the connection.
  in.clear();
  AppendRecord(in, 1, 0, Echo());
  AppendRecord(in, 1, 0, fuzz::ArpFrame(false));
  AppendRecord(in, 1, 0, FragNeeded(data_frame));
  stack_seed(in);
  // A window update and all data acknowledged, then more to send.
  in.clear();
  AppendRecord(in, 20, kConn | fuzz::kAppSend, seg(kA, 0, 4000));
  AppendRecord(in, 20, kConn | fuzz::kAppShutdown, seg(kA, 0, 1500));
  stack_seed(in);

  WriteIpv6Seeds(out);

  if (!WriteCaptureSeeds(out, std::span(argv + 2, static_cast<std::size_t>(argc - 2)))) return 1;
  std::printf("wrote the corpus to %s\n", argv[1]);
  return 0;
}
