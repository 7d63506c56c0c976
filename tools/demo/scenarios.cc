#include "tools/demo/scenarios.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "stack/wire/tcp.h"
#include "testbed/linux_peer.h"
#include "testbed/topology.h"
#include "tools/demo/diagram.h"
#include "tools/demo/segments.h"
#include "tools/demo/session.h"
#include "tools/demo/testbed_status.h"

namespace tapstack::tools::demo {

using testbed::kServerAddress;
using testbed::kServerLinkName;
using testbed::kStackAddress;
using testbed::kTapKernelAddress;
using testbed::kTapName;

// Everything one scenario builds, torn down by RunScenario in reverse order of dependence.
struct ScenarioContext {
  const Scenario& scenario;
  const DemoSettings& settings;
  InterruptWatch& interrupt;
  Verdict verdict;
  std::unique_ptr<testbed::DirectTopology> direct;
  std::unique_ptr<testbed::NatTopology> nat;
  std::unique_ptr<testbed::LinuxPeer> server;  // the echo server
  std::unique_ptr<Session> session;
  DiagramSpec diagram;
  std::string setting;  // where it runs, printed under the title
  std::vector<std::string> pcaps;
};

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using timers::Duration;
using wire::TcpFlags;

// Setup failures and interruptions end the script; RunScenario turns them into the verdict.
#define DEMO_RETURN_IF_ERROR(expr)                                    \
  do {                                                                \
    if (absl::Status status_ = (expr); !status_.ok()) return status_; \
  } while (false)

constexpr Duration kConnectTimeout = seconds(5);
constexpr Duration kEchoTimeout = seconds(3);
// How long a crashed peer's kernel may take to drop the orphaned connection (one FIN
// retransmission with tcp_orphan_retries=1 takes well under a second).
constexpr Duration kForgetTimeout = seconds(5);
// Scenario 4a: how long the application stays quiet after the reboot before it sends.
constexpr Duration kQuietAfterReboot = seconds(2);
// Scenario 5a: the user timeout that ends the blocked send (RFC 5482, TCP_USER_TIMEOUT).
constexpr Duration kNatUserTimeout = seconds(3);

double Secs(Duration d) { return std::chrono::duration<double>(d).count(); }

std::string FormatSeconds(Duration d) { return absl::StrFormat("%.1f s", Secs(d)); }

// "2 s", "500 ms", "1500 ms".
std::string FormatSetting(Duration d) {
  const auto ms = std::chrono::duration_cast<milliseconds>(d).count();
  if (ms % 1000 == 0) return absl::StrCat(ms / 1000, " s");
  return absl::StrCat(ms, " ms");
}

tcp::KeepaliveOptions KeepaliveOn(const ScenarioContext& context) {
  tcp::KeepaliveOptions keepalive = context.settings.keepalive;
  keepalive.enabled = true;
  return keepalive;
}

std::string PcapPath(const ScenarioContext& context, absl::string_view suffix = "") {
  return absl::StrCat(context.settings.out_dir, "/", context.scenario.id, "-",
                      context.scenario.slug, suffix, ".pcap");
}

std::string Label(const ScenarioContext& context) { return absl::StrCat("s", context.scenario.id); }

bool IsError(const std::optional<std::error_code>& closed, int error) {
  return closed.has_value() && closed->value() == error;
}

std::string ClosedText(const AppView& app) {
  if (!app.closed.has_value()) return "the connection is still open";
  if (!*app.closed) return "the connection closed without an error";
  return absl::StrCat("the connection ended with ", ErrnoName(app.closed->value()));
}

int Count(const Conversation& conversation, const std::function<bool(const Segment&)>& test) {
  return static_cast<int>(
      std::count_if(conversation.segments.begin(), conversation.segments.end(), test));
}

bool OurProbe(const Segment& s) { return s.from_left && s.marked(diagram::kKeepaliveProbe); }
bool PeerAnswer(const Segment& s) { return !s.from_left && s.marked(diagram::kKeepaliveAnswer); }

// The time of the last segment that reached our stack from the peer.
std::optional<Duration> LastHeardFromPeer(const Conversation& conversation) {
  std::optional<Duration> at;
  for (const Segment& segment : conversation.segments) {
    if (!segment.from_left && segment.delivered) at = segment.at;
  }
  return at;
}

// The stack's counters that tell a scenario's story: keepalive, resets, retransmissions,
// timeouts, and every dropped frame by reason. Zeros are left out.
std::string CountersLine(const Stack& stack) {
  std::vector<std::string> shown;
  stack.counters().ForEach([&shown](std::string_view view, std::uint64_t value) {
    const std::string name(view);
    const bool tells = absl::StartsWith(name, "tcp_keepalive") ||
                       absl::StartsWith(name, "tcp_resets") || name == "tcp_retransmits" ||
                       name == "tcp_timeouts" || absl::StartsWith(name, "drop_");
    if (tells && value > 0) shown.push_back(absl::StrCat(name, "=", value));
  });
  return shown.empty() ? "none" : absl::StrJoin(shown, " ");
}

// --- Setup

// Starts the scenario's clock once the kernel is ready to answer on the TAP (see TapIsUp), so
// that the diagram does not open with a second of unanswered ARP.
absl::Status StartWhenTapIsUp(ScenarioContext& context, const testbed::Namespace& ns) {
  const timers::TimePoint deadline = std::chrono::steady_clock::now() + seconds(5);
  while (true) {
    Result<bool> up = testbed::TapIsUp(ns);
    if (!up.ok()) return TestbedStatus(up.error());
    if (*up) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("the kernel's side of ", kTapName, " in ",
                                                      ns.name(), " did not come up within 5 s"));
    }
    DEMO_RETURN_IF_ERROR(context.session->Wait(milliseconds(20)));
  }
  context.session->StartTimeline();
  return absl::OkStatus();
}

