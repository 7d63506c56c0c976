// TcpView, TcpHeaderLen and WriteTcp (RFC 9293 3.1).
#include "stack/wire/tcp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "stack/wire/checksum.h"
#include "stack/wire/ipv4.h"
#include "tests/wire/random_wire.h"

namespace tapstack::wire {
namespace {

using testing::RandomBytes;
using testing::RandomInt;
using testing::RandomIpv4;
using testing::RandomTcpRepr;
using testing::Rng;

using Bytes = std::vector<std::uint8_t>;

const Ipv4Address kClient(10, 0, 0, 1);
const Ipv4Address kServer(10, 0, 0, 2);

// 10.0.0.1:40000 -> 10.0.0.2:80 SYN, seq 0x01020304, window 64240, MSS 1460 and window scale 7.
Bytes KnownSyn() {
  Bytes segment = {0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00,
                   0x00, 0x00, 0x70, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00,
                   0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07};
  StoreBe16(&segment[16], TransportChecksum(kClient, kServer, IpProtocol::kTcp, segment));
  return segment;
}

void ExpectSameRepr(const TcpRepr& actual, const TcpRepr& expected) {
  EXPECT_EQ(actual.src_port, expected.src_port);
  EXPECT_EQ(actual.dst_port, expected.dst_port);
  EXPECT_EQ(actual.seq, expected.seq);
  EXPECT_EQ(actual.ack, expected.ack);
  EXPECT_EQ(actual.flags, expected.flags);
  EXPECT_EQ(actual.window, expected.window);
  EXPECT_EQ(actual.urgent_pointer, expected.urgent_pointer);
  EXPECT_EQ(actual.options, expected.options);
  EXPECT_TRUE(std::equal(actual.payload.begin(), actual.payload.end(), expected.payload.begin(),
                         expected.payload.end()));
}

TEST(TcpTest, ParsesKnownSyn) {
  const Bytes segment = KnownSyn();
  const Parsed<TcpView> view = TcpView::Parse(segment);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->src_port(), 40000);
  EXPECT_EQ(view->dst_port(), 80);
  EXPECT_EQ(view->seq(), 0x01020304u);
  EXPECT_EQ(view->ack(), 0u);
  EXPECT_EQ(view->data_offset(), 7);
  EXPECT_EQ(view->header_len(), 28u);
  EXPECT_EQ(view->flags(), TcpFlags::kSyn);
  EXPECT_EQ(view->window(), 64240);
  EXPECT_EQ(view->urgent_pointer(), 0);
  EXPECT_EQ(view->options_bytes().size(), 8u);
  EXPECT_TRUE(view->payload().empty());
  EXPECT_TRUE(view->checksum_valid(kClient, kServer));
  EXPECT_FALSE(view->checksum_valid(kClient, Ipv4Address(10, 0, 0, 3)));
  const Parsed<TcpOptions> options = ParseTcpOptions(view->options_bytes());
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->mss, 1460);
  EXPECT_EQ(options->window_scale, 7);
}

TEST(TcpTest, WritesKnownSyn) {
  TcpRepr repr;
  repr.src_port = 40000;
  repr.dst_port = 80;
  repr.seq = 0x01020304;
  repr.flags = TcpFlags::kSyn;
  repr.window = 64240;
  repr.options.mss = 1460;
  repr.options.window_scale = 7;
  EXPECT_EQ(TcpHeaderLen(repr.options), 28u);
  Bytes out(28);
  ASSERT_EQ(WriteTcp(repr, kClient, kServer, out), 28u);
  EXPECT_EQ(out, KnownSyn());
}

// A payload handed over in two runs (a wrapped send ring) gives the same bytes, checksum
// included, as the same payload in one span.
TEST(TcpTest, PayloadInTwoRunsWritesTheSameSegment) {
  Rng rng(44);
  for (int i = 0; i < 200; ++i) {
    const Bytes payload = RandomBytes(rng, RandomInt<std::size_t>(rng, 0, 1460));
    TcpRepr whole;
    whole.src_port = 1000;
    whole.dst_port = 2000;
    whole.seq = static_cast<std::uint32_t>(rng());
    whole.flags = TcpFlags::kAck;
    whole.payload = payload;
    TcpRepr split = whole;
    const std::size_t cut = RandomInt<std::size_t>(rng, 0, payload.size());
    split.payload = std::span(payload).first(cut);
    split.payload_continued = std::span(payload).subspan(cut);
    const Ipv4Address src(0xc0000201), dst(0xc0000202);
    Bytes a(20 + payload.size()), b(20 + payload.size());
    ASSERT_EQ(WriteTcp(whole, src, dst, a), a.size());
    ASSERT_EQ(WriteTcp(split, src, dst, b), b.size());
    EXPECT_EQ(a, b) << "cut at " << cut << " of " << payload.size();
  }
}

