// ParseTcpOptions, TcpOptionsLen and WriteTcpOptions (RFC 9293 3.1, RFC 7323, RFC 2018).
#include "stack/wire/tcp_options.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "stack/wire/bytes.h"
#include "tests/wire/random_wire.h"

namespace tapstack::wire {
namespace {

using testing::RandomTcpOptions;
using testing::Rng;

using Bytes = std::vector<std::uint8_t>;

// The options of a Linux SYN: MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
const Bytes kLinuxSynOptions = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x01,
                                0x02, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};

TcpOptions LinuxSynOptions() {
  TcpOptions options;
  options.mss = 1460;
  options.sack_permitted = true;
  options.timestamps = TcpOptions::Timestamps{0x00010203, 0};
  options.window_scale = 7;
  return options;
}

ParseError ParseErrorOf(const Bytes& bytes) { return ParseTcpOptions(bytes).error(); }

TEST(TcpOptionsTest, ParsesLinuxSynOptions) {
  const Parsed<TcpOptions> options = ParseTcpOptions(kLinuxSynOptions);
  ASSERT_TRUE(options.ok()) << options.error();
  EXPECT_EQ(*options, LinuxSynOptions());
  EXPECT_EQ(options->sack_block_count, 0u);
}

TEST(TcpOptionsTest, WritesTheLinuxLayout) {
  Bytes out(40, 0xee);
  ASSERT_EQ(TcpOptionsLen(LinuxSynOptions()), kLinuxSynOptions.size());
  ASSERT_EQ(WriteTcpOptions(LinuxSynOptions(), out), kLinuxSynOptions.size());
  out.resize(kLinuxSynOptions.size());
  EXPECT_EQ(out, kLinuxSynOptions);
}

TEST(TcpOptionsTest, EmptyAndPaddingOnly) {
  EXPECT_EQ(*ParseTcpOptions({}), TcpOptions{});
  EXPECT_EQ(*ParseTcpOptions(Bytes{1, 1, 1, 1}), TcpOptions{});
  EXPECT_EQ(*ParseTcpOptions(Bytes{0, 0, 0, 0}), TcpOptions{});
  EXPECT_EQ(TcpOptionsLen(TcpOptions{}), 0u);
}

TEST(TcpOptionsTest, StopsAtEndOfList) {
  // After EOL come padding bytes, even ones that would not parse as options.
  const Parsed<TcpOptions> options = ParseTcpOptions(Bytes{2, 4, 0x05, 0xb4, 0, 2, 1, 9});
  ASSERT_TRUE(options.ok()) << options.error();
  EXPECT_EQ(options->mss, 1460);
}

TEST(TcpOptionsTest, SkipsUnknownKindsByTheirLength) {
  const Parsed<TcpOptions> options =
      ParseTcpOptions(Bytes{30, 4, 2, 4, 254, 2, 3, 3, 9, 1, 6, 3, 4, 0});
  ASSERT_TRUE(options.ok()) << options.error();
  EXPECT_EQ(options->mss, std::nullopt);  // the 2, 4 inside kind 30 is data, not an MSS option
  EXPECT_EQ(options->window_scale, 9);
  EXPECT_FALSE(options->sack_permitted);
}

TEST(TcpOptionsTest, ParsesOneToFourSackBlocks) {
  for (std::size_t count = 1; count <= 4; ++count) {
    Bytes bytes = {1, 1, 5, static_cast<std::uint8_t>(2 + 8 * count)};
    for (std::size_t i = 0; i < count; ++i) {
      bytes.resize(bytes.size() + 8);
      StoreBe32(&bytes[bytes.size() - 8], static_cast<std::uint32_t>(0x100 + i));
      StoreBe32(&bytes[bytes.size() - 4], static_cast<std::uint32_t>(0x200 + i));
    }
    const Parsed<TcpOptions> options = ParseTcpOptions(bytes);
    ASSERT_TRUE(options.ok()) << options.error();
    ASSERT_EQ(options->sack_block_count, count);
    for (std::size_t i = 0; i < count; ++i) {
      EXPECT_EQ(options->sacks()[i].left, 0x100u + i);
      EXPECT_EQ(options->sacks()[i].right, 0x200u + i);
    }
  }
}

TEST(TcpOptionsTest, LastOccurrenceWins) {
  const Parsed<TcpOptions> options = ParseTcpOptions(Bytes{2, 4, 0, 1, 2, 4, 0, 2});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->mss, 2);
}

