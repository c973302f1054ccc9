// The archives that walk a message schema: Decoder reads fields from a Reader, Encoder appends
// them to a Writer, Printer renders them for reports. One schema function per struct
// (detail/schema.hpp) drives all three, so encoding and decoding cannot drift apart.
//
// INTERNAL: included only by the codec translation units and by tests (which add an archive that
// generates random messages). Heavy on templates on purpose; keep it out of public headers.
//
// Schema functions take their struct by non-const reference. Encoder and Printer only ever read
// through it: the public encode functions pass a const message through const_cast, and every
// Encoder/Printer entry point takes const references, so nothing is written.
#pragma once

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "broker/protocol/reader.hpp"
#include "broker/protocol/writer.hpp"
#include "sim/assert.hpp"

namespace seedlog::protocol::detail {

// A known tagged field of a struct: its tag number, its name, and where it lives.
template <class T>
struct TagRef {
  uint32_t tag;
  const char* name;
  std::optional<T>& value;
};

template <class T>
TagRef<T> tag(uint32_t number, const char* name, std::optional<T>& value) {
  return TagRef<T>{number, name, value};
}

// ---------------------------------------------------------------------------------------------

class Decoder {
 public:
  Decoder(Reader& reader, int16_t version, bool flexible, const char* root)
      : r_(reader), version_(version), flexible_(flexible), root_(root) {}

  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }
  bool ok() const { return r_.ok(); }

  void field(const char* n, bool& v) {
    v = r_.boolean();
    note(n);
  }
  void field(const char* n, int8_t& v) {
    v = r_.i8();
    note(n);
  }
  void field(const char* n, int16_t& v) {
    v = r_.i16();
    note(n);
  }
  void field(const char* n, uint16_t& v) {
    v = r_.u16();
    note(n);
  }
  void field(const char* n, int32_t& v) {
    v = r_.i32();
    note(n);
  }
  void field(const char* n, int64_t& v) {
    v = r_.i64();
    note(n);
  }
  void field(const char* n, Uuid& v) {
    v = r_.uuid();
    note(n);
  }
  void field(const char* n, std::string& v) {
    v = flexible_ ? r_.compact_string() : r_.string();
    note(n);
  }
  void field(const char* n, std::optional<std::string>& v) {
    v = flexible_ ? r_.compact_nullable_string() : r_.nullable_string();
    note(n);
  }
  void field(const char* n, Bytes& v) {
    v = flexible_ ? r_.compact_bytes() : r_.bytes();
    note(n);
  }
  void field(const char* n, std::optional<Bytes>& v) {
    v = flexible_ ? r_.compact_nullable_bytes() : r_.nullable_bytes();
    note(n);
  }
  template <class Tag, class Rep>
  void field(const char* n, Strong<Tag, Rep>& v) {
    Rep raw{};
    field(n, raw);
    v = Strong<Tag, Rep>(raw);
  }
  template <class E>
    requires std::is_enum_v<E>
  void field(const char* n, E& v) {
    std::underlying_type_t<E> raw{};
    field(n, raw);
    v = static_cast<E>(raw);
  }
  template <class T>
  void field(const char* n, std::vector<T>& v) {
    v.clear();
    std::optional<size_t> count = read_count(n);
    if (!count && ok()) fail_null(n);
    if (count) elements(n, *count, v);
  }
  template <class T>
  void field(const char* n, std::optional<std::vector<T>>& v) {
    v.reset();
    std::optional<size_t> count = read_count(n);
    if (!count) return;
    elements(n, *count, v.emplace());
  }
  // Any other type is a struct with a schema function.
  template <class T>
  void field(const char* n, T& s) {
    Scope scope(*this, n);
    schema_fields(*this, s);
  }

  // The tagged-field section that ends every struct in flexible versions (KIP-482): a count,
  // then (tag, size, bytes) in strictly ascending tag order. Known tags fill their fields; the
  // rest are kept verbatim in `unknown`.
  template <class... T>
  void tags(UnknownTags& unknown, TagRef<T>... known) {
    unknown.clear();
    (known.value.reset(), ...);
    if (!flexible_) return;
    uint32_t count = r_.uvarint();
    note("tagged fields");
    if (ok() && count > r_.remaining() / 2) {
      r_.fail(DecodeErrc::invalid_length,
              fmt::format("{} tagged fields cannot fit in {} bytes", count, r_.remaining()));
      note("tagged fields");
    }
    int64_t previous = -1;
    for (uint32_t i = 0; i < count && ok(); ++i) {
      uint32_t number = r_.uvarint();
      uint32_t size = r_.uvarint();
      note("tagged fields");
      if (ok() && int64_t{number} <= previous) {
        r_.fail(DecodeErrc::invalid_value,
                fmt::format("tag {} after tag {}: tags must be strictly ascending", number,
                            previous));
        note("tagged fields");
      }
      previous = number;
      Reader sub = r_.sub_reader(size);
      note("tagged fields");
      if (!ok()) return;
      bool matched = (read_known(sub, number, known) || ...);
      if (!matched) unknown.push_back(RawTaggedField{number, read_raw(sub)});
    }
  }

