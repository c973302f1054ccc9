#include "model/types.hpp"

#include <array>
#include <limits>

#include "sim/assert.hpp"

namespace seedlog::model {

std::optional<int64_t> parse_canonical_int(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
  if (negative && digits == "0") return std::nullopt;  // "-0" is not canonical
  // Accumulate negatively so that INT64_MIN parses too.
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    const int64_t d = c - '0';
    if (value < (std::numeric_limits<int64_t>::min() + d) / 10) return std::nullopt;
    value = value * 10 - d;
  }
  if (!negative) {
    if (value == std::numeric_limits<int64_t>::min()) return std::nullopt;
    value = -value;
  }
  return value;
}

Key Key::integer(int64_t k) { return Key(std::to_string(k)); }

Key Key::topic_partition(std::string_view topic, int64_t partition) {
  SL_ASSERT(!topic.empty());
  SL_ASSERT(partition >= 0);
  return Key(std::string(topic) + "-" + std::to_string(partition));
}

Key Key::from_text(std::string_view text) { return Key(std::string(text)); }

std::optional<int64_t> Key::as_integer() const { return parse_canonical_int(text_); }

std::optional<std::pair<std::string_view, int64_t>> Key::as_topic_partition() const {
  const size_t dash = text_.rfind('-');
  if (dash == std::string::npos || dash == 0) return std::nullopt;
  const std::string_view suffix = std::string_view(text_).substr(dash + 1);
  const std::optional<int64_t> p = parse_canonical_int(suffix);
  if (!p || *p < 0) return std::nullopt;
  return std::pair{std::string_view(text_).substr(0, dash), *p};
}

namespace {

// A text key split for natural ordering: its stem and the number its trailing digits spell.
struct NaturalParts {
  std::string_view stem;
  std::optional<uint64_t> number;
};

NaturalParts natural_parts(std::string_view text) {
  size_t start = text.size();
  while (start > 0 && text[start - 1] >= '0' && text[start - 1] <= '9') --start;
  const size_t digits = text.size() - start;
  if (digits == 0 || digits > 18) return {text, std::nullopt};
  uint64_t n = 0;
  for (char c : text.substr(start)) n = n * 10 + static_cast<uint64_t>(c - '0');
  return {text.substr(0, start), n};
}

}  // namespace

std::strong_ordering Key::operator<=>(const Key& other) const {
  const std::optional<int64_t> a = as_integer();
  const std::optional<int64_t> b = other.as_integer();
  if (a && b) return *a <=> *b;
  if (a || b) return a ? std::strong_ordering::less : std::strong_ordering::greater;
  const NaturalParts pa = natural_parts(text_);
  const NaturalParts pb = natural_parts(other.text_);
  if (auto c = pa.stem <=> pb.stem; c != 0) return c;
  if (auto c = pa.number <=> pb.number; c != 0) return c;
  return text_ <=> other.text_;
}

namespace {
constexpr std::array<std::string_view, 4> kOpTypeNames = {"invoke", "ok", "fail", "info"};
constexpr std::array<std::string_view, 7> kFnNames = {"send",      "poll",   "txn",  "assign",
                                                      "subscribe", "commit", "other"};
constexpr std::array<std::string_view, 3> kMopNames = {"send", "poll", "commit"};
}  // namespace

std::string_view to_string(OpType t) { return kOpTypeNames.at(static_cast<size_t>(t)); }
std::string_view to_string(Fn f) { return kFnNames.at(static_cast<size_t>(f)); }
std::string_view to_string(MopKind k) { return kMopNames.at(static_cast<size_t>(k)); }

std::optional<OpType> parse_op_type(std::string_view name) {
  for (size_t i = 0; i < kOpTypeNames.size(); ++i) {
    if (kOpTypeNames[i] == name) return static_cast<OpType>(i);
  }
  return std::nullopt;
}

Fn parse_fn(std::string_view name) {
  // "other" is not a name a history may use to mean Fn::other's payload-free kind; it is simply
  // an unknown function like any other.
  for (size_t i = 0; i + 1 < kFnNames.size(); ++i) {
    if (kFnNames[i] == name) return static_cast<Fn>(i);
  }
  return Fn::other;
}

std::optional<MopKind> parse_mop_kind(std::string_view name) {
  for (size_t i = 0; i < kMopNames.size(); ++i) {
    if (kMopNames[i] == name) return static_cast<MopKind>(i);
  }
  return std::nullopt;
}

}  // namespace seedlog::model
