// The TCP engine: the demux tables, the listeners and every connection, driven by segments from
// IPv4 and IPv6, calls from the application and timers on the stack's wheel.
//
// One engine serves both families. A listener takes connections of either (as a Linux socket
// bound to :: does by default); a connection is of one family for its life, and nothing past
// demultiplexing and transmission (the state machine, every timer, keepalive) knows which.
//
// The RFC 9293 event processing is split by concern: engine.cc (the API calls: OPEN, SEND,
// RECEIVE, CLOSE, ABORT), input.cc (SEGMENT ARRIVES, 3.10.7), output.cc (what to send and
// when), timers.cc (retransmission, persist, delayed ACK, TIME-WAIT, user timeout), keepalive.cc
// (RFC 1122 4.2.3.6) and listener.cc (passive opens).
#ifndef TAPSTACK_STACK_TCP_ENGINE_H_
#define TAPSTACK_STACK_TCP_ENGINE_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "stack/counters.h"
#include "stack/ip_output.h"
#include "stack/ipv6_output.h"
#include "stack/rx_checksum.h"
#include "stack/tcp/connection_slab.h"
#include "stack/tcp/demux_table.h"
#include "stack/tcp/isn.h"
#include "stack/tcp/options_table.h"
#include "stack/tcp/syn_cookie.h"
#include "stack/tcp/tcb.h"
#include "stack/tcp/tcp_types.h"
#include "stack/tcp/timestamps.h"
#include "stack/tx_offload.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/tcp.h"
#include "timers/timer_queue.h"
#include "timers/timer_queue_ref.h"

namespace tapstack::tcp {

struct Listener {
  std::uint16_t port = 0;
  int backlog = 0;
  std::deque<ConnectionId> accept_queue;  // established, waiting for Accept(); pops in O(1)
  bool full() const { return accept_queue.size() >= static_cast<std::size_t>(backlog); }
};

class TcpEngine {
 public:
  static constexpr std::size_t kPrefetchFromConnections = 2048;

  TcpEngine(const TcpConfig& config, std::size_t mtu, IpOutput& ip, timers::TimerQueue& timers,
            Counters& counters, std::uint64_t seed);
  ~TcpEngine();

  // --- From IPv4: one TCP segment from `source` to `destination`, one of our addresses. Its
  // checksum is checked unless the device vouched for it (`checksum`, stack/rx_checksum.h). The
  // segment may carry more than an MSS: a device with receive offloads hands over what the
  // sender's TSO or the kernel's GRO made one segment, up to 64 KiB.
  void Ingest(wire::Ipv4Address source, wire::Ipv4Address destination,
              std::span<const std::uint8_t> segment, RxChecksum checksum = RxChecksum::kUnverified);
  // --- From IPv6: the same, checked against the IPv6 pseudo-header (RFC 8200 8.1). `destination`
  // is one of our unicast addresses (the IPv6 layer drops TCP to a group).
  void Ingest(const wire::Ipv6Address& source, const wire::Ipv6Address& destination,
              std::span<const std::uint8_t> segment, RxChecksum checksum = RxChecksum::kUnverified);
  // Where segments over IPv6 go out: set by the Stack when the interface runs IPv6. Without it,
  // Connect over IPv6 fails with EAFNOSUPPORT.
  void set_ipv6_output(Ipv6Output* output) { ipv6_output_ = output; }
  // What the device finishes on segments we send (stack/tx_offload.h): super-segments of new data
  // up to `support.max_tcp_segment_offload` payload bytes, and partial checksums. IPv4 only:
  // segments over IPv6 always leave complete. The Stack sets it when its sink passes offloads on.
  void set_tx_offload(const TxOffloadSupport& support) {
    // Never more than fits the largest IPv4 datagram with the largest TCP header: a larger
    // super-segment would be dropped as too big, every time, after the sender counted it sent.
    tso_limit_ =
        std::min(support.max_tcp_segment_offload,
                 static_cast<std::uint32_t>(wire::kIpv4MaxPacketLen - wire::kIpv4MinHeaderLen -
                                            wire::kTcpMaxHeaderLen));
    tx_checksum_partial_ = support.tcp_checksum;
  }
  // Hints for a burst of segments (Stack::IngestBurst), which calls them a few segments ahead of
  // Ingest so that the cache misses of several lookups overlap: PrefetchDemux requests the demux
  // table's lines for the segment's 4-tuple; PrefetchConnection, a little later, looks the
  // connection up and requests its lines. The segment is not validated (Ingest does that): a
  // hint for a bogus segment costs a lookup and nothing else.
  void PrefetchDemux(wire::Ipv4Address source, wire::Ipv4Address destination,
                     std::span<const std::uint8_t> segment) const;
  void PrefetchConnection(wire::Ipv4Address source, wire::Ipv4Address destination,
                          std::span<const std::uint8_t> segment) const;
  // Whether the hints pay: with few connections, table and connections stay in the cache and a
  // hint is only an extra lookup. From about 2k connections (1 MiB of them, a core's L2 cache
  // on the machine the benchmarks ran on) on, they do not.
  bool PrefetchPays() const { return connections_.size() >= kPrefetchFromConnections; }

