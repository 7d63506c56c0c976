#include "testbed/conntrack_table.h"

#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "testbed/netns.h"

namespace tapstack::testbed {

ConntrackTable::~ConntrackTable() {
  if (fd_ >= 0) close(fd_);
}

std::optional<std::string> ConntrackTable::Read() {
  if (unreadable_) return std::nullopt;
  if (fd_ < 0) {
    Result<int> fd = OpenInNamespace(netns_, [] {
      return open("/proc/thread-self/net/nf_conntrack", O_RDONLY | O_CLOEXEC);
    });
    if (!fd.ok()) {
      unreadable_ = true;
      return std::nullopt;
    }
    fd_ = *fd;
  }
  if (lseek(fd_, 0, SEEK_SET) != 0) return std::nullopt;
  std::string table;
  char buffer[65536];
  ssize_t n;
  while ((n = read(fd_, buffer, sizeof(buffer))) > 0) {
    table.append(buffer, static_cast<std::size_t>(n));
  }
  if (n < 0) return std::nullopt;
  return table;
}

std::optional<std::size_t> ConntrackTable::CountTcpTo(std::uint16_t dport, bool established_only) {
  const std::optional<std::string> table = Read();
  if (!table) return std::nullopt;
  // "ipv4 2 tcp 6 9 ESTABLISHED src=192.0.2.2 dst=198.51.100.2 sport=40000 dport=7000 ...": the
  // first dport= is the original direction's, the client's destination.
  const std::string wanted = absl::StrCat(" dport=", dport, " ");
  std::size_t count = 0;
  for (absl::string_view line : absl::StrSplit(*table, '\n')) {
    if (line.find(" tcp ") == absl::string_view::npos) continue;
    if (established_only && line.find(" ESTABLISHED ") == absl::string_view::npos) continue;
    const std::size_t at = line.find(" dport=");
    if (at != absl::string_view::npos && line.substr(at, wanted.size()) == wanted) ++count;
  }
  return count;
}

}  // namespace tapstack::testbed
