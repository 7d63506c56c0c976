// A SYN flood on the virtual clock: 100,000 SYNs from spoofed sources at a listening port of stack
// B, while a legitimate client on stack A connects and moves data through B's listener. With the
// default limits (TcpConfig::max_half_open, syn_cookies) the half-open connections stop at the cap,
// the rest are answered with SYN cookies (RFC 4987 3.6), and the client gets in with one.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <random>
#include <vector>

#include "tap/stack_pair.h"
#include "tests/support/tcp_harness.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;
using tap::StackPair;

constexpr std::uint16_t kPort = 80;
constexpr int kFloodSyns = 100'000;
constexpr int kSynsPerBatch = 1000;  // then 10 ms of virtual time pass: 100,000 SYN/s
constexpr int kClientStartsAfterBatch = 10;
constexpr std::size_t kTransferBytes = 1 << 20;

std::uint8_t PatternByte(std::size_t offset) { return static_cast<std::uint8_t>(offset * 131 + 7); }

// B's side: accepts and echoes everything back, closes when the client has finished.
class EchoServer {
 public:
  explicit EchoServer(StackPair& pair) : pair_(pair) {
    pair_.b().set_tcp_event_handler([this](const tcp::Event& event) { OnEvent(event); });
  }

  int accepted() const { return accepted_; }

 private:
  void OnEvent(const tcp::Event& event) {
    Stack& b = pair_.b();
    if (event.type == tcp::EventType::kAcceptReady) {
      while (const std::optional<tcp::ConnectionId> id = b.Accept(kPort)) {
        ++accepted_;
        connection_ = *id;
      }
      return;
    }
    if (!connection_ || event.connection != *connection_) return;
    if (event.type == tcp::EventType::kReadable || event.type == tcp::EventType::kPeerClosed) {
      std::uint8_t buffer[16384];
      while (true) {
        const tcp::IoResult read = b.Receive(*connection_, buffer, pair_.now());
        if (!read.ok() || read.bytes == 0) {
          if (read.ok() && event.type == tcp::EventType::kPeerClosed) peer_done_ = true;
          break;
        }
        pending_.insert(pending_.end(), buffer, buffer + read.bytes);
      }
    }
    if (event.type == tcp::EventType::kPeerClosed) peer_done_ = true;
    Flush();
  }

  void Flush() {
    Stack& b = pair_.b();
    while (!pending_.empty()) {
      const std::vector<std::uint8_t> chunk(
          pending_.begin(), pending_.begin() + std::min<std::size_t>(pending_.size(), 16384));
      const tcp::IoResult sent = b.Send(*connection_, chunk, pair_.now());
      if (!sent.ok() || sent.bytes == 0) return;  // kWritable brings us back
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(sent.bytes));
    }
    if (peer_done_) b.Close(*connection_, pair_.now());
  }

  StackPair& pair_;
  std::optional<tcp::ConnectionId> connection_;
  std::deque<std::uint8_t> pending_;
  bool peer_done_ = false;
  int accepted_ = 0;
};

// A's side: sends kTransferBytes, half-closes, checks the echo byte for byte.
class Client {
 public:
  explicit Client(StackPair& pair) : pair_(pair) {
    pair_.a().set_tcp_event_handler([this](const tcp::Event& event) { OnEvent(event); });
  }

  void Start() {
    const tcp::Result<tcp::ConnectionId> id =
        pair_.a().Connect(StackPair::kAddressB, kPort, pair_.now());
    ASSERT_TRUE(id.ok()) << id.error().message();
    id_ = *id;
  }

  bool done() const { return echo_complete_ || closed_; }
  bool echo_complete() const { return echo_complete_; }
  std::size_t mismatches() const { return mismatches_; }
  std::size_t received() const { return received_; }

 private:
  void OnEvent(const tcp::Event& event) {
    if (event.connection != id_) return;
    Stack& a = pair_.a();
    switch (event.type) {
      case tcp::EventType::kConnected:
      case tcp::EventType::kWritable:
        SendMore();
        break;
      case tcp::EventType::kReadable:
      case tcp::EventType::kPeerClosed: {
        std::uint8_t buffer[16384];
        while (true) {
          const tcp::IoResult read = a.Receive(id_, buffer, pair_.now());
          if (!read.ok() || read.bytes == 0) break;
          for (std::size_t i = 0; i < read.bytes; ++i) {
            mismatches_ += buffer[i] != PatternByte(received_ + i);
          }
          received_ += read.bytes;
        }
        if (event.type == tcp::EventType::kPeerClosed) {
          echo_complete_ = received_ == kTransferBytes;
          a.Close(id_, pair_.now());
        }
        break;
      }
      case tcp::EventType::kClosed:
        closed_ = true;
        break;
      default:
        break;
    }
  }