  // --- The application's calls (RFC 9293 3.10.1 to 3.10.6).
  // EINVAL for port 0, EADDRINUSE when the port already listens.
  std::error_code Listen(std::uint16_t port, int backlog);
  // ENOENT when nothing listens on the port.
  std::error_code StopListening(std::uint16_t port);
  std::optional<ConnectionId> Accept(std::uint16_t port);
  // From `local`, one of our addresses (the Stack checks). EINVAL for port 0, ENOBUFS at
  // TcpConfig::max_connections, EADDRNOTAVAIL when no ephemeral port is free.
  Result<ConnectionId> Connect(wire::Ipv4Address local, wire::Ipv4Address remote,
                               std::uint16_t remote_port, const ConnectionOptions& options);
  // The same over IPv6, from `local`, one of our addresses (the Stack picks it, RFC 6724).
  // EAFNOSUPPORT without set_ipv6_output.
  Result<ConnectionId> Connect(const wire::Ipv6Address& local, const wire::Ipv6Address& remote,
                               std::uint16_t remote_port, const ConnectionOptions& options);
  IoResult Send(ConnectionId id, std::span<const std::uint8_t> data);
  IoResult Receive(ConnectionId id, std::span<std::uint8_t> out);
  std::error_code Shutdown(ConnectionId id);  // half-close: FIN after the queued data
  std::error_code Close(ConnectionId id);     // graceful; releases the handle
  std::error_code Abort(ConnectionId id);     // RST; releases the handle
  std::error_code SetKeepalive(ConnectionId id, const KeepaliveOptions& keepalive);
  std::error_code SetUserTimeout(ConnectionId id, Duration user_timeout);
  std::error_code SetNoDelay(ConnectionId id, bool no_delay);
  std::optional<ConnectionInfo> Info(ConnectionId id) const;

  void set_event_handler(std::function<void(const Event&)> handler) {
    event_handler_ = std::move(handler);
  }
  void set_trace_handler(std::function<void(const Trace&)> handler) {
    trace_handler_ = std::move(handler);
  }
  // Delivers queued application events. Called by the Stack when an entry point returns, so
  // handlers run with the engine in a consistent state and may call back into it.
  void FlushEvents();

  std::size_t connection_count() const { return connections_.size() + ipv6_connections_.size(); }
  std::size_t ipv6_connection_count() const { return ipv6_connections_.size(); }
  std::size_t half_open_count() const { return half_open_; }
  // Payload bytes held in all connections' send and receive buffers (TcpConfig::max_buffer_memory).
  std::size_t buffered_bytes() const { return buffered_bytes_; }
  // Heap bytes of drained buffer storage kept for reuse (RingPool; bounded).
  std::size_t pooled_buffer_bytes() const { return ring_pool_.free_bytes(); }
  std::size_t pooled_buffer_blocks() const { return ring_pool_.free_blocks(); }
  const TcpConfig& config() const { return config_; }
  // The keepalive benchmark measures the stack's lazy keepalive (keepalive.cc) against the naive
  // design, which reschedules the keepalive timer to last_received + idle on every segment from
  // the peer. This switch turns the naive one on; behaviour is the same either way, only the
  // per-segment cost differs. It is not part of TcpConfig: nothing but that comparison needs it.
  void RearmKeepaliveOnEverySegmentForBenchmark(bool on) { keepalive_rearm_per_segment_ = on; }

