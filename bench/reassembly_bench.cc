// The receive buffer's out-of-order path with N ranges held (RFC 9293 3.10.7.4): what one segment
// costs, and what the SACK blocks of one ACK cost (RFC 2018 4), as N grows from what a lossy path
// makes to what a peer scattering tiny fragments can make. Both should grow like log N, not N:
// the ranges are in an ordered map, and the SACK order is kept for four of them.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "stack/tcp/receive_buffer.h"

namespace tapstack::tcp {
namespace {

// Ranges held one byte each, kSpacing bytes apart: room for each to grow by kSpacing - 3 bytes
// before it would touch the next one.
constexpr std::size_t kSpacing = 16;

std::unique_ptr<ReceiveBuffer> BufferWithRanges(std::size_t ranges) {
  auto buffer =
      std::make_unique<ReceiveBuffer>(ranges * (kSpacing + ReceiveBuffer::kRangeOverhead));
  const std::uint8_t byte = 1;
  for (std::size_t i = 0; i < ranges; ++i) buffer->Insert(kSpacing * i + 1, {&byte, 1});
  return buffer;
}

// One out-of-order byte that extends a range spread across the map: a lookup, a copy, the SACK
// order updated. Every range grows in turn; the buffer is rebuilt (untimed) when none can.
void BM_ExtendOneOfNRanges(benchmark::State& state) {
  const std::size_t ranges = static_cast<std::size_t>(state.range(0));
  std::unique_ptr<ReceiveBuffer> buffer = BufferWithRanges(ranges);
  std::size_t grown = 0;  // bytes added since the buffer was built
  const std::uint8_t byte = 2;
  for (auto _ : state) {
    if (grown == ranges * (kSpacing - 3)) {
      state.PauseTiming();
      buffer = BufferWithRanges(ranges);
      grown = 0;
      state.ResumeTiming();
    }
    // A stride that is prime to the count visits the ranges out of order.
    const std::size_t range = (grown * 7919) % ranges;
    const std::size_t length = grown / ranges;  // how far each range has grown
    const InsertResult result = buffer->Insert(kSpacing * range + 2 + length, {&byte, 1});
    benchmark::DoNotOptimize(result);
    ++grown;
  }
  state.counters["ranges"] = static_cast<double>(ranges);
}
BENCHMARK(BM_ExtendOneOfNRanges)->Arg(8)->Arg(100)->Arg(1000)->Arg(10000);

// The four SACK blocks of one ACK, most recently changed first.
void BM_SackBlocksOfNRanges(benchmark::State& state) {
  const std::size_t ranges = static_cast<std::size_t>(state.range(0));
  const std::unique_ptr<ReceiveBuffer> buffer = BufferWithRanges(ranges);
  for (auto _ : state) {
    ReceiveBuffer::RangeList blocks = buffer->OutOfOrderRanges(4);
    benchmark::DoNotOptimize(blocks);
  }
}
BENCHMARK(BM_SackBlocksOfNRanges)->Arg(8)->Arg(100)->Arg(1000)->Arg(10000);

}  // namespace
}  // namespace tapstack::tcp

BENCHMARK_MAIN();
