// What a scenario records: every frame on our stack's TAP (and, behind a NAT, on the server's
// link), each with its time and its place in the order of events, plus the notes the scenario
// script adds between them (unplugged, rebooted, ETIMEDOUT...). The sequence diagram and the
// verdicts are computed from this record, not from what the script meant to happen.
#ifndef TAPSTACK_TOOLS_DEMO_RECORDING_H_
#define TAPSTACK_TOOLS_DEMO_RECORDING_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tap/device.h"
#include "tap/pcap_writer.h"
#include "timers/timer_wheel.h"

namespace tapstack::tools::demo {

struct RecordedFrame {
  timers::Duration at;  // since the scenario began
  std::uint64_t order;  // position among everything recorded in the scenario
  // Sent by the owner of the link: our stack on the TAP, the server on its link.
  bool outgoing = false;
  std::vector<std::uint8_t> bytes;
};

enum class NoteKind {
  kInfo,
  kPeerUnplugged,  // from now on nothing crosses the link to the peer
  kPeerReplugged,  // the link carries traffic again
};

struct Note {
  timers::Duration at;
  std::uint64_t order;
  NoteKind kind = NoteKind::kInfo;
  std::string text;
};

struct Recording {
  // Time zero of the scenario: `at` values count from here.
  timers::TimePoint origin{};
  std::vector<RecordedFrame> stack_link;
  std::vector<RecordedFrame> server_link;  // empty without a NAT
  std::vector<Note> notes;
  std::uint64_t next_order = 0;

  void AddStackFrame(timers::Duration at, bool outgoing, std::span<const std::uint8_t> bytes) {
    stack_link.push_back({at, next_order++, outgoing, {bytes.begin(), bytes.end()}});
  }
  void AddServerFrame(timers::Duration at, bool outgoing, std::span<const std::uint8_t> bytes) {
    server_link.push_back({at, next_order++, outgoing, {bytes.begin(), bytes.end()}});
  }
  void AddNote(timers::Duration at, NoteKind kind, std::string text) {
    notes.push_back({at, next_order++, kind, std::move(text)});
  }
};

// A Device wrapper that records every frame our stack sends and receives, in memory for the
// diagram and into a pcap file for Wireshark.
class RecordingDevice : public tap::Device {
 public:
  RecordingDevice(tap::Device& inner, Recording& recording, std::unique_ptr<tap::PcapWriter> pcap);

  std::error_code Send(std::span<const std::uint8_t> frame, timers::TimePoint now) override;
  Result<std::size_t> Receive(std::span<std::uint8_t> buffer, timers::TimePoint now) override;
  Result<tap::ReceivedFrame> ReceiveFrame(std::span<std::uint8_t> buffer,
                                          timers::TimePoint now) override;
  int poll_fd() const override { return inner_.poll_fd(); }
  tap::DeviceCapabilities capabilities() const override { return inner_.capabilities(); }
  std::optional<timers::TimePoint> NextReadyTime() const override { return inner_.NextReadyTime(); }
  std::size_t mtu() const override { return inner_.mtu(); }
  tap::DeviceStats stats() const override { return inner_.stats(); }

  // Completes the pcap file.
  void ClosePcap();

 private:
  void Record(std::span<const std::uint8_t> frame, timers::TimePoint now, bool outgoing);

  tap::Device& inner_;
  Recording& recording_;
  std::unique_ptr<tap::PcapWriter> pcap_;
};

// Frames on an interface of another namespace, both directions, through a packet socket opened
// inside that namespace: the server's side of the NAT, to see what the NAT let through.
class LinkCapture {
 public:
  static absl::StatusOr<std::unique_ptr<LinkCapture>> Open(const std::string& netns,
                                                           const std::string& interface,
                                                           Recording& recording,
                                                           std::unique_ptr<tap::PcapWriter> pcap);
  ~LinkCapture();

  LinkCapture(const LinkCapture&) = delete;
  LinkCapture& operator=(const LinkCapture&) = delete;

  int fd() const { return fd_; }
  // Records every frame waiting on the socket, stamped `now`.
  void Drain(timers::TimePoint now);
  void ClosePcap();

 private:
  LinkCapture(int fd, Recording& recording, std::unique_ptr<tap::PcapWriter> pcap)
      : fd_(fd), recording_(recording), pcap_(std::move(pcap)) {}

  int fd_;
  Recording& recording_;
  std::unique_ptr<tap::PcapWriter> pcap_;
};

}  // namespace tapstack::tools::demo

#endif  // TAPSTACK_TOOLS_DEMO_RECORDING_H_
