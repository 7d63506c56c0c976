#include "stack/tcp/receive_buffer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
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
  ReceiveBuffer buffer(64 * 1024);
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
  ReceiveBuffer buffer(1000);
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
  ReceiveBuffer buffer(1000);
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
  ReceiveBuffer buffer(300);  // three ranges and their overhead
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
      ReceiveBuffer buffer(256);  // room for two ranges and their overhead
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
  // Room for the range and its overhead, and not a byte more.
  ReceiveBuffer buffer(10 + ReceiveBuffer::kRangeOverhead);
  buffer.Insert(10, Iota(10, 10));
  EXPECT_EQ(buffer.charged_bytes(), buffer.capacity());
  const InsertResult again = buffer.Insert(12, std::vector<std::uint8_t>(5, 0xee));
  EXPECT_EQ(again.advanced, 0u);
  EXPECT_FALSE(again.dropped_out_of_order);  // it costs nothing, so it always fits
  EXPECT_EQ(buffer.out_of_order_bytes(), 10u);
  buffer.Insert(0, Iota(10, 0));
  EXPECT_EQ(ReadAll(buffer), Iota(20, 0));
}

TEST(ReceiveBufferTest, TrimsAtTheWindowEdge) {
  ReceiveBuffer buffer(100);
  const InsertResult first = buffer.Insert(0, Iota(105, 0));
  EXPECT_EQ(first.advanced, 100u);
  EXPECT_EQ(first.trimmed, 5u);
  EXPECT_EQ(buffer.window(), 0u);
  EXPECT_LE(buffer.allocated_bytes(), 100u);  // never more payload than the capacity

  // A zero window takes nothing: not even a byte at RCV.NXT.
  const InsertResult closed = buffer.Insert(0, Iota(3, 100));
  EXPECT_EQ(closed.advanced, 0u);
  EXPECT_EQ(closed.trimmed, 3u);

  std::vector<std::uint8_t> out(70);
  buffer.Read(out);
  EXPECT_EQ(buffer.window(), 70u);
  // Out of order and straddling the right edge: only the part inside the window stays.
  const InsertResult straddle = buffer.Insert(68, Iota(5, 168));
  EXPECT_EQ(straddle.trimmed, 3u);
  EXPECT_FALSE(straddle.dropped_out_of_order);
  EXPECT_EQ(buffer.out_of_order_bytes(), 2u);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{68, 70}));
  // Entirely beyond the window.
  EXPECT_EQ(buffer.Insert(70, Iota(2, 170)).trimmed, 2u);
  EXPECT_EQ(buffer.Insert(400, Iota(2, 0)).trimmed, 2u);
  EXPECT_EQ(buffer.out_of_order_bytes(), 2u);
  EXPECT_EQ(buffer.Insert(0, Iota(68, 100)).advanced, 70u);
  EXPECT_EQ(ReadAll(buffer), Iota(100, 70));
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
}

