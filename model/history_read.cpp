// Decoding EDN/JSON value trees into a History. One decoder serves both formats: JSON differs from
// EDN only in spelling names as strings instead of keywords, which edn::Value::is_name hides.

#include <fmt/format.h>

#include "model/edn.hpp"
#include "model/history_io.hpp"

namespace seedlog::model {

namespace {

using edn::Kind;
using Node = edn::Value;

// Jepsen may tag ops (#jepsen.history.Op{...}); the tag adds nothing a checker needs.
const Node& untag(const Node& v) {
  const Node* p = &v;
  while (p->kind == Kind::tagged && !p->items.empty()) p = &p->items.front();
  return *p;
}

Error error_at(const Node& v, std::string message) {
  return Error{v.line, v.column, std::move(message)};
}

bool is_seq(const Node& v) { return v.kind == Kind::vector || v.kind == Kind::list; }

Result<Key> decode_key(const Node& raw) {
  const Node& v = untag(raw);
  if (v.kind == Kind::integer) return Key::integer(v.integer);
  if ((v.kind == Kind::string || v.kind == Kind::keyword) && !v.text.empty()) {
    return Key::from_text(v.text);
  }
  return error_at(v, fmt::format("a key must be an integer or a non-empty string, found {}",
                                 v.describe()));
}

Result<int64_t> decode_int(const Node& raw, std::string_view what) {
  const Node& v = untag(raw);
  if (v.kind == Kind::integer) return v.integer;
  return error_at(v, fmt::format("{} must be an integer, found {}", what, v.describe()));
}

Result<Offset> decode_offset(const Node& v) {
  Result<int64_t> o = decode_int(v, "an offset");
  if (!o.ok()) return o.error();
  if (o.value() < 0) return error_at(v, fmt::format("an offset must be >= 0, found {}", o.value()));
  return Offset(o.value());
}

// "x" for strings, keywords and symbols; the EDN text of anything else.
std::string name_text(const Node& raw) {
  const Node& v = untag(raw);
  if (v.kind == Kind::string || v.kind == Kind::keyword || v.kind == Kind::symbol) return v.text;
  if (v.kind == Kind::nil) return std::string();
  return edn::to_edn(v);
}

// [[o v] ...] of one key in a poll result.
Result<PolledKey> decode_polled_key(const Node& key, const Node& pairs_raw) {
  Result<Key> k = decode_key(key);
  if (!k.ok()) return k.error();
  const Node& pairs = untag(pairs_raw);
  if (!is_seq(pairs)) {
    return error_at(pairs, fmt::format("poll records of key {} must be a vector of [offset value], "
                                       "found {}", k.value(), pairs.describe()));
  }
  PolledKey out{std::move(k).value(), {}};
  out.records.reserve(pairs.items.size());
  for (const Node& raw : pairs.items) {
    const Node& pair = untag(raw);
    if (!is_seq(pair) || pair.items.size() != 2) {
      return error_at(pair, fmt::format("a poll record must be [offset value], found {}",
                                        edn::to_edn(pair).substr(0, 60)));
    }
    Result<Offset> o = decode_offset(pair.items[0]);
    if (!o.ok()) return o.error();
    Result<int64_t> val = decode_int(pair.items[1], "a value");
    if (!val.ok()) return val.error();
    out.records.push_back(Record{o.value(), model::Value(val.value())});
  }
  return out;
}

Result<MopData> decode_send(const Node& mop) {
  if (mop.items.size() != 3) {
    return error_at(mop, fmt::format("a send must be [send key value], found {}",
                                     edn::to_edn(mop).substr(0, 60)));
  }
  Result<Key> k = decode_key(mop.items[1]);
  if (!k.ok()) return k.error();
  const Node& payload = untag(mop.items[2]);
  if (payload.kind == Kind::integer)
    return MopData::send(std::move(k).value(), model::Value(payload.integer));
  if (!is_seq(payload) || payload.items.size() != 2) {
    return error_at(payload, fmt::format("a send's value must be v or [offset v], found {}",
                                         payload.describe()));
  }
  Result<int64_t> v = decode_int(payload.items[1], "a value");
  if (!v.ok()) return v.error();
  MopData m = MopData::send(std::move(k).value(), model::Value(v.value()));
  if (untag(payload.items[0]).kind != Kind::nil) {  // [nil v]: offset unknown
    Result<Offset> o = decode_offset(payload.items[0]);
    if (!o.ok()) return o.error();
    m.offset = o.value();
  }
  return m;
}

Result<MopData> decode_poll(const Node& mop) {
  if (mop.items.size() == 1) return MopData::poll();
  const Node& reads = untag(mop.items[1]);
  if (mop.items.size() != 2 || (reads.kind != Kind::map && reads.kind != Kind::nil)) {
    return error_at(mop,
                    fmt::format("a poll must be [poll] or [poll {{key [[offset value] ...]}}], "
                                "found {}",
                                edn::to_edn(mop).substr(0, 60)));
  }
  std::vector<PolledKey> polled;
  for (size_t i = 0; i + 1 < reads.items.size(); i += 2) {
    Result<PolledKey> p = decode_polled_key(reads.items[i], reads.items[i + 1]);
    if (!p.ok()) return p.error();
    polled.push_back(std::move(p).value());
  }
  return MopData::polled_keys(std::move(polled));
}

Result<MopData> decode_commit(const Node& mop) {
  if (mop.items.size() != 3) {
    return error_at(mop, fmt::format("a commit must be [commit key offset], found {}",
                                     edn::to_edn(mop).substr(0, 60)));
  }
  Result<Key> k = decode_key(mop.items[1]);
  if (!k.ok()) return k.error();
  Result<Offset> o = decode_offset(mop.items[2]);
  if (!o.ok()) return o.error();
  return MopData::commit(std::move(k).value(), o.value());
}

Result<MopData> decode_mop(const Node& raw) {
  const Node& mop = untag(raw);
  if (!is_seq(mop) || mop.items.empty() || !untag(mop.items[0]).is_name()) {
    return error_at(mop, fmt::format("a micro-op must be a vector starting with its name, found {}",
                                     mop.describe()));
  }
  const std::string& name = untag(mop.items[0]).text;
  const std::optional<MopKind> kind = parse_mop_kind(name);
  if (!kind)
    return error_at(mop,
                    fmt::format("unknown micro-op \"{}\" (expected send, poll or commit)", name));
  switch (*kind) {
    case MopKind::send: return decode_send(mop);
    case MopKind::poll: return decode_poll(mop);
    case MopKind::commit: return decode_commit(mop);
  }
  return error_at(mop, "unreachable micro-op kind");
}

Result<std::vector<Key>> decode_keys(const Node& raw, std::string_view what) {
  const Node& v = untag(raw);
  std::vector<Key> keys;
  if (v.kind == Kind::nil) return keys;
  if (!is_seq(v) && v.kind != Kind::set) {
    return error_at(v, fmt::format("{} must be a vector of keys, found {}", what, v.describe()));
  }
  for (const Node& item : v.items) {
    Result<Key> k = decode_key(item);
    if (!k.ok()) return k.error();
    keys.push_back(std::move(k).value());
  }
  return keys;
}

// Jepsen's :rebalance-log: [{:keys [k ...] ...} ...].
Result<std::vector<Key>> decode_rebalance_log(const Node& raw) {
  const Node& log = untag(raw);
  std::vector<Key> keys;
  if (log.kind == Kind::nil) return keys;
  if (!is_seq(log))
    return error_at(
        log, fmt::format("rebalance-log must be a vector of maps, found {}", log.describe()));
  for (const Node& entry_raw : log.items) {
    const Node& entry = untag(entry_raw);
    const Node* ks = entry.get("keys");
    if (ks == nullptr) return error_at(entry, "a rebalance-log entry needs :keys");
    Result<std::vector<Key>> more = decode_keys(*ks, "rebalance-log :keys");
    if (!more.ok()) return more.error();
    keys.insert(keys.end(), more.value().begin(), more.value().end());
  }
  return keys;
}

Result<bool> decode_value(const Node& m, OpData& op) {
  const Node* value = m.get("value");
  if (op.f == Fn::assign || op.f == Fn::subscribe) {
    if (value == nullptr) return true;
    Result<std::vector<Key>> keys = decode_keys(*value, "the value of an assign/subscribe");
    if (!keys.ok()) return keys.error();
    op.keys = std::move(keys).value();
    return true;
  }
  if (op.f == Fn::other || value == nullptr || untag(*value).kind == Kind::nil) return true;
  const Node& mops = untag(*value);
  if (!is_seq(mops)) {
    return error_at(mops, fmt::format("the value of a {} must be a vector of micro-ops, found {}",
                                      to_string(op.f), mops.describe()));
  }
  for (const Node& raw : mops.items) {
    Result<MopData> mop = decode_mop(raw);
    if (!mop.ok()) return mop.error();
    op.mops.push_back(std::move(mop).value());
  }
  return true;
}

// Optional integer field; absent or nil gives `fallback`.
Result<int64_t> optional_int(const Node& m, std::string_view field, int64_t fallback) {
  const Node* v = m.get(field);
  if (v == nullptr || untag(*v).kind == Kind::nil) return fallback;
  return decode_int(*v, field);
}

Result<std::optional<OpIndex>> decode_index(const Node& m, const History& h) {
  const Node* v = m.get("index");
  if (v == nullptr) return std::optional<OpIndex>();
  Result<int64_t> i = decode_int(*v, "index");
  if (!i.ok()) return i.error();
  if (i.value() < h.next_index().value()) {
    return error_at(*v, fmt::format("index {} is not after the previous entry's {}", i.value(),
                                    h.next_index().value() - 1));
  }
  return std::optional<OpIndex>(OpIndex(i.value()));
}

Result<bool> decode_group_event(const Node& m, History& h) {
  GroupEventData e;
  Result<std::optional<OpIndex>> index = decode_index(m, h);
  if (!index.ok()) return index.error();
  e.index = index.value();
  const Node* event = m.get("event");
  if (event == nullptr || !(event->is_name("commit") || event->is_name("generation"))) {
    return error_at(m, "a group entry needs \"event\": \"commit\" or \"generation\"");
  }
  e.kind = event->is_name("commit") ? GroupEventKind::commit : GroupEventKind::generation;
  const Node* group = m.get("group");
  if (group == nullptr) return error_at(m, "a group entry needs \"group\"");
  e.group = name_text(*group);
  if (const Node* member = m.get("member")) e.member = name_text(*member);
  if (const Node* node = m.get("node")) e.node = name_text(*node);
  Result<int64_t> time = optional_int(m, "time", 0);
  Result<int64_t> generation = optional_int(m, "generation", 0);
  Result<int64_t> process = optional_int(m, "process", -1);
  for (const Result<int64_t>* r : {&time, &generation, &process}) {
    if (!r->ok()) return r->error();
  }
  e.time = sim::Instant::from_ns(time.value());
  e.generation = static_cast<int32_t>(generation.value());
  e.process = ProcessId(process.value());
  if (e.kind == GroupEventKind::commit) {
    const Node* key = m.get("key");
    const Node* offset = m.get("offset");
    const Node* accepted = m.get("accepted");
    if (key == nullptr || offset == nullptr || accepted == nullptr ||
        untag(*accepted).kind != Kind::boolean) {
      return error_at(m, "a group commit needs \"key\", \"offset\" and a boolean \"accepted\"");
    }
    Result<Key> k = decode_key(*key);
    if (!k.ok()) return k.error();
    Result<Offset> o = decode_offset(*offset);
    if (!o.ok()) return o.error();
    e.key = std::move(k).value();
    e.offset = o.value();
    e.accepted = untag(*accepted).boolean;
  }
  h.add(e);
  return true;
}

Result<bool> decode_fields(const Node& m, const History& h, OpData& op) {
  Result<std::optional<OpIndex>> index = decode_index(m, h);
  if (!index.ok()) return index.error();
  op.index = index.value();
  Result<int64_t> time = optional_int(m, "time", 0);
  if (!time.ok()) return time.error();
  op.time = sim::Instant::from_ns(time.value());
  const Node* f = m.get("f");
  if (f == nullptr || !untag(*f).is_name()) return error_at(m, "an operation needs :f");
  op.f = parse_fn(untag(*f).text);
  if (op.f == Fn::other) op.f_name = untag(*f).text;
  if (const Node* node = m.get("node")) op.node = name_text(*node);
  if (const Node* group = m.get("group")) op.group = name_text(*group);
  if (const Node* error = m.get("error")) op.error = name_text(*error);
  if (const Node* log = m.get("rebalance-log")) {
    Result<std::vector<Key>> keys = decode_rebalance_log(*log);
    if (!keys.ok()) return keys.error();
    op.rebalanced = std::move(keys).value();
  }
  return decode_value(m, op);
}

// One top-level entry: an op map, a group event, or a skipped non-client op.
Result<bool> decode_entry(const Node& raw, History& h) {
  const Node& m = untag(raw);
  if (m.kind != Kind::map) {
    return error_at(m, fmt::format("expected an operation map, found {}", m.describe()));
  }
  const Node* type = m.get("type");
  if (type == nullptr) return error_at(m, "an operation needs :type");
  if (untag(*type).is_name("group")) return decode_group_event(m, h);
  const Node* process = m.get("process");
  if (process == nullptr) return error_at(m, "an operation needs :process");
  if (untag(*process).kind != Kind::integer) {  // :nemesis and other non-client actors
    ++h.skipped_ops;
    return true;
  }
  OpData op;
  op.process = ProcessId(untag(*process).integer);
  const std::optional<OpType> t = untag(*type).is_name() ? parse_op_type(untag(*type).text)
                                                          : std::nullopt;
  if (!t) {
    return error_at(*type, fmt::format(":type must be invoke, ok, fail or info; found {}",
                                       untag(*type).describe()));
  }
  op.type = *t;
  Result<bool> fields = decode_fields(m, h, op);
  if (!fields.ok()) return fields.error();
  h.add(op);
  return true;
}

}  // namespace

std::string_view to_string(HistoryFormat f) { return f == HistoryFormat::jsonl ? "jsonl" : "edn"; }

std::optional<HistoryFormat> parse_history_format(std::string_view name) {
  if (name == "jsonl" || name == "json") return HistoryFormat::jsonl;
  if (name == "edn") return HistoryFormat::edn;
  return std::nullopt;
}

std::optional<HistoryFormat> detect_history_format(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '[' || c == '(')
      continue;
    if (c == ';' || c == '#') return HistoryFormat::edn;
    if (c != '{') return std::nullopt;
    for (size_t j = i + 1; j < text.size(); ++j) {
      const char d = text[j];
      if (d == ' ' || d == '\t' || d == '\n' || d == '\r') continue;
      if (d == '"') return HistoryFormat::jsonl;
      if (d == ':') return HistoryFormat::edn;
      return std::nullopt;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

Result<History> parse_history(std::string_view text, HistoryFormat format) {
  History h;
  edn::Reader reader(text, format == HistoryFormat::jsonl ? edn::Dialect::json : edn::Dialect::edn);
  while (true) {
    Result<std::optional<Node>> next = reader.next();
    if (!next.ok()) return next.error();
    if (!next.value()) break;
    const Node& top = untag(*next.value());
    // A whole history may be one vector of ops (jepsen.history's printed form, a JSON array).
    if (is_seq(top)) {
      for (const Node& entry : top.items) {
        Result<bool> r = decode_entry(entry, h);
        if (!r.ok()) return r.error();
      }
      continue;
    }
    Result<bool> r = decode_entry(top, h);
    if (!r.ok()) return r.error();
  }
  return h;
}

Result<History> parse_history(std::string_view text) {
  const std::optional<HistoryFormat> format = detect_history_format(text);
  if (!format) {
    return Error{1, 1, "cannot tell the history's format: expected JSON ({\"type\": ...}) or "
                       "EDN ({:type ...}) operation maps"};
  }
  return parse_history(text, *format);
}

}  // namespace seedlog::model
