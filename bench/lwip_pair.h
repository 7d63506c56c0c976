// lwIP as a peer for the benchmarks: two lwIP netifs in this process joined by an in-memory link,
// on a virtual clock, driven through lwIP's raw (callback) API. The counterpart of
// tap::StackPair, so that tapstack and lwIP are measured the same way in the same run.
//
// lwIP is Debian's liblwip (2.1), linked as a shared library and only called. Its compile-time
// options are fixed in that build (see docs/benchmarks.md); the ones that matter here: NO_SYS=0
// with the tcpip thread never started (the raw API is then called from this thread alone, which
// lwIP permits when nothing else runs it), LWIP_TIMERS on, and sys_now() interposed below so that
// lwIP's timers (sys_check_timeouts) run on virtual time.
//
// lwIP's state is global (one pcb list for both netifs), so only one LwipPair may exist at a time.
// Both ends are the same lwIP instance: a connection's two pcbs sit in the same lists, which is
// what "both ends together" means for the figures, as with tap::StackPair.
#ifndef TAPSTACK_BENCH_LWIP_PAIR_H_
#define TAPSTACK_BENCH_LWIP_PAIR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <span>
#include <vector>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"

namespace tapstack::bench {

class LwipPair {
 public:
  struct Options {
    double loss_a_to_b = 0;  // probability that a frame is dropped, independently per frame
    double loss_b_to_a = 0;
    std::uint64_t seed_a_to_b = 1;
    std::uint64_t seed_b_to_a = 2;
    // See every frame each end sends, before loss (the counterpart of StackPair's drop hooks).
    std::function<void(std::span<const std::uint8_t>)> observe_a_to_b;
    std::function<void(std::span<const std::uint8_t>)> observe_b_to_a;
  };

  explicit LwipPair(Options options);
  // Aborts every pcb still open (their callbacks are cleared first, so none runs), drops queued
  // frames and removes both netifs.
  ~LwipPair();
  LwipPair(const LwipPair&) = delete;
  LwipPair& operator=(const LwipPair&) = delete;

  // Same addresses as tap::StackPair: A is 192.0.2.2, B is 192.0.2.1, both /24.
  netif* a() { return &netif_a_; }
  netif* b() { return &netif_b_; }
  const ip_addr_t& address_a() const { return address_a_; }
  const ip_addr_t& address_b() const { return address_b_; }

  // Virtual time in milliseconds, what lwIP's sys_now() returns (modulo 2^32).
  static std::uint64_t now_ms();

  // Delivers every queued frame (to A, then to B, until both queues are empty), then runs the
  // lwIP timers that are due.
  void Pump();
  // If frames are queued, pumps them at the current time. Otherwise advances virtual time to the
  // next lwIP timer (or to `limit_ms`, whichever comes first) and pumps. Returns false when
  // nothing was pending before `limit_ms`.
  bool Step(std::uint64_t limit_ms);
  // Steps until `done()` holds (true) or `limit_ms` of virtual time passed (false).
  bool RunUntil(const std::function<bool()>& done, std::uint64_t limit_ms);

  std::uint64_t frames_a_to_b() const { return frames_a_to_b_; }
  std::uint64_t frames_b_to_a() const { return frames_b_to_a_; }

 private:
  using Frame = std::vector<std::uint8_t>;

  static err_t InitNetif(netif* interface);
  static err_t LinkOutput(netif* interface, pbuf* packet);
  void Deliver(std::deque<Frame>& queue, netif* interface);

  Options options_;
  netif netif_a_{};
  netif netif_b_{};
  ip_addr_t address_a_{};
  ip_addr_t address_b_{};
  std::deque<Frame> to_a_;
  std::deque<Frame> to_b_;
  std::vector<Frame> spare_frames_;  // buffers of delivered frames, reused to spare malloc
  std::mt19937_64 loss_rng_a_to_b_;
  std::mt19937_64 loss_rng_b_to_a_;
  std::uint64_t frames_a_to_b_ = 0;  // sent by A, before loss
  std::uint64_t frames_b_to_a_ = 0;
  bool shutting_down_ = false;
};

}  // namespace tapstack::bench

#endif  // TAPSTACK_BENCH_LWIP_PAIR_H_
