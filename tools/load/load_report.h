// What `tapstack load` counts while it runs, and how it says it: a progress line on standard error
// and a final report as text and as JSON. Both roles (client and --listen server) fill the same
// report; fields a role does not use stay zero.
#ifndef TAPSTACK_TOOLS_LOAD_LOAD_REPORT_H_
#define TAPSTACK_TOOLS_LOAD_LOAD_REPORT_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "stack/counters.h"

namespace tapstack::tools {

// "ETIMEDOUT" for ETIMEDOUT; "errno N" for a value without a name.
std::string ErrnoName(int error);

// The value below which `fraction` of the sorted `samples` lie (nearest rank); 0 when empty.
double Percentile(const std::vector<double>& sorted_samples, double fraction);

struct LoadReport {
  bool server = false;
  std::size_t wanted = 0;  // --connections

  // Client: connections started, completed, and the ones that never completed, by errno.
  std::size_t opened = 0;
  std::size_t established = 0;
  std::size_t connecting = 0;
  std::map<int, std::size_t> failed;  // ECONNREFUSED among them: the peer's RST to our SYN
  // Server: connections accepted.
  std::size_t accepted = 0;

  // Connections established now (both roles).
  std::size_t held = 0;
  // The most held at once.
  std::size_t peak_held = 0;
  // Established connections that ended with an error (ETIMEDOUT after unanswered keepalive probes
  // or retransmissions, ECONNRESET after a RST from the peer or a middlebox), by errno, and when:
  // seconds since the start → errno → count.
  std::map<int, std::size_t> lost;
  std::map<std::int64_t, std::map<int, std::size_t>> lost_timeline;
  // Established connections the peer closed cleanly (FIN).
  std::size_t closed_by_peer = 0;

  // Handshake latency, SYN sent to ESTABLISHED, in milliseconds (client).
  std::vector<double> handshake_ms;
  // Seconds from the start until the last connection was opened and answered (client).
  double open_seconds = 0;

  // Traffic: bytes the client sent and got back, or the server echoed.
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_echoed = 0;
  // Sends that did not fit whole in the send buffer (the rest was not sent).
  std::uint64_t short_sends = 0;

  // From the stack's counters when the report is taken.
  std::uint64_t probes_sent = 0;
  std::uint64_t probes_answered = 0;
  std::uint64_t keepalive_aborts = 0;

  double elapsed_seconds = 0;
  // Resident memory before the first connection and at the peak, per connection held at the
  // peak: the stack's connection state, the tool's own table and allocator slack together.
  long rss_before_kib = 0;
  long rss_peak_kib = 0;
  // CPU time (all of the process) while every connection was held, and the keepalive rounds in
  // that time (probes sent / connections held): the cost of one probe for every connection.
  double hold_cpu_seconds = 0;
  double hold_keepalive_rounds = 0;

  void Lost(std::error_code error, std::chrono::nanoseconds since_start);
  // Reads the probe counters from the stack's.
  void TakeCounters(const Counters& counters);
  double BytesPerConnection() const;
  // CPU per keepalive round in milliseconds; 0 when no round was completed.
  double CpuMsPerKeepaliveRound() const;

  // One line, no newline: what the progress line shows.
  std::string ProgressLine() const;
  // The summary for people, several lines.
  void PrintText(std::FILE* out) const;
  // One JSON object and a newline.
  void PrintJson(std::FILE* out) const;
};

}  // namespace tapstack::tools

#endif  // TAPSTACK_TOOLS_LOAD_LOAD_REPORT_H_
