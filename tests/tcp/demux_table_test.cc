#include "stack/tcp/demux_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include "stack/tcp/tcb.h"

namespace tapstack::tcp {
namespace {

// Keys whose hash has only five values, all among the last entries of the smallest (16-entry)
// table, so that runs are long, wrap around the end of the table and overlap: the cases
// backward-shift deletion has to get right.
struct CollidingKey {
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  std::uint32_t c = 0;
  friend bool operator==(const CollidingKey&, const CollidingKey&) = default;
};
struct CollidingHash {
  std::size_t operator()(const CollidingKey& key) const { return 11 + key.a % 5; }
};

FourTuple Tuple(std::uint32_t n) {
  return FourTuple{.local_address = wire::Ipv4Address(0xc0000202),
                   .remote_address = wire::Ipv4Address(0xc6336400 + (n >> 16)),
                   .local_port = 80,
                   .remote_port = static_cast<std::uint16_t>(n)};
}

TEST(DemuxTableTest, EmptyTableFindsNothing) {
  DemuxTable<FourTuple> table;
  EXPECT_EQ(table.Find(Tuple(1)), DemuxTable<FourTuple>::kNotFound);
  EXPECT_FALSE(table.Erase(Tuple(1)));
  table.Prefetch(Tuple(1));  // harmless on an empty table
  EXPECT_EQ(table.size(), 0u);
}

TEST(DemuxTableTest, InsertFindErase) {
  DemuxTable<FourTuple> table;
  EXPECT_TRUE(table.Insert(Tuple(1), 0));  // value 0 is a value like any other
  EXPECT_TRUE(table.Insert(Tuple(2), 7));
  EXPECT_FALSE(table.Insert(Tuple(2), 8)) << "a present key is not replaced";
  EXPECT_EQ(table.Find(Tuple(1)), 0u);
  EXPECT_EQ(table.Find(Tuple(2)), 7u);
  EXPECT_EQ(table.Find(Tuple(3)), DemuxTable<FourTuple>::kNotFound);
  EXPECT_TRUE(table.Erase(Tuple(1)));
  EXPECT_FALSE(table.Erase(Tuple(1)));
  EXPECT_EQ(table.Find(Tuple(1)), DemuxTable<FourTuple>::kNotFound);
  EXPECT_EQ(table.Find(Tuple(2)), 7u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(DemuxTableTest, StaysAtMostHalfFullAsItGrows) {
  DemuxTable<FourTuple> table;
  for (std::uint32_t i = 0; i < 100'000; ++i) {
    ASSERT_TRUE(table.Insert(Tuple(i), i));
    ASSERT_LE(table.size() * 2, table.capacity());
  }
  for (std::uint32_t i = 0; i < 100'000; ++i) ASSERT_EQ(table.Find(Tuple(i)), i);
  std::size_t visited = 0;
  table.ForEach([&](const FourTuple& key, std::uint32_t value) {
    EXPECT_EQ(key, Tuple(value));
    ++visited;
  });
  EXPECT_EQ(visited, 100'000u);
}

// Random inserts and erases against std::unordered_map, with keys that collide into runs which
// wrap around the table's end: every lookup must agree after every operation.
template <typename Table, typename MakeKey>
void CheckAgainstReference(MakeKey make_key, std::uint32_t key_space, int operations) {
  Table table;
  std::unordered_map<std::uint32_t, std::uint32_t> reference;
  std::mt19937 rng(7);
  for (int op = 0; op < operations; ++op) {
    const std::uint32_t n = rng() % key_space;
    if (rng() % 3 == 0) {
      ASSERT_EQ(table.Erase(make_key(n)), reference.erase(n) == 1) << "op " << op;
    } else {
      const std::uint32_t value = rng() % 1000;
      ASSERT_EQ(table.Insert(make_key(n), value), reference.emplace(n, value).second)
          << "op " << op;
    }
    ASSERT_EQ(table.size(), reference.size());
    for (std::uint32_t k = 0; k < key_space; ++k) {
      const auto it = reference.find(k);
      ASSERT_EQ(table.Find(make_key(k)), it == reference.end() ? Table::kNotFound : it->second)
          << "key " << k << " after op " << op;
    }
  }
}

TEST(DemuxTableTest, CollidingRunsAgreeWithReference) {
  // Up to 8 keys in a 16-entry table, all homed on its last five entries: runs wrap to the front.
  CheckAgainstReference<DemuxTable<CollidingKey, CollidingHash>>(
      [](std::uint32_t n) { return CollidingKey{.a = n, .b = n * 3, .c = 1}; }, 8, 20'000);
}

TEST(DemuxTableTest, RandomOperationsAgreeWithReference) {
  CheckAgainstReference<DemuxTable<FourTuple>>(Tuple, 300, 5'000);
}

}  // namespace
}  // namespace tapstack::tcp
