// Keepalive at scale: N established connections between two full stacks on a virtual
// clock (tap::StackPair), stack A with keepalive on every connection (idle 60 s, interval 10 s,
// count 3, as `tapstack sim`), stack B the peer. For each timer queue (timers::kTimerQueueKinds):
//
//   keepalive_segment/<queue>/<lazy|rearm>/N  ns per received segment: every connection receives
//       one small segment, in random order, fed straight into A's input path in bursts of 64
//       (Stack::IngestBurst, as the TAP event loop delivers what one wakeup reads), each burst
//       copied untimed into buffers of its own first, as a device read would leave it. `lazy` is
//       the stack's design (stamp last_received only); `rearm` sets
//       Stack::RearmKeepaliveOnEverySegmentForBenchmark, the naive design that reschedules the
//       keepalive timer on every segment. Only A's work is timed.
//   keepalive_segment_growth/wheel/N  the same, for 1e3 connections and for the largest N, in
//       alternating passes of one run (so that both meet the same machine load); reports both
//       and their ratio, `growth`.
//   keepalive_round/<queue>/N  CPU ns per connection for one full keepalive round: every
//       connection goes idle, is probed and answers. Both stacks' work is timed (A probing, B
//       answering, A taking the answer), so A's own share is smaller.
//   keepalive_dead/<queue>/N  CPU per abort: 1% of the peers go silent; after the first probe
//       round (untimed) the timed part runs the second and third probes and the aborts, and
//       includes the wheel/heap/sweep work of carrying the 99% live timers through that time.
//       Counters lateness_p50, lateness_p99 and lateness_max: how long after the time keepalive
//       promises (the peer's last segment + idle + count x interval) each abort came, in ms; zero
//       for every queue but the non-cascading wheel, whose expiries may each be late.
//   keepalive_memory/<queue>/N  bytes per idle established connection per side: the resident
//       set (RSS) delta and the malloc'd bytes delta over establishing N connections on each
//       stack, divided by 2N; and sizeof(tcp::Tcb). keepalive_memory/wheel/ipv6/N: the same with
//       every connection over IPv6 (its own demux table and the addresses kept beside it).
//
// N runs over 1e3, 1e4, 1e5 and, with TAPSTACK_BENCH_MAX_CONNECTIONS=1000000 in the environment,
// 1e6 (about 1.8 GiB and several seconds of setup per benchmark, so CI's smoke run skips it). The
// sweep visits every pending timer on every Advance() and NextDeadline() (so on every received
// frame), which makes it quadratic here: it stops at 1e4.
//
//   keepalive_idle/<wheel|lwip>/N  CPU ns per connection per second of virtual time while every
//       connection is idle and no probe is due yet (50 s after establishment, keepalive idle 60 s):
//       the cost of merely keeping N connections with keepalive. Both stacks timed.
//
// With Debian's liblwip found at build time, lwIP runs the same connections between two lwIP
// netifs in this process (bench/lwip_pair.h): keepalive_idle/lwip, keepalive_round/lwip and
// keepalive_memory/lwip. lwIP's tcp_slowtmr and tcp_fasttmr walk every pcb every 500 and 250 ms,
// and its demultiplexer is a linear list (so setting up N connections and answering N probes are
// quadratic in N); lwIP stops at 1e4 unless TAPSTACK_BENCH_LWIP_MAX_CONNECTIONS says otherwise.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "stack/counters.h"
#include "stack/stack.h"
#include "stack/tcp/tcb.h"
#include "tap/stack_pair.h"

#ifdef TAPSTACK_HAVE_LWIP
#include "bench/lwip_pair.h"
#include "lwip/ip.h"
#include "lwip/tcp.h"
#endif

namespace tapstack {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::uint16_t kFirstServerPort = 10000;
constexpr std::size_t kConnectionsPerServerPort = 25'000;  // within the 28232 ephemeral ports
constexpr std::size_t kConnectBatch = 1000;                // per virtual millisecond
constexpr std::size_t kSweepMaxConnections = 10'000;
// keepalive_segment hands A its segments in bursts of this many, as StackPair and the TAP event
// loop do (Stack::IngestBurst).
constexpr std::size_t kSegmentBurst = 64;
// keepalive_segment_growth compares N connections with this many.
constexpr std::size_t kGrowthBaseConnections = 1000;
// Alternations of keepalive_segment_growth: at 1e6 each is about a second.
constexpr int kGrowthIterations = 8;
const tcp::KeepaliveOptions kKeepalive{
    .enabled = true, .idle = seconds(60), .interval = seconds(10), .count = 3};

// Profiling the timed part alone: with TAPSTACK_PERF_CONTROL naming the control FIFO of
// `perf record -D -1 --control=fifo:FIFO`, keepalive_segment and keepalive_round enable perf only
// for what they time, so the profile is not drowned by the untimed setup of each iteration.
class PerfControl {
 public:
  PerfControl() {
    if (const char* path = std::getenv("TAPSTACK_PERF_CONTROL")) fifo_ = std::fopen(path, "w");
  }
  ~PerfControl() {
    if (fifo_ != nullptr) std::fclose(fifo_);
  }
  void Enable() { Say("enable\n"); }
  void Disable() { Say("disable\n"); }

