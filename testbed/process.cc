#include "testbed/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace tapstack::testbed {
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

void WriteAll(int fd, const std::string& data) {
  std::size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    written += static_cast<std::size_t>(n);
  }
}

}  // namespace

Result<Process> Process::Spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) return Errno(EINVAL);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  Pipe output;
  int output_target = -1;  // what the child's stdout and stderr become
  if (options.output_path.empty()) {
    if (!output.Open()) return Errno(errno);
    output_target = output.write_end;
  } else {
    output_target =
        open(options.output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    // Opened in the parent, so that a bad path is an error here rather than an exit status.
    if (output_target < 0) return Errno(errno);
    output.write_end = output_target;  // closed with the pipe ends
  }
  Pipe input;
  int input_source = -1;
  if (options.input.has_value()) {
    if (!input.Open()) return Errno(errno);
    input_source = input.read_end;
  } else {
    input_source = open(options.input_path.empty() ? "/dev/null" : options.input_path.c_str(),
                        O_RDONLY | O_CLOEXEC);
    if (input_source < 0) return Errno(errno);
    input.read_end = input_source;
  }

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return Errno(errno);
  if (pid == 0) ExecChild(args, input_source, output_target, parent);

  close(input.read_end);
  input.read_end = -1;
  close(output.write_end);
  output.write_end = -1;
  if (options.input.has_value()) {
    WriteAll(input.write_end, *options.input);
    close(input.write_end);
    input.write_end = -1;
  }
  int output_fd = -1;
  if (output.read_end >= 0) {
    fcntl(output.read_end, F_SETFL, fcntl(output.read_end, F_GETFL) | O_NONBLOCK);
    output_fd = output.read_end;
    output.read_end = -1;
  }
  return Process(pid, output_fd);
}

Process::Process(Process&& other) noexcept
    : pid_(other.pid_),
      output_fd_(other.output_fd_),
      output_ended_(other.output_ended_),
      exit_status_(other.exit_status_),
      signalled_(other.signalled_),
      output_(std::move(other.output_)) {
  other.pid_ = -1;
  other.output_fd_ = -1;
}

Process::~Process() {
  Kill();
  if (output_fd_ >= 0) close(output_fd_);
}

const std::string& Process::ReadOutput() {
  if (output_fd_ < 0) return output_;
  char buffer[4096];
  while (true) {
    const ssize_t n = read(output_fd_, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) output_ended_ = true;
    if (n <= 0) break;
    output_.append(buffer, static_cast<std::size_t>(n));
  }
  return output_;
}

void Process::Signal(int signal) const {
  if (pid_ > 0 && !exit_status_) kill(pid_, signal);
}

void Process::Reaped(int wait_status) {
  signalled_ = WIFSIGNALED(wait_status);
  exit_status_ = signalled_ ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
}

bool Process::Exited() {
  if (exit_status_) return true;
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) Reaped(status);
  return exit_status_.has_value();
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Exited()) {
    if (pid_ <= 0 || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Polling a child's exit is waiting on real I/O, not TCP logic on a clock.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_;
}

int Process::WaitForExit() {
  if (exit_status_) return *exit_status_;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  Reaped(status);
  return *exit_status_;
}

void Process::Kill() {
  if (pid_ <= 0 || exit_status_) return;
  kill(pid_, SIGKILL);
  WaitForExit();
}

}  // namespace tapstack::testbed