  void SendMore() {
    std::uint8_t chunk[16384];
    while (sent_ < kTransferBytes) {
      const std::size_t length = std::min(sizeof chunk, kTransferBytes - sent_);
      for (std::size_t i = 0; i < length; ++i) chunk[i] = PatternByte(sent_ + i);
      const tcp::IoResult sent = pair_.a().Send(id_, std::span(chunk, length), pair_.now());
      if (!sent.ok() || sent.bytes == 0) return;
      sent_ += sent.bytes;
    }
    pair_.a().Shutdown(id_, pair_.now());
  }

  StackPair& pair_;
  tcp::ConnectionId id_;
  std::size_t sent_ = 0;
  std::size_t received_ = 0;
  std::size_t mismatches_ = 0;
  bool echo_complete_ = false;
  bool closed_ = false;
};

TEST(SynFlood, HundredThousandSpoofedSynsLeaveMemoryBoundedAndAClientGetsThrough) {
  const tcp::TcpConfig defaults;  // the limits under test are the defaults
  StackPair pair(tap::StackPairOptions{.tcp = defaults});
  Stack& b = pair.b();
  ASSERT_FALSE(b.Listen(kPort, 128, pair.now()));
  EchoServer server(pair);
  Client client(pair);

  const wire::MacAddress attacker_mac = *wire::MacAddress::Parse("02:66:6c:6f:6f:64");
  std::mt19937 rng(2026);
  std::size_t most_connections = 0, most_arp_entries = 0;
  int client_done_at_syn = -1;
  for (int batch = 0; batch * kSynsPerBatch < kFloodSyns; ++batch) {
    for (int i = 0; i < kSynsPerBatch; ++i) {
      // Distinct spoofed (address, port) pairs across 192.0.2.3-252, with random ISNs and options,
      // as a flooding tool would send them.
      const int n = batch * kSynsPerBatch + i;
      wire::TcpRepr syn;
      syn.src_port = static_cast<std::uint16_t>(1024 + n / 250);
      syn.dst_port = kPort;
      syn.seq = rng();
      syn.flags = wire::TcpFlags::kSyn;
      syn.window = static_cast<std::uint16_t>(rng());
      if (rng() % 2 == 0) syn.options.mss = static_cast<std::uint16_t>(536 + rng() % 1000);
      if (rng() % 2 == 0) syn.options.window_scale = static_cast<std::uint8_t>(rng() % 15);
      const wire::Ipv4Address source(0xc0000203u + static_cast<std::uint32_t>(n % 250));
      b.Ingest(TcpFrame(attacker_mac, source, *b.interface().mac, StackPair::kAddressB, syn),
               pair.now());
    }
    if (batch == kClientStartsAfterBatch) client.Start();
    pair.RunFor(milliseconds(10));
    most_connections = std::max(most_connections, b.tcp_connection_count());
    most_arp_entries = std::max(most_arp_entries, b.arp().size());
    if (client_done_at_syn < 0 && client.done()) client_done_at_syn = (batch + 1) * kSynsPerBatch;
  }

  // Bounded memory: never more TCBs than the half-open cap plus the one real connection, and the
  // rest of the flood cost no state at all. ARP holds at most one entry per spoofed neighbour.
  EXPECT_LE(b.tcp_half_open_count(), defaults.max_half_open);
  EXPECT_LE(most_connections, defaults.max_half_open + 1);
  EXPECT_LE(most_arp_entries, 250u + 1);  // + the client
  const Counters& counters = b.counters();
  EXPECT_EQ(counters[Counter::kTcpPassiveOpens], defaults.max_half_open + 1);  // + the client
  EXPECT_EQ(counters[Counter::kTcpSynCookiesSent], kFloodSyns - defaults.max_half_open + 1);
  EXPECT_EQ(counters[Counter::kTcpSynCookiesAccepted], 1u);

  // The client connected during the flood (through a cookie) and its data came back intact.
  EXPECT_EQ(server.accepted(), 1);
  ASSERT_TRUE(client.echo_complete()) << "echoed " << client.received() << " of " << kTransferBytes;
  EXPECT_EQ(client.mismatches(), 0u);
  EXPECT_GT(client_done_at_syn, 0);
  EXPECT_LT(client_done_at_syn, kFloodSyns);

  // Once the flood stops, the half-open connections give up (tcp_synack_retries) and everything
  // is released: nothing leaks.
  pair.RunUntil(
      [&] { return b.tcp_connection_count() == 0 && pair.a().tcp_connection_count() == 0; },
      std::chrono::minutes(5));
  EXPECT_EQ(b.tcp_connection_count(), 0u);
  EXPECT_EQ(b.tcp_half_open_count(), 0u);
  EXPECT_EQ(b.tcp_buffered_bytes(), 0u);
}

}  // namespace
}  // namespace tapstack::testing
