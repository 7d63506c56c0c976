// SHA-256 (FIPS 180-4, section 6.2) for tests that check a transfer end to end: the kernel side
// hashes with Python's hashlib, our side with this, and the two digests must agree. Incremental,
// so a 32 MiB stream is hashed as it arrives without being kept.
#ifndef TAPSTACK_TESTS_SUPPORT_SHA256_H_
#define TAPSTACK_TESTS_SUPPORT_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace tapstack::testing {

class Sha256 {
 public:
  Sha256();

  // Appends bytes to the message.
  void Update(std::span<const std::uint8_t> data);
  // Pads the message and returns the 32-byte digest. The object is reset afterwards, ready for a
  // new message.
  std::array<std::uint8_t, 32> Finish();
  // Finish() as 64 lowercase hexadecimal digits, as hashlib's hexdigest() prints it.
  std::string FinishHex();

  // The digest of one whole message, in hex.
  static std::string Hex(std::span<const std::uint8_t> data);

 private:
  void Reset();
  void CompressBlock(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> block_;  // the partial block not yet compressed
  std::size_t block_used_ = 0;
  std::uint64_t message_bytes_ = 0;
};

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_SHA256_H_