// Each range is charged its bytes and ReceiveBuffer::kRangeOverhead: a segment that would take
// the charge beyond the capacity is dropped; one that grows or joins ranges costs only its bytes.
TEST(ReceiveBufferTest, RangesAreChargedTheirOverheadAndWhatDoesNotFitIsDropped) {
  constexpr std::size_t kOverhead = ReceiveBuffer::kRangeOverhead;
  ReceiveBuffer buffer(200);
  EXPECT_FALSE(buffer.Insert(10, Iota(5, 10)).dropped_out_of_order);
  EXPECT_EQ(buffer.charged_bytes(), 5 + kOverhead);
  EXPECT_FALSE(buffer.Insert(30, Iota(5, 30)).dropped_out_of_order);
  EXPECT_EQ(buffer.charged_bytes(), 2 * (5 + kOverhead));
  // A third range would charge 3 * 69 = 207 bytes of 200, and nothing lies beyond it to evict.
  const InsertResult third = buffer.Insert(50, Iota(5, 50));
  EXPECT_TRUE(third.dropped_out_of_order);
  EXPECT_EQ(third.advanced, 0u);
  EXPECT_EQ(third.evicted, 0u);
  EXPECT_EQ(buffer.out_of_order_bytes(), 10u);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{30, 35}, ByteRange{10, 15}));
  // The window stays what the in-order data leaves: the overhead only limits what is held.
  EXPECT_EQ(buffer.window(), 200u);
  // Extending a range (touching it) costs only its bytes; joining two gives an overhead back.
  EXPECT_FALSE(buffer.Insert(15, Iota(3, 15)).dropped_out_of_order);
  EXPECT_FALSE(buffer.Insert(25, Iota(5, 25)).dropped_out_of_order);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{25, 35}, ByteRange{10, 18}));
  EXPECT_EQ(buffer.charged_bytes(), 18 + 2 * kOverhead);
  EXPECT_FALSE(buffer.Insert(18, Iota(7, 18)).dropped_out_of_order);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{10, 35}));
  EXPECT_EQ(buffer.charged_bytes(), 25 + kOverhead);
  // Now there is room again.
  EXPECT_FALSE(buffer.Insert(50, Iota(5, 50)).dropped_out_of_order);
  EXPECT_EQ(buffer.Insert(0, Iota(10, 0)).advanced, 35u);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{15, 20}));
  EXPECT_EQ(buffer.charged_bytes(), 35 + 5 + kOverhead);
}

// A segment that does not fit gives up the ranges wholly beyond it, the furthest first, and the
// data nearest RCV.NXT stays (RFC 2018 8 lets a receiver discard data it reported in SACK).
TEST(ReceiveBufferTest, EvictionKeepsTheDataNearestRcvNxt) {
  constexpr std::size_t kOverhead = ReceiveBuffer::kRangeOverhead;
  ReceiveBuffer buffer(4 * (5 + kOverhead));  // four 5-byte ranges, exactly
  for (std::size_t begin : {200, 150, 100, 50}) {
    ASSERT_FALSE(
        buffer.Insert(begin, Iota(5, static_cast<std::uint8_t>(begin))).dropped_out_of_order);
  }
  EXPECT_EQ(buffer.charged_bytes(), buffer.capacity());
  // A fifth range to the left of them all: the furthest, [200, 205), makes room for it.
  const InsertResult left = buffer.Insert(20, Iota(5, 20));
  EXPECT_FALSE(left.dropped_out_of_order);
  EXPECT_EQ(left.evicted, 5u);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{20, 25}, ByteRange{50, 55},
                                            ByteRange{100, 105}, ByteRange{150, 155}));
  // A fifth range to the right of them all has nothing beyond it to evict: it is dropped, and
  // what is held does not change.
  const InsertResult right = buffer.Insert(250, Iota(5, 250));
  EXPECT_TRUE(right.dropped_out_of_order);
  EXPECT_EQ(right.evicted, 0u);
  EXPECT_EQ(buffer.out_of_order_ranges(), 4u);
  // A segment in the middle that needs a new range evicts only what lies beyond it.
  const InsertResult middle = buffer.Insert(120, Iota(5, 120));
  EXPECT_EQ(middle.evicted, 5u);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{120, 125}, ByteRange{20, 25},
                                            ByteRange{50, 55}, ByteRange{100, 105}));
  // In-order data that joins ranges gives their overhead back: nothing needs to go.
  const InsertResult in_order = buffer.Insert(0, Iota(110, 0));
  EXPECT_EQ(in_order.advanced, 110u);
  EXPECT_EQ(in_order.evicted, 0u);
  EXPECT_THAT(RangesOf(buffer), ElementsAre(ByteRange{10, 15}));
  EXPECT_EQ(buffer.charged_bytes(), 110 + 5 + kOverhead);
  EXPECT_EQ(buffer.Insert(0, Iota(100, 110)).advanced, 100u);
  EXPECT_FALSE(buffer.has_out_of_order());
  EXPECT_EQ(ReadAll(buffer), Iota(210, 0));
}

