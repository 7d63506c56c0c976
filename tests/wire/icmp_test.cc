// IcmpView, WriteIcmpEcho, WriteIcmpDestinationUnreachable and IcmpErrorQuote (RFC 792).
#include "stack/wire/icmp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "stack/wire/checksum.h"
#include "stack/wire/ipv4.h"
#include "tests/wire/random_wire.h"

namespace tapstack::wire {
namespace {

using testing::RandomBool;
using testing::RandomBytes;
using testing::RandomInt;
using testing::Rng;

TEST(IcmpTest, ParsesKnownEchoRequest) {
  // ping -p 6162 -s 4: type 8, code 0, checksum, id 0x1234, seq 1, "abab".
  std::vector<std::uint8_t> message = {0x08, 0x00, 0x00, 0x00, 0x12, 0x34,
                                       0x00, 0x01, 0x61, 0x62, 0x61, 0x62};
  StoreBe16(&message[2], InternetChecksum(message));
  const Parsed<IcmpView> view = IcmpView::Parse(message);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->type(), IcmpType::kEchoRequest);
  EXPECT_EQ(view->code(), 0);
  EXPECT_TRUE(view->checksum_valid());
  EXPECT_EQ(view->echo_identifier(), 0x1234);
  EXPECT_EQ(view->echo_sequence(), 1);
  EXPECT_EQ(std::vector<std::uint8_t>(view->payload().begin(), view->payload().end()),
            (std::vector<std::uint8_t>{0x61, 0x62, 0x61, 0x62}));
  message.back() ^= 1;
  EXPECT_FALSE(IcmpView::Parse(message)->checksum_valid());
}

TEST(IcmpTest, RejectsMessagesShorterThanTheHeader) {
  for (std::size_t len = 0; len < kIcmpHeaderLen; ++len) {
    const std::vector<std::uint8_t> message(len, 0);
    const Parsed<IcmpView> view = IcmpView::Parse(message);
    ASSERT_FALSE(view.ok());
    EXPECT_EQ(view.error(), ParseError::kTruncatedHeader);
  }
  EXPECT_TRUE(IcmpView::Parse(std::vector<std::uint8_t>(kIcmpHeaderLen, 0)).ok());
}

TEST(IcmpTest, EchoRoundTrips) {
  Rng rng(792);
  for (int i = 0; i < 2000; ++i) {
    const IcmpType type = RandomBool(rng) ? IcmpType::kEchoRequest : IcmpType::kEchoReply;
    const std::uint16_t identifier = RandomInt<std::uint16_t>(rng);
    const std::uint16_t sequence = RandomInt<std::uint16_t>(rng);
    const std::vector<std::uint8_t> payload = RandomBytes(rng, RandomInt<std::size_t>(rng, 0, 99));
    std::vector<std::uint8_t> out(kIcmpHeaderLen + payload.size());
    ASSERT_EQ(WriteIcmpEcho(type, identifier, sequence, payload, out), out.size());
    const Parsed<IcmpView> view = IcmpView::Parse(out);
    ASSERT_TRUE(view.ok()) << view.error();
    EXPECT_EQ(view->type(), type);
    EXPECT_EQ(view->code(), 0);
    EXPECT_TRUE(view->checksum_valid());
    EXPECT_EQ(view->echo_identifier(), identifier);
    EXPECT_EQ(view->echo_sequence(), sequence);
    EXPECT_TRUE(
        std::equal(view->payload().begin(), view->payload().end(), payload.begin(), payload.end()));
  }
}

TEST(IcmpTest, EchoReplyMayBeWrittenOverTheRequest) {
  // The stack answers a ping in the request's own buffer: payload and output overlap exactly.
  std::vector<std::uint8_t> buffer(16);
  const std::vector<std::uint8_t> data = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_EQ(WriteIcmpEcho(IcmpType::kEchoRequest, 7, 9, data, buffer), 16u);
  const std::span<const std::uint8_t> request_payload = IcmpView::Parse(buffer)->payload();
  ASSERT_EQ(WriteIcmpEcho(IcmpType::kEchoReply, 7, 9, request_payload, buffer), 16u);
  const Parsed<IcmpView> reply = IcmpView::Parse(buffer);
  EXPECT_EQ(reply->type(), IcmpType::kEchoReply);
  EXPECT_TRUE(reply->checksum_valid());
  EXPECT_TRUE(
      std::equal(reply->payload().begin(), reply->payload().end(), data.begin(), data.end()));
}

TEST(IcmpTest, WriteIntoShortBufferWritesNothing) {
  const std::vector<std::uint8_t> data(10, 1);
  std::vector<std::uint8_t> out(17, 0xee);
  EXPECT_EQ(WriteIcmpEcho(IcmpType::kEchoReply, 1, 1, data, out), 0u);
  EXPECT_EQ(WriteIcmpDestinationUnreachable(IcmpUnreachableCode::kPort, data, out), 0u);
  EXPECT_EQ(out, std::vector<std::uint8_t>(17, 0xee));
}

TEST(IcmpTest, DestinationUnreachableQuotesHeaderAndEightBytes) {
  // A UDP datagram with a 4-byte option and 12 bytes of data: the quote is 24 + 8 bytes.
  std::vector<std::uint8_t> datagram(36, 0);
  Ipv4Repr repr;
  repr.src = Ipv4Address(10, 0, 0, 1);
  repr.dst = Ipv4Address(10, 0, 0, 2);
  repr.protocol = IpProtocol::kUdp;
  repr.payload_len = 16;
  ASSERT_EQ(WriteIpv4Header(repr, datagram), 20u);
  datagram[0] = 0x46;  // IHL 6; the checksum no longer matters here
  for (std::size_t i = 24; i < 36; ++i) datagram[i] = static_cast<std::uint8_t>(i);
  const Parsed<Ipv4View> original = Ipv4View::Parse(datagram);
  ASSERT_TRUE(original.ok()) << original.error();
  const std::span<const std::uint8_t> quote = IcmpErrorQuote(*original);
  ASSERT_EQ(quote.size(), 32u);
  EXPECT_EQ(quote.data(), datagram.data());

  std::vector<std::uint8_t> out(kIcmpHeaderLen + quote.size());
  ASSERT_EQ(WriteIcmpDestinationUnreachable(IcmpUnreachableCode::kPort, quote, out), out.size());
  const Parsed<IcmpView> view = IcmpView::Parse(out);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->type(), IcmpType::kDestinationUnreachable);
  EXPECT_EQ(view->code(), IcmpUnreachableCode::kPort);
  EXPECT_TRUE(view->checksum_valid());
  EXPECT_EQ(LoadBe32(&out[4]), 0u);  // unused
  EXPECT_TRUE(
      std::equal(view->payload().begin(), view->payload().end(), quote.begin(), quote.end()));
}

TEST(IcmpTest, QuoteOfShortPayloadTakesWhatThereIs) {
  std::vector<std::uint8_t> datagram(23, 0);
  Ipv4Repr repr;
  repr.payload_len = 3;
  ASSERT_EQ(WriteIpv4Header(repr, datagram), 20u);
  const Parsed<Ipv4View> original = Ipv4View::Parse(datagram);
  ASSERT_TRUE(original.ok());
  EXPECT_EQ(IcmpErrorQuote(*original).size(), 23u);
}

TEST(IcmpTest, ReadsNextHopMtu) {
  std::vector<std::uint8_t> message = {3, 4, 0, 0, 0, 0, 0x05, 0xdc};
  EXPECT_EQ(IcmpView::Parse(message)->next_hop_mtu(), 1500);
}

}  // namespace
}  // namespace tapstack::wire
