// Stack::IngestBurst against Stack::Ingest. Two identical server stacks receive the same frames
// from one client at the same times, one frame by frame and one burst by burst (every frame the
// client sent since the last step); only the first one's answers go back to the client. Both must
// send the same frames and report the same events, in the same order, and the bursting one must
// deliver its events once per burst, after the burst's last frame.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "stack/stack.h"

namespace tapstack {
namespace {

using Bytes = std::vector<std::uint8_t>;
using std::chrono::milliseconds;

const wire::Ipv4Address kServerIp = *wire::Ipv4Address::Parse("192.0.2.1");
const wire::Ipv4Address kClientIp = *wire::Ipv4Address::Parse("192.0.2.2");
constexpr std::uint16_t kPort = 7;
const timers::TimePoint kStart = timers::TimePoint{} + std::chrono::hours(1);

StackConfig Config(wire::Ipv4Address address, std::uint64_t seed) {
  StackConfig config;
  config.interface.address = address;
  config.interface.prefix_len = 24;
  config.random_seed = seed;
  return config;
}

struct RecordedEvent {
  tcp::EventType type;
  std::uint64_t connection;
  std::uint16_t listener_port;
  int error;
  std::uint64_t rx_frames;  // the stack's rx_frames counter when the handler saw the event
  friend bool operator==(const RecordedEvent&, const RecordedEvent&) = default;
};

// A server that only records: a handler that called back into the stack would legitimately see a
// different stack after a burst than after one frame.
struct Server {
  explicit Server(timers::TimePoint now)
      : stack(Config(kServerIp, 1), now, [this](std::span<const std::uint8_t> frame) {
          sent.emplace_back(frame.begin(), frame.end());
        }) {
    stack.set_tcp_event_handler([this](const tcp::Event& event) {
      events.push_back(RecordedEvent{event.type, event.connection.value, event.listener_port,
                                     event.error.value(), stack.counters()[Counter::kRxFrames]});
    });
  }
  Stack stack;
  std::vector<Bytes> sent;
  std::vector<RecordedEvent> events;
};

TEST(BurstIngestTest, SameFramesAndEventsAsFrameByFrameAndEventsOncePerBurst) {
  timers::TimePoint now = kStart;
  Server by_frame(now);
  Server by_burst(now);
  std::vector<Bytes> to_server;  // the client's frames not yet delivered
  Stack client(Config(kClientIp, 2), now, [&](std::span<const std::uint8_t> frame) {
    to_server.emplace_back(frame.begin(), frame.end());
  });
  ASSERT_FALSE(by_frame.stack.Listen(kPort, 8, now));
  ASSERT_FALSE(by_burst.stack.Listen(kPort, 8, now));

  // Three connections, each sending more than an initial window at once, then closing: bursts of
  // SYNs, of data segments, of FINs.
  std::vector<tcp::ConnectionId> connections;
  for (int i = 0; i < 3; ++i) {
    const auto id = client.Connect(kServerIp, kPort, now);
    ASSERT_TRUE(id.ok());
    connections.push_back(*id);
  }
  const Bytes data(20'000, 0x5a);
  bool sent_data = false;
  bool closed = false;

  std::vector<std::uint64_t> burst_ends;  // by_burst's rx_frames after each burst
  std::size_t bursts_of_several = 0;
  for (int step = 0; step < 2000; ++step) {
    // The client's frames: one by one to the first server, as one burst to the second.
    std::vector<std::span<const std::uint8_t>> burst;
    for (const Bytes& frame : to_server) {
      by_frame.stack.Ingest(frame, now);
      burst.emplace_back(frame);
    }
    if (!burst.empty()) {
      by_burst.stack.IngestBurst(burst, now);
      burst_ends.push_back(by_burst.stack.counters()[Counter::kRxFrames]);
      if (burst.size() > 1) ++bursts_of_several;
    }
    to_server.clear();
    by_frame.stack.Advance(now);
    by_burst.stack.Advance(now);

    ASSERT_EQ(by_frame.sent, by_burst.sent) << "step " << step;
    for (const Bytes& frame : by_frame.sent) client.Ingest(frame, now);
    by_frame.sent.clear();
    by_burst.sent.clear();

    // Accepted outside the handlers, identically on both servers, so that data and FIN events
    // follow (Accept takes no time and delivers nothing).
    while (const std::optional<tcp::ConnectionId> id = by_frame.stack.Accept(kPort)) {
      const std::optional<tcp::ConnectionId> twin = by_burst.stack.Accept(kPort);
      ASSERT_TRUE(twin.has_value());
      EXPECT_EQ(id->value, twin->value);
    }
    EXPECT_FALSE(by_burst.stack.Accept(kPort).has_value());

    if (!sent_data && client.counters()[Counter::kRxFrames] >= 3) {  // the SYN-ACKs are in
      for (const tcp::ConnectionId id : connections) {
        ASSERT_EQ(client.Send(id, data, now).bytes, data.size());
      }
      sent_data = true;
    } else if (sent_data && !closed && step > 200) {
      for (const tcp::ConnectionId id : connections) EXPECT_FALSE(client.Close(id, now));
      closed = true;
    }
    if (closed && to_server.empty() && step > 400) break;

    // Next event: whatever deadline comes first, at least a millisecond on.
    std::optional<timers::TimePoint> next;
    for (const auto deadline :
         {client.NextDeadline(), by_frame.stack.NextDeadline(), by_burst.stack.NextDeadline()}) {
      if (deadline && (!next || *deadline < *next)) next = deadline;
    }
    now = std::max(now + milliseconds(1), next.value_or(now + milliseconds(1)));
  }

  // Same events in the same order, apart from when each was delivered.
  ASSERT_EQ(by_frame.events.size(), by_burst.events.size());
  ASSERT_FALSE(by_frame.events.empty());
  for (std::size_t i = 0; i < by_frame.events.size(); ++i) {
    RecordedEvent a = by_frame.events[i];
    RecordedEvent b = by_burst.events[i];
    a.rx_frames = b.rx_frames = 0;
    EXPECT_EQ(a, b) << i;
  }
  // The bursting server saw every event after a whole burst, never in the middle of one.
  for (const RecordedEvent& event : by_burst.events) {
    EXPECT_TRUE(std::find(burst_ends.begin(), burst_ends.end(), event.rx_frames) !=
                burst_ends.end())
        << "an event was delivered after " << event.rx_frames << " frames, inside a burst";
  }
  // And the frame-by-frame one did see events inside what was a burst for the other: the test
  // is not passing for want of bursts.
  EXPECT_GT(bursts_of_several, 3u);
  bool event_inside_a_burst = false;
  for (const RecordedEvent& event : by_frame.events) {
    if (std::find(burst_ends.begin(), burst_ends.end(), event.rx_frames) == burst_ends.end()) {
      event_inside_a_burst = true;
    }
  }
  EXPECT_TRUE(event_inside_a_burst);
  EXPECT_EQ(by_frame.stack.counters()[Counter::kRxFrames],
            by_burst.stack.counters()[Counter::kRxFrames]);
  EXPECT_EQ(by_frame.stack.tcp_connection_count(), by_burst.stack.tcp_connection_count());
}

TEST(BurstIngestTest, AnEmptyBurstOnlyAdvancesTime) {
  Server server(kStart);
  server.stack.IngestBurst({}, kStart + milliseconds(5));
  EXPECT_EQ(server.stack.counters()[Counter::kRxFrames], 0u);
  EXPECT_TRUE(server.sent.empty());
}

}  // namespace
}  // namespace tapstack