// Starts the Linux echo server on address:port in `ns` and waits until it listens. Its command
// line carries the namespace's name, so that tests that check the demo left nothing running
// recognise it (`pgrep -f tsdemo-<pid>-`).
absl::Status StartEchoServer(ScenarioContext& context, const testbed::Namespace& ns,
                             const wire::IpAddress& address) {
  Result<std::unique_ptr<testbed::LinuxPeer>> server = testbed::LinuxPeer::Start(
      ns.name(), {"echo", address.ToString(), absl::StrCat(context.scenario.port), ns.name()});
  if (!server.ok()) return TestbedStatus(server.error());
  context.server = *std::move(server);
  const std::error_code listening =
      context.server->WaitForOutput("listening\n", seconds(10), context.interrupt.fd());
  if (context.interrupt.Check()) return context.interrupt.AsStatus();
  if (listening) {
    return absl::InternalError(
        absl::StrCat("the python3 echo server in ", ns.name(), ": ", testbed::LastFailure()));
  }
  return absl::OkStatus();
}

// The Linux peer's address and ours on the direct link, in the family the settings ask for.
wire::IpAddress PeerAddress(const ScenarioContext& context) {
  return context.settings.ipv6 ? wire::IpAddress(testbed::kTapKernelAddress6)
                               : wire::IpAddress(kTapKernelAddress);
}
wire::IpAddress StackAddress(const ScenarioContext& context) {
  return context.settings.ipv6 ? wire::IpAddress(testbed::kStackAddress6)
                               : wire::IpAddress(kStackAddress);
}

absl::Status SetUpDirect(ScenarioContext& context) {
  Result<std::unique_ptr<testbed::DirectTopology>> topology =
      testbed::DirectTopology::Create(testbed::kDemoNames, Label(context));
  if (!topology.ok()) return TestbedStatus(topology.error());
  context.direct = *std::move(topology);
  if (context.settings.ipv6) DEMO_RETURN_IF_ERROR(TestbedStatus(context.direct->EnableIpv6()));
  DEMO_RETURN_IF_ERROR(StartEchoServer(context, context.direct->peer(), PeerAddress(context)));
  const std::string pcap = PcapPath(context);
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Open(
      {.netns = context.direct->tap_netns(), .ipv6 = context.settings.ipv6, .pcap_path = pcap},
      context.interrupt);
  if (!session.ok()) return session.status();
  context.session = *std::move(session);
  context.pcaps.push_back(pcap);
  DEMO_RETURN_IF_ERROR(StartWhenTapIsUp(context, context.direct->peer()));
  context.diagram.stack_title = "our stack";
  context.diagram.peer_title = "Linux (echo server)";
  context.diagram.keepalive_count = context.settings.keepalive.count;
  context.setting = absl::StrCat("Linux echo server ",
                                 wire::AddressWithPort(PeerAddress(context), context.scenario.port),
                                 " in namespace ", context.direct->peer().name(), ", our stack ",
                                 StackAddress(context).ToString(), " on its ", kTapName);
  return absl::OkStatus();
}

