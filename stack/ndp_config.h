// The constants of Neighbor Discovery (RFC 4861 10) and duplicate address detection (RFC 4862
// 5.1) as one runtime configuration, the RFCs' defaults unless a test or embedder changes them.
#ifndef TAPSTACK_STACK_NDP_CONFIG_H_
#define TAPSTACK_STACK_NDP_CONFIG_H_

#include <chrono>
#include <cstddef>

namespace tapstack {

struct NdpConfig {
  // REACHABLE lasts a random time between 0.5 and 1.5 times this (RFC 4861 6.3.2).
  std::chrono::milliseconds base_reachable_time{30'000};
  // Between solicitations for one neighbour, and between DAD's probes (RFC 4861 10 RetransTimer).
  std::chrono::milliseconds retrans_timer{1'000};
  // DELAY before the first unicast probe (RFC 4861 10 DELAY_FIRST_PROBE_TIME).
  std::chrono::milliseconds delay_first_probe_time{5'000};
  int max_multicast_solicit = 3;  // RFC 4861 10
  int max_unicast_solicit = 3;    // RFC 4861 10
  // A STALE entry nothing uses is forgotten after this long. RFC 4861 leaves it to the
  // implementation (7.3.3, "garbage collection"); 60 s is Linux's gc_staletime.
  std::chrono::milliseconds stale_lifetime{60'000};
  std::size_t max_pending_packets = 16;  // per INCOMPLETE neighbour, as ARP
  std::size_t max_entries = 1024;
  // Solicitations sent to check each address is unique before using it (RFC 4862 5.1
  // DupAddrDetectTransmits); 0 uses addresses at once.
  int dad_transmits = 1;
  // The first DAD solicitation waits a random time up to this (RFC 4862 5.4.2, RFC 4861 10
  // MAX_RTR_SOLICITATION_DELAY), so that hosts starting together do not collide.
  std::chrono::milliseconds max_dad_delay{1'000};
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_NDP_CONFIG_H_
