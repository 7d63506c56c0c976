// The bodies of the libFuzzer targets, kept apart from LLVMFuzzerTestOneInput so that the gtest
// regression suite (tests/fuzz_regressions_test.cc, built by gcc) replays a crashing input through
// exactly the code the fuzzer ran.
#ifndef TAPSTACK_TESTS_FUZZ_FUZZ_DRIVERS_H_
#define TAPSTACK_TESTS_FUZZ_FUZZ_DRIVERS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "stack/wire/ipv6_address.h"
#include "stack/wire/tcp_options.h"

namespace tapstack::fuzz {

// wire_fuzz: the input is one Ethernet frame. Every view's Parse and every accessor runs on it
// (and on its inner layers: IPv4, ICMP and TCP; IPv6 with its extension headers, ICMPv6, Neighbor
// Discovery and TCP over IPv6), and ParseTcpOptions runs on the raw input too, as does
// `tapstack diagram`'s decoding of a capture record under each link type. The input is also read
// as a TAP with offloads reads it: a virtio-net header (tap::ParseVirtioNetHeader), then the
// frame, which the views parse again when the header is accepted.
void RunWireInput(std::span<const std::uint8_t> data);

// stack_fuzz: a fresh Stack (IPv4, and IPv6 with kOurAddress6) with a listener on kListenPort and
// one ESTABLISHED connection (from kPeerPort, with 4000 bytes of ours in flight) receives the
// frames of `data`, each as a record:
//
//   length (2 bytes, big-endian)  clock advance (1)  control (1)  frame (length bytes)
//
// The clock advances before the frame (values below 200 are milliseconds, the rest whole seconds
// up to 56 s, so both the fast timers and the keepalive/TIME-WAIT ones fire). Control bits:
inline constexpr std::uint8_t kAddressToConnection = 0x01;  // overwrite MACs, IPs, ports
inline constexpr std::uint8_t kKeepChecksums = 0x02;        // leave IP/TCP checksums as given
// SEQ += RCV.NXT; ACK and the edges of SACK blocks += SND.UNA.
inline constexpr std::uint8_t kRelativeNumbers = 0x04;
inline constexpr std::uint8_t kToListener = 0x08;   // with 0x01: dst port = listener, src kept
inline constexpr std::uint8_t kAppReceive = 0x10;   // the application drains the connection
inline constexpr std::uint8_t kAppSend = 0x20;      // the application sends 1500 bytes
inline constexpr std::uint8_t kAppShutdown = 0x40;  // the application half-closes
inline constexpr std::uint8_t kAppClose = 0x80;     // the application closes
// A record whose length runs past the input ends the input. Aborts (a crash for libFuzzer) when
// the stack emits a frame that is not well-formed Ethernet/IPv4 or IPv6/ICMPv6 with valid
// checksums.
void RunStackInput(std::span<const std::uint8_t> data);
// RunStackInput, returning every frame the stack emitted (the session's setup included): for tests
// that check what a seed makes the stack do.
std::vector<std::vector<std::uint8_t>> RunStackInputAndCollect(std::span<const std::uint8_t> data);

inline constexpr std::uint16_t kListenPort = 80;
inline constexpr std::uint16_t kPeerPort = 40000;

inline constexpr std::uint32_t kPeerIss = 1000;

// A frame from the peer (02:00:00:00:00:01, 192.0.2.1) to our stack (02:00:00:00:00:02,
// 192.0.2.2) with window 65535 and correct checksums.
std::vector<std::uint8_t> TcpFrame(std::uint16_t src_port, std::uint16_t dst_port,
                                   std::uint8_t flags, std::uint32_t seq, std::uint32_t ack,
                                   std::span<const std::uint8_t> payload,
                                   const wire::TcpOptions& options = {});
// The session's IPv6 addresses (the stack also has its link-local one, fe80::ff:fe00:2).
inline const wire::Ipv6Address kOurAddress6 = *wire::Ipv6Address::Parse("2001:db8::2");
inline const wire::Ipv6Address kPeerAddress6 = *wire::Ipv6Address::Parse("2001:db8::1");

// An IPv6 packet from the peer's MAC to ours (or to the multicast MAC of a group `dst`).
std::vector<std::uint8_t> Ipv6Frame(const wire::Ipv6Address& src, const wire::Ipv6Address& dst,
                                    std::uint8_t next_header, std::span<const std::uint8_t> payload,
                                    std::uint8_t hop_limit = 64);
// An ARP request from the peer for our address, or the peer's reply to us.
std::vector<std::uint8_t> ArpFrame(bool request);

// Appends one record in the format above (for the seed corpus and tests).
void AppendRecord(std::vector<std::uint8_t>& input, std::uint8_t advance, std::uint8_t control,
                  std::span<const std::uint8_t> frame);

// The frames a fresh session's stack emitted while it was set up (SYN-ACK, first data): real
// frames of the project's own, for the wire corpus.
std::vector<std::vector<std::uint8_t>> SetupFrames();

}  // namespace tapstack::fuzz

#endif  // TAPSTACK_TESTS_FUZZ_FUZZ_DRIVERS_H_
