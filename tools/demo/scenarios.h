// The demo's scenarios: the scripts that build a network, start a Linux peer, drive our stack's
// connection through what the scenario is about (an idle period, a pulled plug, a crash and
// reboot, a NAT that forgets), and judge what happened on the wire.
//
//   1   a normal connection: handshake, three messages, graceful close
//   2   idle with keepalive: probes go out, the kernel answers, the connection stays up
//   3   a dead peer: the probes go unanswered, RST, ETIMEDOUT          (keepalive's first job)
//   4a  crash and reboot without keepalive: only our next send finds out (RST)
//   4b  crash and reboot with keepalive: a probe finds out before the application sends anything
//   5a  a NAT without keepalive: the idle connection is forgotten, data no longer gets through
//   5b  a NAT with keepalive: the probes keep the NAT's entry alive  (keepalive's second job)
#ifndef TAPSTACK_TOOLS_DEMO_SCENARIOS_H_
#define TAPSTACK_TOOLS_DEMO_SCENARIOS_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "stack/tcp/tcp_types.h"
#include "tools/demo/interrupt.h"
#include "tools/demo/verdict.h"
#include "tools/diagram/html_page.h"

namespace tapstack::tools::demo {

struct DemoSettings {
  // The keepalive every scenario with keepalive uses (enabled is ignored).
  tcp::KeepaliveOptions keepalive;
  std::string out_dir;  // pcap files go here
  // The scenarios without a NAT (1 to 4) run over IPv6: our stack 2001:db8::2, the Linux peer
  // 2001:db8::1. The NAT scenarios stay on IPv4, where NATs are.
  bool ipv6 = false;
};

struct ScenarioContext;

struct Scenario {
  std::string id;      // "1", "4a": the verdict line's label
  int number;          // `--scenario N` runs every scenario with this number
  std::string slug;    // names the pcap files: "<id>-<slug>.pcap"
  std::string title;   // one line
  std::uint16_t port;  // the peer's port
  absl::Status (*run)(ScenarioContext& context);
};

const std::vector<Scenario>& AllScenarios();

// "keepalive idle 2 s, interval 1 s, count 3".
std::string KeepaliveText(const DemoSettings& settings);

// The NAT's conntrack timeout for the settings: 3 s, or longer when the keepalive idle time is so
// long that probes could never keep an entry alive for 3 s.
std::chrono::seconds ConntrackTimeout(const DemoSettings& settings);

// Runs one scenario: prints its header, diagram, pcap paths and verdict line to `out`, and
// returns the verdict. With `page`, also appends the scenario's section of the web page (the
// diagram as SVG, its counters, verdict and pcap links relative to `page_dir`). Cancelled when
// interrupted (everything it built is removed first).
absl::StatusOr<Verdict> RunScenario(const Scenario& scenario, const DemoSettings& settings,
                                    InterruptWatch& interrupt, std::FILE* out,
                                    std::vector<diagram::HtmlSection>* page = nullptr,
                                    const std::string& page_dir = ".");

}  // namespace tapstack::tools::demo

#endif  // TAPSTACK_TOOLS_DEMO_SCENARIOS_H_