 private:
  void Say(const char* command) {
    if (fifo_ == nullptr) return;
    std::fputs(command, fifo_);
    std::fflush(fifo_);
  }
  std::FILE* fifo_ = nullptr;
};

std::int64_t CpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

long ResidentBytes() {
  long pages_total = 0;
  long pages_resident = 0;
  if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
    std::fclose(statm);
  }
  return pages_resident * sysconf(_SC_PAGESIZE);
}

// Bytes handed out by malloc (small chunks plus mmap'd ones): unlike RSS, not blurred by pages
// the allocator keeps from earlier benchmarks.
std::int64_t MallocedBytes() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<std::int64_t>(info.uordblks + info.hblkhd);
}

struct Connection {
  tcp::ConnectionId ours;    // on A, with keepalive
  tcp::ConnectionId theirs;  // on B
  std::uint32_t key = 0;
  bool closed = false;
};

// N established connections between two stacks. The drop hooks consult this object, so it is
// built in place and never moved.
class World {
 public:
  // With `record_closes`, the world also keeps the time of the last segment A received on each
  // connection and of each close on A, so that aborts can be checked against keepalive's promise.
  // With `ipv6`, both stacks run IPv6 as well and every connection is made over it.
  World(timers::TimerQueueKind kind, std::size_t n, bool rearm_per_segment, bool record_closes,
        bool ipv6 = false)
      : n_(n), record_closes_(record_closes) {
    // Bookkeeping of the benchmark itself is reserved before the memory baseline is taken.
    connections_.resize(n);
    index_by_key_.reserve(n);
    captured_.reserve(n * 64);
    captured_offsets_.reserve(n + 1);
    if (record_closes) {
      last_from_peer_.reserve(n);
      closes_.reserve(n);
    }

    tap::StackPairOptions options;
    options.timer_queue = kind;
    options.queue_limit = 1 << 22;
    options.ipv6 = ipv6;
    options.tcp.max_connections = n + 16;
    options.tcp.max_half_open = n + 16;
    // As `tapstack sim`: small buffers, since idle connections are the subject.
    options.tcp.defaults.send_buffer = 16 * 1024;
    options.tcp.defaults.receive_buffer = 16 * 1024;
    options.drop_a_to_b = [this](std::span<const std::uint8_t> frame) {
      return !dead_keys_.empty() &&
             dead_keys_.contains(tap::StackPair::ConnectionKey(frame, /*from_a=*/true));
    };
    options.drop_b_to_a = [this](std::span<const std::uint8_t> frame) {
      if (capture_b_to_a_) {
        captured_.insert(captured_.end(), frame.begin(), frame.end());
        captured_offsets_.push_back(captured_.size());
        return true;
      }
      return !dead_keys_.empty() &&
             dead_keys_.contains(tap::StackPair::ConnectionKey(frame, /*from_a=*/false));
    };
    if (record_closes) {
      options.observe_b_to_a = [this](std::span<const std::uint8_t> frame, timers::TimePoint now) {
        if (const std::uint32_t key = tap::StackPair::ConnectionKey(frame, /*from_a=*/false);
            key != 0) {
          last_from_peer_[key] = now;
        }
      };
    }
    pair_ = std::make_unique<tap::StackPair>(options);
    Stack& a = pair_->a();
    a.RearmKeepaliveOnEverySegmentForBenchmark(rearm_per_segment);
    Stack& b = pair_->b();
    a.set_tcp_event_handler([this, &a](const tcp::Event& event) {
      if (event.type == tcp::EventType::kReadable) {
        while (a.Receive(event.connection, scratch_, pair_->now()).bytes > 0) {
        }
      } else if (event.type == tcp::EventType::kClosed) {
        ++closed_;
        if (record_closes_) closes_.emplace_back(event.connection, pair_->now());
      }
    });
    b.set_tcp_event_handler([this, &b](const tcp::Event& event) {
      if (event.type != tcp::EventType::kAcceptReady) return;
      while (std::optional<tcp::ConnectionId> id = b.Accept(event.listener_port)) {
        const std::optional<tcp::ConnectionInfo> info = b.Info(*id);
        const std::uint32_t key = (std::uint32_t{info->remote_port} << 16) | info->local_port;
        if (const auto it = index_by_key_.find(key); it != index_by_key_.end()) {
          connections_[it->second].theirs = *id;
          ++accepted_;
        }
      }
    });

    // Resolve the neighbours first: while ARP is pending the stack holds only a few frames, and
    // the SYNs of the first batch would otherwise wait a whole SYN timeout.
    (void)a.SendEchoRequest(tap::StackPair::kAddressB, 1, 1, {}, now());
    if (ipv6) (void)a.SendEchoRequest(tap::StackPair::kIpv6AddressB, 1, 1, {}, now());
    Settle();

    malloc_trim(0);  // return what earlier benchmarks freed, so the RSS baseline is honest
    const long rss_before = ResidentBytes();
    const std::int64_t malloced_before = MallocedBytes();
    // A batch per virtual millisecond, so idle periods and probes spread over time as they would
    // on a real server rather than all landing in one tick.
    const std::size_t server_ports =
        (n + kConnectionsPerServerPort - 1) / kConnectionsPerServerPort;
    for (std::size_t port = 0; port < server_ports; ++port) {
      (void)b.Listen(static_cast<std::uint16_t>(kFirstServerPort + port), 4096, pair_->now());
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto port =
          static_cast<std::uint16_t>(kFirstServerPort + i / kConnectionsPerServerPort);
      tcp::Result<tcp::ConnectionId> id =
          ipv6 ? a.Connect(tap::StackPair::kIpv6AddressB, port, now())
               : a.Connect(tap::StackPair::kAddressB, port, now());
      if (!id.ok()) return;
      Connection& connection = connections_[i];
      connection.ours = *id;
      const std::optional<tcp::ConnectionInfo> info = a.Info(*id);
      connection.key = (std::uint32_t{info->local_port} << 16) | info->remote_port;
      index_by_key_[connection.key] = i;
      (void)a.SetKeepalive(*id, kKeepalive, now());
      if ((i + 1) % kConnectBatch == 0 || i + 1 == n) pair_->Step(now() + milliseconds(1));
    }
    (void)RunUntil([this] { return accepted_ == n_; }, seconds(60));
    Settle();
    rss_per_connection_ =
        static_cast<double>(ResidentBytes() - rss_before) / (2.0 * static_cast<double>(n));
    malloced_per_connection_ =
        static_cast<double>(MallocedBytes() - malloced_before) / (2.0 * static_cast<double>(n));
  }

