#include "tests/support/sha256.h"

#include <algorithm>
#include <bit>

namespace tapstack::testing {
namespace {

// FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64
// primes (computed with exact integer roots, not copied).
constexpr std::array<std::uint32_t, 64> kRoundConstants = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// FIPS 180-4 5.3.3: the first 32 bits of the fractional parts of the square roots of the first 8
// primes.
constexpr std::array<std::uint32_t, 8> kInitialHash = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

// The functions of FIPS 180-4 4.1.2.
std::uint32_t Choose(std::uint32_t x, std::uint32_t y, std::uint32_t z) {
  return (x & y) ^ (~x & z);
}
std::uint32_t Majority(std::uint32_t x, std::uint32_t y, std::uint32_t z) {
  return (x & y) ^ (x & z) ^ (y & z);
}
std::uint32_t BigSigma0(std::uint32_t x) {
  return std::rotr(x, 2) ^ std::rotr(x, 13) ^ std::rotr(x, 22);
}
std::uint32_t BigSigma1(std::uint32_t x) {
  return std::rotr(x, 6) ^ std::rotr(x, 11) ^ std::rotr(x, 25);
}
std::uint32_t SmallSigma0(std::uint32_t x) { return std::rotr(x, 7) ^ std::rotr(x, 18) ^ (x >> 3); }
std::uint32_t SmallSigma1(std::uint32_t x) {
  return std::rotr(x, 17) ^ std::rotr(x, 19) ^ (x >> 10);
}

}  // namespace

Sha256::Sha256() { Reset(); }

void Sha256::Reset() {
  state_ = kInitialHash;
  block_used_ = 0;
  message_bytes_ = 0;
}

void Sha256::CompressBlock(const std::uint8_t* block) {
  // 6.2.2 step 1: the message schedule, sixteen big-endian words extended to sixty-four.
  std::array<std::uint32_t, 64> schedule;
  for (int t = 0; t < 16; ++t) {
    schedule[t] = std::uint32_t{block[4 * t]} << 24 | std::uint32_t{block[4 * t + 1]} << 16 |
                  std::uint32_t{block[4 * t + 2]} << 8 | std::uint32_t{block[4 * t + 3]};
  }
  for (int t = 16; t < 64; ++t) {
    schedule[t] = SmallSigma1(schedule[t - 2]) + schedule[t - 7] + SmallSigma0(schedule[t - 15]) +
                  schedule[t - 16];
  }
  // Steps 2 to 4: sixty-four rounds over working copies, then added into the state.
  auto [a, b, c, d, e, f, g, h] = state_;
  for (int t = 0; t < 64; ++t) {
    const std::uint32_t t1 = h + BigSigma1(e) + Choose(e, f, g) + kRoundConstants[t] + schedule[t];
    const std::uint32_t t2 = BigSigma0(a) + Majority(a, b, c);
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  const std::array<std::uint32_t, 8> rounds_out = {a, b, c, d, e, f, g, h};
  for (int i = 0; i < 8; ++i) state_[i] += rounds_out[i];
}

void Sha256::Update(std::span<const std::uint8_t> data) {
  message_bytes_ += data.size();
  // Top up a partial block first, then compress whole blocks straight from the input.
  if (block_used_ > 0) {
    const std::size_t take = std::min(data.size(), block_.size() - block_used_);
    std::copy_n(data.begin(), take, block_.begin() + static_cast<long>(block_used_));
    block_used_ += take;
    data = data.subspan(take);
    if (block_used_ < block_.size()) return;
    CompressBlock(block_.data());
    block_used_ = 0;
  }
  while (data.size() >= block_.size()) {
    CompressBlock(data.data());
    data = data.subspan(block_.size());
  }
  std::copy(data.begin(), data.end(), block_.begin());
  block_used_ = data.size();
}

std::array<std::uint8_t, 32> Sha256::Finish() {
  // 5.1.1: a one bit, zeros up to 56 bytes into a block, then the length in bits, big-endian.
  const std::uint64_t message_bits = message_bytes_ * 8;
  std::array<std::uint8_t, 72> padding{};
  padding[0] = 0x80;
  const std::size_t zeros_and_one = block_used_ < 56 ? 56 - block_used_ : 120 - block_used_;
  for (int i = 0; i < 8; ++i) {
    padding[zeros_and_one + static_cast<std::size_t>(i)] =
        static_cast<std::uint8_t>(message_bits >> (56 - 8 * i));
  }
  Update(std::span<const std::uint8_t>(padding).first(zeros_and_one + 8));

  std::array<std::uint8_t, 32> digest;
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 4; ++j)
      digest[4 * i + j] = static_cast<std::uint8_t>(state_[i] >> (24 - 8 * j));
  }
  Reset();
  return digest;
}

std::string Sha256::FinishHex() {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (std::uint8_t byte : Finish()) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xf];
  }
  return hex;
}

std::string Sha256::Hex(std::span<const std::uint8_t> data) {
  Sha256 sha;
  sha.Update(data);
  return sha.FinishHex();
}

}  // namespace tapstack::testing
