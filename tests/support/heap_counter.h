// Live heap accounting for a test binary that links tests/support/heap_counter.cc, which replaces
// the global operator new and delete (every form: plain and array, sized, aligned, nothrow) with
// versions that count and then call malloc and free. Memory taken with malloc directly (by C code
// or by libraries that do so) is not seen.
//
// Under AddressSanitizer the replacement takes precedence over the runtime's own operator new, so
// ASan still checks every block (it intercepts malloc and free), but it can no longer report a
// new/free or new[]/delete mismatch in this binary.
#ifndef TAPSTACK_TESTS_SUPPORT_HEAP_COUNTER_H_
#define TAPSTACK_TESTS_SUPPORT_HEAP_COUNTER_H_

#include <cstddef>
#include <cstdint>

namespace tapstack::testing {

struct HeapUsage {
  std::int64_t live_bytes = 0;  // usable size of every block allocated and not yet freed
  std::int64_t live_blocks = 0;
  std::uint64_t allocations = 0;  // operator new calls so far
};

// What the replaced operators have counted so far. False from HeapCountingActive() means this
// binary does not link heap_counter.cc's operators (the numbers are then all zero).
HeapUsage CurrentHeapUsage();
bool HeapCountingActive();

}  // namespace tapstack::testing

#endif  // TAPSTACK_TESTS_SUPPORT_HEAP_COUNTER_H_
