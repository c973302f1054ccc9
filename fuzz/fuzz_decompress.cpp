// Fuzz target: the decompressors on their own. Input: one byte choosing the codec (mod 5), then
// the compressed bytes. Output must stay within the limit; valid data must round-trip.
#include <cstddef>
#include <cstdint>

#include "broker/protocol/compression.hpp"

using namespace seedlog::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  auto codec = static_cast<Compression>(data[0] % 5);
  constexpr size_t kLimit = 1 << 20;
  Result<Bytes> out = decompress(codec, ByteView(data + 1, size - 1), kLimit);
  if (!out.ok()) return 0;
  if (out->size() > kLimit) __builtin_trap();
  Result<Bytes> again = decompress(codec, compress(codec, *out), kLimit);
  if (!again.ok() || *again != *out) __builtin_trap();
  return 0;
}
