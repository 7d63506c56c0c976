// What a device with receive offloads hands the stack, on the virtual clock: segments whose
// checksum the device vouched for (stack/rx_checksum.h) and TCP super-segments longer than the
// MSS (what Linux's TSO or GRO makes of several).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "stack/wire/bytes.h"
#include "tests/support/tcp_harness.h"

namespace tapstack::testing {
namespace {

using wire::TcpFlags;

constexpr std::uint16_t kPort = 8000;
constexpr std::uint32_t kPeerIss = 0x20000;
constexpr std::uint8_t kPA = TcpFlags::kPsh | TcpFlags::kAck;
// The TCP checksum field of an Ethernet/IPv4/TCP frame without IP options.
constexpr std::size_t kTcpChecksumAt = 14 + 20 + 16;

class OffloadInput : public ::testing::Test {
 protected:
  void SetUp() override { id_ = h_.EstablishPassive(kPort, kPeerIss); }

  // A data segment from the peer, next in sequence, with its checksum as the kernel leaves it
  // partial: the field holds something other than the full sum.
  Bytes PeerData(std::size_t length, bool partial_checksum) {
    wire::TcpRepr tcp;
    tcp.src_port = h_.peer_port();
    tcp.dst_port = kPort;
    tcp.seq = kPeerIss + 1 + peer_sent_;
    tcp.ack = h_.our_iss() + 1;
    tcp.flags = kPA;
    tcp.window = 65535;
    payload_.assign(length, 0);
    for (std::size_t i = 0; i < length; ++i) payload_[i] = static_cast<std::uint8_t>(i * 13);
    tcp.payload = payload_;
    Bytes frame = TcpFrame(TcpHarness::kPeerMac, TcpHarness::kPeerAddress, TcpHarness::kOurMac,
                           TcpHarness::kOurAddress, tcp);
    if (partial_checksum) {
      wire::StoreBe16(&frame[kTcpChecksumAt], wire::LoadBe16(&frame[kTcpChecksumAt]) ^ 0x5a5a);
    }
    return frame;
  }
  void Deliver(const Bytes& frame, RxChecksum checksum, std::size_t length) {
    h_.stack().Ingest(frame, h_.now(), checksum);
    peer_sent_ += static_cast<std::uint32_t>(length);
  }

  TcpHarness h_;
  tcp::ConnectionId id_;
  std::uint32_t peer_sent_ = 0;
  Bytes payload_;
};

TEST_F(OffloadInput, PartialChecksumIsTakenUncheckedOnlyWhenTheDeviceSaysSo) {
  const Bytes frame = PeerData(100, /*partial_checksum=*/true);
  h_.stack().Ingest(frame, h_.now());  // a plain device: checked, and wrong
  EXPECT_EQ(h_.Count(Counter::kDropTcpBadChecksum), 1u);
  EXPECT_EQ(h_.ReadAll(id_), "");
  Deliver(frame, RxChecksum::kPartial, 100);
  EXPECT_EQ(h_.Count(Counter::kDropTcpBadChecksum), 1u);
  EXPECT_EQ(h_.Count(Counter::kRxTcpChecksumOffloaded), 1u);
  EXPECT_EQ(h_.ReadAll(id_), std::string(payload_.begin(), payload_.end()));
}

TEST_F(OffloadInput, VerifiedChecksumIsNotCheckedAgain) {
  Deliver(PeerData(100, /*partial_checksum=*/false), RxChecksum::kVerified, 100);
  EXPECT_EQ(h_.Count(Counter::kRxTcpChecksumOffloaded), 1u);
  EXPECT_EQ(h_.ReadAll(id_).size(), 100u);
}

TEST_F(OffloadInput, SuperSegmentIsTakenWholeAndAcknowledgedAtOnce) {
  // 20,000 bytes in one segment, as Linux's TSO hands a TAP with offloads about fourteen MSS.
  Deliver(PeerData(20000, /*partial_checksum=*/true), RxChecksum::kPartial, 20000);
  const Segment ack = h_.TakeOne();
  EXPECT_TRUE(ack.Only(TcpFlags::kAck)) << ack.Describe();
  EXPECT_EQ(ack.ack, kPeerIss + 1 + 20000) << "ACKed at once: it stands for two segments or more";
  EXPECT_EQ(h_.ReadAll(id_), std::string(payload_.begin(), payload_.end()));
}

TEST_F(OffloadInput, OneMssSegmentWaitsForTheDelayedAckOneByteMoreDoesNot) {
  Deliver(PeerData(1460, /*partial_checksum=*/false), RxChecksum::kUnverified, 1460);
  EXPECT_TRUE(h_.Take().empty()) << "one segment's worth: the ACK is delayed, as before";
  h_.AdvanceBy(std::chrono::milliseconds(40));
  EXPECT_EQ(h_.TakeOne().ack, kPeerIss + 1 + 1460) << "the delayed ACK";
  // One byte more than the MSS is two segments on the wire: ACKed at once.
  Deliver(PeerData(1461, /*partial_checksum=*/false), RxChecksum::kUnverified, 1461);
  EXPECT_EQ(h_.TakeOne().ack, kPeerIss + 1 + 1460 + 1461);
}

}  // namespace
}  // namespace tapstack::testing
