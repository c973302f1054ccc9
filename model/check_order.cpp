// Order: each consumer process reads each partition in log order without skipping records that
// exist (poll-skip, nonmonotonic-poll and their within-one-poll forms), each producer's
// acknowledged offsets rise (nonmonotonic-send), and the log follows real time across producers
// (partition-order).

#include <array>

#include <fmt/format.h>

#include "model/analysis.hpp"

namespace seedlog::model::detail {

namespace {

// Dense numbers for process ids (Jepsen's grow without bound as crashed clients are replaced).
class Processes {
 public:
  uint32_t dense(ProcessId p) {
    return map_.try_emplace(0, p.value(), static_cast<uint32_t>(map_.size())).first;
  }

 private:
  FlatMap<uint32_t> map_{64};
};

bool contains(std::span<const KeyId> keys, KeyId k) {
  for (KeyId x : keys) {
    if (x == k) return true;
  }
  return false;
}

struct ReadPoint {
  KeyId key;
  Offset offset;
  Value value;
  uint32_t rank = 0;
  uint32_t pos = kNone;
  uint32_t mop = 0;  // which micro-op of its operation
};

// Walks each process's polls in history order and compares every read with the one before it.
class PollOrder {
 public:
  PollOrder(const Analysis& a, const CheckOptions& o, std::vector<Anomaly>& out)
      : a_(a), o_(o), out_(out), last_(1024) {}

  void run() {
    const std::span<const Op> ops = a_.h.ops();
    for (uint32_t pos = 0; pos < ops.size(); ++pos) {
      const Op& op = ops[pos];
      if (op.type == OpType::invoke) continue;
      const uint32_t p = processes_.dense(op.process);
      if (p >= touched_.size()) touched_.resize(p + 1);
      if ((op.f == Fn::assign || op.f == Fn::subscribe) && op.type != OpType::fail) {
        keep_only(p, a_.h.keys(op));
      }
      for (KeyId k : a_.h.rebalanced(op)) forget(p, k);
      if (op.f == Fn::poll || op.f == Fn::txn) on_poll(pos, op, p);
    }
  }

 private:
  // Jepsen's rule: assign/subscribe keeps the positions of the partitions still assigned.
  void keep_only(uint32_t p, std::span<const KeyId> keys) {
    std::vector<KeyId> kept;
    for (KeyId k : touched_[p]) {
      if (contains(keys, k)) {
        kept.push_back(k);
      } else {
        last_.find(k.value(), p)->pos = kNone;
      }
    }
    touched_[p] = std::move(kept);
  }

  void forget(uint32_t p, KeyId k) {
    ReadPoint* r = last_.find(k.value(), p);
    if (r == nullptr || r->pos == kNone) return;
    r->pos = kNone;
    std::erase(touched_[p], k);
  }

  void on_poll(uint32_t pos, const Op& op, uint32_t p) {
    std::vector<ReadPoint> in_op;  // the last read of each key within this op
    const std::span<const KeyId> rebalanced = a_.h.rebalanced(op);
    const std::span<const Mop> mops = a_.h.mops(op);
    for (uint32_t mi = 0; mi < mops.size(); ++mi) {
      for (const PollSlice& s : a_.h.slices(mops[mi])) {
        const bool moved = contains(rebalanced, s.key);
        for (const Record& r : a_.h.records(s)) {
          const ReadPoint now{s.key, r.offset, r.value, a_.rank(s.key, r.offset), pos, mi};
          ReadPoint* prev = find(in_op, s.key);
          if (prev != nullptr) {
            // One poll's records of a partition are contiguous no matter what; between two polls
            // of one transaction, a rebalance may have moved the position (Jepsen's rule).
            if (prev->mop == mi || !moved) compare(*prev, now, true);
            *prev = now;
          } else {
            const ReadPoint* before = last_.find(s.key.value(), p);
            if (before != nullptr && before->pos != kNone) compare(*before, now, false);
            in_op.push_back(now);
          }
        }
      }
    }
    // Jepsen's rule: a failed or unknown poll leaves the consumer's position where it was.
    if (op.type != OpType::ok) return;
    for (const ReadPoint& r : in_op) {
      ReadPoint& slot = last_.try_emplace(r.key.value(), p, ReadPoint{}).first;
      if (slot.pos == kNone) touched_[p].push_back(r.key);
      slot = r;
    }
  }

  static ReadPoint* find(std::vector<ReadPoint>& points, KeyId k) {
    for (ReadPoint& r : points) {
      if (r.key == k) return &r;
    }
    return nullptr;
  }

  void compare(const ReadPoint& prev, const ReadPoint& now, bool internal) {
    const int64_t delta = int64_t{now.rank} - int64_t{prev.rank};
    if (delta == 1) return;
    const AnomalyKind kind =
        delta > 1
            ? (internal ? AnomalyKind::int_poll_skip : AnomalyKind::poll_skip)
            : (internal ? AnomalyKind::int_nonmonotonic_poll : AnomalyKind::nonmonotonic_poll);
    Anomaly an = make_anomaly(kind, a_.h, now.key);
    an.offsets = {prev.offset, now.offset};
    an.values = {prev.value, now.value};
    if (!internal) add_op(an, a_.h, prev.pos);
    add_op(an, a_.h, now.pos);
    const std::string where = internal ? "within one poll" : "between two polls";
    if (delta > 1) {
      an.count = delta - 1;
      const std::vector<int64_t>& known = a_.known_offsets[now.key.value()];
      for (uint32_t i = prev.rank + 1; i < now.rank && an.offsets.size() < o_.max_listed + 2; ++i) {
        an.offsets.push_back(Offset(known[i]));
      }
      an.explanation = fmt::format(
          "process {} read offset {} then {} of partition {} {}, skipping {} offset(s) that exist",
          an.processes.back(), prev.offset, now.offset, an.partition, where, an.count);
    } else {
      an.explanation = fmt::format(
          "process {} read offset {} then {} of partition {} {}, going {} without a rebalance",
          an.processes.back(), prev.offset, now.offset, an.partition, where,
          delta == 0 ? "nowhere (a repeat)" : "backwards");
    }
    out_.push_back(std::move(an));
  }

