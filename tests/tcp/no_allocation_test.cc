// The steady state allocates nothing: once two stacks joined in memory have warmed up (buffers
// grown, the buffer pool filled, tables and vectors at their working size), 10,000 more segments
// of bulk transfer, request/response or keepalive rounds cause no operator new at all, in the
// stacks or in the link between them. This binary links tests/support/heap_counter.cc, which
// counts every operator new.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "stack/counters.h"
#include "stack/stack.h"
#include "tap/stack_pair.h"
#include "tests/support/heap_counter.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using tap::StackPair;

constexpr std::uint16_t kPort = 6000;
constexpr std::uint64_t kMeasuredSegments = 10'000;

std::uint64_t Allocations() { return CurrentHeapUsage().allocations; }

// Segments both stacks have sent so far.
std::uint64_t SegmentsSent(StackPair& pair) {
  return pair.a().counters()[Counter::kTxTcpSegments] +
         pair.b().counters()[Counter::kTxTcpSegments];
}

// One connection from A to B, both ends' handles known, every readable byte read at once.
class Connected {
 public:
  explicit Connected(StackPair& pair) : pair_(pair), sink_(64 * 1024) {
    pair_.b().set_tcp_event_handler([this](const tcp::Event& event) {
      if (event.type == tcp::EventType::kAcceptReady) server_ = pair_.b().Accept(kPort);
      if (event.type == tcp::EventType::kReadable) Drain(pair_.b(), event.connection, received_b_);
    });
    pair_.a().set_tcp_event_handler([this](const tcp::Event& event) {
      if (event.type == tcp::EventType::kReadable) Drain(pair_.a(), event.connection, received_a_);
    });
    EXPECT_FALSE(pair_.b().Listen(kPort, 4, pair_.now()));
    const tcp::Result<tcp::ConnectionId> id =
        pair_.a().Connect(StackPair::kAddressB, kPort, pair_.now());
    EXPECT_TRUE(id.ok());
    if (id.ok()) client_ = *id;
    EXPECT_TRUE(pair_.RunUntil([this] { return server_.has_value(); }, seconds(5)));
  }

  tcp::ConnectionId client() const { return client_; }
  tcp::ConnectionId server() const { return *server_; }
  std::uint64_t received_a() const { return received_a_; }
  std::uint64_t received_b() const { return received_b_; }

 private:
  void Drain(Stack& stack, tcp::ConnectionId id, std::uint64_t& received) {
    while (true) {
      const tcp::IoResult got = stack.Receive(id, sink_, pair_.now());
      if (got.bytes == 0) return;
      received += got.bytes;
    }
  }

  StackPair& pair_;
  std::vector<std::uint8_t> sink_;
  tcp::ConnectionId client_;
  std::optional<tcp::ConnectionId> server_;
  std::uint64_t received_a_ = 0;
  std::uint64_t received_b_ = 0;
};

// Keeps `id`'s send buffer full from `data`.
void Fill(Stack& stack, tcp::ConnectionId id, const std::vector<std::uint8_t>& data,
          timers::TimePoint now) {
  while (stack.Send(id, data, now).bytes > 0) {
  }
}

// Runs `step` until `segments` more segments were sent; returns the allocations made meanwhile.
template <typename Step>
std::uint64_t AllocationsOver(StackPair& pair, std::uint64_t segments, Step step) {
  const std::uint64_t until = SegmentsSent(pair) + segments;
  const std::uint64_t before = Allocations();
  while (SegmentsSent(pair) < until) step();
  return Allocations() - before;
}

TEST(NoAllocation, HeapCountingIsActive) { EXPECT_TRUE(HeapCountingActive()); }