  bool ok() const {
    return accepted_ == n_ && pair_->a().tcp_connection_count() == n_ &&
           pair_->b().tcp_connection_count() == n_;
  }
  timers::TimePoint now() const { return pair_->now(); }
  Stack& a() { return pair_->a(); }
  Stack& b() { return pair_->b(); }
  tap::StackPair& pair() { return *pair_; }
  std::vector<Connection>& connections() { return connections_; }
  double rss_per_connection() const { return rss_per_connection_; }
  double malloced_per_connection() const { return malloced_per_connection_; }
  std::size_t closed() const { return closed_; }
  std::size_t accepted() const { return accepted_; }

  // Runs everything due in the next 100 ms of virtual time (delayed ACKs are 40 ms).
  void Settle() {
    const timers::TimePoint until = now() + milliseconds(100);
    while (pair_->Step(until)) {
    }
  }
  // Runs event by event until `done` or `limit` of virtual time has passed.
  bool RunUntil(const std::function<bool()>& done, timers::Duration limit) {
    const timers::TimePoint end = now() + limit;
    while (!done()) {
      if (now() >= end) return false;
      pair_->Step(end);
    }
    return true;
  }

  void set_capture(bool on) {
    capture_b_to_a_ = on;
    if (on) {
      captured_.clear();
      captured_offsets_.assign(1, 0);
    }
  }
  std::size_t captured_count() const { return captured_offsets_.size() - 1; }
  std::span<const std::uint8_t> captured(std::size_t i) const {
    return std::span(captured_).subspan(captured_offsets_[i],
                                        captured_offsets_[i + 1] - captured_offsets_[i]);
  }
  void KillPeer(const Connection& connection) { dead_keys_.insert(connection.key); }
  // With record_closes: when A last received a segment on `connection`.
  timers::TimePoint last_from_peer(const Connection& connection) const {
    return last_from_peer_.at(connection.key);
  }
  // With record_closes: the connections A closed since the last call, and when.
  std::vector<std::pair<tcp::ConnectionId, timers::TimePoint>> TakeCloses() {
    std::vector<std::pair<tcp::ConnectionId, timers::TimePoint>> closes;
    closes.reserve(n_);
    closes.swap(closes_);
    return closes;
  }

 private:
  std::size_t n_;
  bool record_closes_;
  absl::flat_hash_map<std::uint32_t, timers::TimePoint> last_from_peer_;
  std::vector<std::pair<tcp::ConnectionId, timers::TimePoint>> closes_;
  std::unique_ptr<tap::StackPair> pair_;
  std::vector<Connection> connections_;
  absl::flat_hash_map<std::uint32_t, std::size_t> index_by_key_;
  absl::flat_hash_set<std::uint32_t> dead_keys_;
  std::vector<std::uint8_t> scratch_ = std::vector<std::uint8_t>(4096);
  bool capture_b_to_a_ = false;
  std::vector<std::uint8_t> captured_;
  std::vector<std::size_t> captured_offsets_;
  std::size_t accepted_ = 0;
  std::size_t closed_ = 0;
  double rss_per_connection_ = 0;
  double malloced_per_connection_ = 0;
};

