// tapstack::Stack: the whole stack behind one sans-IO object.
//
// The embedder owns the clock and the device. It passes every received frame to Ingest() with the
// current time, calls Advance() when NextDeadline() is reached, and sends every frame the stack
// hands to its FrameSink. The stack never reads a clock and never makes a system call, so the same
// object runs over a TAP device, an in-memory link, or a virtual clock in tests.
#ifndef TAPSTACK_STACK_STACK_H_
#define TAPSTACK_STACK_STACK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "stack/arp.h"
#include "stack/counters.h"
#include "stack/ethernet_output.h"
#include "stack/icmp.h"
#include "stack/icmpv6.h"
#include "stack/interface.h"
#include "stack/ip_output.h"
#include "stack/ipv6_layer.h"
#include "stack/ndp_config.h"
#include "stack/rx_checksum.h"
#include "stack/tcp/engine.h"
#include "stack/tcp/tcp_types.h"
#include "timers/timer_queue.h"

namespace tapstack {

struct StackConfig {
  InterfaceConfig interface;
  ArpConfig arp;
  // Used when interface.ipv6 is enabled.
  NdpConfig ndp;
  Icmpv6Config icmpv6;
  tcp::TcpConfig tcp;
  // Seeds everything random the stack draws (the default MAC, IP identification start, later the
  // ISN secret). Tests fix it; the tools draw it from the OS.
  std::uint64_t random_seed = 0;
  timers::Duration timer_resolution = std::chrono::milliseconds(1);
  // The hierarchical wheel; the heap and the sweep exist to compare against it (timer_queue.h).
  timers::TimerQueueKind timer_queue = timers::TimerQueueKind::kWheel;
  // What the device finishes on frames we send (TSO, checksums); the embedder copies it from the
  // device's capabilities. Used only with a sink that takes offloads (FrameSink::takes_offloads).
  TxOffloadSupport tx_offload;
};

class Stack {
 public:
  // `now` is the stack's time origin; every later call passes a time at or after it.
  Stack(const StackConfig& config, timers::TimePoint now, FrameSink sink);

  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Processes one received Ethernet frame. Anything it cannot use is dropped and counted.
  // `checksum` is what the device knows of its TCP checksum (stack/rx_checksum.h): a device with
  // receive offloads vouches for some, which are then not checked again. An IPv4 frame may be
  // larger than the MTU when the device hands over coalesced TCP super-segments.
  void Ingest(std::span<const std::uint8_t> frame, timers::TimePoint now,
              RxChecksum checksum = RxChecksum::kUnverified);
  // Processes frames that arrived together (one wakeup's worth from a device), in order, exactly
  // as Ingest would each of them at `now`, except that the timers are advanced once before the
  // first and the TCP events delivered once after the last. The frames and the events are the
  // same as from frame-by-frame Ingest as long as the event handler does not call back into the
  // stack; when it does (say, Receive on kReadable), it now does so once per burst. `checksums`
  // is empty (every frame kUnverified) or holds one status per frame.
  void IngestBurst(std::span<const std::span<const std::uint8_t>> frames, timers::TimePoint now,
                   std::span<const RxChecksum> checksums = {});
  // Runs every timer due at or before `now`.
  void Advance(timers::TimePoint now);
  // When Advance() next has work to do; nullopt when no timer is pending.
  std::optional<timers::TimePoint> NextDeadline() const { return timers_->NextDeadline(); }

  // Sends an ICMP echo request (resolving the next hop first if needed). Replies are reported to
  // the handler set with set_echo_reply_handler.
  bool SendEchoRequest(wire::Ipv4Address destination, std::uint16_t identifier,
                       std::uint16_t sequence, std::span<const std::uint8_t> payload,
                       timers::TimePoint now);
  void set_echo_reply_handler(std::function<void(const EchoReply&)> handler) {
    icmp_.set_echo_reply_handler(std::move(handler));
  }
  // The same over IPv6 (RFC 4443 4.1), from the source address RFC 6724 picks. False, sending
  // nothing, without IPv6, while no suitable address of ours is preferred yet (duplicate address
  // detection runs), or without a route.
  bool SendEchoRequest(const wire::Ipv6Address& destination, std::uint16_t identifier,
                       std::uint16_t sequence, std::span<const std::uint8_t> payload,
                       timers::TimePoint now);
  void set_icmpv6_echo_reply_handler(std::function<void(const Icmpv6EchoReply&)> handler) {
    if (ipv6_) ipv6_->icmpv6().set_echo_reply_handler(std::move(handler));
  }

