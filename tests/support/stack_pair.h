// Two stacks joined by an in-memory link on a virtual clock, each direction optionally wrapped in
// a FaultyLink, for deterministic end-to-end tests and simulations. Time jumps from event to
// event (a timer deadline or a delayed frame), so hours of virtual time cost only the work done.
#ifndef TAPSTACK_TESTS_SUPPORT_STACK_PAIR_H_
#define TAPSTACK_TESTS_SUPPORT_STACK_PAIR_H_

#include <functional>
#include <memory>
#include <optional>

#include "stack/stack.h"
#include "tap/clock.h"
#include "tap/device.h"
#include "tap/faulty_link.h"

namespace tapstack::testing {

struct StackPairOptions {
  tcp::TcpConfig tcp;
  std::optional<tap::FaultOptions> faults_a_to_b;
  std::optional<tap::FaultOptions> faults_b_to_a;
};

class StackPair {
 public:
  static const wire::Ipv4Address kAddressA;  // 192.0.2.2
  static const wire::Ipv4Address kAddressB;  // 192.0.2.1

  explicit StackPair(const StackPairOptions& options);

  Stack& a() { return *a_; }
  Stack& b() { return *b_; }
  timers::TimePoint now() const { return clock_.Now(); }

  // Processes everything due now: frames ready on either link, then timers.
  void Pump();
  // Advances virtual time event by event until `done()` holds or `limit` of virtual time passed.
  // Returns whether `done()` held.
  bool RunUntil(const std::function<bool()>& done, timers::Duration limit);

 private:
  std::optional<timers::TimePoint> NextEvent() const;

  tap::VirtualClock clock_;
  std::unique_ptr<tap::Device> link_a_;  // what A sends on and receives from
  std::unique_ptr<tap::Device> link_b_;
  std::unique_ptr<Stack> a_;
  std::unique_ptr<Stack> b_;
};

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_STACK_PAIR_H_
