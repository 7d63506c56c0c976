#include "tools/demo/recording.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "testbed/failure.h"
#include "testbed/netns.h"

namespace tapstack::tools::demo {

RecordingDevice::RecordingDevice(tap::Device& inner, Recording& recording,
                                 std::unique_ptr<tap::PcapWriter> pcap)
    : inner_(inner), recording_(recording), pcap_(std::move(pcap)) {}

std::error_code RecordingDevice::Send(std::span<const std::uint8_t> frame, timers::TimePoint now) {
  const std::error_code error = inner_.Send(frame, now);
  if (!error) Record(frame, now, /*outgoing=*/true);
  return error;
}

Result<std::size_t> RecordingDevice::Receive(std::span<std::uint8_t> buffer,
                                             timers::TimePoint now) {
  const Result<tap::ReceivedFrame> received = ReceiveFrame(buffer, now);
  if (!received.ok()) return received.error();
  return received->size;
}

Result<tap::ReceivedFrame> RecordingDevice::ReceiveFrame(std::span<std::uint8_t> buffer,
                                                         timers::TimePoint now) {
  Result<tap::ReceivedFrame> received = inner_.ReceiveFrame(buffer, now);
  if (received.ok() && received->size > 0) {
    Record(buffer.first(received->size), now, /*outgoing=*/false);
  }
  return received;
}

void RecordingDevice::Record(std::span<const std::uint8_t> frame, timers::TimePoint now,
                             bool outgoing) {
  recording_.AddStackFrame(now - recording_.origin, outgoing, frame);
  // The capture is a side show: a frame it cannot write is simply missing from the file.
  if (pcap_ != nullptr && pcap_->is_open()) (void)pcap_->Write(frame, now);
}

void RecordingDevice::ClosePcap() {
  if (pcap_ != nullptr) pcap_->Close();
}

absl::StatusOr<std::unique_ptr<LinkCapture>> LinkCapture::Open(
    const std::string& netns, const std::string& interface, Recording& recording,
    std::unique_ptr<tap::PcapWriter> pcap) {
  Result<int> fd = testbed::OpenInNamespace(netns, [&interface]() -> int {
    // The interface index is looked up inside the namespace, where the interface lives.
    const unsigned index = if_nametoindex(interface.c_str());
    if (index == 0) return -1;
    const int s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (s < 0) return -1;
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = static_cast<int>(index);
    if (bind(s, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      const int saved = errno;
      close(s);
      errno = saved;
      return -1;
    }
    return s;
  });
  if (!fd.ok()) {
    return absl::Status(
        absl::ErrnoToStatusCode(fd.error().value()),
        absl::StrCat("capturing on ", interface, " in ", netns, ": ", testbed::LastFailure()));
  }
  return std::unique_ptr<LinkCapture>(new LinkCapture(*fd, recording, std::move(pcap)));
}

LinkCapture::~LinkCapture() {
  if (fd_ >= 0) close(fd_);
}

void LinkCapture::Drain(timers::TimePoint now) {
  std::vector<std::uint8_t> buffer(65536);
  while (true) {
    sockaddr_ll from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = recvfrom(fd_, buffer.data(), buffer.size(), 0,
                               reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    const std::span<const std::uint8_t> frame(buffer.data(), static_cast<std::size_t>(n));
    recording_.AddServerFrame(now - recording_.origin, from.sll_pkttype == PACKET_OUTGOING, frame);
    if (pcap_ != nullptr && pcap_->is_open()) (void)pcap_->Write(frame, now);
  }
}

void LinkCapture::ClosePcap() {
  if (pcap_ != nullptr) pcap_->Close();
}

}  // namespace tapstack::tools::demo
