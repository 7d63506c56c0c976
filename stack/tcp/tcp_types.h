// The TCP vocabulary an embedder sees: connection handles, per-connection options, stack-wide
// configuration, events and results. Errors are std::error_code values in the POSIX (generic)
// category, so ETIMEDOUT, ECONNRESET and ECONNREFUSED read as they do with sockets.
#ifndef TAPSTACK_STACK_TCP_TCP_TYPES_H_
#define TAPSTACK_STACK_TCP_TCP_TYPES_H_

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "stack/result.h"
#include "stack/tcp/congestion_algorithm.h"
#include "stack/tcp/rto.h"
#include "stack/wire/bytes.h"
#include "stack/wire/ip_address.h"

namespace tapstack::tcp {

using Duration = std::chrono::steady_clock::duration;
using std::chrono::milliseconds;

// An opaque handle: the connection's slot and the slot's generation (stack/tcp/connection_slab.h).
// A stale handle is detected (ENOTCONN) rather than aliasing a newer connection: a handle could
// only come back after its slot had been reused 2^31 times. A connection's handle is never 0.
struct ConnectionId {
  std::uint64_t value = 0;
  friend bool operator==(ConnectionId, ConnectionId) = default;
  template <typename H>
  friend H AbslHashValue(H h, ConnectionId id) {
    return H::combine(std::move(h), id.value);
  }
};

// RFC 1122 4.2.3.6 keepalive. Off by default; the durations default to Linux's (7200 s, 75 s, 9).
struct KeepaliveOptions {
  bool enabled = false;
  Duration idle = std::chrono::seconds(7200);
  Duration interval = std::chrono::seconds(75);
  int count = 9;
  // Send one garbage byte (SEQ = SND.NXT - 1, already acknowledged) instead of zero bytes, for
  // peers that ignore zero-length probes (RFC 1122 4.2.3.6 allows either).
  bool send_garbage_byte = false;

  friend bool operator==(const KeepaliveOptions&, const KeepaliveOptions&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const KeepaliveOptions& k) {
    return H::combine(std::move(h), k.enabled, k.idle.count(), k.interval.count(), k.count,
                      k.send_garbage_byte);
  }
};

struct ConnectionOptions {
  bool no_delay = false;  // true turns Nagle's algorithm (RFC 896, RFC 1122 4.2.3.4) off
  std::size_t send_buffer = 256 * 1024;
  std::size_t receive_buffer = 256 * 1024;
  // Receive-buffer autotuning, after Linux's (tcp_rcv_space_adjust, net.ipv4.tcp_rmem): when this
  // is above receive_buffer, the buffer starts at receive_buffer and doubles, up to this, each time
  // the peer fills the window we advertised while the application keeps the buffer at most half
  // full, so that a bulk transfer is not held to the starting window
  // (Receiver::GrowIfWindowLimited). Our window scale is chosen for this size (RFC 7323 2.3). 0, or
  // no more than receive_buffer: a fixed buffer, as an application's SO_RCVBUF makes Linux's.
  std::size_t receive_buffer_max = 0;
  // Retransmissions of one segment before the connection is aborted with ETIMEDOUT (Linux
  // tcp_retries2 is 15); SYN retries are separate (syn_retries).
  int max_retransmissions = 15;
  // RFC 5482 / Linux TCP_USER_TIMEOUT: abort with ETIMEDOUT when sent data stays unacknowledged
  // this long. Zero: off.
  Duration user_timeout = Duration::zero();
  KeepaliveOptions keepalive;
  // The congestion controller for this connection; unset: TcpConfig::congestion_control. Read
  // when the connection is created: changing it later does not switch a running connection.
  std::optional<CongestionAlgorithm> congestion_control;

  // The largest the receive buffer can become: what our window scale must be able to advertise.
  std::size_t largest_receive_buffer() const {
    return std::max(receive_buffer, receive_buffer_max);
  }

