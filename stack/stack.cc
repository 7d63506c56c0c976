#include "stack/stack.h"

#include <algorithm>
#include <cerrno>
#include <optional>
#include <random>
#include <utility>

#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"

namespace tapstack {

namespace {

// The configuration as the stack keeps it: the MAC drawn when none was given, the extra
// addresses sorted for HasAddress and without duplicates or the primary address.
InterfaceConfig Resolved(InterfaceConfig interface, std::uint64_t seed) {
  if (!interface.mac) interface.mac = RandomLocalMac(seed);
  std::vector<wire::Ipv4Address>& extra = interface.extra_addresses;
  std::erase(extra, interface.address);
  std::sort(extra.begin(), extra.end());
  extra.erase(std::unique(extra.begin(), extra.end()), extra.end());
  return interface;
}

std::uint16_t FirstIdentification(std::uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x69706964u);  // a different stream from the MAC's
  return static_cast<std::uint16_t>(rng());
}

// The addresses and TCP segment of an Ethernet/IPv4/TCP frame, for the prefetch hints of a
// burst; nothing is validated beyond the lengths (IngestFrame does that when it processes it).
struct TcpInFrame {
  wire::Ipv4Address source;
  wire::Ipv4Address destination;
  std::span<const std::uint8_t> segment;
};
std::optional<TcpInFrame> SniffTcp(std::span<const std::uint8_t> frame) {
  const wire::Parsed<wire::EthernetView> ethernet = wire::EthernetView::Parse(frame);
  if (!ethernet.ok() || ethernet->ethertype() != wire::EtherType::kIpv4) return std::nullopt;
  const wire::Parsed<wire::Ipv4View> ip = wire::Ipv4View::Parse(ethernet->payload());
  if (!ip.ok() || ip->protocol() != wire::IpProtocol::kTcp) return std::nullopt;
  return TcpInFrame{ip->src(), ip->dst(), ip->payload()};
}

// A burst asks for memory in groups of frames: at every eighth frame i it asks for the demux
// lines of frames i + 24 to i + 31 and, their table entries having arrived meanwhile, for the
// connections of frames i + 8 to i + 15. Asking for a group at once lets the misses, and the
// page walks behind them, overlap; one frame at a time (12 and 6 ahead), the same burst of
// keepalive_segment at a million connections cost about 20 % more per segment, measured on
// alternate bursts of one run. Groups of 4 to 16 did about equally well; the demux lines two
// groups ahead cost about 10 % more than three, four groups ahead a little more than three
// (alternating runs of both builds).
constexpr std::size_t kPrefetchGroup = 8;
constexpr std::size_t kDemuxGroupsAhead = 3;

}  // namespace

Stack::Stack(const StackConfig& config, timers::TimePoint now, FrameSink sink)
    : interface_(Resolved(config.interface, config.random_seed)),
      timers_(timers::MakeTimerQueue(config.timer_queue, now, config.timer_resolution)),
      ethernet_(*interface_.mac, std::move(sink), counters_),
      arp_(config.arp, interface_, ethernet_, *timers_, counters_),
      ip_(interface_, arp_, counters_, FirstIdentification(config.random_seed)),
      icmp_(ip_, counters_),
      tcp_(config.tcp, interface_.mtu, ip_, *timers_, counters_, config.random_seed) {
  if (ethernet_.sink_takes_offloads()) tcp_.set_tx_offload(config.tx_offload);
  if (interface_.ipv6.enabled) {
    ipv6_ = std::make_unique<Ipv6Layer>(config.ndp, config.icmpv6, interface_, ethernet_, *timers_,
                                        counters_, tcp_, config.random_seed);
  }
}

template <typename Call>
auto Stack::AtTime(timers::TimePoint now, Call&& call) {
  timers_->Advance(now);
  auto result = call();
  tcp_.FlushEvents();
  return result;
}

void Stack::Ingest(std::span<const std::uint8_t> frame, timers::TimePoint now,
                   RxChecksum checksum) {
  // Timers due before this frame run first, so the frame sees the state at its arrival time.
  AtTime(now, [&] {
    IngestFrame(frame, checksum);
    return true;
  });
}

