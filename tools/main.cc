// `tapstack`: the command-line face of the stack. See docs/cli.md.
#include <cstdio>
#include <string_view>
#include <vector>

#include "tools/commands.h"

namespace {

constexpr char kUsage[] =
    "usage: tapstack COMMAND [ARGS...]\n"
    "commands:\n"
    "  demo    keepalive against Linux peers in throwaway namespaces (needs root)\n"
    "  up      run the stack on a TAP device: answer ARP and ping, optionally ping a host\n"
    "  nc      netcat over the stack: connect to HOST PORT, or listen with -l PORT\n"
    "  load    hold many connections over TAP with keepalive, through a NAT or firewall\n"
    "  sim     many keepalive connections on a virtual clock; dead peers checked to the tick\n"
    "  diagram draw the TCP conversations of a pcap or pcapng file as sequence diagrams\n"
    "  help    this text\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string_view command = args[0];
  const std::span<const std::string_view> rest(args.data() + 1, args.size() - 1);
  if (command == "demo") return tapstack::tools::RunDemo(rest);
  if (command == "up") return tapstack::tools::RunUp(rest);
  if (command == "nc") return tapstack::tools::RunNc(rest);
  if (command == "load") return tapstack::tools::RunLoad(rest);
  if (command == "sim") return tapstack::tools::RunSim(rest);
  if (command == "diagram") return tapstack::tools::RunDiagram(rest);
  std::fprintf(stderr, "tapstack: unknown command '%.*s'\n%s", static_cast<int>(command.size()),
               command.data(), kUsage);
  return 2;
}
