#include "broker/protocol/writer.hpp"

#include <limits>

#include "sim/assert.hpp"

namespace seedlog::protocol {

void Writer::uvarlong(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<uint8_t>(v));
}

void Writer::varint(int32_t v) { uvarlong(zigzag32(v)); }
void Writer::varlong(int64_t v) { uvarlong(zigzag64(v)); }

void Writer::string(std::string_view v) {
  SL_ASSERT_MSG(v.size() <= static_cast<size_t>(std::numeric_limits<int16_t>::max()),
                "string too long for an int16 length");
  i16(static_cast<int16_t>(v.size()));
  raw({reinterpret_cast<const uint8_t*>(v.data()), v.size()});
}

void Writer::nullable_string(const std::optional<std::string>& v) {
  if (!v) {
    i16(-1);
    return;
  }
  string(*v);
}

void Writer::compact_string(std::string_view v) {
  SL_ASSERT(v.size() < std::numeric_limits<uint32_t>::max());
  uvarint(static_cast<uint32_t>(v.size() + 1));
  raw({reinterpret_cast<const uint8_t*>(v.data()), v.size()});
}

void Writer::compact_nullable_string(const std::optional<std::string>& v) {
  if (!v) {
    uvarint(0);
    return;
  }
  compact_string(*v);
}

void Writer::bytes(ByteView v) {
  SL_ASSERT(v.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  i32(static_cast<int32_t>(v.size()));
  raw(v);
}

void Writer::nullable_bytes(const std::optional<Bytes>& v) {
  if (!v) {
    i32(-1);
    return;
  }
  bytes(*v);
}

void Writer::compact_bytes(ByteView v) {
  SL_ASSERT(v.size() < std::numeric_limits<uint32_t>::max());
  uvarint(static_cast<uint32_t>(v.size() + 1));
  raw(v);
}

void Writer::compact_nullable_bytes(const std::optional<Bytes>& v) {
  if (!v) {
    uvarint(0);
    return;
  }
  compact_bytes(*v);
}

void Writer::array_count(size_t n) {
  SL_ASSERT(n <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  i32(static_cast<int32_t>(n));
}

void Writer::compact_array_count(size_t n) {
  SL_ASSERT(n < std::numeric_limits<uint32_t>::max());
  uvarint(static_cast<uint32_t>(n + 1));
}

size_t Writer::reserve_i32() {
  size_t at = out_.size();
  out_.insert(out_.end(), 4, 0);
  return at;
}

void Writer::patch_u32(size_t at, uint32_t v) {
  SL_ASSERT(at + 4 <= out_.size());
  for (int i = 0; i < 4; ++i) out_[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

size_t Writer::uvarlong_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

size_t Writer::varint_size(int32_t v) { return uvarlong_size(zigzag32(v)); }
size_t Writer::varlong_size(int64_t v) { return uvarlong_size(zigzag64(v)); }

}  // namespace seedlog::protocol
