#include "stack/tcp/receive_buffer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <ostream>
#include <random>
#include <set>
#include <vector>

namespace tapstack::tcp {

// Lets GoogleTest print ranges in failure messages (found by argument-dependent lookup).
void PrintTo(const ByteRange& range, std::ostream* os) {
  *os << "[" << range.begin << ", " << range.end << ")";
}

namespace {

using ::testing::ElementsAre;
using Ranges = std::vector<ByteRange>;

std::vector<std::uint8_t> Iota(std::size_t count, std::uint8_t first) {
  std::vector<std::uint8_t> bytes(count);
  std::iota(bytes.begin(), bytes.end(), first);
  return bytes;
}

std::vector<std::uint8_t> ReadAll(ReceiveBuffer& buffer) {
  std::vector<std::uint8_t> out(buffer.readable());
  EXPECT_EQ(buffer.Read(out), out.size());
  return out;
}

Ranges RangesOf(const ReceiveBuffer& buffer, std::size_t max_ranges = 100) {
  const ReceiveBuffer::RangeList list = buffer.OutOfOrderRanges(max_ranges);
  return Ranges(list.begin(), list.end());
}

TEST(ReceiveBufferTest, IdleBufferHoldsNoMemory) {
  ReceiveBuffer buffer(64 * 1024, 4);
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
  EXPECT_EQ(buffer.readable(), 0u);
  EXPECT_EQ(buffer.window(), 64u * 1024);
  EXPECT_FALSE(buffer.has_out_of_order());
  // The idle object stays well inside the 1 KiB-per-connection budget.
  EXPECT_LE(sizeof(ReceiveBuffer), 160u);
  const InsertResult nothing = buffer.Insert(0, {});
  EXPECT_EQ(nothing.advanced, 0u);
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
}

TEST(ReceiveBufferTest, InOrderDataIsReadableAndReadingReleasesMemory) {
  ReceiveBuffer buffer(1000, 4);
  const InsertResult first = buffer.Insert(0, Iota(100, 0));
  EXPECT_EQ(first.advanced, 100u);
  EXPECT_EQ(first.trimmed, 0u);
  EXPECT_FALSE(first.dropped_out_of_order);
  EXPECT_EQ(buffer.Insert(0, Iota(50, 100)).advanced, 50u);
  EXPECT_EQ(buffer.readable(), 150u);
  EXPECT_EQ(buffer.window(), 850u);
  EXPECT_GT(buffer.allocated_bytes(), 0u);

  std::vector<std::uint8_t> part(60);
  EXPECT_EQ(buffer.Read(part), 60u);
  EXPECT_EQ(part, Iota(60, 0));
  EXPECT_EQ(buffer.window(), 910u);
  EXPECT_EQ(ReadAll(buffer), Iota(90, 60));
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
  EXPECT_EQ(buffer.Read(part), 0u);
}

TEST(ReceiveBufferTest, OutOfOrderThenFillTheHole) {
  ReceiveBuffer buffer(1000, 4);
  const InsertResult held = buffer.Insert(10, Iota(20, 10));
  EXPECT_EQ(held.advanced, 0u);
  EXPECT_EQ(buffer.readable(), 0u);
  EXPECT_TRUE(buffer.has_out_of_order());
  EXPECT_EQ(buffer.out_of_order_bytes(), 20u);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{10, 30}));
  EXPECT_EQ(buffer.window(), 1000u);  // out-of-order data does not close the window

  buffer.Insert(40, Iota(5, 40));
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{40, 45}, ByteRange{10, 30}));

  // The hole [0, 10) is filled: RCV.NXT advances over it and the run behind it.
  const InsertResult filled = buffer.Insert(0, Iota(10, 0));
  EXPECT_EQ(filled.advanced, 30u);
  EXPECT_EQ(buffer.readable(), 30u);
  EXPECT_EQ(buffer.out_of_order_bytes(), 5u);
  // The remaining range is renumbered from the new RCV.NXT.
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{10, 15}));
  EXPECT_EQ(buffer.Insert(0, Iota(10, 30)).advanced, 15u);
  EXPECT_FALSE(buffer.has_out_of_order());
  EXPECT_EQ(ReadAll(buffer), Iota(45, 0));
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
}

