// Writer: appends Kafka encodings to a growing byte buffer (the mirror of Reader).
//
// Writing a value that Kafka cannot represent (a string longer than 32767 bytes in an int16
// length, more than 2^31-1 array elements) is a programmer error and asserts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "broker/protocol/types.hpp"

namespace seedlog::protocol {

class Writer {
 public:
  Writer() = default;
  explicit Writer(size_t reserve_bytes) { out_.reserve(reserve_bytes); }

  size_t size() const { return out_.size(); }
  const Bytes& data() const { return out_; }
  Bytes take() { return std::move(out_); }
  void clear() { out_.clear(); }

  void i8(int8_t v) { out_.push_back(static_cast<uint8_t>(v)); }
  void u8(uint8_t v) { out_.push_back(v); }
  // Fixed-width values go in byte by byte, big-endian as Kafka writes them: push_back's inline
  // capacity check is cheaper than a ranged insert (out of line, and it re-checks overlap), and
  // inline here, where an encoder calls them for every field.
  void i16(int16_t v) { u16(static_cast<uint16_t>(v)); }
  void u16(uint16_t v) {
    out_.push_back(static_cast<uint8_t>(v >> 8));
    out_.push_back(static_cast<uint8_t>(v));
  }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<uint8_t>(v >> (24 - 8 * i)));
  }
  void i64(int64_t v) {
    const auto u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<uint8_t>(u >> (56 - 8 * i)));
  }
  void boolean(bool v) { out_.push_back(v ? 1 : 0); }

  void uvarint(uint32_t v) { uvarlong(v); }
  void uvarlong(uint64_t v);
  void varint(int32_t v);
  void varlong(int64_t v);

  void uuid(const Uuid& v) { raw(v.bytes); }
  void raw(ByteView bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }

  void string(std::string_view v);
  void nullable_string(const std::optional<std::string>& v);
  void compact_string(std::string_view v);
  void compact_nullable_string(const std::optional<std::string>& v);
  void bytes(ByteView v);
  void nullable_bytes(const std::optional<Bytes>& v);
  void compact_bytes(ByteView v);
  void compact_nullable_bytes(const std::optional<Bytes>& v);

  void array_count(size_t n);
  void null_array() { i32(-1); }
  void compact_array_count(size_t n);
  void compact_null_array() { uvarint(0); }

  // Reserves 4 bytes for an int32 that is known only later (a length, a CRC); returns its offset.
  size_t reserve_i32();
  void patch_i32(size_t at, int32_t v) { patch_u32(at, static_cast<uint32_t>(v)); }
  void patch_u32(size_t at, uint32_t v);

  static size_t uvarlong_size(uint64_t v);
  static size_t varint_size(int32_t v);
  static size_t varlong_size(int64_t v);

 private:
  Bytes out_;
};

// Zigzag maps signed to unsigned so that small magnitudes encode short (Kafka's varint/varlong).
constexpr uint32_t zigzag32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
constexpr uint64_t zigzag64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
constexpr int32_t unzigzag32(uint32_t v) {
  return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1));
}
constexpr int64_t unzigzag64(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

}  // namespace seedlog::protocol