  // --- Timer entry points (timers.cc, keepalive.cc), called from the wheel.
  void OnSendTimer(Tcb& tcb);  // retransmission or persist, as Tcb::send_timer_mode says
  void OnDelayedAckTimer(Tcb& tcb);
  // Keepalive, or the end of an orphaned FIN-WAIT-2 or of TIME-WAIT, as the state says.
  void OnKeepaliveTimer(Tcb& tcb);

 private:
  // engine.cc
  Tcb* Find(ConnectionId id) const;
  static ConnectionId IdOf(const Tcb& tcb) { return ConnectionSlab::IdOf(tcb); }
  // The demux key of a segment from `source` to `destination` (its first 4 bytes, the ports,
  // must be there).
  static FourTuple TupleOf(wire::Ipv4Address source, wire::Ipv4Address destination,
                           std::span<const std::uint8_t> segment);
  static Ipv6FourTuple TupleOf(const wire::Ipv6Address& source,
                               const wire::Ipv6Address& destination,
                               std::span<const std::uint8_t> segment);
  // The connection's addresses and ports, in its family.
  AnyFourTuple TupleOf(const Tcb& tcb) const;
  // The family's demux table.
  const DemuxTable<FourTuple>& DemuxFor(const FourTuple&) const { return connections_; }
  const DemuxTable<Ipv6FourTuple>& DemuxFor(const Ipv6FourTuple&) const {
    return ipv6_connections_;
  }
  bool TupleInUse(const AnyFourTuple& tuple) const;
  Tcb& CreateTcb(const AnyFourTuple& tuple, const ConnectionOptions& options);
  // Connect for either family: `tuple` has everything but the local port, which is chosen here.
  Result<ConnectionId> ConnectTuple(AnyFourTuple tuple, const ConnectionOptions& options);
  void SetState(Tcb& tcb, State state);
  // Ends the connection: optional RST, event to the application (unless it closed), freed.
  void Terminate(Tcb& tcb, std::error_code error, bool send_reset);
  void Free(Tcb& tcb);
  void CancelTimers(Tcb& tcb);  // all three, O(1) each
  // Points the connection at the shared copy of `options` (OptionsTable).
  void SetOptions(Tcb& tcb, const ConnectionOptions& options);
  void Emit(Event event);
  void EmitTrace(const Trace& trace);
  Duration Now() const;
  // Our MSS: the MTU less the IP and TCP headers, 40 bytes over IPv4 and 60 over IPv6 (RFC 9293
  // 3.7.1, RFC 8200 8.3).
  std::uint32_t InitialMss(bool ipv6) const;
  std::uint32_t InitialMss(const AnyFourTuple& tuple) const {
    return InitialMss(std::holds_alternative<Ipv6FourTuple>(tuple));
  }
  Seq InitialSequenceNumber(const AnyFourTuple& tuple) const;
  // The connection's timestamp clock offset (timestamps.h).
  std::uint32_t TimestampOffsetOf(const Tcb& tcb) const;
  // RFC 7323 2.3: the shift that lets `receive_buffer` bytes be advertised (the largest the
  // buffer can become: ConnectionOptions::largest_receive_buffer).
  std::uint8_t ReceiveWindowScale(std::size_t receive_buffer) const;
  // Brings buffered_bytes_ up to date after the connection's buffers changed.
  void AccountBuffers(Tcb& tcb);
  // Room left under TcpConfig::max_buffer_memory.
  std::size_t BufferMemoryLeft() const;

