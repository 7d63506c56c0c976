#include "tools/demo/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tapstack::tools::demo {
namespace {

// Pipe ends, closed on destruction unless released.
struct Pipe {
  int read_end = -1;
  int write_end = -1;
  ~Pipe() {
    if (read_end >= 0) close(read_end);
    if (write_end >= 0) close(write_end);
  }
  bool Open() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return false;
    read_end = fds[0];
    write_end = fds[1];
    return true;
  }
};

// In the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void ExecChild(const std::vector<char*>& args, int stdin_fd, int output_fd,
                            pid_t parent) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died between fork and prctl; then nobody would ever kill us.
  if (getppid() != parent) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  dup2(stdin_fd, STDIN_FILENO);
  dup2(output_fd, STDOUT_FILENO);
  dup2(output_fd, STDERR_FILENO);
  execvp(args[0], args.data());
  static constexpr char kFailed[] = "exec failed: ";
  (void)!write(STDERR_FILENO, kFailed, sizeof(kFailed) - 1);
  const char* reason = strerror(errno);
  (void)!write(STDERR_FILENO, reason, strlen(reason));
  _exit(127);
}

std::vector<char*> ArgvPointers(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  return args;
}

int DecodeWaitStatus(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace

std::string CommandLine(const std::vector<std::string>& argv) {
  return absl::StrJoin(argv, " ", [](std::string* out, const std::string& arg) {
    const bool plain = !arg.empty() && arg.find_first_of(" \t\n'\"{};|&$<>*") == std::string::npos;
    if (plain) {
      out->append(arg);
      return;
    }
    out->push_back('\'');
    for (char c : arg) {
      if (c == '\'') {
        out->append("'\\''");
      } else {
        out->push_back(c);
      }
    }
    out->push_back('\'');
  });
}

CommandResult RunCommand(const std::vector<std::string>& argv, absl::string_view input) {
  CommandResult result;
  if (argv.empty()) return result;
  Pipe in;
  Pipe out;
  if (!in.Open() || !out.Open()) {
    result.output = absl::StrCat("pipe: ", std::strerror(errno));
    return result;
  }
  const std::vector<char*> args = ArgvPointers(argv);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    result.output = absl::StrCat("fork: ", std::strerror(errno));
    return result;
  }
  if (pid == 0) ExecChild(args, in.read_end, out.write_end, parent);
  close(in.read_end);
  in.read_end = -1;
  close(out.write_end);
  out.write_end = -1;
  // Inputs are a few lines of nft rules, far below the pipe's capacity: writing all of it before
  // reading the output cannot deadlock.
  std::size_t written = 0;
  while (written < input.size()) {
    const ssize_t n = write(in.write_end, input.data() + written, input.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  close(in.write_end);
  in.write_end = -1;
  char buffer[4096];
  while (true) {
    const ssize_t n = read(out.read_end, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<std::size_t>(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = DecodeWaitStatus(status);
  return result;
}

absl::Status RunCommandOk(const std::vector<std::string>& argv, absl::string_view input) {
  const CommandResult result = RunCommand(argv, input);
  if (result.exit_code == 0) return absl::OkStatus();
  std::string output = result.output;
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return absl::InternalError(absl::StrCat("`", CommandLine(argv), "` failed (exit ",
                                          result.exit_code, ")", output.empty() ? "" : ": ",
                                          output));
}

absl::StatusOr<std::unique_ptr<BackgroundProcess>> BackgroundProcess::Start(
    const std::vector<std::string>& argv) {
  if (argv.empty()) return absl::InvalidArgumentError("empty command");
  Pipe out;
  if (!out.Open()) return absl::ErrnoToStatus(errno, "pipe");
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) return absl::ErrnoToStatus(errno, "open /dev/null");
  const std::vector<char*> args = ArgvPointers(argv);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int error = errno;
    close(null_fd);
    return absl::ErrnoToStatus(error, "fork");
  }
  if (pid == 0) ExecChild(args, null_fd, out.write_end, parent);
  close(null_fd);
  close(out.write_end);
  out.write_end = -1;
  fcntl(out.read_end, F_SETFL, fcntl(out.read_end, F_GETFL) | O_NONBLOCK);
  const int output_fd = out.read_end;
  out.read_end = -1;
  return std::unique_ptr<BackgroundProcess>(new BackgroundProcess(pid, output_fd));
}

BackgroundProcess::~BackgroundProcess() {
  Kill();
  if (output_fd_ >= 0) close(output_fd_);
}

const std::string& BackgroundProcess::ReadOutput() {
  char buffer[4096];
  while (true) {
    const ssize_t n = read(output_fd_, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output_.append(buffer, static_cast<std::size_t>(n));
  }
  return output_;
}

void BackgroundProcess::Signal(int signal) const {
  if (!reaped_) kill(pid_, signal);
}

bool BackgroundProcess::Exited() {
  if (reaped_) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) reaped_ = true;
  return reaped_;
}

void BackgroundProcess::Kill() {
  if (reaped_) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

}  // namespace tapstack::tools::demo
