// What `tapstack load` is asked to do, parsed and checked before any device is opened, so that a
// mistake is a usage error (exit status 2) with a sentence that says what is allowed.
#ifndef TAPSTACK_TOOLS_LOAD_LOAD_OPTIONS_H_
#define TAPSTACK_TOOLS_LOAD_LOAD_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "stack/interface.h"
#include "stack/tcp/tcp_types.h"
#include "tools/args.h"

namespace tapstack::tools {

// PORT or PORT1-PORT2, both ends included.
struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  std::size_t size() const { return std::size_t{last} - first + 1; }
};

// "7000" or "7000-7999". `what` names the argument in the error.
absl::StatusOr<PortRange> ParsePortRange(std::string_view what, std::string_view text);

// HOST:PORT or HOST:PORT1-PORT2.
struct LoadTarget {
  wire::Ipv4Address host;
  PortRange ports;
};

struct LoadOptions {
  bool listen = false;
  PortRange listen_ports;  // --listen
  std::vector<LoadTarget> targets;
  // Client: how many connections to open. Server: how many it expects to hold (the progress line
  // counts towards it); 0 when not given.
  std::size_t connections = 0;
  // New connections per second (SYNs paced on the tool's timer wheel); nullopt: as fast as the
  // handshakes in flight allow (kMaxConnectsInFlight).
  std::optional<std::uint64_t> rate;
  // Each established connection sends `send_bytes` every `send_every`, first `send_every` after
  // its handshake; the server echoes them.
  std::size_t send_bytes = 0;
  std::chrono::nanoseconds send_every{0};
  // The run ends this long after it started; nullopt: at SIGINT or SIGTERM.
  std::optional<std::chrono::nanoseconds> duration;
  // The progress line's period on standard error; zero turns it off.
  std::chrono::nanoseconds progress_every = std::chrono::seconds(1);
  // Where the final report goes as JSON: a file, "-" for standard output, empty for none.
  std::string json_path;
  bool allow_any = false;
};

// Handshakes a client keeps in flight at once without --rate: enough to fill a fast link, few
// enough that a burst of SYNs does not overflow the kernel's queue behind the TAP (its backlog is
// 1000 packets by default), which would cost a one-second SYN retransmission.
inline constexpr std::size_t kMaxConnectsInFlight = 512;

// The options `load` adds to the runtime's (kRuntimeValued) and its flags.
extern const std::set<std::string> kLoadValued;
extern const std::set<std::string> kLoadFlags;

// Checks the load options against the interface and TCP configuration the runtime options give:
// port ranges that are not empty, a rate above zero, destinations the tool may load, and no more
// connections than addresses × destination ports × ephemeral ports allow.
absl::StatusOr<LoadOptions> ParseLoadOptions(const Args& args, const InterfaceConfig& interface,
                                             const tcp::TcpConfig& tcp);

// Whether `load` may open connections to `host` without --allow-any: an address on the
// interface's own link, or one of the networks set aside for documentation (RFC 5737: 192.0.2/24,
// 198.51.100/24, 203.0.113/24) and for benchmarking (RFC 2544: 198.18/15). A load generator
// pointed at somebody else's server by a typo is an attack; these never leave a testbed.
bool IsLoadableDestination(const InterfaceConfig& interface, wire::Ipv4Address host);

}  // namespace tapstack::tools

#endif  // TAPSTACK_TOOLS_LOAD_LOAD_OPTIONS_H_
