// MemoryLink: order, readiness at the time sent, the bounded queue and its counted drops.
#include "tap/memory_link.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "stack/wire/checksum.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ip_protocol.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/tcp.h"
#include "tests/tap/test_frames.h"

namespace tapstack::tap {
namespace {

using std::chrono::milliseconds;
using test_frames::MakeFrame;
using test_frames::SeqOf;

const timers::TimePoint kT0 = timers::TimePoint{} + std::chrono::hours(1);

// Receives everything ready at `now`, returning the sequence numbers in order.
std::vector<std::uint64_t> ReceiveAll(Device& device, timers::TimePoint now) {
  std::vector<std::uint8_t> buffer(MaxFrameSize(device.mtu()));
  std::vector<std::uint64_t> seqs;
  for (;;) {
    Result<std::size_t> n = device.Receive(buffer, now);
    EXPECT_TRUE(n.ok()) << n.error().message();
    if (!n.ok() || *n == 0) return seqs;
    seqs.push_back(SeqOf(std::span(buffer.data(), *n)));
  }
}

TEST(MemoryLinkTest, DeliversInOrderToThePeer) {
  auto [a, b] = MemoryLink::CreatePair();
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_FALSE(a->Send(MakeFrame(i), kT0));
  EXPECT_TRUE(ReceiveAll(*a, kT0).empty()) << "a frame came back to its sender";
  std::vector<std::uint64_t> seqs = ReceiveAll(*b, kT0);
  ASSERT_EQ(seqs.size(), 100u);
  for (std::uint64_t i = 0; i < 100; ++i) EXPECT_EQ(seqs[i], i);
  EXPECT_EQ(a->stats().frames_sent, 100u);
  EXPECT_EQ(a->stats().bytes_sent, 6400u);
  EXPECT_EQ(b->stats().frames_received, 100u);
  EXPECT_EQ(b->stats().bytes_received, 6400u);
  EXPECT_EQ(a->poll_fd(), -1);
}

TEST(MemoryLinkTest, DirectionsAreIndependent) {
  auto [a, b] = MemoryLink::CreatePair();
  ASSERT_FALSE(a->Send(MakeFrame(1), kT0));
  ASSERT_FALSE(b->Send(MakeFrame(2), kT0));
  EXPECT_EQ(ReceiveAll(*a, kT0), std::vector<std::uint64_t>{2});
  EXPECT_EQ(ReceiveAll(*b, kT0), std::vector<std::uint64_t>{1});
}

TEST(MemoryLinkTest, FrameIsReadyAtTheTimeItWasSent) {
  auto [a, b] = MemoryLink::CreatePair();
  EXPECT_EQ(b->NextReadyTime(), std::nullopt);
  ASSERT_FALSE(a->Send(MakeFrame(7), kT0 + milliseconds(10)));
  EXPECT_EQ(b->NextReadyTime(), kT0 + milliseconds(10));
  EXPECT_TRUE(ReceiveAll(*b, kT0).empty());
  EXPECT_EQ(ReceiveAll(*b, kT0 + milliseconds(10)), std::vector<std::uint64_t>{7});
  EXPECT_EQ(b->NextReadyTime(), std::nullopt);
}

TEST(MemoryLinkTest, QueueIsBoundedAndDropsAreCounted) {
  auto [a, b] = MemoryLink::CreatePair(1500, 4);
  for (std::uint64_t i = 0; i < 6; ++i) ASSERT_FALSE(a->Send(MakeFrame(i), kT0));
  EXPECT_EQ(a->stats().frames_sent, 4u);
  EXPECT_EQ(a->stats().tx_dropped_queue_full, 2u);
  EXPECT_EQ(ReceiveAll(*b, kT0), (std::vector<std::uint64_t>{0, 1, 2, 3}));
  // Reading made room again.
  ASSERT_FALSE(a->Send(MakeFrame(9), kT0));
  EXPECT_EQ(ReceiveAll(*b, kT0), std::vector<std::uint64_t>{9});
  EXPECT_EQ(a->stats().tx_dropped_queue_full, 2u);
}

TEST(MemoryLinkTest, RejectsFramesOfImpossibleSize) {
  auto [a, b] = MemoryLink::CreatePair(1500);
  std::vector<std::uint8_t> runt(13);
  std::vector<std::uint8_t> giant(MaxFrameSize(1500) + 1);
  EXPECT_EQ(a->Send(runt, kT0), std::errc::invalid_argument);
  EXPECT_EQ(a->Send(giant, kT0), std::errc::message_size);
  EXPECT_FALSE(a->Send(MakeFrame(0, MaxFrameSize(1500)), kT0));
  EXPECT_EQ(a->stats().tx_dropped_invalid, 2u);
  EXPECT_EQ(a->stats().frames_sent, 1u);
}

TEST(MemoryLinkTest, FrameTooBigForTheBufferIsDroppedAndTheNextOneReturned) {
  auto [a, b] = MemoryLink::CreatePair();
  ASSERT_FALSE(a->Send(MakeFrame(1, 200), kT0));
  ASSERT_FALSE(a->Send(MakeFrame(2, 64), kT0));
  std::vector<std::uint8_t> small(100);
  Result<std::size_t> n = b->Receive(small, kT0);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 64u);
  EXPECT_EQ(SeqOf(small), 2u);
  EXPECT_EQ(b->stats().rx_dropped_too_big, 1u);
}

TEST(MemoryLinkTest, SendingToADestroyedPeerCountsLinkDown) {
  auto [a, b] = MemoryLink::CreatePair();
  b.reset();
  EXPECT_FALSE(a->Send(MakeFrame(1), kT0));
  EXPECT_EQ(a->stats().tx_dropped_link_down, 1u);
  EXPECT_EQ(a->stats().frames_sent, 0u);
}

// A link with transmit offloads takes a TCP super-segment with a partial checksum and delivers
// the MSS-sized, checksummed segments a TSO device would put on the wire.
TEST(MemoryLinkTest, LinkWithTxOffloadsCutsSuperSegmentsInSoftware) {
  auto [a, b] = MemoryLink::CreatePair(1500, MemoryLink::kDefaultQueueLimit, /*tx_offloads=*/true);
  EXPECT_EQ(a->capabilities().max_tcp_segment_offload, kMaxTcpSegmentOffload);
  EXPECT_TRUE(a->capabilities().tx_checksum_offload);
  const wire::Ipv4Address src(0xc0000202), dst(0xc0000201);
  const std::vector<std::uint8_t> payload(5000, 0x42);
  const wire::TcpRepr tcp{.src_port = 1,
                          .dst_port = 2,
                          .seq = 100,
                          .flags = wire::TcpFlags::kAck,
                          .window = 1000,
                          .payload = payload};
  std::vector<std::uint8_t> frame(14 + 20 + 20 + payload.size());
  wire::WriteEthernet(
      wire::EthernetRepr{wire::MacAddress(), wire::MacAddress(), wire::EtherType::kIpv4}, frame);
  wire::WriteIpv4Header(wire::Ipv4Repr{.src = src,
                                       .dst = dst,
                                       .protocol = wire::IpProtocol::kTcp,
                                       .payload_len = static_cast<std::uint16_t>(20 + 5000)},
                        std::span(frame).subspan(14));
  wire::WriteTcp(tcp, src, dst, std::span(frame).subspan(34), wire::TcpChecksum::kPartial);
  ASSERT_FALSE(a->SendWithOffload(
      frame, TxOffload{.tcp_segment_size = 1460, .tcp_checksum_partial = true}, kT0));
  EXPECT_EQ(a->stats().frames_sent, 4u);
  EXPECT_EQ(a->stats().tx_software_offloaded, 4u);
  std::vector<std::uint8_t> buffer(MaxFrameSize(1500));
  std::size_t received = 0;
  for (int i = 0; i < 4; ++i) {
    Result<std::size_t> n = b->Receive(buffer, kT0);
    ASSERT_TRUE(n.ok());
    const std::size_t length = i < 3 ? 1460 : 5000 - 3 * 1460;
    ASSERT_EQ(*n, 54 + length);
    EXPECT_EQ(wire::TransportChecksum(src, dst, wire::IpProtocol::kTcp,
                                      std::span(buffer).subspan(34, 20 + length)),
              0);
    received += length;
  }
  EXPECT_EQ(received, payload.size());
  EXPECT_EQ(*b->Receive(buffer, kT0), 0u);
  // A frame the offload cannot apply to is a counted drop with EINVAL, nothing delivered.
  std::vector<std::uint8_t> not_tcp = frame;
  not_tcp[14 + 9] = wire::IpProtocol::kUdp;
  EXPECT_EQ(a->SendWithOffload(not_tcp, TxOffload{.tcp_segment_size = 1460}, kT0),
            std::errc::invalid_argument);
  EXPECT_EQ(a->stats().tx_dropped_invalid, 1u);
  EXPECT_EQ(*b->Receive(buffer, kT0), 0u);
}

}  // namespace
}  // namespace tapstack::tap
