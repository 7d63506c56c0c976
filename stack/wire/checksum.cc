#include "stack/wire/checksum.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace tapstack::wire {
namespace {

// Folds carries back into the low 16 bits until none remain (RFC 1071 2, "end around carry").
std::uint16_t Fold(std::uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// Sums whole steps of kLanes 32-bit words into kLanes 32-bit accumulators, each word as its two
// 16-bit halves, and copies the bytes to `copy_to` on the way when kCopy (one pass over the data
// instead of a copy and a sum). Written as plain independent lanes so that the compiler turns the
// step into a few vector instructions for whatever vector width the clone is built for. A lane
// gains less than 2^17 per step, so folding into the 64-bit total every 2^14 steps never
// overflows it. Advances `data`, `copy_to` and `length` past what it summed.
template <std::size_t kLanes, bool kCopy>
[[gnu::always_inline]] inline std::uint64_t SumSteps(const std::uint8_t* __restrict__& data,
                                                     std::uint8_t* __restrict__& copy_to,
                                                     std::size_t& length) {
  constexpr std::size_t kStepBytes = 4 * kLanes;
  constexpr std::size_t kStepsPerFold = std::size_t{1} << 14;
  std::uint64_t total = 0;
  while (length >= kStepBytes) {
    std::uint32_t lanes[kLanes] = {};
    std::size_t steps = std::min(length / kStepBytes, kStepsPerFold);
    length -= steps * kStepBytes;
    for (; steps > 0; --steps, data += kStepBytes) {
      for (std::size_t lane = 0; lane < kLanes; ++lane) {
        std::uint32_t word;
        std::memcpy(&word, data + 4 * lane, sizeof(word));
        if constexpr (kCopy) std::memcpy(copy_to + 4 * lane, &word, sizeof(word));
        lanes[lane] += (word & 0xffffu) + (word >> 16);
      }
      if constexpr (kCopy) copy_to += kStepBytes;
    }
    for (std::size_t lane = 0; lane < kLanes; ++lane) total += lanes[lane];
  }
  return total;
}

// The bulk of the work: the one's complement sum of `length` bytes at `data` (even-aligned in the
// stream, an even length) as big-endian 16-bit words, folded to 16 bits, copying them to `copy_to`
// too when kCopy. Zero only when every byte is zero, so adding it to sum_ gives exactly what adding
// the words one by one would have (same residue modulo 0xffff, same zero/non-zero), and Finish() is
// unchanged.
//
// Words are loaded in host order (memcpy: no alignment requirement). Each 16-bit word adds the
// same wherever it sits in an accumulator (2^16 = 1 modulo 0xffff), so lanes of any width may be
// added together at the end. On a little-endian host every word is read with its bytes swapped;
// the one's complement sum is byte-order independent up to one final swap (RFC 1071 2(B)), which
// is applied after folding.
template <bool kCopy>
[[gnu::always_inline]] inline std::uint16_t SumWordsImpl(const std::uint8_t* __restrict__ data,
                                                         std::size_t length,
                                                         std::uint8_t* __restrict__ copy_to) {
  // A 128-byte step for the bulk of a segment, a 64-byte step for what is left (measured on a
  // 1460-byte payload: the two together beat either alone, and 32-byte steps after them lost).
  std::uint64_t total = SumSteps<32, kCopy>(data, copy_to, length);
  total += SumSteps<16, kCopy>(data, copy_to, length);
  while (length >= 8) {
    std::uint64_t word;
    std::memcpy(&word, data, sizeof(word));
    if constexpr (kCopy) std::memcpy(copy_to, &word, sizeof(word));
    total += (word & 0xffffffffu) + (word >> 32);
    data += 8;
    copy_to += kCopy ? 8 : 0;
    length -= 8;
  }
  // Fewer than 8 bytes left, an even number. They are loaded whole: copied byte by byte into a
  // zeroed 8-byte word, the load that follows could not be forwarded from those stores and stalled
  // (a third of this function's time on a 60-byte probe).
  if (length >= 4) {
    std::uint32_t word;
    std::memcpy(&word, data, sizeof(word));
    if constexpr (kCopy) std::memcpy(copy_to, &word, sizeof(word));
    total += word;
    data += 4;
    copy_to += kCopy ? 4 : 0;
    length -= 4;
  }
  if (length >= 2) {
    std::uint16_t word;
    std::memcpy(&word, data, sizeof(word));
    if constexpr (kCopy) std::memcpy(copy_to, &word, sizeof(word));
    total += word;
  }
  const std::uint16_t folded = Fold(total);
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<std::uint16_t>((folded << 8) | (folded >> 8));
  } else {
    return folded;
  }
}

// On x86-64 the sums are built for three levels (AVX-512, AVX2, the SSE2 baseline) and the one for
// the CPU at hand is chosen once, at load time: on the project's AVX-512 build machine a 1460-byte
// payload takes 24 ns where the SSE2-only loop before this took 32. Elsewhere the compiler's own
// choice for the target is all there is.
#if defined(__x86_64__)
#define TAPSTACK_CHECKSUM_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TAPSTACK_CHECKSUM_CLONES
#endif

TAPSTACK_CHECKSUM_CLONES
std::uint16_t SumWords(const std::uint8_t* data, std::size_t length) {
  return SumWordsImpl<false>(data, length, nullptr);
}

TAPSTACK_CHECKSUM_CLONES
std::uint16_t CopyAndSumWords(const std::uint8_t* __restrict__ data, std::size_t length,
                              std::uint8_t* __restrict__ copy_to) {
  return SumWordsImpl<true>(data, length, copy_to);
}

}  // namespace

