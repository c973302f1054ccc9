#include "model/edn.hpp"

#include <array>

#include <fmt/format.h>

#include "model/types.hpp"

namespace seedlog::model::edn {

namespace {

constexpr std::array<std::string_view, 13> kKindNames = {
    "nil",    "boolean", "integer", "number", "string", "keyword", "symbol",
    "character", "vector", "list", "set",  "map",    "tagged value"};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ','; }

// Characters that end a token: whitespace and the delimiters of collections and strings.
bool is_delimiter(char c) {
  return is_space(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}' ||
         c == '"' || c == ';' || c == '\0';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

char closer_of(char open) { return open == '[' ? ']' : open == '(' ? ')' : '}'; }

}  // namespace

std::string_view to_string(Kind k) { return kKindNames.at(static_cast<size_t>(k)); }

bool Value::is_coll() const {
  return kind == Kind::vector || kind == Kind::list || kind == Kind::set || kind == Kind::map;
}

bool Value::is_name(std::string_view name) const { return is_name() && text == name; }

const Value* Value::get(std::string_view key) const {
  if (kind != Kind::map) return nullptr;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    if (items[i].is_name(key)) return &items[i + 1];
  }
  return nullptr;
}

std::string Value::describe() const {
  switch (kind) {
    case Kind::nil: return "nil";
    case Kind::boolean: return boolean ? "true" : "false";
    case Kind::integer: return fmt::format("integer {}", integer);
    case Kind::number: return fmt::format("number {}", text);
    case Kind::string: return fmt::format("string \"{}\"", text.substr(0, 40));
    case Kind::keyword: return fmt::format("keyword :{}", text);
    case Kind::symbol: return fmt::format("symbol {}", text);
    default: return std::string(to_string(kind));
  }
}

// ---- Reader ----

void Reader::advance() {
  if (text_[pos_] == '\n') {
    ++line_;
    line_start_ = pos_ + 1;
  }
  ++pos_;
}

Error Reader::error_here(std::string message) const {
  return Error{line_, static_cast<int64_t>(pos_ - line_start_) + 1, std::move(message)};
}

Error Reader::error_at(const Value& where, std::string message) const {
  return Error{where.line, where.column, std::move(message)};
}

bool Reader::skip_space_and_comments() {
  while (!at_end()) {
    const char c = peek();
    if (is_space(c)) {
      advance();
    } else if (c == ';' && dialect_ == Dialect::edn) {
      while (!at_end() && peek() != '\n') advance();
    } else {
      return true;
    }
  }
  return false;
}

std::string_view Reader::read_token() {
  const size_t start = pos_;
  // JSON has no ':' inside tokens: "a":1 must split at the colon.
  while (!at_end() && !is_delimiter(peek()) && !(dialect_ == Dialect::json && peek() == ':')) {
    advance();
  }
  return text_.substr(start, pos_ - start);
}

Result<bool> Reader::skip_ignorable(int depth) {
  while (skip_space_and_comments()) {
    if (dialect_ != Dialect::edn || peek() != '#' || pos_ + 1 >= text_.size() ||
        text_[pos_ + 1] != '_') {
      return true;
    }
    advance();
    advance();
    Result<Value> discarded = read_value(depth + 1);  // #_ drops the next value
    if (!discarded.ok()) return discarded.error();
  }
  return false;
}

Result<std::optional<Value>> Reader::next() {
  Result<bool> more = skip_ignorable(0);
  if (!more.ok()) return more.error();
  if (!more.value()) return std::optional<Value>();
  Result<Value> v = read_value(0);
  if (!v.ok()) return v.error();
  return std::optional<Value>(std::move(v).value());
}

