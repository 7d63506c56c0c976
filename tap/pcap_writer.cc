#include "tap/pcap_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/time.h>
#include <tins/ethernetII.h>
#include <tins/packet.h>
#include <tins/packet_writer.h>
#include <tins/rawpdu.h>
#include <tins/timestamp.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <utility>

namespace tapstack::tap {
namespace {

timeval ToTimeval(timers::TimePoint now) {
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  using std::chrono::seconds;
  auto since_epoch = now.time_since_epoch();
  // A VirtualClock may start before the epoch; pcap timestamps are unsigned in practice.
  if (since_epoch < timers::Duration::zero()) since_epoch = timers::Duration::zero();
  const seconds secs = duration_cast<seconds>(since_epoch);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(secs.count());
  tv.tv_usec = static_cast<suseconds_t>(duration_cast<microseconds>(since_epoch - secs).count());
  return tv;
}

}  // namespace

PcapWriter::PcapWriter(std::string path, std::unique_ptr<Tins::PacketWriter> writer)
    : path_(std::move(path)), writer_(std::move(writer)) {}

PcapWriter::~PcapWriter() = default;

Result<std::unique_ptr<PcapWriter>> PcapWriter::Open(const std::string& path) {
  // Create the file ourselves first: libtins 4.0 reads the pcap handle it has just freed when it
  // builds the exception for a file it cannot open (a use-after-free under ASan), and errno gives
  // a better message anyway.
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno(errno);
  close(fd);
  try {
    auto writer =
        std::make_unique<Tins::PacketWriter>(path, Tins::DataLinkType<Tins::EthernetII>());
    return std::unique_ptr<PcapWriter>(new PcapWriter(path, std::move(writer)));
  } catch (const std::exception&) {
    return Errno(EIO);
  }
}

std::error_code PcapWriter::Write(std::span<const std::uint8_t> frame, timers::TimePoint now) {
  if (writer_ == nullptr) return Errno(EBADF);
  // A RawPDU writes the bytes exactly as given: a corrupted or truncated frame is recorded as it
  // was, where parsing it into an EthernetII first could fail or re-serialize it differently.
  Tins::RawPDU raw(frame.data(), static_cast<std::uint32_t>(frame.size()));
  Tins::Packet packet(raw, Tins::Timestamp(ToTimeval(now)));
  try {
    writer_->write(packet);
  } catch (const std::exception&) {
    return Errno(EIO);
  }
  ++frames_written_;
  return {};
}

void PcapWriter::Close() { writer_.reset(); }

}  // namespace tapstack::tap
