// `tapstack diagram`: draws the TCP conversations of any pcap or pcapng capture as the demo draws
// its own, with the same module (tools/diagram). See docs/cli.md.
//
// Exit status: 0 when something was drawn, 1 when the file cannot be read, is not a capture, is
// corrupt or truncated, holds no TCP, or nothing matches the selection; 2 for usage errors.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/diagram/capture_file.h"
#include "tools/diagram/conversations.h"
#include "tools/diagram/html_page.h"
#include "tools/diagram/sequence_diagram.h"
#include "tools/diagram/svg_diagram.h"

namespace tapstack::tools {
namespace {

using diagram::TcpConversation;

constexpr char kUsage[] =
    "usage: tapstack diagram FILE [--stream N | --port P | --hosts A,B] [--from T] [--to T]\n"
    "                        [--width N] [--html OUT]\n"
    "  FILE          a pcap or pcapng capture (Ethernet, Linux cooked, raw IP, loopback)\n"
    "  --stream N    only conversation N (numbered from 0 as Wireshark's tcp.stream)\n"
    "  --port P      only conversations with an endpoint on port P\n"
    "  --hosts A,B   only conversations between IPv4 addresses A and B\n"
    "  --from T      only segments from T on (time since the capture's first packet, e.g. 2s)\n"
    "  --to T        only segments up to T\n"
    "  --width N     characters between the two columns (30 to 200, default 50)\n"
    "  --html OUT    also write the diagrams as one self-contained web page (inline SVG)\n";

int Usage(absl::string_view message) {
  std::fprintf(stderr, "tapstack diagram: %.*s\n%s", static_cast<int>(message.size()),
               message.data(), kUsage);
  return 2;
}

int Fail(absl::string_view message) {
  std::fprintf(stderr, "tapstack diagram: %.*s\n", static_cast<int>(message.size()),
               message.data());
  return 1;
}

std::string EndpointText(const diagram::Endpoint& endpoint) {
  return absl::StrCat(endpoint.address.ToString(), ":", endpoint.port);
}

struct Selection {
  std::optional<int> stream;
  std::optional<std::uint16_t> port;
  std::optional<std::pair<wire::Ipv4Address, wire::Ipv4Address>> hosts;
  std::optional<std::chrono::nanoseconds> from;
  std::optional<std::chrono::nanoseconds> to;

