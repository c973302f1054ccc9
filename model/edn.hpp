// A small reader for the subset of EDN that Jepsen writes (maps, vectors, lists, sets, keywords,
// symbols, integers, strings, characters, nil, booleans, tagged literals such as
// #jepsen.history.Op{...}, #_ discards and ; comments), and for JSON, which shares its structure.
// Both produce the same Value tree, so one decoder turns either into a History.
//
// The reader never crashes on bad input: every error names the line and column and says what was
// expected. Nesting is bounded (kMaxDepth) so hostile input cannot exhaust the stack. Numbers that
// are not int64 (floats, ratios, bigints beyond range, ##Inf) are kept as text (Kind::number):
// nothing in a Kafka history needs them as numbers, and no floating point enters the library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.hpp"

namespace seedlog::model::edn {

enum class Kind : uint8_t {
  nil, boolean, integer, number, string, keyword, symbol, character,
  vector, list, set, map, tagged,
};
std::string_view to_string(Kind k);

struct Value {
  Kind kind = Kind::nil;
  bool boolean = false;
  int64_t integer = 0;
  std::string text;          // string, keyword (no ':'), symbol, number text, character, tag
  // vector/list/set elements; map: key0 value0 key1 value1...; tagged: the value
  std::vector<Value> items;
  int64_t line = 0;          // where the value starts
  int64_t column = 0;

  bool is_coll() const;
  // keyword or string with this name (JSON has no keywords, EDN has both)
  bool is_name(std::string_view name) const;
  bool is_name() const { return kind == Kind::keyword || kind == Kind::string; }
  // Map lookup by keyword or string key; nullptr when absent or not a map.
  const Value* get(std::string_view key) const;
  size_t map_size() const { return items.size() / 2; }
  // For error messages: "keyword :okk", "integer 12", "vector".
  std::string describe() const;
};

enum class Dialect : uint8_t { edn, json };

inline constexpr int kMaxDepth = 200;

// Reads top-level values one after another from a whole text.
class Reader {
 public:
  Reader(std::string_view text, Dialect dialect) : text_(text), dialect_(dialect) {}
  // The next top-level value, nullopt at the end of the input, or an error.
  Result<std::optional<Value>> next();

 private:
  Result<Value> read_value(int depth);
  Result<Value> read_collection(Kind kind, char close, int depth, Value v);
  Result<Value> read_string(Value v);
  Result<Value> read_dispatch(int depth, Value v);
  Result<Value> read_character(Value v);
  Value read_token_value(std::string_view token, Value v) const;
  bool skip_space_and_comments();  // false at end of input
  Result<bool> skip_ignorable(int depth);  // also #_ discards; false at end of input
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= text_.size(); }
  void advance();
  std::string_view read_token();
  Error error_here(std::string message) const;
  Error error_at(const Value& where, std::string message) const;

  std::string_view text_;
  Dialect dialect_;
  size_t pos_ = 0;
  int64_t line_ = 1;
  size_t line_start_ = 0;
};

// Reads exactly one value from `text` (trailing whitespace and comments allowed).
Result<Value> parse_one(std::string_view text, Dialect dialect);

// EDN text of a value, for error messages and :error fields ("[:poll {1 [[0 5]]}]").
std::string to_edn(const Value& v);

}  // namespace seedlog::model::edn
