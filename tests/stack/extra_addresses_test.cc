// An interface with more than one address (InterfaceConfig::extra_addresses), between two stacks
// on a virtual clock: ARP, ICMP and TCP answer from the address the peer used, a connection can
// be opened from any of ours, and each address brings its own ephemeral ports towards one server
// port, which is what lets one client hold more than 64 Ki connections to one server.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stack/stack.h"
#include "tap/stack_pair.h"

namespace tapstack {
namespace {

using std::chrono::seconds;

const wire::Ipv4Address kExtraA = *wire::Ipv4Address::Parse("192.0.2.21");
const wire::Ipv4Address kExtraA2 = *wire::Ipv4Address::Parse("192.0.2.22");
const wire::Ipv4Address kExtraB = *wire::Ipv4Address::Parse("192.0.2.11");
const wire::Ipv4Address kNotOurs = *wire::Ipv4Address::Parse("192.0.2.99");
constexpr std::uint16_t kServerPort = 80;

class ExtraAddressesTest : public ::testing::Test {
 protected:
  explicit ExtraAddressesTest(tcp::TcpConfig tcp = {}) {
    tap::StackPairOptions options;
    options.tcp = tcp;
    // Given unsorted and with a duplicate and the primary address: the stack tidies them.
    options.extra_addresses_a = {kExtraA2, kExtraA, tap::StackPair::kAddressA, kExtraA};
    options.extra_addresses_b = {kExtraB};
    pair_.emplace(options);
    pair_->b().set_tcp_event_handler([this](const tcp::Event& event) {
      if (event.type != tcp::EventType::kAcceptReady) return;
      while (std::optional<tcp::ConnectionId> id = b().Accept(event.listener_port)) {
        accepted_.push_back(*id);
      }
    });
    EXPECT_FALSE(b().Listen(kServerPort, 1024, now()));
  }

  Stack& a() { return pair_->a(); }
  Stack& b() { return pair_->b(); }
  timers::TimePoint now() const { return pair_->now(); }
  bool RunUntil(const std::function<bool()>& done) { return pair_->RunUntil(done, seconds(10)); }
  bool Established(tcp::ConnectionId id) {
    const std::optional<tcp::ConnectionInfo> info = a().Info(id);
    return info && info->state == tcp::State::kEstablished;
  }
  // Sends `text` from A on `ours` and returns what B reads on `theirs`.
  std::string Echo(tcp::ConnectionId ours, tcp::ConnectionId theirs, const std::string& text) {
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(text.data()),
                                              text.size());
    EXPECT_EQ(a().Send(ours, bytes, now()).bytes, text.size());
    std::string received;
    RunUntil([&] {
      std::uint8_t buffer[256];
      const tcp::IoResult read = b().Receive(theirs, buffer, now());
      received.append(reinterpret_cast<const char*>(buffer), read.bytes);
      return received.size() >= text.size();
    });
    return received;
  }

  std::optional<tap::StackPair> pair_;
  std::vector<tcp::ConnectionId> accepted_;
};

TEST_F(ExtraAddressesTest, TheStackKeepsItsExtraAddressesSortedWithoutRepeats) {
  EXPECT_EQ(a().interface().extra_addresses, (std::vector{kExtraA, kExtraA2}));
  EXPECT_TRUE(HasAddress(a().interface(), tap::StackPair::kAddressA));
  EXPECT_TRUE(HasAddress(a().interface(), kExtraA2));
  EXPECT_FALSE(HasAddress(a().interface(), kNotOurs));
}

TEST_F(ExtraAddressesTest, AConnectionToAnExtraAddressIsAnsweredFromIt) {
  const tcp::Result<tcp::ConnectionId> to_extra = a().Connect(kExtraB, kServerPort, now());
  const tcp::Result<tcp::ConnectionId> to_primary =
      a().Connect(tap::StackPair::kAddressB, kServerPort, now());
  ASSERT_TRUE(to_extra.ok());
  ASSERT_TRUE(to_primary.ok());
  ASSERT_TRUE(RunUntil([&] { return accepted_.size() == 2; }));
  ASSERT_TRUE(Established(*to_extra));
  ASSERT_TRUE(Established(*to_primary));
  EXPECT_EQ(a().Info(*to_extra)->remote_address, kExtraB);
  // B's side of each: its local address is the one A dialled (the accept order follows the SYNs').
  std::vector<wire::Ipv4Address> b_locals;
  for (const tcp::ConnectionId id : accepted_)
    b_locals.push_back(b().Info(id)->local_address.ipv4());
  EXPECT_EQ(b_locals, (std::vector{kExtraB, tap::StackPair::kAddressB}));
  EXPECT_EQ(Echo(*to_extra, accepted_[0], "to the extra address"), "to the extra address");
  EXPECT_EQ(b().counters()[Counter::kDropTcpBadChecksum], 0u);
}

TEST_F(ExtraAddressesTest, AConnectionOpensFromAnExtraAddressAndArpAnswersForIt) {
  const tcp::Result<tcp::ConnectionId> id = a().ConnectFrom(
      kExtraA2, tap::StackPair::kAddressB, kServerPort, tcp::ConnectionOptions{}, now());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(RunUntil([&] { return accepted_.size() == 1 && Established(*id); }));
  EXPECT_EQ(a().Info(*id)->local_address, kExtraA2);
  EXPECT_EQ(b().Info(accepted_[0])->remote_address, kExtraA2);
  // B answered the SYN at kExtraA2, so it resolved that address: A's ARP answered for it.
  EXPECT_EQ(b().arp().Lookup(kExtraA2), a().interface().mac);
  EXPECT_EQ(Echo(*id, accepted_[0], "from the extra address"), "from the extra address");
}

TEST_F(ExtraAddressesTest, ConnectFromAnAddressNotOursIsRefused) {
  const tcp::Result<tcp::ConnectionId> id = a().ConnectFrom(
      kNotOurs, tap::StackPair::kAddressB, kServerPort, tcp::ConnectionOptions{}, now());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error(), std::errc::address_not_available);
  EXPECT_EQ(a().tcp_connection_count(), 0u);
}

