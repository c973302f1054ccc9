#include "model/online/metadata_invariants.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace seedlog::model::online {

std::vector<int32_t> parse_ids(std::string_view text) {
  std::vector<int32_t> out;
  size_t at = 0;
  while (at < text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    int32_t v = 0;
    auto [p, ec] = std::from_chars(text.data() + at, text.data() + comma, v);
    if (ec == std::errc()) out.push_back(v);
    at = comma + 1;
  }
  return out;
}

void MetadataInvariants::report(const sim::TraceEvent& e, std::string invariant, std::string detail) {
  if (!reported_.insert(invariant + "|" + detail).second) return;
  violations_.push_back(Violation{std::move(invariant), std::move(detail), e.time, std::string(e.node_name)});
}

void MetadataInvariants::observe(const sim::TraceEvent& e) {
  if (e.kind.substr(0, 9) != "metadata.") return;
  NodeView& view = nodes_[e.node.value()];
  // A node that restarts replays its log from the start (or from a snapshot): its view starts over.
  const int64_t offset = e.kind == "metadata.applied" || e.kind == "metadata.restored" ? e.get_i64("last_offset")
                                                                                       : e.get_i64("offset");
  if (e.kind == "metadata.restored") {
    view = NodeView{};
    view.restoring = true;  // the snapshot's state follows, every event at the snapshot's offset
  } else if (e.kind != "metadata.applied" && offset <= view.last_offset && !view.restoring) {
    view = NodeView{};
  }
  if (e.kind == "metadata.applied") view.restoring = false;
  if (e.kind != "metadata.restored") view.last_offset = std::max(view.last_offset, offset);
  if (e.kind == "metadata.partition") {
    on_partition(e, view);
  } else if (e.kind == "metadata.broker") {
    const int32_t b = static_cast<int32_t>(e.get_i64("broker"));
    if (e.get_u64("registered") != 0) view.fenced[b] = e.get_u64("fenced") != 0;
    else view.fenced.erase(b);
  } else if (e.kind == "metadata.applied") {
    check_batch(e, view);
  }
}

void MetadataInvariants::on_partition(const sim::TraceEvent& e, NodeView& view) {
  const std::string topic(e.get_str("topic"));
  const int32_t partition = static_cast<int32_t>(e.get_i64("partition"));
  Partition next;
  next.leader = static_cast<int32_t>(e.get_i64("leader"));
  next.leader_epoch = static_cast<int32_t>(e.get_i64("leader_epoch"));
  next.partition_epoch = static_cast<int32_t>(e.get_i64("partition_epoch"));
  next.isr = parse_ids(e.get_str("isr"));
  next.unclean = e.get_u64("unclean") != 0;
  Partition& p = view.partitions[{topic, partition}];
  const std::string where = fmt::format("{}/{} at metadata offset {}", topic, partition, e.get_i64("offset"));
  if (next.leader_epoch < p.leader_epoch || next.partition_epoch < p.partition_epoch) {
    report(e, "epochs-monotonic", fmt::format("{}: leader epoch {} -> {}, partition epoch {} -> {}", where, p.leader_epoch,
                                              next.leader_epoch, p.partition_epoch, next.partition_epoch));
  }
  if (next.leader >= 0) {
    auto [it, fresh] = leader_of_epoch_.try_emplace({topic, partition, next.leader_epoch}, next.leader);
    if (!fresh && it->second != next.leader) {
      report(e, "one-leader-per-epoch", fmt::format("{}: leader epoch {} has leaders {} and {}", where, next.leader_epoch,
                                                    it->second, next.leader));
    }
  }
  p = std::move(next);
}

void MetadataInvariants::check_batch(const sim::TraceEvent& e, const NodeView& view) {
  ++batches_;
  const int64_t offset = e.get_i64("last_offset");
  for (const auto& [key, p] : view.partitions) {
    const std::string where = fmt::format("{}/{} after metadata offset {}", key.first, key.second, offset);
    if (p.leader < 0) continue;
    if (std::find(p.isr.begin(), p.isr.end(), p.leader) == p.isr.end()) {
      report(e, "leader-in-isr", fmt::format("{}: leader {} not in ISR", where, p.leader));
    }
    auto b = view.fenced.find(p.leader);
    if (b == view.fenced.end() || b->second) {
      report(e, "leader-unfenced", fmt::format("{}: leader {} is {}", where, p.leader,
                                               b == view.fenced.end() ? "not registered" : "fenced"));
    }
    if (p.isr.size() > 1) {
      for (int32_t member : p.isr) {
        auto m = view.fenced.find(member);
        if (m != view.fenced.end() && m->second) {
          report(e, "fenced-not-in-isr", fmt::format("{}: fenced broker {} in ISR of {} members", where, member, p.isr.size()));
        }
      }
    }
  }
}

}  // namespace seedlog::model::online