// In-order data is never dropped: it lies inside the window, and what it needs beyond that is
// taken from the ranges furthest to the right.
TEST(ReceiveBufferTest, InOrderDataEvictsFromTheRightWhenTheChargeIsFull) {
  constexpr std::size_t kOverhead = ReceiveBuffer::kRangeOverhead;
  ReceiveBuffer buffer(4 * (5 + kOverhead));
  for (std::size_t begin : {100, 150, 200, 250}) {
    ASSERT_FALSE(
        buffer.Insert(begin, Iota(5, static_cast<std::uint8_t>(begin))).dropped_out_of_order);
  }
  const InsertResult in_order = buffer.Insert(0, Iota(50, 0));
  EXPECT_FALSE(in_order.dropped_out_of_order);
  EXPECT_EQ(in_order.advanced, 50u);
  EXPECT_EQ(in_order.evicted, 5u);
  EXPECT_LE(buffer.charged_bytes(), buffer.capacity());
  // Renumbered from the new RCV.NXT, still most recently changed first.
  EXPECT_THAT(RangesOf(buffer),
              ElementsAre(ByteRange{150, 155}, ByteRange{100, 105}, ByteRange{50, 55}));
  EXPECT_EQ(ReadAll(buffer), Iota(50, 0));
}

// A buffer too small for one range and its overhead holds nothing out of order, as a receiver
// without reassembly would.
TEST(ReceiveBufferTest, BufferSmallerThanARangesOverheadHoldsNothingOutOfOrder) {
  ReceiveBuffer buffer(ReceiveBuffer::kRangeOverhead);
  EXPECT_TRUE(buffer.Insert(1, Iota(5, 1)).dropped_out_of_order);
  EXPECT_FALSE(buffer.has_out_of_order());
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
  EXPECT_EQ(buffer.Insert(0, Iota(5, 0)).advanced, 5u);
}

// RFC 2018 4: the range holding the latest segment first, then the others most recently changed
// first.
TEST(ReceiveBufferTest, RangesComeMostRecentlyChangedFirstAndTheListIsBounded) {
  ReceiveBuffer buffer(1000);
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
  ReceiveBuffer buffer(1000);
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
  ReceiveBuffer buffer(1000);
  for (std::size_t i = 1; i <= 10; ++i) buffer.Insert(10 * i, Iota(5, 0));
  EXPECT_EQ(RangesOf(buffer).size(), 10u);
  EXPECT_GT(buffer.allocated_bytes(), 0u);
  buffer.Insert(0, std::vector<std::uint8_t>(200, 1));
  EXPECT_FALSE(buffer.has_out_of_order());
  EXPECT_EQ(ReadAll(buffer).size(), 200u);
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
}

std::uint8_t StreamByte(std::uint64_t position) {
  return static_cast<std::uint8_t>(position * 131 + position / 256 + 7);
}

std::vector<std::uint8_t> StreamBytes(std::uint64_t position, std::size_t count) {
  std::vector<std::uint8_t> bytes(count);
  for (std::size_t i = 0; i < count; ++i) bytes[i] = StreamByte(position + i);
  return bytes;
}

