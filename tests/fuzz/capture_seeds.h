// Fuzz seeds from real traffic: the pcaps the interop tests and `tapstack demo` record on our
// stack's TAP device (scripts/make-corpus.sh). What the kernel peer sent towards our stack
// (192.0.2.2) becomes
//   - wire_fuzz seeds: one frame each, one per kind of frame ("shape": protocol, TCP flags, the
//     TCP option kinds in order, payload size class, malformation), so a bulk transfer gives a
//     handful of seeds, not thousands;
//   - stack_fuzz seeds (the record format of fuzz_drivers.h): one per TCP connection, the peer's
//     frames in capture order with the capture's time gaps, plus one for the frames that belong to
//     no connection (ARP, ICMP, frames that do not parse), delivered as captured. Their shape is
//     the sequence of control bits, TCP flags, data or not, and the gaps that became whole
//     seconds, so the thousand alike connections of one test give a few seeds.
//
// How a connection is replayed against the fuzz target's stack (fuzz_drivers.cc):
//   - A SYN without ACK goes to the listener (kToListener), its options and sequence number as
//     Linux sent them: the listener answers it like the captured stack did.
//   - Every other segment goes to the ESTABLISHED connection with relative numbers
//     (kRelativeNumbers): SEQ becomes its offset from the RCV.NXT our captured stack had when it
//     arrived (worked out from the peer's earlier segments, holes included), and ACK the number
//     of bytes it newly acknowledged. So in-order data stays in order, retransmissions stay
//     duplicates, a keepalive probe stays at RCV.NXT - 1 and an exact RST stays exact. Ports,
//     addresses and checksums are rewritten by the fuzz target.
//   - The fuzz application has 4000 bytes queued at the start, of which its sender sends the full
//     segments at once and the rest when nothing is in flight (Nagle). An ACK never covers more
//     than that sender has sent by then, so the fuzz stack takes it (an ACK of unsent data would
//     be dropped, with the segment's data). When the capture acknowledges more than is queued,
//     the record before asks for 1500 more (kAppSend). When our captured stack sent its FIN, the
//     record before asks the application to shut down (kAppShutdown), and the peer's ACK of that
//     FIN acknowledges everything sent plus the FIN. Records with data or a FIN let the
//     application read (kAppReceive).
//   - Long connections keep their first kHeadRecords and last kTailRecords records (the middle of
//     a bulk transfer repeats itself); relative numbering keeps what remains consistent.
#ifndef TAPSTACK_TESTS_FUZZ_CAPTURE_SEEDS_H_
#define TAPSTACK_TESTS_FUZZ_CAPTURE_SEEDS_H_

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tapstack::fuzz {

struct CapturedFrame {
  std::chrono::microseconds time{0};  // the pcap timestamp
  std::vector<std::uint8_t> bytes;
};

// Every frame of an Ethernet (LINKTYPE_ETHERNET) pcap file, in file order. Frames the capture cut
// short (captured length below the wire length) are left out: their inner length fields would
// describe bytes that are not there. A file that ends inside a record (its writer was killed)
// yields the frames before it.
absl::StatusOr<std::vector<CapturedFrame>> ReadPcap(const std::string& path);

struct CaptureSeed {
  std::string name;   // "<label>-frame<N>", "<label>-conn<N>", "<label>-other"
  std::string shape;  // seeds with the same shape are redundant; keep the first
  std::vector<std::uint8_t> bytes;
};

inline constexpr std::size_t kHeadRecords = 24;
inline constexpr std::size_t kTailRecords = 12;

// The peer's frames towards our stack, one seed per shape (first occurrence). `label` names the
// seeds (the pcap's file name without its extension).
std::vector<CaptureSeed> WireSeedsFromCapture(std::span<const CapturedFrame> frames,
                                              const std::string& label);

// One stack_fuzz seed per TCP connection in the capture, and one for the peer's other frames.
std::vector<CaptureSeed> StackSeedsFromCapture(std::span<const CapturedFrame> frames,
                                               const std::string& label);

}  // namespace tapstack::fuzz

#endif  // TAPSTACK_TESTS_FUZZ_CAPTURE_SEEDS_H_
