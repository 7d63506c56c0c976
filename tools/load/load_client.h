// The client side of `tapstack load`: opens --connections connections over the interface's
// addresses towards the destinations, paced, holds them with keepalive, optionally sends on each
// every --every, and counts what happens to them (load_report.h).
#ifndef TAPSTACK_TOOLS_LOAD_LOAD_CLIENT_H_
#define TAPSTACK_TOOLS_LOAD_LOAD_CLIENT_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "stack/stack.h"
#include "timers/timer.h"
#include "timers/timer_wheel.h"
#include "tools/load/load_options.h"
#include "tools/load/load_role.h"

namespace tapstack::tools {

class LoadClient final : public LoadRole {
 public:
  // `stack` must outlive the client; `connection` is what every connection is opened with.
  LoadClient(Stack& stack, const LoadOptions& options, const tcp::ConnectionOptions& connection,
             timers::TimePoint start);

  std::error_code Start(timers::TimePoint now) override;
  void OnEvent(const tcp::Event& event, timers::TimePoint now) override;
  void Advance(timers::TimePoint now) override;
  std::optional<timers::TimePoint> NextDeadline() const override { return wheel_.NextDeadline(); }
  bool Settled() const override;
  bool Exhausted() const override;
  std::size_t AbortSome(std::size_t at_most, timers::TimePoint now) override;

 private:
  enum class FlowState : std::uint8_t { kNotOpened, kConnecting, kEstablished, kEnded };

  // One connection of the run. The periodic send's timer is embedded, so that 100,000 flows with
  // traffic cost 100,000 timer nodes on the client's own wheel and no allocation per send.
  struct Flow {
    timers::Timer send_timer{&OnSendTimer};
    LoadClient* client = nullptr;
    tcp::ConnectionId id;
    timers::TimePoint opened;
    FlowState state = FlowState::kNotOpened;
  };

  static void OnSendTimer(timers::Timer& timer);
  static void OnOpenTimer(timers::Timer& timer);

  // Opens what the pacing allows by `now`: up to --rate per second since the start, or without a
  // rate as many as keep kMaxConnectsInFlight handshakes in flight.
  void OpenDue(timers::TimePoint now);
  void Open(std::size_t index, timers::TimePoint now);
  void SendOn(Flow& flow);
  void Drain(Flow& flow, timers::TimePoint now);
  void Ended(Flow& flow, std::error_code error, timers::TimePoint now);
  // Records open_seconds the first time every flow has been opened and answered.
  void NoteIfSettled(timers::TimePoint now);

  Stack& stack_;
  const LoadOptions options_;
  const tcp::ConnectionOptions connection_;
  const timers::TimePoint start_;
  // Connection i goes from source address i mod S to destination (i / S) mod D: every
  // (source, destination) pair gets its share, each within the ephemeral ports, and a burst of
  // new connections spreads over the sources (a middlebox resolves each one's MAC once).
  std::vector<std::pair<wire::Ipv4Address, std::uint16_t>> destinations_;
  std::vector<wire::Ipv4Address> sources_;
  // The client's own timers. Declared before the flows and the open timer, which hold nodes on it
  // and so must go first.
  timers::TimerWheel wheel_;
  std::vector<Flow> flows_;  // sized once: the timers inside must not move
  absl::flat_hash_map<std::uint64_t, std::uint32_t> flow_by_connection_;
  timers::Timer open_timer_{&OnOpenTimer};
  timers::TimePoint now_;  // while the wheel runs its callbacks
  bool opening_ = false;   // Open may deliver events that ask to open more
  std::size_t next_to_abort_ = 0;
  bool stopped_ = false;  // the run ended: AbortSome has begun
  // The first connection from each source address (indices below warmup_), and how many of them
  // were answered: the rest wait until they all were (see OpenDue).
  std::size_t warmup_ = 0;
  std::size_t warmup_answered_ = 0;
  std::vector<std::uint8_t> payload_;
  std::vector<std::uint8_t> receive_buffer_;
};

}  // namespace tapstack::tools

#endif  // TAPSTACK_TOOLS_LOAD_LOAD_CLIENT_H_