TEST(ReceiveBufferTest, FillingTheHoleJoinsSeveralRanges) {
  ReceiveBuffer buffer(100, 4);
  buffer.Insert(5, Iota(5, 5));
  buffer.Insert(15, Iota(5, 15));
  buffer.Insert(25, Iota(5, 25));
  EXPECT_EQ(buffer.out_of_order_bytes(), 15u);
  // One segment bridges every gap: all of it becomes readable at once.
  const InsertResult result = buffer.Insert(0, Iota(30, 0));
  EXPECT_EQ(result.advanced, 30u);
  EXPECT_EQ(buffer.out_of_order_bytes(), 0u);
  EXPECT_EQ(ReadAll(buffer), Iota(30, 0));
}

// A held range [4, 8) of bytes 200.., then a segment [begin, end) of bytes 100+position at every
// alignment against it: the bytes already held keep their first copy, the rest are stored, and
// the results say what advanced.
TEST(ReceiveBufferTest, OverlapsAndDuplicatesAtEveryAlignment) {
  constexpr std::size_t kHeldBegin = 4;
  constexpr std::size_t kHeldEnd = 8;
  for (std::size_t begin = 0; begin < 12; ++begin) {
    for (std::size_t end = begin + 1; end <= 12; ++end) {
      SCOPED_TRACE(testing::Message() << "segment [" << begin << ", " << end << ")");
      ReceiveBuffer buffer(32, 4);
      buffer.Insert(kHeldBegin, Iota(kHeldEnd - kHeldBegin, 200));
      const InsertResult result =
          buffer.Insert(begin, Iota(end - begin, static_cast<std::uint8_t>(100 + begin)));
      EXPECT_EQ(result.trimmed, 0u);
      EXPECT_FALSE(result.dropped_out_of_order);

      // What a byte map says should be held now.
      std::vector<int> expected(12, -1);
      for (std::size_t i = kHeldBegin; i < kHeldEnd; ++i) expected[i] = 200 + (i - kHeldBegin);
      for (std::size_t i = begin; i < end; ++i) {
        if (expected[i] < 0) expected[i] = static_cast<int>(100 + i);
      }
      std::size_t contiguous = 0;
      while (contiguous < expected.size() && expected[contiguous] >= 0) ++contiguous;
      EXPECT_EQ(result.advanced, contiguous);
      EXPECT_EQ(buffer.readable(), contiguous);
      std::size_t held_out_of_order = 0;
      for (std::size_t i = contiguous; i < expected.size(); ++i) {
        held_out_of_order += expected[i] >= 0 ? 1 : 0;
      }
      EXPECT_EQ(buffer.out_of_order_bytes(), held_out_of_order);

      // Fill every hole up to byte 12 with bytes that must not win anywhere already held (the
      // filler starts at the new RCV.NXT), then compare.
      const InsertResult rest = buffer.Insert(0, std::vector<std::uint8_t>(12 - contiguous, 7));
      EXPECT_EQ(contiguous + rest.advanced, 12u);
      const std::vector<std::uint8_t> all = ReadAll(buffer);
      ASSERT_EQ(all.size(), 12u);
      for (std::size_t i = 0; i < 12; ++i) {
        EXPECT_EQ(all[i], expected[i] >= 0 ? expected[i] : 7) << "byte " << i;
      }
      EXPECT_EQ(buffer.allocated_bytes(), 0u);
    }
  }
}

TEST(ReceiveBufferTest, DuplicateOfAHeldRangeChangesNothing) {
  ReceiveBuffer buffer(100, 1);
  buffer.Insert(10, Iota(10, 10));
  const InsertResult again = buffer.Insert(12, std::vector<std::uint8_t>(5, 0xee));
  EXPECT_EQ(again.advanced, 0u);
  EXPECT_FALSE(again.dropped_out_of_order);  // it needs no new range, even at the cap
  EXPECT_EQ(buffer.out_of_order_bytes(), 10u);
  buffer.Insert(0, Iota(10, 0));
  EXPECT_EQ(ReadAll(buffer), Iota(20, 0));
}