TEST(TcpTest, FlagBitsMatchRfc9293) {
  EXPECT_EQ(TcpFlags::kFin | TcpFlags::kSyn | TcpFlags::kRst | TcpFlags::kPsh | TcpFlags::kAck |
                TcpFlags::kUrg | TcpFlags::kEce | TcpFlags::kCwr,
            0xff);
  Bytes segment = KnownSyn();
  segment[13] = TcpFlags::kSyn | TcpFlags::kAck | TcpFlags::kEce;
  EXPECT_EQ(TcpView::Parse(segment)->flags(), 0x52);
}

TEST(TcpTest, RejectsDataOffsetBelowFive) {
  for (int data_offset = 0; data_offset < 5; ++data_offset) {
    Bytes segment = KnownSyn();
    segment[12] = static_cast<std::uint8_t>(data_offset << 4);
    const Parsed<TcpView> view = TcpView::Parse(segment);
    ASSERT_FALSE(view.ok()) << data_offset;
    EXPECT_EQ(view.error(), ParseError::kBadHeaderLength);
  }
}

TEST(TcpTest, RejectsDataOffsetBeyondTheSegment) {
  Bytes segment = KnownSyn();  // 28 bytes
  segment[12] = 0x80;          // 32-byte header
  const Parsed<TcpView> view = TcpView::Parse(segment);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), ParseError::kHeaderPastBuffer);
  segment[12] = 0xf0;
  EXPECT_FALSE(TcpView::Parse(segment).ok());
  segment[12] = 0x70;
  EXPECT_TRUE(TcpView::Parse(segment).ok());
}

TEST(TcpTest, RejectsSegmentsShorterThanTheHeader) {
  const Bytes segment = KnownSyn();
  for (std::size_t len = 0; len < kTcpMinHeaderLen; ++len) {
    EXPECT_EQ(TcpView::Parse(std::span(segment).first(len)).error(), ParseError::kTruncatedHeader)
        << len;
  }
}

TEST(TcpTest, ReprFailsOnMalformedOptions) {
  Bytes segment = KnownSyn();
  segment[21] = 3;  // MSS with length 3
  const Parsed<TcpView> view = TcpView::Parse(segment);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->Repr().error(), ParseError::kOptionWrongLength);
}

TEST(TcpTest, WriteRefusesWhatDoesNotFit) {
  const Bytes payload(10, 0xab);
  TcpRepr repr;
  repr.options.mss = 1460;
  repr.payload = payload;
  Bytes out(33, 0xee);  // one byte short of 24 + 10
  EXPECT_EQ(WriteTcp(repr, kClient, kServer, out), 0u);
  EXPECT_EQ(out, Bytes(33, 0xee));

  TcpRepr too_many_options;
  too_many_options.options.sack_block_count = 4;
  too_many_options.options.timestamps = TcpOptions::Timestamps{1, 2};
  Bytes big(100, 0xee);
  EXPECT_EQ(WriteTcp(too_many_options, kClient, kServer, big), 0u);
  EXPECT_EQ(big, Bytes(100, 0xee));

  const Bytes huge_payload(65535 - 20 + 1, 0);
  TcpRepr huge;
  huge.payload = huge_payload;
  Bytes huge_out(70000, 0xee);
  EXPECT_EQ(WriteTcp(huge, kClient, kServer, huge_out), 0u);
  huge.payload = std::span(huge_payload).first(65535 - 20);
  EXPECT_EQ(WriteTcp(huge, kClient, kServer, huge_out), 65535u);
  EXPECT_TRUE(TcpView::Parse(std::span(huge_out).first(65535))->checksum_valid(kClient, kServer));
}

TEST(TcpTest, RoundTripsRandomSegments) {
  Rng rng(9293);
  for (int i = 0; i < 5000; ++i) {
    const Bytes payload = RandomBytes(rng, RandomInt<std::size_t>(rng, 0, 80));
    TcpRepr repr = RandomTcpRepr(rng);
    repr.payload = payload;
    const Ipv4Address src = RandomIpv4(rng);
    const Ipv4Address dst = RandomIpv4(rng);
    Bytes segment(TcpHeaderLen(repr.options) + payload.size());
    ASSERT_EQ(WriteTcp(repr, src, dst, segment), segment.size());
    const Parsed<TcpView> view = TcpView::Parse(segment);
    ASSERT_TRUE(view.ok()) << view.error();
    EXPECT_TRUE(view->checksum_valid(src, dst));
    EXPECT_EQ(view->header_len(), TcpHeaderLen(repr.options));
    const Parsed<TcpRepr> parsed = view->Repr();
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    ExpectSameRepr(*parsed, repr);
  }
}

}  // namespace
}  // namespace tapstack::wire
