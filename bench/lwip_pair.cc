#include "bench/lwip_pair.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

namespace {

// Starts well above zero so that nothing in lwIP sees a "time before boot"; lwIP compares its
// 32-bit times modulo 2^32, so the wrap is harmless.
std::uint64_t virtual_now_ms = 1'000'000;

}  // namespace

// lwIP's clock. The library calls sys_now() through its PLT, so this definition in the executable
// takes the place of the library's own (which reads the wall clock): lwIP's timers then run on
// the benchmarks' virtual time.
extern "C" u32_t sys_now(void) { return static_cast<u32_t>(virtual_now_ms); }

namespace tapstack::bench {
namespace {

LwipPair* live_pair = nullptr;

void AbortAll(tcp_pcb* list) {
  while (list != nullptr) {
    tcp_pcb* pcb = list;
    list = pcb->next;
    tcp_arg(pcb, nullptr);
    tcp_err(pcb, nullptr);
    tcp_recv(pcb, nullptr);
    tcp_sent(pcb, nullptr);
    tcp_abort(pcb);
  }
}

}  // namespace

LwipPair::LwipPair(Options options)
    : options_(std::move(options)),
      loss_rng_a_to_b_(options_.seed_a_to_b),
      loss_rng_b_to_a_(options_.seed_b_to_a) {
  assert(live_pair == nullptr && "lwIP's state is global: one LwipPair at a time");
  live_pair = this;
  static const bool initialized = [] {
    // Without tcpip_init(): no tcpip thread, so this thread is the only one in lwIP and the raw
    // API may be called directly. lwip_init() registers lwIP's cyclic timers on sys_now().
    lwip_init();
    return true;
  }();
  (void)initialized;

  IP_ADDR4(&address_a_, 192, 0, 2, 2);
  IP_ADDR4(&address_b_, 192, 0, 2, 1);
  ip4_addr_t netmask;
  IP4_ADDR(&netmask, 255, 255, 255, 0);
  ip4_addr_t no_gateway;
  IP4_ADDR(&no_gateway, 0, 0, 0, 0);
  netif_add(&netif_a_, ip_2_ip4(&address_a_), &netmask, &no_gateway, this, InitNetif,
            ethernet_input);
  netif_add(&netif_b_, ip_2_ip4(&address_b_), &netmask, &no_gateway, this, InitNetif,
            ethernet_input);
  netif_a_.hwaddr[5] = 2;
  netif_b_.hwaddr[5] = 1;
  for (netif* interface : {&netif_a_, &netif_b_}) {
    netif_set_link_up(interface);
    netif_set_up(interface);
  }
  Pump();  // the gratuitous ARPs of netif_set_up
}

LwipPair::~LwipPair() {
  shutting_down_ = true;  // RSTs from the aborts below go nowhere
  AbortAll(tcp_active_pcbs);
  AbortAll(tcp_tw_pcbs);
  for (tcp_pcb** list : {&tcp_bound_pcbs, &tcp_listen_pcbs.pcbs}) {
    while (*list != nullptr) {
      tcp_pcb* pcb = *list;
      tcp_arg(pcb, nullptr);
      if (pcb->state == LISTEN) tcp_accept(pcb, nullptr);
      if (tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
    }
  }
  to_a_.clear();
  to_b_.clear();
  netif_remove(&netif_a_);
  netif_remove(&netif_b_);
  live_pair = nullptr;
}

std::uint64_t LwipPair::now_ms() { return virtual_now_ms; }

err_t LwipPair::InitNetif(netif* interface) {
  interface->name[0] = 'l';
  interface->name[1] = 'p';
  interface->mtu = 1500;
  interface->hwaddr_len = ETH_HWADDR_LEN;
  const std::uint8_t mac[ETH_HWADDR_LEN] = {0x02, 0, 0, 0, 0, 0};
  std::copy(std::begin(mac), std::end(mac), interface->hwaddr);
  // An Ethernet link with ARP, like the TAP device tapstack's pair emulates.
  interface->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  interface->output = etharp_output;
  interface->linkoutput = LinkOutput;
  return ERR_OK;
}

err_t LwipPair::LinkOutput(netif* interface, pbuf* packet) {
  LwipPair& pair = *static_cast<LwipPair*>(interface->state);
  if (pair.shutting_down_) return ERR_OK;
  const bool from_a = interface == &pair.netif_a_;
  Frame frame;
  if (!pair.spare_frames_.empty()) {
    frame = std::move(pair.spare_frames_.back());
    pair.spare_frames_.pop_back();
  }
  // Copied, as a NIC would: the sender keeps its pbuf for retransmission.
  frame.resize(packet->tot_len);
  pbuf_copy_partial(packet, frame.data(), packet->tot_len, 0);
  const auto& observe = from_a ? pair.options_.observe_a_to_b : pair.options_.observe_b_to_a;
  if (observe) observe(frame);
  ++(from_a ? pair.frames_a_to_b_ : pair.frames_b_to_a_);
  const double loss = from_a ? pair.options_.loss_a_to_b : pair.options_.loss_b_to_a;
  if (loss > 0) {
    std::mt19937_64& rng = from_a ? pair.loss_rng_a_to_b_ : pair.loss_rng_b_to_a_;
    if (std::bernoulli_distribution(loss)(rng)) {
      pair.spare_frames_.push_back(std::move(frame));
      return ERR_OK;
    }
  }
  (from_a ? pair.to_b_ : pair.to_a_).push_back(std::move(frame));
  return ERR_OK;
}

void LwipPair::Deliver(std::deque<Frame>& queue, netif* interface) {
  while (!queue.empty()) {
    Frame frame = std::move(queue.front());
    queue.pop_front();
    // PBUF_RAM (one malloc of the frame's size), not PBUF_POOL as a driver would: Debian's build
    // allocates pool pbufs of 616 bytes while pbuf_alloc() fills them as if they were sized for
    // a full 1460-byte MSS, so a full frame in a pool pbuf overruns the heap.
    pbuf* packet = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(frame.size()), PBUF_RAM);
    if (packet != nullptr) {
      pbuf_take(packet, frame.data(), static_cast<u16_t>(frame.size()));
      if (interface->input(packet, interface) != ERR_OK) pbuf_free(packet);
    }
    spare_frames_.push_back(std::move(frame));
  }
}

void LwipPair::Pump() {
  while (!to_a_.empty() || !to_b_.empty()) {
    Deliver(to_a_, &netif_a_);
    Deliver(to_b_, &netif_b_);
  }
  sys_check_timeouts();
}

bool LwipPair::Step(std::uint64_t limit_ms) {
  if (!to_a_.empty() || !to_b_.empty()) {
    Pump();
    return true;
  }
  const u32_t sleep_ms = sys_timeouts_sleeptime();
  if (sleep_ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE || virtual_now_ms + sleep_ms > limit_ms) {
    virtual_now_ms = std::max(virtual_now_ms, limit_ms);
    Pump();
    return false;
  }
  virtual_now_ms += sleep_ms;
  Pump();
  return true;
}

bool LwipPair::RunUntil(const std::function<bool()>& done, std::uint64_t limit_ms) {
  const std::uint64_t end = virtual_now_ms + limit_ms;
  while (true) {
    Pump();
    if (done()) return true;
    if (virtual_now_ms >= end) return false;
    Step(end);
  }
}

}  // namespace tapstack::bench
