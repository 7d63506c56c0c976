// The transmission control block (RFC 9293 3.3.1): everything one connection remembers.
#ifndef TAPSTACK_STACK_TCP_TCB_H_
#define TAPSTACK_STACK_TCP_TCB_H_

#include <cstdint>
#include <variant>

#include "stack/tcp/receiver.h"
#include "stack/tcp/rto.h"
#include "stack/tcp/sender.h"
#include "stack/tcp/seq.h"
#include "stack/tcp/tcp_types.h"
#include "stack/tcp/timestamps.h"
#include "stack/wire/bytes.h"
#include "stack/wire/ipv6_address.h"
#include "timers/timer.h"

namespace tapstack::tcp {

class TcpEngine;

// The demux key of an IPv4 connection. The interface may have several addresses, and a connection
// answers from the one its peer chose, so the local address is part of the key.
// Addresses first, then ports: 12 bytes without padding (the demux table stores it).
struct FourTuple {
  wire::Ipv4Address local_address;
  wire::Ipv4Address remote_address;
  std::uint16_t local_port = 0;
  std::uint16_t remote_port = 0;
  friend bool operator==(const FourTuple&, const FourTuple&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const FourTuple& t) {
    return H::combine(std::move(h), t.local_address, t.local_port, t.remote_address, t.remote_port);
  }
};

// The demux key of an IPv6 connection: 36 bytes, so its table has entries of a cache line each
// (demux_table.h). An IPv6 connection keeps this beside it, in the engine, rather than in its Tcb:
// an IPv4 connection does not pay for addresses four times as long (the IPv6 memory figures are
// in docs/benchmarks.md).
struct Ipv6FourTuple {
  wire::Ipv6Address local_address;
  wire::Ipv6Address remote_address;
  std::uint16_t local_port = 0;
  std::uint16_t remote_port = 0;
  friend bool operator==(const Ipv6FourTuple&, const Ipv6FourTuple&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Ipv6FourTuple& t) {
    return H::combine(std::move(h), t.local_address, t.local_port, t.remote_address, t.remote_port);
  }
};

// The keyed hashes over a connection's addresses (ISNs, SYN cookies, timestamp offsets) take IPv6
// addresses; an IPv4 address enters IPv4-mapped (RFC 4291 2.5.5.2).
inline wire::Ipv6Address HashInput(wire::Ipv4Address address) {
  return wire::Ipv4MappedAddress(address);
}
inline const wire::Ipv6Address& HashInput(const wire::Ipv6Address& address) { return address; }

// A connection's addresses and ports in either family: what the paths that may run before a
// connection exists (listeners, resets, SYN cookies, ISNs) name it by.
using AnyFourTuple = std::variant<FourTuple, Ipv6FourTuple>;

// A connection (RFC 9293 3.3.1, the transmission control block): the sender and the receiver it
// composes, the state machine, keepalive, the user timeout and TIME-WAIT. The engine drives it;
// the sender and receiver own their sequence spaces and buffers privately (sender.h, receiver.h).
//
// Layout (docs/architecture.md): what a data segment and a keepalive expiry touch comes first;
// the configuration every connection shares is reached by pointer (engine->config()).
// What the connection's send timer is armed for.
enum class SendTimerMode : std::uint8_t { kRetransmit, kLossProbe, kPersist };

struct Tcb {
  // `options` is the engine's shared copy (OptionsTable); `rto_config` the engine's.
  Tcb(TcpEngine* engine, const ConnectionOptions* options, const RtoConfig& rto_config,
      std::uint32_t mss);

