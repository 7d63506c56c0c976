#include "tools/event_log.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tapstack::tools {
namespace {

const char* CauseName(tcp::RetransmitCause cause) {
  switch (cause) {
    case tcp::RetransmitCause::kNone:
      return "none";
    case tcp::RetransmitCause::kTimeout:
      return "timeout";
    case tcp::RetransmitCause::kFast:
      return "fast";
    case tcp::RetransmitCause::kSack:
      return "sack";
    case tcp::RetransmitCause::kProbe:
      return "probe";
  }
  return "none";
}

}  // namespace

absl::StatusOr<EventLog> EventLog::Open(const std::string& path, timers::TimePoint start) {
  if (path.empty()) return EventLog(nullptr, false, start);
  if (path == "-") return EventLog(stdout, false, start);
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write events to ", path, ": ", std::strerror(errno)));
  }
  return EventLog(file, true, start);
}

EventLog::EventLog(EventLog&& other) noexcept
    : file_(other.file_), owned_(other.owned_), start_(other.start_) {
  other.file_ = nullptr;
  other.owned_ = false;
}

EventLog::~EventLog() {
  if (owned_ && file_ != nullptr) std::fclose(file_);
}

void EventLog::Line(timers::TimePoint now, const std::string& fields) {
  if (file_ == nullptr) return;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  std::fprintf(file_, "{\"t\":%.3f,%s}\n", seconds, fields.c_str());
  std::fflush(file_);
}

void EventLog::WriteDevice(bool offload, const std::string& description, std::size_t tso_limit,
                           bool tx_checksum, timers::TimePoint now) {
  // The description is our own text, but an errno message could hold anything: no quote or
  // backslash may end the JSON string early.
  std::string text;
  for (const char c : description) {
    if (c == '"' || c == '\\') text += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) text += c;
  }
  Line(now, absl::StrFormat("\"event\":\"device\",\"offload\":%s,\"mode\":\"%s\",\"tso\":%d,"
                            "\"tx_checksum\":%s",
                            offload ? "true" : "false", text, tso_limit,
                            tx_checksum ? "true" : "false"));
}

void EventLog::Write(const tcp::Event& event, timers::TimePoint now) {
  switch (event.type) {
    case tcp::EventType::kConnected:
      Line(now, "\"event\":\"connected\"");
      return;
    case tcp::EventType::kAcceptReady:
      Line(now, "\"event\":\"accepted\"");
      return;
    case tcp::EventType::kReadable:
    case tcp::EventType::kWritable:
      return;  // too frequent to be useful in a trace
    case tcp::EventType::kPeerClosed:
      Line(now, "\"event\":\"peer_closed\"");
      return;
    case tcp::EventType::kClosed:
      Line(now, absl::StrFormat("\"event\":\"closed\",\"errno\":%d,\"error\":\"%s\"",
                                event.error.value(), event.error ? event.error.message() : ""));
      return;
  }
}

void EventLog::Write(const tcp::Trace& trace, timers::TimePoint now) {
  switch (trace.type) {
    case tcp::TraceType::kStateChange:
      Line(now, absl::StrFormat("\"event\":\"state\",\"from\":\"%s\",\"to\":\"%s\"",
                                std::string(tcp::StateName(trace.from)),
                                std::string(tcp::StateName(trace.to))));
      return;
    case tcp::TraceType::kRetransmit:
      Line(now, absl::StrFormat("\"event\":\"retransmit\",\"seq\":%u,\"len\":%u,\"cause\":\"%s\"",
                                trace.seq, trace.length, CauseName(trace.cause)));
      return;
    case tcp::TraceType::kResetSent:
      Line(now, absl::StrFormat("\"event\":\"reset_sent\",\"seq\":%u", trace.seq));
      return;
    case tcp::TraceType::kResetReceived:
      Line(now, "\"event\":\"reset_received\"");
      return;
    case tcp::TraceType::kKeepaliveProbe:
      Line(now, absl::StrFormat(
                    "\"event\":\"keepalive_probe\",\"probe\":%d,\"count\":%d,\"seq\":%u,\"len\":%u",
                    trace.number, trace.count, trace.seq, trace.length));
      return;
    case tcp::TraceType::kKeepaliveAnswered:
      Line(now,
           absl::StrFormat("\"event\":\"keepalive_answered\",\"unanswered\":%d", trace.number));
      return;
    case tcp::TraceType::kKeepaliveTimeout:
      Line(now, absl::StrFormat("\"event\":\"keepalive_timeout\",\"probes\":%d,\"count\":%d",
                                trace.number, trace.count));
      return;
    case tcp::TraceType::kProbeAnswered:
      Line(now, absl::StrFormat("\"event\":\"peer_probe_answered\",\"seq\":%u", trace.seq));
      return;
    case tcp::TraceType::kSackSent:
      Line(now, absl::StrFormat("\"event\":\"sack_sent\",\"blocks\":%d,\"seq\":%u,\"len\":%u",
                                trace.number, trace.seq, trace.length));
      return;
    case tcp::TraceType::kDsackSent:
      Line(now, absl::StrFormat("\"event\":\"dsack_sent\",\"blocks\":%d,\"seq\":%u,\"len\":%u",
                                trace.number, trace.seq, trace.length));
      return;
    case tcp::TraceType::kRecoveryStarted:
      Line(now, absl::StrFormat(
                    "\"event\":\"recovery_start\",\"mode\":\"%s\",\"una\":%u,\"cwnd\":%u,"
                    "\"ssthresh\":%d",
                    trace.count == 1 ? "sack" : "newreno", trace.seq, trace.length, trace.number));
      return;
    case tcp::TraceType::kLossProbe:
      Line(now, absl::StrFormat("\"event\":\"loss_probe\",\"seq\":%u,\"len\":%u,\"resent\":%s",
                                trace.seq, trace.length, trace.count == 1 ? "true" : "false"));
      return;
    case tcp::TraceType::kLossProbeRepaired:
      Line(now, absl::StrFormat("\"event\":\"loss_probe_repaired\",\"una\":%u,\"cwnd\":%u",
                                trace.seq, trace.length));
      return;
    case tcp::TraceType::kSpuriousTimeout:
      Line(now,
           absl::StrFormat("\"event\":\"spurious_timeout\",\"una\":%u,\"cwnd\":%u,\"ssthresh\":%u",
                           trace.seq, trace.length, static_cast<std::uint32_t>(trace.number)));
      return;
    case tcp::TraceType::kRecoveryEnded:
      Line(now, absl::StrFormat("\"event\":\"recovery_end\",\"una\":%u,\"cwnd\":%u", trace.seq,
                                trace.length));
      return;
  }
}

}  // namespace tapstack::tools
