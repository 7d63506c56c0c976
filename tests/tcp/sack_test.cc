// Selective acknowledgment, receiver side, on the virtual clock: SACK-permitted negotiation
// (RFC 2018 2), the SACK blocks of our ACKs (RFC 2018 3 and 4) and D-SACK (RFC 2883 4), every
// block checked to the byte. The peer is the hand-driven harness; its stream offsets are relative
// to its ISS + 1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <ostream>
#include <vector>

#include "tests/support/tcp_harness.h"

namespace tapstack::wire {

// Lets GoogleTest print blocks in failure messages (found by argument-dependent lookup).
void PrintTo(const TcpOptions::SackBlock& block, std::ostream* os) {
  *os << "[" << block.left << ", " << block.right << ")";
}

}  // namespace tapstack::wire

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using wire::TcpFlags;
using Block = wire::TcpOptions::SackBlock;

constexpr std::uint16_t kPort = 8000;
constexpr std::uint32_t kPeerIss = 0x10000;
constexpr std::uint8_t kSA = TcpFlags::kSyn | TcpFlags::kAck;
constexpr std::uint8_t kPA = TcpFlags::kPsh | TcpFlags::kAck;

Bytes Pattern(std::size_t n, std::uint32_t seed = 0) {
  Bytes bytes(n);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>((i + seed) * 7);
  return bytes;
}

std::vector<Block> Blocks(const Segment& segment) {
  const auto sacks = segment.options.sacks();
  return std::vector<Block>(sacks.begin(), sacks.end());
}

wire::TcpOptions SynOptions(bool sack_permitted) {
  wire::TcpOptions options;
  options.mss = 1460;
  options.sack_permitted = sack_permitted;
  return options;
}

// Sends one out-of-order segment into an established connection (peer ISS `peer_iss`, our
// `our_port`) and returns the blocks of the ACK that answers it.
std::vector<Block> BlocksAnsweringOutOfOrderData(TcpHarness& h, std::uint16_t our_port,
                                                 std::uint32_t peer_iss, std::uint32_t our_next) {
  h.Inject(our_port, kPA, peer_iss + 1 + 1000, our_next, 65535, Pattern(100));
  const Segment ack = h.TakeOne();
  EXPECT_EQ(ack.ack, peer_iss + 1) << "the hole is still there";
  return Blocks(ack);
}

// --- Negotiation (RFC 2018 2): SACK only when both SYNs carry SACK-permitted.

// An active open: our SYN offers SACK; the peer's SYN-ACK does (`peer_offers`) or not.
void ActiveOpen(TcpHarness& h, bool peer_offers, bool expect_syn_offer, bool expect_sack) {
  h.set_peer_port(9);
  const tcp::Result<tcp::ConnectionId> id = h.stack().Connect(TcpHarness::kPeerAddress, 9, h.now());
  ASSERT_TRUE(id.ok());
  const Segment syn = h.TakeOne();
  ASSERT_TRUE(syn.Only(TcpFlags::kSyn));
  EXPECT_EQ(syn.options.sack_permitted, expect_syn_offer);
  h.Inject(syn.src_port, kSA, kPeerIss, syn.seq + 1, 65535, {}, SynOptions(peer_offers));
  EXPECT_TRUE(h.TakeOne().Only(TcpFlags::kAck));
  EXPECT_EQ(h.stack().Info(*id)->sack_permitted, expect_sack);
  const std::vector<Block> blocks =
      BlocksAnsweringOutOfOrderData(h, syn.src_port, kPeerIss, syn.seq + 1);
  if (expect_sack) {
    EXPECT_THAT(blocks, ElementsAre(Block{kPeerIss + 1001, kPeerIss + 1101}));
  } else {
    EXPECT_THAT(blocks, IsEmpty());
  }
}