TEST(TcpOptionsTest, RejectsLengthZeroOrOne) {
  EXPECT_EQ(ParseErrorOf(Bytes{2, 0, 0, 0}), ParseError::kOptionBadLength);
  EXPECT_EQ(ParseErrorOf(Bytes{2, 1, 0, 0}), ParseError::kOptionBadLength);
  EXPECT_EQ(ParseErrorOf(Bytes{99, 0, 0, 0}), ParseError::kOptionBadLength);
  EXPECT_EQ(ParseErrorOf(Bytes{99, 1, 0, 0}), ParseError::kOptionBadLength);
}

TEST(TcpOptionsTest, RejectsOptionsRunningPastTheHeader) {
  EXPECT_EQ(ParseErrorOf(Bytes{1, 1, 2, 4, 5}), ParseError::kOptionPastEnd);
  EXPECT_EQ(ParseErrorOf(Bytes{8, 10, 0, 0, 0, 0, 0, 0, 0}), ParseError::kOptionPastEnd);
  EXPECT_EQ(ParseErrorOf(Bytes{99, 40, 0, 0}), ParseError::kOptionPastEnd);
  // A kind byte with no room for its length byte.
  EXPECT_EQ(ParseErrorOf(Bytes{1, 1, 1, 3}), ParseError::kOptionTruncated);
  EXPECT_EQ(ParseErrorOf(Bytes{99}), ParseError::kOptionTruncated);
}

TEST(TcpOptionsTest, RejectsKnownOptionsWithWrongLength) {
  const Bytes cases[] = {
      {2, 3, 5, 1},                           // MSS, 3
      {2, 5, 5, 0xb4, 0, 1, 1, 1},            // MSS, 5
      {3, 2, 1, 1},                           // window scale, 2
      {3, 4, 7, 0},                           // window scale, 4
      {4, 3, 0, 1},                           // SACK permitted, 3
      {4, 4, 0, 0},                           // SACK permitted, 4
      {8, 8, 0, 0, 0, 0, 0, 0},               // timestamps, 8
      {8, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1},   // timestamps, 9
      {8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},  // timestamps, 12
      {5, 2, 1, 1},                           // SACK with no block
      {5, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1},   // SACK, half a block
      {5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},  // SACK, a block and a byte
  };
  for (const Bytes& bytes : cases) {
    const Parsed<TcpOptions> options = ParseTcpOptions(bytes);
    ASSERT_FALSE(options.ok()) << "kind " << int{bytes[0]} << " length " << int{bytes[1]};
    EXPECT_EQ(options.error(), ParseError::kOptionWrongLength);
  }
  Bytes five_blocks = {5, 42};
  five_blocks.resize(42, 0);
  EXPECT_EQ(ParseErrorOf(five_blocks), ParseError::kOptionWrongLength);
}

TEST(TcpOptionsTest, LengthsOfEachLayout) {
  TcpOptions options;
  options.mss = 536;
  EXPECT_EQ(TcpOptionsLen(options), 4u);
  options.window_scale = 0;
  EXPECT_EQ(TcpOptionsLen(options), 8u);
  options.sack_permitted = true;
  EXPECT_EQ(TcpOptionsLen(options), 12u);
  options.timestamps = TcpOptions::Timestamps{1, 2};
  EXPECT_EQ(TcpOptionsLen(options), 20u);  // SACK-permitted joins the timestamps' padding
  options.sack_permitted = false;
  EXPECT_EQ(TcpOptionsLen(options), 20u);
  TcpOptions sacks;
  sacks.sack_block_count = 3;
  sacks.timestamps = TcpOptions::Timestamps{1, 2};
  EXPECT_EQ(TcpOptionsLen(sacks), 40u);  // RFC 2018 3: three blocks fit with timestamps
}

