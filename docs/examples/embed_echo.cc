// embed_echo: how to embed tapstack in your own event loop.
//
// Two tapstack::Stack instances, a server at 192.0.2.1 and a client at 192.0.2.2, are joined by an
// in-memory cable (tap::MemoryLink) that delays every frame by 5 ms (tap::FaultyLink with a fixed
// delay and no faults). The server listens on port 7 and echoes what it reads; the client connects,
// sends one line, reads the echo back and closes.
//
// There is no socket, no thread and no sleep. The loop at the bottom of main() is the whole
// "event loop": it hands ready frames to the stacks, runs their timers, and then moves a virtual
// clock straight to the next moment at which anything can happen. The client's 60 s in TIME-WAIT
// therefore costs a handful of loop iterations, not a minute.
//
// Exit status 0 when the echo came back intact and both stacks ended with no connection left.
// See docs/architecture.md ("Embedding the stack") for the rules this example follows.
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "stack/result.h"
#include "stack/stack.h"
#include "tap/clock.h"
#include "tap/device.h"
#include "tap/faulty_link.h"
#include "tap/memory_link.h"

namespace {

using namespace std::chrono_literals;
namespace tcp = tapstack::tcp;
namespace tap = tapstack::tap;
namespace timers = tapstack::timers;
namespace wire = tapstack::wire;

constexpr wire::Ipv4Address kServerAddress(192, 0, 2, 1);
constexpr wire::Ipv4Address kClientAddress(192, 0, 2, 2);
constexpr std::uint16_t kEchoPort = 7;

tapstack::StackConfig MakeConfig(wire::Ipv4Address address, std::uint64_t seed) {
  tapstack::StackConfig config;
  config.interface.address = address;
  config.interface.prefix_len = 24;  // both ends in 192.0.2.0/24: on-link, no gateway needed
  // The seed decides everything random (MAC address, IP identification, the ISN secret). A fixed
  // seed makes the run reproducible; a real program draws it from std::random_device.
  config.random_seed = seed;
  return config;
}

// A device endpoint that delays what it sends by exactly `delay` and does nothing else.
std::unique_ptr<tap::Device> Delayed(std::unique_ptr<tap::Device> end, timers::Duration delay) {
  return std::make_unique<tap::FaultyLink>(
      std::move(end), tap::FaultOptions{.seed = 1, .min_delay = delay, .max_delay = delay});
}

}  // namespace