absl::Status SetUpNat(ScenarioContext& context) {
  const seconds timeout = ConntrackTimeout(context.settings);
  Result<std::unique_ptr<testbed::NatTopology>> topology =
      testbed::NatTopology::Create(testbed::kDemoNames, Label(context), timeout);
  if (!topology.ok()) return TestbedStatus(topology.error());
  context.nat = *std::move(topology);
  DEMO_RETURN_IF_ERROR(StartEchoServer(context, context.nat->server(), kServerAddress));
  const std::string pcap = PcapPath(context);
  const std::string server_pcap = PcapPath(context, "-server-side");
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::Open({.netns = context.nat->tap_netns(),
                     .gateway = kTapKernelAddress,
                     .pcap_path = pcap,
                     .server_netns = context.nat->server().name(),
                     .server_link = kServerLinkName,
                     .server_pcap_path = server_pcap},
                    context.interrupt);
  if (!session.ok()) return session.status();
  context.session = *std::move(session);
  context.pcaps.push_back(pcap);
  context.pcaps.push_back(server_pcap);
  DEMO_RETURN_IF_ERROR(StartWhenTapIsUp(context, context.nat->nat()));
  context.diagram.stack_title = "our stack";
  context.diagram.nat_title = "NAT (Linux)";
  context.diagram.nat_subtitle = absl::StrCat("forgets in ", timeout.count(), " s");
  context.diagram.peer_title = "Linux (echo server)";
  context.diagram.keepalive_count = context.settings.keepalive.count;
  context.setting = absl::StrCat(
      "our stack ", kStackAddress.ToString(), " on ", kTapName, " of NAT namespace ",
      context.nat->nat().name(), " (masquerade, conntrack timeout ", timeout.count(),
      " s), Linux echo server ", kServerAddress.ToString(), ":", context.scenario.port, " in ",
      context.nat->server().name(), context.settings.ipv6 ? " (over IPv4: a NAT is IPv4's)" : "");
  return absl::OkStatus();
}

// Scenario 4: pull the plug, kill the server (its FIN is lost), wait until the peer's kernel has
// dropped the orphaned connection, plug back in. From then on the peer answers, but knows nothing
// of our connection: a reboot, without waiting for one.
absl::Status CrashAndReboot(ScenarioContext& context) {
  Session& session = *context.session;
  DEMO_RETURN_IF_ERROR(TestbedStatus(context.direct->Unplug()));
  session.Note("peer unplugged: nft drops all its traffic on the link, both ways",
               NoteKind::kPeerUnplugged);
  context.server->Crash();
  session.Note("peer crashes: server killed, its FIN is lost on the unplugged link");
  const timers::TimePoint deadline = std::chrono::steady_clock::now() + kForgetTimeout;
  bool forgotten = false;
  while (!forgotten && std::chrono::steady_clock::now() < deadline) {
    Result<bool> has_socket =
        testbed::KernelHasSocketOnPort(context.direct->peer(), context.scenario.port);
    if (!has_socket.ok()) return TestbedStatus(has_socket.error());
    forgotten = !*has_socket;
    if (!forgotten) DEMO_RETURN_IF_ERROR(session.Wait(milliseconds(100)));
  }
  context.verdict.Expect(forgotten,
                         absl::StrCat("the peer's kernel still had the connection ",
                                      FormatSeconds(kForgetTimeout), " after the crash"));
  if (const auto dropped = context.direct->DroppedPackets(); dropped && dropped->second > 0) {
    context.verdict.Observe(absl::StrCat("the crashed peer's FIN and retransmissions (",
                                         dropped->second, " packets) were lost"));
  }
  DEMO_RETURN_IF_ERROR(TestbedStatus(context.direct->Replug()));
  session.Note("peer rebooted: link back, its kernel has no trace of the connection",
               NoteKind::kPeerReplugged);
  return absl::OkStatus();
}

struct IdleWatch {
  std::optional<Duration> expired_at;  // when the NAT's entry was seen gone (or must be gone)
};

// When the last packet of the connection crossed the NAT (seen on the server's link).
std::optional<Duration> LastCrossing(const Recording& recording) {
  if (recording.server_link.empty()) return std::nullopt;
  return recording.server_link.back().at;
}

