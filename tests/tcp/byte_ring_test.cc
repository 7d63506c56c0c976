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

TEST(RingPoolTest, ReleasedStorageIsReusedByTheNextReserve) {
  RingPool pool;
  ByteRing first;
  first.Reserve(1000, 0, 1 << 20, &pool);
  const std::size_t length = first.allocated_bytes();
  ASSERT_GE(length, 1000u);
  first.Release(&pool);
  EXPECT_EQ(first.allocated_bytes(), 0u);
  EXPECT_EQ(pool.free_blocks(), 1u);
  EXPECT_EQ(pool.free_bytes(), length);

  ByteRing second;
  second.Reserve(500, 0, 1 << 20, &pool);
  EXPECT_EQ(second.allocated_bytes(), length) << "the pooled block, not a new one";
  EXPECT_EQ(pool.free_blocks(), 0u);
  const std::vector<std::uint8_t> data = Iota(500, 7);
  second.Write(0, data);
  std::vector<std::uint8_t> out(500);
  second.Read(0, out);
  EXPECT_EQ(out, data);
}

TEST(RingPoolTest, BlocksThatDoNotFitAreLeftAndThePoolIsBounded) {
  RingPool pool(/*max_blocks=*/2);
  for (int i = 0; i < 3; ++i) {
    ByteRing ring;
    ring.Reserve(4096, 0, 4096, &pool);
    ring.Release(&pool);
  }
  EXPECT_EQ(pool.free_blocks(), 1u) << "each ring took the block the previous one gave back";
  ByteRing big;
  big.Reserve(8192, 0, 8192, &pool);
  EXPECT_EQ(pool.free_blocks(), 1u) << "a 4096-byte block is too small for 8192";
  ByteRing small;
  small.Reserve(100, 0, 2048, &pool);
  EXPECT_EQ(pool.free_blocks(), 1u) << "a 4096-byte block is beyond the 2048-byte limit";
  big.Release(&pool);
  small.Release(&pool);
  EXPECT_EQ(pool.free_blocks(), 2u) << "bounded at max_blocks: the third block was freed";
}

}  // namespace
}  // namespace tapstack::tcp