int main() {
  // 1. The clock. The stack never reads a clock: every call takes `now`. Here time is virtual and
  //    starts at an arbitrary point; it only moves when the loop below moves it.
  tap::VirtualClock clock(timers::TimePoint{} + 1h);
  const timers::TimePoint start = clock.Now();
  const auto t = [&] { return std::chrono::duration<double>(clock.Now() - start).count(); };

  // 2. The cable: two Device endpoints; what one sends, the other receives.
  auto [end_a, end_b] = tap::MemoryLink::CreatePair(/*mtu=*/1500);
  std::unique_ptr<tap::Device> server_port = Delayed(std::move(end_a), 5ms);
  std::unique_ptr<tap::Device> client_port = Delayed(std::move(end_b), 5ms);

  // 3. The stacks. The sink receives every frame a stack emits, synchronously, in the middle of
  //    the stack's work. It must only pass the frame on (the span is valid during the call only)
  //    and must not call back into a stack; here it queues the frame on the cable.
  tapstack::Stack server(MakeConfig(kServerAddress, 1), clock.Now(),
                         [&](std::span<const std::uint8_t> frame) {
                           (void)server_port->Send(frame, clock.Now());  // a drop is counted
                         });
  tapstack::Stack client(
      MakeConfig(kClientAddress, 2), clock.Now(),
      [&](std::span<const std::uint8_t> frame) { (void)client_port->Send(frame, clock.Now()); });

  // 4. Traces: what happens inside each connection, for the curious. Trace handlers run while the
  //    engine is at work, so they may only look (print, count), never call into the stack.
  const auto print_traces = [&](const char* who) {
    return [&t, who](const tcp::Trace& trace) {
      if (trace.type == tcp::TraceType::kStateChange) {
        std::printf("%7.3f s  %-6s %s -> %s\n", t(), who, tcp::StateName(trace.from).data(),
                    tcp::StateName(trace.to).data());
      } else if (trace.type == tcp::TraceType::kRetransmit) {
        std::printf("%7.3f s  %-6s retransmits seq %u\n", t(), who, trace.seq);
      }
    };
  };
  server.set_tcp_trace_handler(print_traces("server"));
  client.set_tcp_trace_handler(print_traces("client"));

  bool failed = false;

  // 5. The server application. Events are queued while the stack works and delivered when the
  //    entry point (Ingest, Advance, Send, ...) returns, so a handler may call straight back into
  //    the stack, as this one does.
  std::optional<tcp::ConnectionId> server_connection;
  server.set_tcp_event_handler([&](const tcp::Event& event) {
    switch (event.type) {
      case tcp::EventType::kAcceptReady:
        server_connection = server.Accept(event.listener_port);
        std::printf("%7.3f s  server accepted a connection on port %u\n", t(), event.listener_port);
        break;
      case tcp::EventType::kReadable:
      case tcp::EventType::kPeerClosed: {
        if (!server_connection || event.connection != *server_connection) break;
        std::array<std::uint8_t, 2048> buffer;
        while (true) {
          const tcp::IoResult got = server.Receive(*server_connection, buffer, clock.Now());
          if (!got.ok()) break;  // EAGAIN: nothing more to read for now
          if (got.bytes == 0) {  // end of stream: the client sent its FIN and we read everything
            std::printf("%7.3f s  server read end of stream, closes\n", t());
            (void)server.Close(*server_connection, clock.Now());  // our FIN; the handle is released
            server_connection.reset();
            break;
          }
          const tcp::IoResult sent =
              server.Send(*server_connection, std::span(buffer).first(got.bytes), clock.Now());
          // A real server keeps what did not fit and sends it on EventType::kWritable; this
          // line always fits in the default 256 KiB send buffer.
          if (sent.bytes != got.bytes) failed = true;
          std::printf("%7.3f s  server echoes %zu bytes\n", t(), got.bytes);
        }
        break;
      }
      case tcp::EventType::kClosed:
        std::printf("%7.3f s  server connection closed: %s\n", t(),
                    event.error ? event.error.message().c_str() : "cleanly");
        if (event.error) failed = true;
        break;
      default:
        break;
    }
  });

  // 6. The client application.
  const std::string message = "hello through two userspace TCP stacks\n";
  std::string echo;
  std::optional<tcp::ConnectionId> client_connection;
  client.set_tcp_event_handler([&](const tcp::Event& event) {
    if (!client_connection || event.connection != *client_connection) return;
    switch (event.type) {
      case tcp::EventType::kConnected: {
        const auto bytes =
            std::span(reinterpret_cast<const std::uint8_t*>(message.data()), message.size());
        const tcp::IoResult sent = client.Send(*client_connection, bytes, clock.Now());
        std::printf("%7.3f s  client connected, sends %zu bytes\n", t(), sent.bytes);
        if (sent.bytes != message.size()) failed = true;
        break;
      }
      case tcp::EventType::kReadable: {
        std::array<std::uint8_t, 2048> buffer;
        tcp::IoResult got;
        while ((got = client.Receive(*client_connection, buffer, clock.Now())).bytes > 0) {
          echo.append(reinterpret_cast<const char*>(buffer.data()), got.bytes);
        }
        if (echo.size() >= message.size()) {
          std::printf("%7.3f s  client read the echo: %s", t(), echo.c_str());
          std::printf("%7.3f s  client closes\n", t());
          (void)client.Close(*client_connection, clock.Now());  // FIN, then TIME-WAIT for 60 s
          client_connection.reset();
        }
        break;
      }
      case tcp::EventType::kClosed:  // only delivered for connections the application still holds
        std::printf("%7.3f s  client connection failed: %s\n", t(), event.error.message().c_str());
        failed = true;
        break;
      default:
        break;
    }
  });

  // 7. Open. Both calls take the current time, like every entry point of the stack.
  if (const std::error_code error = server.Listen(kEchoPort, /*backlog=*/4, clock.Now())) {
    std::fprintf(stderr, "listen: %s\n", error.message().c_str());
    return 1;
  }
  tcp::Result<tcp::ConnectionId> connected = client.Connect(kServerAddress, kEchoPort, clock.Now());
  if (!connected.ok()) {
    std::fprintf(stderr, "connect: %s\n", connected.error().message().c_str());
    return 1;
  }
  client_connection = *connected;
  std::printf("%7.3f s  client connects to %s:%u\n", t(), kServerAddress.ToString().c_str(),
              kEchoPort);

  // 8. The event loop. Each iteration: deliver every frame that is ready, run the timers that are
  //    due, then jump the clock to the earliest next event (a stack's timer deadline or a frame
  //    becoming ready on the cable). With a real clock, the jump becomes a sleep: poll/epoll on the
  //    devices' descriptors with a timeout until that same earliest time (tap::EventLoop does
  //    exactly this; tools/runtime.cc wires a Stack to it).
  struct Port {
    tap::Device* device;
    tapstack::Stack* stack;
  };
  const std::array<Port, 2> ports = {Port{server_port.get(), &server},
                                     Port{client_port.get(), &client}};
  std::vector<std::uint8_t> frame(tap::MaxFrameSize(1500));
  const auto finished = [&] {
    return echo.size() >= message.size() && server.tcp_connection_count() == 0 &&
           client.tcp_connection_count() == 0;
  };
  const timers::TimePoint give_up = start + 10min;  // virtual time
  int iterations = 0;
  while (++iterations < 100'000) {  // a bound, so that a bug shows as a failure, not a hang
    const timers::TimePoint now = clock.Now();
    // Frames. An answer a stack sends at once is ready on the cable at once, so go round until
    // no device has anything left for `now`.
    for (bool moved = true; moved;) {
      moved = false;
      for (const Port& port : ports) {
        while (true) {
          const tapstack::Result<std::size_t> length = port.device->Receive(frame, now);
          if (!length.ok() || *length == 0) break;
          port.stack->Ingest(std::span(frame).first(*length), now);
          moved = true;
        }
      }
    }
    // Timers (retransmission, delayed ACK, TIME-WAIT, keepalive, ARP, ...).
    server.Advance(now);
    client.Advance(now);
    if (finished() || failed) break;
    // The next moment anything can happen. nullopt from everyone would mean nothing ever will.
    std::optional<timers::TimePoint> next;
    for (const std::optional<timers::TimePoint> candidate :
         {server.NextDeadline(), client.NextDeadline(), server_port->NextReadyTime(),
          client_port->NextReadyTime()}) {
      if (candidate && (!next || *candidate < *next)) next = candidate;
    }
    if (!next || *next > give_up) break;
    clock.Set(*next);  // a time already reached leaves the clock where it is
  }

  const bool ok = !failed && finished() && echo == message;
  std::printf("%7.3f s  %s after %d loop iterations\n", t(), ok ? "done" : "FAILED", iterations);
  for (const auto& [name, stack] : {std::pair{"server", &server}, std::pair{"client", &client}}) {
    const tapstack::Counters& counters = stack->counters();
    std::printf(
        "  %s: %llu frames out, %llu TCP segments out, %llu retransmissions, "
        "%llu timers fired, %llu dropped frames\n",
        name, static_cast<unsigned long long>(counters[tapstack::Counter::kTxFrames]),
        static_cast<unsigned long long>(counters[tapstack::Counter::kTxTcpSegments]),
        static_cast<unsigned long long>(counters[tapstack::Counter::kTcpRetransmits]),
        static_cast<unsigned long long>(stack->timers().stats().fired),
        static_cast<unsigned long long>(counters.TotalDrops()));
  }
  return ok ? 0 : 1;
}