  // Offsets below are in the slab's slot, which puts its 8-byte header (the generation every
  // ConnectionId is checked against) in front of the connection (connection_slab.h).
  //
  // Line 0: what the demux, every segment and every keepalive expiry read first.
  TcpEngine* engine;
  // The demux key of an IPv4 connection (TcpEngine::connections_ holds a copy). An IPv6
  // connection has its ports here and its addresses zero; its key is in the engine (`ipv6`).
  FourTuple tuple;
  State state = State::kClosed;
  bool app_closed = false;  // Close() called: the handle is released, no events are delivered
  bool peer_closed_signalled = false;
  bool passive_open = false;
  bool sent_invalid_ack = false;
  SendTimerMode send_timer_mode = SendTimerMode::kRetransmit;
  std::uint8_t keepalive_probes_unanswered = 0;
  // Both SYNs carried the timestamps option (RFC 7323 3.2): every segment but a RST carries it,
  // and `timestamps` below is in use.
  bool timestamps_ok = false;
  // The connection's slot in the slab; with the slot's generation in front of line 0 it makes the
  // ConnectionId (ConnectionSlab::IdOf), so an event about the connection reads line 0 only.
  std::uint32_t slot_index = 0;
  // This connection's share of the engine's buffered_bytes_ (TcpConfig::max_buffer_memory),
  // updated after every segment.
  std::size_t accounted_buffer_bytes = 0;
  // Keepalive (stack/tcp/keepalive.cc): the receive path only stamps last_received, and only for
  // an acceptable segment.
  Duration last_received{};
  const ConnectionOptions* options;  // shared (OptionsTable)
  // Line 1. Every timer of the connection is on the stack's one wheel. The keepalive timer is
  // all a keepalive expiry touches besides line 0. As Linux's keepalive timer does, it also
  // times the end of a connection keepalive no longer watches: the FIN-WAIT-2 timeout of an
  // orphan and TIME-WAIT's 2MSL (the state says which,
  // TcpEngine::KeepaliveTimerEndsConnection).
  timers::Timer keepalive_timer;
  // Lines 1-2: the receiver (RCV.*, the receive buffer) and its delayed ACK timer.
  Receiver receiver;
  timers::Timer delayed_ack_timer;
  // Line 3 onwards: the sender, its hot fields (SND.*) and the send buffer's size first, so that
  // a segment that acknowledges nothing new touches lines 0 to 3 only.
  Sender sender;
  // As in Linux, one timer serves retransmission and the persist (zero-window probe) timer: the
  // first runs only while data is in flight, the second only while none is (send_timer_mode).
  // The user timeout has no timer of its own either: the retransmission timer never sleeps past
  // it and aborts when it is reached (TcpEngine::ArmRetransmitTimer, as Linux's
  // tcp_clamp_rto_to_user_timeout).
  timers::Timer send_timer;
  // Cold: read by the API and rare events.
  // The user timeout (RFC 5482) counts from here: when data went out with nothing in flight, or
  // when an ACK last acknowledged new data.
  Duration unacknowledged_since{};
  Duration last_invalid_ack{};  // rate limit for challenge ACKs and probe answers
  std::uint16_t listener_port = 0;
  // The connection runs over IPv6: its addresses are in TcpEngine::ipv6_tuples_. Read when a
  // segment goes out, on a line that sending touches anyway (the send timer ends in it).
  bool ipv6 = false;
  // RFC 7323 (valid while timestamps_ok). Every segment reads it, but a connection without
  // timestamps never does, so it sits in the last line rather than among the hot fields.
  TimestampState timestamps;

  std::uint32_t flight_size() const { return sender.flight_size(); }
  // Armed for data in flight: as the retransmission timer, or as the tail loss probe timer that
  // stands in for it (RFC 8985 7).
  bool retransmit_timer_armed() const {
    return send_timer.is_scheduled() && send_timer_mode != SendTimerMode::kPersist;
  }
  bool persist_timer_armed() const {
    return send_timer.is_scheduled() && send_timer_mode == SendTimerMode::kPersist;
  }
  bool synchronized() const {
    return state != State::kClosed && state != State::kListen && state != State::kSynSent &&
           state != State::kSynReceived;
  }
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_TCB_H_
