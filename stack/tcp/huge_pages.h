// Memory for the structures that grow with the number of connections: the connection slab and
// the demux table. At a million connections they span about a gigabyte and every segment lands
// on a random part of it, so with 4 KiB pages nearly every lookup also misses the TLB (and, in
// a virtual machine, walks two page tables). Backed by 2 MiB transparent huge pages, the whole
// working set fits the TLB. This is the memory a kernel stack gets for free: Linux keeps its
// sockets in the direct map, which is mapped with huge pages.
#ifndef TAPSTACK_STACK_TCP_HUGE_PAGES_H_
#define TAPSTACK_STACK_TCP_HUGE_PAGES_H_

#include <cstddef>
#include <new>

namespace tapstack::tcp {

inline constexpr std::size_t kHugePageSize = std::size_t{2} << 20;

// An anonymous mapping of `bytes` (a multiple of kHugePageSize), aligned to kHugePageSize and
// advised for transparent huge pages when `huge` (madvise MADV_HUGEPAGE; where the kernel does
// not do THP it stays ordinary pages). Pages are only committed when touched. Throws
// std::bad_alloc when the mapping fails, as operator new would.
void* MapRegion(std::size_t bytes, bool huge);
void UnmapRegion(void* region, std::size_t bytes);

// A standard allocator that serves allocations of at least one huge page from MapRegion (with
// huge pages) and smaller ones from operator new, so small tables (a test's engine) cost nothing
// extra. Used for the demux table.
template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    // A small array comes from the heap, aligned as T asks (a cache line for IPv6 demux entries).
    if (bytes < kHugePageSize) {
      return static_cast<T*>(::operator new (bytes, std::align_val_t{alignof(T)}));
    }
    return static_cast<T*>(MapRegion(RoundUp(bytes), /*huge=*/true));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePageSize) {
      ::operator delete (p, std::align_val_t{alignof(T)});
    } else {
      UnmapRegion(p, RoundUp(bytes));
    }
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }

 private:
  static std::size_t RoundUp(std::size_t bytes) {
    return (bytes + kHugePageSize - 1) / kHugePageSize * kHugePageSize;
  }
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_HUGE_PAGES_H_