  const Analysis& a_;
  const CheckOptions& o_;
  std::vector<Anomaly>& out_;
  Processes processes_;
  FlatMap<ReadPoint> last_;                  // (key, process) -> last read; pos kNone = forgotten
  std::vector<std::vector<KeyId>> touched_;  // per process: the keys it has a position in
};

struct SendPoint {
  Offset offset;
  Value value;
  uint32_t pos = kNone;
  int64_t process = 0;
};

void report_nonmonotonic_sends(const Analysis& a, std::vector<Anomaly>& out) {
  Processes processes;
  FlatMap<SendPoint> last(1024);  // (key, process) -> last acknowledged send
  const std::span<const Op> ops = a.h.ops();
  for (uint32_t pos = 0; pos < ops.size(); ++pos) {
    const Op& op = ops[pos];
    if (op.type == OpType::invoke || op.type == OpType::fail) continue;
    const uint32_t p = processes.dense(op.process);
    for (const Mop& m : a.h.mops(op)) {
      if (m.kind != MopKind::send || !m.has_offset) continue;
      const SendPoint now{m.offset, m.value, pos, op.process.value()};
      auto [prev, fresh] = last.try_emplace(m.key.value(), p, now);
      if (!fresh && now.offset <= prev.offset) {
        Anomaly an = make_anomaly(AnomalyKind::nonmonotonic_send, a.h, m.key);
        an.offsets = {prev.offset, now.offset};
        an.values = {prev.value, now.value};
        add_op(an, a.h, prev.pos);
        add_op(an, a.h, pos);
        an.explanation = fmt::format(
            "process {} sent value {} to partition {} at offset {} (op {}), then value {} at "
            "offset {} (op {})",
            op.process, prev.value, an.partition, prev.offset, an.ops[0], now.value, now.offset,
            an.ops[1]);
        out.push_back(std::move(an));
      }
      prev = now;
    }
  }
}

// The highest acknowledged offset of a partition so far, and the highest from another process
// than that one's: enough to answer "the highest offset acknowledged by anyone but process p".
struct TopTwo {
  std::array<SendPoint, 2> top{SendPoint{Offset(-1)}, SendPoint{Offset(-1)}};

  void insert(const SendPoint& s) {
    if (s.offset > top[0].offset) {
      if (s.process != top[0].process) top[1] = top[0];
      top[0] = s;
    } else if (s.process != top[0].process && s.offset > top[1].offset) {
      top[1] = s;
    }
  }
  const SendPoint& excluding(int64_t process) const {
    return top[0].process != process ? top[0] : top[1];
  }
};

void check_realtime(const Analysis& a, uint32_t inv_pos, uint32_t done_pos,
                    const std::vector<TopTwo>& tops, std::vector<Anomaly>& out) {
  const Op& done = a.h.ops()[done_pos];
  for (const Mop& m : a.h.mops(done)) {
    if (m.kind != MopKind::send || !m.has_offset) continue;
    const SendPoint& before = tops[m.key.value()].excluding(done.process.value());
    if (before.pos == kNone || before.offset <= m.offset) continue;
    Anomaly an = make_anomaly(AnomalyKind::partition_order, a.h, m.key);
    an.offsets = {before.offset, m.offset};
    an.values = {before.value, m.value};
    add_op(an, a.h, before.pos);
    add_op(an, a.h, inv_pos);
    add_op(an, a.h, done_pos);
    an.explanation = fmt::format(
        "value {} was acknowledged at offset {} of partition {} (op {}) before process {} sent "
        "value {} (op {}), which got the lower offset {}",
        before.value, before.offset, an.partition, an.ops[0], done.process, m.value, an.ops[1],
        m.offset);
    out.push_back(std::move(an));
  }
}

void report_partition_order(const Analysis& a, std::vector<Anomaly>& out) {
  std::vector<TopTwo> tops(a.h.key_count());
  const std::span<const Op> ops = a.h.ops();
  for (uint32_t pos = 0; pos < ops.size(); ++pos) {
    const Op& op = ops[pos];
    if (op.f != Fn::send && op.f != Fn::txn) continue;
    if (op.type == OpType::invoke) {
      const uint32_t done = a.completion_of[pos];
      if (done != kNone && ops[done].type == OpType::ok) check_realtime(a, pos, done, tops, out);
      continue;
    }
    if (op.type != OpType::ok) continue;
    for (const Mop& m : a.h.mops(op)) {
      if (m.kind == MopKind::send && m.has_offset) {
        tops[m.key.value()].insert(SendPoint{m.offset, m.value, pos, op.process.value()});
      }
    }
  }
}

}  // namespace

void check_polls(const Analysis& a, const CheckOptions& o, std::vector<Anomaly>& out) {
  PollOrder(a, o, out).run();
}

void check_sends(const Analysis& a, const CheckOptions&, std::vector<Anomaly>& out) {
  report_nonmonotonic_sends(a, out);
  report_partition_order(a, out);
}

}  // namespace seedlog::model::detail
