// Internet checksum throughput (RFC 1071): the stack's vector-lane accumulator against the plain
// 16-bit word loop it replaced, over a minimal frame, a full Ethernet MSS, a jumbo frame and a
// 64 KiB buffer. Bytes/s is what Google Benchmark reports as bytes_per_second.
//
// Both run over the same buffer, starting one byte past an 8-byte boundary so the wide loop's
// loads are unaligned, as a TCP payload inside a frame usually is.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "stack/wire/bytes.h"
#include "stack/wire/checksum.h"

namespace tapstack {
namespace {

// The loop ChecksumAccumulator::Add had before it went wide, kept here as the reference.
std::uint16_t SixteenBitChecksum(std::span<const std::uint8_t> bytes) {
  std::uint64_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) sum += wire::LoadBe16(&bytes[i]);
  if (i < bytes.size()) sum += std::uint32_t{bytes[i]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::vector<std::uint8_t> TestBytes(std::size_t length) {
  std::vector<std::uint8_t> bytes(length + 1);
  std::uint32_t x = 2463534242u;  // xorshift32: cheap, deterministic filler
  for (std::uint8_t& byte : bytes) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    byte = static_cast<std::uint8_t>(x);
  }
  return bytes;
}

void BM_ChecksumWide(benchmark::State& state) {
  const auto length = static_cast<std::size_t>(state.range(0));
  const std::vector<std::uint8_t> storage = TestBytes(length);
  const std::span<const std::uint8_t> bytes(storage.data() + 1, length);
  for (auto _ : state) {
    benchmark::DoNotOptimize(bytes.data());
    benchmark::DoNotOptimize(wire::InternetChecksum(bytes));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * length));
}

void BM_ChecksumSixteenBit(benchmark::State& state) {
  const auto length = static_cast<std::size_t>(state.range(0));
  const std::vector<std::uint8_t> storage = TestBytes(length);
  const std::span<const std::uint8_t> bytes(storage.data() + 1, length);
  for (auto _ : state) {
    benchmark::DoNotOptimize(bytes.data());
    benchmark::DoNotOptimize(SixteenBitChecksum(bytes));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * length));
}

BENCHMARK(BM_ChecksumWide)->ArgName("bytes")->Arg(64)->Arg(1460)->Arg(9000)->Arg(65536);
BENCHMARK(BM_ChecksumSixteenBit)->ArgName("bytes")->Arg(64)->Arg(1460)->Arg(9000)->Arg(65536);

}  // namespace
}  // namespace tapstack

BENCHMARK_MAIN();
