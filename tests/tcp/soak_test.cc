// The soak test: thousands of connections over time between two stacks on a
// virtual clock, over links that lose, duplicate, reorder and delay frames, each
// connection given one behaviour of a mixed workload: bulk transfers one way or both ways,
// request/response with every close order, half-close, idling with keepalive, aborts from either
// end mid-transfer, slow readers that close their window, a path that dies (idle, mid-transfer or
// behind a closed window) so keepalive, the retransmission limit or the persist limit ends it,
// and connections refused or unanswered.
//
// The workload runs in rounds. A round starts its sessions at random times over its first 20
// seconds and lasts until every session has finished and both stacks have forgotten every
// connection (TIME-WAIT included). After each round: no connection is left in either demux
// table, the timer queues hold nothing but the ARP cache's one timer per neighbour, and no
// session is left with a dead path. At the end the live heap is back within a small slack of
// what it was after the first round, the warm-up (twice as many sessions, so that the hash tables
// and buffers that keep their capacity have reached their largest). Every session's outcome must
// match its behaviour: a clean close delivered every byte intact both ways; an abort gives the
// other end ECONNRESET; a dead path gives ETIMEDOUT at both ends; a closed port ECONNREFUSED;
// bytes received before an abort or a death are a correct prefix of what was sent.
//
// Everything is seeded, so a run is reproducible. TAPSTACK_SOAK_ROUNDS (default 16),
// TAPSTACK_SOAK_SESSIONS (per round, default 200) and TAPSTACK_SOAK_SEED run it longer or
// differently; docs/testing.md, "Soak", has the figures.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tap/stack_pair.h"
#include "tests/support/byte_stream.h"
#include "tests/support/heap_counter.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using tap::StackPair;
using tap::StackPairOptions;
using timers::TimePoint;

constexpr std::uint16_t kServicePort = 80;      // both stacks listen here
constexpr std::uint16_t kClosedPort = 7;        // nobody listens: RST, ECONNREFUSED
constexpr std::uint16_t kUnreachablePort = 81;  // every frame to it is dropped: ETIMEDOUT

std::uint64_t EnvOr(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::strtoull(value, nullptr, 10) : fallback;
}

double Seconds(timers::Duration duration) {
  return std::chrono::duration<double>(duration).count();
}

enum class Behaviour {
  kBulkOneWay,           // the initiator sends and shuts down; each closes after the other's FIN
  kBulkBothWays,         // both send, shut down, and close after the other's FIN
  kRequestResponse,      // request, response, then a close order drawn per session
  kHalfClose,            // request and FIN; the acceptor answers from CLOSE-WAIT, then closes
  kIdleKeepalive,        // keepalive on, idle long enough for probes, then request/response
  kAbortBySender,        // bulk; the sender aborts midway: the receiver gets ECONNRESET
  kAbortByReceiver,      // bulk; the receiver aborts midway: the sender gets ECONNRESET
  kDeadPeerIdle,         // a request, then the path dies: keepalive ends both with ETIMEDOUT
  kDeadPeerMidTransfer,  // bulk, the path dies: retransmissions and keepalive give ETIMEDOUT
  kSlowReader,           // bulk into a receiver that stops reading: zero window, persist probes
  kDeadPeerZeroWindow,   // the same, and the path dies while the window is closed: ETIMEDOUT
  kRefused,              // connect to a port nobody listens on: ECONNREFUSED
  kUnreachable,          // connect to a port whose frames are all dropped: ETIMEDOUT
  kCount,
};

const char* BehaviourName(Behaviour behaviour) {
  switch (behaviour) {
    case Behaviour::kBulkOneWay:
      return "bulk-one-way";
    case Behaviour::kBulkBothWays:
      return "bulk-both-ways";
    case Behaviour::kRequestResponse:
      return "request-response";
    case Behaviour::kHalfClose:
      return "half-close";
    case Behaviour::kIdleKeepalive:
      return "idle-keepalive";
    case Behaviour::kAbortBySender:
      return "abort-by-sender";
    case Behaviour::kAbortByReceiver:
      return "abort-by-receiver";
    case Behaviour::kDeadPeerIdle:
      return "dead-peer-idle";
    case Behaviour::kDeadPeerMidTransfer:
      return "dead-peer-mid-transfer";
    case Behaviour::kSlowReader:
      return "slow-reader";
    case Behaviour::kDeadPeerZeroWindow:
      return "dead-peer-zero-window";
    case Behaviour::kRefused:
      return "refused";
    case Behaviour::kUnreachable:
      return "unreachable";
    case Behaviour::kCount:
      break;
  }
  return "?";
}

// Relative frequencies, in the order of Behaviour.
constexpr std::array<int, static_cast<int>(Behaviour::kCount)> kWeights = {14, 8, 20, 10, 12, 7, 7,
                                                                           6,  6, 6,  4,  5,  3};

// How a session must end, per end.
enum class Expect { kClean, kAborts, kReset, kTimedOut, kRefused, kUnused };

// One end of a session: what its application does, and what it saw.
struct Session;

