// Compression codecs: round trips, data written by other implementations, hostile input and
// decompression bombs.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <snappy.h>

#include "broker/protocol/compression.hpp"
#include "broker/protocol/writer.hpp"

namespace seedlog::protocol {
namespace {

constexpr Compression kCodecs[] = {Compression::none, Compression::gzip, Compression::snappy,
                                   Compression::lz4, Compression::zstd};

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(Compression, RoundTripsEveryCodec) {
  Bytes input;
  for (int i = 0; i < 100000; ++i) input.push_back(static_cast<uint8_t>("kafka-log"[i % 9]));
  for (Compression codec : kCodecs) {
    Bytes packed = compress(codec, input);
    if (codec != Compression::none) {
      EXPECT_LT(packed.size(), input.size() / 4) << to_string(codec);
    }
    Result<Bytes> back = decompress(codec, packed);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, input) << to_string(codec);
  }
}

TEST(Compression, EmptyInput) {
  for (Compression codec : kCodecs) {
    Result<Bytes> back = decompress(codec, compress(codec, Bytes{}));
    ASSERT_TRUE(back.ok()) << to_string(codec) << ": " << back.error().to_string();
    EXPECT_TRUE(back->empty());
  }
}

TEST(Compression, GzipFromPython) {
  // gzip.compress(b"hello kafka", mtime=0)
  Bytes blob = from_hex("1f8b0800000000000203cb48cdc9c957c84e4ccb4e0400d175816c0b000000").value();
  Result<Bytes> out = decompress(Compression::gzip, blob);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(*out, text("hello kafka"));
  // Two members back to back read as one stream, as Java's GZIPInputStream does.
  Bytes twice = blob;
  twice.insert(twice.end(), blob.begin(), blob.end());
  Result<Bytes> both = decompress(Compression::gzip, twice);
  ASSERT_TRUE(both.ok()) << both.error().to_string();
  EXPECT_EQ(*both, text("hello kafkahello kafka"));
}

TEST(Compression, SnappyRawAndXerialFraming) {
  Bytes input = text("snappy data snappy data snappy data");
  std::string raw;
  snappy::Compress(reinterpret_cast<const char*>(input.data()), input.size(), &raw);
  Result<Bytes> from_raw = decompress(Compression::snappy, Bytes(raw.begin(), raw.end()));
  ASSERT_TRUE(from_raw.ok());
  EXPECT_EQ(*from_raw, input);

  // xerial: magic, version 1, compatible 1, then two blocks.
  Writer w;
  for (int b : {0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00}) w.u8(static_cast<uint8_t>(b));
  w.i32(1);
  w.i32(1);
  for (int block = 0; block < 2; ++block) {
    w.i32(static_cast<int32_t>(raw.size()));
    w.raw({reinterpret_cast<const uint8_t*>(raw.data()), raw.size()});
  }
  Result<Bytes> framed = decompress(Compression::snappy, w.data());
  ASSERT_TRUE(framed.ok()) << framed.error().to_string();
  Bytes expected = input;
  expected.insert(expected.end(), input.begin(), input.end());
  EXPECT_EQ(*framed, expected);

  // What we write is the xerial framing.
  Bytes ours = compress(Compression::snappy, input);
  ASSERT_GE(ours.size(), 16u);
  EXPECT_EQ(ours[0], 0x82);
  EXPECT_EQ(ours[1], 'S');
}

TEST(Compression, BombsAreRefused) {
  Bytes zeros(1 << 20, 0);
  for (Compression codec : kCodecs) {
    Bytes packed = compress(codec, zeros);
    Result<Bytes> out = decompress(codec, packed, 64 * 1024);
    ASSERT_FALSE(out.ok()) << to_string(codec);
    EXPECT_EQ(out.error().code, DecodeErrc::too_large) << to_string(codec);
    EXPECT_NE(out.error().message.find("65536"), std::string::npos) << out.error().to_string();
    // The same data within the limit decodes.
    EXPECT_TRUE(decompress(codec, packed, zeros.size()).ok()) << to_string(codec);
  }
}

TEST(Compression, SnappyDeclaredLengthIsCheckedBeforeAllocating) {
  // A raw snappy header promising ~4 GiB, with no data behind it.
  Bytes lie = from_hex("ffffffff0f00").value();
  Result<Bytes> out = decompress(Compression::snappy, lie);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, DecodeErrc::too_large);
}

TEST(Compression, TruncatedAndCorruptInputFails) {
  Bytes input = text("a record value that compresses, a record value that compresses");
  for (Compression codec : kCodecs) {
    if (codec == Compression::none) continue;
    Bytes packed = compress(codec, input);
    for (size_t cut = 0; cut < packed.size(); ++cut) {
      Result<Bytes> out = decompress(codec, ByteView(packed).first(cut));
      // Some prefixes of a snappy stream are valid streams of their own; none may equal input.
      if (out.ok()) {
        EXPECT_NE(*out, input) << to_string(codec) << " cut at " << cut;
      } else {
        EXPECT_TRUE(out.error().code == DecodeErrc::compression ||
                    out.error().code == DecodeErrc::too_large)
            << out.error().to_string();
      }
    }
    Bytes trailing = packed;
    trailing.push_back(0x42);
    if (codec != Compression::snappy) {  // raw snappy has no end marker to check against
      EXPECT_FALSE(decompress(codec, trailing).ok()) << to_string(codec);
    }
  }
}

RC_GTEST_PROP(Compression, RoundTripProperty, (const Bytes& input, uint8_t pick)) {
  Compression codec = kCodecs[pick % 5];
  Result<Bytes> back = decompress(codec, compress(codec, input));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == input);
}

RC_GTEST_PROP(Compression, GarbageNeverCrashes, (const Bytes& garbage, uint8_t pick)) {
  Compression codec = kCodecs[pick % 5];
  Result<Bytes> out = decompress(codec, garbage, 4096);
  if (out.ok()) RC_ASSERT(out->size() <= 4096u);
}

TEST(Compression, UnknownCodecIsAnError) {
  Result<Bytes> out = decompress(static_cast<Compression>(6), Bytes{1, 2, 3});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, DecodeErrc::compression);
}

}  // namespace
}  // namespace seedlog::protocol
