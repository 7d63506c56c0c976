#include "stack/tcp/send_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

namespace tapstack::tcp {
namespace {

std::vector<std::uint8_t> Iota(std::size_t count, std::uint8_t first) {
  std::vector<std::uint8_t> bytes(count);
  std::iota(bytes.begin(), bytes.end(), first);
  return bytes;
}

std::vector<std::uint8_t> ReadAt(const SendBuffer& buffer, std::size_t offset, std::size_t count) {
  std::vector<std::uint8_t> out(count);
  out.resize(buffer.Read(offset, out));
  return out;
}

TEST(SendBufferTest, IdleBufferHoldsNoMemory) {
  SendBuffer buffer(64 * 1024);
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.free_space(), 64u * 1024);
  EXPECT_EQ(buffer.capacity(), 64u * 1024);
  EXPECT_EQ(buffer.Write({}), 0u);
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
  // The whole idle object is far below the 1 KiB-per-connection budget.
  EXPECT_LE(sizeof(SendBuffer), 64u);
}

TEST(SendBufferTest, WriteThenReadBack) {
  SendBuffer buffer(100);
  const std::vector<std::uint8_t> data = Iota(30, 0);
  EXPECT_EQ(buffer.Write(data), 30u);
  EXPECT_GT(buffer.allocated_bytes(), 0u);
  EXPECT_LE(buffer.allocated_bytes(), 100u);
  EXPECT_EQ(buffer.size(), 30u);
  EXPECT_EQ(buffer.free_space(), 70u);
  EXPECT_EQ(ReadAt(buffer, 0, 30), data);
  // Read does not consume: a retransmission reads the same bytes again.
  EXPECT_EQ(ReadAt(buffer, 10, 5), Iota(5, 10));
  EXPECT_EQ(buffer.size(), 30u);
}

TEST(SendBufferTest, ReadStopsAtTheEndAndBeyondItReturnsNothing) {
  SendBuffer buffer(100);
  buffer.Write(Iota(10, 0));
  EXPECT_EQ(ReadAt(buffer, 6, 100), Iota(4, 6));
  EXPECT_TRUE(ReadAt(buffer, 10, 5).empty());
  EXPECT_TRUE(ReadAt(buffer, 1000, 5).empty());
}

TEST(SendBufferTest, PartialWriteWhenFull) {
  SendBuffer buffer(10);
  EXPECT_EQ(buffer.Write(Iota(6, 0)), 6u);
  EXPECT_EQ(buffer.Write(Iota(6, 6)), 4u);
  EXPECT_EQ(buffer.free_space(), 0u);
  EXPECT_EQ(buffer.Write(Iota(1, 99)), 0u);
  EXPECT_EQ(ReadAt(buffer, 0, 10), Iota(10, 0));
  EXPECT_EQ(buffer.allocated_bytes(), 10u);  // never more than the capacity
}

TEST(SendBufferTest, WrapAroundKeepsOrder) {
  SendBuffer buffer(10);
  buffer.Write(Iota(8, 0));
  buffer.Acknowledge(6);                    // head moves to index 6
  EXPECT_EQ(buffer.Write(Iota(8, 8)), 8u);  // bytes 8..15, the last ones wrap to the front
  EXPECT_EQ(buffer.size(), 10u);
  EXPECT_EQ(ReadAt(buffer, 0, 10), Iota(10, 6));
  // Reads at every offset, across the wrap point.
  for (std::size_t offset = 0; offset < 10; ++offset) {
    for (std::size_t count = 0; offset + count <= 10; ++count) {
      EXPECT_EQ(ReadAt(buffer, offset, count), Iota(count, static_cast<std::uint8_t>(6 + offset)))
          << "offset " << offset << " count " << count;
    }
  }
}

TEST(SendBufferTest, AcknowledgingEverythingReleasesMemory) {
  SendBuffer buffer(1000);
  buffer.Write(Iota(200, 0));
  buffer.Acknowledge(150);
  EXPECT_GT(buffer.allocated_bytes(), 0u);
  EXPECT_EQ(ReadAt(buffer, 0, 50), Iota(50, 150));
  buffer.Acknowledge(50);
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
  // And it comes back on the next Write.
  EXPECT_EQ(buffer.Write(Iota(3, 7)), 3u);
  EXPECT_EQ(ReadAt(buffer, 0, 3), Iota(3, 7));
}

TEST(SendBufferTest, OverAcknowledgingDropsEverything) {
  SendBuffer buffer(100);
  buffer.Write(Iota(20, 0));
  buffer.Acknowledge(25);
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
  buffer.Acknowledge(1);  // on an empty buffer: nothing happens
  EXPECT_EQ(buffer.size(), 0u);
}

TEST(SendBufferTest, GrowsWithTheDataHeldNotToTheCapacityAtOnce) {
  SendBuffer buffer(1 << 20);
  buffer.Write(Iota(100, 0));
  EXPECT_LT(buffer.allocated_bytes(), 1u << 20);
  std::vector<std::uint8_t> expected = Iota(100, 0);
  // Grow through several reallocations while the head is not at index 0.
  buffer.Acknowledge(40);
  expected.erase(expected.begin(), expected.begin() + 40);
  for (int i = 0; i < 50; ++i) {
    const std::vector<std::uint8_t> chunk = Iota(1000, static_cast<std::uint8_t>(i));
    ASSERT_EQ(buffer.Write(chunk), chunk.size());
    expected.insert(expected.end(), chunk.begin(), chunk.end());
  }
  EXPECT_EQ(buffer.size(), expected.size());
  EXPECT_EQ(ReadAt(buffer, 0, expected.size()), expected);
  EXPECT_LE(buffer.allocated_bytes(), 2 * expected.size());
}

TEST(SendBufferTest, ShrinkingTheCapacityKeepsHeldData) {
  SendBuffer buffer(100);
  buffer.Write(Iota(80, 0));
  buffer.set_capacity(50);
  EXPECT_EQ(buffer.capacity(), 50u);
  EXPECT_EQ(buffer.free_space(), 0u);
  EXPECT_EQ(buffer.Write(Iota(1, 0)), 0u);
  EXPECT_EQ(ReadAt(buffer, 0, 80), Iota(80, 0));
  EXPECT_LE(buffer.allocated_bytes(), 80u);
  buffer.Acknowledge(40);
  EXPECT_EQ(buffer.free_space(), 10u);
  EXPECT_EQ(buffer.Write(Iota(10, 80)), 10u);
  EXPECT_EQ(ReadAt(buffer, 0, 50), Iota(50, 40));
}

TEST(SendBufferTest, GrowingTheCapacityAcceptsMore) {
  SendBuffer buffer(10);
  buffer.Write(Iota(10, 0));
  buffer.set_capacity(20);
  EXPECT_EQ(buffer.free_space(), 10u);
  EXPECT_EQ(buffer.Write(Iota(15, 10)), 10u);
  EXPECT_EQ(ReadAt(buffer, 0, 20), Iota(20, 0));
}

// Random writes, acknowledgments and reads against a std::vector model, with a fixed seed.
TEST(SendBufferTest, MatchesAModelUnderRandomOperations) {
  std::mt19937 random(20240613);
  SendBuffer buffer(3000);
  std::vector<std::uint8_t> model;  // bytes from SND.UNA on
  std::uint8_t next_byte = 0;
  for (int step = 0; step < 20'000; ++step) {
    switch (random() % 4) {
      case 0: {
        std::vector<std::uint8_t> chunk(random() % 1500);
        for (auto& byte : chunk) byte = next_byte++;
        const std::size_t accepted = buffer.Write(chunk);
        ASSERT_EQ(accepted, std::min(chunk.size(), 3000 - model.size()));
        model.insert(model.end(), chunk.begin(), chunk.begin() + accepted);
        next_byte = static_cast<std::uint8_t>(next_byte - (chunk.size() - accepted));
        break;
      }
      case 1: {
        const std::size_t count = random() % (model.size() + 1);
        buffer.Acknowledge(count);
        model.erase(model.begin(), model.begin() + count);
        break;
      }
      default: {
        const std::size_t offset = random() % (model.size() + 10);
        const std::size_t count = random() % 1600;
        const std::vector<std::uint8_t> got = ReadAt(buffer, offset, count);
        const std::size_t begin = std::min(offset, model.size());
        const std::size_t end = std::min(offset + count, model.size());
        ASSERT_EQ(got, std::vector<std::uint8_t>(model.begin() + begin, model.begin() + end));
      }
    }
    ASSERT_EQ(buffer.size(), model.size());
    ASSERT_LE(buffer.allocated_bytes(), 3000u);
    if (model.empty()) {
      ASSERT_EQ(buffer.allocated_bytes(), 0u);
    }
  }
}

}  // namespace
}  // namespace tapstack::tcp