TEST(TcpOptionsTest, WriteRefusesWhatCannotBeSent) {
  Bytes out(60, 0xee);
  TcpOptions four_with_timestamps;
  four_with_timestamps.sack_block_count = 4;
  four_with_timestamps.timestamps = TcpOptions::Timestamps{1, 2};
  EXPECT_EQ(TcpOptionsLen(four_with_timestamps), 48u);
  EXPECT_EQ(WriteTcpOptions(four_with_timestamps, out), 0u);
  TcpOptions five_blocks;
  five_blocks.sack_block_count = 5;
  EXPECT_EQ(WriteTcpOptions(five_blocks, out), 0u);
  Bytes short_out(19, 0xee);
  EXPECT_EQ(WriteTcpOptions(LinuxSynOptions(), short_out), 0u);
  EXPECT_EQ(out, Bytes(60, 0xee));
  EXPECT_EQ(short_out, Bytes(19, 0xee));
}

// RFC 2018 3: four blocks alone, three beside timestamps, fewer as the room shrinks; a count
// that fits always writes.
TEST(TcpOptionsTest, SackBlocksThatFitBesideOtherOptions) {
  TcpOptions options;
  EXPECT_EQ(SackBlocksThatFit(options), 4u);
  options.sack_block_count = 2;  // the blocks already there are not counted
  EXPECT_EQ(SackBlocksThatFit(options), 4u);
  options.timestamps = TcpOptions::Timestamps{1, 2};
  EXPECT_EQ(SackBlocksThatFit(options), 3u);
  options.timestamps.reset();
  EXPECT_EQ(SackBlocksThatFit(options, 36), 4u);
  EXPECT_EQ(SackBlocksThatFit(options, 35), 3u);
  EXPECT_EQ(SackBlocksThatFit(options, 12), 1u);
  EXPECT_EQ(SackBlocksThatFit(options, 11), 0u);
  EXPECT_EQ(SackBlocksThatFit(options, 0), 0u);
  EXPECT_EQ(SackBlocksThatFit(options, 1000), 4u) << "never more than the 40 bytes of options";
  options.mss = 1460;
  options.window_scale = 7;
  options.sack_permitted = true;
  options.timestamps = TcpOptions::Timestamps{1, 2};
  EXPECT_EQ(SackBlocksThatFit(options), 2u);  // 20 bytes of SYN options leave room for two
  Bytes out(60);
  for (std::size_t room = 0; room <= 40; ++room) {
    TcpOptions blocks;
    blocks.timestamps = TcpOptions::Timestamps{1, 2};
    blocks.sack_block_count = SackBlocksThatFit(blocks, room);
    if (blocks.sack_block_count == 0) continue;
    EXPECT_LE(TcpOptionsLen(blocks), room);
    EXPECT_EQ(WriteTcpOptions(blocks, out), TcpOptionsLen(blocks));
  }
}

TEST(TcpOptionsTest, EqualityIgnoresUnusedSackSlots) {
  TcpOptions a;
  TcpOptions b;
  a.sack_block_count = b.sack_block_count = 1;
  a.sack_blocks[0] = b.sack_blocks[0] = {1, 2};
  a.sack_blocks[3] = {7, 7};
  EXPECT_EQ(a, b);
  b.sack_blocks[0].right = 3;
  EXPECT_FALSE(a == b);
}

TEST(TcpOptionsTest, RoundTripsRandomOptionSets) {
  Rng rng(7323);
  for (int i = 0; i < 5000; ++i) {
    const TcpOptions options = RandomTcpOptions(rng);
    Bytes out(kTcpMaxOptionsLen);
    const std::size_t len = WriteTcpOptions(options, out);
    ASSERT_EQ(len, TcpOptionsLen(options));
    ASSERT_EQ(len % 4, 0u);
    out.resize(len);
    const Parsed<TcpOptions> parsed = ParseTcpOptions(out);
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(*parsed, options);
  }
}

}  // namespace
}  // namespace tapstack::wire