TEST(ReceiveBufferTest, TrimsAtTheWindowEdge) {
  ReceiveBuffer buffer(10, 4);
  const InsertResult first = buffer.Insert(0, Iota(15, 0));
  EXPECT_EQ(first.advanced, 10u);
  EXPECT_EQ(first.trimmed, 5u);
  EXPECT_EQ(buffer.window(), 0u);
  EXPECT_LE(buffer.allocated_bytes(), 10u);  // never more payload than the capacity

  // A zero window takes nothing: not even a byte at RCV.NXT.
  const InsertResult closed = buffer.Insert(0, Iota(3, 10));
  EXPECT_EQ(closed.advanced, 0u);
  EXPECT_EQ(closed.trimmed, 3u);

  std::vector<std::uint8_t> out(4);
  buffer.Read(out);
  EXPECT_EQ(buffer.window(), 4u);
  // Out of order and straddling the right edge: only the part inside the window stays.
  const InsertResult straddle = buffer.Insert(2, Iota(5, 12));
  EXPECT_EQ(straddle.trimmed, 3u);
  EXPECT_EQ(buffer.out_of_order_bytes(), 2u);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{2, 4}));
  // Entirely beyond the window.
  EXPECT_EQ(buffer.Insert(4, Iota(2, 14)).trimmed, 2u);
  EXPECT_EQ(buffer.Insert(400, Iota(2, 0)).trimmed, 2u);
  EXPECT_EQ(buffer.out_of_order_bytes(), 2u);
  EXPECT_EQ(buffer.Insert(0, Iota(2, 10)).advanced, 4u);
  EXPECT_EQ(ReadAll(buffer), Iota(10, 4));
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
}

TEST(ReceiveBufferTest, OutOfOrderRangeCapDropsSegmentsThatNeedANewRange) {
  ReceiveBuffer buffer(100, 2);
  EXPECT_FALSE(buffer.Insert(10, Iota(5, 10)).dropped_out_of_order);
  EXPECT_FALSE(buffer.Insert(30, Iota(5, 30)).dropped_out_of_order);
  // A third disjoint range would exceed the cap.
  const InsertResult third = buffer.Insert(50, Iota(5, 50));
  EXPECT_TRUE(third.dropped_out_of_order);
  EXPECT_EQ(third.advanced, 0u);
  EXPECT_EQ(buffer.out_of_order_bytes(), 10u);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{30, 35}, ByteRange{10, 15}));
  // Extending a range (touching it) or joining two needs no new range.
  EXPECT_FALSE(buffer.Insert(15, Iota(3, 15)).dropped_out_of_order);
  EXPECT_FALSE(buffer.Insert(25, Iota(5, 25)).dropped_out_of_order);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{25, 35}, ByteRange{10, 18}));
  EXPECT_FALSE(buffer.Insert(18, Iota(7, 18)).dropped_out_of_order);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{10, 35}));
  // Now there is room again.
  EXPECT_FALSE(buffer.Insert(50, Iota(5, 50)).dropped_out_of_order);
  // In-order data is never dropped, whatever the cap.
  EXPECT_EQ(buffer.Insert(0, Iota(10, 0)).advanced, 35u);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{15, 20}));
}

TEST(ReceiveBufferTest, ZeroRangesMeansNoReassembly) {
  ReceiveBuffer buffer(100, 0);
  EXPECT_TRUE(buffer.Insert(1, Iota(5, 1)).dropped_out_of_order);
  EXPECT_FALSE(buffer.has_out_of_order());
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
  EXPECT_EQ(buffer.Insert(0, Iota(5, 0)).advanced, 5u);
}

