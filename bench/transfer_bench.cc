// Bulk transfer between two stacks in memory: throughput and CPU per segment, without
// loss and with 1% and 5% loss on both directions (FaultyLink).
//
// Both stacks run in this process on a virtual clock (tap::StackPair), so the figures are the CPU
// cost of the two TCP implementations (sender and receiver together) plus the in-memory link, not
// a network's speed: "bytes/s" is payload per second of CPU. Virtual time spent waiting for
// retransmission timeouts costs nothing here, which is why throughput drops with loss only by the
// extra work loss causes (retransmissions, duplicate ACKs, recovery).
//
// BM_TransferRecovery and BM_TransferCongestion compare loss recovery and congestion control on
// the virtual clock: how long the same transfer takes with SACK or without, and with CUBIC (RFC
// 9438) or NewReno (RFC 5681) on both stacks, over a link without delay and over one with a
// 10 ms round trip, where the congestion window, not the CPU, sets the pace.
//
// BM_TransferLwip runs the same transfer between two lwIP netifs (bench/lwip_pair.h) when the
// build found Debian's liblwip, so both stacks are measured in the same run. Both report, from
// the frames on the link (bench/segment_census.h): CPU ns per data segment sent by A (both ends
// together), payload per CPU second, and pure ACKs from B per data segment from A.
#include <benchmark/benchmark.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "bench/segment_census.h"
#include "stack/counters.h"
#include "stack/stack.h"
#include "tap/stack_pair.h"

#ifdef TAPSTACK_HAVE_LWIP
#include "bench/lwip_pair.h"
#include "lwip/tcp.h"
#endif

