// Icmpv6View and its writers (RFC 4443), and the Neighbor Discovery views and writers (RFC 4861).
#include "stack/wire/icmpv6.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "stack/wire/checksum.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/neighbor_discovery.h"
#include "tests/wire/random_wire.h"

namespace tapstack::wire {
namespace {

using testing::RandomBool;
using testing::RandomBytes;
using testing::RandomInt;
using testing::RandomIpv6;
using testing::RandomMac;
using testing::Rng;

using Bytes = std::vector<std::uint8_t>;

const Ipv6Address kSrc = *Ipv6Address::Parse("fe80::1");
const Ipv6Address kDst = *Ipv6Address::Parse("2001:db8::2");
const MacAddress kMac = *MacAddress::Parse("02:00:00:00:00:01");

TEST(Icmpv6Test, EchoRoundTripsWithAChecksumOverThePseudoHeader) {
  Rng rng(4443);
  for (int i = 0; i < 2000; ++i) {
    const Bytes payload = RandomBytes(rng, RandomInt<std::size_t>(rng, 0, 99));
    const Ipv6Address src = RandomIpv6(rng);
    const Ipv6Address dst = RandomIpv6(rng);
    const Icmpv6Type type = RandomBool(rng) ? Icmpv6Type::kEchoRequest : Icmpv6Type::kEchoReply;
    const std::uint16_t identifier = RandomInt<std::uint16_t>(rng);
    const std::uint16_t sequence = RandomInt<std::uint16_t>(rng);
    Bytes message(kIcmpv6HeaderLen + payload.size());
    ASSERT_EQ(WriteIcmpv6Echo(type, identifier, sequence, payload, src, dst, message),
              message.size());
    const Parsed<Icmpv6View> view = Icmpv6View::Parse(message);
    ASSERT_TRUE(view.ok()) << view.error();
    EXPECT_EQ(view->type(), type);
    EXPECT_EQ(view->code(), 0);
    EXPECT_EQ(view->echo_identifier(), identifier);
    EXPECT_EQ(view->echo_sequence(), sequence);
    EXPECT_TRUE(view->checksum_valid(src, dst));
    EXPECT_EQ(Bytes(view->payload().begin(), view->payload().end()), payload);
    // From another address (one bit flipped) it does not verify: the pseudo-header counts.
    Ipv6Address::Octets other = src.octets();
    other[RandomInt<std::size_t>(rng, 0, 15)] ^= 0x10;
    EXPECT_FALSE(view->checksum_valid(Ipv6Address(other), dst));
  }
}

TEST(Icmpv6Test, ChecksumIsTheOneOverPseudoHeaderAndMessage) {
  const Bytes data = {'p', 'i', 'n', 'g'};
  Bytes message(kIcmpv6HeaderLen + data.size());
  ASSERT_EQ(WriteIcmpv6Echo(Icmpv6Type::kEchoRequest, 0x1234, 7, data, kSrc, kDst, message), 12u);
  const std::uint16_t stored = LoadBe16(&message[2]);
  StoreBe16(&message[2], 0);
  EXPECT_EQ(stored, TransportChecksum(kSrc, kDst, IpProtocol::kIcmpv6, message));
  EXPECT_EQ((Bytes{message[0], message[1], message[4], message[5], message[6], message[7]}),
            (Bytes{128, 0, 0x12, 0x34, 0, 7}));
}

TEST(Icmpv6Test, RefusesShortMessagesAndBuffers) {
  EXPECT_EQ(Icmpv6View::Parse(Bytes(7, 0)).error(), ParseError::kTruncatedHeader);
  EXPECT_TRUE(Icmpv6View::Parse(Bytes(8, 0)).ok());
  Bytes out(11, 0xee);
  EXPECT_EQ(WriteIcmpv6Echo(Icmpv6Type::kEchoReply, 1, 2, Bytes(4, 1), kSrc, kDst, out), 0u);
  EXPECT_EQ(out, Bytes(11, 0xee));
}

TEST(Icmpv6Test, ReplyMayBeWrittenOverTheRequest) {
  Bytes message(kIcmpv6HeaderLen + 6);
  const Bytes data = {1, 2, 3, 4, 5, 6};
  WriteIcmpv6Echo(Icmpv6Type::kEchoRequest, 9, 10, data, kSrc, kDst, message);
  const Parsed<Icmpv6View> request = Icmpv6View::Parse(message);
  ASSERT_EQ(WriteIcmpv6Echo(Icmpv6Type::kEchoReply, 9, 10, request->payload(), kDst, kSrc, message),
            message.size());
  const Parsed<Icmpv6View> reply = Icmpv6View::Parse(message);
  EXPECT_EQ(reply->type(), Icmpv6Type::kEchoReply);
  EXPECT_TRUE(reply->checksum_valid(kDst, kSrc));
  EXPECT_EQ(Bytes(reply->payload().begin(), reply->payload().end()), data);
}

TEST(Icmpv6Test, DestinationUnreachableQuotesAsMuchAsFitsInTheMinimumMtu) {
  Ipv6Repr repr;
  repr.src = kDst;
  repr.dst = kSrc;
  repr.next_header = IpProtocol::kTcp;
  for (const std::size_t payload_len : {std::size_t{20}, std::size_t{1192}, std::size_t{1400}}) {
    repr.payload_len = static_cast<std::uint16_t>(payload_len);
    Bytes packet(kIpv6HeaderLen + payload_len, 0x5a);
    WriteIpv6Header(repr, packet);
    const Parsed<Ipv6View> view = Ipv6View::Parse(packet);
    ASSERT_TRUE(view.ok());
    const std::span<const std::uint8_t> quoted = Icmpv6ErrorQuote(*view);
    EXPECT_EQ(quoted.size(), std::min<std::size_t>(packet.size(), 1232)) << payload_len;
    Bytes message(kIcmpv6HeaderLen + quoted.size());
    ASSERT_EQ(WriteIcmpv6DestinationUnreachable(Icmpv6UnreachableCode::kPort, quoted, kSrc, kDst,
                                                message),
              message.size());
    EXPECT_LE(kIpv6HeaderLen + message.size(), kIpv6MinMtu);
    const Parsed<Icmpv6View> error = Icmpv6View::Parse(message);
    EXPECT_EQ(error->type(), Icmpv6Type::kDestinationUnreachable);
    EXPECT_EQ(error->code(), 4);
    EXPECT_EQ(LoadBe32(&message[4]), 0u);
    EXPECT_TRUE(error->checksum_valid(kSrc, kDst));
    EXPECT_TRUE(std::equal(quoted.begin(), quoted.end(), error->payload().begin()));
  }
}

// --- Neighbor Discovery -----------------------------------------------------------------------

TEST(NeighborDiscoveryTest, SolicitationHasTheRfc4861Layout) {
  const NeighborSolicitationRepr repr{*Ipv6Address::Parse("2001:db8::2"), kMac};
  Bytes message(NeighborSolicitationLen(repr));
  ASSERT_EQ(message.size(), 32u);
  ASSERT_EQ(WriteNeighborSolicitation(repr, kSrc, SolicitedNodeMulticast(repr.target), message),
            32u);
  EXPECT_EQ(message[0], 135);
  EXPECT_EQ(message[1], 0);
  EXPECT_EQ(LoadBe32(&message[4]), 0u);  // reserved
  EXPECT_EQ(Ipv6Address::FromBytes(&message[8]), repr.target);
  EXPECT_EQ((Bytes(message.begin() + 24, message.end())), (Bytes{1, 1, 0x02, 0, 0, 0, 0, 0x01}));
  const Parsed<Icmpv6View> icmp = Icmpv6View::Parse(message);
  EXPECT_TRUE(icmp->checksum_valid(kSrc, SolicitedNodeMulticast(repr.target)));
  const Parsed<NeighborSolicitationView> view = NeighborSolicitationView::Parse(message);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->Repr(), repr);
}

TEST(NeighborDiscoveryTest, AdvertisementCarriesItsFlags) {
  const NeighborAdvertisementRepr repr{true, false, true, *Ipv6Address::Parse("fe80::1"), kMac};
  Bytes message(NeighborAdvertisementLen(repr));
  ASSERT_EQ(WriteNeighborAdvertisement(repr, kSrc, Ipv6Address::AllNodes(), message), 32u);
  EXPECT_EQ(message[0], 136);
  EXPECT_EQ(message[4], 0xa0);  // R and O; S clear
  EXPECT_EQ(message[24], 2);    // target link-layer address option
  const Parsed<NeighborAdvertisementView> view = NeighborAdvertisementView::Parse(message);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_TRUE(view->router());
  EXPECT_FALSE(view->solicited());
  EXPECT_TRUE(view->override_flag());
  EXPECT_EQ(view->Repr(), repr);
  EXPECT_TRUE(Icmpv6View::Parse(message)->checksum_valid(kSrc, Ipv6Address::AllNodes()));
}

TEST(NeighborDiscoveryTest, RandomMessagesRoundTrip) {
  Rng rng(4861);
  for (int i = 0; i < 2000; ++i) {
    const Ipv6Address src = RandomIpv6(rng);
    const Ipv6Address dst = RandomIpv6(rng);
    NeighborSolicitationRepr solicitation{RandomIpv6(rng), std::nullopt};
    if (RandomBool(rng)) solicitation.source_link_layer_address = RandomMac(rng);
    Bytes ns(NeighborSolicitationLen(solicitation));
    ASSERT_EQ(WriteNeighborSolicitation(solicitation, src, dst, ns), ns.size());
    EXPECT_TRUE(Icmpv6View::Parse(ns)->checksum_valid(src, dst));
    EXPECT_EQ(NeighborSolicitationView::Parse(ns)->Repr(), solicitation);

    NeighborAdvertisementRepr advertisement{RandomBool(rng), RandomBool(rng), RandomBool(rng),
                                            RandomIpv6(rng), std::nullopt};
    if (RandomBool(rng)) advertisement.target_link_layer_address = RandomMac(rng);
    Bytes na(NeighborAdvertisementLen(advertisement));
    ASSERT_EQ(WriteNeighborAdvertisement(advertisement, src, dst, na), na.size());
    EXPECT_TRUE(Icmpv6View::Parse(na)->checksum_valid(src, dst));
    EXPECT_EQ(NeighborAdvertisementView::Parse(na)->Repr(), advertisement);
  }
}

TEST(NeighborDiscoveryTest, OptionsAreWalkedAndCheckedBeforeReading) {
  const Bytes source = {1, 1, 2, 0, 0, 0, 0, 0xaa};
  const Bytes target = {2, 1, 2, 0, 0, 0, 0, 0xbb};
  const Bytes unknown = {14, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};  // a nonce, 16 B
  auto join = [](std::initializer_list<Bytes> parts) {
    Bytes all;
    for (const Bytes& part : parts) all.insert(all.end(), part.begin(), part.end());
    return all;
  };
  const Parsed<NdLinkLayerOptions> both = ParseNdOptions(join({unknown, target, source}));
  ASSERT_TRUE(both.ok()) << both.error();
  EXPECT_EQ(both->source_link_layer_address, MacAddress::Parse("02:00:00:00:00:aa"));
  EXPECT_EQ(both->target_link_layer_address, MacAddress::Parse("02:00:00:00:00:bb"));
  // The first of a kind counts.
  Bytes second = source;
  second[7] = 0xcc;
  EXPECT_EQ(ParseNdOptions(join({source, second}))->source_link_layer_address,
            MacAddress::Parse("02:00:00:00:00:aa"));
  EXPECT_TRUE(ParseNdOptions({}).ok());

  // RFC 4861 4.6: length 0 is malformed, even for an option the receiver does not know.
  EXPECT_EQ(ParseNdOptions(Bytes{14, 0, 0, 0, 0, 0, 0, 0}).error(),
            ParseError::kNdOptionZeroLength);
  EXPECT_EQ(ParseNdOptions(join({source, Bytes{1, 0}})).error(), ParseError::kNdOptionZeroLength);
  EXPECT_EQ(ParseNdOptions(Bytes{1}).error(), ParseError::kNdOptionPastEnd);
  EXPECT_EQ(ParseNdOptions(Bytes{14, 2, 0, 0, 0, 0, 0, 0}).error(), ParseError::kNdOptionPastEnd);
  EXPECT_EQ(ParseNdOptions(Bytes(source.begin(), source.begin() + 7)).error(),
            ParseError::kNdOptionPastEnd);
  Bytes long_source(16, 0);
  long_source[0] = 1;
  long_source[1] = 2;
  EXPECT_EQ(ParseNdOptions(long_source).error(), ParseError::kNdOptionWrongLength);
}

TEST(NeighborDiscoveryTest, MessagesRefuseTruncationAndBadOptions) {
  const NeighborSolicitationRepr repr{*Ipv6Address::Parse("2001:db8::2"), kMac};
  Bytes message(NeighborSolicitationLen(repr));
  WriteNeighborSolicitation(repr, kSrc, kDst, message);
  for (std::size_t len = 0; len <= message.size(); ++len) {
    const Bytes prefix(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(len));
    const ParseError expected = len < kNeighborMessageLen ? ParseError::kTruncatedHeader
                                : len == kNeighborMessageLen || len == message.size()
                                    ? ParseError::kNone
                                    : ParseError::kNdOptionPastEnd;
    EXPECT_EQ(NeighborSolicitationView::Parse(prefix).error(), expected) << len;
    EXPECT_EQ(NeighborAdvertisementView::Parse(prefix).error(), expected) << len;
  }
  message[25] = 0;  // option length 0
  EXPECT_EQ(NeighborSolicitationView::Parse(message).error(), ParseError::kNdOptionZeroLength);
  EXPECT_EQ(NeighborAdvertisementView::Parse(message).error(), ParseError::kNdOptionZeroLength);
}

TEST(NeighborDiscoveryTest, WritersRefuseShortBuffers) {
  const NeighborAdvertisementRepr repr{false, true, false, kDst, kMac};
  Bytes out(31, 0xee);
  EXPECT_EQ(WriteNeighborAdvertisement(repr, kSrc, kDst, out), 0u);
  EXPECT_EQ(WriteNeighborSolicitation({kDst, kMac}, kSrc, kDst, out), 0u);
  EXPECT_EQ(out, Bytes(31, 0xee));
}

}  // namespace
}  // namespace tapstack::wire
