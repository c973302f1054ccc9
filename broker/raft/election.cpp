// Roles and elections (KIP-595 with pre-vote, Ongaro's thesis section 9.6).
//
// Every change of role, epoch, vote or leader goes through transition(): under state_mutex it
// decides the next state from the current one, writes the quorum state durably if the epoch, the
// vote or a newly learned leader differs from what is on disk, and only then enters the new role
// in memory (enter() never suspends). So a vote is granted, a campaign started, and a leadership
// taken only once it survives a power loss; and two tasks never interleave halfway through one.
//
// Timers: `election_deadline` (node time) means, per role:
//   follower / observer   fetch timeout since the last good fetch answer: the leader is gone
//   unattached, resigned  election timeout (random in [t, 2t)): campaign
//   prospective           the end of this pre-vote round; then a new round
//   candidate             the end of this vote round; then back to pre-vote (or a new epoch)
//   leader                the next check-quorum tick
#include <algorithm>

#include <fmt/format.h>

#include "broker/raft/raft_impl.hpp"
#include "broker/protocol/record_batch.hpp"

namespace seedlog::broker::raft {

using proto::ErrorCode;

// ---- transitions -------------------------------------------------------------------------------------

bool Raft::Impl::transition(const std::function<std::optional<Transition>()>& decide) {
  if (halted || !started) return false;
  FiberLock lock(state_mutex);
  // Decided only now, under the lock: the state may have moved while we waited for it.
  if (halted) return false;
  std::optional<Transition> t = decide();
  if (!t) return false;
  SL_ASSERT_MSG(t->state.epoch >= epoch, fmt::format("epoch {} -> {}", epoch, t->state.epoch));
  SL_ASSERT(t->state.epoch > epoch || !voted_for || t->state.voted_for == voted_for);
  const QuorumState& next = t->state;
  const bool must_write = next.epoch != durable.epoch || next.voted_for != durable.voted_for ||
                          (next.leader && next.leader != durable.leader);
  if (must_write) {
    QuorumState to_write = next;
    if (!to_write.leader && to_write.epoch == durable.epoch) to_write.leader = durable.leader;
    if (storage::Status st = quorum_store.write(to_write); !st.ok()) {
      halt("quorum state: " + st.error().to_string());
      return false;
    }
    durable = to_write;
  }
  enter(*t);
  return true;
}

void Raft::Impl::enter(const Transition& t) {
  const Role old_role = role;
  const Epoch old_epoch = epoch;
  const std::optional<BrokerId> old_leader = leader_id;
  role = voter ? t.role : Role::observer;
  epoch = t.state.epoch;
  voted_for = t.state.voted_for;
  leader_id = t.state.leader;
  ++generation;
  if (epoch != old_epoch || role != old_role || leader_id != old_leader) {
    leader_resigned = false;
    leader_heard = false;
  }
  const sim::Instant now = local_now();
  if (role == Role::follower || role == Role::observer || role == Role::leader) {
    last_leader_contact = now;
    election_deadline = now + config.fetch_timeout;
  } else {
    election_deadline = now + random_election_timeout();
  }
  if (old_role == Role::leader && role != Role::leader) on_leave_leader();
  if (role == Role::leader && old_role != Role::leader) on_enter_leader();
  if (role == Role::leader) {
    queue_leader_change(config.self, epoch, epoch_start_offset);
  } else {
    queue_leader_change(leader_id, epoch, Offset(0));
  }
  if (role != old_role || epoch != old_epoch || leader_id != old_leader) emit_role();
  changed.notify();
}

void Raft::Impl::on_enter_leader() {
  SL_ASSERT(voter);
  SL_ASSERT(voted_for == config.self);
  epoch_start_offset = leo();
  replicas.clear();
  hw_sent.clear();
  for (const Voter& v : config.voters) {
    // Check-quorum grace: every voter counts as heard from when the epoch starts.
    if (v.id != config.self) replicas[v.id] = ReplicaProgress{Offset(-1), local_now()};
  }
  const uint64_t gen = generation;
  env.spawn("raft-leader-start", [this, gen] { start_leader_epoch(gen); });
}

void Raft::Impl::on_leave_leader() {
  replicas.clear();
  hw_sent.clear();
  fail_uncommitted_proposals();
}

bool Raft::Impl::to_follower(Epoch e, BrokerId leader) {
  return transition([&]() -> std::optional<Transition> {
    if (e < epoch) return std::nullopt;
    if (e == epoch && leader_id == leader && (role == Role::follower || role == Role::observer)) return std::nullopt;
    // One leader per epoch: if we lead this epoch, nobody else does (refuse a claim that says so).
    if (e == epoch && role == Role::leader) return std::nullopt;
    if (leader == config.self) return std::nullopt;
    Transition t{Role::follower, QuorumState{e, e == epoch ? voted_for : std::nullopt, leader}};
    return t;
  });
}

bool Raft::Impl::observe_epoch(Epoch e, std::optional<BrokerId> leader) {
  if (leader && *leader != config.self) return to_follower(e, *leader);
  return transition([&]() -> std::optional<Transition> {
    if (e <= epoch) return std::nullopt;
    return Transition{Role::unattached, QuorumState{e, std::nullopt, std::nullopt}};
  });
}

void Raft::Impl::to_prospective() {
  (void)transition([&]() -> std::optional<Transition> {
    if (!voter || role == Role::leader) return std::nullopt;
    return Transition{Role::prospective, QuorumState{epoch, voted_for, std::nullopt}};
  });
}

bool Raft::Impl::to_candidate() {
  const uint64_t gen = generation;
  return transition([&]() -> std::optional<Transition> {
    if (!voter || generation != gen || role == Role::leader || role == Role::observer) return std::nullopt;
    // With pre-vote only a prospective that won its round campaigns.
    if (config.pre_vote && role != Role::prospective) return std::nullopt;
    return Transition{Role::candidate, QuorumState{Epoch(epoch.value() + 1), config.self, std::nullopt}};
  });
}

void Raft::Impl::to_resigned(bool notify_voters) {
  if (role != Role::leader) return;
  // Preferred successors: the voters furthest along first (ties by id, for determinism).
  std::vector<std::pair<Offset, BrokerId>> progress;
  for (const auto& [id, p] : replicas) progress.emplace_back(p.end_offset, id);
  std::sort(progress.begin(), progress.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<BrokerId> successors;
  for (const auto& [offset, id] : progress) successors.push_back(id);
  const bool moved = transition([&]() -> std::optional<Transition> {
    if (role != Role::leader) return std::nullopt;
    return Transition{Role::resigned, QuorumState{epoch, voted_for, std::nullopt}};
  });
  if (!moved || !notify_voters) return;
  const uint64_t gen = generation;
  for (BrokerId id : successors) {
    env.spawn("raft-end-quorum-epoch", [this, id, gen, successors] { send_end_quorum_epoch(id, gen, successors); });
  }
}

void Raft::Impl::do_resign() {
  if (!started || halted || role != Role::leader) return;
  to_resigned(true);
}

// ---- the election timer -----------------------------------------------------------------------------------

void Raft::Impl::run_ticker() {
  while (!halted) {
    const uint64_t gen = generation;
    const sim::Instant deadline = election_deadline;
    if (local_now() < deadline) {
      (void)changed.wait_until(global_deadline(deadline));
      continue;
    }
    if (gen != generation) continue;
    on_timer();
  }
}

void Raft::Impl::on_timer() {
  const sim::Instant now = local_now();
  switch (role) {
    case Role::leader:
      check_quorum();
      if (role == Role::leader) election_deadline = now + config.fetch_timeout / 4;
      return;
    case Role::observer:
      if (leader_id) {
        // The leader went quiet: forget it and look for the current one among the voters.
        (void)transition([&]() -> std::optional<Transition> {
          if (role != Role::observer || !leader_id) return std::nullopt;
          return Transition{Role::observer, QuorumState{epoch, voted_for, std::nullopt}};
        });
      }
      election_deadline = local_now() + config.fetch_timeout;
      return;
    default:
      election_round();
      return;
  }
}

void Raft::Impl::election_round() {
  SL_ASSERT(voter);
  if (config.pre_vote) {
    to_prospective();
    if (role != Role::prospective || !pre_vote_round()) return;
  }
  if (!to_candidate()) return;
  (void)vote_round();
}

bool Raft::Impl::pre_vote_round() {
  SL_ASSERT(role == Role::prospective);
  const uint64_t gen = generation;
  const std::optional<size_t> granted = collect_votes(true, Epoch(epoch.value() + 1));
  return granted.has_value() && gen == generation && role == Role::prospective;
}

bool Raft::Impl::vote_round() {
  SL_ASSERT(role == Role::candidate);
  SL_ASSERT(voted_for == config.self);
  const uint64_t gen = generation;
  const std::optional<size_t> granted = collect_votes(false, epoch);
  if (!granted || gen != generation || role != Role::candidate) return false;
  become_leader(gen);
  return role == Role::leader;
}

// Asks every other voter for its (pre-)vote and counts, until a majority granted, the round's
// deadline passed, or an answer showed a newer epoch or a leader. nullopt unless a majority.
std::optional<size_t> Raft::Impl::collect_votes(bool pre_vote, Epoch candidate_epoch) {
  const uint64_t gen = generation;
  size_t granted = 1;  // our own
  if (granted >= majority()) return granted;
  auto results = std::make_shared<sim::Channel<VoteResult>>(env.scheduler(), config.voters.size());
  const VoteArgs args{config.cluster_id, candidate_epoch, config.self, last_epoch(), leo(), pre_vote};
  size_t asked = 0;
  for (const Voter& v : config.voters) {
    if (v.id == config.self) continue;
    ++asked;
    env.spawn(pre_vote ? "raft-pre-vote" : "raft-vote", [this, results, v, args] {
      auto r = control_rpc.call_as<proto::VoteResponse>(v.node, config.port, vote_request(args), kVoteVersion,
                                                        config.request_timeout);
      VoteResult res{v.id, std::nullopt};
      if (r.ok()) res.answer = read_vote_response(r.value());
      (void)results->try_send(std::move(res));
    });
  }
  for (size_t answered = 0; answered < asked; ++answered) {
    const sim::Duration left = election_deadline - local_now();
    if (left <= sim::Duration::zero()) return std::nullopt;
    sim::Result<VoteResult> res = results->recv(left);
    if (!res.ok() || gen != generation || halted) return std::nullopt;
    if (!res->answer || res->answer->error != ErrorCode::none) continue;
    const VoteAnswer& a = *res->answer;
    if (a.granted) {
      if (++granted >= majority()) return granted;
      continue;
    }
    const std::optional<BrokerId> their_leader =
        a.info.leader.value() >= 0 ? std::optional<BrokerId>(a.info.leader) : std::nullopt;
    if (a.info.epoch > epoch || (a.info.epoch == epoch && their_leader && their_leader != config.self)) {
      // A newer epoch, or a leader of ours: stop campaigning and follow what we learned.
      (void)observe_epoch(a.info.epoch, their_leader);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

void Raft::Impl::become_leader(uint64_t won_generation) {
  (void)transition([&]() -> std::optional<Transition> {
    if (generation != won_generation || role != Role::candidate) return std::nullopt;
    return Transition{Role::leader, QuorumState{epoch, config.self, config.self}};
  });
}

// The first write of an epoch: a LeaderChange control batch of the new epoch. Entries of earlier
// epochs become committed only when an entry of this epoch is (Raft's commitment rule).
void Raft::Impl::start_leader_epoch(uint64_t gen) {
  {
    FiberLock lock(log_mutex);
    if (gen != generation || role != Role::leader) return;
    storage::Result<storage::AppendResult> appended = log->append_as_leader(leader_change_batch(epoch), epoch);
    if (!appended.ok()) {
      halt("leader append: " + appended.error().to_string());
      return;
    }
    SL_ASSERT(appended->first_offset >= epoch_start_offset);
    emit_appends(appended->batches);
    changed.notify();
    if (!flush_log()) return;
  }
  if (gen != generation) return;
  maybe_advance_high_watermark();
  for (const Voter& v : config.voters) {
    if (v.id == config.self) continue;
    env.spawn("raft-begin-quorum-epoch", [this, id = v.id, gen] { send_begin_quorum_epoch(id, gen); });
  }
}

void Raft::Impl::send_begin_quorum_epoch(BrokerId to, uint64_t gen) {
  const std::optional<sim::NodeId> node = node_of(to);
  SL_ASSERT(node.has_value());
  // Until the voter answers or has fetched in this epoch (then it knows), or the epoch is over.
  while (gen == generation && !halted) {
    auto it = replicas.find(to);
    if (it == replicas.end() || it->second.end_offset.value() >= 0) return;
    auto r = control_rpc.call_as<proto::BeginQuorumEpochResponse>(
        *node, config.port, begin_quorum_epoch_request(config.cluster_id, leader_info()), kBeginQuorumEpochVersion,
        config.request_timeout);
    if (gen != generation || halted) return;
    if (r.ok()) {
      auto p = read_quorum_epoch_result(r->error_code, r->topics);
      if (p && p->error_code == ErrorCode::none) return;
      if (p && p->leader_epoch > epoch) {
        (void)observe_epoch(p->leader_epoch, p->leader_id.value() >= 0 ? std::optional<BrokerId>(p->leader_id) : std::nullopt);
        return;
      }
    }
    env.sleep(config.retry_backoff * 4);
  }
}

void Raft::Impl::send_end_quorum_epoch(BrokerId to, uint64_t gen, std::vector<BrokerId> successors) {
  const std::optional<sim::NodeId> node = node_of(to);
  SL_ASSERT(node.has_value());
  const LeaderInfo resigning{epoch, config.self};
  // Best effort, a few times: a voter that misses it elects after its fetch timeout anyway.
  for (int attempt = 0; attempt < 3 && gen == generation && !halted; ++attempt) {
    auto r = control_rpc.call_as<proto::EndQuorumEpochResponse>(
        *node, config.port, end_quorum_epoch_request(config.cluster_id, resigning, successors), kEndQuorumEpochVersion,
        config.request_timeout);
    if (r.ok()) return;
    env.sleep(config.retry_backoff * 4);
  }
}

// A leader that has not heard from a majority (itself included) within the fetch timeout may be
// cut off from the quorum: it resigns rather than keep accepting writes it cannot commit.
void Raft::Impl::check_quorum() {
  SL_ASSERT(role == Role::leader);
  const sim::Instant now = local_now();
  size_t heard = 1;
  for (const auto& [id, p] : replicas) {
    if (p.last_fetch && now - *p.last_fetch < config.fetch_timeout) ++heard;
  }
  SL_ASSERT(heard <= config.voters.size());
  if (heard < majority()) to_resigned(true);
}

// ---- Vote, BeginQuorumEpoch, EndQuorumEpoch (the voter's side) ------------------------------------------------

// The election restriction: the candidate's log ends in a later epoch, or in the same epoch at
// least as far.
bool Raft::Impl::log_up_to_date(Epoch candidate_last_epoch, Offset candidate_end) const {
  const Epoch mine = last_epoch();
  if (candidate_last_epoch != mine) return candidate_last_epoch > mine;
  return candidate_end >= leo();
}

VoteAnswer Raft::Impl::decide_pre_vote(const VoteArgs& a) const {
  VoteAnswer no{ErrorCode::none, leader_info(), false};
  // Leader stickiness: while we lead, or follow a leader we have heard from (and that has not
  // resigned), nobody needs an election. A follower that only read its leader from the quorum
  // state after a restart has heard nothing yet.
  if (role == Role::leader || (role == Role::follower && leader_heard && !leader_resigned)) return no;
  if (a.candidate_epoch < epoch) return no;
  if (a.candidate_epoch == epoch && (leader_id || (voted_for && *voted_for != a.candidate))) return no;
  if (!config.defect_vote_ignores_log && !log_up_to_date(a.last_epoch, a.end_offset)) return no;
  return VoteAnswer{ErrorCode::none, leader_info(), true};
}

proto::VoteResponse Raft::Impl::handle_vote(const VoteArgs& a) {
  if (!started || halted) return vote_response(ErrorCode::none, ErrorCode::broker_not_available, leader_info(), false);
  if (!voter || !is_voter_id(a.candidate)) {
    return vote_response(ErrorCode::none, ErrorCode::inconsistent_voter_set, leader_info(), false);
  }
  bool granted = false;
  if (a.pre_vote) {
    // A pre-vote changes nothing here: no epoch, no vote, nothing to persist.
    const VoteAnswer d = decide_pre_vote(a);
    granted = d.granted;
  } else {
    const bool moved = transition([&]() -> std::optional<Transition> {
      granted = false;
      if (a.candidate_epoch < epoch) return std::nullopt;
      const bool newer = a.candidate_epoch > epoch;
      const bool free = newer || (!leader_id && role != Role::leader && (!voted_for || *voted_for == a.candidate));
      // raft-vote-ignores-log: the defect skips the election restriction.
      const bool log_ok = config.defect_vote_ignores_log || log_up_to_date(a.last_epoch, a.end_offset);
      granted = free && log_ok;
      if (granted) return Transition{Role::unattached, QuorumState{a.candidate_epoch, a.candidate, std::nullopt}};
      if (newer) return Transition{Role::unattached, QuorumState{a.candidate_epoch, std::nullopt, std::nullopt}};
      return std::nullopt;
    });
    granted = granted && moved;
    SL_ASSERT(!granted || (epoch == a.candidate_epoch && voted_for == a.candidate));
  }
  env.emit(events::kVote, {{"epoch", a.candidate_epoch.value()},
                           {"candidate", a.candidate.value()},
                           {"granted", granted},
                           {"pre_vote", a.pre_vote}});
  return vote_response(ErrorCode::none, ErrorCode::none, leader_info(), granted);
}

proto::BeginQuorumEpochResponse Raft::Impl::handle_begin_quorum_epoch(const LeaderInfo& info) {
  proto::BeginQuorumEpochResponse r;
  ErrorCode error = ErrorCode::none;
  if (!started || halted) {
    error = ErrorCode::broker_not_available;
  } else if (!is_voter_id(info.leader)) {
    error = ErrorCode::inconsistent_voter_set;
  } else if (info.epoch < epoch) {
    error = ErrorCode::fenced_leader_epoch;
  } else {
    (void)to_follower(info.epoch, info.leader);
    if (epoch == info.epoch && leader_id == info.leader && role == Role::follower) {
      last_leader_contact = local_now();
      election_deadline = last_leader_contact + config.fetch_timeout;
      leader_heard = true;
    }
  }
  r.topics = quorum_epoch_result(error, leader_info());
  return r;
}

proto::EndQuorumEpochResponse Raft::Impl::handle_end_quorum_epoch(const EndQuorumArgs& a) {
  proto::EndQuorumEpochResponse r;
  ErrorCode error = ErrorCode::none;
  if (!started || halted) {
    error = ErrorCode::broker_not_available;
  } else if (a.info.epoch < epoch) {
    error = ErrorCode::fenced_leader_epoch;
  } else {
    if (a.info.epoch > epoch) (void)observe_epoch(a.info.epoch, std::nullopt);
    const bool ours = epoch == a.info.epoch && (!leader_id || leader_id == a.info.leader);
    if (ours && voter && role != Role::leader) {
      // Start an election early; the preferred successors (the most caught up) first.
      const auto pos = std::find(a.successors.begin(), a.successors.end(), config.self) - a.successors.begin();
      const sim::Duration step = config.election_timeout / 5;
      const sim::Duration jitter = env.rng().range(sim::Duration::zero(), config.election_timeout / 10);
      leader_resigned = true;
      election_deadline = local_now() + step * static_cast<int64_t>(pos) + jitter;
      changed.notify();
    }
  }
  r.topics = quorum_epoch_result(error, leader_info());
  return r;
}

}  // namespace seedlog::broker::raft
