// Named counters of everything the stack did and, above all, every frame it dropped and why.
// The rule of the house: no incoming frame disappears without incrementing one of these.
// IPv6's come after the others, so that the IPv4 and TCP counters keep their places (and cache
// lines); counters added later go at the end for the same reason.
#ifndef TAPSTACK_STACK_COUNTERS_H_
#define TAPSTACK_STACK_COUNTERS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tapstack {

#define TAPSTACK_COUNTERS(X)                                        \
  X(kRxFrames, "rx_frames")                                         \
  X(kTxFrames, "tx_frames")                                         \
  X(kDropEthernetMalformed, "drop_ethernet_malformed")              \
  X(kDropEthernetNotForUs, "drop_ethernet_not_for_us")              \
  X(kDropEthernetUnsupportedType, "drop_ethernet_unsupported_type") \
  X(kRxArp, "rx_arp")                                               \
  X(kTxArpRequests, "tx_arp_requests")                              \
  X(kTxArpReplies, "tx_arp_replies")                                \
  X(kDropArpMalformed, "drop_arp_malformed")                        \
  X(kDropArpNotForUs, "drop_arp_not_for_us")                        \
  X(kDropArpUnresolved, "drop_arp_unresolved")                      \
  X(kDropArpQueueFull, "drop_arp_queue_full")                       \
  X(kDropArpTableFull, "drop_arp_table_full")                       \
  X(kRxIpv4, "rx_ipv4")                                             \
  X(kDropIpv4Malformed, "drop_ipv4_malformed")                      \
  X(kDropIpv4BadChecksum, "drop_ipv4_bad_checksum")                 \
  X(kDropIpv4NotForUs, "drop_ipv4_not_for_us")                      \
  X(kDropIpv4Fragment, "drop_ipv4_fragment")                        \
  X(kDropIpv4UnsupportedProtocol, "drop_ipv4_unsupported_protocol") \
  X(kDropIpv4NoRoute, "drop_ipv4_no_route")                         \
  X(kDropIpv4TooBig, "drop_ipv4_too_big")                           \
  X(kRxIcmp, "rx_icmp")                                             \
  X(kTxIcmpEchoReplies, "tx_icmp_echo_replies")                     \
  X(kTxIcmpEchoRequests, "tx_icmp_echo_requests")                   \
  X(kRxIcmpEchoReplies, "rx_icmp_echo_replies")                     \
  X(kDropIcmpMalformed, "drop_icmp_malformed")                      \
  X(kDropIcmpBadChecksum, "drop_icmp_bad_checksum")                 \
  X(kDropIcmpUnsupportedType, "drop_icmp_unsupported_type")         \
  X(kRxTcp, "rx_tcp")                                               \
  X(kTxTcpSegments, "tx_tcp_segments")                              \
  X(kTxTcpSuperSegments, "tx_tcp_super_segments")                   \
  X(kTxTcpChecksumOffloaded, "tx_tcp_checksum_offloaded")           \
  X(kDropTcpMalformed, "drop_tcp_malformed")                        \
  X(kDropTcpBadChecksum, "drop_tcp_bad_checksum")                   \
  X(kRxTcpChecksumOffloaded, "rx_tcp_checksum_offloaded")           \
  X(kDropTcpNoConnection, "drop_tcp_no_connection")                 \
  X(kDropTcpUnacceptable, "drop_tcp_unacceptable")                  \
  X(kDropTcpBadAck, "drop_tcp_bad_ack")                             \
  X(kDropTcpHalfOpenFull, "drop_tcp_half_open_full")                \
  X(kDropTcpAcceptQueueFull, "drop_tcp_accept_queue_full")          \
  X(kDropTcpOutOfOrderFull, "drop_tcp_out_of_order_full")           \
  X(kDropTcpNoAck, "drop_tcp_no_ack")                               \
  X(kDropTcpPaws, "drop_tcp_paws")                                  \
  X(kDropTcpNoTimestamp, "drop_tcp_no_timestamp")                   \
  X(kDropTcpBadSynCookie, "drop_tcp_bad_syn_cookie")                \
  X(kDropTcpMemoryLimit, "drop_tcp_memory_limit")                   \
  X(kTcpActiveOpens, "tcp_active_opens")                            \
  X(kTcpPassiveOpens, "tcp_passive_opens")                          \
  X(kTcpSynCookiesSent, "tcp_syn_cookies_sent")                     \
  X(kTcpSynCookiesAccepted, "tcp_syn_cookies_accepted")             \
  X(kTcpRefusedConnectionLimit, "tcp_refused_connection_limit")     \
  X(kTcpBytesBeyondWindow, "tcp_bytes_beyond_window")               \
  X(kTcpReceiveBufferGrown, "tcp_receive_buffer_grown")             \
  X(kTcpResetsSent, "tcp_resets_sent")                              \
  X(kTcpResetsReceived, "tcp_resets_received")                      \
  X(kTcpRetransmits, "tcp_retransmits")                             \
  X(kTcpFastRetransmits, "tcp_fast_retransmits")                    \
  X(kTcpSackBlocksSent, "tcp_sack_blocks_sent")                     \
  X(kTcpDsacksSent, "tcp_dsacks_sent")                              \
  X(kTcpRecoveries, "tcp_recoveries")                               \
  X(kTcpRetransmitTimeouts, "tcp_retransmit_timeouts")              \
  X(kTcpSackRetransmits, "tcp_sack_retransmits")                    \
  X(kTcpLostRetransmits, "tcp_lost_retransmits")                    \
  X(kTcpLossProbes, "tcp_loss_probes")                              \
  X(kTcpLossProbeRepairs, "tcp_loss_probe_repairs")                 \
  X(kTcpSpuriousTimeouts, "tcp_spurious_timeouts")                  \
  X(kTcpChallengeAcks, "tcp_challenge_acks")                        \
  X(kTcpRateLimitedAcks, "tcp_rate_limited_acks")                   \
  X(kTcpZeroWindowProbes, "tcp_zero_window_probes")                 \
  X(kTcpTimeouts, "tcp_timeouts")                                   \
  X(kTcpKeepaliveProbesSent, "tcp_keepalive_probes_sent")           \
  X(kTcpKeepaliveProbesAnswered, "tcp_keepalive_probes_answered")   \
  X(kTcpKeepaliveAborts, "tcp_keepalive_aborts")                    \
  X(kTcpPeerProbesAnswered, "tcp_peer_probes_answered")             \
  X(kRxIpv6, "rx_ipv6")                                             \
  X(kDropIpv6Malformed, "drop_ipv6_malformed")                      \
  X(kDropIpv6ExtensionChain, "drop_ipv6_extension_chain")           \
  X(kDropIpv6NotForUs, "drop_ipv6_not_for_us")                      \
  X(kDropIpv6Fragment, "drop_ipv6_fragment")                        \
  X(kDropIpv6UnsupportedProtocol, "drop_ipv6_unsupported_protocol") \
  X(kDropIpv6NoRoute, "drop_ipv6_no_route")                         \
  X(kDropIpv6TooBig, "drop_ipv6_too_big")                           \
  X(kDropIpv6NoSourceAddress, "drop_ipv6_no_source_address")        \
  X(kRxIcmpv6, "rx_icmpv6")                                         \
  X(kTxIcmpv6EchoReplies, "tx_icmpv6_echo_replies")                 \
  X(kTxIcmpv6EchoRequests, "tx_icmpv6_echo_requests")               \
  X(kRxIcmpv6EchoReplies, "rx_icmpv6_echo_replies")                 \
  X(kTxIcmpv6Errors, "tx_icmpv6_errors")                            \
  X(kIcmpv6ErrorsRateLimited, "icmpv6_errors_rate_limited")         \
  X(kDropIcmpv6Malformed, "drop_icmpv6_malformed")                  \
  X(kDropIcmpv6BadChecksum, "drop_icmpv6_bad_checksum")             \
  X(kDropIcmpv6UnsupportedType, "drop_icmpv6_unsupported_type")     \
  X(kRxNdp, "rx_ndp")                                               \
  X(kTxNdpSolicitations, "tx_ndp_solicitations")                    \
  X(kTxNdpAdvertisements, "tx_ndp_advertisements")                  \
  X(kRxRouterAdvertisements, "rx_router_advertisements")            \
  X(kDropNdpInvalid, "drop_ndp_invalid")                            \
  X(kDropNdpNotForUs, "drop_ndp_not_for_us")                        \
  X(kDropNdpUnresolved, "drop_ndp_unresolved")                      \
  X(kDropNdpQueueFull, "drop_ndp_queue_full")                       \
  X(kDropNdpTableFull, "drop_ndp_table_full")                       \
  X(kNdpDadDuplicates, "ndp_dad_duplicates")                        \
  X(kNdpAddressConflicts, "ndp_address_conflicts")                  \
  X(kTcpOutOfOrderEvicted, "tcp_out_of_order_evicted")

enum class Counter : std::size_t {
#define TAPSTACK_COUNTER_ENUM(name, text) name,
  TAPSTACK_COUNTERS(TAPSTACK_COUNTER_ENUM)
#undef TAPSTACK_COUNTER_ENUM
      kCount
};

// The counter's name as printed by `--stats`, e.g. "drop_ipv4_bad_checksum".
std::string_view CounterName(Counter counter);

class Counters {
 public:
  static constexpr std::size_t kSize = static_cast<std::size_t>(Counter::kCount);

  void Increment(Counter counter, std::uint64_t by = 1) { values_[Index(counter)] += by; }
  std::uint64_t operator[](Counter counter) const { return values_[Index(counter)]; }

  // The sum of every drop_* counter.
  std::uint64_t TotalDrops() const;

  // Calls fn(name, value) for every counter, in declaration order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (std::size_t i = 0; i < kSize; ++i) fn(CounterName(static_cast<Counter>(i)), values_[i]);
  }

 private:
  static std::size_t Index(Counter counter) { return static_cast<std::size_t>(counter); }
  std::array<std::uint64_t, kSize> values_{};
};

}  // namespace tapstack

#endif  // TAPSTACK_STACK_COUNTERS_H_