// N connections: `connections`, or the benchmark's argument when that is 0.
std::unique_ptr<World> MakeWorld(benchmark::State& state, timers::TimerQueueKind kind,
                                 bool rearm_per_segment = false, std::size_t connections = 0,
                                 bool record_closes = false, bool ipv6 = false) {
  const std::size_t n = connections != 0 ? connections : static_cast<std::size_t>(state.range(0));
  auto world = std::make_unique<World>(kind, n, rearm_per_segment, record_closes, ipv6);
  if (!world->ok()) {
    std::fprintf(stderr, "accepted %zu, A %zu, B %zu of %zu\n", world->accepted(),
                 world->a().tcp_connection_count(), world->b().tcp_connection_count(),
                 world->connections().size());
    state.SkipWithError("could not establish every connection");
    return nullptr;
  }
  return world;
}

// One keepalive_segment pass: B sends one byte on every connection of `world`, and A takes the
// segments in random order, in bursts. Only A's ingest is timed; the rest runs with the
// benchmark's timing paused.
class SegmentPasses {
 public:
  explicit SegmentPasses(std::uint64_t seed) : rng_(seed), burst_buffers_(kSegmentBurst) {
    for (std::vector<std::uint8_t>& buffer : burst_buffers_) buffer.reserve(2048);
  }

  // Runs one pass; adds its CPU time to cpu_ns() and its segments to segments(). Within a
  // benchmark's loop `state` is given, and its timing paused for the untimed parts.
  void Run(benchmark::State* state, World& world, PerfControl& perf) {
    if (state != nullptr) state->PauseTiming();
    // The segments are caught before the link so that they can be fed to A in random order.
    world.set_capture(true);
    for (const Connection& connection : world.connections()) {
      (void)world.b().Send(connection.theirs, std::span(&kByte, 1), world.now());
    }
    world.set_capture(false);
    order_.resize(world.captured_count());
    for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    std::shuffle(order_.begin(), order_.end(), rng_);
    if (state != nullptr) state->ResumeTiming();
    perf.Enable();
    // Each burst is first copied, untimed, into buffers of its own, as a device read or a link
    // hands the stack its frames: what is timed is the stack, not a random read of this
    // benchmark's capture.
    std::span<const std::uint8_t> burst[kSegmentBurst];
    for (std::size_t first = 0; first < order_.size(); first += kSegmentBurst) {
      const std::size_t count = std::min(kSegmentBurst, order_.size() - first);
      for (std::size_t j = 0; j < count; ++j) {
        const std::span<const std::uint8_t> frame = world.captured(order_[first + j]);
        burst_buffers_[j].assign(frame.begin(), frame.end());
        burst[j] = burst_buffers_[j];
      }
      const std::int64_t start = CpuNanos();
      world.a().IngestBurst(std::span(burst).first(count), world.now());
      cpu_ns_ += CpuNanos() - start;
    }
    perf.Disable();
    segments_ += order_.size();
    if (state != nullptr) state->PauseTiming();
    // A's delayed ACKs reach B, so every connection is idle again for the next pass.
    world.Settle();
    if (state != nullptr) state->ResumeTiming();
  }

  std::int64_t cpu_ns() const { return cpu_ns_; }
  std::uint64_t segments() const { return segments_; }
  double ns_per_segment() const {
    return static_cast<double>(cpu_ns_) /
           static_cast<double>(std::max<std::uint64_t>(1, segments_));
  }

 private:
  static constexpr std::uint8_t kByte = 'x';
  std::mt19937_64 rng_;
  std::vector<std::size_t> order_;
  std::vector<std::vector<std::uint8_t>> burst_buffers_;
  std::int64_t cpu_ns_ = 0;
  std::uint64_t segments_ = 0;
};

void KeepaliveSegment(benchmark::State& state, timers::TimerQueueKind kind, bool rearm) {
  std::unique_ptr<World> world = MakeWorld(state, kind, rearm);
  if (!world) return;
  PerfControl perf;
  SegmentPasses passes(42);
  for (auto _ : state) passes.Run(&state, *world, perf);
  state.counters["ns_per_segment"] = passes.ns_per_segment();
  state.counters["connections"] = static_cast<double>(state.range(0));
}

// How the segment path grows from 1e3 connections to N, measured in one run: a pass over the N
// connections alternates with N / 1e3 passes over the 1e3 connections of a second pair of
// stacks, so both sizes take the same number of segments, about the same time and the same
// machine load. On a shared machine whose load moves the figures of separate runs by a third,
// the ratio of two runs minutes apart says little about growth; this one is the figure for it.
void KeepaliveSegmentGrowth(benchmark::State& state, timers::TimerQueueKind kind) {
  std::unique_ptr<World> large = MakeWorld(state, kind);
  if (!large) return;
  std::unique_ptr<World> small =
      MakeWorld(state, kind, /*rearm_per_segment=*/false, kGrowthBaseConnections);
  if (!small) return;
  PerfControl perf;  // not enabled: profile keepalive_segment itself
  SegmentPasses large_passes(42);
  SegmentPasses small_passes(43);
  const std::size_t small_per_large =
      std::max<std::size_t>(1, large->connections().size() / small->connections().size());
  // A pass over each first, untimed: the first pass over freshly built stacks is warm-up.
  SegmentPasses warm_up(44);
  warm_up.Run(nullptr, *large, perf);
  warm_up.Run(nullptr, *small, perf);
  for (auto _ : state) {
    large_passes.Run(&state, *large, perf);
    for (std::size_t i = 0; i < small_per_large; ++i) small_passes.Run(&state, *small, perf);
  }
  state.counters["ns_per_segment"] = large_passes.ns_per_segment();
  state.counters["ns_per_segment_at_1e3"] = small_passes.ns_per_segment();
  state.counters["growth"] = large_passes.ns_per_segment() / small_passes.ns_per_segment();
  state.counters["connections"] = static_cast<double>(state.range(0));
}

