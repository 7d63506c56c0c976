// Two stacks joined by an in-memory link on a virtual clock, each direction optionally wrapped in
// a FaultyLink, for deterministic end-to-end tests, benchmarks and `tapstack sim`. Time jumps from
// event to event (a timer deadline or a delayed frame), so hours of virtual time cost only the
// work done.
#ifndef TAPSTACK_TAP_STACK_PAIR_H_
#define TAPSTACK_TAP_STACK_PAIR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "stack/stack.h"
#include "tap/clock.h"
#include "tap/device.h"
#include "tap/faulty_link.h"

namespace tapstack::tap {

struct StackPairOptions {
  tcp::TcpConfig tcp;
  timers::TimerQueueKind timer_queue = timers::TimerQueueKind::kWheel;
  std::optional<tap::FaultOptions> faults_a_to_b;
  std::optional<tap::FaultOptions> faults_b_to_a;
  // Frames a link holds before it drops (counted); large for simulations of many connections.
  std::size_t queue_limit = 1 << 16;
  // Frames from A for which this returns true never reach B: a way to make some peers "dead".
  std::function<bool(std::span<const std::uint8_t> frame)> drop_a_to_b;
  // The same for frames from B to A.
  std::function<bool(std::span<const std::uint8_t> frame)> drop_b_to_a;
  // Called for every frame delivered from B to A, with the time (for exactness checks).
  std::function<void(std::span<const std::uint8_t> frame, timers::TimePoint now)> observe_b_to_a;
  // Addresses each stack holds besides kAddressA or kAddressB (InterfaceConfig::extra_addresses).
  std::vector<wire::Ipv4Address> extra_addresses_a;
  std::vector<wire::Ipv4Address> extra_addresses_b;
  // Both stacks run IPv6 beside IPv4, with kIpv6AddressA and kIpv6AddressB usable at once
  // (duplicate address detection off: nothing else is on the link).
  bool ipv6 = false;
  // The links offer TSO and transmit checksum offload (MemoryLink::CreatePair), and both stacks
  // use them: their senders hand over super-segments, which the link cuts to MSS-sized frames.
  // The drop filters above see the super-segments; faults apply to the frames cut from them.
  bool tx_offloads = false;
};

class StackPair {
 public:
  static const wire::Ipv4Address kAddressA;      // 192.0.2.2
  static const wire::Ipv4Address kAddressB;      // 192.0.2.1
  static const wire::Ipv6Address kIpv6AddressA;  // 2001:db8::2
  static const wire::Ipv6Address kIpv6AddressB;  // 2001:db8::1

  explicit StackPair(const StackPairOptions& options);

  // A connection's key from one of its frames: (port on A) << 16 | (port on B); `from_a` says
  // which stack sent the frame. Zero for anything that is not TCP (over IPv4 or IPv6).
  static std::uint32_t ConnectionKey(std::span<const std::uint8_t> frame, bool from_a);

  Stack& a() { return *a_; }
  Stack& b() { return *b_; }
  timers::TimePoint now() const { return clock_.Now(); }

  // Processes everything due now: frames ready on either link, each link's ready frames handed to
  // its stack as bursts (Stack::IngestBurst, up to 64 frames), then timers.
  void Pump();
  // Advances virtual time to the next event (or `limit`, whichever comes first) and pumps.
  // Returns false when nothing is pending before `limit`.
  bool Step(timers::TimePoint limit);
  // Advances virtual time event by event for exactly `duration`: afterwards now() is `duration`
  // later, whatever happened (or did not) in between.
  void RunFor(timers::Duration duration);
  // Advances virtual time event by event until `done()` holds or `limit` of virtual time passed.
  // Returns whether `done()` held. When it returns false because the next event lies beyond the
  // limit, the clock stays where the last event left it (RunFor moves it to the end).
  bool RunUntil(const std::function<bool()>& done, timers::Duration limit);

 private:
  std::optional<timers::TimePoint> NextEvent() const;

  StackPairOptions options_;
  tap::VirtualClock clock_;
  std::unique_ptr<tap::Device> link_a_;  // what A sends on and receives from
  std::unique_ptr<tap::Device> link_b_;
  std::unique_ptr<Stack> a_;
  std::unique_ptr<Stack> b_;
  // Pump's burst: up to kBurstFrames frames read from one link, handed to its stack at once.
  // Kept across calls so that a pump allocates nothing.
  static constexpr std::size_t kBurstFrames = 64;
  std::vector<std::vector<std::uint8_t>> burst_buffers_;
  std::vector<std::span<const std::uint8_t>> burst_frames_;
};

}  // namespace tapstack::tap

#endif  // TAPSTACK_TAP_STACK_PAIR_H_
