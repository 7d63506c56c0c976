// TCP over IPv6 end to end: two stacks joined in memory on a virtual clock, each with an IPv4 and
// an IPv6 address. A listener takes both families at once; keepalive, the user timeout and
// TIME-WAIT run over IPv6 to the same microsecond as over IPv4; SYN cookies and refused
// connections work over the IPv6 tuple.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stack/wire/ethernet.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/tcp.h"
#include "tap/stack_pair.h"

namespace tapstack::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using tap::StackPair;
using tap::StackPairOptions;

constexpr std::uint16_t kPort = 5001;

std::error_code Posix(int value) { return std::error_code(value, std::generic_category()); }

// A TCP segment carried over IPv6, as it crossed the link.
struct Ipv6Segment {
  wire::Ipv6Address src, dst;
  std::uint8_t flags;
  std::uint32_t seq;
  std::size_t payload_size;
};

std::optional<Ipv6Segment> DecodeIpv6Tcp(std::span<const std::uint8_t> frame) {
  const auto ethernet = wire::EthernetView::Parse(frame);
  if (!ethernet.ok() || ethernet->ethertype() != wire::EtherType::kIpv6) return std::nullopt;
  const auto ip = wire::Ipv6View::Parse(ethernet->payload());
  if (!ip.ok() || ip->upper_layer_protocol() != wire::IpProtocol::kTcp) return std::nullopt;
  const auto tcp = wire::TcpView::Parse(ip->upper_layer_payload());
  if (!tcp.ok() || !tcp->checksum_valid(ip->src(), ip->dst())) return std::nullopt;
  return Ipv6Segment{ip->src(), ip->dst(), tcp->flags(), tcp->seq(), tcp->payload().size()};
}

// Both stacks with IPv6; B listens on kPort and accepts everything.
class Ipv6ConnectionTest : public ::testing::Test {
 protected:
  void Start(StackPairOptions options = {}) {
    options.ipv6 = true;
    options.drop_a_to_b = [this](std::span<const std::uint8_t> frame) {
      if (const auto segment = DecodeIpv6Tcp(frame)) from_a_.push_back(*segment);
      return false;
    };
    options.drop_b_to_a = [this](std::span<const std::uint8_t>) { return b_dead_; };
    pair_.emplace(options);
    a().set_tcp_event_handler([this](const tcp::Event& event) { a_events_.push_back(event); });
    b().set_tcp_event_handler([this](const tcp::Event& event) {
      if (event.type == tcp::EventType::kAcceptReady) accepted_.push_back(*b().Accept(kPort));
    });
    ASSERT_FALSE(b().Listen(kPort, 16, pair_->now()));
  }

  Stack& a() { return pair_->a(); }
  Stack& b() { return pair_->b(); }

  tcp::ConnectionId Connect(const wire::IpAddress& remote, const tcp::ConnectionOptions& options) {
    const tcp::Result<tcp::ConnectionId> id = a().Connect(remote, kPort, options, pair_->now());
    EXPECT_TRUE(id.ok());
    const std::size_t accepted_before = accepted_.size();
    EXPECT_TRUE(pair_->RunUntil([&] { return accepted_.size() > accepted_before; }, seconds(5)));
    return *id;
  }

  std::string ReadAll(Stack& stack, tcp::ConnectionId id) {
    std::string text;
    std::vector<std::uint8_t> buffer(4096);
    while (true) {
      const tcp::IoResult got = stack.Receive(id, buffer, pair_->now());
      if (!got.ok() || got.bytes == 0) break;
      text.append(buffer.begin(), buffer.begin() + static_cast<long>(got.bytes));
    }
    return text;
  }

  std::optional<StackPair> pair_;
  std::vector<tcp::ConnectionId> accepted_;
  std::vector<tcp::Event> a_events_;
  std::vector<Ipv6Segment> from_a_;
  bool b_dead_ = false;
};

