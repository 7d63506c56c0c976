// Blind in-window attacks (RFC 5961) on the virtual clock: an off-path attacker knows the 4-tuple
// but not the exact sequence numbers, so it sends segments whose numbers fall somewhere in the
// window. The connection must survive, answer with (rate-limited) challenge ACKs, and never
// deliver injected bytes. Also an ACK storm, which must neither loop nor amplify.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/support/tcp_harness.h"

namespace tapstack::testing {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using wire::TcpFlags;

constexpr std::uint16_t kPort = 7000;
constexpr std::uint32_t kPeerIss = 5000;

class BlindAttackTest : public ::testing::Test {
 protected:
  void SetUp() override { id_ = harness_.EstablishPassive(kPort, kPeerIss); }

  std::uint32_t RcvNxt() { return harness_.stack().Info(id_)->rcv_nxt; }
  std::uint32_t SndNxt() { return harness_.stack().Info(id_)->snd_nxt; }
  tcp::State State() { return harness_.stack().Info(id_)->state; }

  std::string ReadAll() { return harness_.ReadAll(id_); }

  // A challenge ACK is RFC 9293 3.10.7.4's <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
  void ExpectChallengeAck(const Segment& ack) {
    EXPECT_TRUE(ack.Only(TcpFlags::kAck)) << ack.Describe();
    EXPECT_EQ(ack.seq, SndNxt());
    EXPECT_EQ(ack.ack, RcvNxt());
    EXPECT_TRUE(ack.payload.empty());
  }

  TcpHarness harness_;
  tcp::ConnectionId id_;
};

TEST_F(BlindAttackTest, InWindowResetGetsChallengeAckNotReset) {
  const std::uint32_t rcv_nxt = RcvNxt();
  // RFC 5961 3.2: in the window but not exactly RCV.NXT.
  harness_.Inject(kPort, TcpFlags::kRst, rcv_nxt + 1000, 0, 0);
  EXPECT_EQ(State(), tcp::State::kEstablished);
  ExpectChallengeAck(harness_.TakeOne());
  EXPECT_EQ(harness_.Count(Counter::kTcpChallengeAcks), 1u);
  EXPECT_EQ(harness_.Count(Counter::kTcpResetsReceived), 0u);
}

TEST_F(BlindAttackTest, InWindowSynGetsChallengeAckNotReset) {
  // RFC 5961 4.2: a SYN in a synchronized state, whatever its sequence number, is answered with
  // a challenge ACK; the connection is not reset (RFC 793 would have reset it).
  for (const std::uint8_t flags : {TcpFlags::kSyn, std::uint8_t{TcpFlags::kSyn | TcpFlags::kAck}}) {
    harness_.AdvanceBy(milliseconds(500));  // past the rate limit, so each gets its ACK
    harness_.Inject(kPort, flags, RcvNxt() + 777, harness_.our_iss() + 1, 65535);
    EXPECT_EQ(State(), tcp::State::kEstablished);
    const Segment ack = harness_.TakeOne();
    EXPECT_FALSE(ack.Has(TcpFlags::kRst));
    ExpectChallengeAck(ack);
  }
  EXPECT_EQ(harness_.Count(Counter::kTcpChallengeAcks), 2u);
}

TEST_F(BlindAttackTest, DataWithUnacceptableAckIsNotDelivered) {
  // RFC 5961 5.2: the attacker guesses the SEQ (even exactly) but not SND.UNA; its ACK lies
  // outside [SND.UNA - MAX.SND.WND, SND.NXT], so the segment is dropped with a challenge ACK.
  const std::string evil = "INJECTED";
  const std::uint32_t our_next = harness_.our_iss() + 1;
  const std::uint32_t bad_acks[] = {our_next + 0x20000000u, our_next - 0x20000000u, our_next + 1,
                                    our_next - 70000};
  for (const std::uint32_t ack : bad_acks) {
    for (const std::uint32_t offset : {0u, 100u}) {
      harness_.AdvanceBy(milliseconds(500));
      harness_.Inject(kPort, TcpFlags::kAck | TcpFlags::kPsh, RcvNxt() + offset, ack, 65535,
                      std::span(reinterpret_cast<const std::uint8_t*>(evil.data()), evil.size()));
      EXPECT_EQ(State(), tcp::State::kEstablished);
      ExpectChallengeAck(harness_.TakeOne());
    }
  }
  EXPECT_EQ(RcvNxt(), kPeerIss + 1) << "no injected byte entered the sequence space";
  EXPECT_EQ(harness_.stack().Info(id_)->receive_buffered, 0u);
  EXPECT_EQ(ReadAll(), "");

  // The real peer's stream is unchanged.
  const std::string good = "hello";
  harness_.Inject(kPort, TcpFlags::kAck | TcpFlags::kPsh, kPeerIss + 1, our_next, 65535,
                  std::span(reinterpret_cast<const std::uint8_t*>(good.data()), good.size()));
  EXPECT_EQ(ReadAll(), "hello");
}

TEST_F(BlindAttackTest, ChallengeAcksAreRateLimited) {
  // 1000 forged segments (RST, SYN and bad-ACK data in turn) within one second of virtual time.
  const std::uint8_t byte = 'x';
  std::size_t sent = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::uint32_t seq = RcvNxt() + 1 + static_cast<std::uint32_t>(i * 37) % 60000;
    switch (i % 3) {
      case 0:
        harness_.Inject(kPort, TcpFlags::kRst, seq, 0, 0);
        break;
      case 1:
        harness_.Inject(kPort, TcpFlags::kSyn, seq, 0, 65535);
        break;
      default:
        harness_.Inject(kPort, TcpFlags::kAck, seq, harness_.our_iss() + 0x40000000u, 65535,
                        std::span(&byte, 1));
        break;
    }
    for (const Segment& s : harness_.Take()) {
      ExpectChallengeAck(s);
      ++sent;
    }
    harness_.AdvanceBy(milliseconds(1));
  }
  EXPECT_EQ(State(), tcp::State::kEstablished);
  // One ACK per 200 ms (TcpConfig::invalid_ack_ratelimit) over one second: at most 6.
  EXPECT_GE(sent, 1u);
  EXPECT_LE(sent, 6u);
  EXPECT_GE(harness_.Count(Counter::kTcpRateLimitedAcks), 1000u - sent);
  EXPECT_EQ(ReadAll(), "");
  RecordProperty("challenge_acks_sent", static_cast<int>(sent));
  std::printf("1000 forged segments in 1 s: %zu challenge ACKs, %llu rate-limited\n", sent,
              static_cast<unsigned long long>(harness_.Count(Counter::kTcpRateLimitedAcks)));
}

