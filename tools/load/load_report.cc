#include "tools/load/load_report.h"

#include <string.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tapstack::tools {

std::string ErrnoName(int error) {
  if (const char* name = strerrorname_np(error)) return name;
  return absl::StrCat("errno ", error);
}

double Percentile(const std::vector<double>& sorted_samples, double fraction) {
  if (sorted_samples.empty()) return 0;
  const double rank = std::ceil(fraction * static_cast<double>(sorted_samples.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return sorted_samples[std::min(index, sorted_samples.size() - 1)];
}

void LoadReport::Lost(std::error_code error, std::chrono::nanoseconds since_start) {
  ++lost[error.value()];
  ++lost_timeline[std::chrono::duration_cast<std::chrono::seconds>(since_start).count()]
                 [error.value()];
}

void LoadReport::TakeCounters(const Counters& counters) {
  probes_sent = counters[Counter::kTcpKeepaliveProbesSent];
  probes_answered = counters[Counter::kTcpKeepaliveProbesAnswered];
  keepalive_aborts = counters[Counter::kTcpKeepaliveAborts];
}

double LoadReport::BytesPerConnection() const {
  if (peak_held == 0 || rss_peak_kib <= rss_before_kib) return 0;
  return static_cast<double>(rss_peak_kib - rss_before_kib) * 1024.0 /
         static_cast<double>(peak_held);
}

double LoadReport::CpuMsPerKeepaliveRound() const {
  if (hold_keepalive_rounds < 1) return 0;
  return hold_cpu_seconds * 1e3 / hold_keepalive_rounds;
}

namespace {

std::size_t Sum(const std::map<int, std::size_t>& by_errno) {
  std::size_t total = 0;
  for (const auto& [error, count] : by_errno) total += count;
  return total;
}

// "ETIMEDOUT 3, ECONNRESET 1", or "none".
std::string ByErrnoText(const std::map<int, std::size_t>& by_errno) {
  std::string text;
  for (const auto& [error, count] : by_errno) {
    absl::StrAppend(&text, text.empty() ? "" : ", ", ErrnoName(error), " ", count);
  }
  return text.empty() ? "none" : text;
}

std::string ByErrnoJson(const std::map<int, std::size_t>& by_errno) {
  std::string json = "{";
  for (const auto& [error, count] : by_errno) {
    absl::StrAppend(&json, json.size() > 1 ? "," : "", "\"", ErrnoName(error), "\":", count);
  }
  return json + "}";
}

std::vector<double> Sorted(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples;
}

}  // namespace

std::string LoadReport::ProgressLine() const {
  std::string line;
  if (server) {
    line = absl::StrFormat("load --listen %.1fs: held %zu", elapsed_seconds, held);
    if (wanted > 0) absl::StrAppendFormat(&line, "/%zu", wanted);
    absl::StrAppendFormat(&line, ", accepted %zu", accepted);
  } else {
    line = absl::StrFormat("load %.1fs: established %zu/%zu, connecting %zu, failed %zu, held %zu",
                           elapsed_seconds, established, wanted, connecting, Sum(failed), held);
  }
  absl::StrAppendFormat(&line, ", lost %zu, probes %llu sent %llu answered", Sum(lost),
                        static_cast<unsigned long long>(probes_sent),
                        static_cast<unsigned long long>(probes_answered));
  if (bytes_sent > 0 || bytes_echoed > 0) {
    absl::StrAppendFormat(&line, ", echoed %llu B", static_cast<unsigned long long>(bytes_echoed));
  }
  return line;
}

void LoadReport::PrintText(std::FILE* out) const {
  std::fprintf(out, "%s\n", ProgressLine().c_str());
  if (!server) {
    const std::vector<double> sorted = Sorted(handshake_ms);
    std::fprintf(out,
                 "handshakes: %zu established of %zu opened in %.2f s; latency p50 %.2f ms, "
                 "p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                 established, opened, open_seconds, Percentile(sorted, 0.5),
                 Percentile(sorted, 0.9), Percentile(sorted, 0.99), Percentile(sorted, 1.0));
    std::fprintf(out, "failed before established: %s\n", ByErrnoText(failed).c_str());
  }
  std::fprintf(out, "lost after established: %s; closed by the peer: %zu\n",
               ByErrnoText(lost).c_str(), closed_by_peer);
  for (const auto& [second, by_errno] : lost_timeline) {
    std::fprintf(out, "  at %llds: %s\n", static_cast<long long>(second),
                 ByErrnoText(by_errno).c_str());
  }
  std::fprintf(out, "keepalive: %llu probes sent, %llu answered, %llu connections aborted\n",
               static_cast<unsigned long long>(probes_sent),
               static_cast<unsigned long long>(probes_answered),
               static_cast<unsigned long long>(keepalive_aborts));
  std::fprintf(out, "traffic: %llu bytes sent, %llu echoed, %llu short sends\n",
               static_cast<unsigned long long>(bytes_sent),
               static_cast<unsigned long long>(bytes_echoed),
               static_cast<unsigned long long>(short_sends));
  std::fprintf(out,
               "cost: %.0f bytes resident per connection (peak %zu held, RSS %.1f MiB), "
               "%.3f ms CPU per keepalive round over %.1f rounds\n",
               BytesPerConnection(), peak_held, static_cast<double>(rss_peak_kib) / 1024.0,
               CpuMsPerKeepaliveRound(), hold_keepalive_rounds);
}

void LoadReport::PrintJson(std::FILE* out) const {
  const std::vector<double> sorted = Sorted(handshake_ms);
  std::string timeline;
  for (const auto& [second, by_errno] : lost_timeline) {
    for (const auto& [error, count] : by_errno) {
      absl::StrAppend(&timeline, timeline.empty() ? "" : ",", "{\"second\":", second,
                      ",\"errno\":\"", ErrnoName(error), "\",\"count\":", count, "}");
    }
  }
  std::fprintf(
      out,
      "{\"role\":\"%s\",\"connections\":%zu,\"opened\":%zu,\"established\":%zu,"
      "\"accepted\":%zu,\"connecting\":%zu,\"failed\":%s,\"held\":%zu,\"peak_held\":%zu,"
      "\"lost\":%s,\"lost_timeline\":[%s],\"closed_by_peer\":%zu,"
      "\"handshake_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
      "\"open_seconds\":%.3f,\"bytes_sent\":%llu,\"bytes_echoed\":%llu,\"short_sends\":%llu,"
      "\"probes_sent\":%llu,\"probes_answered\":%llu,\"keepalive_aborts\":%llu,"
      "\"elapsed_seconds\":%.3f,\"rss_before_kib\":%ld,\"rss_peak_kib\":%ld,"
      "\"bytes_per_connection\":%.1f,\"hold_cpu_seconds\":%.3f,\"hold_keepalive_rounds\":%.2f,"
      "\"cpu_ms_per_keepalive_round\":%.3f}\n",
      server ? "server" : "client", wanted, opened, established, accepted, connecting,
      ByErrnoJson(failed).c_str(), held, peak_held, ByErrnoJson(lost).c_str(), timeline.c_str(),
      closed_by_peer, Percentile(sorted, 0.5), Percentile(sorted, 0.9), Percentile(sorted, 0.99),
      Percentile(sorted, 1.0), open_seconds, static_cast<unsigned long long>(bytes_sent),
      static_cast<unsigned long long>(bytes_echoed), static_cast<unsigned long long>(short_sends),
      static_cast<unsigned long long>(probes_sent),
      static_cast<unsigned long long>(probes_answered),
      static_cast<unsigned long long>(keepalive_aborts), elapsed_seconds, rss_before_kib,
      rss_peak_kib, BytesPerConnection(), hold_cpu_seconds, hold_keepalive_rounds,
      CpuMsPerKeepaliveRound());
}

}  // namespace tapstack::tools
