// Consumer groups: a committed offset moves backwards only through its current members. A commit
// from a stale generation that the coordinator accepted, and that moved the committed offset
// backwards, makes the group re-deliver records (or worse, with a later forward commit, skip them)
// on the word of a member that no longer owns the partition.

#include <map>

#include <fmt/format.h>

#include "model/analysis.hpp"

namespace seedlog::model::detail {

namespace {

struct Committed {
  Offset offset;
  int32_t generation = 0;
  uint32_t event = kNone;  // position in History::group_events()
};

void add_event(Anomaly& an, const GroupEvent& e) {
  an.ops.push_back(e.index);
  an.processes.push_back(e.process);
  an.times.push_back(e.time);
}

}  // namespace

void check_groups(const Analysis& a, const CheckOptions&, std::vector<Anomaly>& out) {
  const std::span<const GroupEvent> events = a.h.group_events();
  std::map<uint32_t, int32_t> generation;  // group -> the newest generation known
  FlatMap<Committed> committed(64);        // (key, group) -> the committed offset
  for (uint32_t i = 0; i < events.size(); ++i) {
    const GroupEvent& e = events[i];
    const bool trusted = e.kind == GroupEventKind::generation || e.accepted;
    if (!trusted) continue;  // a refused commit proves no generation, and moves no offset
    int32_t& newest = generation.try_emplace(e.group.value(), e.generation).first->second;
    const bool stale = e.generation < newest;
    if (!stale) newest = e.generation;
    if (e.kind != GroupEventKind::commit) continue;
    const Committed now{e.offset, e.generation, i};
    auto [before, fresh] = committed.try_emplace(e.key.value(), e.group.value(), now);
    if (!fresh && stale && e.offset < before.offset) {
      const GroupEvent& prev = events[before.event];
      Anomaly an = make_anomaly(AnomalyKind::committed_offset_regression, a.h, e.key);
      an.group = std::string(a.h.name(e.group));
      an.offsets = {before.offset, e.offset};
      add_event(an, prev);
      add_event(an, e);
      an.explanation = fmt::format(
          "group {} accepted a commit of offset {} for partition {} from member {} of stale "
          "generation {} (current {}), moving the committed offset back from {} (entry {})",
          an.group, e.offset, an.partition, a.h.name(e.member), e.generation, newest,
          before.offset, prev.index);
      out.push_back(std::move(an));
    }
    before = now;
  }
}

}  // namespace seedlog::model::detail
