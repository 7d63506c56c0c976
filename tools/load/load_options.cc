#include "tools/load/load_options.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tools/connection_options.h"

namespace tapstack::tools {

const std::set<std::string> kLoadValued = {"--connections", "--rate",     "--send", "--every",
                                           "--duration",    "--progress", "--json", "--listen"};
const std::set<std::string> kLoadFlags = {"--allow-any"};

absl::StatusOr<PortRange> ParsePortRange(std::string_view what, std::string_view text) {
  const std::size_t dash = text.find('-');
  absl::StatusOr<long long> first = ParseInteger(what, text.substr(0, dash), 1, 65535);
  if (!first.ok()) return first.status();
  absl::StatusOr<long long> last =
      dash == std::string_view::npos ? first : ParseInteger(what, text.substr(dash + 1), 1, 65535);
  if (!last.ok()) return last.status();
  if (*last < *first) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": the port range '", std::string(text), "' is empty"));
  }
  return PortRange{static_cast<std::uint16_t>(*first), static_cast<std::uint16_t>(*last)};
}

bool IsLoadableDestination(const InterfaceConfig& interface, wire::Ipv4Address host) {
  const auto in = [host](wire::Ipv4Address network, int prefix_len) {
    return host.InSameSubnet(network, prefix_len);
  };
  return in(interface.address, interface.prefix_len) || in(wire::Ipv4Address(192, 0, 2, 0), 24) ||
         in(wire::Ipv4Address(198, 51, 100, 0), 24) || in(wire::Ipv4Address(203, 0, 113, 0), 24) ||
         in(wire::Ipv4Address(198, 18, 0, 0), 15);
}

namespace {

absl::StatusOr<LoadTarget> ParseTarget(std::string_view text, const InterfaceConfig& interface,
                                       bool allow_any) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("bad destination '", std::string(text),
                                                   "': use HOST:PORT or HOST:PORT1-PORT2"));
  }
  const std::optional<wire::Ipv4Address> host = wire::Ipv4Address::Parse(text.substr(0, colon));
  if (!host) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad destination '", std::string(text), "': HOST must be an IPv4 address"));
  }
  absl::StatusOr<PortRange> ports =
      ParsePortRange(absl::StrCat("destination ", std::string(text)), text.substr(colon + 1));
  if (!ports.ok()) return ports.status();
  if (!allow_any && !IsLoadableDestination(interface, *host)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "destination ", host->ToString(),
        " is neither on the interface's link nor in a documentation or benchmarking network "
        "(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15); --allow-any loads it "
        "anyway"));
  }
  return LoadTarget{*host, *ports};
}

}  // namespace

absl::StatusOr<LoadOptions> ParseLoadOptions(const Args& args, const InterfaceConfig& interface,
                                             const tcp::TcpConfig& tcp) {
  LoadOptions options;
  options.allow_any = args.Has("--allow-any");
  options.json_path = args.Get("--json").value_or("");
  if (auto listen = args.Get("--listen")) {
    absl::StatusOr<PortRange> ports = ParsePortRange("--listen", *listen);
    if (!ports.ok()) return ports.status();
    options.listen = true;
    options.listen_ports = *ports;
    if (!args.positional().empty()) {
      return absl::InvalidArgumentError("--listen takes no destinations");
    }
  } else {
    if (args.positional().empty()) {
      return absl::InvalidArgumentError("give a destination HOST:PORT[-PORT2], or --listen PORT");
    }
    for (const std::string& text : args.positional()) {
      absl::StatusOr<LoadTarget> target = ParseTarget(text, interface, options.allow_any);
      if (!target.ok()) return target.status();
      options.targets.push_back(*target);
    }
  }

  if (auto connections = args.Get("--connections")) {
    absl::StatusOr<long long> value = ParseInteger("--connections", *connections, 1, 100'000'000);
    if (!value.ok()) return value.status();
    options.connections = static_cast<std::size_t>(*value);
  } else if (!options.listen) {
    return absl::InvalidArgumentError("--connections N is required");
  }
  if (auto rate = args.Get("--rate")) {
    std::string_view text = *rate;
    if (text.ends_with("/s")) text.remove_suffix(2);
    absl::StatusOr<long long> value = ParseInteger("--rate", text, 1, 10'000'000);
    if (!value.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--rate: bad rate '", *rate, "' (connections per second, 1/s to 10000000/s)"));
    }
    options.rate = static_cast<std::uint64_t>(*value);
  }
  if (auto send = args.Get("--send")) {
    absl::StatusOr<long long> value = ParseInteger("--send", *send, 1, 1 << 20);
    if (!value.ok()) return value.status();
    options.send_bytes = static_cast<std::size_t>(*value);
    const std::optional<std::string> every = args.Get("--every");
    if (!every) return absl::InvalidArgumentError("--send BYTES needs --every DURATION");
    absl::StatusOr<std::chrono::nanoseconds> period = ParseDuration("--every", *every);
    if (!period.ok()) return period.status();
    if (*period < std::chrono::milliseconds(1)) {
      return absl::InvalidArgumentError("--every: the period must be at least 1ms");
    }
    options.send_every = *period;
  } else if (args.Has("--every")) {
    return absl::InvalidArgumentError("--every DURATION needs --send BYTES");
  }
  if (auto duration = args.Get("--duration")) {
    absl::StatusOr<std::chrono::nanoseconds> value = ParseDuration("--duration", *duration);
    if (!value.ok()) return value.status();
    options.duration = *value;
  }
  if (auto progress = args.Get("--progress")) {
    absl::StatusOr<std::chrono::nanoseconds> value = ParseDuration("--progress", *progress);
    if (!value.ok()) return value.status();
    options.progress_every = *value;
  }

  if (!options.listen) {
    // Each (source address, destination) pair holds at most one connection per ephemeral port.
    std::size_t destinations = 0;
    for (const LoadTarget& target : options.targets) destinations += target.ports.size();
    const std::size_t sources = 1 + interface.extra_addresses.size();
    const std::size_t ephemeral =
        tcp.ephemeral_port_last >= tcp.ephemeral_port_first
            ? std::size_t{tcp.ephemeral_port_last} - tcp.ephemeral_port_first + 1
            : 0;
    const std::size_t capacity = sources * destinations * ephemeral;
    if (options.connections > tcp.max_connections) {
      return absl::InvalidArgumentError(absl::StrCat("--connections ", options.connections,
                                                     " is more than the stack holds (",
                                                     tcp.max_connections, ")"));
    }
    if (options.connections > capacity) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--connections ", options.connections, " is more than ", sources,
          " source address(es) × ", destinations, " destination port(s) × ", ephemeral,
          " ephemeral ports allow (", capacity,
          "); add addresses (--addr FIRST-LAST) or destination ports (HOST:PORT1-PORT2)"));
    }
  }
  return options;
}

}  // namespace tapstack::tools
