// Frames for device tests: a broadcast Ethernet header with the local experimental EtherType
// 0x88B5 (IEEE 802) and a 64-bit sequence number, so that order, loss and duplicates show.
#ifndef TAPSTACK_TESTS_TAP_TEST_FRAMES_H_
#define TAPSTACK_TESTS_TAP_TEST_FRAMES_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tapstack::tap::test_frames {

inline constexpr std::size_t kSeqOffset = 14;

inline std::vector<std::uint8_t> MakeFrame(std::uint64_t seq, std::size_t size = 64) {
  std::vector<std::uint8_t> frame(size < kSeqOffset + 8 ? kSeqOffset + 8 : size, 0);
  for (int i = 0; i < 6; ++i) frame[i] = 0xff;
  const std::uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x02};
  for (int i = 0; i < 6; ++i) frame[6 + i] = src[i];
  frame[12] = 0x88;
  frame[13] = 0xb5;
  for (int i = 0; i < 8; ++i) frame[kSeqOffset + i] = static_cast<std::uint8_t>(seq >> (8 * i));
  for (std::size_t i = kSeqOffset + 8; i < frame.size(); ++i) {
    frame[i] = static_cast<std::uint8_t>(i * 7 + seq);
  }
  return frame;
}

inline std::uint64_t SeqOf(std::span<const std::uint8_t> frame) {
  std::uint64_t seq = 0;
  for (int i = 0; i < 8; ++i) seq |= std::uint64_t{frame[kSeqOffset + i]} << (8 * i);
  return seq;
}

}  // namespace tapstack::tap::test_frames

#endif  // TAPSTACK_TESTS_TAP_TEST_FRAMES_H_
