// A hand-driven TCP peer for unit tests (in the spirit of lwIP's test/unit/tcp): the test builds
// every segment the peer sends and inspects every segment our stack emits, on a virtual clock.
#ifndef TAPSTACK_TESTS_SUPPORT_TCP_HARNESS_H_
#define TAPSTACK_TESTS_SUPPORT_TCP_HARNESS_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stack/stack.h"
#include "stack/tx_offload.h"
#include "stack/wire/tcp.h"

namespace tapstack::testing {

using Bytes = std::vector<std::uint8_t>;

// One TCP segment our stack emitted, decoded.
struct Segment {
  std::uint8_t flags = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t window = 0;
  wire::TcpOptions options;
  Bytes payload;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  // What the stack asked the device to finish on the frame (HarnessOptions::tx_offload): a
  // super-segment's cut size. Partial checksums are completed before the segment is decoded.
  TxOffload offload;

  bool Has(std::uint8_t flag) const { return (flags & flag) != 0; }
  bool Only(std::uint8_t flag_set) const { return flags == flag_set; }
  std::string Describe() const;  // "[SA] seq=1 ack=2 win=3 len=0"
};

// Decodes a frame as Ethernet/IPv4/TCP; nullopt for anything else (ARP, ICMP).
std::optional<Segment> DecodeTcp(std::span<const std::uint8_t> frame);

// The Ethernet frame carrying `segment` from src to dst (IPv4 without options, checksums right).
Bytes TcpFrame(const wire::MacAddress& src_mac, wire::Ipv4Address src,
               const wire::MacAddress& dst_mac, wire::Ipv4Address dst,
               const wire::TcpRepr& segment);

struct HarnessOptions {
  std::uint16_t peer_port = 40000;
  tcp::TcpConfig tcp;
  // The peer's SYN (or SYN-ACK) in EstablishPassive and EstablishActive offers SACK-permitted.
  bool peer_offers_sack = false;
  // What the device offers our stack (TSO, checksum offload): frames are captured as handed over.
  TxOffloadSupport tx_offload;
};

class TcpHarness {
 public:
  static const wire::Ipv4Address kOurAddress;
  static const wire::Ipv4Address kPeerAddress;
  static const wire::MacAddress kOurMac;
  static const wire::MacAddress kPeerMac;

  explicit TcpHarness(HarnessOptions options = {});

  Stack& stack() { return stack_; }
  timers::TimePoint now() const { return now_; }
  void AdvanceBy(tcp::Duration duration);
  void AdvanceTo(timers::TimePoint time);

  // Segments our stack sent since the last Take; ARP frames are discarded.
  std::vector<Segment> Take();
  // Exactly one segment must have been sent; returns it.
  Segment TakeOne();

  // The peer sends a segment to `our_port` (options and payload optional).
  void Inject(std::uint16_t our_port, std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
              std::uint16_t window, std::span<const std::uint8_t> payload = {},
              const wire::TcpOptions& options = {});

  // Drives a complete passive open on `our_port` (listen, SYN, SYN-ACK, ACK) and accepts it.
  // The peer's ISN is `peer_iss`; returns the connection.
  tcp::ConnectionId EstablishPassive(std::uint16_t our_port, std::uint32_t peer_iss,
                                     std::uint16_t peer_window = 65535);
  // Drives an active open from our side to the peer's port and returns the connection.
  tcp::ConnectionId EstablishActive(std::uint16_t peer_port, std::uint32_t peer_iss,
                                    std::uint16_t peer_window = 65535);

  std::uint16_t peer_port() const { return options_.peer_port; }
  // The port the peer sends from (and our connections are to).
  void set_peer_port(std::uint16_t port) { options_.peer_port = port; }
  std::uint16_t our_port() const { return our_port_; }
  std::uint32_t our_iss() const { return our_iss_; }
  std::uint32_t peer_iss() const { return peer_iss_; }

  // Everything the application can read on `id` now.
  std::string ReadAll(tcp::ConnectionId id);

  const std::vector<tcp::Event>& events() const { return events_; }
  const std::vector<tcp::Trace>& traces() const { return traces_; }
  std::uint64_t Count(Counter counter) const { return stack_.counters()[counter]; }

 private:
  static StackConfig MakeConfig(const HarnessOptions& options);
  // The peer answers every ARP request for its address (and ARP frames leave the queue).
  void AnswerArp();

  HarnessOptions options_;
  timers::TimePoint now_;
  struct SentFrame {
    Bytes bytes;
    TxOffload offload;
  };
  std::deque<SentFrame> sent_;
  std::vector<tcp::Event> events_;
  std::vector<tcp::Trace> traces_;
  Stack stack_;
  std::uint16_t our_port_ = 0;
  std::uint32_t our_iss_ = 0;
  std::uint32_t peer_iss_ = 0;
};

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_TCP_HARNESS_H_
