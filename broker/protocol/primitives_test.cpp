// Reader and Writer: Kafka's primitive encodings, known vectors, hostile input, round trips.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "broker/protocol/testing/rc_optional.hpp"

#include <limits>

#include "broker/protocol/reader.hpp"
#include "broker/protocol/writer.hpp"

namespace seedlog::protocol {
namespace {

Bytes hex(std::string_view s) { return from_hex(s).value(); }

TEST(Primitives, BigEndianIntegers) {
  Writer w;
  w.i8(-2);
  w.i16(0x0102);
  w.i32(-1);
  w.i64(0x0102030405060708);
  w.u16(0xfffe);
  w.u32(0x80000000u);
  EXPECT_EQ(to_hex(w.data()), "fe0102ffffffff0102030405060708fffe80000000");
  Reader r(w.data());
  EXPECT_EQ(r.i8(), -2);
  EXPECT_EQ(r.i16(), 0x0102);
  EXPECT_EQ(r.i32(), -1);
  EXPECT_EQ(r.i64(), 0x0102030405060708);
  EXPECT_EQ(r.u16(), 0xfffe);
  EXPECT_EQ(r.u32(), 0x80000000u);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());
}

// Vectors from the protocol guide's description of zigzag varints (as protobuf's).
TEST(Primitives, ZigzagVarintKnownVectors) {
  struct Case {
    int32_t value;
    const char* hex;
  };
  for (const Case& c : {Case{0, "00"}, Case{-1, "01"}, Case{1, "02"}, Case{-2, "03"},
                        Case{63, "7e"}, Case{-64, "7f"}, Case{64, "8001"}, Case{300, "d804"},
                        Case{std::numeric_limits<int32_t>::max(), "feffffff0f"},
                        Case{std::numeric_limits<int32_t>::min(), "ffffffff0f"}}) {
    Writer w;
    w.varint(c.value);
    EXPECT_EQ(to_hex(w.data()), c.hex) << c.value;
    EXPECT_EQ(Writer::varint_size(c.value), w.size());
    Reader r(w.data());
    EXPECT_EQ(r.varint(), c.value);
    EXPECT_TRUE(r.ok() && r.at_end());
  }
}

TEST(Primitives, UnsignedVarintAndVarlong) {
  Writer w;
  w.uvarint(300);
  w.varlong(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(to_hex(w.data()), "ac02ffffffffffffffffff01");
  Reader r(w.data());
  EXPECT_EQ(r.uvarint(), 300u);
  EXPECT_EQ(r.varlong(), std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(r.ok() && r.at_end());
}

TEST(Primitives, OverlongVarintsAreRefused) {
  Bytes six = hex("ffffffffff01");  // a 6th group
  Reader r1(six);
  r1.uvarint();
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, DecodeErrc::invalid_value);
  Bytes big5 = hex("ffffffff1f");  // the 5th group carries a 33rd bit
  Reader r2(big5);
  r2.varint();
  EXPECT_FALSE(r2.ok());
  Bytes eleven = hex("ffffffffffffffffff02");
  Reader r3(eleven);
  r3.varlong();
  EXPECT_FALSE(r3.ok());
  Bytes open = hex("8080");  // continuation bit with nothing after
  Reader r4(open);
  r4.uvarint();
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().code, DecodeErrc::truncated);
}

TEST(Primitives, StringsAndBytes) {
  Writer w;
  w.string("ab");
  w.nullable_string(std::nullopt);
  w.compact_string("xyz");
  w.compact_nullable_string(std::nullopt);
  w.bytes(Bytes{1, 2});
  w.nullable_bytes(std::nullopt);
  w.compact_bytes(Bytes{});
  w.compact_nullable_bytes(std::nullopt);
  EXPECT_EQ(to_hex(w.data()), "00026162ffff0478797a00000000020102ffffffff0100");
  Reader r(w.data());
  EXPECT_EQ(r.string(), "ab");
  EXPECT_EQ(r.nullable_string(), std::nullopt);
  EXPECT_EQ(r.compact_string(), "xyz");
  EXPECT_EQ(r.compact_nullable_string(), std::nullopt);
  EXPECT_EQ(r.bytes(), (Bytes{1, 2}));
  EXPECT_EQ(r.nullable_bytes(), std::nullopt);
  EXPECT_EQ(r.compact_bytes(), Bytes{});
  EXPECT_EQ(r.compact_nullable_bytes(), std::nullopt);
  EXPECT_TRUE(r.ok() && r.at_end());
}

TEST(Primitives, HostileLengthsAreErrorsWithOffsets) {
  Bytes negative = hex("0000fffe");  // padding, then string length -2
  Reader r1(negative);
  r1.i16();
  r1.nullable_string();
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, DecodeErrc::invalid_length);
  EXPECT_EQ(r1.error().offset, 4u);

