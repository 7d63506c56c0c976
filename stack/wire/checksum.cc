#include "stack/wire/checksum.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace tapstack::wire {
namespace {

// Folds carries back into the low 16 bits until none remain (RFC 1071 2, "end around carry").
std::uint16_t Fold(std::uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

}  // namespace

void ChecksumAccumulator::Add(std::span<const std::uint8_t> bytes) {
  std::size_t i = 0;
  if (has_pending_byte_ && !bytes.empty()) {
    sum_ += (std::uint32_t{pending_byte_} << 8) | bytes[0];
    has_pending_byte_ = false;
    i = 1;
  }
  for (; i + 1 < bytes.size(); i += 2) sum_ += LoadBe16(&bytes[i]);
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
