#include "stack/icmpv6.h"

#include <algorithm>

#include "stack/wire/icmpv6.h"
#include "stack/wire/ip_protocol.h"

namespace tapstack {

namespace {

// The offset in `packet` of the next header field that named its upper-layer protocol: the fixed
// header's (6) or the last skipped extension header's first byte (RFC 8200 4: the pointer of the
// Parameter Problem). The chain was validated by Ipv6View::Parse.
std::uint32_t NextHeaderFieldOffset(const wire::Ipv6View& packet) {
  const std::span<const std::uint8_t> extensions = packet.extension_headers();
  std::size_t field = 6;
  std::size_t offset = 0;
  while (offset < extensions.size()) {
    field = wire::kIpv6HeaderLen + offset;
    offset += (std::size_t{extensions[offset + 1]} + 1) * 8;
  }
  return static_cast<std::uint32_t>(field);
}

}  // namespace

Icmpv6::Icmpv6(const Icmpv6Config& config, const Ipv6Addresses& addresses, Ipv6Output& ip,
               NeighborDiscovery& ndp, timers::TimerQueue& timers, Counters& counters)
    : config_(config),
      addresses_(addresses),
      ip_(ip),
      ndp_(ndp),
      timers_(timers),
      counters_(counters),
      error_tokens_(config.error_burst),
      last_refill_(timers.now()) {}

void Icmpv6::Ingest(const wire::Ipv6View& packet) {
  const wire::Parsed<wire::Icmpv6View> view = wire::Icmpv6View::Parse(packet.upper_layer_payload());
  if (!view.ok()) {
    counters_.Increment(Counter::kDropIcmpv6Malformed);
    return;
  }
  if (!view->checksum_valid(packet.src(), packet.dst())) {
    counters_.Increment(Counter::kDropIcmpv6BadChecksum);
    return;
  }
  counters_.Increment(Counter::kRxIcmpv6);
  switch (view->type()) {
    case wire::Icmpv6Type::kEchoRequest: {
      // A request from :: cannot be answered (a node without an address yet).
      if (packet.src().IsUnspecified()) return;
      // RFC 4443 4.2: the reply carries the request's identifier, sequence and data, from the
      // address the request went to or, for a request to a group, from a unicast address of ours.
      const std::optional<wire::Ipv6Address> source =
          packet.dst().IsMulticast() ? addresses_.SourceFor(packet.src()) : packet.dst();
      if (!source) return;
      const std::span<const std::uint8_t> data = view->payload();
      if (ip_.Send(*source, packet.src(), wire::IpProtocol::kIcmpv6,
                   wire::kIcmpv6HeaderLen + data.size(), [&](std::span<std::uint8_t> out) {
                     return wire::WriteIcmpv6Echo(wire::Icmpv6Type::kEchoReply,
                                                  view->echo_identifier(), view->echo_sequence(),
                                                  data, *source, packet.src(), out);
                   })) {
        counters_.Increment(Counter::kTxIcmpv6EchoReplies);
      }
      return;
    }
    case wire::Icmpv6Type::kEchoReply:
      counters_.Increment(Counter::kRxIcmpv6EchoReplies);
      if (echo_reply_handler_) {
        echo_reply_handler_(Icmpv6EchoReply{packet.src(), view->echo_identifier(),
                                            view->echo_sequence(), view->payload().size()});
      }
      return;
    case wire::Icmpv6Type::kNeighborSolicitation:
    case wire::Icmpv6Type::kNeighborAdvertisement:
    case wire::Icmpv6Type::kRouterAdvertisement:
      ndp_.Ingest(packet, *view);
      return;
    default:
      // Errors reported to us have no one to go to yet (no transport over IPv6); router
      // solicitations and redirects are for routers and from them.
      counters_.Increment(Counter::kDropIcmpv6UnsupportedType);
      return;
  }
}

bool Icmpv6::SendEchoRequest(const wire::Ipv6Address& destination, std::uint16_t identifier,
                             std::uint16_t sequence, std::span<const std::uint8_t> payload) {
  const std::optional<wire::Ipv6Address> source = addresses_.SourceFor(destination);
  if (!source) {
    counters_.Increment(Counter::kDropIpv6NoSourceAddress);
    return false;
  }
  if (!ip_.Send(*source, destination, wire::IpProtocol::kIcmpv6,
                wire::kIcmpv6HeaderLen + payload.size(), [&](std::span<std::uint8_t> out) {
                  return wire::WriteIcmpv6Echo(wire::Icmpv6Type::kEchoRequest, identifier, sequence,
                                               payload, *source, destination, out);
                })) {
    return false;
  }
  counters_.Increment(Counter::kTxIcmpv6EchoRequests);
  return true;
}

bool Icmpv6::ErrorAllowed() {
  const timers::TimePoint now = timers_.now();
  if (config_.error_interval.count() > 0) {
    const auto refills = (now - last_refill_) / config_.error_interval;
    if (refills > 0) {
      error_tokens_ =
          static_cast<int>(std::min<std::int64_t>(config_.error_burst, error_tokens_ + refills));
      last_refill_ += refills * config_.error_interval;
    }
  }
  if (error_tokens_ <= 0) {
    counters_.Increment(Counter::kIcmpv6ErrorsRateLimited);
    return false;
  }
  --error_tokens_;
  return true;
}

void Icmpv6::SendUnrecognizedNextHeader(const wire::Ipv6View& packet) {
  // RFC 4443 2.4 (e): never in answer to a packet to a group (code 1 is not among the
  // exceptions) or from an address that does not name one node.
  if (packet.dst().IsMulticast() || packet.src().IsUnspecified() || packet.src().IsMulticast()) {
    return;
  }
  if (!ErrorAllowed()) return;
  const std::span<const std::uint8_t> quoted = wire::Icmpv6ErrorQuote(packet);
  const wire::Ipv6Address source = packet.dst();
  if (ip_.Send(source, packet.src(), wire::IpProtocol::kIcmpv6,
               wire::kIcmpv6HeaderLen + quoted.size(), [&](std::span<std::uint8_t> out) {
                 return wire::WriteIcmpv6ParameterProblem(
                     wire::Icmpv6ParameterProblemCode::kUnrecognizedNextHeader,
                     NextHeaderFieldOffset(packet), quoted, source, packet.src(), out);
               })) {
    counters_.Increment(Counter::kTxIcmpv6Errors);
  }
}

}  // namespace tapstack