  // input.cc
  // Ingest for either family, once it has the segment's addresses.
  template <typename Address>
  void IngestFrom(const Address& source, const Address& destination,
                  std::span<const std::uint8_t> bytes, RxChecksum checksum);
  // A segment no connection's key matched: a listener's, or answered as CLOSED.
  void IngestWithoutConnection(const AnyFourTuple& tuple, const wire::TcpView& segment,
                               const wire::TcpOptions& options);
  void IngestNoConnection(const AnyFourTuple& tuple, const wire::TcpView& segment,
                          std::uint32_t payload_len);
  void IngestListen(Listener& listener, const AnyFourTuple& tuple, const wire::TcpView& segment,
                    const wire::TcpOptions& options);
  void IngestSynSent(Tcb& tcb, const wire::TcpView& segment, const wire::TcpOptions& options);
  void IngestSynchronizing(Tcb& tcb, const wire::TcpView& segment, const wire::TcpOptions& options);
  // Returns false when processing must stop (the segment was dropped or the TCB freed).
  bool ProcessAck(Tcb& tcb, const wire::TcpView& segment, const wire::TcpOptions& options);
  // The segment's data and FIN. False when the connection was freed (data for a closed handle).
  bool ProcessText(Tcb& tcb, Seq seq, std::span<const std::uint8_t> payload, bool fin);
  void ProcessFin(Tcb& tcb);
  void ApplySynOptions(Tcb& tcb, const wire::TcpOptions& options);
  // RFC 7323 5.3 (PAWS) and 3.2 for a connection with timestamps, before the acceptability test:
  // false when the segment is dropped (answered as an unacceptable segment is).
  bool CheckTimestamps(Tcb& tcb, const wire::TcpView& segment, const wire::TcpOptions& options);

  // output.cc
  // Sends what the windows, Nagle and the state allow. `override_sws` lets one short segment go
  // that sender-side SWS avoidance would hold back (the override timeout, RFC 1122 4.2.3.4).
  void Output(Tcb& tcb, bool override_sws = false);
  // `payload_continued` follows `payload` (the second run of a wrapped send buffer).
  void SendSegment(Tcb& tcb, Seq seq, std::uint8_t flags, std::span<const std::uint8_t> payload,
                   bool with_syn_options = false,
                   std::span<const std::uint8_t> payload_continued = {});
  void SendAck(Tcb& tcb);
  // The SACK and D-SACK blocks (RFC 2018, RFC 2883) an ACK-bearing, non-SYN `segment` carries,
  // as many as fit beside its other options and its payload.
  void AddSackBlocks(Tcb& tcb, wire::TcpRepr& segment);
  // ACK answering an unacceptable segment (RFC 9293 3.10.7.4, RFC 5961 challenge ACK),
  // rate-limited per connection.
  void SendRateLimitedAck(Tcb& tcb, bool is_keepalive_probe);
  void SendReset(const AnyFourTuple& tuple, Seq seq, std::optional<Seq> ack);
  // Builds `segment` for `tuple` and hands it to IPv4 or IPv6; every segment we send goes through
  // one of these.
  void Transmit(const Tcb& tcb, const wire::TcpRepr& segment);
  void Transmit(const AnyFourTuple& tuple, const wire::TcpRepr& segment);
  // `tso_segment_size`: the segment is a super-segment for the device to cut at that size.
  void TransmitOver(const FourTuple& tuple, const wire::TcpRepr& segment,
                    std::uint16_t tso_segment_size = 0);
  void TransmitOver(const Ipv6FourTuple& tuple, const wire::TcpRepr& segment);
  // Puts one of the sender's transmissions on the wire (payload read from the send buffer).
  void SendTransmission(Tcb& tcb, const Transmission& transmission);
  void RetransmitFirstSegment(Tcb& tcb, RetransmitCause cause = RetransmitCause::kFast);
  // The send timer (Tcb::send_timer) for retransmission or for the persist timer; cancelling one
  // leaves the timer alone when it is armed for the other. The retransmission timer is due no
  // later than the user timeout; when the sender may send a tail loss probe (RFC 8985 7.2) it is
  // armed as the probe timer, due sooner.
  void ArmRetransmitTimer(Tcb& tcb);
  void ArmPersistTimer(Tcb& tcb);
  void CancelRetransmitTimer(Tcb& tcb);
  void CancelPersistTimer(Tcb& tcb);
  // Data has waited for its ACK as long as the user timeout allows (RFC 5482, RFC 9293 3.8.3).
  bool UserTimeoutExpired(const Tcb& tcb) const;
  // timers.cc
  void OnRetransmitTimer(Tcb& tcb);
  void OnLossProbeTimer(Tcb& tcb);
  void OnPersistTimer(Tcb& tcb);

