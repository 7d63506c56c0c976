// MacAddress, Ipv4Address and the big-endian load/store helpers.
#include "stack/wire/bytes.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash_testing.h"

namespace tapstack::wire {
namespace {

TEST(ByteOrderTest, LoadsAndStoresBigEndian) {
  std::array<std::uint8_t, 4> bytes{};
  StoreBe16(bytes.data(), 0x1234);
  EXPECT_EQ(bytes[0], 0x12);
  EXPECT_EQ(bytes[1], 0x34);
  EXPECT_EQ(LoadBe16(bytes.data()), 0x1234);
  StoreBe32(bytes.data(), 0xdeadbeef);
  EXPECT_EQ(bytes, (std::array<std::uint8_t, 4>{0xde, 0xad, 0xbe, 0xef}));
  EXPECT_EQ(LoadBe32(bytes.data()), 0xdeadbeefu);
  static_assert(LoadBe16(std::array<std::uint8_t, 2>{0xff, 0x01}.data()) == 0xff01);
}

TEST(MacAddressTest, FormatsLowerCaseWithLeadingZeros) {
  const MacAddress address({0x02, 0x00, 0x00, 0x0a, 0xbc, 0x01});
  EXPECT_EQ(address.ToString(), "02:00:00:0a:bc:01");
  std::ostringstream out;
  out << address;
  EXPECT_EQ(out.str(), "02:00:00:0a:bc:01");
}

TEST(MacAddressTest, ParsesWhatItPrints) {
  EXPECT_EQ(MacAddress::Parse("02:00:00:00:00:01"),
            MacAddress({0x02, 0x00, 0x00, 0x00, 0x00, 0x01}));
  EXPECT_EQ(MacAddress::Parse("FF:ff:Ff:fF:ff:ff"), MacAddress::Broadcast());
  EXPECT_EQ(MacAddress::Parse("2:0:0:0:0:a1"), MacAddress({0x02, 0, 0, 0, 0, 0xa1}));
}

TEST(MacAddressTest, RejectsMalformedText) {
  for (const char* text : {"", "02:00:00:00:00", "02:00:00:00:00:01:", "02:00:00:00:00:01:02",
                           "002:00:00:00:00:01", "02-00-00-00-00-01", "02:00:00:00:00:0g",
                           "02::00:00:00:01", " 02:00:00:00:00:01", "02:00:00:00:00:01 "}) {
    EXPECT_EQ(MacAddress::Parse(text), std::nullopt) << text;
  }
}

TEST(MacAddressTest, ClassifiesBroadcastAndMulticast) {
  EXPECT_TRUE(MacAddress::Broadcast().IsBroadcast());
  EXPECT_TRUE(MacAddress::Broadcast().IsMulticast());
  const MacAddress multicast({0x01, 0x00, 0x5e, 0x00, 0x00, 0x01});
  EXPECT_TRUE(multicast.IsMulticast());
  EXPECT_FALSE(multicast.IsBroadcast());
  const MacAddress unicast({0x02, 0x00, 0x00, 0x00, 0x00, 0x01});
  EXPECT_FALSE(unicast.IsMulticast());
  EXPECT_FALSE(unicast.IsBroadcast());
}

TEST(MacAddressTest, ReadsAndWritesBytes) {
  const std::uint8_t bytes[] = {9, 1, 2, 3, 4, 5, 6, 9};
  const MacAddress address = MacAddress::FromBytes(bytes + 1);
  EXPECT_EQ(address, MacAddress({1, 2, 3, 4, 5, 6}));
  std::uint8_t out[6] = {};
  address.ToBytes(out);
  EXPECT_EQ(MacAddress::FromBytes(out), address);
}

TEST(Ipv4AddressTest, HoldsHostOrderValue) {
  const Ipv4Address address(10, 0, 0, 1);
  EXPECT_EQ(address.value(), 0x0a000001u);
  EXPECT_EQ(address, Ipv4Address(0x0a000001));
  EXPECT_EQ(address.ToBytes(), (Ipv4Address::Octets{10, 0, 0, 1}));
  EXPECT_EQ(Ipv4Address::FromBytes(Ipv4Address::Octets{10, 0, 0, 1}), address);
  EXPECT_EQ(address.ToString(), "10.0.0.1");
  EXPECT_EQ(Ipv4Address(0xffffffff).ToString(), "255.255.255.255");
  EXPECT_EQ(Ipv4Address().ToString(), "0.0.0.0");
}

TEST(Ipv4AddressTest, ParsesDottedDecimal) {
  EXPECT_EQ(Ipv4Address::Parse("10.0.0.1"), Ipv4Address(10, 0, 0, 1));
  EXPECT_EQ(Ipv4Address::Parse("255.255.255.255"), Ipv4Address(0xffffffff));
  EXPECT_EQ(Ipv4Address::Parse("0.0.0.0"), Ipv4Address());
  EXPECT_EQ(Ipv4Address::Parse("192.168.100.200"), Ipv4Address(192, 168, 100, 200));
}

TEST(Ipv4AddressTest, RejectsMalformedText) {
  for (const char* text :
       {"", "1.2.3", "1.2.3.4.", "1.2.3.4.5", "256.0.0.1", "1.2.3.1000", "01.2.3.4", "1..3.4",
        " 1.2.3.4", "1.2.3.4 ", "a.b.c.d", "-1.2.3.4", "1.2.3.4/24"}) {
    EXPECT_EQ(Ipv4Address::Parse(text), std::nullopt) << text;
  }
}

TEST(Ipv4AddressTest, OrdersByNumericValue) {
  EXPECT_LT(Ipv4Address(9, 255, 255, 255), Ipv4Address(10, 0, 0, 0));
  EXPECT_FALSE(Ipv4Address(10, 0, 0, 1) < Ipv4Address(10, 0, 0, 1));
}

TEST(Ipv4AddressTest, ComparesSubnetPrefixes) {
  const Ipv4Address a(10, 0, 0, 1);
  EXPECT_TRUE(a.InSameSubnet(Ipv4Address(10, 0, 0, 254), 24));
  EXPECT_FALSE(a.InSameSubnet(Ipv4Address(10, 0, 1, 1), 24));
  EXPECT_TRUE(a.InSameSubnet(Ipv4Address(10, 0, 1, 1), 23));
  EXPECT_TRUE(a.InSameSubnet(Ipv4Address(10, 0, 1, 1), 16));
  EXPECT_TRUE(a.InSameSubnet(Ipv4Address(192, 168, 0, 1), 0));
  EXPECT_TRUE(a.InSameSubnet(Ipv4Address(192, 168, 0, 1), -3));
  EXPECT_FALSE(a.InSameSubnet(Ipv4Address(10, 0, 0, 2), 32));
  EXPECT_FALSE(a.InSameSubnet(Ipv4Address(10, 0, 0, 2), 40));
  EXPECT_TRUE(a.InSameSubnet(a, 32));
  EXPECT_TRUE(Ipv4Address(128, 0, 0, 0).InSameSubnet(Ipv4Address(255, 0, 0, 0), 1));
  EXPECT_FALSE(Ipv4Address(127, 0, 0, 0).InSameSubnet(Ipv4Address(128, 0, 0, 0), 1));
}

TEST(Ipv4AddressTest, ClassifiesSpecialAddresses) {
  EXPECT_TRUE(Ipv4Address().IsUnspecified());
  EXPECT_TRUE(Ipv4Address(255, 255, 255, 255).IsBroadcast());
  EXPECT_TRUE(Ipv4Address(224, 0, 0, 1).IsMulticast());
  EXPECT_TRUE(Ipv4Address(239, 255, 255, 255).IsMulticast());
  EXPECT_FALSE(Ipv4Address(240, 0, 0, 1).IsMulticast());
  EXPECT_TRUE(Ipv4Address(127, 0, 0, 1).IsLoopback());
  EXPECT_FALSE(Ipv4Address(10, 0, 0, 1).IsLoopback());
}

TEST(AddressHashTest, ImplementsAbslHashCorrectly) {
  EXPECT_TRUE(absl::VerifyTypeImplementsAbslHashCorrectly({MacAddress(), MacAddress::Broadcast(),
                                                           MacAddress({2, 0, 0, 0, 0, 1}),
                                                           MacAddress({1, 0, 0, 0, 0, 2})}));
  EXPECT_TRUE(absl::VerifyTypeImplementsAbslHashCorrectly(
      {Ipv4Address(), Ipv4Address(10, 0, 0, 1), Ipv4Address(1, 0, 0, 10)}));
  absl::flat_hash_set<Ipv4Address> addresses = {Ipv4Address(10, 0, 0, 1), Ipv4Address(10, 0, 0, 1),
                                                Ipv4Address(10, 0, 0, 2)};
  EXPECT_EQ(addresses.size(), 2u);
  absl::flat_hash_set<MacAddress> macs = {MacAddress::Broadcast(), MacAddress::Broadcast()};
  EXPECT_EQ(macs.size(), 1u);
}

}  // namespace
}  // namespace tapstack::wire