// Scenario 5: stays idle (the application sends nothing) for `duration`, looking at the NAT's
// conntrack table every 100 ms, and notes the moment the connection's entry disappears. A kernel
// without /proc/net/nf_conntrack cannot be watched: then the note comes when the entry must have
// expired, the conntrack timeout after the last packet that crossed the NAT.
absl::StatusOr<IdleWatch> IdleWatchingTheNat(ScenarioContext& context, Duration duration) {
  Session& session = *context.session;
  const seconds timeout = ConntrackTimeout(context.settings);
  IdleWatch watch;
  const timers::TimePoint end = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < end) {
    const std::optional<bool> tracked = context.nat->TracksConnection(context.scenario.port);
    if (!tracked.has_value()) {
      const std::optional<Duration> crossed = LastCrossing(session.recording());
      if (!watch.expired_at && crossed && session.Elapsed() >= *crossed + timeout) {
        watch.expired_at = session.Elapsed();
        session.Note(absl::StrCat("the NAT forgets the connection: ", timeout.count(),
                                  " s without a packet (conntrack table not readable here)"));
      }
    } else if (!*tracked && !watch.expired_at) {
      watch.expired_at = session.Elapsed();
      session.Note("the NAT forgets the connection: its conntrack entry expired");
    }
    DEMO_RETURN_IF_ERROR(session.Wait(milliseconds(100)));
  }
  return watch;
}

// The opening most scenarios share: connect to `remote` with `options` and see a first message
// come back. A message that does not come back is a failed expectation (`failure`), not an error:
// the scenario carries on and its diagram shows what happened.
absl::Status ConnectAndGreet(ScenarioContext& context, const wire::IpAddress& remote,
                             const tcp::ConnectionOptions& options, std::string_view failure) {
  DEMO_RETURN_IF_ERROR(
      context.session->Connect(remote, context.scenario.port, options, kConnectTimeout));
  absl::StatusOr<bool> echoed = context.session->SendAndAwaitEcho("hello\n", kEchoTimeout);
  if (!echoed.ok()) return echoed.status();
  context.verdict.Expect(*echoed, std::string(failure));
  return absl::OkStatus();
}

// --- The scenarios

absl::Status RunNormalConnection(ScenarioContext& context) {
  DEMO_RETURN_IF_ERROR(SetUpDirect(context));
  Session& session = *context.session;
  Verdict& verdict = context.verdict;
  DEMO_RETURN_IF_ERROR(
      session.Connect(PeerAddress(context), context.scenario.port, {}, kConnectTimeout));
  const std::vector<std::string> messages = {"hello\n", "how are you?\n", "bye\n"};
  int echoed = 0;
  for (const std::string& message : messages) {
    absl::StatusOr<bool> ok = session.SendAndAwaitEcho(message, kEchoTimeout);
    if (!ok.ok()) return ok.status();
    if (*ok) ++echoed;
  }
  verdict.Expect(echoed == 3, absl::StrCat("only ", echoed, " of 3 messages came back"));
  session.Note("the application closes its side");
  DEMO_RETURN_IF_ERROR(session.Shutdown());
  absl::StatusOr<bool> closed = session.RunUntil(
      [&] { return session.app().peer_closed && session.app().state == tcp::State::kTimeWait; },
      seconds(3));
  if (!closed.ok()) return closed.status();
  verdict.Expect(session.app().peer_closed, "the peer's FIN never came");
  verdict.Expect(session.app().state == tcp::State::kTimeWait,
                 absl::StrCat("ended in ", std::string(tcp::StateName(session.app().state)),
                              " instead of TIME-WAIT"));
  verdict.Expect(!session.app().closed.has_value() || !*session.app().closed,
                 ClosedText(session.app()));
  const Conversation conversation = ReadConversation(session.recording(), false);
  const int resets = Count(conversation, [](const Segment& s) { return s.has(TcpFlags::kRst); });
  verdict.Expect(resets == 0, absl::StrCat(resets, " RST segments were exchanged"));
  if (session.app().state == tcp::State::kTimeWait) {
    session.Note("both FINs acknowledged: TIME-WAIT on our side");
  }
  verdict.Observe(absl::StrCat(echoed, " messages echoed"));
  verdict.Observe("FIN both ways, no RST");
  verdict.Observe(absl::StrCat("TIME-WAIT after ", conversation.segments.size(), " segments"));
  return absl::OkStatus();
}