// A passive open: the peer's SYN offers SACK (`peer_offers`) or not; our SYN-ACK must answer in
// kind.
void PassiveOpen(TcpHarness& h, bool peer_offers, bool expect_syn_ack_offer, bool expect_sack) {
  ASSERT_FALSE(h.stack().Listen(kPort, 4, h.now()));
  h.Inject(kPort, TcpFlags::kSyn, kPeerIss, 0, 65535, {}, SynOptions(peer_offers));
  const Segment syn_ack = h.TakeOne();
  ASSERT_TRUE(syn_ack.Only(kSA));
  EXPECT_EQ(syn_ack.options.sack_permitted, expect_syn_ack_offer);
  h.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, syn_ack.seq + 1, 65535);
  const std::optional<tcp::ConnectionId> id = h.stack().Accept(kPort);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(h.stack().Info(*id)->sack_permitted, expect_sack);
  const std::vector<Block> blocks =
      BlocksAnsweringOutOfOrderData(h, kPort, kPeerIss, syn_ack.seq + 1);
  if (expect_sack) {
    EXPECT_THAT(blocks, ElementsAre(Block{kPeerIss + 1001, kPeerIss + 1101}));
  } else {
    EXPECT_THAT(blocks, IsEmpty());
  }
}

TEST(SackNegotiation, ActiveOpenOffersAndUsesSackWhenTheSynAckCarriesIt) {
  TcpHarness h;
  ActiveOpen(h, /*peer_offers=*/true, /*expect_syn_offer=*/true, /*expect_sack=*/true);
}

TEST(SackNegotiation, ActiveOpenDoesNotUseSackWhenTheSynAckLacksIt) {
  TcpHarness h;
  ActiveOpen(h, /*peer_offers=*/false, /*expect_syn_offer=*/true, /*expect_sack=*/false);
}

TEST(SackNegotiation, PassiveOpenEchoesThePeersOfferAndUsesSack) {
  TcpHarness h;
  PassiveOpen(h, /*peer_offers=*/true, /*expect_syn_ack_offer=*/true, /*expect_sack=*/true);
}

TEST(SackNegotiation, PassiveOpenOffersNothingToAPeerThatDidNot) {
  TcpHarness h;
  PassiveOpen(h, /*peer_offers=*/false, /*expect_syn_ack_offer=*/false, /*expect_sack=*/false);
}

TEST(SackNegotiation, SwitchedOffNeitherOffersNorEchoesNorSendsBlocks) {
  tcp::TcpConfig config;
  config.sack = false;
  {
    TcpHarness h({.tcp = config});
    // Even a SYN-ACK that carries the option (which a peer must not send unasked) changes
    // nothing.
    ActiveOpen(h, /*peer_offers=*/true, /*expect_syn_offer=*/false, /*expect_sack=*/false);
  }
  {
    TcpHarness h({.tcp = config});
    PassiveOpen(h, /*peer_offers=*/true, /*expect_syn_ack_offer=*/false, /*expect_sack=*/false);
  }
  TcpHarness h({.tcp = config, .peer_offers_sack = true});
  h.EstablishPassive(kPort, kPeerIss);
  h.Inject(kPort, kPA, kPeerIss + 1, h.our_iss() + 1, 65535, Pattern(100));
  h.Inject(kPort, kPA, kPeerIss + 1, h.our_iss() + 1, 65535, Pattern(100));  // a duplicate
  EXPECT_THAT(Blocks(h.TakeOne()), IsEmpty()) << "no D-SACK either";
  EXPECT_EQ(h.Count(Counter::kTcpSackBlocksSent), 0u);
  EXPECT_EQ(h.Count(Counter::kTcpDsacksSent), 0u);
}