// No count of ranges limits reassembly, only memory: 200 one-segment holes in a large buffer are
// all held, and the stream comes out whole whatever order the holes are filled in.
TEST(ReceiveBufferTest, HoldsHundredsOfRangesAndReassemblesThemInAnyOrder) {
  constexpr std::size_t kMss = 1460;
  constexpr std::size_t kHoles = 200;
  constexpr std::size_t kStream = 2 * kHoles * kMss;
  ReceiveBuffer buffer(kStream);
  std::mt19937 random(2018);
  // Segments 1, 3, 5, ... arrive, in random order; 0, 2, 4, ... are missing.
  std::vector<std::size_t> arrived(kHoles);
  std::iota(arrived.begin(), arrived.end(), 0);
  std::shuffle(arrived.begin(), arrived.end(), random);
  for (std::size_t pair : arrived) {
    const std::size_t position = (2 * pair + 1) * kMss;
    const InsertResult result = buffer.Insert(position, StreamBytes(position, kMss));
    ASSERT_FALSE(result.dropped_out_of_order);
    ASSERT_EQ(result.evicted, 0u);
  }
  EXPECT_EQ(buffer.out_of_order_ranges(), kHoles);
  EXPECT_EQ(buffer.out_of_order_bytes(), kHoles * kMss);
  EXPECT_EQ(RangesOf(buffer, 1000).size(), kHoles);
  EXPECT_LE(buffer.charged_bytes(), buffer.capacity());

  std::vector<std::size_t> holes(kHoles);
  std::iota(holes.begin(), holes.end(), 0);
  std::shuffle(holes.begin(), holes.end(), random);
  std::uint64_t rcv_nxt = 0;
  for (std::size_t hole : holes) {
    const std::uint64_t position = 2 * hole * kMss;
    const InsertResult result = buffer.Insert(position - rcv_nxt, StreamBytes(position, kMss));
    ASSERT_FALSE(result.dropped_out_of_order);
    rcv_nxt += result.advanced;
  }
  EXPECT_EQ(rcv_nxt, kStream);
  EXPECT_FALSE(buffer.has_out_of_order());
  EXPECT_EQ(ReadAll(buffer), StreamBytes(0, kStream));
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
}

// The bound: a peer that sends 1-byte segments with 1-byte holes between them fills the charge
// after capacity / (1 + kRangeOverhead) ranges, and the memory held stays within a small multiple
// of the capacity. Sent from the right, each new segment evicts the furthest range instead, so
// the same number of ranges, the leftmost, stays.
TEST(ReceiveBufferTest, TinySegmentsWithHolesStopAtTheChargeAndMemoryStaysBounded) {
  constexpr std::size_t kCapacity = 64 * 1024;
  constexpr std::size_t kHeldAtMost = kCapacity / (1 + ReceiveBuffer::kRangeOverhead);
  const std::vector<std::uint8_t> byte = {42};
  for (const bool from_the_right : {false, true}) {
    SCOPED_TRACE(from_the_right ? "from the right" : "from the left");
    ReceiveBuffer buffer(kCapacity);
    std::size_t dropped = 0;
    std::size_t evicted = 0;
    std::size_t peak_allocated = 0;
    for (std::size_t i = 0; i < kCapacity / 2; ++i) {
      const std::size_t pair = from_the_right ? kCapacity / 2 - 1 - i : i;
      const InsertResult result = buffer.Insert(2 * pair + 1, byte);
      dropped += result.dropped_out_of_order ? 1 : 0;
      evicted += result.evicted;
      ASSERT_LE(buffer.charged_bytes(), kCapacity);
      peak_allocated = std::max(peak_allocated, buffer.allocated_bytes());
    }
    EXPECT_EQ(buffer.out_of_order_ranges(), kHeldAtMost);
    EXPECT_EQ(buffer.window(), kCapacity);  // the overhead never closes the window
    EXPECT_LE(peak_allocated, 2 * kCapacity) << "ring plus range bookkeeping";
    const Ranges held = RangesOf(buffer, kCapacity);
    ASSERT_EQ(held.size(), kHeldAtMost);
    const auto [lowest, highest] = std::minmax_element(
        held.begin(), held.end(),
        [](const ByteRange& a, const ByteRange& b) { return a.begin < b.begin; });
    EXPECT_EQ(lowest->begin, 1u);
    EXPECT_EQ(highest->begin, 2 * kHeldAtMost - 1);
    if (from_the_right) {
      EXPECT_EQ(dropped, 0u);
      EXPECT_EQ(evicted, kCapacity / 2 - kHeldAtMost);
    } else {
      EXPECT_EQ(dropped, kCapacity / 2 - kHeldAtMost);
      EXPECT_EQ(evicted, 0u);
    }
  }
}