absl::Status RunIdleWithKeepalive(ScenarioContext& context) {
  DEMO_RETURN_IF_ERROR(SetUpDirect(context));
  Session& session = *context.session;
  Verdict& verdict = context.verdict;
  const tcp::KeepaliveOptions keepalive = KeepaliveOn(context);
  DEMO_RETURN_IF_ERROR(ConnectAndGreet(context, PeerAddress(context), {.keepalive = keepalive},
                                       "the first message did not come back"));
  session.Note(absl::StrCat("idle; ", KeepaliveText(context.settings)));
  // Two rounds: each answer restarts the idle period.
  constexpr int kRounds = 2;
  absl::StatusOr<bool> rounds = session.RunUntil(
      [&] {
        return session.app().keepalive_answers >= kRounds || session.app().closed.has_value();
      },
      kRounds * (keepalive.idle + keepalive.interval) + seconds(3));
  if (!rounds.ok()) return rounds.status();
  verdict.Expect(!session.app().closed.has_value(), ClosedText(session.app()));
  absl::StatusOr<bool> still = session.SendAndAwaitEcho("still there?\n", kEchoTimeout);
  if (!still.ok()) return still.status();
  verdict.Expect(*still, "a message after the idle period did not come back");
  if (*still) session.Note("still ESTABLISHED, data still flows");

  const Conversation conversation = ReadConversation(session.recording(), false);
  const int probes = Count(conversation, OurProbe);
  const int answers = Count(conversation, PeerAnswer);
  verdict.Expect(probes >= kRounds,
                 absl::StrCat(probes, " keepalive probes went out, expected ", kRounds));
  verdict.Expect(answers == probes,
                 absl::StrCat(answers, " of ", probes, " probes were answered by the kernel"));
  verdict.Observe(absl::StrCat(probes, " probes, each answered by the kernel"));
  verdict.Observe("the connection stayed up and still carries data");
  return absl::OkStatus();
}

absl::Status RunDeadPeer(ScenarioContext& context) {
  DEMO_RETURN_IF_ERROR(SetUpDirect(context));
  Session& session = *context.session;
  Verdict& verdict = context.verdict;
  const tcp::KeepaliveOptions keepalive = KeepaliveOn(context);
  DEMO_RETURN_IF_ERROR(ConnectAndGreet(context, PeerAddress(context), {.keepalive = keepalive},
                                       "the first message did not come back"));
  DEMO_RETURN_IF_ERROR(session.Wait(milliseconds(300)));
  DEMO_RETURN_IF_ERROR(TestbedStatus(context.direct->Unplug()));
  session.Note("peer unplugged: nft drops all its traffic on the link, both ways",
               NoteKind::kPeerUnplugged);
  const Duration give_up_after = keepalive.idle + keepalive.count * keepalive.interval;
  absl::StatusOr<bool> ended = session.RunUntil([&] { return session.app().closed.has_value(); },
                                                give_up_after + seconds(3));
  if (!ended.ok()) return ended.status();

  const Conversation conversation = ReadConversation(session.recording(), false);
  const int probes = Count(conversation, OurProbe);
  const int answers = Count(conversation, PeerAnswer);
  verdict.Expect(IsError(session.app().closed, ETIMEDOUT),
                 absl::StrCat(ClosedText(session.app()), ", expected ETIMEDOUT"));
  verdict.Expect(probes == keepalive.count, absl::StrCat(probes,
                                                         " keepalive probes went out, "
                                                         "expected ",
                                                         keepalive.count));
  verdict.Expect(answers == 0, absl::StrCat(answers, " probes were answered by a dead peer"));
  const bool reset_last = !conversation.segments.empty() &&
                          conversation.segments.back().from_left &&
                          conversation.segments.back().has(TcpFlags::kRst);
  verdict.Expect(reset_last, "our stack did not end the connection with a RST");
  const std::optional<Duration> heard = LastHeardFromPeer(conversation);
  if (session.app().closed_at && heard) {
    const Duration took = *session.app().closed_at - *heard;
    // The wheel ticks in milliseconds; the rest is the loop waking up and the scheduler.
    const Duration slack = milliseconds(300) + give_up_after / 20;
    verdict.Expect(
        took >= give_up_after - milliseconds(5) && took <= give_up_after + slack,
        absl::StrCat("gave up ", FormatSeconds(took), " after the peer last spoke, ",
                     "expected idle + count x interval = ", FormatSeconds(give_up_after)));
    verdict.Observe(absl::StrCat(probes, " probes unanswered"));
    verdict.Observe("RST");
    verdict.Observe(absl::StrCat("ETIMEDOUT ", FormatSeconds(took),
                                 " after the peer last spoke (idle + count x interval)"));
  }
  return absl::OkStatus();
}

