// The application's side of the engine (RFC 9293 3.10.1 to 3.10.6: OPEN, SEND, RECEIVE, CLOSE,
// ABORT) and the lifecycle of a connection: creation, state changes, termination.
#include "stack/tcp/engine.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tapstack::tcp {

namespace {

// A secret drawn from the stack's seed; each `stream` gives an unrelated one, so that the ISN and
// SYN-cookie keys are independent.
std::array<std::uint8_t, 16> SecretFromSeed(std::uint64_t seed, std::uint64_t stream) {
  std::mt19937_64 rng(seed ^ stream);
  std::array<std::uint8_t, 16> secret{};
  for (std::size_t i = 0; i < secret.size(); i += 8) {
    const std::uint64_t word = rng();
    for (std::size_t j = 0; j < 8; ++j) secret[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
  }
  return secret;
}

constexpr std::uint32_t kIpv4AndTcpHeaders = 40;
constexpr std::uint32_t kIpv6AndTcpHeaders = 60;

}  // namespace

TcpEngine::TcpEngine(const TcpConfig& config, std::size_t mtu, IpOutput& ip,
                     timers::TimerQueue& timers, Counters& counters, std::uint64_t seed)
    : config_(config),
      mtu_(mtu),
      ip_(ip),
      timers_(timers),
      counters_(counters),
      isn_(SecretFromSeed(seed, /*stream=*/0x7463'7073'6563'7265ULL)),
      timestamp_offsets_(SecretFromSeed(seed, /*stream=*/0x7473'6f66'6673'6574ULL)),
      syn_cookies_(SecretFromSeed(seed, /*stream=*/0x7379'6e63'6f6f'6b69ULL)),
      origin_(timers.now()) {
  const std::uint32_t range = config_.ephemeral_port_last - config_.ephemeral_port_first + 1u;
  next_ephemeral_port_ =
      static_cast<std::uint16_t>(config_.ephemeral_port_first + std::mt19937_64(seed)() % range);
}

TcpEngine::~TcpEngine() {
  // Cancel every timer while the TCBs still exist: a Timer destroyed while pending has to walk its
  // wheel slot to keep the queue's pending count right (timers/timer.h), and with many
  // connections sharing a slot that teardown would be quadratic. Cancel is O(1).
  // The slab destroys the connections afterwards.
  connections_.ForEach(
      [this](const FourTuple&, std::uint32_t index) { CancelTimers(slab_.At(index)); });
  ipv6_connections_.ForEach(
      [this](const Ipv6FourTuple&, std::uint32_t index) { CancelTimers(slab_.At(index)); });
}

void TcpEngine::SetOptions(Tcb& tcb, const ConnectionOptions& options) {
  if (options == *tcb.options) return;
  const ConnectionOptions* previous = tcb.options;
  tcb.options = options_.Acquire(options);
  options_.Release(previous);
}

Duration TcpEngine::Now() const { return timers_.now() - origin_; }

std::uint32_t TcpEngine::InitialMss(bool ipv6) const {
  return static_cast<std::uint32_t>(mtu_) - (ipv6 ? kIpv6AndTcpHeaders : kIpv4AndTcpHeaders);
}

std::uint8_t TcpEngine::ReceiveWindowScale(std::size_t receive_buffer) const {
  // RFC 7323 2.3: the smallest shift that lets the whole buffer be advertised; at most 14.
  std::uint8_t shift = 0;
  while (shift < 14 && (receive_buffer >> shift) > 0xffff) ++shift;
  return shift;
}

Seq TcpEngine::InitialSequenceNumber(const AnyFourTuple& tuple) const {
  if (config_.fixed_iss) return Seq(*config_.fixed_iss);
  return std::visit(
      [&](const auto& t) {
        return isn_.Generate(HashInput(t.local_address), t.local_port, HashInput(t.remote_address),
                             t.remote_port, Now());
      },
      tuple);
}

std::uint32_t TcpEngine::TimestampOffsetOf(const Tcb& tcb) const {
  return std::visit(
      [&](const auto& t) {
        return timestamp_offsets_.Offset(HashInput(t.local_address), HashInput(t.remote_address));
      },
      TupleOf(tcb));
}

AnyFourTuple TcpEngine::TupleOf(const Tcb& tcb) const {
  if (!tcb.ipv6) return tcb.tuple;
  return ipv6_tuples_.at(ConnectionSlab::IndexOf(tcb));
}

bool TcpEngine::TupleInUse(const AnyFourTuple& tuple) const {
  return std::visit(
      [&](const auto& t) { return DemuxFor(t).Contains(t) || listeners_.contains(t.local_port); },
      tuple);
}

void TcpEngine::AccountBuffers(Tcb& tcb) {
  const std::size_t held = tcb.sender.buffered() + tcb.receiver.buffer().readable() +
                           tcb.receiver.buffer().out_of_order_bytes();
  buffered_bytes_ = buffered_bytes_ - tcb.accounted_buffer_bytes + held;
  tcb.accounted_buffer_bytes = held;
}

std::size_t TcpEngine::BufferMemoryLeft() const {
  return buffered_bytes_ < config_.max_buffer_memory ? config_.max_buffer_memory - buffered_bytes_
                                                     : 0;
}

Tcb* TcpEngine::Find(ConnectionId id) const {
  Tcb* tcb = slab_.Find(id);
  return tcb == nullptr || tcb->app_closed ? nullptr : tcb;
}

Tcb& TcpEngine::CreateTcb(const AnyFourTuple& tuple, const ConnectionOptions& options) {
  Tcb& tcb = slab_.Create(this, options_.Acquire(options), config_.rto, InitialMss(tuple));
  const std::uint32_t index = ConnectionSlab::IndexOf(tcb);
  if (const auto* ipv4 = std::get_if<FourTuple>(&tuple)) {
    tcb.tuple = *ipv4;
    connections_.Insert(*ipv4, index);
  } else {
    const Ipv6FourTuple& ipv6 = std::get<Ipv6FourTuple>(tuple);
    tcb.ipv6 = true;
    tcb.tuple = FourTuple{.local_port = ipv6.local_port, .remote_port = ipv6.remote_port};
    ipv6_connections_.Insert(ipv6, index);
    ipv6_tuples_.emplace(index, ipv6);
  }
  tcb.last_received = Now();
  return tcb;
}

void TcpEngine::SetState(Tcb& tcb, State state) {
  if (tcb.state == state) return;
  const State from = tcb.state;
  if (from == State::kSynReceived) --half_open_;
  if (state == State::kSynReceived) ++half_open_;
  tcb.state = state;
  EmitTrace(
      Trace{.type = TraceType::kStateChange, .connection = IdOf(tcb), .from = from, .to = state});
  switch (state) {
    case State::kEstablished:
      tcb.last_received = Now();
      ArmKeepalive(tcb);
      break;
    case State::kFinWait2:
      // An orphaned connection (the application closed it) must not wait forever for the
      // peer's FIN (Linux tcp_fin_timeout).
      if (tcb.app_closed) timers_.ScheduleAfter(tcb.keepalive_timer, config_.fin_wait_2_timeout);
      ArmKeepalive(tcb);  // leaves the timer to the FIN-WAIT-2 timeout of an orphan
      break;
    case State::kTimeWait:
      // RFC 9293 3.10.7.4: 2MSL, on the keepalive timer; nothing else runs in TIME-WAIT.
      timers_.Cancel(tcb.send_timer);
      tcb.keepalive_probes_unanswered = 0;
      timers_.ScheduleAfter(tcb.keepalive_timer, config_.time_wait);
      break;
    case State::kCloseWait:
      ArmKeepalive(tcb);
      break;
    default:
      ArmKeepalive(tcb);  // cancels it in states where keepalive does not run
      break;
  }
}

void TcpEngine::Terminate(Tcb& tcb, std::error_code error, bool send_reset) {
  if (send_reset && tcb.state != State::kSynSent && tcb.state != State::kTimeWait) {
    SendReset(TupleOf(tcb), tcb.sender.snd_max(), tcb.receiver.rcv_nxt());
    EmitTrace(Trace{.type = TraceType::kResetSent,
                    .connection = IdOf(tcb),
                    .seq = tcb.sender.snd_max().value()});
  }
  if (!tcb.app_closed && !(tcb.passive_open && tcb.state == State::kSynReceived)) {
    Emit(Event{.type = EventType::kClosed, .connection = IdOf(tcb), .error = error});
  }
  SetState(tcb, State::kClosed);
  Free(tcb);
}

void TcpEngine::CancelTimers(Tcb& tcb) {
  for (timers::Timer* timer : {&tcb.send_timer, &tcb.delayed_ack_timer, &tcb.keepalive_timer}) {
    timers_.Cancel(*timer);
  }
}

void TcpEngine::Free(Tcb& tcb) {
  // The half-open count was settled by the state change to CLOSED (SetState).
  CancelTimers(tcb);
  if (tcb.listener_port != 0) {
    const auto listener = listeners_.find(tcb.listener_port);
    if (listener != listeners_.end()) std::erase(listener->second.accept_queue, IdOf(tcb));
  }
  buffered_bytes_ -= tcb.accounted_buffer_bytes;
  options_.Release(tcb.options);
  if (tcb.ipv6) {
    const auto it = ipv6_tuples_.find(ConnectionSlab::IndexOf(tcb));
    ipv6_connections_.Erase(it->second);
    ipv6_tuples_.erase(it);
  } else {
    connections_.Erase(tcb.tuple);
  }
  slab_.Destroy(tcb);
}

void TcpEngine::Emit(Event event) { pending_events_.push_back(event); }

void TcpEngine::EmitTrace(const Trace& trace) {
  if (trace_handler_) trace_handler_(trace);
}

void TcpEngine::FlushEvents() {
  if (flushing_) return;  // a handler called back into the stack: the outer loop delivers
  flushing_ = true;
  // Two vectors swapped back and forth keep their capacity: no allocation per flush.
  while (!pending_events_.empty()) {
    flush_batch_.swap(pending_events_);
    for (const Event& event : flush_batch_) {
      if (event_handler_) event_handler_(event);
    }
    flush_batch_.clear();
  }
  flushing_ = false;
}

Result<ConnectionId> TcpEngine::Connect(wire::Ipv4Address local, wire::Ipv4Address remote,
                                        std::uint16_t remote_port,
                                        const ConnectionOptions& options) {
  return ConnectTuple(
      FourTuple{.local_address = local, .remote_address = remote, .remote_port = remote_port},
      options);
}

Result<ConnectionId> TcpEngine::Connect(const wire::Ipv6Address& local,
                                        const wire::Ipv6Address& remote, std::uint16_t remote_port,
                                        const ConnectionOptions& options) {
  if (ipv6_output_ == nullptr) return Errno(EAFNOSUPPORT);
  return ConnectTuple(
      Ipv6FourTuple{.local_address = local, .remote_address = remote, .remote_port = remote_port},
      options);
}

Result<ConnectionId> TcpEngine::ConnectTuple(AnyFourTuple tuple, const ConnectionOptions& options) {
  const std::uint16_t remote_port = std::visit([](const auto& t) { return t.remote_port; }, tuple);
  if (remote_port == 0) return Errno(EINVAL);
  if (connection_count() >= config_.max_connections) {
    return Errno(ENOBUFS);  // TcpConfig::max_connections
  }
  // Ephemeral port: walk the range from a random start until the 4-tuple is free. The range is
  // shared by both families, as Linux's ip_local_port_range is.
  const std::uint32_t range = config_.ephemeral_port_last - config_.ephemeral_port_first + 1u;
  const auto set_local_port = [&](std::uint16_t port) {
    std::visit([port](auto& t) { t.local_port = port; }, tuple);
  };
  std::uint16_t local_port = 0;
  for (std::uint32_t attempt = 0; attempt < range; ++attempt) {
    const std::uint16_t port = next_ephemeral_port_;
    next_ephemeral_port_ = port == config_.ephemeral_port_last
                               ? config_.ephemeral_port_first
                               : static_cast<std::uint16_t>(port + 1);
    set_local_port(port);
    if (!TupleInUse(tuple)) {
      local_port = port;
      break;
    }
  }
  if (local_port == 0) {
    return Errno(EADDRNOTAVAIL);  // no free ephemeral port
  }
  Tcb& tcb = CreateTcb(tuple, options);
  tcb.receiver.set_window_shift(ReceiveWindowScale(options.largest_receive_buffer()));
  tcb.sender.Start(InitialSequenceNumber(tuple), Now());
  SetState(tcb, State::kSynSent);
  counters_.Increment(Counter::kTcpActiveOpens);
  SendSegment(tcb, tcb.sender.iss(), wire::TcpFlags::kSyn, {}, /*with_syn_options=*/true);
  ArmRetransmitTimer(tcb);
  return IdOf(tcb);
}

IoResult TcpEngine::Send(ConnectionId id, std::span<const std::uint8_t> data) {
  Tcb* tcb = Find(id);
  if (tcb == nullptr) return IoResult{0, Errno(ENOTCONN)};
  switch (tcb->state) {
    case State::kSynSent:
    case State::kSynReceived:
    case State::kEstablished:
    case State::kCloseWait:
      break;  // RFC 9293 3.10.2: data queued before the connection is up goes out once it is
    default:
      return IoResult{0, Errno(EPIPE)};
  }
  if (tcb->sender.fin_queued()) return IoResult{0, Errno(EPIPE)};
  // The connection's own buffer bounds what it may hold (a full buffer: EAGAIN, as a non-blocking
  // socket says); the stack-wide budget bounds all connections together (ENOBUFS).
  const std::size_t memory_left = BufferMemoryLeft();
  const std::size_t accepted =
      tcb->sender.Write(data.first(std::min(data.size(), memory_left)), &ring_pool_);
  AccountBuffers(*tcb);
  if (accepted < data.size()) tcb->sender.set_want_writable();
  if (accepted == 0 && !data.empty()) {
    return IoResult{0, Errno(tcb->sender.free_space() > 0 && memory_left == 0 ? ENOBUFS : EAGAIN)};
  }
  Output(*tcb);
  return IoResult{accepted, {}};
}

IoResult TcpEngine::Receive(ConnectionId id, std::span<std::uint8_t> out) {
  Tcb* tcb = Find(id);
  if (tcb == nullptr) return IoResult{0, Errno(ENOTCONN)};
  const std::size_t read = tcb->receiver.Read(out, &ring_pool_);
  AccountBuffers(*tcb);
  if (read > 0) {
    // Autotuning (ConnectionOptions::receive_buffer_max), only while the stack-wide budget could
    // hold the whole grown buffer beside what the others hold. The window update below then tells
    // the peer, which waits at the old edge.
    const std::size_t capacity = tcb->receiver.buffer().capacity();
    const std::size_t limit = tcb->options->receive_buffer_max;
    if (limit > capacity &&
        BufferMemoryLeft() + tcb->accounted_buffer_bytes >= std::min(2 * capacity, limit) &&
        tcb->receiver.GrowIfWindowLimited(limit)) {
      counters_.Increment(Counter::kTcpReceiveBufferGrown);
    }
    // RFC 9293 3.8.6.2.2 and RFC 1122 4.2.3.3: a pure window update only when the sender is
    // running out of window and the edge moved far enough (Receiver::WindowUpdateDue).
    if (tcb->synchronized() && tcb->receiver.WindowUpdateDue(tcb->sender.mss())) SendAck(*tcb);
    return IoResult{read, {}};
  }
  if (out.empty()) return IoResult{0, {}};
  const bool peer_finished = tcb->state == State::kCloseWait || tcb->state == State::kLastAck ||
                             tcb->state == State::kClosing || tcb->state == State::kTimeWait;
  if (peer_finished) return IoResult{0, {}};  // end of stream
  return IoResult{0, Errno(EAGAIN)};
}

std::error_code TcpEngine::Shutdown(ConnectionId id) {
  Tcb* tcb = Find(id);
  if (tcb == nullptr) return Errno(ENOTCONN);
  if (tcb->sender.fin_queued()) return {};
  switch (tcb->state) {
    case State::kSynSent:
      if (tcb->sender.buffered() == 0) {
        // RFC 9293 3.10.4: CLOSE in SYN-SENT deletes the TCB; nothing was queued to send.
        Terminate(*tcb, {}, /*send_reset=*/false);
        return {};
      }
      // Data queued in SYN-SENT (RFC 9293 3.10.2: "queue the data for transmission after
      // entering ESTABLISHED") was accepted from the application, so it must not vanish: as for
      // CLOSE in SYN-RECEIVED (3.10.4), the FIN waits for the handshake and follows the data. The
      // SYN-ACK then moves the connection to FIN-WAIT-1 (IngestSynSent).
      tcb->sender.QueueFin();
      return {};
    case State::kSynReceived:
      // RFC 9293 3.10.4: the FIN waits until the handshake completes; the final ACK then moves
      // the connection to FIN-WAIT-1 instead of ESTABLISHED (ProcessAck).
      tcb->sender.QueueFin();
      return {};
    case State::kEstablished:
      // RFC 9293 3.10.4: the FIN follows the queued data; the state changes now.
      tcb->sender.QueueFin();
      SetState(*tcb, State::kFinWait1);
      break;
    case State::kCloseWait:
      tcb->sender.QueueFin();
      SetState(*tcb, State::kLastAck);
      break;
    default:
      return {};
  }
  Output(*tcb);
  return {};
}

std::error_code TcpEngine::Close(ConnectionId id) {
  Tcb* tcb = Find(id);
  if (tcb == nullptr) return Errno(ENOTCONN);
  if (tcb->receiver.buffer().readable() > 0) {
    // RFC 2525 2.17: closing with unread data loses it; tell the peer with a RST, as Linux does.
    tcb->app_closed = true;
    Terminate(*tcb, {}, /*send_reset=*/true);
    return {};
  }
  const std::error_code error = Shutdown(id);
  tcb = Find(id);  // Shutdown may have freed it (SYN-SENT)
  if (tcb != nullptr) {
    tcb->app_closed = true;
    if (tcb->state == State::kFinWait2) {
      // An orphan now: the keepalive timer bounds FIN-WAIT-2 instead of probing.
      tcb->keepalive_probes_unanswered = 0;
      timers_.ScheduleAfter(tcb->keepalive_timer, config_.fin_wait_2_timeout);
    }
  }
  return error;
}

std::error_code TcpEngine::Abort(ConnectionId id) {
  Tcb* tcb = Find(id);
  if (tcb == nullptr) return Errno(ENOTCONN);
  tcb->app_closed = true;
  // RFC 9293 3.10.5: RST in SYN-RECEIVED and the synchronized states, then CLOSED.
  Terminate(*tcb, {}, /*send_reset=*/tcb->state != State::kSynSent);
  return {};
}

std::error_code TcpEngine::SetUserTimeout(ConnectionId id, Duration user_timeout) {
  Tcb* tcb = Find(id);
  if (tcb == nullptr) return Errno(ENOTCONN);
  if (user_timeout < Duration::zero()) return Errno(EINVAL);
  ConnectionOptions options = *tcb->options;
  options.user_timeout = user_timeout;
  SetOptions(*tcb, options);
  if (tcb->retransmit_timer_armed() && tcb->synchronized()) {
    // The new timeout counts from now for the data in flight (it had no deadline, or another);
    // the retransmission timer restarts, due no later than it.
    tcb->unacknowledged_since = Now();
    ArmRetransmitTimer(*tcb);
  }
  return {};
}

std::error_code TcpEngine::SetNoDelay(ConnectionId id, bool no_delay) {
  Tcb* tcb = Find(id);
  if (tcb == nullptr) return Errno(ENOTCONN);
  ConnectionOptions options = *tcb->options;
  options.no_delay = no_delay;
  SetOptions(*tcb, options);
  if (no_delay) Output(*tcb);
  return {};
}

std::optional<ConnectionInfo> TcpEngine::Info(ConnectionId id) const {
  const Tcb* found = slab_.Find(id);
  if (found == nullptr) return std::nullopt;
  const Tcb& tcb = *found;
  const auto [local_address, remote_address] = std::visit(
      [](const auto& t) {
        return std::pair<wire::IpAddress, wire::IpAddress>(t.local_address, t.remote_address);
      },
      TupleOf(tcb));
  return ConnectionInfo{
      .state = tcb.state,
      .local_address = local_address,
      .remote_address = remote_address,
      .local_port = tcb.tuple.local_port,
      .remote_port = tcb.tuple.remote_port,
      .iss = tcb.sender.iss().value(),
      .irs = tcb.receiver.irs().value(),
      .snd_una = tcb.sender.snd_una().value(),
      .snd_nxt = tcb.sender.snd_nxt().value(),
      .rcv_nxt = tcb.receiver.rcv_nxt().value(),
      .snd_wnd = tcb.sender.snd_wnd(),
      .rcv_wnd = static_cast<std::uint32_t>(tcb.receiver.window()),
      .cwnd = tcb.sender.cwnd(),
      .mss = tcb.sender.mss(),
      .send_buffered = tcb.sender.buffered(),
      .receive_buffered = tcb.receiver.buffer().readable(),
      .receive_buffer = tcb.receiver.buffer().capacity(),
      .keepalive_probes_unanswered = tcb.keepalive_probes_unanswered,
      .timers_pending =
          static_cast<int>(tcb.send_timer.is_scheduled() + tcb.delayed_ack_timer.is_scheduled() +
                           tcb.keepalive_timer.is_scheduled()),
      .sack_permitted = tcb.receiver.sack_permitted(),
      .timestamps = tcb.timestamps_ok,
      .ssthresh = tcb.sender.ssthresh(),
      .congestion_control = tcb.sender.congestion_algorithm(),
  };
}

}  // namespace tapstack::tcp
