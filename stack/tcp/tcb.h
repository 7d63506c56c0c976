// The transmission control block (RFC 9293 3.3.1): everything one connection remembers.
#ifndef TAPSTACK_STACK_TCP_TCB_H_
#define TAPSTACK_STACK_TCP_TCB_H_

#include <cstdint>
#include <optional>

#include "stack/tcp/congestion.h"
#include "stack/tcp/receive_buffer.h"
#include "stack/tcp/rto.h"
#include "stack/tcp/send_buffer.h"
#include "stack/tcp/seq.h"
#include "stack/tcp/tcp_types.h"
#include "stack/wire/bytes.h"
#include "timers/timer.h"

namespace tapstack::tcp {

class TcpEngine;

// The demux key. One interface means one local address, but it is kept for clarity and so that
// more addresses can come later without changing the table.
struct FourTuple {
  wire::Ipv4Address local_address;
  std::uint16_t local_port = 0;
  wire::Ipv4Address remote_address;
  std::uint16_t remote_port = 0;
  friend bool operator==(const FourTuple&, const FourTuple&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const FourTuple& t) {
    return H::combine(std::move(h), t.local_address, t.local_port, t.remote_address,
                      t.remote_port);
  }
};

// Disjoint out-of-order ranges one connection holds for reassembly; a segment that would need
// more is dropped (counter drop_tcp_out_of_order_full), so a peer sending scattered fragments
// cannot make reassembly bookkeeping grow. Eight is twice what four SACK blocks (RFC 2018 3) can
// describe, enough for the loss patterns a real path produces.
inline constexpr std::size_t kMaxOutOfOrderRanges = 8;

struct Tcb {
  Tcb(TcpEngine* engine, const ConnectionOptions& options, const RtoConfig& rto_config,
      std::uint32_t mss);

  TcpEngine* engine;
  ConnectionId id;
  FourTuple tuple;
  State state = State::kClosed;
  ConnectionOptions options;

  // Send sequence space (RFC 9293 3.3.1, figure 4). snd_max is the highest sequence number sent
  // so far: after a retransmission timeout snd_nxt goes back to snd_una (go-back-N), and ACKs up
  // to snd_max stay acceptable.
  Seq iss, snd_una, snd_nxt, snd_max;
  std::uint32_t snd_wnd = 0;      // scaled
  std::uint32_t max_snd_wnd = 0;  // largest window the peer offered (RFC 5961 5.2)
  Seq snd_wl1, snd_wl2;
  std::uint8_t snd_wscale = 0;  // the peer's shift, applied to its windows
  // Receive sequence space.
  Seq irs, rcv_nxt;
  std::uint8_t rcv_wscale = 0;  // our shift, applied to windows we advertise
  std::optional<Seq> peer_fin_seq;  // the peer's FIN, when it arrived ahead of missing data

  std::uint32_t mss;  // effective send MSS
  bool fin_queued = false;   // the application closed or shut down the write side
  bool fin_sent = false;
  bool app_closed = false;   // Close() called: the handle is released, no events are delivered
  bool peer_closed_signalled = false;
  bool want_writable = false;
  bool passive_open = false;
  std::uint16_t listener_port = 0;
  int syn_retransmissions = 0;
  int retransmissions = 0;            // consecutive retransmission timeouts without progress
  int persist_probes_unanswered = 0;  // window probes sent since the peer last sent anything
  // A zero-window probe carried the byte at SND.MAX without counting it as sent (timers.cc).
  bool window_probe_outstanding = false;
  int duplicate_acks = 0;
  int segments_unacked = 0;  // full segments received since our last ACK (delayed ACK rule)

  // RTT timing of one segment at a time (Karn: never a retransmitted one).
  std::optional<Seq> rtt_seq;
  Duration rtt_start{};

  // Keepalive (stack/tcp/keepalive.cc): the receive path only stamps last_received.
  Duration last_received{};
  int keepalive_probes_unanswered = 0;
  Duration last_invalid_ack{};  // rate limit for challenge ACKs and probe answers
  bool sent_invalid_ack = false;

  SendBuffer send_buffer;
  ReceiveBuffer receive_buffer;
  // This connection's share of the engine's buffered_bytes_ (TcpConfig::max_buffer_memory).
  std::size_t accounted_buffer_bytes = 0;
  RtoEstimator rto;
  NewReno congestion;

  // Every timer of the connection, each on the stack's one wheel.
  timers::Timer retransmit_timer;
  timers::Timer persist_timer;
  timers::Timer delayed_ack_timer;
  timers::Timer keepalive_timer;
  timers::Timer time_wait_timer;  // TIME-WAIT 2MSL, and the FIN-WAIT-2 timeout
  timers::Timer user_timeout_timer;

  std::uint32_t flight_size() const { return snd_max - snd_una; }
  bool synchronized() const {
    return state != State::kClosed && state != State::kListen && state != State::kSynSent &&
           state != State::kSynReceived;
  }
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_TCB_H_
