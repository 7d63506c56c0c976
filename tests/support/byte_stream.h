// A reproducible byte stream for transfer tests: the sender draws its data from one, and the
// receiver (or a hash of it) can regenerate the same bytes from the same seed, so megabytes are
// checked without ever being kept. Generated in chunks of any size; the stream is the same
// however it is cut.
#ifndef TAPSTACK_TESTS_SUPPORT_BYTE_STREAM_H_
#define TAPSTACK_TESTS_SUPPORT_BYTE_STREAM_H_

#include <cstdint>
#include <random>
#include <span>

namespace tapstack::testing {

class ByteStream {
 public:
  explicit ByteStream(std::uint64_t seed) : rng_(seed) {}

  // Fills `out` with the next bytes of the stream.
  void Next(std::span<std::uint8_t> out) {
    for (std::uint8_t& byte : out) {
      if (available_ == 0) {
        word_ = rng_();
        available_ = 8;
      }
      byte = static_cast<std::uint8_t>(word_);
      word_ >>= 8;
      --available_;
    }
  }

 private:
  std::mt19937_64 rng_;
  std::uint64_t word_ = 0;
  int available_ = 0;
};

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_BYTE_STREAM_H_
