#include "tools/process_usage.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>

namespace tapstack::tools {
namespace {

double Seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

long ResidentKib() {
  long pages_total = 0;
  long pages_resident = 0;
  if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
    std::fclose(statm);
  }
  return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

double ProcessCpuSeconds() { return Seconds(CLOCK_PROCESS_CPUTIME_ID); }
double MonotonicSeconds() { return Seconds(CLOCK_MONOTONIC); }

}  // namespace tapstack::tools