// RFC 2018 4: the range holding the latest segment first, then the others most recently changed
// first.
TEST(ReceiveBufferTest, RangesComeMostRecentlyChangedFirstAndTheListIsBounded) {
  ReceiveBuffer buffer(1000, 8);
  for (std::size_t begin : {100, 10, 300, 200, 500}) {
    buffer.Insert(begin, Iota(5, 0));
  }
  EXPECT_THAT(RangesOf(buffer),
              ElementsAre(ByteRange{500, 505}, ByteRange{200, 205}, ByteRange{300, 305},
                          ByteRange{10, 15}, ByteRange{100, 105}));
  EXPECT_THAT(RangesOf(buffer, 3),
              ElementsAre(ByteRange{500, 505}, ByteRange{200, 205}, ByteRange{300, 305}));
  buffer.Insert(102, Iota(10, 0));  // extends [100, 105) to [100, 112)
  EXPECT_THAT(RangesOf(buffer, 2), ElementsAre(ByteRange{100, 112}, ByteRange{500, 505}));
  // A segment that brings nothing new still makes its range the most recent (RFC 2883 4: the
  // block after a D-SACK block is the one holding the duplicate).
  buffer.Insert(300, Iota(5, 0));
  EXPECT_THAT(RangesOf(buffer, 2), ElementsAre(ByteRange{300, 305}, ByteRange{100, 112}));
  // A segment that joins two ranges makes one range, the most recent.
  buffer.Insert(205, Iota(95, 0));
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{200, 305}, ByteRange{100, 112},
                                            ByteRange{500, 505}, ByteRange{10, 15}));
  // Once ranges are delivered in order, the rest keep their order, renumbered.
  buffer.Insert(0, Iota(120, 0));
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{80, 185}, ByteRange{380, 385}));
  EXPECT_THAT(RangesOf(buffer, 0), ::testing::IsEmpty());
}

// RFC 2883 4: what a segment repeats of the data held out of order, for the D-SACK block.
TEST(ReceiveBufferTest, ReportsTheFirstRunOfBytesAlreadyHeld) {
  ReceiveBuffer buffer(1000, 8);
  EXPECT_TRUE(buffer.Insert(10, Iota(10, 0)).duplicate.empty());
  EXPECT_TRUE(buffer.Insert(30, Iota(10, 0)).duplicate.empty());
  EXPECT_TRUE(buffer.Insert(20, Iota(5, 0)).duplicate.empty()) << "touching is not repeating";
  EXPECT_EQ(buffer.Insert(10, Iota(10, 0)).duplicate, (ByteRange{10, 20}));
  EXPECT_EQ(buffer.Insert(12, Iota(3, 0)).duplicate, (ByteRange{12, 15}));
  // Overlapping [10, 25) and [30, 40): the first run is reported.
  EXPECT_EQ(buffer.Insert(22, Iota(10, 0)).duplicate, (ByteRange{22, 25}));
  // In order, over held data: offsets are from RCV.NXT before the insert.
  const InsertResult in_order = buffer.Insert(0, Iota(15, 0));
  EXPECT_EQ(in_order.duplicate, (ByteRange{10, 15}));
  EXPECT_EQ(in_order.advanced, 40u);
  EXPECT_TRUE(buffer.Insert(0, Iota(5, 0)).duplicate.empty());
}

TEST(ReceiveBufferTest, ManyRangesSpillToTheHeapAndAreGivenBack) {
  ReceiveBuffer buffer(1000, 16);
  for (std::size_t i = 1; i <= 10; ++i) buffer.Insert(10 * i, Iota(5, 0));
  EXPECT_EQ(RangesOf(buffer).size(), 10u);
  EXPECT_GT(buffer.allocated_bytes(), 0u);
  buffer.Insert(0, std::vector<std::uint8_t>(200, 1));
  EXPECT_FALSE(buffer.has_out_of_order());
  EXPECT_EQ(ReadAll(buffer).size(), 200u);
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
}

