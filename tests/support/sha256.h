// SHA-256 (FIPS 180-4) for tests that check transferred data end to end.
#ifndef TAPSTACK_TESTS_SUPPORT_SHA256_H_
#define TAPSTACK_TESTS_SUPPORT_SHA256_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace tapstack::testing {

class Sha256 {
 public:
  Sha256();
  void Update(std::span<const std::uint8_t> data);
  // Finishes the hash; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> Digest();
  std::string HexDigest();

 private:
  void Compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> block_{};
  std::size_t block_len_ = 0;
  std::uint64_t total_bits_ = 0;
};

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_SHA256_H_