  bool Matches(const TcpConversation& conversation) const {
    if (stream && conversation.stream != *stream) return false;
    if (port && conversation.left.port != *port && conversation.right.port != *port) return false;
    if (hosts) {
      const auto [a, b] = *hosts;
      const wire::Ipv4Address left = conversation.left.address;
      const wire::Ipv4Address right = conversation.right.address;
      if (!((left == a && right == b) || (left == b && right == a))) return false;
    }
    return true;
  }
  bool InWindow(timers::Duration at) const { return (!from || at >= *from) && (!to || at <= *to); }
};

}  // namespace

int RunDiagram(std::span<const std::string_view> raw_args) {
  if (AsksForHelp(raw_args)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  absl::StatusOr<Args> args = Args::Parse(
      raw_args, {"--stream", "--port", "--hosts", "--from", "--to", "--width", "--html"}, {});
  if (!args.ok()) return Usage(args.status().message());
  if (args->positional().size() != 1) return Usage("takes one capture FILE");
  Selection selection;
  if (auto value = args->Get("--stream")) {
    absl::StatusOr<long long> n = ParseInteger("--stream", *value, 0, 1'000'000'000);
    if (!n.ok()) return Usage(n.status().message());
    selection.stream = static_cast<int>(*n);
  }
  if (auto value = args->Get("--port")) {
    absl::StatusOr<long long> n = ParseInteger("--port", *value, 0, 65535);
    if (!n.ok()) return Usage(n.status().message());
    selection.port = static_cast<std::uint16_t>(*n);
  }
  if (auto value = args->Get("--hosts")) {
    const std::vector<std::string> parts = absl::StrSplit(*value, ',');
    const std::optional<wire::Ipv4Address> a =
        parts.size() == 2 ? wire::Ipv4Address::Parse(parts[0]) : std::nullopt;
    const std::optional<wire::Ipv4Address> b =
        parts.size() == 2 ? wire::Ipv4Address::Parse(parts[1]) : std::nullopt;
    if (!a || !b)
      return Usage(absl::StrCat("--hosts: bad value '", *value, "' (use A,B: two IPv4 addresses)"));
    selection.hosts = std::make_pair(*a, *b);
  }
  for (const auto& [name, target] :
       {std::pair<std::string, std::optional<std::chrono::nanoseconds>*>{"--from", &selection.from},
        {"--to", &selection.to}}) {
    if (auto value = args->Get(name)) {
      absl::StatusOr<std::chrono::nanoseconds> d = ParseDuration(name, *value);
      if (!d.ok()) return Usage(d.status().message());
      *target = *d;
    }
  }
  if (selection.from && selection.to && *selection.to < *selection.from) {
    return Usage("--to comes before --from");
  }
  diagram::DiagramSpec base;
  if (auto value = args->Get("--width")) {
    absl::StatusOr<long long> n = ParseInteger("--width", *value, 30, 200);
    if (!n.ok()) return Usage(n.status().message());
    base.width = static_cast<int>(*n);
  }
  const std::optional<std::string> html_path = args->Get("--html");
  if (html_path && html_path->empty()) return Usage("--html needs a file name");

  const std::string& path = args->positional()[0];
  absl::StatusOr<diagram::Capture> capture = diagram::ReadCapture(path);
  if (!capture.ok()) return Fail(capture.status().message());
  if (capture->tcp.empty()) {
    return Fail(absl::StrCat(path, " holds no TCP over IPv4 (", capture->records,
                             capture->records == 1 ? " packet" : " packets", " read)"));
  }
  const std::vector<TcpConversation> conversations =
      diagram::SplitConversations(capture->tcp, capture->first_timestamp);

  int drawn = 0;
  std::vector<diagram::HtmlSection> sections;
  for (const TcpConversation& conversation : conversations) {
    if (!selection.Matches(conversation)) continue;
    std::vector<diagram::Segment> segments;
    for (const diagram::Segment& segment : conversation.segments) {
      if (selection.InWindow(segment.at)) segments.push_back(segment);
    }
    if (segments.empty()) continue;
    diagram::DiagramSpec spec = base;
    spec.left_title = conversation.opened_in_capture ? "client" : "A";
    spec.right_title = conversation.opened_in_capture ? "server" : "B";
    spec.left_endpoint = EndpointText(conversation.left);
    spec.right_endpoint = EndpointText(conversation.right);
    if (drawn > 0) std::printf("\n");
    const std::string heading = absl::StrFormat(
        "stream %d: %s <-> %s, %zu of %zu segments, %.3f s to %.3f s", conversation.stream,
        spec.left_endpoint, spec.right_endpoint, segments.size(), conversation.segments.size(),
        std::chrono::duration<double>(segments.front().at).count(),
        std::chrono::duration<double>(segments.back().at).count());
    std::printf("=== %s\n\n", heading.c_str());
    std::fputs(diagram::RenderSequenceDiagram(spec, segments, {}).c_str(), stdout);
    if (html_path) {
      sections.push_back(
          {.heading = heading, .svg = diagram::RenderSvgDiagram(spec, segments, {})});
    }
    ++drawn;
  }
  if (drawn == 0) {
    return Fail(absl::StrCat("no TCP conversation of ", path, " matches the selection (",
                             conversations.size(),
                             " conversations in the capture; list them "
                             "with `tshark -r FILE -q -z conv,tcp`)"));
  }
  if (html_path) {
    const std::string page = diagram::RenderHtmlPage(
        absl::StrCat("TCP conversations in ", path),
        absl::StrCat("Drawn by tapstack diagram from ", capture->records, " packets."), sections);
    if (const absl::Status written = diagram::WriteHtmlFile(*html_path, page); !written.ok()) {
      return Fail(written.message());
    }
  }
  return 0;
}

}  // namespace tapstack::tools