void KeepaliveRound(benchmark::State& state, timers::TimerQueueKind kind) {
  std::unique_ptr<World> world = MakeWorld(state, kind);
  if (!world) return;
  const std::size_t n = world->connections().size();
  const auto round = [&] {
    const std::uint64_t answered_before =
        world->a().counters()[Counter::kTcpKeepaliveProbesAnswered];
    return world->RunUntil(
        [&] {
          return world->a().counters()[Counter::kTcpKeepaliveProbesAnswered] - answered_before >= n;
        },
        seconds(300));
  };
  // One round untimed first. Every probe of a round leaves in the same tick (the connections were
  // all answered at the same moment of the round before), so the link's queues grow to N frames
  // in the first round and keep that memory: its page faults belong to warm-up, not to the
  // round a server repeats every interval. At 1e6 only two or three rounds are timed, so they
  // would otherwise weigh a third of the figure.
  if (!round()) {
    state.SkipWithError("keepalive round did not complete");
    return;
  }
  std::int64_t cpu_ns = 0;
  std::uint64_t rounds = 0;
  PerfControl perf;
  for (auto _ : state) {
    const std::int64_t start = CpuNanos();
    perf.Enable();
    const bool done = round();
    perf.Disable();
    cpu_ns += CpuNanos() - start;
    ++rounds;
    if (!done) {
      state.SkipWithError("keepalive round did not complete");
      return;
    }
  }
  state.counters["ns_per_connection"] =
      static_cast<double>(cpu_ns) / static_cast<double>(std::max<std::uint64_t>(1, rounds * n));
  state.counters["connections"] = static_cast<double>(n);
}

// The value at quantile `q` (0 to 1) of `samples`, with the rank timer_bench's lateness counters
// use: q of the way from the smallest to the largest.
double Quantile(std::vector<double>& samples, double q) {
  if (samples.empty()) return 0;
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(rank),
                   samples.end());
  return samples[rank];
}

void KeepaliveDead(benchmark::State& state, timers::TimerQueueKind kind) {
  std::unique_ptr<World> world =
      MakeWorld(state, kind, /*rearm_per_segment=*/false, /*connections=*/0,
                /*record_closes=*/true);
  if (!world) return;
  std::vector<Connection>& connections = world->connections();
  std::mt19937_64 rng(7);
  std::int64_t cpu_ns = 0;
  std::uint64_t aborts = 0;
  std::vector<double> lateness_ms;  // per abort: its time - the time keepalive promises
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::size_t> alive;
    for (std::size_t i = 0; i < connections.size(); ++i) {
      if (!connections[i].closed) alive.push_back(i);
    }
    std::shuffle(alive.begin(), alive.end(), rng);
    const std::size_t dead = std::max<std::size_t>(1, alive.size() / 100);
    absl::flat_hash_map<tcp::ConnectionId, timers::TimePoint> promised_aborts;
    for (std::size_t i = 0; i < dead; ++i) {
      Connection& connection = connections[alive[i]];
      connection.closed = true;
      world->KillPeer(connection);
      promised_aborts[connection.ours] = world->last_from_peer(connection) + kKeepalive.idle +
                                         kKeepalive.interval * kKeepalive.count;
    }
    // Untimed: the idle period and the first probe, which the live peers answer (that is what
    // keepalive_round measures).
    const std::uint64_t sent_before = world->a().counters()[Counter::kTcpKeepaliveProbesSent];
    const std::uint64_t live = alive.size() - dead;
    bool done = world->RunUntil(
        [&] {
          return world->a().counters()[Counter::kTcpKeepaliveProbesSent] - sent_before >=
                 live + dead;
        },
        seconds(300));
    world->Settle();
    const std::size_t closed_before = world->closed();
    state.ResumeTiming();
    const std::int64_t start = CpuNanos();
    done = done &&
           world->RunUntil([&] { return world->closed() - closed_before >= dead; }, seconds(300));
    cpu_ns += CpuNanos() - start;
    aborts += dead;
    if (!done || world->closed() - closed_before != dead) {
      state.SkipWithError("dead peers were not aborted as expected");
      return;
    }
    state.PauseTiming();
    for (const auto& [id, when] : world->TakeCloses()) {
      if (const auto it = promised_aborts.find(id); it != promised_aborts.end()) {
        lateness_ms.push_back(std::chrono::duration<double, std::milli>(when - it->second).count());
      }
    }
    state.ResumeTiming();
  }
  state.counters["lateness_p50"] = Quantile(lateness_ms, 0.5);
  state.counters["lateness_p99"] = Quantile(lateness_ms, 0.99);
  state.counters["lateness_max"] = Quantile(lateness_ms, 1.0);
  state.counters["ns_per_abort"] =
      static_cast<double>(cpu_ns) / static_cast<double>(std::max<std::uint64_t>(1, aborts));
  state.counters["connections"] = static_cast<double>(state.range(0));
}