namespace tapstack {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::size_t kBytesPerIteration = 16 << 20;  // 16 MiB
constexpr std::uint16_t kPort = 5001;

std::int64_t CpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// The figures both benchmarks report, from `census` over `iterations` and `cpu_ns` of CPU.
void ReportTransfer(benchmark::State& state, const bench::SegmentCensus& census,
                    std::uint64_t iterations, std::int64_t cpu_ns) {
  const auto per_iteration = [iterations](std::uint64_t count) {
    return static_cast<double>(count) / static_cast<double>(std::max<std::uint64_t>(1, iterations));
  };
  const double data_segments =
      static_cast<double>(std::max<std::uint64_t>(1, census.data_segments_from_sender()));
  state.SetBytesProcessed(static_cast<std::int64_t>(iterations * kBytesPerIteration));
  const double seconds_cpu = static_cast<double>(cpu_ns) * 1e-9;
  state.counters["throughput_bytes_per_s"] =
      static_cast<double>(iterations * kBytesPerIteration) / seconds_cpu;
  state.counters["cpu_ns_per_segment"] = static_cast<double>(cpu_ns) / data_segments;
  state.counters["segments_per_iteration"] = per_iteration(census.frames_from_sender());
  state.counters["data_segments_per_iteration"] = per_iteration(census.data_segments_from_sender());
  state.counters["pure_acks_per_data_segment"] =
      static_cast<double>(census.pure_acks_from_receiver()) / data_segments;
  state.counters["wire_retransmits_per_iteration"] = per_iteration(census.retransmitted_segments());
}

// How a transfer loses frames.
struct LossModel {
  double loss = 0;  // probability, independently for each frame in each direction
  // true: the FaultyLink drops (BM_Transfer, as it always has); false: the bench drops in the
  // link's drop hooks, which lets it count the data segments lost (BM_TransferRecovery).
  bool faulty_link = true;
  // With faulty_link false: each frame's delay on the link, each way (a FaultyLink that only
  // delays). Zero: the frame arrives at the same virtual instant.
  timers::Duration one_way_delay{0};
};

// 16 MiB per iteration from A to B over one connection; `sack` is TcpConfig::sack and
// `congestion` TcpConfig::congestion_control on both stacks. Reports the figures of
// ReportTransfer; with `loss.faulty_link` false, also how recovery went (see
// BM_TransferRecovery).
void RunTransfer(benchmark::State& state, LossModel loss_model, bool sack,
                 tcp::CongestionAlgorithm congestion = tcp::CongestionAlgorithm::kCubic) {
  const double loss = loss_model.loss;
  // Counted only inside the timed loop; the handshake is not part of the figures.
  bench::SegmentCensus census;
  bool counting = false;
  tap::StackPairOptions options;
  options.tcp.sack = sack;
  options.tcp.congestion_control = congestion;
  if (loss > 0 && loss_model.faulty_link) {
    options.faults_a_to_b = tap::FaultOptions{.seed = 1, .loss = loss};
    options.faults_b_to_a = tap::FaultOptions{.seed = 2, .loss = loss};
  }
  if (!loss_model.faulty_link && loss_model.one_way_delay > timers::Duration::zero()) {
    const timers::Duration delay = loss_model.one_way_delay;
    options.faults_a_to_b = tap::FaultOptions{.seed = 1, .min_delay = delay, .max_delay = delay};
    options.faults_b_to_a = tap::FaultOptions{.seed = 2, .min_delay = delay, .max_delay = delay};
  }
  // The drop hooks see every frame each stack sends, before the FaultyLink drops any.
  std::mt19937_64 random_a(1);
  std::mt19937_64 random_b(2);
  std::bernoulli_distribution lose(loss_model.faulty_link ? 0.0 : loss);
  std::uint64_t data_segments_lost = 0;
  options.drop_a_to_b = [&](std::span<const std::uint8_t> frame) {
    if (counting) census.CountFromSender(frame);
    if (!lose(random_a)) return false;
    if (counting && bench::SegmentCensus::CarriesData(frame)) ++data_segments_lost;
    return true;
  };
  options.drop_b_to_a = [&](std::span<const std::uint8_t> frame) {
    if (counting) census.CountFromReceiver(frame);
    return lose(random_b);
  };
  tap::StackPair pair(options);
  Stack& a = pair.a();
  Stack& b = pair.b();

  std::optional<tcp::ConnectionId> server;
  std::size_t received = 0;
  std::vector<std::uint8_t> sink(64 * 1024);
  b.set_tcp_event_handler([&](const tcp::Event& event) {
    if (event.type == tcp::EventType::kAcceptReady) server = b.Accept(kPort);
    if (event.type == tcp::EventType::kReadable) {
      while (true) {
        const tcp::IoResult got = b.Receive(event.connection, sink, pair.now());
        if (got.bytes == 0) break;
        received += got.bytes;
      }
    }
  });
  if (b.Listen(kPort, 16, pair.now())) {
    state.SkipWithError("listen failed");
    return;
  }
  const tcp::Result<tcp::ConnectionId> client =
      a.Connect(tap::StackPair::kAddressB, kPort, pair.now());
  if (!client.ok() || !pair.RunUntil([&] { return server.has_value(); }, seconds(60))) {
    state.SkipWithError("connect failed");
    return;
  }

  const std::vector<std::uint8_t> data(64 * 1024, 'x');
  std::int64_t cpu_ns = 0;
  std::uint64_t iterations = 0;
  const std::uint64_t retransmits_before = a.counters()[Counter::kTcpRetransmits];
  const std::uint64_t timeouts_before = a.counters()[Counter::kTcpRetransmitTimeouts];
  const std::uint64_t dsacks_before = b.counters()[Counter::kTcpDsacksSent];
  const timers::TimePoint virtual_start = pair.now();
  for (auto _ : state) {
    const std::int64_t cpu_start = CpuNanos();
    counting = true;
    std::size_t sent = 0;
    received = 0;
    const timers::TimePoint give_up = pair.now() + std::chrono::hours(1);
    while (received < kBytesPerIteration) {
      while (sent < kBytesPerIteration) {
        const std::size_t want = std::min(data.size(), kBytesPerIteration - sent);
        const tcp::IoResult put = a.Send(*client, std::span(data).first(want), pair.now());
        if (!put.ok() || put.bytes == 0) break;
        sent += put.bytes;
      }
      // One event at a time: frames ready now, or the next timer (an RTO under loss).
      if (!pair.Step(pair.now() + seconds(10)) && pair.now() > give_up) break;
    }
    cpu_ns += CpuNanos() - cpu_start;
    counting = false;
    ++iterations;
    if (received < kBytesPerIteration) {
      state.SkipWithError("transfer stalled");
      return;
    }
  }
  ReportTransfer(state, census, iterations, cpu_ns);
  const auto per_iteration = [iterations](std::uint64_t count) {
    return static_cast<double>(count) / static_cast<double>(std::max<std::uint64_t>(1, iterations));
  };
  const std::uint64_t retransmits = a.counters()[Counter::kTcpRetransmits] - retransmits_before;
  state.counters["retransmits_per_iteration"] = per_iteration(retransmits);
  if (!loss_model.faulty_link) {
    // Recovery's quality, not its CPU: how long the transfer took on the virtual clock (without
    // link delay, the time spent waiting for retransmission timeouts and the delayed-ACK timer;
    // with it, mostly round trips, as many as the congestion window needs), how many data segments
    // the link dropped and how many A sent again (ideally as many), how many of A's retransmissions
    // B reported as duplicates (D-SACK, RFC 2883: spurious ones, counted only with SACK), and how
    // many times A's retransmission timer expired.
    state.counters["virtual_s_per_iteration"] =
        std::chrono::duration<double>(pair.now() - virtual_start).count() /
        static_cast<double>(std::max<std::uint64_t>(1, iterations));
    state.counters["data_segments_lost_per_iteration"] = per_iteration(data_segments_lost);
    state.counters["retransmits_per_loss"] =
        static_cast<double>(retransmits) /
        static_cast<double>(std::max<std::uint64_t>(1, data_segments_lost));
    state.counters["dsacks_per_iteration"] =
        per_iteration(b.counters()[Counter::kTcpDsacksSent] - dsacks_before);
    state.counters["timeouts_per_iteration"] =
        per_iteration(a.counters()[Counter::kTcpRetransmitTimeouts] - timeouts_before);
  }
}

// state.range(0): loss in percent, applied independently to each direction.
void BM_Transfer(benchmark::State& state) {
  RunTransfer(state, LossModel{.loss = static_cast<double>(state.range(0)) / 100.0},
              /*sack=*/true);
}
BENCHMARK(BM_Transfer)->ArgName("loss_pct")->Arg(0)->Arg(1)->Arg(5)->Unit(benchmark::kMillisecond);

// The congestion controller a benchmark argument names: 0 CUBIC, 1 NewReno.
tcp::CongestionAlgorithm CongestionArg(std::int64_t arg) {
  return arg == 0 ? tcp::CongestionAlgorithm::kCubic : tcp::CongestionAlgorithm::kNewReno;
}

// Loss recovery with SACK (RFC 6675) against NewReno recovery alone (RFC 6582): state.range(0) is
// the loss in percent each way, state.range(1) whether SACK is on, state.range(2) the congestion
// controller (0 CUBIC, 1 NewReno). No link delay.
void BM_TransferRecovery(benchmark::State& state) {
  RunTransfer(state,
              LossModel{.loss = static_cast<double>(state.range(0)) / 100.0, .faulty_link = false},
              /*sack=*/state.range(1) != 0, CongestionArg(state.range(2)));
}
BENCHMARK(BM_TransferRecovery)
    ->ArgNames({"loss_pct", "sack", "newreno"})
    ->ArgsProduct({{1, 5}, {1, 0}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

// CUBIC against NewReno over a 10 ms round trip (5 ms each way) with SACK: state.range(0) is the
// loss in percent each way, state.range(1) the congestion controller (0 CUBIC, 1 NewReno). The
// link has no bandwidth limit, so the transfer goes as fast as the congestion window lets it:
// virtual_s_per_iteration is the figure to compare.
void BM_TransferCongestion(benchmark::State& state) {
  RunTransfer(state,
              LossModel{.loss = static_cast<double>(state.range(0)) / 100.0,
                        .faulty_link = false,
                        .one_way_delay = milliseconds(5)},
              /*sack=*/true, CongestionArg(state.range(1)));
}
BENCHMARK(BM_TransferCongestion)
    ->ArgNames({"loss_pct", "newreno"})
    ->ArgsProduct({{1, 5}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

#ifdef TAPSTACK_HAVE_LWIP
// B's side of the lwIP transfer: accepts one connection and consumes whatever arrives, as the
// application on tapstack's B does.
struct LwipReceiver {
  tcp_pcb* connection = nullptr;
  std::size_t received = 0;

  static err_t Accept(void* arg, tcp_pcb* pcb, err_t err) {
    if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
    auto* receiver = static_cast<LwipReceiver*>(arg);
    receiver->connection = pcb;
    tcp_arg(pcb, receiver);
    tcp_recv(pcb, Receive);
    return ERR_OK;
  }
  static err_t Receive(void* arg, tcp_pcb* pcb, pbuf* packet, err_t) {
    if (packet == nullptr) return ERR_OK;  // FIN
    static_cast<LwipReceiver*>(arg)->received += packet->tot_len;
    tcp_recved(pcb, packet->tot_len);  // the application took it: open the window
    pbuf_free(packet);
    return ERR_OK;
  }
};

// The same transfer between two lwIP netifs: one connection, 16 MiB per iteration from A to B,
// the same loss on each direction. lwIP's buffers are its compile-time ones (TCP_SND_BUF and
// TCP_WND 64 KiB in Debian's build).
void BM_TransferLwip(benchmark::State& state) {
  const double loss = static_cast<double>(state.range(0)) / 100.0;
  bench::SegmentCensus census;
  bool counting = false;
  bench::LwipPair pair({
      .loss_a_to_b = loss,
      .loss_b_to_a = loss,
      .observe_a_to_b =
          [&](std::span<const std::uint8_t> frame) {
            if (counting) census.CountFromSender(frame);
          },
      .observe_b_to_a =
          [&](std::span<const std::uint8_t> frame) {
            if (counting) census.CountFromReceiver(frame);
          },
  });

  LwipReceiver receiver;
  tcp_pcb* listener = tcp_new();
  if (listener == nullptr) {
    state.SkipWithError("lwIP tcp_new failed");
    return;
  }
  tcp_bind_netif(listener, pair.b());
  if (tcp_bind(listener, &pair.address_b(), kPort) != ERR_OK) {
    state.SkipWithError("lwIP bind failed");
    return;
  }
  listener = tcp_listen(listener);
  tcp_arg(listener, &receiver);
  tcp_accept(listener, LwipReceiver::Accept);

  bool connected = false;
  tcp_pcb* client = tcp_new();
  tcp_bind_netif(client, pair.a());  // lwIP routes by destination only; pin each end to its netif
  tcp_arg(client, &connected);
  const err_t connect_error =
      tcp_connect(client, &pair.address_b(), kPort, [](void* arg, tcp_pcb*, err_t err) -> err_t {
        *static_cast<bool*>(arg) = err == ERR_OK;
        return ERR_OK;
      });
  if (connect_error != ERR_OK ||
      !pair.RunUntil([&] { return connected && receiver.connection != nullptr; }, 60'000)) {
    state.SkipWithError("lwIP connect failed");
    return;
  }

  const std::vector<std::uint8_t> data(64 * 1024, 'x');
  std::int64_t cpu_ns = 0;
  std::uint64_t iterations = 0;
  for (auto _ : state) {
    const std::int64_t cpu_start = CpuNanos();
    counting = true;
    std::size_t sent = 0;
    receiver.received = 0;
    const std::uint64_t give_up = bench::LwipPair::now_ms() + 3'600'000;
    while (receiver.received < kBytesPerIteration) {
      // As much as lwIP's send buffer takes (tcp_write copies), then let it send.
      while (sent < kBytesPerIteration) {
        const std::size_t want =
            std::min<std::size_t>({data.size(), kBytesPerIteration - sent, tcp_sndbuf(client)});
        if (want == 0 || tcp_write(client, data.data(), static_cast<u16_t>(want),
                                   TCP_WRITE_FLAG_COPY) != ERR_OK) {
          break;
        }
        sent += want;
      }
      tcp_output(client);
      if (!pair.Step(bench::LwipPair::now_ms() + 10'000) && bench::LwipPair::now_ms() > give_up) {
        break;
      }
    }
    cpu_ns += CpuNanos() - cpu_start;
    counting = false;
    ++iterations;
    if (receiver.received < kBytesPerIteration) {
      state.SkipWithError("lwIP transfer stalled");
      return;
    }
  }
  ReportTransfer(state, census, iterations, cpu_ns);
}
BENCHMARK(BM_TransferLwip)
    ->ArgName("loss_pct")
    ->Arg(0)
    ->Arg(1)
    ->Arg(5)
    ->Unit(benchmark::kMillisecond);
#endif  // TAPSTACK_HAVE_LWIP

}  // namespace
}  // namespace tapstack

BENCHMARK_MAIN();
