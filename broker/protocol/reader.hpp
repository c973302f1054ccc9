// Reader: a bounds-checked cursor over bytes in Kafka's encodings (big-endian integers, zigzag
// varints, unsigned varints, int16/compact strings, int32/compact bytes, array counts, UUIDs).
//
// Error model: the first failure is recorded (with the absolute byte offset at which it happened)
// and sticks; every later read returns a zero value and does not move. Callers can therefore read
// a whole structure and check ok() once. A Reader never reads outside its span and never
// allocates more than the bytes it actually has: every length and count is checked against the
// bytes remaining before anything is allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "broker/protocol/result.hpp"
#include "broker/protocol/types.hpp"

namespace seedlog::protocol {

class Reader {
 public:
  // base_offset: the absolute offset of bytes[0] in the enclosing input, so that errors found
  // by a reader over a slice still name their position in the whole frame.
  explicit Reader(ByteView bytes, size_t base_offset = 0) : bytes_(bytes), base_(base_offset) {}

  size_t offset() const { return base_ + pos_; }  // absolute offset of the next byte
  size_t remaining() const { return bytes_.size() - pos_; }
  bool at_end() const { return pos_ == bytes_.size(); }
  bool ok() const { return !error_.has_value(); }
  const DecodeError& error() const;
  DecodeError* mutable_error() { return error_ ? &*error_ : nullptr; }

  // Records a failure at the current offset (first failure wins).
  void fail(DecodeErrc code, std::string message);
  // Adopts a sub-reader's failure, if it has one and this reader has none.
  void absorb(const Reader& child);
  // Fails with trailing_bytes unless every byte was consumed.
  void expect_end(std::string_view what);

  // Fixed-width reads are inline: a decoder calls one for every field, and out of line they were
  // 3% of a cluster run. Big-endian, as Kafka writes them; 0 after a failure.
  uint8_t u8() {
    if (!need(1)) return 0;
    return bytes_[pos_++];
  }
  int8_t i8() { return static_cast<int8_t>(u8()); }
  uint16_t u16() { return static_cast<uint16_t>(big_endian(2)); }
  int16_t i16() { return static_cast<int16_t>(u16()); }
  uint32_t u32() { return static_cast<uint32_t>(big_endian(4)); }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  int64_t i64() { return static_cast<int64_t>(big_endian(8)); }
  bool boolean() { return u8() != 0; }  // any non-zero byte is true, as in Kafka's readers

  uint32_t uvarint();  // unsigned LEB128, at most 5 bytes
  uint64_t uvarlong();  // unsigned LEB128, at most 10 bytes
  int32_t varint();     // zigzag
  int64_t varlong();    // zigzag

  Uuid uuid();

  // The next n bytes as a view into the input (no copy); an empty view on failure.
  ByteView take(size_t n);
  void skip(size_t n) { (void)take(n); }
  // A reader over the next n bytes that reports absolute offsets; this reader moves past them.
  Reader sub_reader(size_t n);

  std::string string();  // int16 length; -1 (null) is an error here
  std::optional<std::string> nullable_string();
  std::string compact_string();  // unsigned varint length + 1
  std::optional<std::string> compact_nullable_string();
  Bytes bytes();  // int32 length
  std::optional<Bytes> nullable_bytes();
  Bytes compact_bytes();
  std::optional<Bytes> compact_nullable_bytes();

  // Array element counts. nullopt means a null array (-1, or 0 in the compact form). The count
  // is refused when count * min_element_bytes exceeds the bytes left, which bounds every
  // allocation a caller makes from it.
  std::optional<size_t> array_count(size_t min_element_bytes);
  std::optional<size_t> compact_array_count(size_t min_element_bytes);

 private:
  bool need(size_t n) {
    if (ok() && remaining() >= n) [[likely]] return true;
    return need_slow(n);
  }
  bool need_slow(size_t n);  // fails with `truncated` (first failure wins)
  uint64_t big_endian(size_t n) {  // the next n (<= 8) bytes as an unsigned big-endian number
    if (!need(n)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | bytes_[pos_ + i];
    pos_ += n;
    return v;
  }
  std::optional<int64_t> length_prefixed_size(int64_t length, bool nullable, const char* what);

  ByteView bytes_;
  size_t base_ = 0;
  size_t pos_ = 0;
  std::optional<DecodeError> error_;
};

}  // namespace seedlog::protocol
