#include "tap/stack_pair.h"

#include <algorithm>
#include <vector>

#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/tcp.h"
#include "tap/memory_link.h"

namespace tapstack::tap {

const wire::Ipv4Address StackPair::kAddressA = *wire::Ipv4Address::Parse("192.0.2.2");
const wire::Ipv4Address StackPair::kAddressB = *wire::Ipv4Address::Parse("192.0.2.1");
const wire::Ipv6Address StackPair::kIpv6AddressA = *wire::Ipv6Address::Parse("2001:db8::2");
const wire::Ipv6Address StackPair::kIpv6AddressB = *wire::Ipv6Address::Parse("2001:db8::1");

namespace {

std::unique_ptr<tap::Device> MaybeFaulty(std::unique_ptr<tap::Device> device,
                                         const std::optional<tap::FaultOptions>& faults) {
  if (!faults) return device;
  return std::make_unique<tap::FaultyLink>(std::move(device), *faults);
}

StackConfig Config(wire::Ipv4Address address, const wire::Ipv6Address& ipv6_address,
                   std::vector<wire::Ipv4Address> extra_addresses, const StackPairOptions& options,
                   std::uint64_t seed) {
  StackConfig config;
  config.interface.address = address;
  if (options.ipv6) {
    config.interface.ipv6.enabled = true;
    config.interface.ipv6.addresses = {Ipv6Prefix{ipv6_address, 64}};
    config.ndp.dad_transmits = 0;
  }
  config.interface.extra_addresses = std::move(extra_addresses);
  config.interface.prefix_len = 24;
  config.tcp = options.tcp;
  config.timer_queue = options.timer_queue;
  config.random_seed = seed;
  if (options.tx_offloads) {
    config.tx_offload = TxOffloadSupport{
        .max_tcp_segment_offload = static_cast<std::uint32_t>(tap::kMaxTcpSegmentOffload),
        .tcp_checksum = true};
  }
  return config;
}

}  // namespace

StackPair::StackPair(const StackPairOptions& options)
    : options_(options),
      clock_(timers::TimePoint{} + std::chrono::hours(1)),
      burst_buffers_(kBurstFrames, std::vector<std::uint8_t>(tap::MaxFrameSize(1500))),
      burst_frames_(kBurstFrames) {
  auto [end_a, end_b] = tap::MemoryLink::CreatePair(1500, options.queue_limit, options.tx_offloads);
  link_a_ = MaybeFaulty(std::move(end_a), options.faults_a_to_b);
  link_b_ = MaybeFaulty(std::move(end_b), options.faults_b_to_a);
  a_ = std::make_unique<Stack>(
      Config(kAddressA, kIpv6AddressA, options.extra_addresses_a, options, 1), clock_.Now(),
      [this](std::span<const std::uint8_t> frame, const TxOffload& offload) {
        if (options_.drop_a_to_b && options_.drop_a_to_b(frame)) return;
        (void)link_a_->SendWithOffload(frame, offload, clock_.Now());
      });
  b_ = std::make_unique<Stack>(
      Config(kAddressB, kIpv6AddressB, options.extra_addresses_b, options, 2), clock_.Now(),
      [this](std::span<const std::uint8_t> frame, const TxOffload& offload) {
        if (options_.drop_b_to_a && options_.drop_b_to_a(frame)) return;
        (void)link_b_->SendWithOffload(frame, offload, clock_.Now());
      });
}

std::uint32_t StackPair::ConnectionKey(std::span<const std::uint8_t> frame, bool from_a) {
  const auto ethernet = wire::EthernetView::Parse(frame);
  if (!ethernet.ok()) return 0;
  std::span<const std::uint8_t> segment;
  if (ethernet->ethertype() == wire::EtherType::kIpv4) {
    const auto ip = wire::Ipv4View::Parse(ethernet->payload());
    if (!ip.ok() || ip->protocol() != wire::IpProtocol::kTcp) return 0;
    segment = ip->payload();
  } else if (ethernet->ethertype() == wire::EtherType::kIpv6) {
    const auto ip = wire::Ipv6View::Parse(ethernet->payload());
    if (!ip.ok() || ip->upper_layer_protocol() != wire::IpProtocol::kTcp) return 0;
    segment = ip->upper_layer_payload();
  } else {
    return 0;
  }
  const auto tcp = wire::TcpView::Parse(segment);
  if (!tcp.ok()) return 0;
  const std::uint16_t a_port = from_a ? tcp->src_port() : tcp->dst_port();
  const std::uint16_t b_port = from_a ? tcp->dst_port() : tcp->src_port();
  return (std::uint32_t{a_port} << 16) | b_port;
}

void StackPair::Pump() {
  bool moved = true;
  while (moved) {
    moved = false;
    for (auto [link, stack] : {std::pair{link_a_.get(), a_.get()}, {link_b_.get(), b_.get()}}) {
      bool drained = false;
      while (!drained) {
        std::size_t count = 0;
        while (count < kBurstFrames) {
          const Result<std::size_t> got = link->Receive(burst_buffers_[count], clock_.Now());
          if (!got.ok() || *got == 0) {
            drained = true;
            break;
          }
          const std::span<const std::uint8_t> frame = std::span(burst_buffers_[count]).first(*got);
          if (stack == a_.get() && options_.observe_b_to_a) {
            options_.observe_b_to_a(frame, clock_.Now());
          }
          burst_frames_[count++] = frame;
        }
        if (count == 0) break;
        stack->IngestBurst(std::span(burst_frames_).first(count), clock_.Now());
        moved = true;
      }
    }
  }
  a_->Advance(clock_.Now());
  b_->Advance(clock_.Now());
}

std::optional<timers::TimePoint> StackPair::NextEvent() const {
  std::optional<timers::TimePoint> next;
  for (std::optional<timers::TimePoint> t : {a_->NextDeadline(), b_->NextDeadline(),
                                             link_a_->NextReadyTime(), link_b_->NextReadyTime()}) {
    if (t && (!next || *t < *next)) next = t;
  }
  return next;
}

bool StackPair::Step(timers::TimePoint limit) {
  const std::optional<timers::TimePoint> next = NextEvent();
  if (!next || *next > limit) {
    clock_.Set(std::max(clock_.Now(), limit));
    Pump();
    return false;
  }
  clock_.Set(std::max(*next, clock_.Now()));
  Pump();
  return true;
}

void StackPair::RunFor(timers::Duration duration) {
  const timers::TimePoint end = clock_.Now() + duration;
  while (Step(end)) {
  }
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

}  // namespace tapstack::tap
