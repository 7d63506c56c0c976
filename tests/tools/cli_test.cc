// Usage errors of the `tapstack` command: exit status 2 and a message that says what is allowed.
// None of these reach a TAP device, so they need no root.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testbed/process.h"
#include "tests/support/files.h"
#include "tests/support/netns.h"
#include "tests/tools/capture_bytes.h"

namespace tapstack::testing {
namespace {

struct CliRun {
  int status;
  std::string output;
};

CliRun Tapstack(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {TAPSTACK_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string out = TempPath("cli.out");
  Result<testbed::Process> child = testbed::Process::Spawn(argv, {.output_path = out});
  EXPECT_TRUE(child.ok());
  const std::optional<int> status = child->Wait(std::chrono::seconds(10));
  return CliRun{status.value_or(-1), ReadFile(out)};
}

TEST(CliTest, NoCommandIsAUsageError) {
  const CliRun run = Tapstack({});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("usage: tapstack"));
  EXPECT_EQ(Tapstack({"frobnicate"}).status, 2);
}

// `--help` (or `-h`) anywhere prints the command's usage on standard output and exits 0, even
// where the command would otherwise want options it does not have (nc without --addr).
TEST(CliTest, EveryCommandAnswersHelp) {
  for (const std::string command : {"demo", "up", "nc", "sim", "diagram", "load"}) {
    for (const std::string flag : {"--help", "-h"}) {
      const CliRun run = Tapstack({command, flag});
      EXPECT_EQ(run.status, 0) << command << " " << flag << ": " << run.output;
      EXPECT_THAT(run.output, ::testing::StartsWith("usage: tapstack " + command))
          << command << " " << flag;
      EXPECT_THAT(run.output, ::testing::Not(::testing::HasSubstr("unknown option")));
    }
  }
  const CliRun late = Tapstack({"nc", "--addr", "192.0.2.2/24", "--help"});
  EXPECT_EQ(late.status, 0) << late.output;
  EXPECT_EQ(Tapstack({"help"}).status, 0);
}

// A bad value is named by the option (or the argument) it was given for, with what is allowed.
TEST(CliTest, ErrorsNameTheOption) {
  CliRun run = Tapstack({"nc", "--addr", "192.0.2.2/24", "192.0.2.1", "99999"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("PORT: bad number '99999' (allowed: 1 to 65535)"));
  run = Tapstack({"up", "--addr", "192.0.2.2/24", "--mtu", "100"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("--mtu: bad number '100' (allowed: 576 to 9000)"));
  run = Tapstack({"up", "--addr", "192.0.2.2/24", "--ping", "nowhere"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("--ping: bad IPv4 address 'nowhere'"));
  run = Tapstack({"up", "--addr", "192.0.2.2/24", "--interval", "soon"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("--interval: bad duration 'soon'"));
  run = Tapstack({"sim", "--count", "500"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("--count: bad number '500' (allowed: 1 to 127)"));
  run = Tapstack({"nc", "--addr", "192.0.2.2/24", "999.0.2.1", "80"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("HOST: bad IPv4 or IPv6 address '999.0.2.1'"));
  run = Tapstack({"nc", "--addr", "192.0.2.2/24", "2001:db8::1", "80"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("HOST: an IPv6 host needs an IPv6 --addr"));
  run = Tapstack({"nc", "--addr", "192.0.2.2/24", "--dad-transmits", "11", "-l", "80"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("--dad-transmits: bad number '11'"));
}

// The command line wants the prefix: a bare address would leave nothing on-link.
TEST(CliTest, AddressWithoutPrefixIsRefused) {
  const CliRun run = Tapstack({"up", "--addr", "192.0.2.2", "--tap", "bad/name"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("bad --addr '192.0.2.2': the prefix length is "
                                               "required, as 192.0.2.2/24"));
}

TEST(CliTest, KeepaliveValuesOutOfRangeNameTheRange) {
  const std::vector<std::string> base = {"nc", "--addr", "192.0.2.2/24"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"192.0.2.1", "80"});
    return Tapstack(args);
  };
  CliRun run = with({"--keepalive", "3s,2s,0"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("1 to 127"));
  run = with({"--keepalive", "40000s,2s,4"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("1ms to 32767s"));
  run = with({"--keepalive", "3s,2s"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("IDLE,INTERVAL,COUNT"));
  run = with({"--keepalive", "3 seconds,2s,4"});
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, ::testing::HasSubstr("--keepalive IDLE: bad duration '3 seconds'"));
  run = with({"--user-timeout", "soon"});
  EXPECT_EQ(run.status, 2);
}

TEST(CliTest, ReceiveLossIsAWholePercentage) {
  for (const char* value : {"101", "-1", "2.5"}) {
    const CliRun run =
        Tapstack({"nc", "--addr", "192.0.2.2/24", "--receive-loss", value, "192.0.2.1", "80"});
    EXPECT_EQ(run.status, 2) << value;
    EXPECT_THAT(run.output, ::testing::HasSubstr("--receive-loss")) << value;
  }
}

TEST(CliTest, BufferSizesOutOfRangeNameTheRange) {
  for (const char* flag : {"--send-buffer", "--receive-buffer"}) {
    SCOPED_TRACE(flag);
    for (const char* value : {"4095", "1073741825", "lots"}) {
      const CliRun run = Tapstack({"nc", "--addr", "192.0.2.2/24", flag, value, "192.0.2.1", "80"});
      EXPECT_EQ(run.status, 2);
      EXPECT_THAT(run.output, ::testing::HasSubstr(flag));
    }
    // In range, the flag is taken: what fails next is the TAP name.
    const CliRun run = Tapstack(
        {"nc", "--addr", "192.0.2.2/24", "--tap", "bad/name", flag, "1048576", "192.0.2.1", "80"});
    EXPECT_THAT(run.output, ::testing::Not(::testing::HasSubstr(flag)));
    EXPECT_THAT(run.output, ::testing::HasSubstr("bad/name"));
  }
}

TEST(CliTest, NcArgumentErrors) {
  EXPECT_EQ(Tapstack({"nc", "--addr", "192.0.2.2/24", "192.0.2.1"}).status, 2);
  EXPECT_EQ(Tapstack({"nc", "-l", "--addr", "192.0.2.2/24"}).status, 2);
  EXPECT_EQ(Tapstack({"nc", "--addr", "192.0.2.2/24", "192.0.2.1", "70000"}).status, 2);
  EXPECT_EQ(Tapstack({"nc", "192.0.2.1", "80"}).status, 2) << "--addr is required";
  EXPECT_EQ(Tapstack({"nc", "--addr", "192.0.2.2/40", "192.0.2.1", "80"}).status, 2);
  EXPECT_EQ(Tapstack({"nc", "--bogus", "--addr", "192.0.2.2/24", "192.0.2.1", "80"}).status, 2);
}

TEST(CliTest, UpArgumentErrors) {
  EXPECT_EQ(Tapstack({"up", "--addr", "192.0.2.2/24", "--ping", "nowhere"}).status, 2);
  EXPECT_EQ(Tapstack({"up", "--addr", "192.0.2.2/24", "--count", "0"}).status, 2);
}

// An IPv6 --addr is given beside the IPv4 one, once; --gateway once per family.
TEST(CliTest, Ipv6AddressAndGatewayErrors) {
  const std::vector<std::string> base = {"up", "--addr", "192.0.2.2/24", "--tap", "bad/name"};
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return Tapstack(args);
  };
  CliRun result = run({"--addr", "2001:db8::2/64", "--addr", "2001:db8::3/64"});
  EXPECT_EQ(result.status, 2);
  EXPECT_THAT(result.output, ::testing::HasSubstr("one IPv6 address only (one --addr per family)"));
  result = run({"--addr", "2001:db8::2"});
  EXPECT_EQ(result.status, 2) << "the prefix length is required";
  EXPECT_THAT(result.output, ::testing::HasSubstr("as 2001:db8::2/64"));
  EXPECT_EQ(run({"--addr", "2001:db8::2/129"}).status, 2);
  EXPECT_EQ(run({"--addr", "fe80::2/64"}).status, 2) << "the link-local address is derived";
  EXPECT_EQ(run({"--addr", "ff02::1/64"}).status, 2);
  result = run({"--gateway", "192.0.2.1", "--gateway", "192.0.2.254"});
  EXPECT_EQ(result.status, 2);
  EXPECT_THAT(result.output, ::testing::HasSubstr("one IPv4 gateway only"));
  EXPECT_EQ(run({"--gateway", "fe80::1", "--gateway", "fe80::2"}).status, 2);
  EXPECT_EQ(run({"--gateway", "2001:db8::zz"}).status, 2);
  result = run({"--ping", "2001:db8::1"});
  EXPECT_EQ(result.status, 2);
  EXPECT_THAT(result.output, ::testing::HasSubstr("an IPv6 host needs an IPv6 --addr"));
  EXPECT_EQ(run({"--addr", "2001:db8::2/64", "--ping", "2001:db8::zz"}).status, 2);
  EXPECT_EQ(run({"--addr", "2001:db8::2/64", "--dad-transmits", "11"}).status, 2);
  // All of these right, the run fails only for the bad TAP name, after parsing.
  result = run({"--addr", "2001:db8::2/64", "--gateway", "fe80::1", "--gateway", "192.0.2.1",
                "--ping", "2001:db8::1", "--dad-transmits", "0"});
  EXPECT_EQ(result.status, 1) << result.output;
}

std::string CaptureFile(const Bytes& bytes) {
  const std::string path = TempPath("capture.pcap");
  WriteBytes(path, bytes);
  return path;
}

// A short keepalive exchange between 192.0.2.1:40000 and 198.51.100.2:80, as Ethernet frames.
std::vector<Record> KeepaliveRecords() {
  const std::uint32_t server = 0xc6336402;
  const std::uint32_t client = 0xc0000201;
  const auto from_server = [&](std::uint32_t seq, std::uint32_t ack, std::uint8_t flags) {
    return TcpSpec{.src = server,
                   .dst = client,
                   .src_port = 80,
                   .dst_port = 40000,
                   .seq = seq,
                   .ack = ack,
                   .flags = flags};
  };
  return {{1, 0, Ethernet(Ipv4Tcp({.seq = 100, .flags = kSyn}))},
          {1, 1000, Ethernet(Ipv4Tcp(from_server(900, 101, kSyn | kAck)))},
          {1, 2000, Ethernet(Ipv4Tcp({.seq = 101, .ack = 901, .flags = kAck}))},
          {3, 2000, Ethernet(Ipv4Tcp({.seq = 100, .ack = 901, .flags = kAck}))},
          {3, 3000, Ethernet(Ipv4Tcp(from_server(901, 101, kAck)))}};
}

TEST(CliTest, DiagramDrawsACapture) {
  const std::string path = CaptureFile(PcapFile(1, KeepaliveRecords()));
  CliRun run = Tapstack({"diagram", path});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_THAT(
      run.output,
      ::testing::HasSubstr("=== stream 0: 192.0.2.1:40000 <-> 198.51.100.2:80, 5 of 5 segments"));
  EXPECT_THAT(run.output, ::testing::HasSubstr("|-- ACK seq=0 ack=1 len=0 "));
  EXPECT_THAT(run.output, ::testing::HasSubstr("|  keepalive probe 1\n"));
  EXPECT_THAT(run.output, ::testing::HasSubstr("|  answer to keepalive probe 1\n"));
  // Only what falls between --from and --to is drawn, at the capture's times.
  run = Tapstack({"diagram", path, "--from", "2s", "--width", "40"});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_THAT(run.output, ::testing::HasSubstr("2 of 5 segments, 2.002 s to 2.003 s"));
  EXPECT_THAT(run.output, ::testing::Not(::testing::HasSubstr("SYN")));
  // Nothing matches: said, with status 1.
  run = Tapstack({"diagram", path, "--port", "443"});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, ::testing::HasSubstr("no TCP conversation of " + path +
                                               " matches the selection (1 conversations"));
  EXPECT_EQ(Tapstack({"diagram", path, "--hosts", "198.51.100.2,192.0.2.1"}).status, 0);
  EXPECT_EQ(Tapstack({"diagram", path, "--stream", "1"}).status, 1);
  EXPECT_EQ(Tapstack({"diagram", path, "--hosts", "192.0.2.1"}).status, 2);
  EXPECT_EQ(Tapstack({"diagram", path, "--width", "10"}).status, 2);
  EXPECT_EQ(Tapstack({"diagram"}).status, 2);
}

// pcapng, as Wireshark and dumpcap write by default, reads the same (converted with editcap).
TEST(CliTest, DiagramReadsPcapng) {
  const std::string pcap = CaptureFile(PcapFile(1, KeepaliveRecords()));
  const std::string pcapng = TempPath("capture.pcapng");
  const CommandResult editcap =
      RunShell("editcap -F pcapng " + ShellQuote(pcap) + " " + ShellQuote(pcapng));
  ASSERT_EQ(editcap.exit_code, 0) << editcap.output;
  const CliRun run = Tapstack({"diagram", pcapng});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_THAT(run.output, ::testing::HasSubstr("|  answer to keepalive probe 1\n"));
}

// Whatever the file holds, a sentence and status 1, never a crash.
TEST(CliTest, DiagramBadFilesAreClearErrors) {
  CliRun run = Tapstack({"diagram", "/nonexistent/capture.pcap"});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, ::testing::HasSubstr("cannot open /nonexistent/capture.pcap: No such "
                                               "file or directory"));

  const std::string text =
      CaptureFile(Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', ',', ' ', 'n', 'o',
                        't', ' ', 'a', ' ', 'p', 'c', 'a', 'p', ' ', 'a', 't', ' ', 'a', 'l', 'l'});
  run = Tapstack({"diagram", text});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, ::testing::HasSubstr(" is not a pcap or pcapng capture ("));

  run = Tapstack({"diagram", CaptureFile({})});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, ::testing::HasSubstr(" is not a pcap or pcapng capture ("));

  // Cut in the middle of the last record.
  Bytes truncated = PcapFile(1, KeepaliveRecords());
  truncated.resize(truncated.size() - 20);
  run = Tapstack({"diagram", CaptureFile(truncated)});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, ::testing::HasSubstr("corrupt or truncated after 4 packets ("));

  // A record header claiming 4 GiB.
  Bytes corrupt = PcapFile(1, KeepaliveRecords());
  corrupt[24 + 8] = corrupt[24 + 9] = corrupt[24 + 10] = corrupt[24 + 11] = 0xff;
  run = Tapstack({"diagram", CaptureFile(corrupt)});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, ::testing::HasSubstr("corrupt or truncated after 0 packets ("));

  // ARP only.
  run = Tapstack({"diagram", CaptureFile(PcapFile(1, {{1, 0, Ethernet(Bytes(28, 0), 0x0806)}}))});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, ::testing::HasSubstr(" holds no TCP over IPv4 (1 packet read)"));

  // 802.11 frames are not decoded.
  run = Tapstack({"diagram", CaptureFile(PcapFile(105, {{1, 0, Bytes(30, 0)}}))});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, ::testing::HasSubstr("link type IEEE802_11 (105) is not decoded"));
}

// `load` checks what it is asked before it opens a device: each mistake is exit status 2 with a
// sentence that says what is allowed.
TEST(CliTest, LoadArgumentErrors) {
  const auto load = [](std::vector<std::string> args) {
    args.insert(args.begin(), {"load", "--addr", "192.0.2.2/24", "--gateway", "192.0.2.1"});
    return Tapstack(args);
  };
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--connections", "10", "198.51.100.2:7010-7000"}, "the port range '7010-7000' is empty"},
      {{"--listen", "9-8"}, "--listen: the port range '9-8' is empty"},
      {{"--connections", "10", "--rate", "0/s", "198.51.100.2:7000"},
       "--rate: bad rate '0/s' (connections per second, 1/s to 10000000/s)"},
      // One address, one port: 28,232 ephemeral ports (Linux's 32768-60999).
      {{"--connections", "28233", "198.51.100.2:7000"},
       "--connections 28233 is more than 1 source address(es) × 1 destination port(s) × 28232 "
       "ephemeral ports allow (28232)"},
      {{"--connections", "60000", "198.51.100.2:7000-7001"}, "× 2 destination port(s)"},
      {{"--connections", "10", "8.8.8.8:53"},
       "destination 8.8.8.8 is neither on the interface's link nor in a documentation"},
      {{"--connections", "10", "198.51.100.2"}, "use HOST:PORT or HOST:PORT1-PORT2"},
      {{"--connections", "10", "198.51.100.2:7000", "--every", "1s"},
       "--every DURATION needs --send BYTES"},
      {{"--connections", "10", "198.51.100.2:7000", "--send", "1"},
       "--send BYTES needs --every DURATION"},
      {{"198.51.100.2:7000"}, "--connections N is required"},
      {{"--connections", "10"}, "give a destination HOST:PORT[-PORT2], or --listen PORT"},
      {{"--connections", "10", "198.51.100.2:7000", "--addr", "192.0.2.9-192.0.2.3"},
       "bad --addr '192.0.2.9-192.0.2.3': the range is empty"},
      {{"--connections", "10", "198.51.100.2:7000", "--addr", "192.0.2.9/16"},
       "its prefix length must be the first --addr's, /24"},
  };
  for (const auto& [args, message] : cases) {
    const CliRun run = load(args);
    EXPECT_EQ(run.status, 2) << run.output;
    EXPECT_THAT(run.output, ::testing::HasSubstr(message)) << run.output;
  }
  // More addresses make room for more connections: with 2 addresses the 28,233rd fits, and the
  // run gets as far as the TAP device (which this unprivileged name cannot open: exit 1).
  CliRun run = load(
      {"--addr", "192.0.2.3", "--connections", "28233", "--tap", "bad/name", "198.51.100.2:7000"});
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_THAT(run.output, ::testing::HasSubstr("cannot open TAP device 'bad/name'"));
  // --allow-any lets a destination outside the testbed's networks through.
  run = load({"--allow-any", "--connections", "1", "--tap", "bad/name", "8.8.8.8:53"});
  EXPECT_EQ(run.status, 1) << run.output;
}

// A TAP device that cannot be opened is a local failure (exit status 1), and the message names the
// device, the namespace, the error and its likely cause. Both checks fail before any privileged
// call, so they run without root.
TEST(CliTest, TapOpenFailuresSayWhatAndWhy) {
  CliRun run = Tapstack({"up", "--addr", "192.0.2.2/24", "--tap", "bad/name"});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, ::testing::HasSubstr("cannot open TAP device 'bad/name'"));
  EXPECT_THAT(run.output, ::testing::HasSubstr("Invalid argument"));
  EXPECT_THAT(run.output, ::testing::HasSubstr("1 to 15 characters"));

  run = Tapstack(
      {"nc", "--addr", "192.0.2.2/24", "--netns", "tapstack-no-such-namespace", "192.0.2.1", "80"});
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output,
              ::testing::HasSubstr("in network namespace 'tapstack-no-such-namespace'"));
  EXPECT_THAT(run.output, ::testing::HasSubstr("No such file or directory"));
  EXPECT_THAT(run.output, ::testing::HasSubstr("ip netns add tapstack-no-such-namespace"));
}

}  // namespace
}  // namespace tapstack::testing