  friend bool operator==(const ConnectionOptions&, const ConnectionOptions&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const ConnectionOptions& o) {
    return H::combine(std::move(h), o.no_delay, o.send_buffer, o.receive_buffer,
                      o.receive_buffer_max, o.max_retransmissions, o.user_timeout.count(),
                      o.keepalive, o.congestion_control);
  }
};

struct TcpConfig {
  ConnectionOptions defaults;
  RtoConfig rto;
  int syn_retries = 6;                                     // Linux tcp_syn_retries
  int synack_retries = 5;                                  // Linux tcp_synack_retries
  Duration time_wait = std::chrono::seconds(60);           // 2MSL, as Linux's TCP_TIMEWAIT_LEN
  Duration fin_wait_2_timeout = std::chrono::seconds(60);  // Linux tcp_fin_timeout (orphans)
  Duration delayed_ack = milliseconds(40);                 // Linux's minimum delayed-ACK timeout
  // Minimum gap between two ACKs answering out-of-window segments (RFC 5961 challenge ACKs and
  // keepalive probe answers) per connection, as Linux's tcp_invalid_ratelimit (500 ms). Kept
  // well under one second so a peer probing once per second always gets its answer.
  Duration invalid_ack_ratelimit = milliseconds(200);
  // Resource limits (docs/testing.md lists what each one does when reached, and its test).
  // Connections of every state. At the limit Connect() fails with ENOBUFS and a listener refuses
  // a new connection with a RST (counter tcp_refused_connection_limit).
  std::size_t max_connections = 1 << 20;
  // SYN-RECEIVED connections across all listeners. At the limit a listener answers SYNs with SYN
  // cookies (RFC 4987 3.6) when syn_cookies is on, and drops them otherwise.
  std::size_t max_half_open = 1024;
  bool syn_cookies = true;
  // Selective acknowledgment (RFC 2018 2): our SYN offers SACK-permitted, our SYN-ACK echoes it
  // to a peer whose SYN offered it, and a connection sends SACK blocks (and D-SACK, RFC 2883)
  // only when both SYNs carried the option. On by default, as Linux's tcp_sack. A connection
  // opened by a SYN cookie never uses SACK (syn_cookie.h).
  bool sack = true;
  // Timestamps (RFC 7323): our SYN offers the option, our SYN-ACK echoes it to a peer whose SYN
  // offered it, and once both did every segment carries TSval and TSecr, old duplicates are
  // dropped by PAWS and every ACK of new data gives an RTT sample. On by default, as Linux's
  // tcp_timestamps. A connection opened by a SYN cookie never uses timestamps (syn_cookie.h).
  bool timestamps = true;
  // The congestion controller of every connection whose options do not choose one
  // (ConnectionOptions::congestion_control): CUBIC (RFC 9438) with HyStart++ (RFC 9406) by
  // default, as Linux's tcp_congestion_control; NewReno (RFC 5681, RFC 6582) as the alternative.
  CongestionAlgorithm congestion_control = CongestionAlgorithm::kCubic;
  // Payload bytes held in the send and receive buffers of all connections together (each
  // connection is further bounded by its ConnectionOptions::send_buffer and receive_buffer). At
  // the limit Send() takes only what fits and returns ENOBUFS when nothing does, and arriving data
  // is dropped (counter drop_tcp_memory_limit) for the peer to retransmit, as Linux does under
  // tcp_mem pressure. Heap use is at most about twice this: buffers grow by doubling.
  std::size_t max_buffer_memory = std::size_t{256} << 20;
  // Tests and simulations only: every connection starts at this ISS instead of an RFC 6528 one,
  // e.g. just below 2^32 so that sequence numbers wrap early in a transfer.
  std::optional<std::uint32_t> fixed_iss;
  std::uint16_t ephemeral_port_first = 32768;
  std::uint16_t ephemeral_port_last = 60999;  // Linux ip_local_port_range
};

// RFC 9293 3.3.2.
enum class State : std::uint8_t {
  kClosed,
  kListen,
  kSynSent,
  kSynReceived,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kTimeWait,
};

std::string_view StateName(State state);  // "ESTABLISHED", as RFC 9293 spells them

enum class EventType {
  kConnected,    // an active open completed
  kAcceptReady,  // a listener has an established connection to Accept()
  kReadable,     // data (or the peer's FIN) is waiting for Receive()
  kWritable,     // send buffer space freed after a short Send()
  kPeerClosed,   // the peer's FIN arrived: Receive() returns end of stream after the data
  kClosed,       // the connection is gone; `error` says why (empty after a clean close)
};

struct Event {
  EventType type;
  ConnectionId connection;
  std::uint16_t listener_port = 0;  // for kAcceptReady
  std::error_code error;            // for kClosed
};

// What happened inside a connection, for tracing (`tapstack nc --events`) and tests.
// Why a segment went out again.
enum class RetransmitCause : std::uint8_t {
  kNone,     // a first transmission
  kTimeout,  // the retransmission timer: the SYN again, or go-back-N from SND.UNA (RFC 6298 5.4)
  // The segment at SND.UNA: fast retransmit (RFC 5681 3.2) or, without SACK, a partial ACK in
  // fast recovery (RFC 6582 3.2 step 3).
  kFast,
  // A hole the SACK scoreboard shows lost, or not yet reported held (RFC 6675 NextSeg rules 1 and
  // 3).
  kSack,
  // A tail loss probe (RFC 8985 7.3): the last segment sent, again, when no ACK came for a while
  // and no new data could go instead.
  kProbe,
};

enum class TraceType {
  kStateChange,
  kRetransmit,
  kResetSent,
  kResetReceived,
  kKeepaliveProbe,     // number = probe number, count = configured count
  kKeepaliveAnswered,  // the peer answered; number = probes that were unanswered
  kKeepaliveTimeout,   // count probes went unanswered: the connection is aborted
  kProbeAnswered,      // we answered the peer's keepalive probe (or other out-of-window segment)
  // An ACK carried SACK blocks (RFC 2018): number = blocks, seq and length = the first block,
  // the one holding the latest out-of-order segment.
  kSackSent,
  // An ACK reported a duplicate (RFC 2883): seq and length = the D-SACK block, number = blocks
  // in the option, the D-SACK block included.
  kDsackSent,
  // Fast recovery began (RFC 5681 3.2, or RFC 6675 5 with SACK): seq = SND.UNA, length = cwnd,
  // number = ssthresh, count = 1 when SACK drives the recovery.
  kRecoveryStarted,
  // Every byte outstanding when it began is acknowledged: seq = SND.UNA, length = cwnd.
  kRecoveryEnded,
  // The probe timer fired and sent a tail loss probe (RFC 8985 7.3): seq and length = the
  // probe's, count = 1 when it resent the last segment, 0 when it carried new data.
  kLossProbe,
  // A probe that resent the last segment repaired a loss (RFC 8985 7.4): cwnd was reduced as in
  // fast recovery; length = cwnd.
  kLossProbeRepaired,
  // An ACK showed the last retransmission timeout spurious (RFC 3522) and the sender undid it
  // (RFC 4015): seq = SND.UNA, length = cwnd, number = ssthresh.
  kSpuriousTimeout,
};

struct Trace {
  TraceType type;
  ConnectionId connection;
  State from = State::kClosed;
  State to = State::kClosed;
  std::uint32_t seq = 0;
  std::uint32_t length = 0;
  int number = 0;
  int count = 0;
  RetransmitCause cause = RetransmitCause::kNone;  // kRetransmit: why
};

// The result of Send() and Receive(): bytes moved, or an error (EPIPE, ENOTCONN, ECONNRESET...).
struct IoResult {
  std::size_t bytes = 0;
  std::error_code error;
  bool ok() const { return !error; }
};

// A snapshot of one connection's state, for tests, `--stats` and the demo.
struct ConnectionInfo {
  State state;
  wire::IpAddress local_address, remote_address;  // of either family
  std::uint16_t local_port, remote_port;
  std::uint32_t iss, irs, snd_una, snd_nxt, rcv_nxt;
  std::uint32_t snd_wnd, rcv_wnd, cwnd, mss;
  std::size_t send_buffered, receive_buffered;
  // The receive buffer's size now: ConnectionOptions::receive_buffer, or more once autotuning
  // grew it (receive_buffer_max).
  std::size_t receive_buffer = 0;
  int keepalive_probes_unanswered;
  int timers_pending;           // of the connection's three timers, how many are scheduled
  bool sack_permitted = false;  // both SYNs offered SACK (RFC 2018 2): we send SACK blocks
  bool timestamps = false;      // both SYNs offered timestamps (RFC 7323 3.2)
  std::uint32_t ssthresh = 0;   // the slow start threshold (RFC 5681 3.1), bytes
  // The connection's congestion controller (ConnectionOptions::congestion_control or the
  // stack's default); CongestionAlgorithmName gives "cubic" or "newreno".
  CongestionAlgorithm congestion_control = CongestionAlgorithm::kCubic;
};

// The error model (stack/result.h) under the names the engine has always used.
using ::tapstack::Errno;
template <typename T>
using Result = ::tapstack::Result<T>;

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_TCP_TYPES_H_