struct Endpoint {
  enum class SendGate { kAtOnce, kAfterRequest, kAfterEof };
  enum class CloseGate { kAfterEof, kAfterExchange, kNever };

  // The script.
  Session* session = nullptr;
  Stack* stack = nullptr;
  std::size_t send_total = 0;
  std::uint64_t send_seed = 0;
  SendGate send_gate = SendGate::kAtOnce;
  TimePoint send_not_before{};
  // The application reads nothing before this long after it has the connection (max: never).
  std::optional<timers::Duration> read_pause;
  bool shutdown_after_send = false;
  CloseGate close_gate = CloseGate::kAfterEof;
  std::size_t expected_receive = 0;  // the peer's send_total
  std::uint64_t expected_seed = 0;   // the peer's send_seed
  std::optional<std::size_t> abort_when_received;
  std::optional<tcp::KeepaliveOptions> keepalive;
  Expect expect = Expect::kClean;

  // What happened.
  std::optional<tcp::ConnectionId> id;
  TimePoint read_not_before{};
  std::unique_ptr<ByteStream> outgoing;  // made when the connection is bound
  std::unique_ptr<ByteStream> incoming;  // the bytes the peer must deliver, regenerated
  std::vector<std::uint8_t> chunk;       // drawn from `outgoing`, not yet accepted by Send
  std::size_t sent = 0;
  std::size_t received = 0;
  bool shut_down = false;
  bool eof = false;
  bool abort_requested = false;
  bool aborted = false;
  bool closed_by_app = false;
  bool closed_event = false;
  std::error_code closed_error;
  std::string corruption;  // the first byte that differed from the stream, if any
  bool dirty = false;

  bool finished() const {
    return expect == Expect::kUnused || aborted || closed_by_app || closed_event;
  }
};

struct Session {
  int index = 0;
  Behaviour behaviour = Behaviour::kBulkOneWay;
  bool a_initiates = true;
  std::uint16_t port = kServicePort;
  TimePoint start_at{};
  std::optional<tcp::ConnectionOptions> connect_options;
  // How many bytes the acceptor's application has read when the path dies (kDeadPeerIdle,
  // kDeadPeerMidTransfer) or the sender aborts (kAbortBySender). Counting at the acceptor makes
  // sure it has the connection by then, so it has something to learn the end from.
  std::optional<std::size_t> dead_when_acceptor_received;
  std::optional<std::size_t> sender_aborts_when_acceptor_received;
  // How long after the acceptor has the connection the path dies (kDeadPeerZeroWindow).
  std::optional<timers::Duration> dead_after_accept;
  std::optional<TimePoint> dead_at;  // set once the acceptor has the connection
  std::uint32_t key = 0;             // StackPair::ConnectionKey of the connection, once it exists
  bool dead = false;
  bool done = false;
  Endpoint initiator;
  Endpoint acceptor;
};

// Totals over the whole run, for the report and the "faults did bite" checks.
struct SoakTotals {
  std::uint64_t sessions = 0;
  std::array<std::uint64_t, static_cast<int>(Behaviour::kCount)> by_behaviour{};
  std::uint64_t bytes_delivered = 0;  // application bytes read, both directions
};

// Everything random the workload draws, from one seed.
class Dice {
 public:
  explicit Dice(std::uint64_t seed) : rng_(seed) {}
  std::uint64_t Uniform(std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  // Log-uniform in [lo, hi]: many small transfers, some large.
  std::size_t Size(std::size_t lo, std::size_t hi) {
    const double x = std::uniform_real_distribution<double>(
        std::log(static_cast<double>(lo)), std::log(static_cast<double>(hi)))(rng_);
    return static_cast<std::size_t>(std::exp(x));
  }
  Behaviour PickBehaviour() {
    std::discrete_distribution<int> pick(kWeights.begin(), kWeights.end());
    return static_cast<Behaviour>(pick(rng_));
  }
  std::uint64_t Seed() { return rng_(); }

 private:
  std::mt19937_64 rng_;
};

// Seconds instead of hours, so idle connections are probed many times per round. Eight or more
// probes: with about 6 % of probes or answers lost, a live peer is then taken for dead less than
// once in a billion idle periods.
tcp::KeepaliveOptions ShortKeepalive(Dice& dice) {
  return tcp::KeepaliveOptions{.enabled = true,
                               .idle = milliseconds(dice.Uniform(1000, 3000)),
                               .interval = milliseconds(dice.Uniform(500, 1500)),
                               .count = static_cast<int>(dice.Uniform(8, 10))};
}

// For the end that must learn of an abort whose RST may be lost: a probe to the aborted end draws
// another RST. Many probes, so a run of losses cannot turn the reset into a timeout.
tcp::KeepaliveOptions PatientKeepalive() {
  return tcp::KeepaliveOptions{
      .enabled = true, .idle = seconds(2), .interval = seconds(1), .count = 12};
}

// The links: loss, duplication, reordering and delay in both directions, at rates that make every
// recovery path run often without making a round last long. No bit corruption: FaultyLink's
// corruption delivers frames that a real NIC's frame check sequence would have dropped, and ARP
// has no checksum of its own, so a flipped bit in an ARP reply's sender MAC poisons the peer's
// neighbour cache for the entry's lifetime (60 s) and kills the connections that run over it.
// An early version of this test did just that. The checksum checks of IPv4, ICMP and TCP have
// their own tests (wire_test, stack_test) and the fuzzers.
tap::FaultOptions LinkFaults(std::uint64_t seed) {
  return tap::FaultOptions{.seed = seed,
                           .loss = 0.03,
                           .duplicate = 0.02,
                           .reorder = 0.03,
                           .min_delay = milliseconds(1),
                           .max_delay = milliseconds(8)};
}

class Soak;

// One round: its sessions and the bookkeeping that maps connections to them. Destroyed before the
// heap is measured, so nothing of it counts.
class Round {
 public:
  Round(Soak& soak, int number, int sessions, Dice& dice);

