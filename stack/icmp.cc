#include "stack/icmp.h"

#include "stack/wire/icmp.h"
#include "stack/wire/ipv4.h"

namespace tapstack {

Icmp::Icmp(IpOutput& ip, Counters& counters) : ip_(ip), counters_(counters) {}

void Icmp::Ingest(wire::Ipv4Address source, wire::Ipv4Address destination,
                  std::span<const std::uint8_t> message) {
  const wire::Parsed<wire::IcmpView> view = wire::IcmpView::Parse(message);
  if (!view.ok()) {
    counters_.Increment(Counter::kDropIcmpMalformed);
    return;
  }
  if (!view->checksum_valid()) {
    counters_.Increment(Counter::kDropIcmpBadChecksum);
    return;
  }
  counters_.Increment(Counter::kRxIcmp);
  switch (view->type()) {
    case wire::IcmpType::kEchoRequest: {
      // RFC 1122 3.2.2.6: the reply carries the request's identifier, sequence and data.
      message_.resize(wire::kIcmpHeaderLen + view->payload().size());
      const std::size_t length =
          wire::WriteIcmpEcho(wire::IcmpType::kEchoReply, view->echo_identifier(),
                              view->echo_sequence(), view->payload(), message_);
      // From the address the request was sent to, as RFC 1122 3.2.2.6 asks of a reply.
      if (ip_.Send(destination, source, wire::IpProtocol::kIcmp,
                   std::span<const std::uint8_t>(message_).first(length))) {
        counters_.Increment(Counter::kTxIcmpEchoReplies);
      }
      return;
    }
    case wire::IcmpType::kEchoReply:
      counters_.Increment(Counter::kRxIcmpEchoReplies);
      if (echo_reply_handler_) {
        echo_reply_handler_(EchoReply{source, view->echo_identifier(), view->echo_sequence(),
                                      view->payload().size()});
      }
      return;
    default:
      counters_.Increment(Counter::kDropIcmpUnsupportedType);
      return;
  }
}

bool Icmp::SendEchoRequest(wire::Ipv4Address destination, std::uint16_t identifier,
                           std::uint16_t sequence, std::span<const std::uint8_t> payload) {
  message_.resize(wire::kIcmpHeaderLen + payload.size());
  const std::size_t length =
      wire::WriteIcmpEcho(wire::IcmpType::kEchoRequest, identifier, sequence, payload, message_);
  if (!ip_.Send(ip_.primary_address(), destination, wire::IpProtocol::kIcmp,
                std::span<const std::uint8_t>(message_).first(length))) {
    return false;
  }
  counters_.Increment(Counter::kTxIcmpEchoRequests);
  return true;
}

}  // namespace tapstack