 private:
  struct PathEntry {
    const char* name;
    int64_t index;
  };
  // The fields being read, outermost first, for error messages. Inline: a decoder is made per
  // message and per tagged field, and a heap vector cost an allocation each time.
  class Path {
   public:
    void push_back(PathEntry e) {
      SL_ASSERT_MSG(size_ < kMaxDepth, "schema nesting deeper than Decoder::Path holds");
      entries_[size_++] = e;
    }
    void pop_back() { --size_; }
    PathEntry& back() { return entries_[size_ - 1]; }
    const PathEntry* begin() const { return entries_.data(); }
    const PathEntry* end() const { return entries_.data() + size_; }

   private:
    static constexpr size_t kMaxDepth = 16;
    std::array<PathEntry, kMaxDepth> entries_{};
    size_t size_ = 0;
  };
  struct Scope {
    Scope(Decoder& d, const char* name) : d_(d) { d_.path_.push_back({name, -1}); }
    ~Scope() { d_.path_.pop_back(); }
    Decoder& d_;
  };

  std::optional<size_t> read_count(const char* n) {
    // Every element takes at least one byte on the wire, which bounds the count.
    std::optional<size_t> count = flexible_ ? r_.compact_array_count(1) : r_.array_count(1);
    note(n);
    return count;
  }

  void fail_null(const char* n) {
    r_.fail(DecodeErrc::invalid_length, "null array for a non-nullable field");
    note(n);
  }

  template <class T>
  void elements(const char* n, size_t count, std::vector<T>& v) {
    Scope scope(*this, n);
    for (size_t i = 0; i < count && ok(); ++i) {
      path_.back().index = static_cast<int64_t>(i);
      field("", v.emplace_back());
    }
  }

  template <class T>
  bool read_known(Reader& sub, uint32_t number, TagRef<T>& known) {
    if (known.tag != number) return false;
    Decoder child(sub, version_, flexible_, root_);
    child.path_ = path_;
    T value{};
    bool present = child.tag_value(known.name, value);
    sub.expect_end(known.name);
    child.note(known.name);
    r_.absorb(sub);
    if (sub.ok() && present) known.value = std::move(value);
    return true;
  }

  // A tagged field's payload. Kafka's only tagged strings here are nullable (cluster ids) and
  // are written only when not null; a null payload is read as "absent".
  template <class T>
  bool tag_value(const char* n, T& v) {
    field(n, v);
    return true;
  }
  bool tag_value(const char* n, std::string& v) {
    std::optional<std::string> s = r_.compact_nullable_string();
    note(n);
    if (!s) return false;
    v = std::move(*s);
    return true;
  }

  static Bytes read_raw(Reader& sub) {
    ByteView raw = sub.take(sub.remaining());
    return Bytes(raw.begin(), raw.end());
  }

  // Prefixes the first failure's message with the path of the field being read.
  void note(const char* n) {
    if (r_.ok() || annotated_) return;
    annotated_ = true;
    std::string path = root_;
    for (const PathEntry& e : path_) {
      if (e.name[0] != '\0') path += fmt::format(".{}", e.name);
      if (e.index >= 0) path += fmt::format("[{}]", e.index);
    }
    if (n[0] != '\0') path += fmt::format(".{}", n);
    DecodeError* err = r_.mutable_error();
    err->message = fmt::format("{}: {}", path, err->message);
  }

  Reader& r_;
  int16_t version_;
  bool flexible_;
  const char* root_;
  bool annotated_ = false;
  Path path_;
};

// ---------------------------------------------------------------------------------------------

