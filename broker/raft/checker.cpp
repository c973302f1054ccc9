#include "broker/raft/checker.hpp"

#include <fmt/format.h>

#include "broker/raft/events.hpp"
#include "sim/assert.hpp"

namespace seedlog::broker::raft {

namespace {

constexpr size_t kMaxViolations = 64;  // enough to read; a broken run must not eat memory

int32_t as_epoch(int64_t v) { return static_cast<int32_t>(v); }

}  // namespace

std::string Violation::to_string() const {
  return fmt::format("{} on {} at {} (event {}): {}", invariant, node_name, sim::to_string(time), event_index, detail);
}

void RaftChecker::attach(sim::Trace& trace) {
  trace.subscribe([this](const sim::TraceEvent& e) { observe(e); });
}

std::string RaftChecker::report() const {
  std::string out;
  for (const Violation& v : violations_) out += v.to_string() + "\n";
  return out;
}

int64_t RaftChecker::committed_end() const { return committed_.empty() ? 0 : committed_.rbegin()->second.batch.last + 1; }

std::optional<uint64_t> RaftChecker::leader_of(int32_t epoch) const {
  auto it = leaders_.find(epoch);
  if (it == leaders_.end()) return std::nullopt;
  return it->second;
}

std::string RaftChecker::describe(int64_t base, const Batch& b) {
  return fmt::format("[{}..{}] epoch {} crc {:08x}", base, b.last, b.epoch, b.crc);
}

void RaftChecker::violation(const sim::TraceEvent& e, std::string invariant, std::string detail) {
  if (violations_.size() >= kMaxViolations) return;
  violations_.push_back(Violation{std::move(invariant), std::move(detail), e.node, std::string(e.node_name), e.time, e.index});
}

void RaftChecker::observe(const sim::TraceEvent& e) {
  if (!e.kind.starts_with("raft.")) return;
  ++events_;
  NodeState& n = nodes_[e.node.value()];
  if (e.kind == events::kRecovered) on_recovered(e, n);
  else if (e.kind == events::kRole) on_role(e, n);
  else if (e.kind == events::kVote) on_vote(e, n);
  else if (e.kind == events::kAppend) on_append(e, n);
  else if (e.kind == events::kTruncate) on_truncate(e, n);
  else if (e.kind == events::kSnapshot) on_snapshot(e, n);
  else if (e.kind == events::kCommit) on_commit(e, n);
}

void RaftChecker::check_epoch(const sim::TraceEvent& e, NodeState& n, int64_t epoch) {
  if (epoch < n.max_epoch) {
    violation(e, "epoch-monotonic", fmt::format("epoch {} after {}", epoch, n.max_epoch));
    return;
  }
  n.max_epoch = as_epoch(epoch);
  n.epoch = as_epoch(epoch);
}

// A restart: the node's log is a prefix of what it wrote, from its (possibly raised) log start.
void RaftChecker::on_recovered(const sim::TraceEvent& e, NodeState& n) {
  const int64_t start = e.get_i64("log_start");
  const int64_t end = e.get_i64("log_end");
  SL_ASSERT(start <= end);
  n.log.erase(n.log.lower_bound(end), n.log.end());
  n.log.erase(n.log.begin(), n.log.lower_bound(start));
  n.log_start = start;
  n.checked_upto = std::min(n.checked_upto, end);
  n.role = "recovered";
  check_epoch(e, n, e.get_i64("epoch"));
}

void RaftChecker::on_role(const sim::TraceEvent& e, NodeState& n) {
  const int64_t epoch = e.get_i64("epoch");
  check_epoch(e, n, epoch);
  n.role = std::string(e.get_str("role"));
  if (n.role != "leader") return;
  const auto [it, inserted] = leaders_.emplace(as_epoch(epoch), e.node.value());
  if (!inserted && it->second != e.node.value()) {
    violation(e, "election-safety", fmt::format("second leader of epoch {} (the first was node {})", epoch, it->second));
  }
  check_leader_completeness(e, n, as_epoch(epoch));
}

void RaftChecker::check_leader_completeness(const sim::TraceEvent& e, const NodeState& n, int32_t epoch) {
  for (const auto& [base, c] : committed_) {
    if (c.commit_epoch >= epoch || base < n.log_start) continue;
    auto it = n.log.find(base);
    if (it == n.log.end()) {
      violation(e, "leader-completeness",
                fmt::format("leader of epoch {} lacks committed batch {} (committed in epoch {})", epoch,
                            describe(base, c.batch), c.commit_epoch));
      return;
    }
    if (!(it->second == c.batch)) {
      violation(e, "leader-completeness",
                fmt::format("leader of epoch {} holds {} where {} is committed", epoch, describe(base, it->second),
                            describe(base, c.batch)));
      return;
    }
  }
}

void RaftChecker::on_vote(const sim::TraceEvent& e, NodeState& n) {
  const sim::TraceValue* pre = e.find("pre_vote");
  if (!e.find("granted") || e.find("granted")->u == 0 || (pre && pre->u != 0)) return;
  const int32_t epoch = as_epoch(e.get_i64("epoch"));
  const int32_t candidate = as_epoch(e.get_i64("candidate"));
  const auto [it, inserted] = n.votes.emplace(epoch, candidate);
  if (!inserted && it->second != candidate) {
    violation(e, "vote-once", fmt::format("voted for {} in epoch {} after voting for {}", candidate, epoch, it->second));
  }
}

void RaftChecker::on_append(const sim::TraceEvent& e, NodeState& n) {
  const int64_t base = e.get_i64("offset");
  const Batch b{e.get_i64("last_offset"), as_epoch(e.get_i64("epoch")), e.get_u64("crc")};
  SL_ASSERT(b.last >= base);
  // Appends continue the log: anything the checker still has at or past `base` is gone.
  n.log.erase(n.log.lower_bound(base), n.log.end());
  n.log[base] = b;
  n.checked_upto = std::min(n.checked_upto, base);
}

void RaftChecker::on_truncate(const sim::TraceEvent& e, NodeState& n) {
  const int64_t from = e.get_i64("from");
  for (auto it = n.log.lower_bound(from); it != n.log.end(); ++it) {
    auto c = committed_.find(it->first);
    if (c != committed_.end() && c->second.batch == it->second) {
      violation(e, "committed-entry-truncated",
                fmt::format("cut committed batch {} (truncation to {})", describe(it->first, it->second), from));
      break;
    }
  }
  n.log.erase(n.log.lower_bound(from), n.log.end());
  n.checked_upto = std::min(n.checked_upto, from);
}

void RaftChecker::on_snapshot(const sim::TraceEvent& e, NodeState& n) {
  const int64_t end = e.get_i64("end_offset");
  if (e.get_str("source") == events::kSnapshotFromLeader) {
    n.log.clear();  // the whole log was replaced by the leader's snapshot
    n.checked_upto = end;
  } else {
    n.log.erase(n.log.begin(), n.log.lower_bound(end));
  }
  n.log_start = end;
}

void RaftChecker::on_commit(const sim::TraceEvent& e, NodeState& n) {
  const int64_t hw = e.get_i64("high_watermark");
  const int32_t epoch = as_epoch(e.get_i64("epoch"));
  if (n.role == "leader" && n.epoch == epoch) {
    auto [it, inserted] = n.leader_hw.emplace(epoch, hw);
    if (!inserted && hw < it->second) {
      violation(e, "hw-monotonic", fmt::format("leader's high watermark {} after {} in epoch {}", hw, it->second, epoch));
    }
    it->second = std::max(it->second, hw);
  }
  for (auto it = n.log.lower_bound(n.checked_upto); it != n.log.end() && it->second.last < hw; ++it) {
    commit_batch(e, it->first, it->second, epoch);
    n.checked_upto = it->second.last + 1;
  }
}

// The batch at `base` is committed on this node: it must agree with what any node committed there
// (and must not straddle a committed batch's boundaries).
void RaftChecker::commit_batch(const sim::TraceEvent& e, int64_t base, const Batch& b, int32_t epoch) {
  auto found = committed_.find(base);
  if (found != committed_.end()) {
    if (!(found->second.batch == b)) {
      violation(e, "committed-entry-changed",
                fmt::format("committed {} where {} was committed", describe(base, b), describe(base, found->second.batch)));
    }
    found->second.commit_epoch = std::min(found->second.commit_epoch, epoch);
    return;
  }
  auto next = committed_.lower_bound(base);
  const bool overlaps_next = next != committed_.end() && next->first <= b.last;
  const bool overlaps_prev = next != committed_.begin() && std::prev(next)->second.batch.last >= base;
  if (overlaps_next || overlaps_prev) {
    const auto& other = overlaps_next ? *next : *std::prev(next);
    violation(e, "committed-entry-changed",
              fmt::format("committed {} overlaps committed {}", describe(base, b), describe(other.first, other.second.batch)));
    return;
  }
  committed_.emplace(base, Committed{b, epoch});
}

}  // namespace seedlog::broker::raft
