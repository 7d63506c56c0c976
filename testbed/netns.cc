#include "testbed/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "testbed/failure.h"

namespace tapstack::testbed {
namespace {

constexpr char kNetnsDir[] = "/var/run/netns";

std::string ReadSmallFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return "";
  char buffer[256];
  const std::size_t n = std::fread(buffer, 1, sizeof(buffer), file);
  std::fclose(file);
  return std::string(buffer, n);
}

// Whether the process that named a namespace after `pid` still runs: the pid exists and, when the
// pattern asks, runs the same program as this one. When in doubt (the program's name cannot be
// read) the namespace is left alone.
bool OwnerStillRuns(const NamePattern& pattern, int pid) {
  if (kill(pid, 0) != 0 && errno != EPERM) return false;
  if (!pattern.owner_is_this_program) return true;
  const std::string theirs = ReadSmallFile(absl::StrCat("/proc/", pid, "/comm"));
  const std::string ours = ReadSmallFile("/proc/self/comm");
  return theirs.empty() || ours.empty() || theirs == ours;
}

bool DeleteNamespace(const std::string& name) {
  const CommandResult pids = RunCommand({"ip", "netns", "pids", name});
  for (absl::string_view line : absl::StrSplit(pids.output, '\n', absl::SkipWhitespace())) {
    int pid = 0;
    if (absl::SimpleAtoi(line, &pid) && pid > 1 && pid != getpid()) kill(pid, SIGKILL);
  }
  const CommandResult deleted = RunCommand({"ip", "netns", "del", name});
  if (!deleted.ok()) {
    std::fprintf(stderr, "testbed: %s\n", deleted.Describe().c_str());
    return false;
  }
  return true;
}

}  // namespace

std::string NamespaceName(const NamePattern& pattern, std::string_view label) {
  return absl::StrCat(std::string(pattern.prefix), getpid(), std::string(1, pattern.separator),
                      std::string(label));
}

std::optional<int> OwnerPid(const NamePattern& pattern, std::string_view name) {
  if (name.substr(0, pattern.prefix.size()) != pattern.prefix) return std::nullopt;
  const std::string_view rest = name.substr(pattern.prefix.size());
  const std::size_t separator = rest.find(pattern.separator);
  if (separator == std::string_view::npos || separator == 0 || separator + 1 == rest.size()) {
    return std::nullopt;
  }
  const std::string_view digits = rest.substr(0, separator);
  if (digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  int pid = 0;
  if (!absl::SimpleAtoi(std::string(digits), &pid) || pid <= 0) return std::nullopt;
  return pid;
}

std::vector<std::string> RemoveStaleNamespaces(const NamePattern& pattern) {
  std::vector<std::string> removed;
  std::error_code error;
  // No directory: no namespace was ever created here.
  for (const auto& entry : std::filesystem::directory_iterator(kNetnsDir, error)) {
    const std::string name = entry.path().filename().string();
    const std::optional<int> pid = OwnerPid(pattern, name);
    if (!pid.has_value() || *pid == getpid() || OwnerStillRuns(pattern, *pid)) continue;
    if (DeleteNamespace(name)) removed.push_back(name);
  }
  return removed;
}

Result<int> OpenInNamespace(const std::string& netns, const std::function<int()>& open_fd) {
  // thread-self: setns moves only the calling thread, and that is the thread to move back.
  const int original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original < 0) {
    return Fail(Errno(errno), absl::StrCat("open /proc/thread-self/ns/net: ", strerror(errno)));
  }
  const std::string path = absl::StrCat(kNetnsDir, "/", netns);
  const int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    const int saved = errno;
    close(original);
    return Fail(Errno(saved), absl::StrCat("open ", path, ": ", strerror(saved)));
  }
  if (setns(target, CLONE_NEWNET) != 0) {
    const int saved = errno;
    close(target);
    close(original);
    return Fail(Errno(saved), absl::StrCat("setns into ", netns, ": ", strerror(saved)));
  }
  close(target);
  const int fd = open_fd();
  const int open_errno = errno;
  if (setns(original, CLONE_NEWNET) != 0) {
    // Staying in a scene's namespace would send whatever comes next to the wrong network.
    std::fprintf(stderr, "testbed: cannot return to the original namespace: %s\n",
                 std::strerror(errno));
    std::abort();
  }
  close(original);
  if (fd < 0) {
    return Fail(Errno(open_errno), absl::StrCat("opening in ", netns, ": ", strerror(open_errno)));
  }
  return fd;
}

Result<std::unique_ptr<Namespace>> Namespace::Create(const NamePattern& pattern,
                                                     std::string_view label) {
  const std::string name = NamespaceName(pattern, label);
  if (std::error_code error = RunCommandOk({"ip", "netns", "add", name})) return error;
  // From here on the destructor deletes it, whatever fails next.
  std::unique_ptr<Namespace> ns(new Namespace(name));
  if (std::error_code error = CheckCommand(ns->Ip({"link", "set", "lo", "up"}))) return error;
  return ns;
}

Namespace::~Namespace() { DeleteNamespace(name_); }

std::vector<std::string> Namespace::ExecArgv(const std::vector<std::string>& argv) const {
  std::vector<std::string> full = {"ip", "netns", "exec", name_};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

CommandResult Namespace::Exec(const std::vector<std::string>& argv, std::string_view input) const {
  return RunCommand(ExecArgv(argv), input);
}

CommandResult Namespace::Shell(const std::string& command) const {
  return Exec({"sh", "-c", command});
}

CommandResult Namespace::Ip(const std::vector<std::string>& args) const {
  std::vector<std::string> full = {"ip", "-n", name_};
  full.insert(full.end(), args.begin(), args.end());
  return RunCommand(full);
}

CommandResult Namespace::Sysctl(std::string_view key, std::string_view value) const {
  return Exec({"sysctl", "-qw", absl::StrCat(std::string(key), "=", std::string(value))});
}

CommandResult Namespace::Nft(std::string_view script) const {
  return Exec({"nft", "-f", "-"}, script);
}

}  // namespace tapstack::testbed