TEST_F(ExtraAddressesTest, PingsToAnExtraAddressAreAnsweredFromIt) {
  std::vector<wire::Ipv4Address> replies_from;
  a().set_echo_reply_handler([&](const EchoReply& reply) { replies_from.push_back(reply.from); });
  ASSERT_TRUE(a().SendEchoRequest(kExtraB, 1, 1, {}, now()));
  ASSERT_TRUE(RunUntil([&] { return !replies_from.empty(); }));
  EXPECT_EQ(replies_from, std::vector{kExtraB});
}

TEST_F(ExtraAddressesTest, ArpAnswersForNoAddressThatIsNotOurs) {
  // B's ARP does not answer for an address it lacks, so A never sends the ping at all.
  ASSERT_TRUE(a().SendEchoRequest(kNotOurs, 1, 1, {}, now()));
  pair_->RunUntil([] { return false; }, seconds(5));
  EXPECT_EQ(b().counters()[Counter::kTxArpReplies], 0u);
  EXPECT_GT(b().counters()[Counter::kDropArpNotForUs], 0u);
  EXPECT_EQ(a().arp().Lookup(kNotOurs), std::nullopt);
}

// Three ports in the ephemeral range: each of A's three addresses opens three connections to the
// same server port, and a fourth from any of them finds no port.
class FewEphemeralPortsTest : public ExtraAddressesTest {
 protected:
  static tcp::TcpConfig FewPorts() {
    tcp::TcpConfig tcp;
    tcp.ephemeral_port_first = 40000;
    tcp.ephemeral_port_last = 40002;
    return tcp;
  }
  FewEphemeralPortsTest() : ExtraAddressesTest(FewPorts()) {}
};

TEST_F(FewEphemeralPortsTest, EachAddressBringsItsOwnPortsTowardsOneServerPort) {
  std::vector<tcp::ConnectionId> opened;
  for (const wire::Ipv4Address local : {tap::StackPair::kAddressA, kExtraA, kExtraA2}) {
    for (int i = 0; i < 3; ++i) {
      const tcp::Result<tcp::ConnectionId> id = a().ConnectFrom(
          local, tap::StackPair::kAddressB, kServerPort, tcp::ConnectionOptions{}, now());
      ASSERT_TRUE(id.ok()) << "connection " << i << " from " << local.ToString();
      opened.push_back(*id);
    }
    const tcp::Result<tcp::ConnectionId> one_more = a().ConnectFrom(
        local, tap::StackPair::kAddressB, kServerPort, tcp::ConnectionOptions{}, now());
    ASSERT_FALSE(one_more.ok());
    EXPECT_EQ(one_more.error(), std::errc::address_not_available);
  }
  ASSERT_TRUE(RunUntil([&] { return accepted_.size() == opened.size(); }));
  for (const tcp::ConnectionId id : opened) EXPECT_TRUE(Established(id));
}

}  // namespace
}  // namespace tapstack