TEST_F(BlindAttackTest, AckStormDoesNotLoopOrAmplify) {
  // Data in flight, so duplicate ACKs mean something (fast retransmit) to the sender.
  const std::string data(2000, 'd');
  ASSERT_EQ(
      harness_.stack()
          .Send(id_, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()),
                harness_.now())
          .bytes,
      data.size());
  std::size_t first_flight = harness_.Take().size();
  ASSERT_GE(first_flight, 1u);
  const std::uint32_t una = harness_.our_iss() + 1;

  std::size_t emitted = 0;
  // 10,000 duplicate ACKs, 10,000 old ACKs (below SND.UNA but acceptable) and 10,000 ACKs of data
  // never sent, 100 us apart: three virtual seconds.
  for (int i = 0; i < 10000; ++i) {
    harness_.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, una, 65535);
    emitted += harness_.Take().size();
    harness_.AdvanceBy(microseconds(100));
  }
  const std::size_t after_dup = emitted;
  for (int i = 0; i < 10000; ++i) {
    harness_.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, una - 1000, 65535);
    emitted += harness_.Take().size();
    harness_.AdvanceBy(microseconds(100));
  }
  const std::size_t after_old = emitted;
  for (int i = 0; i < 10000; ++i) {
    harness_.Inject(kPort, TcpFlags::kAck, kPeerIss + 1, una + 100000, 65535);
    emitted += harness_.Take().size();
    harness_.AdvanceBy(microseconds(100));
  }
  EXPECT_EQ(State(), tcp::State::kEstablished);
  // Duplicates: at most the retransmissions of the 2000 bytes (fast retransmit, RTO) and nothing
  // per ACK; old ACKs: nothing but those same retransmissions; ACKs of unsent data: rate-limited
  // challenge ACKs, one per 200 ms.
  EXPECT_LE(after_dup, 6u);
  EXPECT_LE(after_old - after_dup, 6u);
  EXPECT_LE(emitted - after_old, 6u);
  std::printf("ACK storm, 30000 ACKs: %zu segments out (dup %zu, old %zu, future %zu)\n", emitted,
              after_dup, after_old - after_dup, emitted - after_old);
}

}  // namespace
}  // namespace tapstack::testing
