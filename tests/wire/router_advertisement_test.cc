// Router advertisements (RFC 4861 4.2, 4.6): what the writer writes the view reads back, every
// option length checked before it is read, and the checksum valid.
#include "stack/wire/router_advertisement.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "stack/wire/icmpv6.h"

namespace tapstack::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

const Ipv6Address kRouter = *Ipv6Address::Parse("fe80::1");

RouterAdvertisementRepr Sample() {
  RouterAdvertisementRepr repr;
  repr.cur_hop_limit = 64;
  repr.managed = true;
  repr.router_lifetime_s = 1800;
  repr.reachable_time_ms = 30'000;
  repr.retrans_timer_ms = 1'000;
  repr.source_link_layer_address = *MacAddress::Parse("02:00:00:00:00:fe");
  repr.mtu = 1480;
  repr.prefixes.push_back({*Ipv6Address::Parse("2001:db8:1::"), 64, true, true, 0xffffffff, 600});
  repr.prefixes.push_back({*Ipv6Address::Parse("2001:db8:2::"), 48, true, false, 86400, 0});
  return repr;
}

Bytes Written(const RouterAdvertisementRepr& repr) {
  Bytes message(RouterAdvertisementLen(repr));
  EXPECT_EQ(WriteRouterAdvertisement(repr, kRouter, Ipv6Address::AllNodes(), message),
            message.size());
  return message;
}

TEST(RouterAdvertisementTest, RoundTripsEveryFieldAndOption) {
  const RouterAdvertisementRepr repr = Sample();
  const Bytes message = Written(repr);
  EXPECT_EQ(message.size(), 16u + 8 + 8 + 2 * 32);
  EXPECT_EQ(message[0], 134);
  EXPECT_EQ(message[5], 0x80) << "M set, O clear";
  const Parsed<RouterAdvertisementView> view = RouterAdvertisementView::Parse(message);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->Repr(), repr);
  const Parsed<Icmpv6View> icmp = Icmpv6View::Parse(message);
  ASSERT_TRUE(icmp.ok());
  EXPECT_TRUE(icmp->checksum_valid(kRouter, Ipv6Address::AllNodes()));
}

TEST(RouterAdvertisementTest, WriterRefusesTooSmallBuffer) {
  Bytes message(RouterAdvertisementLen(Sample()) - 1, 0xaa);
  EXPECT_EQ(WriteRouterAdvertisement(Sample(), kRouter, Ipv6Address::AllNodes(), message), 0u);
  EXPECT_EQ(message, Bytes(message.size(), 0xaa)) << "nothing written";
}

TEST(RouterAdvertisementTest, UnknownOptionsAreSkipped) {
  RouterAdvertisementRepr repr;
  repr.router_lifetime_s = 600;
  Bytes message = Written(repr);
  // RFC 4861 4.6: an option of an unknown type (here 25, RDNSS, 24 bytes) is skipped.
  const Bytes rdnss = {25, 3, 0, 0, 0, 0, 0, 60, 0x20, 1, 0x0d, 0xb8,
                       0,  0, 0, 0, 0, 0, 0, 0,  0,    0, 0,    1};
  message.insert(message.end(), rdnss.begin(), rdnss.end());
  const Parsed<RouterAdvertisementView> view = RouterAdvertisementView::Parse(message);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->Repr(), repr);
}

TEST(RouterAdvertisementTest, MalformedMessagesAreRefusedWithTheirReason) {
  const Bytes good = Written(Sample());
  EXPECT_EQ(RouterAdvertisementView::Parse(std::span(good).first(15)).error(),
            ParseError::kTruncatedHeader);
  // The first option (link-layer address at 16) with length 0, too long, or 2 units.
  Bytes zero = good;
  zero[17] = 0;
  EXPECT_EQ(RouterAdvertisementView::Parse(zero).error(), ParseError::kNdOptionZeroLength);
  Bytes past = good;
  past[17] = 40;
  EXPECT_EQ(RouterAdvertisementView::Parse(past).error(), ParseError::kNdOptionPastEnd);
  Bytes wrong = good;
  wrong[17] = 2;  // now covers the MTU option too: a 16-byte link-layer address
  EXPECT_EQ(RouterAdvertisementView::Parse(wrong).error(), ParseError::kNdOptionWrongLength);
  // A prefix information option of 3 units instead of 4 (at 32), and one cut short.
  Bytes short_prefix = good;
  short_prefix[33] = 3;
  EXPECT_EQ(RouterAdvertisementView::Parse(short_prefix).error(), ParseError::kNdOptionWrongLength);
  EXPECT_EQ(RouterAdvertisementView::Parse(std::span(good).first(good.size() - 1)).error(),
            ParseError::kNdOptionPastEnd);
  // A single trailing byte where an option's type and length should be.
  Bytes trailing = good;
  trailing.push_back(1);
  EXPECT_EQ(RouterAdvertisementView::Parse(trailing).error(), ParseError::kNdOptionPastEnd);
}

}  // namespace
}  // namespace tapstack::wire