// A SYN cookie has no bit left for SACK-permitted (syn_cookie.h): the cookie's SYN-ACK does not
// offer it, so client and server agree that the connection has no SACK.
TEST(SackNegotiation, SynCookieConnectionDoesNotClaimSack) {
  tcp::TcpConfig config;
  config.max_half_open = 1;
  TcpHarness h({.tcp = config});
  ASSERT_FALSE(h.stack().Listen(kPort, 4, h.now()));
  h.set_peer_port(1);
  h.Inject(kPort, TcpFlags::kSyn, kPeerIss, 0, 65535, {}, SynOptions(true));
  EXPECT_TRUE(h.TakeOne().options.sack_permitted) << "an ordinary SYN-RECEIVED connection";
  h.set_peer_port(2);
  h.Inject(kPort, TcpFlags::kSyn, kPeerIss, 0, 65535, {}, SynOptions(true));
  const Segment cookie = h.TakeOne();
  ASSERT_EQ(h.Count(Counter::kTcpSynCookiesSent), 1u);
  EXPECT_FALSE(cookie.options.sack_permitted);
  h.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, cookie.seq + 1, 65535);
  ASSERT_EQ(h.Count(Counter::kTcpSynCookiesAccepted), 1u);
  const std::optional<tcp::ConnectionId> id = h.stack().Accept(kPort);
  ASSERT_TRUE(id.has_value());
  EXPECT_FALSE(h.stack().Info(*id)->sack_permitted);
  EXPECT_THAT(BlocksAnsweringOutOfOrderData(h, kPort, kPeerIss, cookie.seq + 1), IsEmpty());
}

// --- Blocks (RFC 2018 3, 4) and D-SACK (RFC 2883 4) on an established connection whose peer
// offered SACK.
class SackReceiver : public ::testing::Test {
 protected:
  SackReceiver() : h_({.peer_offers_sack = true}) {}
  void SetUp() override {
    id_ = h_.EstablishPassive(kPort, kPeerIss);
    ASSERT_TRUE(h_.stack().Info(id_)->sack_permitted);
  }
  // The peer's sequence number `offset` bytes into its stream.
  static std::uint32_t At(std::uint32_t offset) { return kPeerIss + 1 + offset; }
  static Block Range(std::uint32_t from, std::uint32_t to) { return Block{At(from), At(to)}; }
  // The peer sends stream bytes [offset, offset + length); returns what we sent in answer.
  std::vector<Segment> PeerSends(std::uint32_t offset, std::size_t length) {
    h_.Inject(kPort, kPA, At(offset), h_.our_iss() + 1, 65535, Pattern(length, offset));
    return h_.Take();
  }
  // The same, when exactly one ACK must answer at once.
  Segment AckFor(std::uint32_t offset, std::size_t length) {
    const std::vector<Segment> sent = PeerSends(offset, length);
    EXPECT_EQ(sent.size(), 1u) << "segment at " << offset << " must be acknowledged at once";
    return sent.empty() ? Segment{} : sent.front();
  }

  TcpHarness h_;
  tcp::ConnectionId id_;
};

TEST_F(SackReceiver, OutOfOrderSegmentGetsAnImmediateAckWithItsExactBlock) {
  const Segment ack = AckFor(1000, 500);
  EXPECT_TRUE(ack.Only(TcpFlags::kAck));
  EXPECT_EQ(ack.ack, At(0));
  EXPECT_THAT(Blocks(ack), ElementsAre(Range(1000, 1500)));
  EXPECT_EQ(h_.Count(Counter::kTcpSackBlocksSent), 1u);
  EXPECT_EQ(h_.Count(Counter::kTcpDsacksSent), 0u);
  // For `--events`: the trace names the first block.
  ASSERT_FALSE(h_.traces().empty());
  const tcp::Trace& trace = h_.traces().back();
  EXPECT_EQ(trace.type, tcp::TraceType::kSackSent);
  EXPECT_EQ(trace.seq, At(1000));
  EXPECT_EQ(trace.length, 500u);
  EXPECT_EQ(trace.number, 1);
}

TEST_F(SackReceiver, BlockEdgesFollowMergesExactly) {
  EXPECT_THAT(Blocks(AckFor(1000, 500)), ElementsAre(Range(1000, 1500)));
  // Touching on the right and on the left: one block.
  EXPECT_THAT(Blocks(AckFor(1500, 100)), ElementsAre(Range(1000, 1600)));
  EXPECT_THAT(Blocks(AckFor(900, 100)), ElementsAre(Range(900, 1600)));
  // One byte of gap: two blocks, then a segment that bridges it makes one again.
  EXPECT_THAT(Blocks(AckFor(1601, 99)), ElementsAre(Range(1601, 1700), Range(900, 1600)));
  EXPECT_THAT(Blocks(AckFor(1600, 1)), ElementsAre(Range(900, 1700)));
}

