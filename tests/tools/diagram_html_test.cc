// The web page of `tapstack diagram --html` (and of the demo): the SVG drawing and the page on
// their own, then the page as a real browser (headless Chromium) loads it: no console message,
// one SVG per conversation, one arrow per segment the text diagram draws, and a screenshot kept
// under the build tree (artifacts/) for a person to look at.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "testbed/process.h"
#include "tests/support/browser.h"
#include "tests/support/files.h"
#include "tests/support/text_diagram.h"
#include "tests/tools/capture_bytes.h"
#include "tools/diagram/html_page.h"
#include "tools/diagram/svg_diagram.h"

namespace tapstack::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using tools::diagram::DiagramNote;
using tools::diagram::DiagramSpec;
using tools::diagram::Segment;

Segment At(int ms, bool from_left, std::uint8_t flags, bool delivered = true) {
  Segment segment;
  segment.at = std::chrono::milliseconds(ms);
  segment.order = static_cast<std::uint64_t>(ms);
  segment.from_left = from_left;
  segment.flags = flags;
  segment.delivered = delivered;
  return segment;
}

TEST(DiagramHtmlTest, SvgDrawsOneGroupPerSegmentAndNote) {
  std::vector<Segment> segments = {At(0, true, kSyn), At(1, false, kSyn | kAck), At(2, true, kAck),
                                   At(3000, true, kRst | kAck, false)};
  segments[3].marks = tools::diagram::kRetransmission;
  const std::vector<DiagramNote> notes = {
      {std::chrono::milliseconds(5), 5, "peer <unplugged> & gone"}};
  const DiagramSpec spec{.left_title = "our stack", .right_title = "Linux \"peer\""};
  const std::string svg = tools::diagram::RenderSvgDiagram(spec, segments, notes);
  EXPECT_EQ(Occurrences(svg, "<g class=\"segment"), 4);
  EXPECT_EQ(Occurrences(svg, "<g class=\"note\""), 1);
  EXPECT_EQ(Occurrences(svg, "class=\"head\""), 3) << "the lost segment ends in a cross instead";
  EXPECT_EQ(Occurrences(svg, "class=\"cross\""), 2);
  EXPECT_THAT(svg, HasSubstr("segment rightward retransmission reset lost"));
  EXPECT_THAT(svg, HasSubstr("* peer &lt;unplugged&gt; &amp; gone"));
  EXPECT_THAT(svg, HasSubstr("Linux &quot;peer&quot;"));
  EXPECT_THAT(svg, HasSubstr("(3.0 s idle)"));
  EXPECT_THAT(svg, HasSubstr(">retransmission, reset, lost</text>"));
  EXPECT_THAT(svg, Not(HasSubstr(" id=")));
}

TEST(DiagramHtmlTest, PageEscapesItsTextAndEmbedsTheDrawings) {
  const std::string page = tools::diagram::RenderHtmlPage(
      "a <title>", "under & over",
      {{.heading = "one", .svg = "<svg>1</svg>", .verdict = "verdict 1: expected"},
       {.heading = "two <b>",
        .svg = "<svg>2</svg>",
        .verdict = "verdict 2: unexpected",
        .verdict_expected = false,
        .links = {{"pcap: x&y.pcap", "x&y.pcap"}}}});
  EXPECT_THAT(page, ::testing::StartsWith("<!DOCTYPE html>"));
  EXPECT_THAT(page, HasSubstr("<title>a &lt;title&gt;</title>"));
  EXPECT_THAT(page, HasSubstr("<p>under &amp; over</p>"));
  EXPECT_EQ(Occurrences(page, "<section>"), 2);
  EXPECT_THAT(page, HasSubstr("<h2>two &lt;b&gt;</h2>"));
  EXPECT_THAT(page, HasSubstr("<div class=\"diagram\"><svg>2</svg></div>"));
  EXPECT_THAT(page, HasSubstr("<p class=\"verdict unexpected\">verdict 2: unexpected</p>"));
  EXPECT_THAT(page, HasSubstr("<a href=\"x&amp;y.pcap\">pcap: x&amp;y.pcap</a>"));
  EXPECT_THAT(page, Not(HasSubstr("<script")));
}

TEST(DiagramHtmlTest, PageLoadsInChromiumWithEveryArrow) {
  const std::uint32_t server = 0xc6336402;
  const std::uint32_t client = 0xc0000201;
  const auto from_server = [&](std::uint16_t port, std::uint32_t seq, std::uint32_t ack,
                               std::uint8_t flags) {
    return TcpSpec{.src = server,
                   .dst = client,
                   .src_port = 80,
                   .dst_port = port,
                   .seq = seq,
                   .ack = ack,
                   .flags = flags};
  };
  std::vector<Record> records;
  for (const std::uint16_t port : {40000, 40001}) {
    records.push_back({1, 0, Ethernet(Ipv4Tcp({.src_port = port, .seq = 1, .flags = kSyn}))});
    records.push_back({1, 100, Ethernet(Ipv4Tcp(from_server(port, 9, 2, kSyn | kAck)))});
    records.push_back(
        {1, 200, Ethernet(Ipv4Tcp({.src_port = port, .seq = 2, .ack = 10, .flags = kAck}))});
    records.push_back(
        {3, 0, Ethernet(Ipv4Tcp({.src_port = port, .seq = 1, .ack = 10, .flags = kAck}))});
    records.push_back({3, 100, Ethernet(Ipv4Tcp(from_server(port, 10, 2, kAck)))});
    records.push_back({4, 0, Ethernet(Ipv4Tcp(from_server(port, 10, 0, kRst)))});
  }
  const std::string capture = TempPath("two.pcap");
  WriteBytes(capture, PcapFile(1, records));
  const std::string page = TempPath("page.html");
  const std::string text = TempPath("diagram.out");
  Result<testbed::Process> diagram = testbed::Process::Spawn(
      {TAPSTACK_BINARY, "diagram", capture, "--html", page}, {.output_path = text});
  ASSERT_TRUE(diagram.ok());
  ASSERT_EQ(diagram->Wait(std::chrono::seconds(20)), 0) << ReadFile(text);
  const int arrows = TextDiagramArrows(ReadFile(text));
  ASSERT_EQ(arrows, 12) << ReadFile(text);

  std::filesystem::create_directories(TAPSTACK_ARTIFACT_DIR);
  const std::string screenshot = std::string(TAPSTACK_ARTIFACT_DIR) + "/diagram-page.png";
  std::filesystem::remove(screenshot);
  absl::StatusOr<BrowserRun> browser = LoadInChromium(page, screenshot);
  ASSERT_TRUE(browser.ok()) << browser.status();
  EXPECT_FALSE(browser->console_messages()) << browser->log;
  EXPECT_EQ(Occurrences(browser->dom, "<svg"), 2);
  EXPECT_EQ(Occurrences(browser->dom, "<g class=\"segment"), arrows);
  EXPECT_THAT(browser->dom, HasSubstr("answer to keepalive probe 1"));
  // The RST comes after the probe was answered: it answers nothing.
  EXPECT_THAT(browser->dom, Not(HasSubstr("probe 0")));
  std::error_code error;
  EXPECT_GT(std::filesystem::file_size(screenshot, error), 10'000u) << error.message();
}

}  // namespace
}  // namespace tapstack::testing