  Bytes null_required = hex("ffff");
  Reader r2(null_required);
  r2.string();
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, DecodeErrc::invalid_length);

  Bytes too_long = hex("7fffffff00");  // 2 GiB of bytes promised, one present
  Reader r3(too_long);
  r3.bytes();
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().code, DecodeErrc::truncated);

  Bytes huge_count = hex("7fffffff01");
  Reader r4(huge_count);
  EXPECT_EQ(r4.array_count(1), std::nullopt);
  EXPECT_EQ(r4.error().code, DecodeErrc::invalid_length);

  Bytes compact_huge = hex("ffffffff0f");
  Reader r5(compact_huge);
  EXPECT_EQ(r5.compact_array_count(1), std::nullopt);
  EXPECT_FALSE(r5.ok());
}

TEST(Primitives, FirstErrorSticksAndReadsStop) {
  Bytes b = hex("0001");
  Reader r(b, 100);
  r.i32();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, 100u);  // the base offset is added
  EXPECT_EQ(r.i8(), 0);
  EXPECT_EQ(r.error().code, DecodeErrc::truncated);
  EXPECT_NE(r.error().to_string().find("need 4 bytes, 2 remain"), std::string::npos);
}

TEST(Primitives, NullArrays) {
  Bytes b = hex("ffffffff00");
  Reader r(b);
  EXPECT_EQ(r.array_count(1), std::nullopt);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.compact_array_count(1), std::nullopt);
  EXPECT_TRUE(r.ok());
}

TEST(Primitives, UuidPrintsLikeKafka) {
  Uuid id;
  EXPECT_EQ(id.to_string(), "AAAAAAAAAAAAAAAAAAAAAA");
  id.bytes[15] = 1;
  EXPECT_EQ(id.to_string(), "AAAAAAAAAAAAAAAAAAAAAQ");
  EXPECT_FALSE(id.is_zero());
}

TEST(Primitives, HexHelpers) {
  EXPECT_EQ(from_hex("0aFf"), (Bytes{0x0a, 0xff}));
  EXPECT_EQ(from_hex("abc"), std::nullopt);
  EXPECT_EQ(from_hex("zz"), std::nullopt);
}

RC_GTEST_PROP(Primitives, VarintsRoundTrip, (int32_t a, int64_t b, uint32_t c, uint64_t d)) {
  Writer w;
  w.varint(a);
  w.varlong(b);
  w.uvarint(c);
  w.uvarlong(d);
  Reader r(w.data());
  RC_ASSERT(r.varint() == a);
  RC_ASSERT(r.varlong() == b);
  RC_ASSERT(r.uvarint() == c);
  RC_ASSERT(r.uvarlong() == d);
  RC_ASSERT(r.ok());
  RC_ASSERT(r.at_end());
}

RC_GTEST_PROP(Primitives, StringsRoundTrip,
              (const std::string& s, const std::optional<std::string>& n, const Bytes& b)) {
  RC_PRE(s.size() < 32768);
  RC_PRE(!n || n->size() < 32768);
  Writer w;
  w.string(s);
  w.nullable_string(n);
  w.compact_string(s);
  w.compact_nullable_string(n);
  w.bytes(b);
  w.compact_bytes(b);
  Reader r(w.data());
  RC_ASSERT(r.string() == s);
  RC_ASSERT(r.nullable_string() == n);
  RC_ASSERT(r.compact_string() == s);
  RC_ASSERT(r.compact_nullable_string() == n);
  RC_ASSERT(r.bytes() == b);
  RC_ASSERT(r.compact_bytes() == b);
  RC_ASSERT(r.ok() && r.at_end());
}

// Reading garbage never crashes, never reads past the end, and reports a position inside it.
RC_GTEST_PROP(Primitives, ArbitraryBytesNeverOverRead, (const Bytes& garbage)) {
  Reader r(garbage);
  for (int i = 0; i < 8 && r.ok(); ++i) {
    (void)r.compact_nullable_string();
    (void)r.nullable_bytes();
    (void)r.varlong();
    (void)r.array_count(4);
  }
  RC_ASSERT(r.offset() <= garbage.size());
  if (!r.ok()) RC_ASSERT(r.error().offset <= garbage.size());
}

}  // namespace
}  // namespace seedlog::protocol