absl::Status RunRebootWithoutKeepalive(ScenarioContext& context) {
  DEMO_RETURN_IF_ERROR(SetUpDirect(context));
  Session& session = *context.session;
  Verdict& verdict = context.verdict;
  DEMO_RETURN_IF_ERROR(
      session.Connect(PeerAddress(context), context.scenario.port, {}, kConnectTimeout));
  DEMO_RETURN_IF_ERROR(session.Wait(milliseconds(300)));
  DEMO_RETURN_IF_ERROR(CrashAndReboot(context));
  DEMO_RETURN_IF_ERROR(session.Wait(kQuietAfterReboot));
  verdict.Expect(!session.app().closed.has_value(),
                 absl::StrCat(ClosedText(session.app()), " before the application sent"));
  session.Note("the application sends: our stack still believes in the connection");
  DEMO_RETURN_IF_ERROR(session.Send("hello?\n"));
  absl::StatusOr<bool> ended =
      session.RunUntil([&] { return session.app().closed.has_value(); }, seconds(3));
  if (!ended.ok()) return ended.status();

  const Conversation conversation = ReadConversation(session.recording(), false);
  verdict.Expect(IsError(session.app().closed, ECONNRESET),
                 absl::StrCat(ClosedText(session.app()), ", expected ECONNRESET"));
  verdict.Expect(Count(conversation, OurProbe) == 0,
                 "a keepalive probe went out without keepalive");
  // The RST must answer our data: the peer's first segment after it.
  bool reset_answers_data = false;
  for (std::size_t i = 0; i + 1 < conversation.segments.size(); ++i) {
    const Segment& sent = conversation.segments[i];
    if (!sent.from_left || sent.payload_length == 0) continue;
    for (std::size_t j = i + 1; j < conversation.segments.size(); ++j) {
      if (conversation.segments[j].from_left) continue;
      reset_answers_data = conversation.segments[j].has(TcpFlags::kRst);
      break;
    }
    break;
  }
  verdict.Expect(reset_answers_data, "the rebooted peer did not answer our data with RST");
  verdict.Observe(
      absl::StrCat("nothing noticed the reboot for ", FormatSeconds(kQuietAfterReboot)));
  verdict.Observe("our data got RST");
  verdict.Observe("ECONNRESET only once the application sent");
  return absl::OkStatus();
}

absl::Status RunRebootWithKeepalive(ScenarioContext& context) {
  DEMO_RETURN_IF_ERROR(SetUpDirect(context));
  Session& session = *context.session;
  Verdict& verdict = context.verdict;
  const tcp::KeepaliveOptions keepalive = KeepaliveOn(context);
  DEMO_RETURN_IF_ERROR(session.Connect(PeerAddress(context), context.scenario.port,
                                       {.keepalive = keepalive}, kConnectTimeout));
  DEMO_RETURN_IF_ERROR(session.Wait(milliseconds(300)));
  DEMO_RETURN_IF_ERROR(CrashAndReboot(context));
  const Duration give_up_after = keepalive.idle + keepalive.count * keepalive.interval;
  absl::StatusOr<bool> ended = session.RunUntil([&] { return session.app().closed.has_value(); },
                                                give_up_after + seconds(3));
  if (!ended.ok()) return ended.status();

  const Conversation conversation = ReadConversation(session.recording(), false);
  verdict.Expect(IsError(session.app().closed, ECONNRESET),
                 absl::StrCat(ClosedText(session.app()), ", expected ECONNRESET"));
  const int data_segments =
      Count(conversation, [](const Segment& s) { return s.from_left && s.payload_length > 0; });
  verdict.Expect(data_segments == 0, "the application sent data; the probe was to find out first");
  const auto reset =
      std::find_if(conversation.segments.begin(), conversation.segments.end(),
                   [](const Segment& s) { return !s.from_left && s.has(TcpFlags::kRst); });
  const bool reset_answers_probe =
      reset != conversation.segments.end() && reset->marked(diagram::kKeepaliveAnswer);
  verdict.Expect(reset_answers_probe, "no RST answered a keepalive probe");
  if (reset_answers_probe && session.app().closed_at) {
    verdict.Observe(absl::StrCat("probe ", reset->probe_number, "/", keepalive.count,
                                 " met the rebooted peer's RST"));
    verdict.Observe(absl::StrCat("ECONNRESET at ", FormatSeconds(*session.app().closed_at),
                                 ", before the application sent anything"));
  }
  return absl::OkStatus();
}

