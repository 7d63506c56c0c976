#include "stack/tcp/isn.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <set>

#include "stack/tcp/seq.h"
#include "stack/tcp/siphash.h"

namespace tapstack::tcp {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;

constexpr std::array<std::uint8_t, 16> kSecret = {0x3b, 0x51, 0xf0, 0x2d, 0x11, 0x22, 0x33, 0x44,
                                                  0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc};
// IPv4 addresses enter the hash IPv4-mapped (::ffff:10.0.0.1), so one generator serves both
// families.
constexpr wire::Ipv6Address kLocalIp = wire::Ipv4MappedAddress(wire::Ipv4Address(10, 0, 0, 1));
constexpr wire::Ipv6Address kRemoteIp = wire::Ipv4MappedAddress(wire::Ipv4Address(10, 0, 0, 2));
constexpr wire::Ipv6Address kLocalIpv6 =
    wire::Ipv6Address::FromGroups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1});

// `address` with its last octet one higher.
wire::Ipv6Address Next(wire::Ipv6Address address) {
  wire::Ipv6Address::Octets octets = address.octets();
  ++octets[15];
  return wire::Ipv6Address(octets);
}

TEST(IsnGeneratorTest, IsTheClockPlusTheKeyedHashOfTheTuple) {
  const IsnGenerator generator(kSecret);
  // ::ffff:10.0.0.1 port 80 -> ::ffff:10.0.0.2 port 40000, in network byte order.
  const std::array<std::uint8_t, 36> tuple = {
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1, 0,    80,  //
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2, 0x9c, 0x40};
  const auto hash = static_cast<std::uint32_t>(SipHash24(kSecret, tuple));
  EXPECT_EQ(generator.Generate(kLocalIp, 80, kRemoteIp, 40000, Duration::zero()), Seq(hash));
  EXPECT_EQ(generator.Generate(kLocalIp, 80, kRemoteIp, 40000, microseconds(400)), Seq(hash) + 100);
}

TEST(IsnGeneratorTest, DeterministicForAFixedSecret) {
  const IsnGenerator first(kSecret);
  const IsnGenerator second(kSecret);
  const Duration now = seconds(12345);
  EXPECT_EQ(first.Generate(kLocalIp, 80, kRemoteIp, 40000, now),
            second.Generate(kLocalIp, 80, kRemoteIp, 40000, now));
  EXPECT_EQ(first.Generate(kLocalIp, 80, kRemoteIp, 40000, now),
            first.Generate(kLocalIp, 80, kRemoteIp, 40000, now));
}

TEST(IsnGeneratorTest, EveryFieldOfTheTupleChangesTheIsn) {
  const IsnGenerator generator(kSecret);
  const Duration now = seconds(7);
  const Seq base = generator.Generate(kLocalIp, 80, kRemoteIp, 40000, now);
  EXPECT_NE(generator.Generate(Next(kLocalIp), 80, kRemoteIp, 40000, now), base);
  EXPECT_NE(generator.Generate(kLocalIp, 81, kRemoteIp, 40000, now), base);
  EXPECT_NE(generator.Generate(kLocalIp, 80, Next(kRemoteIp), 40000, now), base);
  EXPECT_NE(generator.Generate(kLocalIp, 80, kRemoteIp, 40001, now), base);
  // Swapping the ends is a different connection too.
  EXPECT_NE(generator.Generate(kRemoteIp, 40000, kLocalIp, 80, now), base);
  // So is an IPv6 address in place of the IPv4 one: every octet of it enters the hash.
  EXPECT_NE(generator.Generate(kLocalIpv6, 80, kRemoteIp, 40000, now), base);
  wire::Ipv6Address::Octets high_octet_changed = kLocalIpv6.octets();
  high_octet_changed[0] ^= 1;
  EXPECT_NE(generator.Generate(high_octet_changed, 80, kRemoteIp, 40000, now),
            generator.Generate(kLocalIpv6, 80, kRemoteIp, 40000, now));
}

TEST(IsnGeneratorTest, DifferentTuplesGiveDifferentIsns) {
  const IsnGenerator generator(kSecret);
  std::set<std::uint32_t> seen;
  for (std::uint16_t port = 40000; port < 42000; ++port) {
    seen.insert(generator.Generate(kLocalIp, 80, kRemoteIp, port, seconds(1)).value());
  }
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(IsnGeneratorTest, AdvancesWithTimeAt250000PerSecond) {
  const IsnGenerator generator(kSecret);
  const Duration start = seconds(100);
  const Seq at_start = generator.Generate(kLocalIp, 80, kRemoteIp, 40000, start);
  EXPECT_EQ(generator.Generate(kLocalIp, 80, kRemoteIp, 40000, start + seconds(1)) - at_start,
            250'000u);
  EXPECT_EQ(generator.Generate(kLocalIp, 80, kRemoteIp, 40000, start + microseconds(4)) - at_start,
            1u);
  // Within one 4-microsecond tick the ISN stays put.
  EXPECT_EQ(generator.Generate(kLocalIp, 80, kRemoteIp, 40000, start + microseconds(3)), at_start);
}

TEST(IsnGeneratorTest, ClockWrapsModuloTwoToThe32) {
  const IsnGenerator generator(kSecret);
  // 2^32 ticks of 4 us (about 4.77 hours) bring M back to where it started.
  const Duration cycle = microseconds(4) * (std::int64_t{1} << 32);
  EXPECT_EQ(generator.Generate(kLocalIp, 80, kRemoteIp, 40000, seconds(5) + cycle),
            generator.Generate(kLocalIp, 80, kRemoteIp, 40000, seconds(5)));
}

TEST(IsnGeneratorTest, DifferentSecretsDiffer) {
  std::array<std::uint8_t, 16> other = kSecret;
  other[15] ^= 1;
  const Duration now = seconds(3);
  EXPECT_NE(IsnGenerator(kSecret).Generate(kLocalIp, 80, kRemoteIp, 40000, now),
            IsnGenerator(other).Generate(kLocalIp, 80, kRemoteIp, 40000, now));
}

}  // namespace
}  // namespace tapstack::tcp