Result<Value> Reader::read_value(int depth) {
  if (depth > kMaxDepth) return error_here(fmt::format("nesting deeper than {}", kMaxDepth));
  Result<bool> more = skip_ignorable(depth);
  if (!more.ok()) return more.error();
  if (!more.value()) return error_here("expected a value, found the end of the input");
  Value v;
  v.line = line_;
  v.column = static_cast<int64_t>(pos_ - line_start_) + 1;
  const char c = peek();
  switch (c) {
    case '[': case '{': case '(':
      if (c == '(' && dialect_ == Dialect::json) break;
      advance();
      return read_collection(c == '[' ? Kind::vector : c == '(' ? Kind::list : Kind::map,
                             closer_of(c), depth, std::move(v));
    case ']': case '}': case ')':
      return error_here(fmt::format("unexpected '{}' with nothing open", c));
    case '"':
      advance();
      return read_string(std::move(v));
    case '#':
      if (dialect_ == Dialect::json) break;
      advance();
      return read_dispatch(depth, std::move(v));
    case '\\':
      if (dialect_ == Dialect::json) break;
      advance();
      return read_character(std::move(v));
    default: {
      const std::string_view token = read_token();
      if (token.empty()) break;
      return read_token_value(token, std::move(v));
    }
  }
  return error_here(fmt::format("unexpected character '{}'", c));
}

Result<Value> Reader::read_collection(Kind kind, char close, int depth, Value v) {
  v.kind = kind;
  while (true) {
    Result<bool> more = skip_ignorable(depth);
    if (!more.ok()) return more.error();
    if (!more.value()) {
      return error_at(v, fmt::format("{} opened here is never closed (expected '{}')",
                                     to_string(kind), close));
    }
    if (peek() == close) {
      advance();
      break;
    }
    const bool json_key =
        dialect_ == Dialect::json && v.kind == Kind::map && v.items.size() % 2 == 0;
    Result<Value> item = read_value(depth + 1);
    if (!item.ok()) return item.error();
    v.items.push_back(std::move(item).value());
    if (json_key) {
      if (!skip_space_and_comments() || peek() != ':') {
        return error_here("expected ':' after an object key");
      }
      advance();
    }
  }
  if (v.kind == Kind::map && v.items.size() % 2 != 0) {
    return error_at(v, fmt::format("map has a key without a value ({} items)", v.items.size()));
  }
  return v;
}

Result<Value> Reader::read_string(Value v) {
  v.kind = Kind::string;
  while (true) {
    if (at_end()) return error_at(v, "string opened here is never closed");
    const char c = peek();
    advance();
    if (c == '"') return v;
    if (c != '\\') {
      v.text += c;
      continue;
    }
    if (at_end()) return error_at(v, "string opened here is never closed");
    const char e = peek();
    advance();
    switch (e) {
      case '"': v.text += '"'; break;
      case '\\': v.text += '\\'; break;
      case '/': v.text += '/'; break;
      case 'n': v.text += '\n'; break;
      case 't': v.text += '\t'; break;
      case 'r': v.text += '\r'; break;
      case 'b': v.text += '\b'; break;
      case 'f': v.text += '\f'; break;
      case 'u': {
        uint32_t cp = 0;
        for (int i = 0; i < 4; ++i) {
          const int d = at_end() ? -1 : hex_digit(peek());
          if (d < 0) return error_here("\\u needs four hex digits");
          cp = cp * 16 + static_cast<uint32_t>(d);
          advance();
        }
        append_utf8(v.text, cp);  // surrogate halves pass through as-is; no checker reads text
        break;
      }
      default: return error_here(fmt::format("unknown escape '\\{}' in a string", e));
    }
  }
}

Result<Value> Reader::read_dispatch(int depth, Value v) {
  const char c = peek();
  if (c == '{') {
    advance();
    return read_collection(Kind::set, '}', depth, std::move(v));
  }
  if (c == '"') {  // #"regex": keep its text
    advance();
    return read_string(std::move(v));
  }
  if (c == '#') {  // ##Inf, ##-Inf, ##NaN
    advance();
    v.kind = Kind::number;
    v.text = "##" + std::string(read_token());
    return v;
  }
  const std::string_view tag = read_token();
  if (tag.empty()) return error_here(fmt::format("unexpected character '{}' after '#'", c));
  Result<Value> tagged = read_value(depth + 1);
  if (!tagged.ok()) return tagged.error();
  v.kind = Kind::tagged;
  v.text = std::string(tag);
  v.items.push_back(std::move(tagged).value());
  return v;
}

