// SynCookies on its own: what a cookie remembers, how long it lives, and that it authenticates the
// connection and the client's ISN.
#include "stack/tcp/syn_cookie.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

namespace tapstack::tcp {
namespace {

using std::chrono::seconds;

// 192.0.2.2:80 <- 198.51.100.2:40000, IPv4-mapped as the engine passes IPv4 tuples.
constexpr SynCookieTuple kTuple{wire::Ipv4MappedAddress(wire::Ipv4Address(192, 0, 2, 2)), 80,
                                wire::Ipv4MappedAddress(wire::Ipv4Address(198, 51, 100, 2)), 40000};
constexpr std::uint32_t kClientIsn = 0x12345678;

SipHashKey Key(std::uint8_t first) {
  SipHashKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(first + i);
  return key;
}

TEST(SynCookies, RoundTripsMssAndWindowScale) {
  const SynCookies cookies(Key(1));
  const auto now = seconds(1000);
  const std::uint32_t cookie = cookies.Make(kTuple, kClientIsn, 1460, 7, now);
  EXPECT_EQ(cookies.Check(kTuple, cookie, kClientIsn, now),
            (SynCookieSyn{.mss = 1460, .window_scale = 7}));
  // No window scale option: the cookie says so (scaling stays off on both sides).
  const std::uint32_t unscaled = cookies.Make(kTuple, kClientIsn, 1460, std::nullopt, now);
  EXPECT_EQ(cookies.Check(kTuple, unscaled, kClientIsn, now), (SynCookieSyn{.mss = 1460}));
  // RFC 7323 2.3: shifts above 14 are taken as 14.
  const std::uint32_t huge = cookies.Make(kTuple, kClientIsn, 1460, 200, now);
  EXPECT_EQ(cookies.Check(kTuple, huge, kClientIsn, now)->window_scale, 14);
}

TEST(SynCookies, MssRoundsDownToTheTableNeverUp) {
  const SynCookies cookies(Key(1));
  const auto now = seconds(5);
  struct Case {
    std::optional<std::uint16_t> client_mss;
    std::uint16_t expected;
  };
  for (const Case c :
       {Case{1460, 1460}, Case{1459, 1452}, Case{9000, 1460}, Case{1300, 1200}, Case{536, 536},
        Case{535, 256}, Case{100, 64}, Case{10, 64}, Case{std::nullopt, 536}}) {
    const std::uint32_t cookie = cookies.Make(kTuple, kClientIsn, c.client_mss, 0, now);
    const auto syn = cookies.Check(kTuple, cookie, kClientIsn, now);
    ASSERT_TRUE(syn.has_value());
    EXPECT_EQ(syn->mss, c.expected) << "client MSS " << c.client_mss.value_or(0);
  }
}

TEST(SynCookies, ValidForOneToTwoPeriodsThenExpires) {
  const SynCookies cookies(Key(1));
  const auto made = SynCookies::kPeriod * 10 + seconds(63);  // the end of a period
  const std::uint32_t cookie = cookies.Make(kTuple, kClientIsn, 1460, 0, made);
  EXPECT_TRUE(cookies.Check(kTuple, cookie, kClientIsn, made).has_value());
  EXPECT_TRUE(cookies.Check(kTuple, cookie, kClientIsn, made + seconds(1)).has_value());
  EXPECT_TRUE(cookies.Check(kTuple, cookie, kClientIsn, made + seconds(64)).has_value());
  EXPECT_FALSE(cookies.Check(kTuple, cookie, kClientIsn, made + seconds(65)).has_value());
  // A cookie from the future (the clock never goes back; a forged one might claim it) fails.
  EXPECT_FALSE(cookies.Check(kTuple, cookie, kClientIsn, made - seconds(64)).has_value());
}

TEST(SynCookies, BoundToTupleClientIsnAndSecret) {
  const SynCookies cookies(Key(1));
  const auto now = seconds(100);
  const std::uint32_t cookie = cookies.Make(kTuple, kClientIsn, 1460, 0, now);
  SynCookieTuple other_port = kTuple;
  other_port.remote_port += 1;
  SynCookieTuple other_address = kTuple;
  other_address.remote_address = wire::Ipv4MappedAddress(wire::Ipv4Address(198, 51, 100, 3));
  EXPECT_FALSE(cookies.Check(other_port, cookie, kClientIsn, now).has_value());
  EXPECT_FALSE(cookies.Check(other_address, cookie, kClientIsn, now).has_value());
  EXPECT_FALSE(cookies.Check(kTuple, cookie, kClientIsn + 1, now).has_value());
  EXPECT_FALSE(SynCookies(Key(2)).Check(kTuple, cookie, kClientIsn, now).has_value());
  // Every bit of the authenticator matters.
  for (int bit = 7; bit < 32; ++bit) {
    EXPECT_FALSE(cookies.Check(kTuple, cookie ^ (1u << bit), kClientIsn, now).has_value())
        << "bit " << bit;
  }
}

TEST(SynCookies, BlindGuessesAlmostNeverPass) {
  // 25 authenticating bits: a blind attacker needs about 2^25 guesses per success (two counters
  // are accepted, so 2^24). 200,000 random guesses should find none (expected 0.012).
  const SynCookies cookies(Key(1));
  std::mt19937 rng(7);
  int accepted = 0;
  for (int i = 0; i < 200'000; ++i) {
    accepted += cookies.Check(kTuple, rng(), kClientIsn, seconds(1000)).has_value();
  }
  EXPECT_EQ(accepted, 0);
}

}  // namespace
}  // namespace tapstack::tcp
