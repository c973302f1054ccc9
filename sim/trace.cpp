#include "sim/trace.hpp"

#include <cstring>
#include <ostream>

#include <xxhash.h>

namespace seedlog::sim {

const TraceValue* TraceEvent::find(std::string_view key) const {
  for (const TraceField& f : fields) {
    if (f.key == key) return &f.value;
  }
  return nullptr;
}

int64_t TraceEvent::get_i64(std::string_view key, int64_t fallback) const {
  const TraceValue* v = find(key);
  if (v == nullptr) return fallback;
  return v->type == TraceValue::Type::i64 ? v->i : static_cast<int64_t>(v->u);
}

uint64_t TraceEvent::get_u64(std::string_view key, uint64_t fallback) const {
  const TraceValue* v = find(key);
  if (v == nullptr) return fallback;
  return v->type == TraceValue::Type::i64 ? static_cast<uint64_t>(v->i) : v->u;
}

std::string_view TraceEvent::get_str(std::string_view key) const {
  const TraceValue* v = find(key);
  return (v != nullptr && v->type == TraceValue::Type::str) ? v->s : std::string_view();
}

static void append_value(std::string& out, const TraceValue& v, bool json) {
  switch (v.type) {
    case TraceValue::Type::i64: out += std::to_string(v.i); break;
    case TraceValue::Type::u64: out += std::to_string(v.u); break;
    case TraceValue::Type::boolean: out += v.u ? "true" : "false"; break;
    case TraceValue::Type::str:
      if (json) append_json_string(out, v.s);
      else out += v.s;
      break;
  }
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (u < 0x20) out += fmt::format("\\u{:04x}", u);
    else out += c;
  }
  out += '"';
}

std::string format_text(const TraceEvent& e) {
  std::string out = fmt::format("{:>14} {:<4} {:<16} {}", to_string(e.time), e.node_name,
                                e.task_name, e.kind);
  for (const TraceField& f : e.fields) {
    out += ' ';
    out += f.key;
    out += '=';
    append_value(out, f.value, false);
  }
  return out;
}

std::string format_json(const TraceEvent& e) {
  std::string out = fmt::format("{{\"i\":{},\"t_ns\":{},\"node\":", e.index, e.time.ns());
  append_json_string(out, e.node_name);
  out += ",\"task\":";
  append_json_string(out, e.task_name);
  out += ",\"kind\":";
  append_json_string(out, e.kind);
  out += ",\"f\":{";
  bool first = true;
  for (const TraceField& f : e.fields) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, f.key);
    out += ':';
    append_value(out, f.value, true);
  }
  out += "}}";
  return out;
}

void TextSink::write(const TraceEvent& e) { out_ << format_text(e) << '\n'; }
void JsonLinesSink::write(const TraceEvent& e) { out_ << format_json(e) << '\n'; }

Trace::Trace() : hash_(0x5eed1065eed1065eULL) {}

void Trace::emit(Instant time, NodeId node, std::string_view node_name,
                 std::string_view task_name, std::string_view kind,
                 std::initializer_list<TraceField> fields) {
  emit(time, node, node_name, task_name, kind,
       std::span<const TraceField>(fields.begin(), fields.size()));
}

void Trace::emit(Instant time, NodeId node, std::string_view node_name,
                 std::string_view task_name, std::string_view kind,
                 std::span<const TraceField> fields) {
  // The hash covers what the event says, not how it is printed. The bytes are laid out once in
  // a buffer sized up front (string appends one piece at a time were 3% of a heavy run).
  size_t size = sizeof time + sizeof(uint32_t) + task_name.size() + 1 + kind.size();
  for (const TraceField& f : fields) {
    size += 1 + f.key.size() + 1 + (f.value.type == TraceValue::Type::str ? f.value.s.size() : sizeof(uint64_t));
  }
  scratch_.resize(size);
  char* out = scratch_.data();
  auto put = [&out](const void* data, size_t n) {
    if (n != 0) std::memcpy(out, data, n);
    out += n;
  };
  put(&time, sizeof time);
  const uint32_t node_raw = node.value();
  put(&node_raw, sizeof node_raw);
  put(task_name.data(), task_name.size());
  *out++ = '\0';
  put(kind.data(), kind.size());
  for (const TraceField& f : fields) {
    *out++ = '\0';
    put(f.key.data(), f.key.size());
    *out++ = static_cast<char>(f.value.type);
    if (f.value.type == TraceValue::Type::str) {
      put(f.value.s.data(), f.value.s.size());
    } else {
      const uint64_t raw = f.value.type == TraceValue::Type::i64 ? static_cast<uint64_t>(f.value.i) : f.value.u;
      put(&raw, sizeof raw);
    }
  }
  SL_ASSERT(out == scratch_.data() + scratch_.size());
  hash_ = mix64(hash_ ^ XXH3_64bits(scratch_.data(), scratch_.size()));
  const uint64_t index = records_;
  after_record();
  if (!has_listeners() && !describing()) return;
  TraceEvent e{index, time, node, node_name, task_name, kind, fields};
  deliver(e);
}

void Trace::deliver(const TraceEvent& e) {
  for (TraceSink* s : sinks_) s->write(e);
  for (auto& o : observers_) o(e);
  if (describing() && e.index <= describe_until_) {
    described_.emplace_back(e.index, format_text(e));
    if (described_.size() > describe_window_) described_.pop_front();
    if (e.index == describe_until_ && on_described_) on_described_();
  }
}

void Trace::describe_dispatch(std::string text) {
  const uint64_t index = records_ - 1;
  if (index > describe_until_) return;
  described_.emplace_back(index, std::move(text));
  if (described_.size() > describe_window_) described_.pop_front();
  if (index == describe_until_ && on_described_) on_described_();
}

void Trace::add_sink(TraceSink* sink) { sinks_.push_back(sink); }
void Trace::subscribe(Observer observer) { observers_.push_back(std::move(observer)); }

void Trace::record_hashes(std::vector<uint64_t>* out) {
  record_ = out;
  if (record_) record_->push_back(hash_);
}

void Trace::compare_hashes(const std::vector<uint64_t>* expected,
                           std::function<void()> on_divergence) {
  expected_ = expected;
  on_divergence_ = std::move(on_divergence);
  divergence_.reset();
  compare_base_ = records_;
  if (expected_ && (expected_->empty() || expected_->front() != hash_)) {
    divergence_ = records_;  // the runs differ before the first recorded record
    if (on_divergence_) on_divergence_();
  }
}

void Trace::check_expected() {
  if (divergence_) return;
  // Called before records_ is incremented: this is record number records_, stored at offset
  // records_ - compare_base_ + 1 (offset 0 holds the hash at attach time).
  const uint64_t offset = records_ - compare_base_ + 1;
  if (offset >= expected_->size() || (*expected_)[offset] != hash_) {
    divergence_ = records_;
    if (on_divergence_) on_divergence_();
  }
}

void Trace::describe_until(uint64_t until, size_t window, std::function<void()> on_done) {
  describe_until_ = until;
  describe_window_ = window;
  on_described_ = std::move(on_done);
}

}  // namespace seedlog::sim
