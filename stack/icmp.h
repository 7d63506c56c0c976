// ICMP echo (RFC 792, RFC 1122 3.2.2.6): replies to echo requests for our address and sends our own
// requests, reporting the replies that come back.
#ifndef TAPSTACK_STACK_ICMP_H_
#define TAPSTACK_STACK_ICMP_H_

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "stack/counters.h"
#include "stack/ip_output.h"
#include "stack/wire/bytes.h"

namespace tapstack {

struct EchoReply {
  wire::Ipv4Address from;
  std::uint16_t identifier;
  std::uint16_t sequence;
  std::size_t payload_len;
};

class Icmp {
 public:
  Icmp(IpOutput& ip, Counters& counters);

  // Handles one ICMP message carried in an IPv4 packet from `source` to us.
  // `destination` is the address of ours the message was sent to.
  void Ingest(wire::Ipv4Address source, wire::Ipv4Address destination,
              std::span<const std::uint8_t> message);

  bool SendEchoRequest(wire::Ipv4Address destination, std::uint16_t identifier,
                       std::uint16_t sequence, std::span<const std::uint8_t> payload);

  void set_echo_reply_handler(std::function<void(const EchoReply&)> handler) {
    echo_reply_handler_ = std::move(handler);
  }

 private:
  IpOutput& ip_;
  Counters& counters_;
  std::function<void(const EchoReply&)> echo_reply_handler_;
  std::vector<std::uint8_t> message_;  // reused for every message we send
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_ICMP_H_
