#include "broker/protocol/compression.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include "broker/protocol/reader.hpp"
#include "broker/protocol/writer.hpp"
#include "sim/assert.hpp"

namespace seedlog::protocol {
namespace {

constexpr std::array<uint8_t, 8> kXerialMagic = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t kXerialHeaderBytes = 16;  // magic + int32 version + int32 compatible version
constexpr size_t kXerialBlockBytes = 32 * 1024;

DecodeError codec_error(Compression codec, size_t offset, std::string what) {
  return DecodeError{DecodeErrc::compression, offset,
                     fmt::format("{}: {}", to_string(codec), what)};
}

DecodeError bomb_error(Compression codec, size_t max_output_bytes) {
  return DecodeError{DecodeErrc::too_large, 0,
                     fmt::format("{}: decompressed size exceeds the limit of {} bytes",
                                 to_string(codec), max_output_bytes)};
}

// Output buffer growth for streaming decoders: start near the likely size, double up to the cap
// plus one byte (so that exceeding the cap is observable).
size_t next_capacity(size_t current, size_t input_size, size_t max_output_bytes) {
  size_t cap = max_output_bytes + 1;
  if (current == 0) return std::min(cap, std::max<size_t>(input_size * 4, 64 * 1024));
  return std::min(cap, current * 2);
}

// ---- gzip ---------------------------------------------------------------------------------

Bytes gzip_compress(ByteView input) {
  z_stream zs{};
  int rc = deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  SL_ASSERT(rc == Z_OK);
  Bytes out(deflateBound(&zs, static_cast<uLong>(input.size())));
  zs.next_in = const_cast<Bytef*>(input.data());  // zlib's API is not const-correct
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  rc = deflate(&zs, Z_FINISH);
  SL_ASSERT_MSG(rc == Z_STREAM_END, "deflateBound was too small");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct InflateGuard {
  z_stream* zs;
  ~InflateGuard() { inflateEnd(zs); }
};

Result<Bytes> gzip_decompress(ByteView input, size_t max_output_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return codec_error(Compression::gzip, 0, "inflateInit2");
  InflateGuard guard{&zs};
  zs.next_in = const_cast<Bytef*>(input.data());
  zs.avail_in = static_cast<uInt>(input.size());
  Bytes out;
  size_t produced = 0;
  for (;;) {
    if (produced == out.size()) {
      if (out.size() > max_output_bytes) return bomb_error(Compression::gzip, max_output_bytes);
      out.resize(next_capacity(out.size(), input.size(), max_output_bytes));
    }
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    int rc = inflate(&zs, Z_NO_FLUSH);
    produced = out.size() - zs.avail_out;
    if (produced > max_output_bytes) return bomb_error(Compression::gzip, max_output_bytes);
    size_t consumed = input.size() - zs.avail_in;
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (Java's GZIPInputStream reads them all).
      if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      if (zs.avail_in != 0) {
        return codec_error(Compression::gzip, consumed, "trailing bytes after the gzip stream");
      }
      out.resize(produced);
      return out;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && zs.avail_out != 0) {
      return codec_error(Compression::gzip, consumed, "truncated gzip stream");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return codec_error(Compression::gzip, consumed,
                         fmt::format("corrupt data ({})", zs.msg ? zs.msg : "inflate failed"));
    }
  }
}

// ---- snappy --------------------------------------------------------------------------------

Bytes snappy_compress_xerial(ByteView input) {
  Writer w(input.size() / 2 + kXerialHeaderBytes + 64);
  w.raw(kXerialMagic);
  w.i32(1);  // version
  w.i32(1);  // minimum compatible version
  std::string block;
  for (size_t at = 0; at < input.size(); at += kXerialBlockBytes) {
    size_t n = std::min(kXerialBlockBytes, input.size() - at);
    snappy::Compress(reinterpret_cast<const char*>(input.data() + at), n, &block);
    w.i32(static_cast<int32_t>(block.size()));
    w.raw({reinterpret_cast<const uint8_t*>(block.data()), block.size()});
  }
  return w.take();
}

// Appends one raw snappy block to out, checking its declared length against the cap first.
std::optional<DecodeError> snappy_raw_append(ByteView block, size_t offset, Bytes& out,
                                             size_t max_output_bytes) {
  const char* data = reinterpret_cast<const char*>(block.data());
  size_t length = 0;
  if (!snappy::GetUncompressedLength(data, block.size(), &length)) {
    return codec_error(Compression::snappy, offset, "corrupt block header");
  }
  if (length > max_output_bytes - out.size()) return bomb_error(Compression::snappy, max_output_bytes);
  size_t start = out.size();
  out.resize(start + length);
  if (!snappy::RawUncompress(data, block.size(), reinterpret_cast<char*>(out.data() + start))) {
    return codec_error(Compression::snappy, offset, "corrupt block");
  }
  return std::nullopt;
}

Result<Bytes> snappy_decompress(ByteView input, size_t max_output_bytes) {
  Bytes out;
  bool xerial = input.size() >= kXerialMagic.size() &&
                std::equal(kXerialMagic.begin(), kXerialMagic.end(), input.begin());
  if (!xerial) {
    if (auto err = snappy_raw_append(input, 0, out, max_output_bytes)) return *err;
    return out;
  }
  Reader r(input);
  r.skip(kXerialHeaderBytes);
  while (r.ok() && !r.at_end()) {
    int32_t length = r.i32();
    if (r.ok() && (length < 0 || static_cast<size_t>(length) > r.remaining())) {
      return codec_error(Compression::snappy, r.offset() - 4,
                         fmt::format("xerial block length {} is invalid", length));
    }
    size_t at = r.offset();
    ByteView block = r.take(static_cast<size_t>(std::max(length, 0)));
    if (!r.ok()) break;
    if (auto err = snappy_raw_append(block, at, out, max_output_bytes)) return *err;
  }
  if (!r.ok()) return codec_error(Compression::snappy, r.error().offset, "truncated xerial frame");
  return out;
}

// ---- lz4 -----------------------------------------------------------------------------------

Bytes lz4_compress(ByteView input) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  Bytes out(LZ4F_compressFrameBound(input.size(), &prefs));
  size_t n = LZ4F_compressFrame(out.data(), out.size(), input.data(), input.size(), &prefs);
  SL_ASSERT_MSG(!LZ4F_isError(n), LZ4F_getErrorName(n));
  out.resize(n);
  return out;
}

struct Lz4Context {
  LZ4F_dctx* ctx = nullptr;
  ~Lz4Context() { LZ4F_freeDecompressionContext(ctx); }
};

Result<Bytes> lz4_decompress(ByteView input, size_t max_output_bytes) {
  Lz4Context dctx;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx.ctx, LZ4F_VERSION))) {
    return codec_error(Compression::lz4, 0, "cannot create a context");
  }
  Bytes out;
  size_t produced = 0;
  size_t consumed = 0;
  size_t hint = 1;  // LZ4F_decompress returns 0 once the frame is complete
  for (;;) {
    if (produced == out.size()) {
      if (out.size() > max_output_bytes) return bomb_error(Compression::lz4, max_output_bytes);
      out.resize(next_capacity(out.size(), input.size(), max_output_bytes));
    }
    size_t dst_size = out.size() - produced;
    size_t src_size = input.size() - consumed;
    hint = LZ4F_decompress(dctx.ctx, out.data() + produced, &dst_size, input.data() + consumed,
                           &src_size, nullptr);
    if (LZ4F_isError(hint)) {
      return codec_error(Compression::lz4, consumed, LZ4F_getErrorName(hint));
    }
    produced += dst_size;
    consumed += src_size;
    if (produced > max_output_bytes) return bomb_error(Compression::lz4, max_output_bytes);
    if (hint == 0) break;
    // Out of input, and the decoder did not fill the room it had: nothing more will come.
    if (consumed == input.size() && produced < out.size()) break;
  }
  if (hint != 0) return codec_error(Compression::lz4, consumed, "truncated lz4 frame");
  if (consumed != input.size()) {
    return codec_error(Compression::lz4, consumed, "trailing bytes after the lz4 frame");
  }
  out.resize(produced);
  return out;
}