TEST_F(SackReceiver, SeveralHolesReportTheFourMostRecentlyChangedBlocks) {
  EXPECT_THAT(Blocks(AckFor(1000, 500)), ElementsAre(Range(1000, 1500)));
  EXPECT_THAT(Blocks(AckFor(3000, 500)), ElementsAre(Range(3000, 3500), Range(1000, 1500)));
  EXPECT_THAT(Blocks(AckFor(5000, 500)),
              ElementsAre(Range(5000, 5500), Range(3000, 3500), Range(1000, 1500)));
  EXPECT_THAT(Blocks(AckFor(7000, 500)), ElementsAre(Range(7000, 7500), Range(5000, 5500),
                                                     Range(3000, 3500), Range(1000, 1500)));
  // Five ranges held, four blocks sent: the oldest, [1000, 1500), is left out.
  EXPECT_THAT(Blocks(AckFor(9000, 500)), ElementsAre(Range(9000, 9500), Range(7000, 7500),
                                                     Range(5000, 5500), Range(3000, 3500)));
  // A segment that grows an old range puts that range first; the rest keep their order.
  EXPECT_THAT(Blocks(AckFor(3500, 100)), ElementsAre(Range(3000, 3600), Range(9000, 9500),
                                                     Range(7000, 7500), Range(5000, 5500)));
  EXPECT_THAT(Blocks(AckFor(1500, 100)), ElementsAre(Range(1000, 1600), Range(3000, 3600),
                                                     Range(9000, 9500), Range(7000, 7500)));
  // A new range between two others is the most recent: first.
  EXPECT_THAT(Blocks(AckFor(6000, 100)), ElementsAre(Range(6000, 6100), Range(1000, 1600),
                                                     Range(3000, 3600), Range(9000, 9500)));
  EXPECT_EQ(h_.Count(Counter::kTcpSackBlocksSent), 1u + 2 + 3 + 4 + 4 * 4);
}

TEST_F(SackReceiver, BlocksDisappearOnceTheHolesAreFilled) {
  AckFor(1000, 500);
  AckFor(2000, 500);
  // The first hole filled: RCV.NXT jumps over [1000, 1500), one block is left.
  Segment ack = AckFor(0, 1000);
  EXPECT_EQ(ack.ack, At(1500));
  EXPECT_THAT(Blocks(ack), ElementsAre(Range(2000, 2500)));
  // The last hole filled: no SACK option at all.
  ack = AckFor(1500, 500);
  EXPECT_EQ(ack.ack, At(2500));
  EXPECT_THAT(Blocks(ack), IsEmpty());
  EXPECT_EQ(ack.options.sack_block_count, 0u);
  // In-order data after that: the usual delayed ACK, still without blocks.
  EXPECT_THAT(PeerSends(2500, 100), IsEmpty());
  h_.AdvanceBy(milliseconds(40));
  EXPECT_THAT(Blocks(h_.TakeOne()), IsEmpty());
  EXPECT_EQ(h_.ReadAll(id_).size(), 2600u);
}

TEST_F(SackReceiver, DuplicateBelowRcvNxtIsReportedOnceAsTheFirstBlock) {
  EXPECT_THAT(PeerSends(0, 500), IsEmpty()) << "in order: the ACK is delayed";
  // Our ACK was "lost" and the peer sends the segment again: an immediate ACK with a D-SACK
  // block below the cumulative ACK (RFC 2883 4.1.1).
  Segment ack = AckFor(0, 500);
  EXPECT_EQ(ack.ack, At(500));
  EXPECT_THAT(Blocks(ack), ElementsAre(Range(0, 500)));
  EXPECT_EQ(h_.Count(Counter::kTcpDsacksSent), 1u);
  EXPECT_EQ(h_.Count(Counter::kTcpSackBlocksSent), 0u) << "the D-SACK block is counted apart";
  EXPECT_EQ(h_.traces().back().type, tcp::TraceType::kDsackSent);
  EXPECT_EQ(h_.traces().back().seq, At(0));
  EXPECT_EQ(h_.traces().back().length, 500u);
  // Reported once: the next ACK has only the ordinary block.
  EXPECT_THAT(Blocks(AckFor(1000, 100)), ElementsAre(Range(1000, 1100)));
  // A second copy is a second duplicate, reported again, before the out-of-order block.
  EXPECT_THAT(Blocks(AckFor(100, 200)), ElementsAre(Range(100, 300), Range(1000, 1100)));
  EXPECT_EQ(h_.Count(Counter::kTcpDsacksSent), 2u);
  EXPECT_EQ(h_.ReadAll(id_).size(), 500u) << "no byte taken twice";
}

