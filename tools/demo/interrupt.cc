#include "tools/demo/interrupt.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace tapstack::tools::demo {

struct InterruptWatch::SavedMask {
  sigset_t mask;
};

absl::StatusOr<std::unique_ptr<InterruptWatch>> InterruptWatch::Install() {
  std::unique_ptr<InterruptWatch> watch(new InterruptWatch());
  sigset_t watched;
  sigemptyset(&watched);
  sigaddset(&watched, SIGINT);
  sigaddset(&watched, SIGTERM);
  sigaddset(&watched, SIGHUP);
  sigset_t blocked = watched;
  sigaddset(&blocked, SIGPIPE);
  watch->saved_mask_ = std::make_unique<SavedMask>();
  if (sigprocmask(SIG_BLOCK, &blocked, &watch->saved_mask_->mask) != 0) {
    return absl::ErrnoToStatus(errno, "sigprocmask");
  }
  watch->restore_mask_ = true;
  watch->fd_ = signalfd(-1, &watched, SFD_NONBLOCK | SFD_CLOEXEC);
  if (watch->fd_ < 0) return absl::ErrnoToStatus(errno, "signalfd");
  return watch;
}

InterruptWatch::~InterruptWatch() {
  if (fd_ >= 0) close(fd_);
  // A signal that came during the teardown stays pending and would act on unblocking: it has
  // been handled already (the demo is ending because of it), so it is read and dropped first.
  if (restore_mask_) {
    sigset_t pending;
    sigpending(&pending);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
      if (sigismember(&pending, sig)) {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, sig);
        int received = 0;
        sigwait(&one, &received);
      }
    }
    sigprocmask(SIG_SETMASK, &saved_mask_->mask, nullptr);
  }
}

bool InterruptWatch::Check() {
  signalfd_siginfo info;
  while (read(fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
    if (signal_ == 0) signal_ = static_cast<int>(info.ssi_signo);
  }
  return signal_ != 0;
}

std::string InterruptWatch::SignalName() const {
  switch (signal_) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return absl::StrCat("signal ", signal_);
  }
}

absl::Status InterruptWatch::AsStatus() const {
  return absl::CancelledError(absl::StrCat("interrupted by ", SignalName()));
}

}  // namespace tapstack::tools::demo