// Random segments (overlapping, duplicated, out of order, beyond the window) and reads against a
// byte-map model, with a fixed seed. The stream's byte at absolute position p is StreamByte(p).
TEST(ReceiveBufferTest, MatchesAByteMapModelUnderRandomSegments) {
  constexpr std::size_t kCapacity = 200;
  constexpr std::size_t kMaxRanges = 3;
  auto stream_byte = [](std::uint64_t position) {
    return static_cast<std::uint8_t>(position * 131 + position / 256 + 7);
  };
  std::mt19937 random(6528);
  ReceiveBuffer buffer(kCapacity, kMaxRanges);
  std::uint64_t consumed = 0;    // absolute position of the next byte the application reads
  std::uint64_t rcv_nxt = 0;     // absolute RCV.NXT
  std::set<std::uint64_t> held;  // absolute positions of out-of-order bytes held
  auto runs_of = [](const std::set<std::uint64_t>& positions) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> runs;
    for (std::uint64_t p : positions) {
      if (!runs.empty() && runs.back().second == p) {
        ++runs.back().second;
      } else {
        runs.emplace_back(p, p + 1);
      }
    }
    return runs;
  };

  for (int step = 0; step < 30'000; ++step) {
    if (random() % 3 != 0) {
      const std::size_t offset = random() % 2 == 0 ? random() % 8 : random() % (kCapacity + 30);
      const std::size_t length = random() % 60;
      std::vector<std::uint8_t> segment(length);
      for (std::size_t i = 0; i < length; ++i) segment[i] = stream_byte(rcv_nxt + offset + i);
      const InsertResult result = buffer.Insert(offset, segment);

      // The model: trim to the window, then apply the range cap, then advance RCV.NXT.
      const std::uint64_t begin = rcv_nxt + offset;
      const std::uint64_t window_end = consumed + kCapacity;
      const std::uint64_t end = std::min<std::uint64_t>(begin + length, window_end);
      const std::size_t kept = end > begin ? end - begin : 0;
      ASSERT_EQ(result.trimmed, length - kept);
      std::set<std::uint64_t> after = held;
      for (std::uint64_t p = begin; p < end; ++p) after.insert(p);
      bool dropped = false;
      if (offset > 0 && kept > 0 && runs_of(after).size() > kMaxRanges) {
        dropped = true;
        after = held;
      }
      ASSERT_EQ(result.dropped_out_of_order, dropped);
      const std::uint64_t old_rcv_nxt = rcv_nxt;
      while (after.erase(rcv_nxt) == 1) ++rcv_nxt;
      held = std::move(after);
      ASSERT_EQ(result.advanced, rcv_nxt - old_rcv_nxt) << "step " << step;
    } else {
      std::vector<std::uint8_t> out(random() % 120);
      const std::size_t count = buffer.Read(out);
      ASSERT_EQ(count, std::min<std::uint64_t>(out.size(), rcv_nxt - consumed));
      for (std::size_t i = 0; i < count; ++i) {
        ASSERT_EQ(out[i], stream_byte(consumed + i)) << "step " << step;
      }
      consumed += count;
    }
    ASSERT_EQ(buffer.readable(), rcv_nxt - consumed);
    ASSERT_EQ(buffer.window(), kCapacity - (rcv_nxt - consumed));
    ASSERT_EQ(buffer.out_of_order_bytes(), held.size());
    ASSERT_EQ(buffer.has_out_of_order(), !held.empty());
    std::vector<std::pair<std::uint64_t, std::uint64_t>> model_runs = runs_of(held);
    Ranges actual = RangesOf(buffer);
    std::sort(actual.begin(), actual.end(),
              [](const ByteRange& a, const ByteRange& b) { return a.begin < b.begin; });
    ASSERT_EQ(actual.size(), model_runs.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
      ASSERT_EQ(actual[i].begin, model_runs[i].first - rcv_nxt);
      ASSERT_EQ(actual[i].end, model_runs[i].second - rcv_nxt);
    }
    ASSERT_LE(buffer.payload_storage_bytes(), kCapacity);
    if (rcv_nxt == consumed && held.empty()) {
      ASSERT_EQ(buffer.allocated_bytes(), 0u);
    }
  }
  EXPECT_GT(consumed, 10'000u);  // the run moved a good amount of data through
}

}  // namespace
}  // namespace tapstack::tcp
