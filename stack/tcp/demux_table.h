// The demux table: a connection's key (its 4-tuple) to its slot in the connection slab.
//
// Open addressing with linear probing, the key stored in the entry, kept at most half full. With
// IPv4 keys four 16-byte entries share a 64-byte line (IPv6 keys fill one each), so a lookup
// nearly always reads one line:
// the segment's home entry and, at this load, usually nothing past it. A general-purpose table
// (Abseil's, which this replaces) reads a line of control bytes and then a line of slots, two
// cache misses per segment once a million connections have pushed the table out of the cache.
// Erase shifts later entries of the run back (Knuth's algorithm R), so there are no tombstones
// and lookups never slow down with churn. The table grows by doubling and does not shrink, as
// the table it replaces did not.
//
// Keys are hashed with absl::Hash, seeded per process, so that a peer cannot choose 4-tuples that
// all land in one run. Large arrays sit on transparent huge pages (HugePageAllocator), which also
// puts them on line boundaries; a small table is in the cache anyway.
#ifndef TAPSTACK_STACK_TCP_DEMUX_TABLE_H_
#define TAPSTACK_STACK_TCP_DEMUX_TABLE_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "absl/hash/hash.h"
#include "stack/tcp/huge_pages.h"

namespace tapstack::tcp {

// What DemuxTable::Find returns for a key that is not there, whatever the key's type.
inline constexpr std::uint32_t kNotInDemuxTable = ~std::uint32_t{0};

// `Hash` is absl::Hash in the engine; tests pass one that forces collisions.
template <typename Key, typename Hash = absl::Hash<Key>>
class DemuxTable {
 public:
  static constexpr std::uint32_t kNotFound = kNotInDemuxTable;

  DemuxTable() = default;
  DemuxTable(const DemuxTable&) = delete;
  DemuxTable& operator=(const DemuxTable&) = delete;
  ~DemuxTable() { Release(); }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }

  // The value stored for `key`, or kNotFound.
  std::uint32_t Find(const Key& key) const {
    if (size_ == 0) return kNotFound;
    for (std::size_t i = Home(key);; i = (i + 1) & mask_) {
      const Entry& entry = entries_[i];
      if (entry.stored == kEmpty) return kNotFound;
      if (entry.key == key) return entry.stored - 1;
    }
  }
  bool Contains(const Key& key) const { return Find(key) != kNotFound; }

  // Adds `key` with `value` (anything but kNotFound). False, and nothing changed, when the key is
  // already present.
  bool Insert(const Key& key, std::uint32_t value) {
    if (Contains(key)) return false;
    if ((size_ + 1) * 2 > capacity_) Grow();
    Place(key, value + 1);
    ++size_;
    return true;
  }

  // Removes `key`; false when it was not present.
  bool Erase(const Key& key) {
    if (size_ == 0) return false;
    std::size_t hole = Home(key);
    while (true) {
      if (entries_[hole].stored == kEmpty) return false;
      if (entries_[hole].key == key) break;
      hole = (hole + 1) & mask_;
    }
    // Algorithm R: walk the rest of the run; an entry whose home does not lie cyclically in
    // (hole, current] can fill the hole, which then moves to where that entry was.
    for (std::size_t current = (hole + 1) & mask_; entries_[current].stored != kEmpty;
         current = (current + 1) & mask_) {
      const std::size_t home = Home(entries_[current].key);
      const bool stays =
          hole <= current ? (hole < home && home <= current) : (hole < home || home <= current);
      if (stays) continue;
      entries_[hole] = entries_[current];
      hole = current;
    }
    entries_[hole].stored = kEmpty;
    --size_;
    return true;
  }

  // Asks the CPU for the line(s) a lookup of `key` will read, ahead of the lookup.
  void Prefetch(const Key& key) const {
    if (size_ == 0) return;
    const std::size_t home = Home(key);
    __builtin_prefetch(&entries_[home]);
    // A home entry last in its line makes the next line likely too.
    if ((home & (kEntriesPerLine - 1)) == kEntriesPerLine - 1) {
      __builtin_prefetch(&entries_[(home + 1) & mask_]);
    }
  }

  // Calls fn(key, value) for every entry, in no particular order; fn must not change the table.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (std::size_t i = 0; i < capacity_; ++i) {
      if (entries_[i].stored != kEmpty) fn(entries_[i].key, entries_[i].stored - 1);
    }
  }

 private:
  // `stored` is the value plus one: zero marks an empty entry, so a zeroed array is an empty table.
  // Aligned to its size rounded up to a power of two, so that an entry never straddles a cache
  // line: an IPv4 key makes 16-byte entries, four to a line; an IPv6 key 64-byte ones.
  struct alignas(std::bit_ceil(sizeof(Key) + sizeof(std::uint32_t))) Entry {
    Key key;
    std::uint32_t stored;
  };
  static_assert(std::is_trivially_copyable_v<Key>);
  static_assert(64 % sizeof(Entry) == 0, "entries must not straddle cache lines");
  static constexpr std::size_t kEntriesPerLine = 64 / sizeof(Entry);
  static constexpr std::uint32_t kEmpty = 0;
  static constexpr std::size_t kMinCapacity = 16;

  std::size_t Home(const Key& key) const { return Hash{}(key)&mask_; }

  void Place(const Key& key, std::uint32_t stored) {
    std::size_t i = Home(key);
    while (entries_[i].stored != kEmpty) i = (i + 1) & mask_;
    entries_[i].key = key;
    entries_[i].stored = stored;
  }

  void Grow() {
    Entry* const old_entries = entries_;
    const std::size_t old_capacity = capacity_;
    capacity_ = old_capacity == 0 ? kMinCapacity : old_capacity * 2;
    mask_ = capacity_ - 1;
    entries_ = HugePageAllocator<Entry>().allocate(capacity_);
    std::memset(static_cast<void*>(entries_), 0, capacity_ * sizeof(Entry));
    for (std::size_t i = 0; i < old_capacity; ++i) {
      if (old_entries[i].stored != kEmpty) Place(old_entries[i].key, old_entries[i].stored);
    }
    if (old_entries != nullptr) HugePageAllocator<Entry>().deallocate(old_entries, old_capacity);
  }

  void Release() {
    if (entries_ != nullptr) HugePageAllocator<Entry>().deallocate(entries_, capacity_);
    entries_ = nullptr;
    capacity_ = mask_ = size_ = 0;
  }

  Entry* entries_ = nullptr;
  std::size_t capacity_ = 0;  // a power of two, or 0 before the first insert
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace tapstack::tcp

#endif  // TAPSTACK_STACK_TCP_DEMUX_TABLE_H_