void Stack::IngestBurst(std::span<const std::span<const std::uint8_t>> frames,
                        timers::TimePoint now, std::span<const RxChecksum> checksums) {
  AtTime(now, [&] {
    // Software pipelining: the frames of one group are processed while the next group's
    // connections and the demux lines of a group further on are on their way from memory. With a
    // million connections each lookup is several cache misses; one after the other they
    // dominate the per-segment cost.
    const bool prefetch = tcp_.PrefetchPays();
    const auto hint = [&](std::size_t begin, bool connection) {
      const std::size_t end = std::min(begin + kPrefetchGroup, frames.size());
      for (std::size_t i = begin; i < end; ++i) {
        const std::optional<TcpInFrame> tcp = SniffTcp(frames[i]);
        if (!tcp) continue;
        if (connection) {
          tcp_.PrefetchConnection(tcp->source, tcp->destination, tcp->segment);
        } else {
          tcp_.PrefetchDemux(tcp->source, tcp->destination, tcp->segment);
        }
      }
    };
    if (prefetch) {
      for (std::size_t group = 0; group < kDemuxGroupsAhead; ++group) {
        hint(group * kPrefetchGroup, /*connection=*/false);
      }
      hint(0, /*connection=*/true);
    }
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (prefetch && i % kPrefetchGroup == 0) {
        hint(i + kDemuxGroupsAhead * kPrefetchGroup, /*connection=*/false);
        hint(i + kPrefetchGroup, /*connection=*/true);
      }
      IngestFrame(frames[i], i < checksums.size() ? checksums[i] : RxChecksum::kUnverified);
    }
    return true;
  });
}

void Stack::IngestFrame(std::span<const std::uint8_t> frame, RxChecksum checksum) {
  counters_.Increment(Counter::kRxFrames);
  const wire::Parsed<wire::EthernetView> ethernet = wire::EthernetView::Parse(frame);
  if (!ethernet.ok()) {
    counters_.Increment(Counter::kDropEthernetMalformed);
    return;
  }
  const wire::MacAddress destination = ethernet->dst();
  if (destination != *interface_.mac && !destination.IsBroadcast() &&
      !(ipv6_ && destination.IsMulticast() &&
        ipv6_->addresses().AcceptsMulticastMac(destination))) {
    counters_.Increment(Counter::kDropEthernetNotForUs);
    return;
  }
  switch (ethernet->ethertype()) {
    case wire::EtherType::kArp:
      arp_.Ingest(ethernet->payload());
      return;
    case wire::EtherType::kIpv4:
      IngestIpv4(ethernet->payload(), checksum);
      return;
    case wire::EtherType::kIpv6:
      if (!ipv6_) break;
      ipv6_->Ingest(ethernet->payload(), checksum);
      return;
    default:
      break;
  }
  counters_.Increment(Counter::kDropEthernetUnsupportedType);
}

void Stack::IngestIpv4(std::span<const std::uint8_t> packet, RxChecksum checksum) {
  const wire::Parsed<wire::Ipv4View> ip = wire::Ipv4View::Parse(packet);
  if (!ip.ok()) {
    counters_.Increment(Counter::kDropIpv4Malformed);
    return;
  }
  // Checked even when the device vouched for the transport checksum: the kernel fills in the IPv4
  // header checksum of every packet, super-segments included, and 20 bytes cost little.
  if (!ip->header_checksum_valid()) {
    counters_.Increment(Counter::kDropIpv4BadChecksum);
    return;
  }
  // RFC 1122 3.3.4.2: a host that does not forward accepts only its own address. Broadcast and
  // multicast IP are not served (nothing above IP here uses them).
  if (!HasAddress(interface_, ip->dst())) {
    counters_.Increment(Counter::kDropIpv4NotForUs);
    return;
  }
  // Reassembly is not implemented: every fragment is dropped and counted.
  if (ip->is_fragment()) {
    counters_.Increment(Counter::kDropIpv4Fragment);
    return;
  }
  counters_.Increment(Counter::kRxIpv4);
  switch (ip->protocol()) {
    case wire::IpProtocol::kIcmp:
      // Always checked: Linux computes ICMP checksums in software, never partial.
      icmp_.Ingest(ip->src(), ip->dst(), ip->payload());
      return;
    case wire::IpProtocol::kTcp:
      tcp_.Ingest(ip->src(), ip->dst(), ip->payload(), checksum);
      return;
    default:
      counters_.Increment(Counter::kDropIpv4UnsupportedProtocol);
      return;
  }
}

void Stack::Advance(timers::TimePoint now) {
  AtTime(now, [] { return true; });
}

std::error_code Stack::Listen(std::uint16_t port, int backlog, timers::TimePoint now) {
  return AtTime(now, [&] { return tcp_.Listen(port, backlog); });
}

std::error_code Stack::StopListening(std::uint16_t port, timers::TimePoint now) {
  return AtTime(now, [&] { return tcp_.StopListening(port); });
}

std::optional<tcp::ConnectionId> Stack::Accept(std::uint16_t port) { return tcp_.Accept(port); }

tcp::Result<tcp::ConnectionId> Stack::Connect(wire::Ipv4Address remote, std::uint16_t port,
                                              timers::TimePoint now) {
  return Connect(remote, port, tcp_.config().defaults, now);
}

