// Compression codecs of Kafka's RecordBatch (attributes bits 0-2), on Debian's libraries.
//
//   gzip    zlib, gzip wrapper (RFC 1952); decoding accepts concatenated members.
//   snappy  decoding accepts raw snappy (what librdkafka writes) and the xerial framing that
//           Kafka's Java client writes (magic "\x82SNAPPY\0", two int32 versions, then blocks of
//           int32 length + raw snappy). We ENCODE the xerial framing with 32 KiB blocks, as the
//           Java client does, so every Kafka client can read our batches.
//   lz4     the LZ4 frame format (not raw blocks), 64 KiB independent blocks, as Kafka uses.
//   zstd    a standard zstd frame, level 3.
//
// Decompression is bounded: output beyond max_output_bytes is refused with DecodeErrc::too_large
// (a decompression bomb), and sizes declared in headers are checked before allocating.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "broker/protocol/result.hpp"
#include "broker/protocol/types.hpp"

namespace seedlog::protocol {

enum class Compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

std::string_view to_string(Compression codec);

// Default cap on one batch's decompressed records: Kafka's own message.max.bytes defaults to
// ~1 MiB and fetches to 50 MiB, so 64 MiB leaves room while stopping bombs early.
inline constexpr size_t kDefaultMaxDecompressedBytes = size_t{64} << 20;

Bytes compress(Compression codec, ByteView input);

// Errors carry offsets relative to `input`.
Result<Bytes> decompress(Compression codec, ByteView input,
                         size_t max_output_bytes = kDefaultMaxDecompressedBytes);

}  // namespace seedlog::protocol