absl::Status RunNatWithoutKeepalive(ScenarioContext& context) {
  DEMO_RETURN_IF_ERROR(SetUpNat(context));
  Session& session = *context.session;
  Verdict& verdict = context.verdict;
  const seconds timeout = ConntrackTimeout(context.settings);
  DEMO_RETURN_IF_ERROR(ConnectAndGreet(context, kServerAddress, {.user_timeout = kNatUserTimeout},
                                       "the first message did not come back through the NAT"));
  session.Note(absl::StrCat("idle, no keepalive; the NAT forgets after ", timeout.count(),
                            " s without a packet"));
  absl::StatusOr<IdleWatch> watch = IdleWatchingTheNat(context, timeout + seconds(2));
  if (!watch.ok()) return watch.status();
  verdict.Expect(watch->expired_at.has_value(),
                 "the NAT still tracked the idle connection after its timeout");
  session.Note(
      absl::StrCat("the application sends (user timeout ", FormatSetting(kNatUserTimeout), ")"));
  DEMO_RETURN_IF_ERROR(session.Send("are you there?\n"));
  absl::StatusOr<bool> ended = session.RunUntil([&] { return session.app().closed.has_value(); },
                                                kNatUserTimeout + seconds(3));
  if (!ended.ok()) return ended.status();

  const Conversation conversation = ReadConversation(session.recording(), true);
  verdict.Expect(IsError(session.app().closed, ETIMEDOUT),
                 absl::StrCat(ClosedText(session.app()), ", expected ETIMEDOUT"));
  // Every data segment after the first message (the one that came back) must have died at the
  // NAT.
  int late_sent = 0;
  int late_through = 0;
  int data_seen = 0;
  for (const Segment& segment : conversation.segments) {
    if (!segment.from_left || segment.payload_length == 0) continue;
    if (++data_seen == 1) continue;
    ++late_sent;
    if (segment.delivered) ++late_through;
  }
  verdict.Expect(late_sent > 0, "no data segment went out after the idle period");
  verdict.Expect(late_through == 0, absl::StrCat(late_through, " of ", late_sent,
                                                 " data segments got through the NAT"));
  if (watch->expired_at) {
    verdict.Observe(
        absl::StrCat("the NAT forgot the connection at ", FormatSeconds(*watch->expired_at)));
  }
  verdict.Observe(absl::StrCat(late_sent, " data segments (with retransmissions) dropped there"));
  verdict.Observe("ETIMEDOUT at the user timeout");
  return absl::OkStatus();
}

absl::Status RunNatWithKeepalive(ScenarioContext& context) {
  DEMO_RETURN_IF_ERROR(SetUpNat(context));
  Session& session = *context.session;
  Verdict& verdict = context.verdict;
  const seconds timeout = ConntrackTimeout(context.settings);
  const tcp::KeepaliveOptions keepalive = KeepaliveOn(context);
  DEMO_RETURN_IF_ERROR(ConnectAndGreet(context, kServerAddress, {.keepalive = keepalive},
                                       "the first message did not come back through the NAT"));
  session.Note(absl::StrCat("idle; ", KeepaliveText(context.settings), "; the NAT forgets after ",
                            timeout.count(), " s"));
  absl::StatusOr<IdleWatch> watch = IdleWatchingTheNat(context, timeout + seconds(2));
  if (!watch.ok()) return watch.status();
  verdict.Expect(!watch->expired_at.has_value(),
                 "the NAT's conntrack entry expired although keepalive was on");
  absl::StatusOr<bool> still = session.SendAndAwaitEcho("still there?\n", kEchoTimeout);
  if (!still.ok()) return still.status();
  verdict.Expect(*still, "a message after the idle period did not come back through the NAT");
  if (*still) session.Note("the NAT still knows the connection: data flows");

  const Conversation conversation = ReadConversation(session.recording(), true);
  const int probes = Count(conversation, OurProbe);
  const int probes_through =
      Count(conversation, [](const Segment& s) { return OurProbe(s) && s.delivered; });
  const int answers_back =
      Count(conversation, [](const Segment& s) { return PeerAnswer(s) && s.delivered; });
  verdict.Expect(probes >= 2, absl::StrCat(probes, " keepalive probes went out, expected 2"));
  verdict.Expect(probes_through == probes && answers_back == probes,
                 absl::StrCat(probes_through, " of ", probes, " probes crossed the NAT and ",
                              answers_back, " answers came back"));
  verdict.Observe(absl::StrCat(probes, " probes crossed the NAT and were answered"));
  verdict.Observe(absl::StrCat("the conntrack entry survived ", FormatSeconds(timeout + seconds(2)),
                               " of idle"));
  verdict.Observe("data still flows");
  return absl::OkStatus();
}

#undef DEMO_RETURN_IF_ERROR

}  // namespace