TEST_F(SackReceiver, PartlyRepeatedSegmentReportsTheRepeatedPart) {
  EXPECT_THAT(PeerSends(0, 500), IsEmpty());
  // [300, 700): [300, 500) we have, [500, 700) is new.
  const Segment ack = AckFor(300, 400);
  EXPECT_EQ(ack.ack, At(700));
  EXPECT_THAT(Blocks(ack), ElementsAre(Range(300, 500)));
  EXPECT_EQ(h_.ReadAll(id_).size(), 700u);
}

TEST_F(SackReceiver, DuplicateOfAnOutOfOrderSegmentIsFollowedByItsBlock) {
  AckFor(1000, 500);
  AckFor(3000, 500);
  // RFC 2883 4.1.2: the D-SACK block, then the block that holds it, then the others.
  const Segment ack = AckFor(1000, 500);
  EXPECT_EQ(ack.ack, At(0));
  EXPECT_THAT(Blocks(ack), ElementsAre(Range(1000, 1500), Range(1000, 1500), Range(3000, 3500)));
  EXPECT_EQ(h_.Count(Counter::kTcpDsacksSent), 1u);
  // Part of a held range again, with new bytes beyond it: the repeated part is the D-SACK block,
  // and the grown range follows it.
  EXPECT_THAT(Blocks(AckFor(3200, 500)),
              ElementsAre(Range(3200, 3500), Range(3000, 3700), Range(1000, 1500)));
  EXPECT_EQ(h_.Count(Counter::kTcpDsacksSent), 2u);
}

TEST_F(SackReceiver, DsackLeavesRoomForThreeOrdinaryBlocks) {
  for (std::uint32_t start : {1000, 3000, 5000, 7000, 9000}) AckFor(start, 100);
  EXPECT_THAT(PeerSends(0, 100), ::testing::SizeIs(1)) << "a gap fill is acknowledged at once";
  EXPECT_THAT(Blocks(AckFor(0, 100)),
              ElementsAre(Range(0, 100), Range(9000, 9100), Range(7000, 7100), Range(5000, 5100)));
}

TEST_F(SackReceiver, DataSegmentsCarryBlocksOnlyWhereThePeersMssLeavesRoom) {
  AckFor(1000, 500);
  // A short segment of ours has room for the block beside its data.
  ASSERT_EQ(h_.stack().Send(id_, Pattern(100), h_.now()).bytes, 100u);
  Segment data = h_.TakeOne();
  EXPECT_EQ(data.payload.size(), 100u);
  EXPECT_EQ(data.ack, At(0));
  EXPECT_THAT(Blocks(data), ElementsAre(Range(1000, 1500)));
  // Full-sized segments carry none: the peer's MSS bounds data and options together, and the
  // data is not cut to make room.
  h_.Inject(kPort, TcpFlags::kAck, At(0), h_.our_iss() + 101, 65535);
  ASSERT_EQ(h_.stack().Send(id_, Pattern(2 * 1460), h_.now()).bytes, 2u * 1460);
  const std::vector<Segment> full = h_.Take();
  ASSERT_EQ(full.size(), 2u);
  for (const Segment& segment : full) {
    EXPECT_EQ(segment.payload.size(), 1460u);
    EXPECT_THAT(Blocks(segment), IsEmpty());
  }
}

