// The per-connection TCP options that `nc` and `load` take on the command line: keepalive, user
// timeout, Nagle, buffer sizes. They become the stack's defaults (TcpConfig::defaults) for every
// connection.
#ifndef TAPSTACK_TOOLS_CONNECTION_OPTIONS_H_
#define TAPSTACK_TOOLS_CONNECTION_OPTIONS_H_

#include <cstddef>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "stack/tcp/tcp_types.h"
#include "tools/args.h"

namespace tapstack::tools {

// --keepalive, --user-timeout and the buffer sizes take a value; --no-delay and --keepalive-byte
// do not.
inline const std::set<std::string> kConnectionValued = {"--keepalive", "--user-timeout",
                                                        "--send-buffer", "--receive-buffer"};
inline const std::set<std::string> kConnectionFlags = {"--no-delay", "--keepalive-byte"};

// Without --receive-buffer, a connection's receive buffer starts at the stack's default (256 KiB)
// and grows up to this while the peer fills the window and the application keeps up
// (ConnectionOptions::receive_buffer_max), as Linux's receive buffers grow toward tcp_rmem's
// maximum. --receive-buffer fixes the size, as SO_RCVBUF does on Linux.
inline constexpr std::size_t kAutotunedReceiveBufferMax = std::size_t{4} << 20;

// "IDLE,INTERVAL,COUNT" (e.g. 3s,2s,4) with the ranges of Linux's TCP_KEEPIDLE, TCP_KEEPINTVL and
// TCP_KEEPCNT.
absl::StatusOr<tcp::KeepaliveOptions> ParseKeepalive(std::string_view text);

// Sets `options` from the arguments (parsed with kConnectionValued and kConnectionFlags).
absl::Status ParseConnectionOptions(const Args& args, tcp::ConnectionOptions& options);

}  // namespace tapstack::tools

#endif  // TAPSTACK_TOOLS_CONNECTION_OPTIONS_H_
