#include "stack/wire/checksum.h"

#include <algorithm>
#include <bit>
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

// The bulk of the work: the one's complement sum of `bytes` (even-aligned in the stream, any
// length) as big-endian 16-bit words, folded to 16 bits. Zero only when every byte is zero, so
// adding it to sum_ gives exactly what adding the words one by one would have (same residue modulo
// 0xffff, same zero/non-zero), and Finish() is unchanged.
//
// Eight bytes are loaded at a time in host order (memcpy: no alignment requirement) and split into
// two 32-bit halves that go into 64-bit accumulators, which leaves 32 bits of headroom for carries
// and so needs no carry handling in the loop. Four accumulators keep the additions independent so
// the CPU (or the vectoriser) can overlap them. On a little-endian host every word is then read
// with its bytes swapped; the one's complement sum is byte-order independent up to one final swap
// (RFC 1071 2(B)), which is applied after folding.
std::uint16_t SumWords(const std::uint8_t* data, std::size_t length) {
  // Each 32-byte step adds less than 2^34 to each accumulator: folding every 2^28 steps keeps
  // them far below 2^64 for any length.
  constexpr std::size_t kStepBytes = 32;
  constexpr std::size_t kStepsPerFold = std::size_t{1} << 28;
  std::uint64_t total = 0;  // folded partial results, host order
  while (length >= kStepBytes) {
    std::uint64_t acc[4] = {0, 0, 0, 0};
    std::size_t steps = std::min(length / kStepBytes, kStepsPerFold);
    length -= steps * kStepBytes;
    for (; steps > 0; --steps, data += kStepBytes) {
      for (int lane = 0; lane < 4; ++lane) {
        std::uint64_t word;
        std::memcpy(&word, data + 8 * lane, sizeof(word));
        acc[lane] += (word & 0xffffffffu) + (word >> 32);
      }
    }
    total +=
        Fold((acc[0] & 0xffffffffu) + (acc[0] >> 32) + (acc[1] & 0xffffffffu) + (acc[1] >> 32) +
             (acc[2] & 0xffffffffu) + (acc[2] >> 32) + (acc[3] & 0xffffffffu) + (acc[3] >> 32));
  }
  while (length >= 8) {
    std::uint64_t word;
    std::memcpy(&word, data, sizeof(word));
    total += (word & 0xffffffffu) + (word >> 32);
    data += 8;
    length -= 8;
  }
  // Fewer than 8 bytes left, an even number (the caller keeps an odd last byte). Each 16-bit word
  // adds the same wherever it sits in the accumulator (2^16 = 1 modulo 0xffff). They are loaded
  // whole: copied byte by byte into a zeroed 8-byte word, the load that follows could not be
  // forwarded from those stores and stalled (a third of this function's time on a 60-byte probe).
  if (length >= 4) {
    std::uint32_t word;
    std::memcpy(&word, data, sizeof(word));
    total += word;
    data += 4;
    length -= 4;
  }
  if (length >= 2) {
    std::uint16_t word;
    std::memcpy(&word, data, sizeof(word));
    total += word;
  }
  const std::uint16_t folded = Fold(total);
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<std::uint16_t>((folded << 8) | (folded >> 8));
  } else {
    return folded;
  }
}

}  // namespace

void ChecksumAccumulator::Add(std::span<const std::uint8_t> bytes) {
  std::size_t i = 0;
  if (has_pending_byte_ && !bytes.empty()) {
    sum_ += (std::uint32_t{pending_byte_} << 8) | bytes[0];
    has_pending_byte_ = false;
    i = 1;
  }
  // From here the bytes start on a word boundary of the stream; an odd last byte waits.
  const std::size_t even_length = (bytes.size() - i) & ~std::size_t{1};
  if (even_length > 0) sum_ += SumWords(bytes.data() + i, even_length);
  i += even_length;
  if (i < bytes.size()) {
    has_pending_byte_ = true;
    pending_byte_ = bytes[i];
  }
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
