// Bulk transfer between two stacks in memory (issue #4): throughput and CPU per segment, without
// loss and with 1% and 5% loss on both directions (FaultyLink).
//
// Both stacks run in this process on a virtual clock (tap::StackPair), so the figures are the CPU
// cost of the two TCP implementations (sender and receiver together) plus the in-memory link, not
// a network's speed: "bytes/s" is payload per second of CPU. Virtual time spent waiting for
// retransmission timeouts costs nothing here, which is why throughput drops with loss only by the
// extra work loss causes (retransmissions, duplicate ACKs, recovery).
#include <benchmark/benchmark.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "stack/counters.h"
#include "stack/stack.h"
#include "tap/stack_pair.h"

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

// state.range(0): loss in percent, applied independently to each direction.
void BM_Transfer(benchmark::State& state) {
  const double loss = static_cast<double>(state.range(0)) / 100.0;
  std::uint64_t segments_from_a = 0;  // every frame A sends, retransmissions included
  tap::StackPairOptions options;
  if (loss > 0) {
    options.faults_a_to_b = tap::FaultOptions{.seed = 1, .loss = loss};
    options.faults_b_to_a = tap::FaultOptions{.seed = 2, .loss = loss};
  }
  // The drop hook sees every frame A sends; it is the cheapest place to count them.
  options.drop_a_to_b = [&segments_from_a](std::span<const std::uint8_t>) {
    ++segments_from_a;
    return false;
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
  if (!b.Listen(kPort, 16, pair.now()).ok()) {
    state.SkipWithError("listen failed");
    return;
  }
  const absl::StatusOr<tcp::ConnectionId> client =
      a.Connect(tap::StackPair::kAddressB, kPort, pair.now());
  if (!client.ok() || !pair.RunUntil([&] { return server.has_value(); }, seconds(60))) {
    state.SkipWithError("connect failed");
    return;
  }

  const std::vector<std::uint8_t> data(64 * 1024, 'x');
  std::int64_t cpu_ns = 0;
  std::uint64_t segments = 0;
  std::uint64_t iterations = 0;
  const std::uint64_t retransmits_before = a.counters()[Counter::kTcpRetransmits];
  for (auto _ : state) {
    const std::int64_t cpu_start = CpuNanos();
    const std::uint64_t segments_start = segments_from_a;
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
    segments += segments_from_a - segments_start;
    ++iterations;
    if (received < kBytesPerIteration) {
      state.SkipWithError("transfer stalled");
      return;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(iterations * kBytesPerIteration));
  const double seconds_cpu = static_cast<double>(cpu_ns) * 1e-9;
  state.counters["throughput_bytes_per_s"] =
      static_cast<double>(iterations * kBytesPerIteration) / seconds_cpu;
  state.counters["cpu_ns_per_segment"] =
      static_cast<double>(cpu_ns) / static_cast<double>(std::max<std::uint64_t>(1, segments));
  state.counters["segments_per_iteration"] =
      static_cast<double>(segments) / static_cast<double>(std::max<std::uint64_t>(1, iterations));
  state.counters["retransmits_per_iteration"] =
      static_cast<double>(a.counters()[Counter::kTcpRetransmits] - retransmits_before) /
      static_cast<double>(std::max<std::uint64_t>(1, iterations));
}
BENCHMARK(BM_Transfer)->ArgName("loss_pct")->Arg(0)->Arg(1)->Arg(5)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tapstack

BENCHMARK_MAIN();