  // Runs until every session is done and both stacks are empty. False (with a test failure
  // recorded) when virtual time runs out first.
  bool Run();
  void OnEvent(bool on_a, const tcp::Event& event);
  // Checks every session's outcome against its behaviour and adds to the totals.
  void Verify(SoakTotals& totals) const;

 private:
  void Plan(Session& session, Dice& dice);
  void Start(Session& session);
  void Bind(Endpoint& endpoint, tcp::ConnectionId id);
  void Accept(Stack& stack, bool on_a);
  void MarkDirty(Endpoint& endpoint);
  void Work(Endpoint& endpoint);
  void Receive(Endpoint& endpoint);
  void Send(Endpoint& endpoint);
  void AfterProgress(Session& session);
  std::string Describe(const Session& session) const;
  TimePoint now() const;

  Soak& soak_;
  int number_;
  std::vector<std::unique_ptr<Session>> sessions_;  // in start order
  std::size_t next_start_ = 0;
  std::size_t done_ = 0;
  // Endpoints by connection, per stack; sessions waiting for their acceptor by initiator port.
  std::unordered_map<std::uint64_t, Endpoint*> by_id_[2];
  std::unordered_map<std::uint16_t, Session*> awaiting_accept_[2];
  std::multimap<TimePoint, Endpoint*> wakeups_;  // idle endpoints' send times
  std::vector<Endpoint*> dirty_;                 // endpoints with something to do
  std::vector<std::uint8_t> scratch_ = std::vector<std::uint8_t>(64 * 1024);
  std::vector<std::uint8_t> expected_;  // the stream's bytes to compare a read with
};

class Soak {
 public:
  explicit Soak(std::uint64_t seed) : pair_(Options(seed, dead_keys_)) {
    pair_.a().set_tcp_event_handler([this](const tcp::Event& e) {
      if (round_ != nullptr) round_->OnEvent(true, e);
    });
    pair_.b().set_tcp_event_handler([this](const tcp::Event& e) {
      if (round_ != nullptr) round_->OnEvent(false, e);
    });
  }

  StackPair& pair() { return pair_; }
  Stack& stack(bool a) { return a ? pair_.a() : pair_.b(); }
  std::set<std::uint32_t>& dead_keys() { return dead_keys_; }
  void set_round(Round* round) { round_ = round; }

 private:
  static StackPairOptions Options(std::uint64_t seed, std::set<std::uint32_t>& dead_keys) {
    StackPairOptions options;
    options.faults_a_to_b = LinkFaults(seed * 2 + 1);
    options.faults_b_to_a = LinkFaults(seed * 2 + 2);
    // A dead path (a pulled cable, for that connection only) and the unreachable port.
    options.drop_a_to_b = [&dead_keys](std::span<const std::uint8_t> frame) {
      const std::uint32_t key = StackPair::ConnectionKey(frame, /*from_a=*/true);
      return key != 0 && ((key & 0xffff) == kUnreachablePort || dead_keys.contains(key));
    };
    options.drop_b_to_a = [&dead_keys](std::span<const std::uint8_t> frame) {
      const std::uint32_t key = StackPair::ConnectionKey(frame, /*from_a=*/false);
      return key != 0 && ((key >> 16) == kUnreachablePort || dead_keys.contains(key));
    };
    return options;
  }

