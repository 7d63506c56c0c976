#include "tests/support/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tapstack::testing {
namespace {

std::string Hash(const std::string& text) {
  Sha256 sha;
  sha.Update(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  return sha.HexDigest();
}

TEST(Sha256Test, FipsExamples) {
  EXPECT_EQ(Hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Hash(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, ChunkingDoesNotMatter) {
  std::string text(1000, 'x');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i * 31);
  Sha256 pieces;
  for (std::size_t i = 0; i < text.size(); i += 7) {
    const std::size_t n = std::min<std::size_t>(7, text.size() - i);
    pieces.Update(std::span(reinterpret_cast<const std::uint8_t*>(text.data() + i), n));
  }
  EXPECT_EQ(pieces.HexDigest(), Hash(text));
}

}  // namespace
}  // namespace tapstack::testing