// keepalive_idle runs kIdleIterations steps of kIdleStep: 50 s, short of the 60 s keepalive idle
// time, so no probe is due and what is measured is the cost of time passing.
constexpr seconds kIdleStep{10};
constexpr int kIdleIterations = 5;

void ReportIdle(benchmark::State& state, std::int64_t cpu_ns, std::size_t n,
                std::int64_t virtual_seconds) {
  state.counters["ns_per_connection_second"] =
      static_cast<double>(cpu_ns) /
      (static_cast<double>(n) * static_cast<double>(std::max<std::int64_t>(1, virtual_seconds)));
  state.counters["connections"] = static_cast<double>(n);
}

void KeepaliveIdle(benchmark::State& state, timers::TimerQueueKind kind) {
  std::unique_ptr<World> world = MakeWorld(state, kind);
  if (!world) return;
  const std::size_t n = world->connections().size();
  const std::uint64_t probes_before = world->a().counters()[Counter::kTcpKeepaliveProbesSent];
  std::int64_t cpu_ns = 0;
  std::int64_t virtual_seconds = 0;
  for (auto _ : state) {
    const timers::TimePoint until = world->now() + kIdleStep;
    const std::int64_t start = CpuNanos();
    while (world->pair().Step(until)) {
    }
    cpu_ns += CpuNanos() - start;
    virtual_seconds += kIdleStep.count();
  }
  if (world->a().counters()[Counter::kTcpKeepaliveProbesSent] != probes_before) {
    state.SkipWithError("a keepalive probe went out during the idle window");
    return;
  }
  ReportIdle(state, cpu_ns, n, virtual_seconds);
}

void KeepaliveMemory(benchmark::State& state, timers::TimerQueueKind kind, bool ipv6 = false) {
  std::unique_ptr<World> world = MakeWorld(state, kind, /*rearm_per_segment=*/false,
                                           /*connections=*/0, /*record_closes=*/false, ipv6);
  if (!world) return;
  for (auto _ : state) {
    benchmark::DoNotOptimize(world->a().tcp_connection_count());
  }
  state.counters["rss_bytes_per_connection"] = world->rss_per_connection();
  state.counters["malloc_bytes_per_connection"] = world->malloced_per_connection();
  state.counters["sizeof_tcb"] = static_cast<double>(sizeof(tcp::Tcb));
  state.counters["connections"] = static_cast<double>(state.range(0));
}

#ifdef TAPSTACK_HAVE_LWIP
constexpr std::uint16_t kLwipFirstClientPort = 30000;
constexpr std::uint64_t kLwipSettleMs = 500;  // lwIP flushes delayed ACKs every 250 ms

