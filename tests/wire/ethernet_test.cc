// EthernetView and WriteEthernet.
#include "stack/wire/ethernet.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "tests/wire/random_wire.h"

namespace tapstack::wire {
namespace {

using testing::RandomBytes;
using testing::RandomEthernetRepr;
using testing::RandomInt;
using testing::Rng;

TEST(EthernetTest, ParsesKnownFrame) {
  const std::vector<std::uint8_t> frame = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // destination
                                           0x02, 0x00, 0x00, 0x00, 0x00, 0x01,  // source
                                           0x08, 0x06,                          // ARP
                                           0xaa, 0xbb};
  const Parsed<EthernetView> view = EthernetView::Parse(frame);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->dst(), MacAddress::Broadcast());
  EXPECT_EQ(view->src(), MacAddress({0x02, 0, 0, 0, 0, 0x01}));
  EXPECT_EQ(view->ethertype(), EtherType::kArp);
  EXPECT_EQ(std::vector<std::uint8_t>(view->payload().begin(), view->payload().end()),
            (std::vector<std::uint8_t>{0xaa, 0xbb}));
  EXPECT_EQ(view->bytes().size(), frame.size());
}

TEST(EthernetTest, HeaderAloneHasEmptyPayload) {
  const std::vector<std::uint8_t> frame(kEthernetHeaderLen, 0);
  const Parsed<EthernetView> view = EthernetView::Parse(frame);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->payload().empty());
}

TEST(EthernetTest, RejectsShortFrames) {
  for (std::size_t len = 0; len < kEthernetHeaderLen; ++len) {
    const std::vector<std::uint8_t> frame(len, 0);
    const Parsed<EthernetView> view = EthernetView::Parse(frame);
    ASSERT_FALSE(view.ok());
    EXPECT_EQ(view.error(), ParseError::kTruncatedHeader);
  }
}

TEST(EthernetTest, WritesExactBytes) {
  std::vector<std::uint8_t> out(20, 0xee);
  const EthernetRepr repr{MacAddress({1, 2, 3, 4, 5, 6}), MacAddress({7, 8, 9, 10, 11, 12}),
                          EtherType::kIpv4};
  ASSERT_EQ(WriteEthernet(repr, out), kEthernetHeaderLen);
  EXPECT_EQ(out,
            (std::vector<std::uint8_t>{1,  2,  3,    4,    5,    6,    7,    8,    9,    10,
                                       11, 12, 0x08, 0x00, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee}));
}

TEST(EthernetTest, WriteIntoShortBufferWritesNothing) {
  std::vector<std::uint8_t> out(kEthernetHeaderLen - 1, 0xee);
  EXPECT_EQ(WriteEthernet(EthernetRepr{}, out), 0u);
  EXPECT_EQ(out, std::vector<std::uint8_t>(kEthernetHeaderLen - 1, 0xee));
}

TEST(EthernetTest, RoundTripsRandomHeaders) {
  Rng rng(894);
  for (int i = 0; i < 2000; ++i) {
    const EthernetRepr repr = RandomEthernetRepr(rng);
    const std::vector<std::uint8_t> payload = RandomBytes(rng, RandomInt<std::size_t>(rng, 0, 64));
    std::vector<std::uint8_t> frame(kEthernetHeaderLen + payload.size());
    ASSERT_EQ(WriteEthernet(repr, frame), kEthernetHeaderLen);
    std::copy(payload.begin(), payload.end(), frame.begin() + kEthernetHeaderLen);
    const Parsed<EthernetView> view = EthernetView::Parse(frame);
    ASSERT_TRUE(view.ok()) << view.error();
    EXPECT_EQ(view->Repr(), repr);
    EXPECT_TRUE(
        std::equal(view->payload().begin(), view->payload().end(), payload.begin(), payload.end()));
  }
}

}  // namespace
}  // namespace tapstack::wire
