#include "stack/tcp/siphash.h"

#include <bit>
#include <cstddef>

namespace tapstack::tcp {
namespace {

// The paper's SipHash-c-d with c = 2 compression rounds per message word and d = 4 finalization
// rounds.
constexpr int kCompressionRounds = 2;
constexpr int kFinalizationRounds = 4;

// Initial state constants: "somepseudorandomlygeneratedbytes" in ASCII, 8 bytes each.
constexpr std::uint64_t kInit0 = 0x736f6d6570736575;
constexpr std::uint64_t kInit1 = 0x646f72616e646f6d;
constexpr std::uint64_t kInit2 = 0x6c7967656e657261;
constexpr std::uint64_t kInit3 = 0x7465646279746573;

// `count` bytes (at most 8) starting at `bytes`, as a little-endian integer.
std::uint64_t LoadLittleEndian(const std::uint8_t* bytes, std::size_t count) {
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < count; ++i) word |= std::uint64_t{bytes[i]} << (8 * i);
  return word;
}

struct SipState {
  std::uint64_t v0, v1, v2, v3;

  // One SipRound: two add-rotate-xor half rounds over the pairs (v0, v1) and (v2, v3), with the
  // halves crossing between them.
  void Round() {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }

  // Compression of one message word m: v3 ^= m, c rounds, v0 ^= m.
  void Absorb(std::uint64_t word) {
    v3 ^= word;
    for (int i = 0; i < kCompressionRounds; ++i) Round();
    v0 ^= word;
  }
};

}  // namespace

std::uint64_t SipHash24(const SipHashKey& key, std::span<const std::uint8_t> data) {
  const std::uint64_t k0 = LoadLittleEndian(key.data(), 8);
  const std::uint64_t k1 = LoadLittleEndian(key.data() + 8, 8);
  SipState state{k0 ^ kInit0, k1 ^ kInit1, k0 ^ kInit2, k1 ^ kInit3};

  // The message is split into little-endian 64-bit words. The last word holds the 0 to 7 bytes
  // left over, and the message length modulo 256 in its most significant byte.
  const std::size_t whole_words = data.size() / 8;
  for (std::size_t i = 0; i < whole_words; ++i) {
    state.Absorb(LoadLittleEndian(data.data() + 8 * i, 8));
  }
  const std::size_t tail = data.size() % 8;
  const std::uint64_t last_word = LoadLittleEndian(data.data() + 8 * whole_words, tail) |
                                  (std::uint64_t{data.size() & 0xff} << 56);
  state.Absorb(last_word);

  // Finalization: v2 ^= 0xff, d rounds, and the output folds the four state words together.
  state.v2 ^= 0xff;
  for (int i = 0; i < kFinalizationRounds; ++i) state.Round();
  return state.v0 ^ state.v1 ^ state.v2 ^ state.v3;
}

}  // namespace tapstack::tcp
