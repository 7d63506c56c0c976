// Replacements of the global allocation functions ([new.delete]) that keep a running count of the
// live heap, for tests that check memory returns to a baseline. Each block is counted by its
// malloc_usable_size, taken at allocation and again at release, so the two always agree whatever
// size the sized forms of delete are given.
#include "tests/support/heap_counter.h"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace tapstack::testing {
namespace {

std::atomic<std::int64_t> live_bytes{0};
std::atomic<std::int64_t> live_blocks{0};
std::atomic<std::uint64_t> allocations{0};

void Count(void* block) {
  live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(block)),
                       std::memory_order_relaxed);
  live_blocks.fetch_add(1, std::memory_order_relaxed);
  allocations.fetch_add(1, std::memory_order_relaxed);
}

void* Allocate(std::size_t size, std::size_t alignment) {
  if (size == 0) size = 1;  // every new returns a distinct pointer
  void* block = nullptr;
  if (alignment <= alignof(std::max_align_t)) {
    block = std::malloc(size);
  } else if (posix_memalign(&block, alignment, size) != 0) {
    block = nullptr;
  }
  if (block != nullptr) Count(block);
  return block;
}

void* AllocateOrThrow(std::size_t size, std::size_t alignment) {
  void* block = Allocate(size, alignment);
  if (block == nullptr) throw std::bad_alloc();
  return block;
}

void Release(void* block) noexcept {
  if (block == nullptr) return;
  live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(block)),
                       std::memory_order_relaxed);
  live_blocks.fetch_sub(1, std::memory_order_relaxed);
  std::free(block);
}

constexpr std::size_t kDefault = alignof(std::max_align_t);

}  // namespace

HeapUsage CurrentHeapUsage() {
  return HeapUsage{.live_bytes = live_bytes.load(std::memory_order_relaxed),
                   .live_blocks = live_blocks.load(std::memory_order_relaxed),
                   .allocations = allocations.load(std::memory_order_relaxed)};
}

bool HeapCountingActive() {
  // An allocation through operator new proves the replacement is the one linked in. A direct
  // call kept in a volatile, so the compiler cannot elide the pair.
  const std::uint64_t before = allocations.load(std::memory_order_relaxed);
  void* volatile block = ::operator new(1);
  ::operator delete(block);
  return allocations.load(std::memory_order_relaxed) != before;
}

}  // namespace tapstack::testing

using tapstack::testing::Allocate;
using tapstack::testing::AllocateOrThrow;
using tapstack::testing::kDefault;
using tapstack::testing::Release;

void* operator new(std::size_t size) { return AllocateOrThrow(size, kDefault); }
void* operator new[](std::size_t size) { return AllocateOrThrow(size, kDefault); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  return AllocateOrThrow(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return AllocateOrThrow(size, static_cast<std::size_t>(alignment));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return Allocate(size, kDefault);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return Allocate(size, kDefault);
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return Allocate(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return Allocate(size, static_cast<std::size_t>(alignment));
}

void operator delete(void* block) noexcept { Release(block); }
void operator delete[](void* block) noexcept { Release(block); }
void operator delete(void* block, std::size_t) noexcept { Release(block); }
void operator delete[](void* block, std::size_t) noexcept { Release(block); }
void operator delete(void* block, std::align_val_t) noexcept { Release(block); }
void operator delete[](void* block, std::align_val_t) noexcept { Release(block); }
void operator delete(void* block, std::size_t, std::align_val_t) noexcept { Release(block); }
void operator delete[](void* block, std::size_t, std::align_val_t) noexcept { Release(block); }
void operator delete(void* block, const std::nothrow_t&) noexcept { Release(block); }
void operator delete[](void* block, const std::nothrow_t&) noexcept { Release(block); }
void operator delete(void* block, std::align_val_t, const std::nothrow_t&) noexcept {
  Release(block);
}
void operator delete[](void* block, std::align_val_t, const std::nothrow_t&) noexcept {
  Release(block);
}