// RFC 6675 2: with SACK a duplicate ACK is one that SACKs data beyond the hole, whatever its
// window says. Linux's window grows while it queues our out-of-order segments; requiring it
// unchanged (RFC 5681 2 without SACK) left every loss to the retransmission timer.
TEST_F(SackReceiver, AcksThatSackDataBeyondAHoleCountAsDuplicatesWhateverTheWindow) {
  const std::uint32_t ours = h_.our_iss() + 1;
  ASSERT_FALSE(h_.stack().SetNoDelay(id_, true, h_.now()));
  ASSERT_EQ(h_.stack().Send(id_, Pattern(1460 * 5), h_.now()).bytes, 1460u * 5);
  ASSERT_EQ(h_.Take().size(), 5u);
  // Without blocks a changing window means a window update, not a duplicate.
  for (std::uint16_t window : {60000, 60100, 60200}) {
    h_.Inject(kPort, TcpFlags::kAck, At(0), ours, window);
  }
  EXPECT_TRUE(h_.Take().empty());
  EXPECT_EQ(h_.Count(Counter::kTcpFastRetransmits), 0u);
  // A D-SACK block below the ACK reports no hole either.
  wire::TcpOptions dsack;
  dsack.sack_block_count = 1;
  dsack.sack_blocks[0] = Block{ours - 1, ours};
  for (int i = 0; i < 3; ++i) h_.Inject(kPort, TcpFlags::kAck, At(0), ours, 60300, {}, dsack);
  EXPECT_TRUE(h_.Take().empty());
  // Each SACKing a further segment, with the window growing.
  std::uint16_t window = 60400;
  for (std::uint32_t segments = 2; segments <= 4; ++segments) {
    wire::TcpOptions options;
    options.sack_block_count = 1;
    options.sack_blocks[0] = Block{ours + 1460, ours + 1460 * segments};
    h_.Inject(kPort, TcpFlags::kAck, At(0), ours, window += 100, {}, options);
  }
  const Segment retransmission = h_.TakeOne();
  EXPECT_EQ(retransmission.seq, ours);
  EXPECT_EQ(h_.Count(Counter::kTcpFastRetransmits), 1u);
}

// RFC 6675 2 again: an ACK that SACKs data not reported before is a duplicate even when it carries
// data, which is how Linux's ACKs come while it sends to us; one that only repeats blocks already
// reported is not, whatever it carries, so the peer's data segments repeating the same block do
// not add up to a fast retransmit.
TEST_F(SackReceiver, DataCarryingAcksCountOnlyWhenTheirBlocksBringNews) {
  const std::uint32_t ours = h_.our_iss() + 1;
  ASSERT_FALSE(h_.stack().SetNoDelay(id_, true, h_.now()));
  ASSERT_EQ(h_.stack().Send(id_, Pattern(1460 * 5), h_.now()).bytes, 1460u * 5);
  ASSERT_EQ(h_.Take().size(), 5u);
  std::uint32_t peer_offset = 0;
  auto peer_data_with = [&](Block block) {
    wire::TcpOptions options;
    options.sack_block_count = 1;
    options.sack_blocks[0] = block;
    h_.Inject(kPort, kPA, At(peer_offset), ours, 65535, Pattern(100, peer_offset), options);
    peer_offset += 100;
  };
  // Three of the peer's data segments, each repeating the block of one segment held: one piece
  // of news, not three.
  for (int i = 0; i < 3; ++i) peer_data_with(Block{ours + 1460, ours + 2920});
  EXPECT_EQ(h_.Count(Counter::kTcpFastRetransmits), 0u);
  // Two more, each reporting one more segment held: three in all, the third duplicate.
  peer_data_with(Block{ours + 1460, ours + 4380});
  EXPECT_EQ(h_.Count(Counter::kTcpFastRetransmits), 0u);
  peer_data_with(Block{ours + 1460, ours + 5840});
  EXPECT_EQ(h_.Count(Counter::kTcpFastRetransmits), 1u);
  bool retransmitted = false;
  for (const Segment& segment : h_.Take()) {
    retransmitted = retransmitted || (segment.seq == ours && !segment.payload.empty());
  }
  EXPECT_TRUE(retransmitted) << "the first unacknowledged segment is sent again";
  // A block beyond what we ever sent proves nothing.
  peer_data_with(Block{ours + 1460, ours + 1460 * 9});
  EXPECT_EQ(h_.Count(Counter::kTcpFastRetransmits), 1u);
}

}  // namespace
}  // namespace tapstack::testing
