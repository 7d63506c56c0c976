// Two stacks over an in-memory link with faults (loss, duplication, reordering, delay), on a
// virtual clock with fixed seeds: bulk data in both directions must arrive byte-identical and both
// ends must close cleanly.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tap/stack_pair.h"
#include "tests/support/byte_stream.h"
#include "tests/support/sha256.h"

namespace tapstack::testing {
namespace {

using tap::StackPair;
using tap::StackPairOptions;

using std::chrono::milliseconds;

// One side of a bidirectional bulk transfer: writes `total` bytes of its stream, reads the
// peer's, hashing both, then half-closes and, after the peer's FIN, closes.
class BulkEndpoint {
 public:
  BulkEndpoint(Stack& stack, std::uint64_t send_seed, std::size_t total)
      : stack_(stack), outgoing_(send_seed), total_(total) {}

  void Attach(tcp::ConnectionId id) { id_ = id; }
  std::optional<tcp::ConnectionId> id() const { return id_; }

  void Work(timers::TimePoint now) {
    if (!id_) return;
    while (sent_ < total_) {
      if (chunk_.empty()) {
        chunk_.resize(std::min<std::size_t>(16 * 1024, total_ - sent_));
        outgoing_.Next(chunk_);
        sent_hash_.Update(chunk_);
      }
      const tcp::IoResult result = stack_.Send(*id_, chunk_, now);
      if (result.bytes == 0) break;
      sent_ += result.bytes;
      chunk_.erase(chunk_.begin(), chunk_.begin() + static_cast<long>(result.bytes));
    }
    if (sent_ == total_ && !shut_down_) {
      shut_down_ = true;
      EXPECT_FALSE(stack_.Shutdown(*id_, now));
    }
    std::vector<std::uint8_t> buffer(64 * 1024);
    while (!eof_) {
      const tcp::IoResult got = stack_.Receive(*id_, buffer, now);
      if (!got.ok()) break;
      if (got.bytes == 0) {
        eof_ = true;
        break;
      }
      received_hash_.Update(std::span(buffer).first(got.bytes));
      received_ += got.bytes;
    }
    if (eof_ && shut_down_ && !closed_) {
      closed_ = true;
      EXPECT_FALSE(stack_.Close(*id_, now));
    }
  }

  bool done() const { return closed_; }
  std::size_t received() const { return received_; }
  std::string sent_digest() { return sent_hash_.FinishHex(); }
  std::string received_digest() { return received_hash_.FinishHex(); }