TEST_F(Ipv6ConnectionTest, OneListenerTakesAnIpv4AndAnIpv6ConnectionAtOnce) {
  Start();
  const tcp::ConnectionOptions options;
  const tcp::ConnectionId over_ipv4 = Connect(StackPair::kAddressB, options);
  const tcp::ConnectionId over_ipv6 = Connect(StackPair::kIpv6AddressB, options);
  ASSERT_EQ(accepted_.size(), 2u);
  EXPECT_EQ(a().tcp_connection_count(), 2u);
  EXPECT_EQ(b().tcp_connection_count(), 2u);

  const auto info4 = a().Info(over_ipv4);
  const auto info6 = a().Info(over_ipv6);
  ASSERT_TRUE(info4 && info6);
  EXPECT_EQ(info4->remote_address, wire::IpAddress(StackPair::kAddressB));
  EXPECT_EQ(info4->local_address, wire::IpAddress(StackPair::kAddressA));
  EXPECT_EQ(info6->remote_address, wire::IpAddress(StackPair::kIpv6AddressB));
  EXPECT_EQ(info6->local_address, wire::IpAddress(StackPair::kIpv6AddressA));
  // 1500 less the headers (40 over IPv4, 60 over IPv6) and 12 bytes of timestamps.
  EXPECT_EQ(info4->mss, 1448u);
  EXPECT_EQ(info6->mss, 1428u);
  // Ports come from one ephemeral range for both families.
  EXPECT_NE(info4->local_port, info6->local_port);

  // Data both ways on both, interleaved.
  const std::string hello4 = "over IPv4", hello6(100'000, '6');
  ASSERT_EQ(a().Send(over_ipv4,
                     std::span(reinterpret_cast<const std::uint8_t*>(hello4.data()), hello4.size()),
                     pair_->now())
                .bytes,
            hello4.size());
  ASSERT_EQ(a().Send(over_ipv6,
                     std::span(reinterpret_cast<const std::uint8_t*>(hello6.data()), hello6.size()),
                     pair_->now())
                .bytes,
            hello6.size());
  std::string got4, got6;
  ASSERT_TRUE(pair_->RunUntil(
      [&] {
        for (const tcp::ConnectionId id : accepted_) {
          const auto info = b().Info(id);
          (info->remote_address.is_ipv6() ? got6 : got4) += ReadAll(b(), id);
        }
        return got4.size() == hello4.size() && got6.size() == hello6.size();
      },
      seconds(5)));
  EXPECT_EQ(got4, hello4);
  EXPECT_EQ(got6, hello6);
  // The IPv6 connection's data crossed as IPv6, from our IPv6 address.
  std::size_t ipv6_payload = 0;
  for (const Ipv6Segment& segment : from_a_) {
    EXPECT_EQ(segment.src, StackPair::kIpv6AddressA);
    EXPECT_EQ(segment.dst, StackPair::kIpv6AddressB);
    ipv6_payload += segment.payload_size;
  }
  EXPECT_EQ(ipv6_payload, hello6.size());

  // Both close cleanly; after TIME-WAIT both tables are empty.
  for (const tcp::ConnectionId id : {over_ipv4, over_ipv6}) {
    EXPECT_FALSE(a().Close(id, pair_->now()));
  }
  for (const tcp::ConnectionId id : accepted_) EXPECT_FALSE(b().Close(id, pair_->now()));
  pair_->RunFor(seconds(61));
  EXPECT_EQ(a().tcp_connection_count(), 0u);
  EXPECT_EQ(b().tcp_connection_count(), 0u);
}

// What A saw of one connection's end: probes and the error, at their times since the start.
struct Ending {
  std::vector<tcp::Duration> probe_times;
  std::vector<bool> probes_at_snd_nxt_minus_one;
  tcp::Duration closed_at{};
  std::error_code error;
  bool reset_sent = false;
  friend bool operator==(const Ending&, const Ending&) = default;
};

// RFC 1122 4.2.3.6 against a peer that died after the handshake: idle 10 s, then three probes
// 2 s apart, then RST and ETIMEDOUT; or, with `user_timeout`, data that is never acknowledged.
// Run over either family with the same seeds.
Ending DeadPeer(bool ipv6, bool with_data) {
  StackPairOptions options;
  options.ipv6 = true;
  bool b_dead = false;
  std::vector<std::vector<std::uint8_t>> frames_from_a;
  std::vector<tcp::Duration> frame_times;
  std::optional<StackPair> pair;
  options.drop_a_to_b = [&](std::span<const std::uint8_t> frame) {
    frames_from_a.emplace_back(frame.begin(), frame.end());
    frame_times.push_back(pair->now().time_since_epoch());
    return b_dead;
  };
  options.drop_b_to_a = [&](std::span<const std::uint8_t>) { return b_dead; };
  pair.emplace(options);
  std::optional<tcp::Event> closed;
  pair->a().set_tcp_event_handler([&](const tcp::Event& event) {
    if (event.type == tcp::EventType::kClosed) closed = event;
  });
  pair->b().set_tcp_event_handler([&](const tcp::Event& event) {
    if (event.type == tcp::EventType::kAcceptReady) (void)pair->b().Accept(kPort);
  });
  EXPECT_FALSE(pair->b().Listen(kPort, 4, pair->now()));
  tcp::ConnectionOptions connection;
  connection.keepalive = {.enabled = true, .idle = seconds(10), .interval = seconds(2), .count = 3};
  if (with_data) connection.user_timeout = seconds(5);
  const wire::IpAddress remote =
      ipv6 ? wire::IpAddress(StackPair::kIpv6AddressB) : wire::IpAddress(StackPair::kAddressB);
  const tcp::Result<tcp::ConnectionId> id =
      pair->a().Connect(remote, kPort, connection, pair->now());
  EXPECT_TRUE(id.ok());
  // The link has no delay: the handshake completes at once, and the idle time counts from here.
  const timers::TimePoint start = pair->now();
  pair->RunFor(milliseconds(100));
  EXPECT_EQ(pair->a().Info(*id)->state, tcp::State::kEstablished);
  b_dead = true;
  const std::uint32_t snd_nxt = pair->a().Info(*id)->snd_nxt;
  if (with_data) {
    const std::uint8_t byte = 'x';
    EXPECT_EQ(pair->a().Send(*id, std::span(&byte, 1), pair->now()).bytes, 1u);
  }
  const std::size_t frames_before = frames_from_a.size();
  EXPECT_TRUE(pair->RunUntil([&] { return closed.has_value(); }, seconds(60)));

  Ending ending;
  ending.closed_at = pair->now() - start;
  ending.error = closed ? closed->error : std::error_code();
  for (std::size_t i = frames_before; i < frames_from_a.size(); ++i) {
    const auto ethernet = wire::EthernetView::Parse(frames_from_a[i]);
    std::span<const std::uint8_t> segment_bytes;
    if (ethernet->ethertype() == wire::EtherType::kIpv6) {
      const auto ip = wire::Ipv6View::Parse(ethernet->payload());
      if (ip->upper_layer_protocol() != wire::IpProtocol::kTcp) continue;
      segment_bytes = ip->upper_layer_payload();
    } else if (ethernet->ethertype() == wire::EtherType::kIpv4) {
      segment_bytes = ethernet->payload().subspan(20);
      if (ethernet->payload()[9] != wire::IpProtocol::kTcp) continue;
    } else {
      continue;
    }
    const auto segment = wire::TcpView::Parse(segment_bytes);
    if (segment->flags() & wire::TcpFlags::kRst) {
      ending.reset_sent = true;
    } else if (segment->payload().empty()) {
      ending.probe_times.push_back(frame_times[i] - start.time_since_epoch());
      ending.probes_at_snd_nxt_minus_one.push_back(segment->seq() == snd_nxt - 1);
    }
  }
  return ending;
}

TEST(Ipv6TimersTest, KeepaliveFindsADeadPeerOverIpv6ExactlyAsOverIpv4) {
  const Ending over_ipv6 = DeadPeer(/*ipv6=*/true, /*with_data=*/false);
  EXPECT_EQ(over_ipv6.error, Posix(ETIMEDOUT));
  EXPECT_TRUE(over_ipv6.reset_sent);
  ASSERT_EQ(over_ipv6.probe_times.size(), 3u);
  EXPECT_EQ(over_ipv6.probe_times[0], seconds(10));
  EXPECT_EQ(over_ipv6.probe_times[1], seconds(12));
  EXPECT_EQ(over_ipv6.probe_times[2], seconds(14));
  EXPECT_EQ(over_ipv6.probes_at_snd_nxt_minus_one, std::vector<bool>(3, true));
  EXPECT_EQ(over_ipv6.closed_at, seconds(16));
  EXPECT_EQ(over_ipv6, DeadPeer(/*ipv6=*/false, /*with_data=*/false));
}

TEST(Ipv6TimersTest, UserTimeoutEndsAConnectionOverIpv6ExactlyAsOverIpv4) {
  const Ending over_ipv6 = DeadPeer(/*ipv6=*/true, /*with_data=*/true);
  EXPECT_EQ(over_ipv6.error, Posix(ETIMEDOUT));
  EXPECT_EQ(over_ipv6.closed_at, milliseconds(5'100)) << "sent 100 ms after the handshake";
  EXPECT_TRUE(over_ipv6.probe_times.empty()) << "no keepalive probe while data is unacknowledged";
  EXPECT_EQ(over_ipv6, DeadPeer(/*ipv6=*/false, /*with_data=*/true));
}

TEST_F(Ipv6ConnectionTest, SynCookiesOpenAnIpv6Connection) {
  StackPairOptions options;
  options.tcp.max_half_open = 0;  // every SYN to B is answered with a cookie
  Start(options);
  const tcp::ConnectionId id = Connect(StackPair::kIpv6AddressB, {});
  EXPECT_EQ(b().counters()[Counter::kTcpSynCookiesSent], 1u);
  EXPECT_EQ(b().counters()[Counter::kTcpSynCookiesAccepted], 1u);
  const std::string text = "cookie";
  a().Send(id, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
           pair_->now());
  std::string got;
  ASSERT_TRUE(pair_->RunUntil(
      [&] {
        got += ReadAll(b(), accepted_.at(0));
        return got.size() == text.size();
      },
      seconds(5)));
  EXPECT_EQ(got, text);
  EXPECT_EQ(b().Info(accepted_.at(0))->remote_address, wire::IpAddress(StackPair::kIpv6AddressA));
  // The cookie carried an MSS from its table no larger than the client's 1440.
  EXPECT_LE(a().Info(id)->mss, 1440u);
}

TEST_F(Ipv6ConnectionTest, AClosedPortRefusesAnIpv6Connection) {
  Start();
  const tcp::Result<tcp::ConnectionId> id =
      a().Connect(StackPair::kIpv6AddressB, 9, tcp::ConnectionOptions{}, pair_->now());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(pair_->RunUntil([&] { return !a_events_.empty(); }, seconds(5)));
  EXPECT_EQ(a_events_[0].type, tcp::EventType::kClosed);
  EXPECT_EQ(a_events_[0].error, Posix(ECONNREFUSED));
  EXPECT_EQ(a().tcp_connection_count(), 0u);
}

}  // namespace
}  // namespace tapstack::testing
