// Acknowledged records that readers should have seen: lost-write (read past, never read), unseen
// (never read, never read past), durability (a consumer group read past a record others read).

#include <map>

#include <fmt/format.h>

#include "model/analysis.hpp"

namespace seedlog::model::detail {

namespace {

bool lost(const Analysis& a, const Write& w) {
  return w.outcome == Outcome::ok && !w.read && w.has_offset &&
         w.offset.value() <= a.max_read[w.key.value()];
}

void report_lost_writes(const Analysis& a, std::vector<Anomaly>& out) {
  for (const Write& w : a.writes) {
    if (!lost(a, w)) continue;
    const uint32_t k = w.key.value();
    Anomaly an = make_anomaly(AnomalyKind::lost_write, a.h, w.key);
    an.offsets = {w.offset, Offset(a.max_read[k])};
    an.values = {w.value, a.at_offset.find(k, a.max_read[k])->value};
    add_op(an, a.h, w.complete_pos);
    add_op(an, a.h, a.max_read_pos[k]);
    an.explanation = fmt::format(
        "value {} was acknowledged at offset {} of partition {} (op {}) and never read, though "
        "process {} read up to offset {} (op {})",
        w.value, w.offset, an.partition, an.ops[0], an.processes[1], a.max_read[k], an.ops[1]);
    out.push_back(std::move(an));
  }
}

// One anomaly per partition: what the final reads never reached.
void report_unseen(const Analysis& a, const CheckOptions& o, std::vector<Anomaly>& out) {
  std::vector<uint32_t> slot(a.h.key_count(), kNone);
  std::vector<Anomaly> found;
  for (const Write& w : a.writes) {
    if (w.outcome != Outcome::ok || w.read || lost(a, w)) continue;
    uint32_t& s = slot[w.key.value()];
    if (s == kNone) {
      s = static_cast<uint32_t>(found.size());
      found.push_back(make_anomaly(AnomalyKind::unseen, a.h, w.key));
      found.back().count = 0;
    }
    Anomaly& an = found[s];
    ++an.count;
    if (an.values.size() >= o.max_listed) continue;
    an.values.push_back(w.value);
    if (w.has_offset) an.offsets.push_back(w.offset);
    add_op(an, a.h, w.complete_pos);
  }
  for (Anomaly& an : found) {
    an.explanation = fmt::format(
        "{} acknowledged value(s) of partition {} were never read and no read reached them "
        "(first: value {})",
        an.count, an.partition, an.values.front());
    out.push_back(std::move(an));
  }
}

// What one consumer group read: which writes, and how far into each partition.
struct GroupReads {
  std::vector<bool> read;          // per write
  std::vector<int64_t> max;        // per key
  std::vector<uint32_t> max_pos;   // per key
};

std::map<uint32_t, GroupReads> reads_by_group(const Analysis& a) {
  std::map<uint32_t, GroupReads> groups;  // by group NameId: ordered, so reports are too
  for_each_read(a.h, [&](uint32_t pos, const Op& op, KeyId k, const Record& r, uint32_t index) {
    if (op.group.value() == 0) return;
    auto [it, fresh] = groups.try_emplace(op.group.value());
    GroupReads& g = it->second;
    if (fresh) {
      g.read.assign(a.writes.size(), false);
      g.max.assign(a.h.key_count(), -1);
      g.max_pos.assign(a.h.key_count(), kNone);
    }
    if (const uint32_t id = a.read_write[index]; id != kNone) g.read[id] = true;
    if (r.offset.value() > g.max[k.value()]) {
      g.max[k.value()] = r.offset.value();
      g.max_pos[k.value()] = pos;
    }
  });
  return groups;
}

void report_durability(const Analysis& a, std::vector<Anomaly>& out) {
  const std::map<uint32_t, GroupReads> groups = reads_by_group(a);
  for (const auto& [group, g] : groups) {
    for (uint32_t id = 0; id < a.writes.size(); ++id) {
      const Write& w = a.writes[id];
      if (!w.read || g.read[id]) continue;  // never read is lost-write's or unseen's business
      const ValueEntry* at = a.by_value.find(w.key.value(), w.value.value());
      SL_ASSERT(at != nullptr);
      const uint32_t k = w.key.value();
      if (g.max[k] <= at->offset.value()) continue;
      Anomaly an = make_anomaly(AnomalyKind::durability, a.h, w.key);
      an.group = std::string(a.h.name(NameId(group)));
      an.offsets = {at->offset, Offset(g.max[k])};
      an.values = {w.value};
      add_op(an, a.h, at->pos);
      add_op(an, a.h, g.max_pos[k]);
      an.explanation = fmt::format(
          "group {} read partition {} up to offset {} (op {}) but never received value {} at "
          "offset {}, which op {} observed",
          an.group, an.partition, g.max[k], an.ops[1], w.value, at->offset, an.ops[0]);
      out.push_back(std::move(an));
    }
  }
}

}  // namespace

void check_losses(const Analysis& a, const CheckOptions& o, std::vector<Anomaly>& out) {
  report_lost_writes(a, out);
  report_unseen(a, o, out);
  report_durability(a, out);
}

}  // namespace seedlog::model::detail