  std::set<std::uint32_t> dead_keys_;  // node-based: holds no memory once empty
  StackPair pair_;
  Round* round_ = nullptr;
};

Round::Round(Soak& soak, int number, int sessions, Dice& dice) : soak_(soak), number_(number) {
  for (int i = 0; i < sessions; ++i) {
    auto session = std::make_unique<Session>();
    session->index = i;
    Plan(*session, dice);
    sessions_.push_back(std::move(session));
  }
  std::stable_sort(sessions_.begin(), sessions_.end(),
                   [](const auto& x, const auto& y) { return x->start_at < y->start_at; });
}

TimePoint Round::now() const { return soak_.pair().now(); }

void Round::Plan(Session& s, Dice& dice) {
  s.behaviour = dice.PickBehaviour();
  s.a_initiates = dice.Chance(0.75);
  s.start_at = now() + milliseconds(dice.Uniform(0, 20'000));
  Endpoint& i = s.initiator;
  Endpoint& r = s.acceptor;
  i.session = r.session = &s;
  i.stack = &soak_.stack(s.a_initiates);
  r.stack = &soak_.stack(!s.a_initiates);
  i.send_seed = dice.Seed();
  r.send_seed = dice.Seed();
  using SendGate = Endpoint::SendGate;
  using CloseGate = Endpoint::CloseGate;
  switch (s.behaviour) {
    case Behaviour::kBulkOneWay:
      i.send_total = dice.Size(16 << 10, 2 << 20);
      i.shutdown_after_send = true;
      break;
    case Behaviour::kBulkBothWays:
      i.send_total = dice.Size(16 << 10, 1 << 20);
      r.send_total = dice.Size(16 << 10, 1 << 20);
      i.shutdown_after_send = r.shutdown_after_send = true;
      break;
    case Behaviour::kIdleKeepalive:
      i.keepalive = ShortKeepalive(dice);
      if (dice.Chance(0.5)) r.keepalive = ShortKeepalive(dice);
      i.send_not_before = s.start_at + milliseconds(dice.Uniform(5'000, 30'000));
      [[fallthrough]];
    case Behaviour::kRequestResponse: {
      i.send_total = dice.Size(100, 8 << 10);
      r.send_total = dice.Size(100, 64 << 10);
      r.send_gate = SendGate::kAfterRequest;
      // Who closes first: the initiator once it has the response, the acceptor right after
      // writing it (its FIN follows the data), or both as soon as they are done (FINs cross).
      switch (dice.Uniform(0, 2)) {
        case 0:
          i.close_gate = CloseGate::kAfterExchange;
          break;
        case 1:
          r.close_gate = CloseGate::kAfterExchange;
          break;
        default:
          i.close_gate = r.close_gate = CloseGate::kAfterExchange;
          break;
      }
      break;
    }
    case Behaviour::kHalfClose:
      i.send_total = dice.Size(100, 64 << 10);
      i.shutdown_after_send = true;
      r.send_total = dice.Size(100, 256 << 10);
      r.send_gate = SendGate::kAfterEof;
      r.shutdown_after_send = true;
      break;
    case Behaviour::kAbortBySender:
      // No FIN from the sender: the receiver must learn of the end from the RST alone (with a FIN
      // ahead of it, it could read everything and close cleanly first).
      i.send_total = dice.Size(64 << 10, 1 << 20);
      i.expect = Expect::kAborts;
      r.expect = Expect::kReset;
      r.keepalive = PatientKeepalive();
      s.sender_aborts_when_acceptor_received = dice.Uniform(1, i.send_total - 1);
      break;
    case Behaviour::kAbortByReceiver:
      i.send_total = dice.Size(64 << 10, 1 << 20);
      i.shutdown_after_send = true;
      i.expect = Expect::kReset;
      i.keepalive = PatientKeepalive();
      r.abort_when_received = dice.Uniform(1, i.send_total - 1);
      r.expect = Expect::kAborts;
      break;
    case Behaviour::kDeadPeerIdle:
      i.send_total = dice.Size(100, 8 << 10);
      i.close_gate = r.close_gate = CloseGate::kNever;
      i.keepalive = ShortKeepalive(dice);
      r.keepalive = ShortKeepalive(dice);
      s.connect_options = tcp::ConnectionOptions{.max_retransmissions = 5};
      s.dead_when_acceptor_received = i.send_total;
      i.expect = r.expect = Expect::kTimedOut;
      break;
    case Behaviour::kDeadPeerMidTransfer:
      i.send_total = dice.Size(64 << 10, 1 << 20);
      i.shutdown_after_send = true;
      i.close_gate = r.close_gate = CloseGate::kNever;
      // Retransmissions end the sender when data is in flight at the death; when everything
      // was acknowledged just before (FIN-WAIT-2, the frames already on the wire), only
      // keepalive can, as with any TCP.
      i.keepalive = ShortKeepalive(dice);
      r.keepalive = ShortKeepalive(dice);
      s.connect_options = tcp::ConnectionOptions{.max_retransmissions = 5};
      s.dead_when_acceptor_received = dice.Uniform(1, i.send_total - 1);
      i.expect = r.expect = Expect::kTimedOut;
      break;
    case Behaviour::kSlowReader:
      // More than the receive buffer (256 KiB) holds, so the window closes while it sleeps.
      i.send_total = dice.Size(384 << 10, 1 << 20);
      i.shutdown_after_send = true;
      r.read_pause = milliseconds(dice.Uniform(2'000, 15'000));
      break;
    case Behaviour::kDeadPeerZeroWindow:
      i.send_total = dice.Size(384 << 10, 1 << 20);
      i.shutdown_after_send = true;
      i.close_gate = r.close_gate = CloseGate::kNever;
      r.read_pause = timers::Duration::max();
      r.keepalive = ShortKeepalive(dice);
      // Six unanswered window probes end it within about half a minute, not Linux's 15 (which
      // back off to two minutes each).
      s.connect_options = tcp::ConnectionOptions{.max_retransmissions = 6};
      s.dead_after_accept = milliseconds(dice.Uniform(3'000, 8'000));
      i.expect = r.expect = Expect::kTimedOut;
      break;
    case Behaviour::kRefused:
      s.port = kClosedPort;
      i.expect = Expect::kRefused;
      r.expect = Expect::kUnused;
      break;
    case Behaviour::kUnreachable:
      s.port = kUnreachablePort;
      i.expect = Expect::kTimedOut;
      r.expect = Expect::kUnused;
      break;
    case Behaviour::kCount:
      break;
  }
  if (i.keepalive && s.connect_options) s.connect_options->keepalive = *i.keepalive;
  i.expected_receive = r.send_total;
  i.expected_seed = r.send_seed;
  r.expected_receive = i.send_total;
  r.expected_seed = i.send_seed;
}

void Round::Start(Session& s) {
  Stack& stack = *s.initiator.stack;
  const wire::Ipv4Address peer = s.a_initiates ? StackPair::kAddressB : StackPair::kAddressA;
  const tcp::Result<tcp::ConnectionId> id =
      s.connect_options ? stack.Connect(peer, s.port, *s.connect_options, now())
                        : stack.Connect(peer, s.port, now());
  if (!id.ok()) {
    ADD_FAILURE() << "round " << number_ << " session " << s.index << ": " << id.error().message();
    s.initiator.closed_event = true;  // nothing more will happen to it
    s.acceptor.expect = Expect::kUnused;
    AfterProgress(s);
    return;
  }
  Bind(s.initiator, *id);
  const std::uint16_t local_port = stack.Info(*id)->local_port;
  s.key = s.a_initiates ? (std::uint32_t{local_port} << 16) | s.port
                        : (std::uint32_t{s.port} << 16) | local_port;
  if (s.acceptor.expect != Expect::kUnused)
    awaiting_accept_[s.a_initiates ? 0 : 1][local_port] = &s;
}

void Round::Bind(Endpoint& e, tcp::ConnectionId id) {
  e.id = id;
  e.outgoing = std::make_unique<ByteStream>(e.send_seed);
  e.incoming = std::make_unique<ByteStream>(e.expected_seed);
  by_id_[e.stack == &soak_.pair().a() ? 0 : 1][id.value] = &e;
  if (e.keepalive) {
    EXPECT_FALSE(e.stack->SetKeepalive(id, *e.keepalive, now()));
  }
  if (e.send_not_before > now()) wakeups_.emplace(e.send_not_before, &e);
  if (e.read_pause) {
    e.read_not_before =
        *e.read_pause == timers::Duration::max() ? TimePoint::max() : now() + *e.read_pause;
    if (e.read_not_before != TimePoint::max()) wakeups_.emplace(e.read_not_before, &e);
  }
  Session& s = *e.session;
  if (&e == &s.acceptor && s.dead_after_accept) {
    s.dead_at = now() + *s.dead_after_accept;
    wakeups_.emplace(*s.dead_at, &e);
  }
  MarkDirty(e);
}

void Round::Accept(Stack& stack, bool on_a) {
  while (const std::optional<tcp::ConnectionId> id = stack.Accept(kServicePort)) {
    const std::uint16_t remote_port = stack.Info(*id)->remote_port;
    // The initiator sits on the other stack: its ports are in the other table.
    auto& awaiting = awaiting_accept_[on_a ? 1 : 0];
    const auto it = awaiting.find(remote_port);
    if (it == awaiting.end()) {
      ADD_FAILURE() << "round " << number_ << ": accepted a connection from port " << remote_port
                    << " that no session made";
      stack.Abort(*id, now());
      continue;
    }
    Session& s = *it->second;
    awaiting.erase(it);
    Bind(s.acceptor, *id);
  }
}

void Round::OnEvent(bool on_a, const tcp::Event& event) {
  if (event.type == tcp::EventType::kAcceptReady) {
    Accept(soak_.stack(on_a), on_a);
    return;
  }
  const auto it = by_id_[on_a ? 0 : 1].find(event.connection.value);
  if (it == by_id_[on_a ? 0 : 1].end()) {
    ADD_FAILURE() << "round " << number_ << ": event " << static_cast<int>(event.type)
                  << " for unknown connection " << event.connection.value;
    return;
  }
  Endpoint& endpoint = *it->second;
  if (event.type == tcp::EventType::kClosed) {
    endpoint.closed_event = true;
    endpoint.closed_error = event.error;
    AfterProgress(*endpoint.session);
    return;
  }
  MarkDirty(endpoint);
}

void Round::MarkDirty(Endpoint& e) {
  if (e.dirty) return;
  e.dirty = true;
  dirty_.push_back(&e);
}

void Round::Send(Endpoint& e) {
  while (e.sent < e.send_total) {
    if (e.chunk.empty()) {
      e.chunk.resize(std::min<std::size_t>(16 * 1024, e.send_total - e.sent));
      e.outgoing->Next(e.chunk);
    }
    const tcp::IoResult result = e.stack->Send(*e.id, e.chunk, now());
    if (result.bytes == 0) break;
    e.sent += result.bytes;
    e.chunk.erase(e.chunk.begin(), e.chunk.begin() + static_cast<long>(result.bytes));
  }
  if (e.sent == e.send_total) {
    std::vector<std::uint8_t>().swap(e.chunk);
    if (e.shutdown_after_send && !e.shut_down) {
      e.shut_down = true;
      EXPECT_FALSE(e.stack->Shutdown(*e.id, now()));
    }
  }
}

void Round::Receive(Endpoint& e) {
  Session& s = *e.session;
  std::vector<std::uint8_t>& expected = expected_;
  while (!e.eof && !e.finished() && now() >= e.read_not_before) {
    const tcp::IoResult got = e.stack->Receive(*e.id, scratch_, now());
    if (!got.ok()) break;
    if (got.bytes == 0) {
      e.eof = true;
      break;
    }
    expected.resize(got.bytes);
    e.incoming->Next(expected);
    if (e.corruption.empty() && std::memcmp(expected.data(), scratch_.data(), got.bytes) != 0) {
      std::size_t at = 0;
      while (expected[at] == scratch_[at]) ++at;
      e.corruption = absl::StrCat("byte ", e.received + at, " differs");
    }
    e.received += got.bytes;
    if (e.received > e.expected_receive && e.corruption.empty()) {
      e.corruption = absl::StrCat("received ", e.received, " of ", e.expected_receive, " bytes");
    }
    if (&e == &s.acceptor) {
      if (s.dead_when_acceptor_received && !s.dead &&
          e.received >= *s.dead_when_acceptor_received) {
        s.dead = true;  // the path dies now, in both directions
        soak_.dead_keys().insert(s.key);
      }
      if (s.sender_aborts_when_acceptor_received && !s.initiator.abort_requested &&
          e.received >= *s.sender_aborts_when_acceptor_received) {
        s.initiator.abort_requested = true;
        MarkDirty(s.initiator);
      }
    }
    if (e.abort_when_received && e.received >= *e.abort_when_received) {
      e.abort_requested = true;
      break;
    }
  }
}

void Round::Work(Endpoint& e) {
  if (e.finished() || !e.id) return;
  Session& s = *e.session;
  if (s.dead_at && !s.dead && now() >= *s.dead_at) {
    s.dead = true;
    soak_.dead_keys().insert(s.key);
  }
  Receive(e);
  if (e.abort_requested && !e.finished()) {
    EXPECT_FALSE(e.stack->Abort(*e.id, now()));
    e.aborted = true;
    AfterProgress(s);
    return;
  }
  if (e.finished()) return;
  using SendGate = Endpoint::SendGate;
  const bool gate_open =
      now() >= e.send_not_before &&
      (e.send_gate == SendGate::kAtOnce ||
       (e.send_gate == SendGate::kAfterRequest && e.received >= e.expected_receive) ||
       (e.send_gate == SendGate::kAfterEof && e.eof));
  if (gate_open) Send(e);
  using CloseGate = Endpoint::CloseGate;
  const bool exchanged = e.sent == e.send_total && e.received >= e.expected_receive;
  const bool close = (e.close_gate == CloseGate::kAfterEof && e.eof && exchanged) ||
                     (e.close_gate == CloseGate::kAfterExchange && exchanged);
  if (close) {
    EXPECT_FALSE(e.stack->Close(*e.id, now()));
    e.closed_by_app = true;
    AfterProgress(s);
  }
}

void Round::AfterProgress(Session& s) {
  if (s.done || !s.initiator.finished() || !s.acceptor.finished()) return;
  s.done = true;
  ++done_;
  if (s.dead) soak_.dead_keys().erase(s.key);
}

bool Round::Run() {
  StackPair& pair = soak_.pair();
  const TimePoint give_up = now() + std::chrono::hours(2);
  int stalled = 0;
  while (true) {
    while (next_start_ < sessions_.size() && sessions_[next_start_]->start_at <= now()) {
      Start(*sessions_[next_start_++]);
    }
    while (!wakeups_.empty() && wakeups_.begin()->first <= now()) {
      MarkDirty(*wakeups_.begin()->second);
      wakeups_.erase(wakeups_.begin());
    }
    while (!dirty_.empty()) {
      std::vector<Endpoint*> batch;
      batch.swap(dirty_);
      for (Endpoint* endpoint : batch) {
        endpoint->dirty = false;
        Work(*endpoint);
      }
    }
    const bool settled = done_ == sessions_.size() && pair.a().tcp_connection_count() == 0 &&
                         pair.b().tcp_connection_count() == 0;
    if (settled) return true;
    std::optional<TimePoint> limit;
    if (next_start_ < sessions_.size()) limit = sessions_[next_start_]->start_at;
    if (!wakeups_.empty() && (!limit || wakeups_.begin()->first < *limit)) {
      limit = wakeups_.begin()->first;
    }
    if (now() >= give_up) break;
    const TimePoint before = now();
    if (!pair.Step(limit.value_or(give_up)) && !limit) break;
    // Time must move: events reported due again and again without progress are a bug, not a
    // reason to hang.
    stalled = now() == before ? stalled + 1 : 0;
    if (stalled > 100'000) break;
  }
  std::string unfinished;
  int listed = 0;
  for (const auto& s : sessions_) {
    if (!s->done && listed++ < 10) unfinished += "\n  " + Describe(*s);
  }
  ADD_FAILURE() << "round " << number_ << " did not settle: " << done_ << " of " << sessions_.size()
                << " sessions done, connections left A " << pair.a().tcp_connection_count() << " B "
                << pair.b().tcp_connection_count() << unfinished;
  return false;
}

std::string Round::Describe(const Session& s) const {
  auto end = [&](const char* name, const Endpoint& e) {
    std::string text = absl::StrCat(name, " sent ", e.sent, "/", e.send_total, " received ",
                                    e.received, "/", e.expected_receive);
    if (e.eof) text += " eof";
    if (e.aborted) text += " aborted";
    if (e.closed_by_app) text += " closed";
    if (e.closed_event) text += absl::StrCat(" closed-event(", e.closed_error.message(), ")");
    if (!e.corruption.empty()) text += " CORRUPT: " + e.corruption;
    if (e.id) {
      if (const auto info = e.stack->Info(*e.id)) {
        absl::StrAppend(&text, " ", std::string(tcp::StateName(info->state)), " timers ",
                        info->timers_pending);
      }
    } else {
      text += " no connection";
    }
    return text;
  };
  return absl::StrCat("session ", s.index, " ", BehaviourName(s.behaviour),
                      s.a_initiates ? " A->B" : " B->A", " ports A ", s.key >> 16, " B ",
                      s.key & 0xffff, " start ", Seconds(s.start_at.time_since_epoch()),
                      " s: ", end("initiator", s.initiator), "; ", end("acceptor", s.acceptor));
}

void Round::Verify(SoakTotals& totals) const {
  for (const auto& s : sessions_) {
    ++totals.sessions;
    ++totals.by_behaviour[static_cast<int>(s->behaviour)];
    for (const Endpoint* e : {&s->initiator, &s->acceptor}) {
      totals.bytes_delivered += e->received;
      const std::string where = absl::StrCat("round ", number_, ": ", Describe(*s));
      EXPECT_TRUE(e->corruption.empty()) << where;
      switch (e->expect) {
        case Expect::kClean:
          EXPECT_TRUE(e->closed_by_app && !e->closed_event) << where;
          EXPECT_EQ(e->sent, e->send_total) << where;
          EXPECT_EQ(e->received, e->expected_receive) << where;
          break;
        case Expect::kAborts:
          EXPECT_TRUE(e->aborted) << where;
          break;
        case Expect::kReset:
          EXPECT_TRUE(e->closed_event && e->closed_error == tcp::Errno(ECONNRESET)) << where;
          break;
        case Expect::kTimedOut:
          EXPECT_TRUE(e->closed_event && e->closed_error == tcp::Errno(ETIMEDOUT)) << where;
          break;
        case Expect::kRefused:
          EXPECT_TRUE(e->closed_event && e->closed_error == tcp::Errno(ECONNREFUSED)) << where;
          break;
        case Expect::kUnused:
          EXPECT_FALSE(e->id.has_value()) << where;
          break;
      }
    }
  }
}

TEST(SoakTest, MixedWorkloadOverFaultyLinksLeavesNothingBehind) {
  ASSERT_TRUE(HeapCountingActive()) << "the soak binary must link tests/support/heap_counter.cc";
  const std::uint64_t seed = EnvOr("TAPSTACK_SOAK_SEED", 20260808);
  const int rounds =
      static_cast<int>(std::max<std::uint64_t>(2, EnvOr("TAPSTACK_SOAK_ROUNDS", 16)));
  const int sessions = static_cast<int>(EnvOr("TAPSTACK_SOAK_SESSIONS", 200));
  const auto wall_start = std::chrono::steady_clock::now();

  Soak soak(seed);
  StackPair& pair = soak.pair();
  ASSERT_FALSE(pair.a().Listen(kServicePort, 4096, pair.now()));
  ASSERT_FALSE(pair.b().Listen(kServicePort, 4096, pair.now()));
  const TimePoint virtual_start = pair.now();
  Dice dice(seed);
  SoakTotals totals;
  HeapUsage baseline;
  for (int number = 1; number <= rounds; ++number) {
    {
      // The warm-up round runs twice the sessions: its peak of concurrent connections then
      // exceeds any later round's, so the demux tables (which keep their capacity after erase,
      // and also grow when erase tombstones use up their growth budget) are as large in the
      // baseline as they will ever need to be.
      Round round(soak, number, number == 1 ? 2 * sessions : sessions, dice);
      soak.set_round(&round);
      const bool settled = round.Run();
      soak.set_round(nullptr);
      round.Verify(totals);
      ASSERT_TRUE(settled);
    }
    // Nothing leaked: no connection in either demux table, and no timer but the ARP cache's
    // (one per neighbour, re-armed for as long as the neighbour answers).
    for (Stack* stack : {&pair.a(), &pair.b()}) {
      EXPECT_EQ(stack->tcp_connection_count(), 0u) << "round " << number;
      EXPECT_EQ(stack->timers().pending_count(), stack->arp().size()) << "round " << number;
      EXPECT_LE(stack->arp().size(), 1u);
    }
    EXPECT_TRUE(soak.dead_keys().empty());
    HeapUsage usage = CurrentHeapUsage();
    // Drained buffer storage each engine keeps for reuse is bounded and not a leak; what it holds
    // at the end of a round depends on which buffers drained last.
    for (Stack* stack : {&pair.a(), &pair.b()}) {
      usage.live_bytes -= static_cast<std::int64_t>(stack->tcp_pooled_buffer_bytes());
      usage.live_blocks -= static_cast<std::int64_t>(stack->tcp_pooled_buffer_blocks());
    }
    std::cout << "[ soak     ] round " << number << ": virtual "
              << Seconds(pair.now() - virtual_start) << " s, wall "
              << Seconds(std::chrono::steady_clock::now() - wall_start) << " s, live heap "
              << usage.live_bytes << " B in " << usage.live_blocks << " blocks, delivered "
              << totals.bytes_delivered << " B\n";
    if (number == 1) baseline = usage;
  }
  HeapUsage end = CurrentHeapUsage();
  for (Stack* stack : {&pair.a(), &pair.b()}) {
    end.live_bytes -= static_cast<std::int64_t>(stack->tcp_pooled_buffer_bytes());
    end.live_blocks -= static_cast<std::int64_t>(stack->tcp_pooled_buffer_blocks());
  }
  // The slack covers what may legitimately differ between two empty stacks: a hash table, a
  // vector or a link's queue that reached a larger capacity in a later round's peak (each grows
  // in steps of a few KiB, and a run has reached 16 KiB of them). A leak of even 16 bytes per
  // connection over the later rounds (about 3,000 of them: 48 KB) is larger.
  constexpr std::int64_t kSlackBytes = 32 * 1024;
  EXPECT_LE(end.live_bytes, baseline.live_bytes + kSlackBytes)
      << "the heap grew from " << baseline.live_bytes << " to " << end.live_bytes << " bytes";
  EXPECT_LE(end.live_blocks, baseline.live_blocks + 16)
      << "live blocks grew from " << baseline.live_blocks << " to " << end.live_blocks;

  // The faults bit and every path ran: this cannot pass by doing nothing.
  const Counters& a = pair.a().counters();
  const Counters& b = pair.b().counters();
  auto both = [&](Counter c) { return a[c] + b[c]; };
  EXPECT_GT(both(Counter::kTcpRetransmits), 0u);
  EXPECT_GT(both(Counter::kTcpFastRetransmits), 0u);
  EXPECT_GT(both(Counter::kDropTcpUnacceptable), 0u) << "duplicates";
  EXPECT_GT(both(Counter::kTcpResetsReceived), 0u);
  EXPECT_GT(both(Counter::kTcpKeepaliveProbesSent), 0u);
  EXPECT_GT(both(Counter::kTcpKeepaliveAborts), 0u);
  EXPECT_GT(both(Counter::kTcpTimeouts), 0u);
  for (int behaviour = 0; behaviour < static_cast<int>(Behaviour::kCount); ++behaviour) {
    EXPECT_GT(totals.by_behaviour[behaviour], 0u)
        << BehaviourName(static_cast<Behaviour>(behaviour)) << " never ran";
  }
  std::cout << "[ soak     ] seed " << seed << ", " << rounds << " rounds, " << totals.sessions
            << " sessions (";
  for (int behaviour = 0; behaviour < static_cast<int>(Behaviour::kCount); ++behaviour) {
    std::cout << (behaviour ? ", " : "") << BehaviourName(static_cast<Behaviour>(behaviour)) << " "
              << totals.by_behaviour[behaviour];
  }
  std::cout << "), " << both(Counter::kTcpActiveOpens) << " connects, "
            << both(Counter::kTcpPassiveOpens) << " passive opens, " << totals.bytes_delivered
            << " bytes delivered, virtual " << Seconds(pair.now() - virtual_start) << " s, wall "
            << Seconds(std::chrono::steady_clock::now() - wall_start) << " s; heap "
            << baseline.live_bytes << " -> " << end.live_bytes << " B; retransmits "
            << both(Counter::kTcpRetransmits) << ", fast retransmits "
            << both(Counter::kTcpFastRetransmits) << ", keepalive probes "
            << both(Counter::kTcpKeepaliveProbesSent) << ", resets received "
            << both(Counter::kTcpResetsReceived) << "\n";
}

}  // namespace
}  // namespace tapstack::testing