TEST(NoAllocation, BulkTransferOneWay) {
  StackPair pair(tap::StackPairOptions{});
  Connected connection(pair);
  const std::vector<std::uint8_t> data(16 * 1024, 'x');
  auto step = [&] {
    Fill(pair.a(), connection.client(), data, pair.now());
    pair.Step(pair.now() + seconds(1));
  };
  // Warm-up: slow start takes cwnd up to twice the 256 KiB receive window (it grows while the
  // flight fills half of it, which the receiver's window allows now and then), and the link's
  // queue to the depth that window keeps in flight.
  AllocationsOver(pair, 20'000, step);
  EXPECT_EQ(AllocationsOver(pair, kMeasuredSegments, step), 0u);
  EXPECT_GT(connection.received_b(), 10'000u * 1000);
}

TEST(NoAllocation, BulkTransferBothWays) {
  StackPair pair(tap::StackPairOptions{});
  Connected connection(pair);
  const std::vector<std::uint8_t> data(16 * 1024, 'x');
  auto step = [&] {
    Fill(pair.a(), connection.client(), data, pair.now());
    Fill(pair.b(), connection.server(), data, pair.now());
    pair.Step(pair.now() + seconds(1));
  };
  // A longer warm-up: each direction's link carries both data and ACKs, and a link slot that has
  // only held ACKs grows once when it first carries a full segment (tap/memory_link.cc).
  AllocationsOver(pair, 40'000, step);
  EXPECT_EQ(AllocationsOver(pair, kMeasuredSegments, step), 0u);
  EXPECT_GT(connection.received_a(), 1'000'000u);
  EXPECT_GT(connection.received_b(), 1'000'000u);
}

TEST(NoAllocation, RequestResponse) {
  StackPair pair(tap::StackPairOptions{});
  Connected connection(pair);
  const std::vector<std::uint8_t> request(100, 'q');
  const std::vector<std::uint8_t> response(300, 'r');
  std::uint64_t exchanges = 0;
  // One request, then its response once the request has arrived, then the next request once the
  // response has arrived: the buffers drain to empty after every message.
  auto step = [&] {
    // The conditions capture 16 bytes, which std::function holds without allocating.
    const std::uint64_t b_wants = connection.received_b() + request.size();
    ASSERT_EQ(pair.a().Send(connection.client(), request, pair.now()).bytes, request.size());
    ASSERT_TRUE(pair.RunUntil([&c = connection, b_wants] { return c.received_b() >= b_wants; },
                              seconds(1)));
    const std::uint64_t a_wants = connection.received_a() + response.size();
    ASSERT_EQ(pair.b().Send(connection.server(), response, pair.now()).bytes, response.size());
    ASSERT_TRUE(pair.RunUntil([&c = connection, a_wants] { return c.received_a() >= a_wants; },
                              seconds(1)));
    ++exchanges;
  };
  AllocationsOver(pair, 2'000, step);
  EXPECT_EQ(AllocationsOver(pair, kMeasuredSegments, step), 0u);
  EXPECT_GT(exchanges, 2'000u);
}

TEST(NoAllocation, KeepaliveRounds) {
  StackPair pair(tap::StackPairOptions{});
  std::vector<tcp::ConnectionId> clients;
  pair.b().set_tcp_event_handler([&](const tcp::Event& event) {
    if (event.type == tcp::EventType::kAcceptReady) {
      while (pair.b().Accept(kPort)) {
      }
    }
  });
  ASSERT_FALSE(pair.b().Listen(kPort, 1024, pair.now()));
  const tcp::KeepaliveOptions keepalive{
      .enabled = true, .idle = seconds(1), .interval = seconds(1), .count = 3};
  for (int i = 0; i < 200; ++i) {
    const tcp::Result<tcp::ConnectionId> id =
        pair.a().Connect(StackPair::kAddressB, kPort, pair.now());
    ASSERT_TRUE(id.ok());
    ASSERT_FALSE(pair.a().SetKeepalive(*id, keepalive, pair.now()));
    clients.push_back(*id);
  }
  pair.RunFor(milliseconds(100));
  auto step = [&] { pair.RunFor(milliseconds(100)); };
  AllocationsOver(pair, 2'000, step);
  const std::uint64_t probes_before = pair.a().counters()[Counter::kTcpKeepaliveProbesSent];
  EXPECT_EQ(AllocationsOver(pair, kMeasuredSegments, step), 0u);
  // Every probe was answered: the rounds went on with all connections alive.
  EXPECT_GE(pair.a().counters()[Counter::kTcpKeepaliveProbesSent] - probes_before, 4'000u);
  EXPECT_EQ(pair.a().tcp_connection_count(), clients.size());
}

}  // namespace
}  // namespace tapstack::testing
