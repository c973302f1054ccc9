// Writing histories as seedlog JSON Lines and as Jepsen's history.edn. Both share one emitter:
// the two formats have the same structure and differ only in how names, map keys and separators
// are spelled.

#include <fmt/format.h>

#include "model/history_io.hpp"

namespace seedlog::model {

namespace {

class Emitter {
 public:
  Emitter(std::string& out, bool json) : out_(out), json_(json) {}

  // A name in value position: :ok or "ok".
  void name(std::string_view n) {
    if (json_) {
      string(n);
    } else {
      out_ += ':';
      out_ += n;
    }
  }
  // Starts a map entry: ":type " or "\"type\":", with the separator before all but the first.
  void field(std::string_view n, bool first = false) {
    if (!first) out_ += json_ ? "," : ", ";
    name(n);
    out_ += json_ ? ":" : " ";
  }
  // Separator between elements of a vector.
  void next(bool first) {
    if (!first) out_ += json_ ? "," : " ";
  }
  void integer(int64_t v) { fmt::format_to(std::back_inserter(out_), "{}", v); }
  void string(std::string_view s) {
    out_ += '"';
    for (char c : s) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\t': out_ += "\\t"; break;
        case '\r': out_ += "\\r"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            fmt::format_to(std::back_inserter(out_), "\\u{:04x}", static_cast<int>(c));
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }
  // A key in value position: integer keys as integers, others as strings.
  void key(const Key& k) {
    if (const std::optional<int64_t> i = k.as_integer()) {
      integer(*i);
    } else {
      string(k.text());
    }
  }
  // A key as a map key: JSON object keys are always strings.
  void map_key(const Key& k) {
    if (json_) {
      string(k.text());
    } else {
      key(k);
    }
    out_ += json_ ? ":" : " ";
  }
  void raw(std::string_view s) { out_ += s; }
  bool json() const { return json_; }