Result<Value> Reader::read_character(Value v) {
  const std::string_view token = read_token();
  v.kind = Kind::character;
  if (token.empty()) {
    if (at_end()) return error_at(v, "a character literal needs a character after '\\'");
    v.text = std::string(1, peek());  // \( \[ \" and friends
    advance();
    return v;
  }
  if (token == "newline") v.text = "\n";
  else if (token == "space") v.text = " ";
  else if (token == "tab") v.text = "\t";
  else if (token == "return") v.text = "\r";
  else v.text = std::string(token);
  return v;
}

Value Reader::read_token_value(std::string_view token, Value v) const {
  if (token == "nil" || token == "null") {
    v.kind = Kind::nil;
    return v;
  }
  if (token == "true" || token == "false") {
    v.kind = Kind::boolean;
    v.boolean = token == "true";
    return v;
  }
  if (token.front() == ':' && dialect_ == Dialect::edn) {
    v.kind = Kind::keyword;
    v.text = std::string(token.substr(token.size() > 1 && token[1] == ':' ? 2 : 1));
    return v;
  }
  const bool signed_number = (token.front() == '-' || token.front() == '+') && token.size() > 1 &&
                             is_digit(token[1]);
  if (is_digit(token.front()) || signed_number) {
    std::string_view digits = token;
    if (digits.front() == '+') digits.remove_prefix(1);
    if (digits.back() == 'N' && dialect_ == Dialect::edn) digits.remove_suffix(1);
    // "007" is a valid EDN integer; strip leading zeros before the canonical parse.
    std::string normalized(digits);
    const size_t sign = normalized.front() == '-' ? 1 : 0;
    while (normalized.size() > sign + 1 && normalized[sign] == '0') normalized.erase(sign, 1);
    if (normalized == "-0") normalized = "0";
    if (const std::optional<int64_t> i = parse_canonical_int(normalized)) {
      v.kind = Kind::integer;
      v.integer = *i;
      return v;
    }
    v.kind = Kind::number;  // float, ratio, bigint out of range: kept as text
    v.text = std::string(token);
    return v;
  }
  v.kind = Kind::symbol;
  v.text = std::string(token);
  return v;
}

Result<Value> parse_one(std::string_view text, Dialect dialect) {
  Reader reader(text, dialect);
  Result<std::optional<Value>> first = reader.next();
  if (!first.ok()) return first.error();
  if (!first.value()) return Error{1, 1, "expected a value, found an empty input"};
  Value v = std::move(*first.value());
  Result<std::optional<Value>> rest = reader.next();
  if (!rest.ok()) return rest.error();
  if (rest.value()) {
    return Error{rest.value()->line, rest.value()->column, "expected one value, found more"};
  }
  return v;
}

namespace {

void append_edn_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  out += '"';
}

void append_edn(std::string& out, const Value& v) {
  auto items = [&](std::string_view open, std::string_view close) {
    out += open;
    for (size_t i = 0; i < v.items.size(); ++i) {
      if (i > 0) out += (v.kind == Kind::map && i % 2 == 0) ? ", " : " ";
      append_edn(out, v.items[i]);
    }
    out += close;
  };
  switch (v.kind) {
    case Kind::nil: out += "nil"; break;
    case Kind::boolean: out += v.boolean ? "true" : "false"; break;
    case Kind::integer: out += std::to_string(v.integer); break;
    case Kind::number: case Kind::symbol: out += v.text; break;
    case Kind::string: append_edn_string(out, v.text); break;
    case Kind::keyword: out += ':'; out += v.text; break;
    case Kind::character: out += '\\'; out += v.text; break;
    case Kind::vector: items("[", "]"); break;
    case Kind::list: items("(", ")"); break;
    case Kind::set: items("#{", "}"); break;
    case Kind::map: items("{", "}"); break;
    case Kind::tagged:
      out += '#';
      out += v.text;
      if (!v.items.empty()) append_edn(out, v.items.front());
      break;
  }
}

}  // namespace

std::string to_edn(const Value& v) {
  std::string out;
  append_edn(out, v);
  return out;
}

}  // namespace seedlog::model::edn
