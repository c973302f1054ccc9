// The vocabulary of histories: offsets, values, processes, operation indexes and partition keys.
//
// Keys name partitions. Jepsen's Kafka workload uses integer keys, each mapped by the client to one
// topic-partition; seedlog names partitions "topic-p". Both fit one Key: a key is its canonical
// text, and a text that is a canonical decimal integer *is* that integer key ("56" and 56 are the
// same key; JSON cannot write integer map keys, so this is what makes JSON and EDN agree).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "sim/strong.hpp"

namespace seedlog::model {

using Offset = Strong<struct OffsetTag, int64_t>;        // a record's position in its partition
using Value = Strong<struct ValueTag, int64_t>;          // a record's payload; unique per run
using ProcessId = Strong<struct ProcessTag, int64_t>;    // a client (Jepsen's :process)
using OpIndex = Strong<struct OpIndexTag, int64_t>;      // an entry's :index in the history
using KeyId = Strong<struct KeyIdTag, uint32_t>;         // a key interned in one History
using NameId = Strong<struct NameIdTag, uint32_t>;       // a string interned in one History; 0 = ""

class Key {
 public:
  Key() = default;
  static Key integer(int64_t k);
  // "orders-3". REQUIRES: partition >= 0 and a non-empty topic.
  static Key topic_partition(std::string_view topic, int64_t partition);
  // Any text; a canonical decimal integer ("12", "-3", not "012") becomes the integer key.
  static Key from_text(std::string_view text);

  const std::string& text() const { return text_; }
  bool empty() const { return text_.empty(); }
  std::optional<int64_t> as_integer() const;
  // {"orders", 3} for "orders-3"; nullopt for integer keys and texts without a "-N" suffix.
  std::optional<std::pair<std::string_view, int64_t>> as_topic_partition() const;

  bool operator==(const Key&) const = default;
  // Natural order: integer keys by value first, then texts by stem, then by their numeric suffix
  // (so "t-2" < "t-10"), then by full text. Reports sort partitions with it.
  std::strong_ordering operator<=>(const Key& other) const;

 private:
  explicit Key(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// Parses a canonical decimal int64 (optional '-', no leading zeros, no '+'). nullopt otherwise,
// including on overflow.
std::optional<int64_t> parse_canonical_int(std::string_view text);

enum class OpType : uint8_t { invoke, ok, fail, info };
// Operation functions of Jepsen's Kafka workload, plus commit; anything else is `other` and keeps
// its name (Jepsen's :crash, :debug-topic-partitions...).
enum class Fn : uint8_t { send, poll, txn, assign, subscribe, commit, other };
enum class MopKind : uint8_t { send, poll, commit };

std::string_view to_string(OpType t);
std::string_view to_string(Fn f);
std::string_view to_string(MopKind k);
std::optional<OpType> parse_op_type(std::string_view name);
// Never fails: unknown names are Fn::other.
Fn parse_fn(std::string_view name);
std::optional<MopKind> parse_mop_kind(std::string_view name);

}  // namespace seedlog::model

template <>
struct fmt::formatter<seedlog::model::Key> : fmt::formatter<std::string_view> {
  auto format(const seedlog::model::Key& k, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(k.text(), ctx);
  }
};