  // --- TCP (RFC 9293). Every call takes the current time. Events are queued and delivered to the
  // event handler before the call (or Ingest/Advance) returns, so the handler may call back into
  // the stack. Traces are delivered synchronously from inside the engine: a trace handler must
  // only record, never call back into the stack.
  // Errors: EINVAL (port 0), EADDRINUSE; StopListening: ENOENT.
  std::error_code Listen(std::uint16_t port, int backlog, timers::TimePoint now);
  std::error_code StopListening(std::uint16_t port, timers::TimePoint now);
  std::optional<tcp::ConnectionId> Accept(std::uint16_t port);
  tcp::Result<tcp::ConnectionId> Connect(wire::Ipv4Address remote, std::uint16_t port,
                                         timers::TimePoint now);
  tcp::Result<tcp::ConnectionId> Connect(wire::Ipv4Address remote, std::uint16_t port,
                                         const tcp::ConnectionOptions& options,
                                         timers::TimePoint now);
  // Over IPv6, from the address RFC 6724 picks among ours. EAFNOSUPPORT without IPv6,
  // EADDRNOTAVAIL while no address of ours can serve yet (duplicate address detection runs).
  tcp::Result<tcp::ConnectionId> Connect(const wire::Ipv6Address& remote, std::uint16_t port,
                                         timers::TimePoint now);
  tcp::Result<tcp::ConnectionId> Connect(const wire::Ipv6Address& remote, std::uint16_t port,
                                         const tcp::ConnectionOptions& options,
                                         timers::TimePoint now);
  // Either family, as the address says.
  tcp::Result<tcp::ConnectionId> Connect(const wire::IpAddress& remote, std::uint16_t port,
                                         timers::TimePoint now);
  tcp::Result<tcp::ConnectionId> Connect(const wire::IpAddress& remote, std::uint16_t port,
                                         const tcp::ConnectionOptions& options,
                                         timers::TimePoint now);
  // Connect from `local`, one of the interface's addresses (InterfaceConfig::extra_addresses);
  // Connect uses the first. EADDRNOTAVAIL when `local` is not ours, as bind(2) answers.
  tcp::Result<tcp::ConnectionId> ConnectFrom(wire::Ipv4Address local, wire::Ipv4Address remote,
                                             std::uint16_t port,
                                             const tcp::ConnectionOptions& options,
                                             timers::TimePoint now);
  tcp::IoResult Send(tcp::ConnectionId id, std::span<const std::uint8_t> data,
                     timers::TimePoint now);
  tcp::IoResult Receive(tcp::ConnectionId id, std::span<std::uint8_t> out, timers::TimePoint now);
  std::error_code Shutdown(tcp::ConnectionId id, timers::TimePoint now);
  std::error_code Close(tcp::ConnectionId id, timers::TimePoint now);
  std::error_code Abort(tcp::ConnectionId id, timers::TimePoint now);
  std::error_code SetKeepalive(tcp::ConnectionId id, const tcp::KeepaliveOptions& keepalive,
                               timers::TimePoint now);
  std::error_code SetUserTimeout(tcp::ConnectionId id, tcp::Duration user_timeout,
                                 timers::TimePoint now);
  std::error_code SetNoDelay(tcp::ConnectionId id, bool no_delay, timers::TimePoint now);
  std::optional<tcp::ConnectionInfo> Info(tcp::ConnectionId id) const { return tcp_.Info(id); }
  void set_tcp_event_handler(std::function<void(const tcp::Event&)> handler) {
    tcp_.set_event_handler(std::move(handler));
  }
  void set_tcp_trace_handler(std::function<void(const tcp::Trace&)> handler) {
    tcp_.set_trace_handler(std::move(handler));
  }
  std::size_t tcp_connection_count() const { return tcp_.connection_count(); }
  std::size_t tcp_half_open_count() const { return tcp_.half_open_count(); }
  // Payload bytes held in all TCP send and receive buffers (TcpConfig::max_buffer_memory).
  std::size_t tcp_buffered_bytes() const { return tcp_.buffered_bytes(); }
  // Heap bytes (and blocks) of drained TCP buffer storage kept for reuse by the next buffer that
  // fills (at most 64 blocks and 4 MiB), so that buffers draining and refilling per segment do not
  // allocate.
  std::size_t tcp_pooled_buffer_bytes() const { return tcp_.pooled_buffer_bytes(); }
  std::size_t tcp_pooled_buffer_blocks() const { return tcp_.pooled_buffer_blocks(); }
  // For the keepalive benchmark only, never part of a configuration: see
  // TcpEngine::RearmKeepaliveOnEverySegmentForBenchmark.
  void RearmKeepaliveOnEverySegmentForBenchmark(bool on) {
    tcp_.RearmKeepaliveOnEverySegmentForBenchmark(on);
  }

  const InterfaceConfig& interface() const { return interface_; }
  const Counters& counters() const { return counters_; }
  const ArpCache& arp() const { return arp_; }
  // The IPv6 layer's state (addresses, neighbours, routers); null when IPv6 is not enabled.
  const Ipv6Layer* ipv6() const { return ipv6_.get(); }
  const timers::TimerQueue& timers() const { return *timers_; }

 private:
  void IngestFrame(std::span<const std::uint8_t> frame, RxChecksum checksum);
  void IngestIpv4(std::span<const std::uint8_t> packet, RxChecksum checksum);
  // Runs the timers due by `now`, then `call`, then delivers the events both produced.
  template <typename Call>
  auto AtTime(timers::TimePoint now, Call&& call);

  InterfaceConfig interface_;  // with the MAC resolved
  Counters counters_;
  std::unique_ptr<timers::TimerQueue> timers_;
  EthernetOutput ethernet_;
  ArpCache arp_;
  IpOutput ip_;
  Icmp icmp_;
  tcp::TcpEngine tcp_;
  // Last, and behind a pointer: an IPv4-only stack keeps nothing of IPv6's.
  std::unique_ptr<Ipv6Layer> ipv6_;
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_STACK_H_
