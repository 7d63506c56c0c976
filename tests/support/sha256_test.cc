// The SHA-256 used to check interop transfers, against the standard's test vectors (FIPS 180-4
// examples as published by NIST) and against itself when the message arrives in pieces.
#include "tests/support/sha256.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace tapstack::testing {
namespace {

std::span<const std::uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(Sha256, StandardVectors) {
  EXPECT_EQ(Sha256::Hex(Bytes("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256::Hex(Bytes("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 448 bits: the padding's length field no longer fits the first block.
  EXPECT_EQ(Sha256::Hex(Bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256::Hex(Bytes("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                              "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, OneMillionAs) {
  const std::vector<std::uint8_t> million(1'000'000, 'a');
  EXPECT_EQ(Sha256::Hex(million),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PiecesGiveTheSameDigestAsTheWhole) {
  std::vector<std::uint8_t> message(1000);
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<std::uint8_t>(i * 31);
  const std::string whole = Sha256::Hex(message);
  // Piece sizes that straddle the 64-byte block and the 56-byte padding boundary.
  for (std::size_t piece : {1u, 7u, 55u, 56u, 63u, 64u, 65u, 129u}) {
    Sha256 sha;
    for (std::size_t offset = 0; offset < message.size(); offset += piece) {
      sha.Update(std::span(message).subspan(offset, std::min(piece, message.size() - offset)));
    }
    EXPECT_EQ(sha.FinishHex(), whole) << "pieces of " << piece;
  }
  // Finish() resets: the object hashes a second message from scratch.
  Sha256 reused;
  reused.Update(Bytes("garbage"));
  (void)reused.Finish();
  reused.Update(Bytes("abc"));
  EXPECT_EQ(reused.FinishHex(), Sha256::Hex(Bytes("abc")));
}

}  // namespace
}  // namespace tapstack::testing