// ---- zstd ----------------------------------------------------------------------------------

Bytes zstd_compress(ByteView input) {
  Bytes out(ZSTD_compressBound(input.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), 3);
  SL_ASSERT_MSG(!ZSTD_isError(n), ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

struct ZstdContext {
  ZSTD_DStream* ctx = ZSTD_createDStream();
  ~ZstdContext() { ZSTD_freeDStream(ctx); }
};

Result<Bytes> zstd_decompress(ByteView input, size_t max_output_bytes) {
  unsigned long long declared = ZSTD_getFrameContentSize(input.data(), input.size());
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR &&
      declared > max_output_bytes) {
    return bomb_error(Compression::zstd, max_output_bytes);
  }
  ZstdContext dctx;
  SL_ASSERT(dctx.ctx != nullptr);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  Bytes out;
  size_t produced = 0;
  size_t hint = 1;  // ZSTD_decompressStream returns 0 at the end of a frame
  for (;;) {
    if (produced == out.size()) {
      if (out.size() > max_output_bytes) return bomb_error(Compression::zstd, max_output_bytes);
      out.resize(next_capacity(out.size(), input.size(), max_output_bytes));
    }
    ZSTD_outBuffer ob{out.data(), out.size(), produced};
    hint = ZSTD_decompressStream(dctx.ctx, &ob, &in);
    if (ZSTD_isError(hint)) return codec_error(Compression::zstd, in.pos, ZSTD_getErrorName(hint));
    produced = ob.pos;
    if (produced > max_output_bytes) return bomb_error(Compression::zstd, max_output_bytes);
    if (in.pos == in.size && hint == 0) break;  // the last frame is complete
    // Out of input, and the decoder did not fill the room it had: nothing more will come.
    if (in.pos == in.size && produced < out.size()) break;
  }
  if (hint != 0) return codec_error(Compression::zstd, in.pos, "truncated zstd frame");
  out.resize(produced);
  return out;
}

}  // namespace

