// What the running process costs: resident memory and CPU time, for the tools' reports.
#ifndef TAPSTACK_TOOLS_PROCESS_USAGE_H_
#define TAPSTACK_TOOLS_PROCESS_USAGE_H_

namespace tapstack::tools {

// Resident set size now, in KiB (/proc/self/statm); 0 if it cannot be read.
long ResidentKib();
// CPU time of the whole process (every thread, user and system), in seconds.
double ProcessCpuSeconds();
// Monotonic wall-clock time, in seconds.
double MonotonicSeconds();

}  // namespace tapstack::tools

#endif  // TAPSTACK_TOOLS_PROCESS_USAGE_H_
