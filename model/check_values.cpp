// What the log holds: one value per offset (inconsistent-offsets), one offset per value
// (duplicate), and only values that were written and not definitely aborted (aborted-read,
// unwritten-read).

#include <algorithm>

#include <fmt/format.h>

#include "model/analysis.hpp"

namespace seedlog::model::detail {

namespace {

bool conflict_less(const Conflict& x, const Conflict& y) {
  return std::tie(x.key, x.at, x.other, x.pos) < std::tie(y.key, y.at, y.other, y.pos);
}

// Calls fn(first, last) for each run of conflicts about the same (key, at), sorted.
template <class Fn>
void for_each_conflict_group(std::vector<Conflict> conflicts, Fn fn) {
  std::sort(conflicts.begin(), conflicts.end(), conflict_less);
  for (size_t i = 0; i < conflicts.size();) {
    size_t j = i;
    while (j < conflicts.size() && conflicts[j].key == conflicts[i].key &&
           conflicts[j].at == conflicts[i].at) {
      ++j;
    }
    fn(std::span<const Conflict>(conflicts).subspan(i, j - i));
    i = j;
  }
}

// "1, 5, 9" for offsets or values.
template <class T>
std::string list(const std::vector<T>& items) {
  std::string s;
  for (const T& x : items) s += (s.empty() ? "" : ", ") + std::to_string(x.value());
  return s;
}

void report_inconsistent_offsets(const Analysis& a, std::vector<Anomaly>& out) {
  for_each_conflict_group(a.offset_conflicts, [&](std::span<const Conflict> group) {
    const Conflict& c0 = group.front();
    const OffsetEntry* first = a.at_offset.find(c0.key.value(), c0.at);
    SL_ASSERT(first != nullptr);
    Anomaly an = make_anomaly(AnomalyKind::inconsistent_offsets, a.h, c0.key);
    an.offsets = {Offset(c0.at)};
    an.values = {first->value};
    add_op(an, a.h, first->pos);
    for (size_t i = 0; i < group.size(); ++i) {
      if (i > 0 && group[i].other == group[i - 1].other) continue;  // one entry per value
      an.values.push_back(Value(group[i].other));
      add_op(an, a.h, group[i].pos);
    }
    an.explanation = fmt::format("offset {} of partition {} was observed with different values: {}",
                                 c0.at, an.partition, list(an.values));
    out.push_back(std::move(an));
  });
}

void report_duplicates(const Analysis& a, std::vector<Anomaly>& out) {
  for_each_conflict_group(a.value_conflicts, [&](std::span<const Conflict> group) {
    const Conflict& c0 = group.front();
    const ValueEntry* first = a.by_value.find(c0.key.value(), c0.at);
    SL_ASSERT(first != nullptr);
    Anomaly an = make_anomaly(AnomalyKind::duplicate, a.h, c0.key);
    an.values = {Value(c0.at)};
    an.offsets = {first->offset};
    add_op(an, a.h, first->pos);
    for (size_t i = 0; i < group.size(); ++i) {
      if (i > 0 && group[i].other == group[i - 1].other) continue;
      an.offsets.push_back(Offset(group[i].other));
      add_op(an, a.h, group[i].pos);
    }
    an.explanation = fmt::format("value {} appears at {} offsets of partition {}: {}", c0.at,
                                 an.offsets.size(), an.partition, list(an.offsets));
    out.push_back(std::move(an));
  });
}

// aborted-read and unwritten-read: one anomaly per (partition, value), listing its readers.
void report_bad_reads(const Analysis& a, const CheckOptions& o, std::vector<Anomaly>& out) {
  std::vector<Anomaly> found;
  FlatMap<uint32_t> by_value(64);  // (key, value) -> index into found
  for_each_read(a.h, [&](uint32_t pos, const Op&, KeyId k, const Record& r, uint32_t record) {
    const uint32_t id = a.read_write[record];
    const Write* w = id == kNone ? nullptr : &a.writes[id];
    if (w != nullptr && w->outcome != Outcome::fail) return;
    auto [index, fresh] = by_value.try_emplace(k.value(), r.value.value(),
                                               static_cast<uint32_t>(found.size()));
    if (fresh) {
      const AnomalyKind kind =
          w == nullptr ? AnomalyKind::unwritten_read : AnomalyKind::aborted_read;
      Anomaly an = make_anomaly(kind, a.h, k);
      an.offsets = {r.offset};
      an.values = {r.value};
      an.count = 0;
      if (w != nullptr) add_op(an, a.h, w->complete_pos);  // the failed send comes first
      found.push_back(std::move(an));
    }
    Anomaly& an = found[index];
    ++an.count;  // readers
    if (an.ops.size() < o.max_listed) add_op(an, a.h, pos);
  });
  for (Anomaly& an : found) {
    if (an.kind == AnomalyKind::aborted_read) {
      an.explanation = fmt::format(
          "value {} at offset {} of partition {} was read {} time(s), but its send failed (op {})",
          an.values[0], an.offsets[0], an.partition, an.count, an.ops[0]);
    } else {
      an.explanation = fmt::format(
          "value {} at offset {} of partition {} was read {} time(s), but no send wrote it there",
          an.values[0], an.offsets[0], an.partition, an.count);
    }
    out.push_back(std::move(an));
  }
}

}  // namespace

void check_values(const Analysis& a, const CheckOptions& o, std::vector<Anomaly>& out) {
  report_inconsistent_offsets(a, out);
  report_duplicates(a, out);
  report_bad_reads(a, o, out);
}

}  // namespace seedlog::model::detail
