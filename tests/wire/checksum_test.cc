// RFC 1071 checksum, the RFC 9293 pseudo-header, and RFC 1624 incremental update.
#include "stack/wire/checksum.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "stack/wire/bytes.h"
#include "tests/wire/random_wire.h"

namespace tapstack::wire {
namespace {

using testing::RandomBool;
using testing::RandomBytes;
using testing::RandomInt;
using testing::Rng;

// The plain RFC 1071 loop the wide accumulator replaced: one big-endian 16-bit word at a time, a
// zero byte after an odd tail, carries folded end-around, then the complement.
std::uint16_t ReferenceChecksum(std::span<const std::uint8_t> bytes) {
  std::uint64_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) sum += LoadBe16(&bytes[i]);
  if (i < bytes.size()) sum += std::uint32_t{bytes[i]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

TEST(InternetChecksumTest, MatchesRfc1071Example) {
  // RFC 1071 3, "Numerical Examples": the words 0001 f203 f4f5 f6f7 sum to ddf2 (one's
  // complement), so the checksum is its complement.
  const std::vector<std::uint8_t> bytes = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(InternetChecksum(bytes), static_cast<std::uint16_t>(~0xddf2));
  EXPECT_EQ(InternetChecksum(bytes), 0x220d);
}

TEST(InternetChecksumTest, MatchesKnownIpv4Header) {
  // A UDP datagram's IPv4 header, 192.168.0.1 -> 192.168.0.199, whose checksum is b861.
  std::vector<std::uint8_t> header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                      0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(InternetChecksum(header), 0xb861);
  StoreBe16(&header[10], 0xb861);
  EXPECT_EQ(InternetChecksum(header), 0);
}

TEST(InternetChecksumTest, PadsOddLengthWithZero) {
  EXPECT_EQ(InternetChecksum(std::vector<std::uint8_t>{0x01}), 0xfeff);
  EXPECT_EQ(InternetChecksum(std::vector<std::uint8_t>{0x12, 0x34, 0x56}),
            InternetChecksum(std::vector<std::uint8_t>{0x12, 0x34, 0x56, 0x00}));
}

TEST(InternetChecksumTest, EmptyAndAllZeroGiveAllOnes) {
  EXPECT_EQ(InternetChecksum({}), 0xffff);
  EXPECT_EQ(InternetChecksum(std::vector<std::uint8_t>(64, 0)), 0xffff);
}

TEST(InternetChecksumTest, FoldsCarriesEndAround) {
  // ffff + ffff + 0001 = 1ffff -> ffff + 1 = 10000 -> 0001; complement fffe.
  EXPECT_EQ(InternetChecksum(std::vector<std::uint8_t>{0xff, 0xff, 0xff, 0xff, 0x00, 0x01}),
            0xfffe);
}

TEST(InternetChecksumTest, StoredChecksumMakesTheSumVerify) {
  Rng rng(1071);
  for (int i = 0; i < 1000; ++i) {
    std::vector<std::uint8_t> bytes = RandomBytes(rng, 2 * RandomInt<std::size_t>(rng, 1, 200));
    const std::size_t field = 2 * RandomInt<std::size_t>(rng, 0, bytes.size() / 2 - 1);
    StoreBe16(&bytes[field], 0);
    StoreBe16(&bytes[field], InternetChecksum(bytes));
    EXPECT_EQ(InternetChecksum(bytes), 0);
  }
}

TEST(ChecksumAccumulatorTest, PiecesOfAnyLengthEqualOneBuffer) {
  Rng rng(42);
  for (int i = 0; i < 1000; ++i) {
    const std::vector<std::uint8_t> bytes = RandomBytes(rng, RandomInt<std::size_t>(rng, 0, 300));
    ChecksumAccumulator accumulator;
    std::span<const std::uint8_t> rest(bytes);
    while (!rest.empty()) {
      const std::size_t piece = RandomInt<std::size_t>(rng, 0, rest.size());
      accumulator.Add(rest.first(piece));
      rest = rest.subspan(piece);
    }
    EXPECT_EQ(accumulator.Finish(), InternetChecksum(bytes));
  }
}

TEST(ChecksumAccumulatorTest, WideAddEqualsSixteenBitLoop) {
  // Random lengths up to past a jumbo segment, cut into pieces at random (odd and even) points,
  // starting at every alignment of an 8-byte load: the wide loop's blocks, its tail and the
  // pending odd byte all meet every case.
  Rng rng(1071'2);
  std::vector<std::uint8_t> storage(3000 + 16);
  for (int i = 0; i < 3000; ++i) {
    const std::size_t length = RandomInt<std::size_t>(rng, 0, 3000);
    const std::size_t offset = RandomInt<std::size_t>(rng, 0, 15);
    // Some buffers all 0xff or all zero, where carries and the zero representation are extreme.
    const int fill = RandomInt<int>(rng, 0, 9);
    for (std::size_t k = 0; k < length; ++k) {
      storage[offset + k] = fill == 0 ? 0x00 : fill == 1 ? 0xff : static_cast<std::uint8_t>(rng());
    }
    const std::span<const std::uint8_t> bytes(storage.data() + offset, length);
    const std::uint16_t expected = ReferenceChecksum(bytes);
    ASSERT_EQ(InternetChecksum(bytes), expected) << "length " << length << " offset " << offset;

    ChecksumAccumulator accumulator;
    std::span<const std::uint8_t> rest = bytes;
    std::size_t pieces = 0;
    while (!rest.empty()) {
      // Mostly short pieces (headers, odd bytes), sometimes everything that is left.
      const std::size_t piece =
          RandomBool(rng) ? RandomInt<std::size_t>(rng, 0, std::min<std::size_t>(rest.size(), 9))
                          : RandomInt<std::size_t>(rng, 0, rest.size());
      accumulator.Add(rest.first(piece));
      rest = rest.subspan(piece);
      ++pieces;
    }
    ASSERT_EQ(accumulator.Finish(), expected)
        << "length " << length << " offset " << offset << " pieces " << pieces;
  }
}

TEST(ChecksumAccumulatorTest, CopyAndAddCopiesAndSumsLikeAdd) {
  // As above, with every piece copied and summed in one pass: the copy is exact, nothing past its
  // end is written, and the sum is what a 16-bit word loop gives. The pieces are long enough to
  // reach the 128- and 64-byte vector steps, and start at every alignment on both sides.
  Rng rng(1071'3);
  std::vector<std::uint8_t> source(3000 + 16);
  std::vector<std::uint8_t> destination(3000 + 32);
  for (int i = 0; i < 2000; ++i) {
    const std::size_t length = RandomInt<std::size_t>(rng, 0, 3000);
    const std::size_t from = RandomInt<std::size_t>(rng, 0, 15);
    const std::size_t to = RandomInt<std::size_t>(rng, 0, 15);
    const int fill = RandomInt<int>(rng, 0, 9);
    for (std::size_t k = 0; k < length; ++k) {
      source[from + k] = fill == 0 ? 0x00 : fill == 1 ? 0xff : static_cast<std::uint8_t>(rng());
    }
    std::fill(destination.begin(), destination.end(), 0xa5);
    const std::span<const std::uint8_t> bytes(source.data() + from, length);

    ChecksumAccumulator accumulator;
    std::size_t done = 0;
    while (done < length) {
      const std::size_t piece =
          RandomBool(rng) ? RandomInt<std::size_t>(rng, 0, std::min<std::size_t>(length - done, 9))
                          : RandomInt<std::size_t>(rng, 0, length - done);
      accumulator.CopyAndAdd(bytes.subspan(done, piece),
                             std::span(destination).subspan(to + done, piece));
      done += piece;
    }
    ASSERT_EQ(accumulator.Finish(), ReferenceChecksum(bytes))
        << "length " << length << " from " << from << " to " << to;
    ASSERT_TRUE(std::equal(bytes.begin(), bytes.end(), destination.begin() + to));
    ASSERT_TRUE(std::all_of(destination.begin(), destination.begin() + to,
                            [](std::uint8_t b) { return b == 0xa5; }));
    ASSERT_TRUE(std::all_of(destination.begin() + to + length, destination.end(),
                            [](std::uint8_t b) { return b == 0xa5; }));
  }
}

TEST(ChecksumAccumulatorTest, AddU16AndAddU32AreNetworkOrderBytes) {
  // Also after an odd-length piece, where the words straddle a 16-bit boundary.
  for (const std::size_t prefix_len : {0, 1, 2, 3}) {
    const std::vector<std::uint8_t> prefix(prefix_len, 0x5a);
    ChecksumAccumulator words;
    words.Add(prefix);
    words.AddU16(0x1234);
    words.AddU32(0x89abcdef);
    ChecksumAccumulator bytes;
    bytes.Add(prefix);
    bytes.Add(std::vector<std::uint8_t>{0x12, 0x34, 0x89, 0xab, 0xcd, 0xef});
    EXPECT_EQ(words.Finish(), bytes.Finish()) << prefix_len;
  }
}

TEST(ChecksumAccumulatorTest, FinishLeavesTheSumUnchanged) {
  ChecksumAccumulator accumulator;
  accumulator.Add(std::vector<std::uint8_t>{0x01});
  const std::uint16_t first = accumulator.Finish();
  EXPECT_EQ(accumulator.Finish(), first);
  accumulator.Add(std::vector<std::uint8_t>{0x02});
  EXPECT_EQ(accumulator.Finish(), InternetChecksum(std::vector<std::uint8_t>{0x01, 0x02}));
}

TEST(TransportChecksumTest, CoversThePseudoHeader) {
  // RFC 9293 3.1: source, destination, zero, protocol, TCP length, then the segment.
  const Ipv4Address src(10, 0, 0, 1);
  const Ipv4Address dst(10, 0, 0, 2);
  const std::vector<std::uint8_t> segment = {0xde, 0xad, 0xbe, 0xef, 0x01};
  std::vector<std::uint8_t> whole = {10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 5};
  whole.insert(whole.end(), segment.begin(), segment.end());
  EXPECT_EQ(TransportChecksum(src, dst, 6, segment), InternetChecksum(whole));

  ChecksumAccumulator accumulator;
  AddIpv4PseudoHeader(accumulator, src, dst, 6, 5);
  accumulator.Add(segment);
  EXPECT_EQ(accumulator.Finish(), InternetChecksum(whole));
}

TEST(TransportChecksumTest, CoversTheIpv6PseudoHeader) {
  // RFC 8200 8.1: source, destination, upper-layer length (32 bits), three zero bytes, next
  // header, then the upper-layer packet.
  const Ipv6Address src = *Ipv6Address::Parse("2001:db8::1");
  const Ipv6Address dst = *Ipv6Address::Parse("fe80::2:3");
  const std::vector<std::uint8_t> segment = {0xde, 0xad, 0xbe, 0xef, 0x01};
  std::vector<std::uint8_t> whole = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0,    1,    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0,    2,    0,    3,    0, 0, 0, 5, 0, 0, 0, 58};
  whole.insert(whole.end(), segment.begin(), segment.end());
  EXPECT_EQ(TransportChecksum(src, dst, 58, segment), InternetChecksum(whole));

  ChecksumAccumulator accumulator;
  AddIpv6PseudoHeader(accumulator, src, dst, 58, 5);
  accumulator.Add(segment);
  EXPECT_EQ(accumulator.Finish(), InternetChecksum(whole));
  // The length is 32 bits wide: a length above 65535 lands in the upper word.
  ChecksumAccumulator long_length;
  AddIpv6PseudoHeader(long_length, src, dst, 58, 0x10005);
  long_length.Add(segment);
  whole[33] = 1;
  EXPECT_EQ(long_length.Finish(), InternetChecksum(whole));
}

TEST(ChecksumUpdateTest, MatchesRfc1624Example) {
  // RFC 1624 4: m = 5555 becomes 3285 in a header whose other words sum to cd7a. The checksum
  // goes from dd2f to 0000 (equation 3 gets this right where equation 2 gave ffff).
  EXPECT_EQ(ChecksumUpdate16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

TEST(ChecksumUpdateTest, Update16EqualsRecomputationOnRandomData) {
  Rng rng(1624);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> bytes = RandomBytes(rng, 2 * RandomInt<std::size_t>(rng, 2, 40));
    const std::uint16_t old_checksum = InternetChecksum(bytes);
    const std::size_t field = 2 * RandomInt<std::size_t>(rng, 0, bytes.size() / 2 - 1);
    const std::uint16_t old_field = LoadBe16(&bytes[field]);
    // Sometimes a small change, sometimes one that crosses a carry boundary.
    const std::uint16_t new_field = RandomInt<int>(rng, 0, 3) == 0
                                        ? static_cast<std::uint16_t>(old_field + 1)
                                        : RandomInt<std::uint16_t>(rng);
    StoreBe16(&bytes[field], new_field);
    EXPECT_EQ(ChecksumUpdate16(old_checksum, old_field, new_field), InternetChecksum(bytes));
  }
}

TEST(ChecksumUpdateTest, Update32EqualsRecomputationOnRandomData) {
  Rng rng(16240);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> bytes = RandomBytes(rng, 2 * RandomInt<std::size_t>(rng, 2, 40));
    const std::uint16_t old_checksum = InternetChecksum(bytes);
    const std::size_t field = 2 * RandomInt<std::size_t>(rng, 0, bytes.size() / 2 - 2);
    const std::uint32_t old_field = LoadBe32(&bytes[field]);
    const std::uint32_t new_field = RandomInt<std::uint32_t>(rng);
    StoreBe32(&bytes[field], new_field);
    EXPECT_EQ(ChecksumUpdate32(old_checksum, old_field, new_field), InternetChecksum(bytes));
  }
}

TEST(ChecksumUpdateTest, UpdatedChecksumStillVerifies) {
  // The way the stack uses it: patch a field of a checksummed header in place.
  std::vector<std::uint8_t> header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                      0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  const std::uint32_t old_dst = LoadBe32(&header[16]);
  const std::uint32_t new_dst = Ipv4Address(10, 1, 2, 3).value();
  StoreBe32(&header[16], new_dst);
  StoreBe16(&header[10], ChecksumUpdate32(LoadBe16(&header[10]), old_dst, new_dst));
  EXPECT_EQ(InternetChecksum(header), 0);
}

}  // namespace
}  // namespace tapstack::wire