tcp::Result<tcp::ConnectionId> Stack::Connect(wire::Ipv4Address remote, std::uint16_t port,
                                              const tcp::ConnectionOptions& options,
                                              timers::TimePoint now) {
  return AtTime(now, [&] { return tcp_.Connect(interface_.address, remote, port, options); });
}

tcp::Result<tcp::ConnectionId> Stack::ConnectFrom(wire::Ipv4Address local, wire::Ipv4Address remote,
                                                  std::uint16_t port,
                                                  const tcp::ConnectionOptions& options,
                                                  timers::TimePoint now) {
  // As bind(2) answers for an address the host does not have.
  if (!HasAddress(interface_, local)) return tcp::Errno(EADDRNOTAVAIL);
  return AtTime(now, [&] { return tcp_.Connect(local, remote, port, options); });
}

tcp::Result<tcp::ConnectionId> Stack::Connect(const wire::Ipv6Address& remote, std::uint16_t port,
                                              timers::TimePoint now) {
  return Connect(remote, port, tcp_.config().defaults, now);
}

tcp::Result<tcp::ConnectionId> Stack::Connect(const wire::Ipv6Address& remote, std::uint16_t port,
                                              const tcp::ConnectionOptions& options,
                                              timers::TimePoint now) {
  if (!ipv6_) return tcp::Errno(EAFNOSUPPORT);
  return AtTime(now, [&]() -> tcp::Result<tcp::ConnectionId> {
    // RFC 6724 source address selection, as for an echo request. None while duplicate address
    // detection still runs on every address that could serve (RFC 4862 5.4): the address is
    // not ours yet, as Linux answers connect(2) from a tentative address.
    const std::optional<wire::Ipv6Address> local = ipv6_->addresses().SourceFor(remote);
    if (!local) return tcp::Errno(EADDRNOTAVAIL);
    return tcp_.Connect(*local, remote, port, options);
  });
}

tcp::Result<tcp::ConnectionId> Stack::Connect(const wire::IpAddress& remote, std::uint16_t port,
                                              timers::TimePoint now) {
  return Connect(remote, port, tcp_.config().defaults, now);
}

tcp::Result<tcp::ConnectionId> Stack::Connect(const wire::IpAddress& remote, std::uint16_t port,
                                              const tcp::ConnectionOptions& options,
                                              timers::TimePoint now) {
  if (remote.is_ipv6()) return Connect(remote.ipv6(), port, options, now);
  return Connect(remote.ipv4(), port, options, now);
}

tcp::IoResult Stack::Send(tcp::ConnectionId id, std::span<const std::uint8_t> data,
                          timers::TimePoint now) {
  return AtTime(now, [&] { return tcp_.Send(id, data); });
}

tcp::IoResult Stack::Receive(tcp::ConnectionId id, std::span<std::uint8_t> out,
                             timers::TimePoint now) {
  return AtTime(now, [&] { return tcp_.Receive(id, out); });
}

std::error_code Stack::Shutdown(tcp::ConnectionId id, timers::TimePoint now) {
  return AtTime(now, [&] { return tcp_.Shutdown(id); });
}

std::error_code Stack::Close(tcp::ConnectionId id, timers::TimePoint now) {
  return AtTime(now, [&] { return tcp_.Close(id); });
}

std::error_code Stack::Abort(tcp::ConnectionId id, timers::TimePoint now) {
  return AtTime(now, [&] { return tcp_.Abort(id); });
}

std::error_code Stack::SetKeepalive(tcp::ConnectionId id, const tcp::KeepaliveOptions& keepalive,
                                    timers::TimePoint now) {
  return AtTime(now, [&] { return tcp_.SetKeepalive(id, keepalive); });
}

std::error_code Stack::SetUserTimeout(tcp::ConnectionId id, tcp::Duration user_timeout,
                                      timers::TimePoint now) {
  return AtTime(now, [&] { return tcp_.SetUserTimeout(id, user_timeout); });
}

std::error_code Stack::SetNoDelay(tcp::ConnectionId id, bool no_delay, timers::TimePoint now) {
  return AtTime(now, [&] { return tcp_.SetNoDelay(id, no_delay); });
}

bool Stack::SendEchoRequest(wire::Ipv4Address destination, std::uint16_t identifier,
                            std::uint16_t sequence, std::span<const std::uint8_t> payload,
                            timers::TimePoint now) {
  return AtTime(now,
                [&] { return icmp_.SendEchoRequest(destination, identifier, sequence, payload); });
}

bool Stack::SendEchoRequest(const wire::Ipv6Address& destination, std::uint16_t identifier,
                            std::uint16_t sequence, std::span<const std::uint8_t> payload,
                            timers::TimePoint now) {
  if (!ipv6_) return false;
  return AtTime(now, [&] {
    return ipv6_->icmpv6().SendEchoRequest(destination, identifier, sequence, payload);
  });
}

}  // namespace tapstack