 private:
  std::string& out_;
  bool json_;
};

void emit_records(Emitter& e, const History& h, const PollSlice& s) {
  e.raw("[");
  bool first = true;
  for (const Record& r : h.records(s)) {
    e.next(first);
    first = false;
    e.raw("[");
    e.integer(r.offset.value());
    e.next(false);
    e.integer(r.value.value());
    e.raw("]");
  }
  e.raw("]");
}

void emit_poll(Emitter& e, const History& h, const Op& op, const Mop& m) {
  e.name("poll");
  // An invocation asks [:poll]; a completion answers with the map, even an empty one.
  if (op.type == OpType::invoke) return;
  e.next(false);
  e.raw("{");
  bool first = true;
  for (const PollSlice& s : h.slices(m)) {
    if (!first) e.raw(e.json() ? "," : ", ");
    first = false;
    e.map_key(h.key(s.key));
    emit_records(e, h, s);
  }
  e.raw("}");
}

void emit_mop(Emitter& e, const History& h, const Op& op, const Mop& m) {
  e.raw("[");
  switch (m.kind) {
    case MopKind::send:
      e.name("send");
      e.next(false);
      e.key(h.key(m.key));
      e.next(false);
      if (m.has_offset) {
        e.raw("[");
        e.integer(m.offset.value());
        e.next(false);
        e.integer(m.value.value());
        e.raw("]");
      } else if (op.type == OpType::ok) {
        e.raw("[");  // acknowledged without a known offset: Jepsen's [nil v]
        e.raw(e.json() ? "null" : "nil");
        e.next(false);
        e.integer(m.value.value());
        e.raw("]");
      } else {
        e.integer(m.value.value());
      }
      break;
    case MopKind::poll:
      emit_poll(e, h, op, m);
      break;
    case MopKind::commit:
      e.name("commit");
      e.next(false);
      e.key(h.key(m.key));
      e.next(false);
      e.integer(m.offset.value());
      break;
  }
  e.raw("]");
}

void emit_keys(Emitter& e, const History& h, std::span<const KeyId> keys) {
  e.raw("[");
  bool first = true;
  for (KeyId k : keys) {
    e.next(first);
    first = false;
    e.key(h.key(k));
  }
  e.raw("]");
}

void emit_value(Emitter& e, const History& h, const Op& op) {
  e.field("value");
  if (op.f == Fn::assign || op.f == Fn::subscribe) {
    emit_keys(e, h, h.keys(op));
    return;
  }
  if (op.f == Fn::other) {
    e.raw(e.json() ? "null" : "nil");
    return;
  }
  e.raw("[");
  bool first = true;
  for (const Mop& m : h.mops(op)) {
    e.next(first);
    first = false;
    emit_mop(e, h, op, m);
  }
  e.raw("]");
}

void emit_op(Emitter& e, const History& h, const Op& op, OpIndex index) {
  e.raw("{");
  e.field("index", true);
  e.integer(index.value());
  e.field("type");
  e.name(to_string(op.type));
  e.field("f");
  e.name(op.f == Fn::other ? h.name(op.f_name) : to_string(op.f));
  e.field("process");
  e.integer(op.process.value());
  e.field("time");
  e.integer(op.time.ns());
  emit_value(e, h, op);
  for (const auto& [field, id] : {std::pair{"node", op.node}, std::pair{"group", op.group},
                                  std::pair{"error", op.error}}) {
    if (id.value() == 0) continue;
    e.field(field);
    e.string(h.name(id));
  }
  if (!h.rebalanced(op).empty()) {
    e.field("rebalance-log");
    e.raw("[{");
    e.field("keys", true);
    emit_keys(e, h, h.rebalanced(op));
    e.raw("}]");
  }
  e.raw("}\n");
}

void emit_group_event(Emitter& e, const History& h, const GroupEvent& g, OpIndex index) {
  e.raw("{");
  e.field("index", true);
  e.integer(index.value());
  e.field("type");
  e.name("group");
  e.field("event");
  e.name(to_string(g.kind));
  e.field("time");
  e.integer(g.time.ns());
  e.field("group");
  e.string(h.name(g.group));
  e.field("member");
  e.string(h.name(g.member));
  e.field("generation");
  e.integer(g.generation);
  if (g.kind == GroupEventKind::commit) {
    e.field("key");
    e.key(h.key(g.key));
    e.field("offset");
    e.integer(g.offset.value());
    e.field("accepted");
    e.raw(g.accepted ? "true" : "false");
  }
  e.field("process");
  e.integer(g.process.value());
  if (g.node.value() != 0) {
    e.field("node");
    e.string(h.name(g.node));
  }
  e.raw("}\n");
}

// Ops and group events merged in index order.
template <class OnOp, class OnGroup>
void in_index_order(const History& h, OnOp on_op, OnGroup on_group) {
  std::span<const Op> ops = h.ops();
  std::span<const GroupEvent> groups = h.group_events();
  size_t i = 0;
  size_t j = 0;
  while (i < ops.size() || j < groups.size()) {
    if (j == groups.size() || (i < ops.size() && ops[i].index < groups[j].index)) {
      on_op(ops[i++]);
    } else {
      on_group(groups[j++]);
    }
  }
}

}  // namespace

std::string to_jsonl(const History& h) {
  std::string out;
  Emitter e(out, true);
  in_index_order(
      h, [&](const Op& op) { emit_op(e, h, op, op.index); },
      [&](const GroupEvent& g) { emit_group_event(e, h, g, g.index); });
  return out;
}

std::string to_jepsen_edn(const History& h, const EdnExportOptions& options) {
  std::string out;
  Emitter e(out, false);
  int64_t next = 0;
  auto index_of = [&](OpIndex original) {
    return options.renumber ? OpIndex(next++) : original;
  };
  in_index_order(
      h, [&](const Op& op) { emit_op(e, h, op, index_of(op.index)); },
      [&](const GroupEvent& g) {
        if (options.include_group_events) emit_group_event(e, h, g, index_of(g.index));
      });
  return out;
}

}  // namespace seedlog::model
