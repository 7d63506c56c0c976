#include "stack/tcp/byte_ring.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <vector>

namespace tapstack::tcp {
namespace {

std::vector<std::uint8_t> Iota(std::size_t count, std::uint8_t first) {
  std::vector<std::uint8_t> bytes(count);
  std::iota(bytes.begin(), bytes.end(), first);
  return bytes;
}

TEST(ByteRingTest, HoldsNothingUntilReserved) {
  ByteRing ring;
  EXPECT_EQ(ring.allocated_bytes(), 0u);
  ring.Reserve(10, 0, 100'000);
  EXPECT_EQ(ring.allocated_bytes(), ByteRing::kMinimumAllocation);
  ring.Release();
  EXPECT_EQ(ring.allocated_bytes(), 0u);
}

TEST(ByteRingTest, ReserveNeverExceedsTheLimitUnlessAskedTo) {
  ByteRing ring;
  ring.Reserve(10, 0, 100);
  EXPECT_EQ(ring.allocated_bytes(), 100u);
  ring.Reserve(150, 0, 100);
  EXPECT_EQ(ring.allocated_bytes(), 150u);
}

TEST(ByteRingTest, ReserveDoublesUpToTheLimit) {
  ByteRing ring;
  ring.Reserve(1, 0, 5000);
  ASSERT_EQ(ring.allocated_bytes(), 2048u);
  ring.Reserve(2049, 0, 5000);
  EXPECT_EQ(ring.allocated_bytes(), 4096u);
  ring.Reserve(4097, 0, 5000);
  EXPECT_EQ(ring.allocated_bytes(), 5000u);
}

TEST(ByteRingTest, ResizeKeepsLiveBytesThatWrapped) {
  ByteRing ring;
  ring.Resize(8, 0);
  ring.Consume(5);  // the head now sits at index 5, so positions 3.. wrap to the start
  const std::vector<std::uint8_t> data = Iota(7, 1);
  ring.Write(0, data);
  ring.Resize(16, 7);
  std::vector<std::uint8_t> out(7);
  ring.Read(0, out);
  EXPECT_EQ(out, data);
}

TEST(ByteRingTest, ReadAndWriteAtEveryPositionAcrossTheWrap) {
  for (std::size_t head = 0; head < 8; ++head) {
    for (std::size_t position = 0; position < 8; ++position) {
      for (std::size_t count = 0; position + count <= 8; ++count) {
        ByteRing ring;
        ring.Resize(8, 0);
        ring.Consume(head);
        const std::vector<std::uint8_t> data = Iota(count, 100);
        ring.Write(position, data);
        std::vector<std::uint8_t> out(count);
        ring.Read(position, out);
        EXPECT_EQ(out, data) << "head " << head << " position " << position << " count " << count;
      }
    }
  }
}

}  // namespace
}  // namespace tapstack::tcp