const std::vector<Scenario>& AllScenarios() {
  static const std::vector<Scenario> scenarios = {
      {"1", 1, "normal", "A normal connection: handshake, three messages, graceful close", 7001,
       RunNormalConnection},
      {"2", 2, "idle-keepalive",
       "Idle with keepalive: probes go out, the kernel answers, the connection stays up", 7002,
       RunIdleWithKeepalive},
      {"3", 3, "dead-peer",
       "A dead peer (keepalive's first job): unanswered probes, RST, ETIMEDOUT", 7003, RunDeadPeer},
      {"4a", 4, "reboot-no-keepalive",
       "Crash and reboot, no keepalive: only the next send finds out (RST)", 7004,
       RunRebootWithoutKeepalive},
      {"4b", 4, "reboot-keepalive",
       "Crash and reboot with keepalive: a probe finds out before the application sends", 7014,
       RunRebootWithKeepalive},
      {"5a", 5, "nat-no-keepalive",
       "Behind a NAT, no keepalive: the idle connection is forgotten, data is dropped", 7005,
       RunNatWithoutKeepalive},
      {"5b", 5, "nat-keepalive",
       "Behind a NAT with keepalive (its second job): probes keep the NAT's entry alive", 7015,
       RunNatWithKeepalive},
  };
  return scenarios;
}

std::string KeepaliveText(const DemoSettings& settings) {
  return absl::StrCat("keepalive idle ", FormatSetting(settings.keepalive.idle), ", interval ",
                      FormatSetting(settings.keepalive.interval), ", count ",
                      settings.keepalive.count);
}

seconds ConntrackTimeout(const DemoSettings& settings) {
  // The probes refresh the entry once per idle period (the answer restarts it), so the entry must
  // outlive one idle period plus a round trip.
  const auto idle_seconds = static_cast<long long>(std::ceil(Secs(settings.keepalive.idle)));
  return seconds(std::max<long long>(3, idle_seconds + 1));
}

absl::StatusOr<Verdict> RunScenario(const Scenario& scenario, const DemoSettings& settings,
                                    InterruptWatch& interrupt, std::FILE* out,
                                    std::vector<diagram::HtmlSection>* page,
                                    const std::string& page_dir) {
  const auto started = std::chrono::steady_clock::now();
  std::fprintf(out, "\n=== %s. %s\n", scenario.id.c_str(), scenario.title.c_str());
  std::fflush(out);
  ScenarioContext context{.scenario = scenario,
                          .settings = settings,
                          .interrupt = interrupt,
                          .verdict = Verdict(scenario.id)};
  const absl::Status status = scenario.run(context);
  const bool interrupted = absl::IsCancelled(status);
  diagram::HtmlSection section{.heading = absl::StrCat(scenario.id, ". ", scenario.title)};
  if (!interrupted) {
    if (!status.ok()) context.verdict.SetupFailed(status);
    if (!context.setting.empty()) {
      std::fprintf(out, "    %s\n", context.setting.c_str());
      section.before.push_back(context.setting);
    }
    if (context.session != nullptr) {
      context.session->StopRecording();
      std::fprintf(out, "\n%s\n",
                   RenderSequenceDiagram(context.diagram, context.session->recording()).c_str());
      std::fprintf(out, "    stack counters: %s\n", CountersLine(context.session->stack()).c_str());
      for (const std::string& pcap : context.pcaps) {
        std::fprintf(out, "    pcap: %s\n", pcap.c_str());
      }
      if (page != nullptr) {
        section.svg = RenderSequenceDiagramSvg(context.diagram, context.session->recording());
        section.after.push_back(
            absl::StrCat("stack counters: ", CountersLine(context.session->stack())));
        for (const std::string& pcap : context.pcaps) {
          // The link works from wherever the page is opened, as long as the two stay together.
          std::error_code error;
          const std::filesystem::path relative = std::filesystem::relative(
              std::filesystem::absolute(pcap), std::filesystem::absolute(page_dir), error);
          section.links.push_back(
              {absl::StrCat("pcap: ", pcap), error ? pcap : relative.generic_string()});
        }
      }
    }
  }
  // Down in order: our stack (the TAP closes), the peer process, then the namespaces.
  context.session.reset();
  context.server.reset();
  context.direct.reset();
  context.nat.reset();
  if (interrupted) return status;
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::fprintf(out, "%s [%.1f s]\n", context.verdict.Line().c_str(), took);
  if (page != nullptr) {
    section.verdict = absl::StrFormat("%s [%.1f s]", context.verdict.Line(), took);
    section.verdict_expected = context.verdict.expected();
    page->push_back(std::move(section));
  }
  std::fflush(out);
  return context.verdict;
}

}  // namespace tapstack::tools::demo