 private:
  Stack& stack_;
  ByteStream outgoing_;
  std::size_t total_;
  std::optional<tcp::ConnectionId> id_;
  std::vector<std::uint8_t> chunk_;
  std::size_t sent_ = 0;
  std::size_t received_ = 0;
  bool shut_down_ = false;
  bool eof_ = false;
  bool closed_ = false;
  Sha256 sent_hash_;
  Sha256 received_hash_;
};

struct TransferCase {
  const char* name;
  std::size_t bytes;
  std::optional<std::uint32_t> fixed_iss;
  bool sack = true;   // TcpConfig::sack on both stacks
  bool ipv6 = false;  // the connection runs over IPv6
  // The links offer TSO and checksum offload and cut the stacks' super-segments before the
  // faults apply to the frames cut from them.
  bool tx_offloads = false;
};

class TransferTest : public ::testing::TestWithParam<TransferCase> {};

tap::FaultOptions Faults(std::uint64_t seed) {
  return tap::FaultOptions{.seed = seed,
                           .loss = 0.10,
                           .duplicate = 0.05,
                           .reorder = 0.05,
                           .min_delay = milliseconds(1),
                           .max_delay = milliseconds(5)};
}

TEST_P(TransferTest, BothWaysByteIdenticalOverAFaultyLinkAndCleanClose) {
  StackPairOptions options;
  options.tcp.fixed_iss = GetParam().fixed_iss;
  options.tcp.sack = GetParam().sack;
  options.faults_a_to_b = Faults(11);
  options.faults_b_to_a = Faults(12);
  options.ipv6 = GetParam().ipv6;
  options.tx_offloads = GetParam().tx_offloads;
  StackPair pair(options);
  const std::size_t total = GetParam().bytes;
  BulkEndpoint client(pair.a(), /*send_seed=*/100, total);
  BulkEndpoint server(pair.b(), /*send_seed=*/200, total);
  std::vector<tcp::Event> closed;
  pair.a().set_tcp_event_handler([&](const tcp::Event& e) {
    if (e.type == tcp::EventType::kClosed) closed.push_back(e);
  });
  pair.b().set_tcp_event_handler([&](const tcp::Event& e) {
    if (e.type == tcp::EventType::kAcceptReady) server.Attach(*pair.b().Accept(5001));
    if (e.type == tcp::EventType::kClosed) closed.push_back(e);
  });
  ASSERT_FALSE(pair.b().Listen(5001, 8, pair.now()));
  tcp::Result<tcp::ConnectionId> id =
      GetParam().ipv6 ? pair.a().Connect(StackPair::kIpv6AddressB, 5001, pair.now())
                      : pair.a().Connect(StackPair::kAddressB, 5001, pair.now());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(pair.a().Info(*id)->remote_address.is_ipv6(), GetParam().ipv6);
  client.Attach(*id);
  const bool finished = pair.RunUntil(
      [&] {
        client.Work(pair.now());
        server.Work(pair.now());
        return client.done() && server.done() && pair.a().tcp_connection_count() == 0 &&
               pair.b().tcp_connection_count() == 0;
      },
      std::chrono::hours(4));
  auto describe = [&](Stack& stack, std::optional<tcp::ConnectionId> id) {
    std::string text;
    if (!id) return std::string("no connection");
    if (const auto info = stack.Info(*id)) {
      text = absl::StrCat(
          std::string(tcp::StateName(info->state)), " una=", info->snd_una, " nxt=", info->snd_nxt,
          " rcv_nxt=", info->rcv_nxt, " snd_wnd=", info->snd_wnd, " rcv_wnd=", info->rcv_wnd,
          " cwnd=", info->cwnd, " send_buffered=", info->send_buffered,
          " recv_buffered=", info->receive_buffered, " timers=", info->timers_pending);
    } else {
      text = "freed";
    }
    return text;
  };
  ASSERT_TRUE(finished) << "client got " << client.received() << ", server got "
                        << server.received() << " of " << total << " after "
                        << std::chrono::duration<double>(pair.now().time_since_epoch()).count()
                        << " s\n client: " << describe(pair.a(), client.id())
                        << "\n server: " << describe(pair.b(), server.id())
                        << "\n closed events: " << closed.size()
                        << " first error: " << (closed.empty() ? "" : closed[0].error.message());
  EXPECT_EQ(server.received(), total);
  EXPECT_EQ(client.received(), total);
  EXPECT_EQ(server.received_digest(), client.sent_digest());
  EXPECT_EQ(client.received_digest(), server.sent_digest());
  EXPECT_TRUE(closed.empty()) << "no error close (the handles were closed by the applications)";
  EXPECT_GT(pair.a().counters()[Counter::kTcpRetransmits], 0u) << "the faults did bite";
  // Loss and reordering leave holes, which SACK blocks report (RFC 2018); duplication and
  // spurious retransmissions deliver data twice, which D-SACK blocks report (RFC 2883).
  for (Stack* stack : {&pair.a(), &pair.b()}) {
    const Counters& counters = stack->counters();
    if (GetParam().tx_offloads) {
      EXPECT_GT(counters[Counter::kTxTcpSuperSegments], 0u) << "new data left as super-segments";
    } else {
      EXPECT_EQ(counters[Counter::kTxTcpSuperSegments], 0u);
      EXPECT_EQ(counters[Counter::kTxTcpChecksumOffloaded], 0u);
    }
    // The senders recover from the scoreboard (RFC 6675) when SACK is on, never when it is off.
    if (GetParam().sack) {
      EXPECT_GT(counters[Counter::kTcpSackBlocksSent], 0u);
      EXPECT_GT(counters[Counter::kTcpDsacksSent], 0u);
      EXPECT_GT(counters[Counter::kTcpSackRetransmits], 0u);
    } else {
      EXPECT_EQ(counters[Counter::kTcpSackBlocksSent], 0u);
      EXPECT_EQ(counters[Counter::kTcpDsacksSent], 0u);
      EXPECT_EQ(counters[Counter::kTcpSackRetransmits], 0u);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TransferTest,
    ::testing::Values(TransferCase{"Bulk64MiB", 64u << 20, std::nullopt},
                      TransferCase{"SequenceWrap", 64u << 20, 0xffff'0000u},
                      TransferCase{"SackOff", 16u << 20, std::nullopt, /*sack=*/false},
                      TransferCase{"Ipv6", 16u << 20, std::nullopt, /*sack=*/true, /*ipv6=*/true},
                      TransferCase{"Tso", 64u << 20, std::nullopt, /*sack=*/true, /*ipv6=*/false,
                                   /*tx_offloads=*/true}),
    [](const ::testing::TestParamInfo<TransferCase>& info) { return info.param.name; });

}  // namespace
}  // namespace tapstack::testing