  // keepalive.cc
  // Called for every acceptable segment from the peer: stamps the time; resets the probe count
  // if probes were out.
  void OnPeerActivity(Tcb& tcb);
  void ArmKeepalive(Tcb& tcb);
  void SendKeepaliveProbe(Tcb& tcb);
  bool KeepaliveRuns(const Tcb& tcb) const;
  // The keepalive timer times the end of the connection instead: an orphaned FIN-WAIT-2 (the
  // FIN-WAIT-2 timeout) or TIME-WAIT (2MSL).
  bool KeepaliveTimerEndsConnection(const Tcb& tcb) const;

  // listener.cc
  // Queues a connection that just became established for Accept(). False when it was freed.
  bool OnEstablishedFromListen(Tcb& tcb);
  // RFC 4987 3.6: answers a SYN with a SYN-ACK whose ISN is a cookie, keeping no state.
  void SendSynCookie(const AnyFourTuple& tuple, const wire::TcpView& segment,
                     const wire::TcpOptions& options);
  // An ACK arrived for a listener with no connection: when it returns a valid cookie, the
  // connection is rebuilt, ESTABLISHED, and the segment's data processed. False when it does not
  // (the caller answers as for any stray ACK).
  bool AcceptSynCookie(Listener& listener, const AnyFourTuple& tuple, const wire::TcpView& segment);

  TcpConfig config_;
  std::size_t mtu_;
  IpOutput& ip_;
  Ipv6Output* ipv6_output_ = nullptr;  // set_ipv6_output
  std::uint32_t tso_limit_ = 0;        // set_tx_offload
  bool tx_checksum_partial_ = false;   // set_tx_offload
  timers::TimerQueueRef timers_;       // the wheel without a virtual call (timer_queue_ref.h)
  Counters& counters_;
  IsnGenerator isn_;
  TimestampOffsets timestamp_offsets_;
  SynCookies syn_cookies_;
  std::optional<Duration> last_syn_cookie_sent_;  // cookies are checked only for a while after
  std::size_t buffered_bytes_ = 0;
  timers::TimePoint origin_;
  std::uint16_t next_ephemeral_port_;
  std::size_t half_open_ = 0;
  bool keepalive_rearm_per_segment_ = false;  // RearmKeepaliveOnEverySegmentForBenchmark

  // Every connection lives in the slab, which also resolves a ConnectionId (connection_slab.h).
  ConnectionSlab slab_;
  // The demux table: 4-tuple to the connection's slot in the slab. The key is kept in the table
  // (16-byte entries, one cache line per lookup), so a lookup reads the table and not the
  // connection, and a burst can find the connections of the segments ahead and prefetch them
  // before it needs them (PrefetchDemux, PrefetchConnection).
  DemuxTable<FourTuple> connections_;
  // IPv6 connections: their own demux table (64-byte entries, still one line per lookup), and
  // their keys by slot, for what a connection sends (Tcb::ipv6). Both stay empty without IPv6.
  DemuxTable<Ipv6FourTuple> ipv6_connections_;
  absl::flat_hash_map<std::uint32_t, Ipv6FourTuple> ipv6_tuples_;
  absl::flat_hash_map<std::uint16_t, Listener> listeners_;

  OptionsTable options_;
  // Buffer storage recycled between connections and between a buffer's drains and refills.
  RingPool ring_pool_;
  std::vector<Event> pending_events_;
  std::vector<Event> flush_batch_;
  bool flushing_ = false;
  std::function<void(const Event&)> event_handler_;
  std::function<void(const Trace&)> trace_handler_;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_ENGINE_H_