// N established connections between two lwIP netifs, keepalive on A's end of each (the same
// idle, interval and count as tapstack's), B the peer. As World, but on lwIP's raw API.
class LwipWorld {
 public:
  explicit LwipWorld(std::size_t n)
      : n_(n), pair_(std::make_unique<bench::LwipPair>(bench::LwipPair::Options{})) {
    clients_.reserve(n);
    malloc_trim(0);
    const std::int64_t malloced_before = MallocedBytes();
    const std::size_t server_ports =
        (n + kConnectionsPerServerPort - 1) / kConnectionsPerServerPort;
    for (std::size_t port = 0; port < server_ports; ++port) {
      tcp_pcb* listener = tcp_new();
      tcp_bind_netif(listener, pair_->b());
      if (tcp_bind(listener, &pair_->address_b(),
                   static_cast<std::uint16_t>(kFirstServerPort + port)) != ERR_OK) {
        return;
      }
      listener = tcp_listen(listener);
      tcp_arg(listener, this);
      tcp_accept(listener, [](void* arg, tcp_pcb* pcb, err_t err) -> err_t {
        if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
        ++static_cast<LwipWorld*>(arg)->accepted_;
        return ERR_OK;  // tcp_recv_null consumes anything that arrives
      });
    }
    for (std::size_t i = 0; i < n; ++i) {
      tcp_pcb* pcb = tcp_new();
      if (pcb == nullptr) return;
      tcp_arg(pcb, this);
      // lwIP routes by destination only, and both netifs are on one subnet: pin A's end to A.
      tcp_bind_netif(pcb, pair_->a());
      // Explicit ports: lwIP's ephemeral range has 16384 ports, and the same client port serves
      // every server port (the 4-tuples differ; lwIP wants SO_REUSEADDR for that).
      if (n > kConnectionsPerServerPort) ip_set_option(pcb, SOF_REUSEADDR);
      const auto client_port =
          static_cast<std::uint16_t>(kLwipFirstClientPort + i % kConnectionsPerServerPort);
      const auto server_port =
          static_cast<std::uint16_t>(kFirstServerPort + i / kConnectionsPerServerPort);
      // SO_KEEPALIVE and TCP_KEEPIDLE/KEEPINTVL/KEEPCNT on a raw pcb (LWIP_TCP_KEEPALIVE is on
      // in Debian's build): the fields are in milliseconds.
      ip_set_option(pcb, SOF_KEEPALIVE);
      pcb->keep_idle =
          static_cast<u32_t>(std::chrono::duration_cast<milliseconds>(kKeepalive.idle).count());
      pcb->keep_intvl =
          static_cast<u32_t>(std::chrono::duration_cast<milliseconds>(kKeepalive.interval).count());
      pcb->keep_cnt = static_cast<u32_t>(kKeepalive.count);
      if (tcp_bind(pcb, &pair_->address_a(), client_port) != ERR_OK ||
          tcp_connect(pcb, &pair_->address_b(), server_port,
                      [](void* arg, tcp_pcb*, err_t err) -> err_t {
                        if (err == ERR_OK) ++static_cast<LwipWorld*>(arg)->connected_;
                        return ERR_OK;
                      }) != ERR_OK) {
        tcp_abort(pcb);
        return;
      }
      clients_.push_back(pcb);
      if ((i + 1) % kConnectBatch == 0 || i + 1 == n) {
        const std::uint64_t until = bench::LwipPair::now_ms() + 1;
        while (pair_->Step(until)) {
        }
      }
    }
    (void)pair_->RunUntil([this] { return accepted_ == n_ && connected_ == n_; }, 60'000);
    Settle();
    malloced_per_connection_ =
        static_cast<double>(MallocedBytes() - malloced_before) / (2.0 * static_cast<double>(n));
  }

  bool ok() const { return accepted_ == n_ && connected_ == n_; }
  std::size_t size() const { return n_; }
  bench::LwipPair& pair() { return *pair_; }
  double malloced_per_connection() const { return malloced_per_connection_; }
  std::size_t accepted() const { return accepted_; }
  std::size_t connected() const { return connected_; }

  void Settle() {
    const std::uint64_t until = bench::LwipPair::now_ms() + kLwipSettleMs;
    while (pair_->Step(until)) {
    }
  }

 private:
  std::size_t n_;
  std::unique_ptr<bench::LwipPair> pair_;
  std::vector<tcp_pcb*> clients_;
  std::size_t accepted_ = 0;
  std::size_t connected_ = 0;
  double malloced_per_connection_ = 0;
};

std::unique_ptr<LwipWorld> MakeLwipWorld(benchmark::State& state) {
  auto world = std::make_unique<LwipWorld>(static_cast<std::size_t>(state.range(0)));
  if (!world->ok()) {
    std::fprintf(stderr, "lwIP: connected %zu, accepted %zu of %zu\n", world->connected(),
                 world->accepted(), world->size());
    state.SkipWithError("lwIP could not establish every connection");
    return nullptr;
  }
  return world;
}

void KeepaliveIdleLwip(benchmark::State& state) {
  std::unique_ptr<LwipWorld> world = MakeLwipWorld(state);
  if (!world) return;
  const std::uint64_t frames_before = world->pair().frames_a_to_b();
  std::int64_t cpu_ns = 0;
  std::int64_t virtual_seconds = 0;
  for (auto _ : state) {
    const std::uint64_t until =
        bench::LwipPair::now_ms() + static_cast<std::uint64_t>(milliseconds(kIdleStep).count());
    const std::int64_t start = CpuNanos();
    while (world->pair().Step(until)) {
    }
    cpu_ns += CpuNanos() - start;
    virtual_seconds += kIdleStep.count();
  }
  if (world->pair().frames_a_to_b() != frames_before) {
    state.SkipWithError("lwIP sent during the idle window");
    return;
  }
  ReportIdle(state, cpu_ns, world->size(), virtual_seconds);
}

// As KeepaliveRound: every connection goes idle, A's end probes, B's end answers. A round is
// complete when B has sent N frames (the answers: nothing else is sent while idle).
void KeepaliveRoundLwip(benchmark::State& state) {
  std::unique_ptr<LwipWorld> world = MakeLwipWorld(state);
  if (!world) return;
  const std::size_t n = world->size();
  std::int64_t cpu_ns = 0;
  std::uint64_t rounds = 0;
  for (auto _ : state) {
    const std::uint64_t answers_before = world->pair().frames_b_to_a();
    const std::int64_t start = CpuNanos();
    const bool done = world->pair().RunUntil(
        [&] { return world->pair().frames_b_to_a() - answers_before >= n; }, 300'000);
    cpu_ns += CpuNanos() - start;
    ++rounds;
    if (!done) {
      state.SkipWithError("lwIP keepalive round did not complete");
      return;
    }
  }
  state.counters["ns_per_connection"] =
      static_cast<double>(cpu_ns) / static_cast<double>(std::max<std::uint64_t>(1, rounds * n));
  state.counters["connections"] = static_cast<double>(n);
}

void KeepaliveMemoryLwip(benchmark::State& state) {
  std::unique_ptr<LwipWorld> world = MakeLwipWorld(state);
  if (!world) return;
  for (auto _ : state) {
    benchmark::DoNotOptimize(world->size());
  }
  state.counters["malloc_bytes_per_connection"] = world->malloced_per_connection();
  state.counters["sizeof_tcb"] = static_cast<double>(sizeof(tcp_pcb));
  state.counters["connections"] = static_cast<double>(state.range(0));
}

std::size_t LwipMaxConnections() {
  if (const char* env = std::getenv("TAPSTACK_BENCH_LWIP_MAX_CONNECTIONS")) {
    return static_cast<std::size_t>(std::strtoull(env, nullptr, 10));
  }
  return 10'000;
}
#endif  // TAPSTACK_HAVE_LWIP

std::size_t MaxConnections() {
  if (const char* env = std::getenv("TAPSTACK_BENCH_MAX_CONNECTIONS")) {
    return static_cast<std::size_t>(std::strtoull(env, nullptr, 10));
  }
  return 100'000;
}

void RegisterAll() {
  const std::size_t max_n = MaxConnections();
  for (const timers::TimerQueueKind kind : timers::kTimerQueueKinds) {
    const std::string queue(timers::TimerQueueKindName(kind));
    std::vector<std::int64_t> sizes;
    for (std::size_t n = 1000; n <= 1'000'000; n *= 10) {
      if (n > max_n || (kind == timers::TimerQueueKind::kSweep && n > kSweepMaxConnections)) break;
      sizes.push_back(static_cast<std::int64_t>(n));
    }
    const auto add = [&](benchmark::internal::Benchmark* bench) {
      bench->ArgName("n")->Unit(benchmark::kMillisecond)->UseRealTime();
      for (const std::int64_t n : sizes) bench->Arg(n);
      return bench;
    };
    for (const bool rearm : {false, true}) {
      add(benchmark::RegisterBenchmark(
          ("keepalive_segment/" + queue + (rearm ? "/rearm" : "/lazy")).c_str(),
          [kind, rearm](benchmark::State& state) { KeepaliveSegment(state, kind, rearm); }));
    }
    // The growth figure is the wheel's; the heap and sweep only compare timer work.
    if (kind == timers::TimerQueueKind::kWheel && sizes.size() > 1) {
      benchmark::RegisterBenchmark(
          ("keepalive_segment_growth/" + queue).c_str(),
          [kind](benchmark::State& state) { KeepaliveSegmentGrowth(state, kind); })
          ->ArgName("n")
          ->Arg(sizes.back())
          ->Iterations(kGrowthIterations)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
    add(benchmark::RegisterBenchmark(
        ("keepalive_round/" + queue).c_str(),
        [kind](benchmark::State& state) { KeepaliveRound(state, kind); }));
    // Each iteration kills 1% more peers; three iterations are plenty at any N.
    add(benchmark::RegisterBenchmark(
            ("keepalive_dead/" + queue).c_str(),
            [kind](benchmark::State& state) { KeepaliveDead(state, kind); }))
        ->Iterations(3);
    add(benchmark::RegisterBenchmark(
            ("keepalive_memory/" + queue).c_str(),
            [kind](benchmark::State& state) { KeepaliveMemory(state, kind); }))
        ->Iterations(1);
    // An IPv6 connection's cost beside an IPv4 one's (the line above), on the wheel.
    if (kind == timers::TimerQueueKind::kWheel) {
      add(benchmark::RegisterBenchmark(
              ("keepalive_memory/" + queue + "/ipv6").c_str(),
              [kind](benchmark::State& state) { KeepaliveMemory(state, kind, /*ipv6=*/true); }))
          ->Iterations(1);
    }
    // The idle cost is the wheel's design against lwIP's walks; the other queues add nothing to
    // that comparison.
    if (kind == timers::TimerQueueKind::kWheel) {
      add(benchmark::RegisterBenchmark(
              ("keepalive_idle/" + queue).c_str(),
              [kind](benchmark::State& state) { KeepaliveIdle(state, kind); }))
          ->Iterations(kIdleIterations);
    }
  }
#ifdef TAPSTACK_HAVE_LWIP
  std::vector<std::int64_t> lwip_sizes;
  for (std::size_t n = 1000; n <= std::min(max_n, LwipMaxConnections()); n *= 10) {
    lwip_sizes.push_back(static_cast<std::int64_t>(n));
  }
  const auto add_lwip = [&](const char* name, void (*run)(benchmark::State&)) {
    benchmark::internal::Benchmark* bench = benchmark::RegisterBenchmark(name, run);
    bench->ArgName("n")->Unit(benchmark::kMillisecond)->UseRealTime();
    for (const std::int64_t n : lwip_sizes) bench->Arg(n);
    return bench;
  };
  add_lwip("keepalive_round/lwip", KeepaliveRoundLwip);
  add_lwip("keepalive_memory/lwip", KeepaliveMemoryLwip)->Iterations(1);
  add_lwip("keepalive_idle/lwip", KeepaliveIdleLwip)->Iterations(kIdleIterations);
#endif
}

}  // namespace
}  // namespace tapstack

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  tapstack::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
