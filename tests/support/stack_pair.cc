#include "tests/support/stack_pair.h"

#include <algorithm>
#include <vector>

#include "tap/memory_link.h"

namespace tapstack::testing {

const wire::Ipv4Address StackPair::kAddressA = *wire::Ipv4Address::Parse("192.0.2.2");
const wire::Ipv4Address StackPair::kAddressB = *wire::Ipv4Address::Parse("192.0.2.1");

namespace {

std::unique_ptr<tap::Device> MaybeFaulty(std::unique_ptr<tap::Device> device,
                                         const std::optional<tap::FaultOptions>& faults) {
  if (!faults) return device;
  return std::make_unique<tap::FaultyLink>(std::move(device), *faults);
}

StackConfig Config(wire::Ipv4Address address, const tcp::TcpConfig& tcp, std::uint64_t seed) {
  StackConfig config;
  config.interface.address = address;
  config.interface.prefix_len = 24;
  config.tcp = tcp;
  config.random_seed = seed;
  return config;
}

}  // namespace

StackPair::StackPair(const StackPairOptions& options)
    : clock_(timers::TimePoint{} + std::chrono::hours(1)) {
  auto [end_a, end_b] = tap::MemoryLink::CreatePair(1500, 1 << 16);
  link_a_ = MaybeFaulty(std::move(end_a), options.faults_a_to_b);
  link_b_ = MaybeFaulty(std::move(end_b), options.faults_b_to_a);
  a_ = std::make_unique<Stack>(Config(kAddressA, options.tcp, 1), clock_.Now(),
                               [this](std::span<const std::uint8_t> frame) {
                                 (void)link_a_->Send(frame, clock_.Now());
                               });
  b_ = std::make_unique<Stack>(Config(kAddressB, options.tcp, 2), clock_.Now(),
                               [this](std::span<const std::uint8_t> frame) {
                                 (void)link_b_->Send(frame, clock_.Now());
                               });
}

void StackPair::Pump() {
  std::vector<std::uint8_t> buffer(tap::MaxFrameSize(1500));
  bool moved = true;
  while (moved) {
    moved = false;
    for (auto [link, stack] : {std::pair{link_a_.get(), a_.get()}, {link_b_.get(), b_.get()}}) {
      while (true) {
        const absl::StatusOr<std::size_t> got = link->Receive(buffer, clock_.Now());
        if (!got.ok() || *got == 0) break;
        stack->Ingest(std::span(buffer).first(*got), clock_.Now());
        moved = true;
      }
    }
  }
  a_->Advance(clock_.Now());
  b_->Advance(clock_.Now());
}

std::optional<timers::TimePoint> StackPair::NextEvent() const {
  std::optional<timers::TimePoint> next;
  for (std::optional<timers::TimePoint> t :
       {a_->NextDeadline(), b_->NextDeadline(), link_a_->NextReadyTime(),
        link_b_->NextReadyTime()}) {
    if (t && (!next || *t < *next)) next = t;
  }
  return next;
}

bool StackPair::RunUntil(const std::function<bool()>& done, timers::Duration limit) {
  const timers::TimePoint end = clock_.Now() + limit;
  int stalled = 0;  // events reported as due now that produce no progress: a bug, not a hang
  while (true) {
    Pump();
    if (done()) return true;
    std::optional<timers::TimePoint> next = NextEvent();
    if (!next || *next > end) return false;
    if (*next <= clock_.Now()) {
      if (++stalled > 10'000) return false;
      continue;
    }
    stalled = 0;
    clock_.Set(*next);
  }
}

}  // namespace tapstack::testing
