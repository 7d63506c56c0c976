// Asking tshark (Wireshark's dissectors) about a capture: an oracle independent of our own parsers
// for what went over the wire.
#ifndef TAPSTACK_TESTS_SUPPORT_TSHARK_H_
#define TAPSTACK_TESTS_SUPPORT_TSHARK_H_

#include <string>
#include <vector>

namespace tapstack::testing {

// How many packets of `pcap` match the tshark display filter `filter` (for instance
// "tcp.options.sack_le && ip.src == 192.0.2.1"). `options` go to tshark before the filter (for
// instance {"-o", "tcp.check_checksum:TRUE"}). A tshark failure is a test failure, and counts 0.
int TsharkCount(const std::string& pcap, const std::string& filter,
                const std::vector<std::string>& options = {});

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_TSHARK_H_