// Random segments (overlapping, duplicated, out of order, beyond the window) and reads against a
// byte-map model, with a fixed seed. The stream's byte at absolute position p is StreamByte(p).
TEST(ReceiveBufferTest, MatchesAByteMapModelUnderRandomSegments) {
  // Room for three ranges of a few bytes with their overhead: the limit is reached often.
  constexpr std::size_t kCapacity = 200;
  constexpr std::size_t kOverhead = ReceiveBuffer::kRangeOverhead;
  std::mt19937 random(6528);
  ReceiveBuffer buffer(kCapacity);
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
      for (std::size_t i = 0; i < length; ++i) segment[i] = StreamByte(rcv_nxt + offset + i);
      const InsertResult result = buffer.Insert(offset, segment);

      // The model: trim to the window; then, when the charge (in-order and out-of-order bytes
      // plus the overhead of each run held) exceeds the capacity, evict the highest run while
      // it lies wholly beyond the segment (out of order) or beyond RCV.NXT (in order); drop an
      // out-of-order segment that still does not fit; then advance RCV.NXT.
      const std::uint64_t begin = rcv_nxt + offset;
      const std::uint64_t window_end = consumed + kCapacity;
      const std::uint64_t end = std::min<std::uint64_t>(begin + length, window_end);
      const std::size_t kept = end > begin ? end - begin : 0;
      ASSERT_EQ(result.trimmed, length - kept);
      std::set<std::uint64_t> after = held;
      for (std::uint64_t p = begin; p < end; ++p) after.insert(p);
      std::uint64_t after_rcv_nxt = rcv_nxt;
      while (after.erase(after_rcv_nxt) == 1) ++after_rcv_nxt;
      auto charge = [&](const std::set<std::uint64_t>& out_of_order) {
        return (after_rcv_nxt - consumed) + out_of_order.size() +
               runs_of(out_of_order).size() * kOverhead;
      };
      std::size_t evicted = 0;
      bool dropped = false;
      if (kept > 0) {
        std::set<std::uint64_t> kept_held = held;  // what stays if the segment is dropped
        while (charge(after) > kCapacity) {
          const auto runs = runs_of(after);
          if (runs.empty() || runs.back().first <= end) break;
          for (std::uint64_t p = runs.back().first; p < runs.back().second; ++p) {
            after.erase(p);
            kept_held.erase(p);
          }
          evicted += runs.back().second - runs.back().first;
        }
        if (charge(after) > kCapacity) {
          ASSERT_GT(offset, 0u) << "in-order data always fits";
          dropped = true;
          after = kept_held;
          after_rcv_nxt = rcv_nxt;
        }
      }
      ASSERT_EQ(result.dropped_out_of_order, dropped) << "step " << step;
      ASSERT_EQ(result.evicted, evicted) << "step " << step;
      const std::uint64_t old_rcv_nxt = rcv_nxt;
      rcv_nxt = after_rcv_nxt;
      held = std::move(after);
      ASSERT_EQ(result.advanced, rcv_nxt - old_rcv_nxt) << "step " << step;
    } else {
      std::vector<std::uint8_t> out(random() % 120);
      const std::size_t count = buffer.Read(out);
      ASSERT_EQ(count, std::min<std::uint64_t>(out.size(), rcv_nxt - consumed));
      for (std::size_t i = 0; i < count; ++i) {
        ASSERT_EQ(out[i], StreamByte(consumed + i)) << "step " << step;
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
    ASSERT_EQ(buffer.charged_bytes(),
              (rcv_nxt - consumed) + held.size() + runs_of(held).size() * kOverhead);
    ASSERT_LE(buffer.charged_bytes(), kCapacity);
    if (rcv_nxt == consumed && held.empty()) {
      ASSERT_EQ(buffer.allocated_bytes(), 0u);
    }
  }
  EXPECT_GT(consumed, 10'000u);  // the run moved a good amount of data through
}

}  // namespace
}  // namespace tapstack::tcp