std::string_view to_string(Compression codec) {
  switch (codec) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::snappy: return "snappy";
    case Compression::lz4: return "lz4";
    case Compression::zstd: return "zstd";
  }
  return "unknown";
}

Bytes compress(Compression codec, ByteView input) {
  switch (codec) {
    case Compression::none: return Bytes(input.begin(), input.end());
    case Compression::gzip: return gzip_compress(input);
    case Compression::snappy: return snappy_compress_xerial(input);
    case Compression::lz4: return lz4_compress(input);
    case Compression::zstd: return zstd_compress(input);
  }
  SL_UNREACHABLE(fmt::format("compression codec {}", static_cast<int>(codec)));
}

Result<Bytes> decompress(Compression codec, ByteView input, size_t max_output_bytes) {
  switch (codec) {
    case Compression::none:
      if (input.size() > max_output_bytes) return bomb_error(codec, max_output_bytes);
      return Bytes(input.begin(), input.end());
    case Compression::gzip: return gzip_decompress(input, max_output_bytes);
    case Compression::snappy: return snappy_decompress(input, max_output_bytes);
    case Compression::lz4: return lz4_decompress(input, max_output_bytes);
    case Compression::zstd: return zstd_decompress(input, max_output_bytes);
  }
  return DecodeError{DecodeErrc::compression, 0,
                     fmt::format("unknown compression codec {}", static_cast<int>(codec))};
}

}  // namespace seedlog::protocol
