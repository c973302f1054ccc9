#include "broker/replication/leader_state.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sim/assert.hpp"

namespace seedlog::broker::replication {

namespace {

bool contains(const std::vector<BrokerId>& ids, BrokerId id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

}  // namespace

LeaderState::LeaderState(BrokerId self, LeaderEpoch epoch, Offset epoch_start, std::vector<BrokerId> isr,
                         PartitionEpoch partition_epoch, sim::Instant now)
    : self_(self), epoch_(epoch), epoch_start_(epoch_start), isr_(std::move(isr)), partition_epoch_(partition_epoch),
      became_leader_at_(now) {
  SL_ASSERT(epoch.value() >= 0);
  SL_ASSERT(epoch_start.value() >= 0);
}

const FollowerState* LeaderState::follower(BrokerId id) const {
  auto it = followers_.find(id.value());
  return it == followers_.end() ? nullptr : &it->second;
}

void LeaderState::on_fetch(BrokerId follower, Offset fetch_offset, BrokerEpoch broker_epoch, Offset leader_end,
                           sim::Instant now) {
  SL_ASSERT(follower != self_);
  SL_ASSERT_MSG(fetch_offset <= leader_end, "a follower cannot be ahead of its leader");
  auto [it, fresh] = followers_.try_emplace(follower.value());
  FollowerState& f = it->second;
  if (fresh || f.broker_epoch != broker_epoch) {
    // A new incarnation knows nothing of what the previous one reported; becoming leader counts as
    // the last catch-up of everyone.
    f = FollowerState{};
    f.last_caught_up = became_leader_at_;
    f.broker_epoch = broker_epoch;
  }
  if (fetch_offset >= leader_end) {
    f.last_caught_up = now;
  } else if (f.fetched && fetch_offset >= f.leader_end_at_last_fetch) {
    f.last_caught_up = std::max(f.last_caught_up, f.last_fetch);
  }
  f.fetched = true;
  f.log_end = fetch_offset;
  f.last_fetch = now;
  f.leader_end_at_last_fetch = leader_end;
}

std::vector<BrokerId> LeaderState::effective_isr() const {
  std::vector<BrokerId> out = isr_;
  if (pending_) {
    for (BrokerId b : pending_->proposed) {
      if (!contains(out, b)) out.push_back(b);
    }
  }
  return out;
}

size_t LeaderState::isr_size_for_min_insync() const {
  return pending_ ? std::min(isr_.size(), pending_->proposed.size()) : isr_.size();
}

HwCandidate LeaderState::hw_candidate(Offset leader_end, int32_t min_insync, bool ignore_min_insync) const {
  HwCandidate out;
  if (!ignore_min_insync && isr_size_for_min_insync() < static_cast<size_t>(min_insync)) {
    out.why = fmt::format("ISR of {} below min.insync.replicas {}", isr_size_for_min_insync(), min_insync);
    return out;
  }
  Offset low = leader_end;
  // effective_isr() without the copy: this runs on every follower fetch.
  const size_t members = isr_.size() + (pending_ ? pending_->proposed.size() : 0);
  out.counted.reserve(members);
  out.counted_epochs.reserve(members);
  for (size_t i = 0; i < members; ++i) {
    const BrokerId m = i < isr_.size() ? isr_[i] : pending_->proposed[i - isr_.size()];
    if (i >= isr_.size() && contains(out.counted, m)) continue;
    out.counted.push_back(m);
    if (m == self_) {
      out.counted_epochs.push_back(BrokerEpoch{-1});
      continue;
    }
    const FollowerState* f = follower(m);
    if (f == nullptr || !f->fetched) {
      out.why = fmt::format("ISR member {} has not fetched in leader epoch {}", m, epoch_);
      return out;
    }
    out.counted_epochs.push_back(f->broker_epoch);
    low = std::min(low, f->log_end);
  }
  out.hw = low;
  return out;
}

bool LeaderState::caught_up_enough(const FollowerState& f, Offset hw) const {
  return f.fetched && f.log_end >= hw && f.log_end >= epoch_start_;
}

std::optional<std::vector<BrokerId>> LeaderState::isr_proposal(const std::vector<BrokerId>& replicas, Offset hw,
                                                                sim::Instant now, sim::Duration lag_time_max,
                                                                const std::function<bool(BrokerId, BrokerEpoch)>& live) const {
  if (pending_) return std::nullopt;
  std::vector<BrokerId> next;
  bool changed = false;
  for (BrokerId m : isr_) {
    const FollowerState* f = follower(m);
    const sim::Instant caught_up = f ? f->last_caught_up : became_leader_at_;
    if (m != self_ && now - caught_up > lag_time_max) {
      changed = true;  // out of sync for longer than the lag time: leaves the ISR
      continue;
    }
    next.push_back(m);
  }
  for (BrokerId r : replicas) {
    if (contains(isr_, r) || r == self_) continue;
    const FollowerState* f = follower(r);
    if (f != nullptr && caught_up_enough(*f, hw) && live(r, f->broker_epoch)) {
      next.push_back(r);
      changed = true;
    }
  }
  SL_ASSERT(contains(next, self_) || !contains(isr_, self_));
  if (!changed) return std::nullopt;
  return next;
}

void LeaderState::set_pending(std::vector<BrokerId> proposed) {
  SL_ASSERT(!pending_.has_value());
  SL_ASSERT(contains(proposed, self_));
  pending_ = PendingIsr{std::move(proposed), partition_epoch_};
}

bool LeaderState::apply_committed(const std::vector<BrokerId>& isr, PartitionEpoch partition_epoch) {
  if (partition_epoch <= partition_epoch_) return false;
  isr_ = isr;
  partition_epoch_ = partition_epoch;
  // Whatever the pending proposal was computed from is gone: it was applied or superseded.
  if (pending_ && pending_->against < partition_epoch) pending_.reset();
  return true;
}

}  // namespace seedlog::broker::replication