class Encoder {
 public:
  Encoder(Writer& writer, int16_t version, bool flexible)
      : w_(writer), version_(version), flexible_(flexible) {}

  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }

  void field(const char*, const bool& v) { w_.boolean(v); }
  void field(const char*, const int8_t& v) { w_.i8(v); }
  void field(const char*, const int16_t& v) { w_.i16(v); }
  void field(const char*, const uint16_t& v) { w_.u16(v); }
  void field(const char*, const int32_t& v) { w_.i32(v); }
  void field(const char*, const int64_t& v) { w_.i64(v); }
  void field(const char*, const Uuid& v) { w_.uuid(v); }
  void field(const char*, const std::string& v) {
    flexible_ ? w_.compact_string(v) : w_.string(v);
  }
  void field(const char*, const std::optional<std::string>& v) {
    flexible_ ? w_.compact_nullable_string(v) : w_.nullable_string(v);
  }
  void field(const char*, const Bytes& v) { flexible_ ? w_.compact_bytes(v) : w_.bytes(v); }
  void field(const char*, const std::optional<Bytes>& v) {
    flexible_ ? w_.compact_nullable_bytes(v) : w_.nullable_bytes(v);
  }
  template <class Tag, class Rep>
  void field(const char* n, const Strong<Tag, Rep>& v) {
    field(n, v.value());
  }
  template <class E>
    requires std::is_enum_v<E>
  void field(const char* n, const E& v) {
    field(n, static_cast<std::underlying_type_t<E>>(v));
  }
  template <class T>
  void field(const char* n, const std::vector<T>& v) {
    flexible_ ? w_.compact_array_count(v.size()) : w_.array_count(v.size());
    for (const T& e : v) field(n, e);
  }
  template <class T>
  void field(const char* n, const std::optional<std::vector<T>>& v) {
    if (!v) {
      flexible_ ? w_.compact_null_array() : w_.null_array();
      return;
    }
    field(n, *v);
  }
  template <class T>
  void field(const char*, const T& s) {
    schema_fields(*this, const_cast<T&>(s));  // read-only: see the file comment
  }

  template <class... T>
  void tags(const UnknownTags& unknown, TagRef<T>... known) {
    if (!flexible_) return;  // fields of flexible versions only; dropped at older versions
    std::vector<std::pair<uint32_t, Bytes>> entries;
    (encode_known(known, entries), ...);
    for (const RawTaggedField& u : unknown) entries.emplace_back(u.tag, u.data);
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 1; i < entries.size(); ++i) {
      SL_ASSERT_MSG(entries[i - 1].first != entries[i].first,
                    fmt::format("tag {} appears twice", entries[i].first));
    }
    w_.uvarint(static_cast<uint32_t>(entries.size()));
    for (const auto& [number, bytes] : entries) {
      w_.uvarint(number);
      w_.uvarint(static_cast<uint32_t>(bytes.size()));
      w_.raw(bytes);
    }
  }

 private:
  template <class T>
  void encode_known(const TagRef<T>& known, std::vector<std::pair<uint32_t, Bytes>>& out) {
    if (!known.value) return;
    Writer tmp;
    Encoder child(tmp, version_, flexible_);
    child.field(known.name, *known.value);
    out.emplace_back(known.tag, tmp.take());
  }

  Writer& w_;
  int16_t version_;
  bool flexible_;
};

// ---------------------------------------------------------------------------------------------

// Renders a message as one line, `name=value` pairs, structs in {}, arrays in [].
class Printer {
 public:
  Printer(std::string& out, int16_t version, bool flexible)
      : out_(out), version_(version), flexible_(flexible) {}

  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }

  void field(const char* n, const bool& v) { put(n, v ? "true" : "false"); }
  void field(const char* n, const int8_t& v) { put(n, fmt::format("{}", v)); }
  void field(const char* n, const int16_t& v) { put(n, fmt::format("{}", v)); }
  void field(const char* n, const uint16_t& v) { put(n, fmt::format("{}", v)); }
  void field(const char* n, const int32_t& v) { put(n, fmt::format("{}", v)); }
  void field(const char* n, const int64_t& v) { put(n, fmt::format("{}", v)); }
  void field(const char* n, const Uuid& v) { put(n, v.to_string()); }
  void field(const char* n, const std::string& v) { put(n, fmt::format("\"{}\"", v)); }
  void field(const char* n, const std::optional<std::string>& v) {
    v ? field(n, *v) : put(n, "null");
  }
  void field(const char* n, const Bytes& v) {
    ByteView head(v.data(), std::min<size_t>(v.size(), 16));
    put(n, fmt::format("<{} bytes {}{}>", v.size(), to_hex(head), v.size() > 16 ? ".." : ""));
  }
  void field(const char* n, const std::optional<Bytes>& v) { v ? field(n, *v) : put(n, "null"); }
  template <class Tag, class Rep>
  void field(const char* n, const Strong<Tag, Rep>& v) {
    field(n, v.value());
  }
  template <class E>
    requires std::is_enum_v<E>
  void field(const char* n, const E& v) {
    put(n, to_string(v));
  }
  template <class T>
  void field(const char* n, const std::vector<T>& v) {
    put(n, "[");
    bool saved = first_;
    first_ = true;
    for (const T& e : v) field("", e);
    first_ = saved;
    out_ += "]";
  }
  template <class T>
  void field(const char* n, const std::optional<std::vector<T>>& v) {
    v ? field(n, *v) : put(n, "null");
  }
  template <class T>
  void field(const char* n, const T& s) {
    put(n, "{");
    bool saved = first_;
    first_ = true;
    schema_fields(*this, const_cast<T&>(s));  // read-only: see the file comment
    first_ = saved;
    out_ += "}";
  }

  template <class... T>
  void tags(const UnknownTags& unknown, TagRef<T>... known) {
    ((known.value ? field(known.name, *known.value) : void()), ...);
    for (const RawTaggedField& u : unknown) {
      put(fmt::format("tag{}", u.tag).c_str(), fmt::format("<{} bytes>", u.data.size()));
    }
  }

 private:
  void put(const char* n, std::string_view value) {
    if (!first_) out_ += ' ';
    first_ = false;
    if (n[0] != '\0') out_ += fmt::format("{}=", n);
    out_ += value;
  }

  std::string& out_;
  int16_t version_;
  bool flexible_;
  bool first_ = true;
};

}  // namespace seedlog::protocol::detail