template <bool kCopy>
void ChecksumAccumulator::AddBytes(std::span<const std::uint8_t> bytes, std::uint8_t* destination) {
  std::size_t i = 0;
  if (has_pending_byte_ && !bytes.empty()) {
    if constexpr (kCopy) destination[0] = bytes[0];
    sum_ += (std::uint32_t{pending_byte_} << 8) | bytes[0];
    has_pending_byte_ = false;
    i = 1;
  }
  // From here the bytes start on a word boundary of the stream; an odd last byte waits.
  const std::size_t even_length = (bytes.size() - i) & ~std::size_t{1};
  if (even_length > 0) {
    if constexpr (kCopy) {
      sum_ += CopyAndSumWords(bytes.data() + i, even_length, destination + i);
    } else {
      sum_ += SumWords(bytes.data() + i, even_length);
    }
  }
  i += even_length;
  if (i < bytes.size()) {
    if constexpr (kCopy) destination[i] = bytes[i];
    has_pending_byte_ = true;
    pending_byte_ = bytes[i];
  }
}

void ChecksumAccumulator::Add(std::span<const std::uint8_t> bytes) {
  AddBytes</*kCopy=*/false>(bytes, nullptr);
}

void ChecksumAccumulator::CopyAndAdd(std::span<const std::uint8_t> bytes,
                                     std::span<std::uint8_t> destination) {
  assert(destination.size() >= bytes.size());
  AddBytes</*kCopy=*/true>(bytes, destination.data());
}

void ChecksumAccumulator::AddU16(std::uint16_t value) {
  if (!has_pending_byte_) {
    sum_ += value;
    return;
  }
  std::uint8_t bytes[2];
  StoreBe16(bytes, value);
  Add(bytes);
}

void ChecksumAccumulator::AddU32(std::uint32_t value) {
  AddU16(static_cast<std::uint16_t>(value >> 16));
  AddU16(static_cast<std::uint16_t>(value));
}

std::uint16_t ChecksumAccumulator::Finish() const {
  std::uint64_t sum = sum_;
  if (has_pending_byte_) sum += std::uint32_t{pending_byte_} << 8;
  return static_cast<std::uint16_t>(~Fold(sum));
}

std::uint16_t InternetChecksum(std::span<const std::uint8_t> bytes) {
  ChecksumAccumulator accumulator;
  accumulator.Add(bytes);
  return accumulator.Finish();
}

void AddIpv4PseudoHeader(ChecksumAccumulator& accumulator, Ipv4Address src, Ipv4Address dst,
                         std::uint8_t protocol, std::uint16_t transport_length) {
  accumulator.AddU32(src.value());
  accumulator.AddU32(dst.value());
  accumulator.AddU16(protocol);  // a zero byte, then the protocol
  accumulator.AddU16(transport_length);
}

std::uint16_t TransportChecksum(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol,
                                std::span<const std::uint8_t> segment) {
  ChecksumAccumulator accumulator;
  AddIpv4PseudoHeader(accumulator, src, dst, protocol, static_cast<std::uint16_t>(segment.size()));
  accumulator.Add(segment);
  return accumulator.Finish();
}

void AddIpv6PseudoHeader(ChecksumAccumulator& accumulator, const Ipv6Address& src,
                         const Ipv6Address& dst, std::uint8_t next_header,
                         std::uint32_t upper_layer_length) {
  accumulator.Add(src.octets());
  accumulator.Add(dst.octets());
  accumulator.AddU32(upper_layer_length);
  accumulator.AddU32(next_header);  // three zero bytes, then the next header
}

std::uint16_t TransportChecksum(const Ipv6Address& src, const Ipv6Address& dst,
                                std::uint8_t next_header, std::span<const std::uint8_t> segment) {
  ChecksumAccumulator accumulator;
  AddIpv6PseudoHeader(accumulator, src, dst, next_header,
                      static_cast<std::uint32_t>(segment.size()));
  accumulator.Add(segment);
  return accumulator.Finish();
}

std::uint16_t ChecksumUpdate16(std::uint16_t old_checksum, std::uint16_t old_field,
                               std::uint16_t new_field) {
  const std::uint32_t sum = std::uint32_t{static_cast<std::uint16_t>(~old_checksum)} +
                            std::uint32_t{static_cast<std::uint16_t>(~old_field)} + new_field;
  return static_cast<std::uint16_t>(~Fold(sum));
}

std::uint16_t ChecksumUpdate32(std::uint16_t old_checksum, std::uint32_t old_field,
                               std::uint32_t new_field) {
  const std::uint16_t after_high =
      ChecksumUpdate16(old_checksum, static_cast<std::uint16_t>(old_field >> 16),
                       static_cast<std::uint16_t>(new_field >> 16));
  return ChecksumUpdate16(after_high, static_cast<std::uint16_t>(old_field),
                          static_cast<std::uint16_t>(new_field));
}

}  // namespace tapstack::wire
