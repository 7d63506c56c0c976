#include "tap/pcap_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <utility>

namespace tapstack::tap {
namespace {

// pcap-savefile(5): the magic number of microsecond timestamps, written in our byte order (readers
// tell the order from it), version 2.4, link type 1 (LINKTYPE_ETHERNET).
struct FileHeader {
  std::uint32_t magic = 0xa1b2c3d4;
  std::uint16_t version_major = 2;
  std::uint16_t version_minor = 4;
  std::int32_t thiszone = 0;
  std::uint32_t sigfigs = 0;
  std::uint32_t snaplen = PcapWriter::kSnapshotLength;
  std::uint32_t linktype = 1;
};
static_assert(sizeof(FileHeader) == 24);

struct RecordHeader {
  std::uint32_t ts_sec;
  std::uint32_t ts_usec;
  std::uint32_t incl_len;  // bytes in the file
  std::uint32_t orig_len;  // bytes on the wire: the same, we never truncate
};
static_assert(sizeof(RecordHeader) == 16);

RecordHeader Stamp(timers::TimePoint now, std::size_t length) {
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  using std::chrono::seconds;
  auto since_epoch = now.time_since_epoch();
  // A VirtualClock may start before the epoch; pcap timestamps are unsigned in practice.
  if (since_epoch < timers::Duration::zero()) since_epoch = timers::Duration::zero();
  const seconds secs = duration_cast<seconds>(since_epoch);
  return RecordHeader{.ts_sec = static_cast<std::uint32_t>(secs.count()),
                      .ts_usec = static_cast<std::uint32_t>(
                          duration_cast<microseconds>(since_epoch - secs).count()),
                      .incl_len = static_cast<std::uint32_t>(length),
                      .orig_len = static_cast<std::uint32_t>(length)};
}

}  // namespace

PcapWriter::~PcapWriter() { Close(); }

Result<std::unique_ptr<PcapWriter>> PcapWriter::Open(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno(errno);
  std::FILE* file = fdopen(fd, "wb");
  if (file == nullptr) {
    const int error = errno;
    close(fd);
    return Errno(error);
  }
  const FileHeader header;
  if (std::fwrite(&header, sizeof(header), 1, file) != 1) {
    std::fclose(file);
    return Errno(EIO);
  }
  return std::unique_ptr<PcapWriter>(new PcapWriter(path, file));
}

std::error_code PcapWriter::Write(std::span<const std::uint8_t> frame, timers::TimePoint now) {
  if (file_ == nullptr) return Errno(EBADF);
  if (frame.size() > kSnapshotLength) return Errno(EMSGSIZE);
  // The bytes exactly as given: a corrupted or truncated frame is recorded as it was.
  const RecordHeader record = Stamp(now, frame.size());
  if (std::fwrite(&record, sizeof(record), 1, file_) != 1 ||
      (!frame.empty() && std::fwrite(frame.data(), frame.size(), 1, file_) != 1)) {
    return Errno(EIO);
  }
  ++frames_written_;
  return {};
}

void PcapWriter::Close() {
  if (file_ == nullptr) return;
  std::fclose(file_);
  file_ = nullptr;
}

}  // namespace tapstack::tap
