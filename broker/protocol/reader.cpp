#include "broker/protocol/reader.hpp"

#include <fmt/format.h>

#include "broker/protocol/writer.hpp"

namespace seedlog::protocol {

const DecodeError& Reader::error() const {
  SL_ASSERT(error_.has_value());
  return *error_;
}

void Reader::fail(DecodeErrc code, std::string message) {
  if (error_) return;
  error_ = DecodeError{code, offset(), std::move(message)};
  pos_ = bytes_.size();  // nothing more is read after a failure
}

void Reader::absorb(const Reader& child) {
  if (error_ || child.ok()) return;
  error_ = child.error();
  pos_ = bytes_.size();
}

void Reader::expect_end(std::string_view what) {
  if (!ok() || at_end()) return;
  fail(DecodeErrc::trailing_bytes, fmt::format("{}: {} unread bytes", what, remaining()));
}

bool Reader::need_slow(size_t n) {
  if (!ok()) return false;
  if (remaining() >= n) return true;
  fail(DecodeErrc::truncated, fmt::format("need {} bytes, {} remain", n, remaining()));
  return false;
}

uint64_t Reader::uvarlong() {
  uint64_t value = 0;
  // At most 10 groups of 7 bits; the 10th may only carry the top bit of a 64-bit value.
  for (int i = 0; i < 10; ++i) {
    if (!need(1)) return 0;
    uint8_t b = bytes_[pos_++];
    if (i == 9 && b > 0x01) {
      fail(DecodeErrc::invalid_value, "varlong overflows 64 bits");
      return 0;
    }
    value |= uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) return value;
  }
  return value;
}

uint32_t Reader::uvarint() {
  uint32_t value = 0;
  // At most 5 groups of 7 bits; the 5th may only carry the top 4 bits of a 32-bit value.
  for (int i = 0; i < 5; ++i) {
    if (!need(1)) return 0;
    uint8_t b = bytes_[pos_++];
    if (i == 4 && b > 0x0f) {
      fail(DecodeErrc::invalid_value, "varint overflows 32 bits");
      return 0;
    }
    value |= uint32_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) return value;
  }
  return value;
}

int32_t Reader::varint() { return unzigzag32(uvarint()); }
int64_t Reader::varlong() { return unzigzag64(uvarlong()); }

Uuid Reader::uuid() {
  Uuid id;
  ByteView raw = take(16);
  if (raw.size() == 16) std::copy(raw.begin(), raw.end(), id.bytes.begin());
  return id;
}

ByteView Reader::take(size_t n) {
  if (!need(n)) return {};
  ByteView view = bytes_.subspan(pos_, n);
  pos_ += n;
  return view;
}

Reader Reader::sub_reader(size_t n) {
  size_t start = offset();
  ByteView view = take(n);
  Reader child(view, start);
  if (!ok()) child.fail(error_->code, error_->message);
  return child;
}

// Validates a decoded length: returns the byte count to read, -1 for null, or nullopt on error.
std::optional<int64_t> Reader::length_prefixed_size(int64_t length, bool nullable,
                                                    const char* what) {
  if (!ok()) return std::nullopt;
  if (length == -1 && nullable) return -1;
  if (length < 0) {
    fail(DecodeErrc::invalid_length,
         fmt::format("{} length {} is negative{}", what, length, nullable ? "" : " (not nullable)"));
    return std::nullopt;
  }
  if (static_cast<uint64_t>(length) > remaining()) {
    fail(DecodeErrc::truncated,
         fmt::format("{} length {} exceeds the {} bytes remaining", what, length, remaining()));
    return std::nullopt;
  }
  return length;
}

namespace {
std::string as_string(ByteView v) { return std::string(v.begin(), v.end()); }
Bytes as_bytes(ByteView v) { return Bytes(v.begin(), v.end()); }
}  // namespace

std::string Reader::string() {
  auto n = length_prefixed_size(i16(), false, "string");
  return n ? as_string(take(static_cast<size_t>(*n))) : std::string();
}

std::optional<std::string> Reader::nullable_string() {
  auto n = length_prefixed_size(i16(), true, "string");
  if (!n || *n < 0) return std::nullopt;
  return as_string(take(static_cast<size_t>(*n)));
}

std::string Reader::compact_string() {
  uint32_t raw = uvarint();
  auto n = length_prefixed_size(int64_t{raw} - 1, false, "compact string");
  return n ? as_string(take(static_cast<size_t>(*n))) : std::string();
}

std::optional<std::string> Reader::compact_nullable_string() {
  uint32_t raw = uvarint();
  auto n = length_prefixed_size(int64_t{raw} - 1, true, "compact string");
  if (!n || *n < 0) return std::nullopt;
  return as_string(take(static_cast<size_t>(*n)));
}

Bytes Reader::bytes() {
  auto n = length_prefixed_size(i32(), false, "bytes");
  return n ? as_bytes(take(static_cast<size_t>(*n))) : Bytes();
}

std::optional<Bytes> Reader::nullable_bytes() {
  auto n = length_prefixed_size(i32(), true, "bytes");
  if (!n || *n < 0) return std::nullopt;
  return as_bytes(take(static_cast<size_t>(*n)));
}

Bytes Reader::compact_bytes() {
  uint32_t raw = uvarint();
  auto n = length_prefixed_size(int64_t{raw} - 1, false, "compact bytes");
  return n ? as_bytes(take(static_cast<size_t>(*n))) : Bytes();
}

std::optional<Bytes> Reader::compact_nullable_bytes() {
  uint32_t raw = uvarint();
  auto n = length_prefixed_size(int64_t{raw} - 1, true, "compact bytes");
  if (!n || *n < 0) return std::nullopt;
  return as_bytes(take(static_cast<size_t>(*n)));
}

namespace {
// Shared count check: the smallest encoding of `count` elements must fit in what is left.
bool count_fits(Reader& r, int64_t count, size_t min_element_bytes) {
  SL_ASSERT(min_element_bytes > 0);
  if (count < 0) {
    r.fail(DecodeErrc::invalid_length, fmt::format("array count {} is negative", count));
    return false;
  }
  if (static_cast<uint64_t>(count) > r.remaining() / min_element_bytes) {
    r.fail(DecodeErrc::invalid_length,
           fmt::format("array count {} cannot fit in the {} bytes remaining", count,
                       r.remaining()));
    return false;
  }
  return true;
}
}  // namespace

std::optional<size_t> Reader::array_count(size_t min_element_bytes) {
  int32_t count = i32();
  if (!ok() || count == -1) return std::nullopt;
  if (!count_fits(*this, count, min_element_bytes)) return std::nullopt;
  return static_cast<size_t>(count);
}

std::optional<size_t> Reader::compact_array_count(size_t min_element_bytes) {
  uint32_t raw = uvarint();
  if (!ok() || raw == 0) return std::nullopt;
  if (!count_fits(*this, int64_t{raw} - 1, min_element_bytes)) return std::nullopt;
  return static_cast<size_t>(raw - 1);
}

}  // namespace seedlog::protocol
