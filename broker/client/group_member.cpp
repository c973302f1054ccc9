#include "broker/client/group_member.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "broker/group/consumer_protocol.hpp"

namespace seedlog::broker::client {

namespace proto = seedlog::protocol;
using proto::ErrorCode;

struct GroupMember::State {
  State(sim::Env& e, GroupMemberConfig c, RebalanceListener l)
      : env(e), config(std::move(c)), listener(std::move(l)), rpc(e, RpcClientOptions{.client_id = config.client_id}) {}

  sim::Env& env;
  GroupMemberConfig config;
  RebalanceListener listener;
  RpcClient rpc;
  std::optional<std::pair<sim::NodeId, sim::Port>> coordinator;
  size_t next_bootstrap = 0;
  std::string member_id;
  proto::GenerationId generation{-1};
  TopicPartitions owned;
  bool need_rejoin = true;
  bool stopped = false;
  bool closing = false;
  bool paused = false;
  bool leader = false;
  sim::Instant last_heartbeat_sent_ok;
  sim::Instant next_metadata_check;
  group::PartitionCounts assigned_counts;  // what the leader assigned from
  int inflight_commits = 0;

  // ---- plumbing ----
  template <class Resp>
  RpcResult<Resp> call(sim::NodeId node, sim::Port port, proto::RequestBody body, int16_t version, sim::Duration timeout) {
    return rpc.call_as<Resp>(node, port, std::move(body), version, timeout);
  }
  sim::NodeId bootstrap() { return config.bootstrap[next_bootstrap++ % config.bootstrap.size()]; }
  bool ensure_coordinator();
  void coordinator_moved() { coordinator.reset(); }
  static bool coordinator_error(ErrorCode e) {
    return e == ErrorCode::not_coordinator || e == ErrorCode::coordinator_not_available ||
           e == ErrorCode::coordinator_load_in_progress;
  }
  std::optional<group::PartitionCounts> partition_counts(const std::vector<std::string>& topics);

  // ---- membership ----
  void run();
  void rejoin();
  std::vector<proto::SyncGroupRequest::Assignment> lead(const proto::JoinGroupResponse& joined);
  void apply_assignment(const TopicPartitions& assigned);
  void heartbeat();
  bool session_expired() const {
    return !member_id.empty() && env.now() >= last_heartbeat_sent_ok + config.session_timeout;
  }
  void maybe_watch_metadata();
  void revoke(const TopicPartitions& tps, std::string_view reason);
  enum class Identity : uint8_t { forget, keep };
  void lose(std::string_view reason, Identity identity = Identity::forget);
  void emit_ownership(std::string_view kind, const TopicPartitions& tps, std::string_view reason);
  void wait_for_async_commits();

  // ---- offsets ----
  CommitResult commit(const PositionMap& offsets);
  bool still_owns(const proto::OffsetCommitRequest& req, const std::vector<TopicPartition>& keys) const;
  std::optional<PositionMap> fetch_committed(const std::vector<TopicPartition>& partitions);
};

namespace {
using State = GroupMember::State;
}

bool State::ensure_coordinator() {
  if (coordinator) return true;
  proto::FindCoordinatorRequest req;
  req.key = config.group_id;
  auto r = call<proto::FindCoordinatorResponse>(bootstrap(), config.port, req, 2, config.request_timeout);
  if (!r.ok() || r->error_code != ErrorCode::none) return false;
  coordinator = std::make_pair(sim::NodeId{static_cast<uint32_t>(r->node_id.value())}, static_cast<sim::Port>(r->port));
  return true;
}

std::optional<group::PartitionCounts> State::partition_counts(const std::vector<std::string>& topics) {
  proto::MetadataRequest req;
  req.topics.emplace();
  for (const std::string& t : topics) req.topics->push_back({t});
  auto r = call<proto::MetadataResponse>(bootstrap(), config.port, req, 2, config.request_timeout);
  if (!r.ok()) return std::nullopt;
  group::PartitionCounts out;
  for (const auto& t : r->topics) {
    if (t.error_code == ErrorCode::none && !t.partitions.empty()) out[t.name] = static_cast<int32_t>(t.partitions.size());
  }
  return out;
}

// ---- membership --------------------------------------------------------------------------------

void State::run() {
  // Bounded by `stopped`: every iteration makes at most a few requests, each with a timeout.
  while (!stopped) {
    if (closing) {  // close() revokes and leaves; an answer arriving meanwhile must not assign
      env.sleep(config.retry_backoff);
      continue;
    }
    if (paused) {
      env.sleep(config.heartbeat_interval);
      continue;
    }
    if (!ensure_coordinator()) {
      env.sleep(config.retry_backoff);
      continue;
    }
    if (need_rejoin) {
      rejoin();
      continue;
    }
    heartbeat();
    if (stopped || paused || need_rejoin) continue;
    maybe_watch_metadata();
    if (!need_rejoin) env.sleep(config.heartbeat_interval);
  }
}

void State::rejoin() {
  const bool cooperative = group::is_cooperative(config.assignor);
  if (!cooperative && !owned.empty()) revoke(owned, "rebalance");
  if (stopped || closing) return;  // close() owns the membership now: apply nothing more
  group::Subscription sub;
  sub.topics = config.topics;
  if (cooperative) {
    sub.owned = owned;
    sub.generation = generation;
  }
  proto::JoinGroupRequest req;
  req.group_id = config.group_id;
  req.session_timeout_ms = static_cast<int32_t>(config.session_timeout.count_ms());
  req.rebalance_timeout_ms = static_cast<int32_t>(config.rebalance_timeout.count_ms());
  req.member_id = member_id;
  req.protocol_type = "consumer";
  req.protocols.push_back({std::string(group::to_string(config.assignor)), group::encode_subscription(sub)});
  auto [node, port] = *coordinator;
  auto joined = call<proto::JoinGroupResponse>(node, port, req, 5, config.rebalance_timeout + config.request_timeout);
  if (stopped || closing) return;  // close() owns the membership now: apply nothing more
  if (!joined.ok() || coordinator_error(joined->error_code)) {
    coordinator_moved();
    env.sleep(config.retry_backoff);
    return;
  }
  if (joined->error_code == ErrorCode::member_id_required) {
    member_id = joined->member_id;  // KIP-394: join again at once, now with the id the coordinator chose
    return;
  }
  if (joined->error_code == ErrorCode::unknown_member_id || joined->error_code == ErrorCode::illegal_generation) {
    lose("join-fenced");
    return;
  }
  if (joined->error_code != ErrorCode::none) {
    env.sleep(config.retry_backoff);  // REBALANCE_IN_PROGRESS, or a configuration error to report
    return;
  }
  member_id = joined->member_id;
  leader = joined->leader == member_id;
  env.emit("group.member.joined", {{"group", config.group_id}, {"member", member_id},
                                   {"generation", joined->generation_id.value()}, {"leader", leader}});
  proto::SyncGroupRequest sreq;
  sreq.group_id = config.group_id;
  sreq.generation_id = joined->generation_id;
  sreq.member_id = member_id;
  if (leader) sreq.assignments = lead(joined.value());
  const sim::Instant sync_sent = env.now();
  auto synced = call<proto::SyncGroupResponse>(node, port, sreq, 3, config.session_timeout + config.request_timeout);
  if (stopped || closing) return;  // close() owns the membership now: apply nothing more
  if (!synced.ok() || coordinator_error(synced->error_code)) {
    coordinator_moved();
    return;
  }
  if (synced->error_code == ErrorCode::unknown_member_id || synced->error_code == ErrorCode::illegal_generation) {
    lose("sync-fenced");
    return;
  }
  if (synced->error_code != ErrorCode::none) return;  // REBALANCE_IN_PROGRESS: join again
  auto assignment = group::decode_assignment(synced->assignment);
  if (!assignment.ok()) return;  // a leader that sent garbage: rejoin for a new one
  generation = joined->generation_id;
  // The answer may be old: a member frozen (a long GC pause) while it was on its way finds it on
  // waking. If a session has passed since the SyncGroup went out, the coordinator has evicted us and
  // may have given these partitions to others: claiming them now would make two owners.
  if (env.now() >= sync_sent + config.session_timeout) {
    lose("session-timeout");
    return;
  }
  apply_assignment(assignment->partitions);
}

// The leader's part: every member's subscription in, one assignment per member out.
std::vector<proto::SyncGroupRequest::Assignment> State::lead(const proto::JoinGroupResponse& joined) {
  group::Subscriptions subs;
  std::vector<std::string> topics;
  for (const auto& m : joined.members) {
    auto s = group::decode_subscription(m.metadata);
    if (!s.ok()) continue;  // a member we cannot read gets nothing this generation
    topics.insert(topics.end(), s->topics.begin(), s->topics.end());
    subs[m.member_id] = std::move(s.value());
  }
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  assigned_counts = partition_counts(topics).value_or(group::PartitionCounts{});
  next_metadata_check = env.now() + config.metadata_refresh;
  auto kind = group::parse_assignor(joined.protocol_name).value_or(config.assignor);
  const group::AssignmentMap plan = group::assign(kind, assigned_counts, subs, {.overlap_defect = config.assignor_overlap_defect});
  std::vector<proto::SyncGroupRequest::Assignment> out;
  for (const auto& [id, tps] : plan) out.push_back({id, group::encode_assignment(group::Assignment{tps, {}})});
  return out;
}

void State::apply_assignment(const TopicPartitions& assigned) {
  last_heartbeat_sent_ok = env.now();
  need_rejoin = false;
  if (group::is_cooperative(config.assignor)) {
    const TopicPartitions revoked = group::difference(owned, assigned);
    const TopicPartitions added = group::difference(assigned, owned);
    if (!revoked.empty()) {
      revoke(revoked, "cooperative");
      need_rejoin = true;  // the second rebalance hands them to their new owners
    }
    owned = assigned;
    if (!added.empty()) {
      emit_ownership("group.member.assigned", added, "assigned");
      if (listener.on_partitions_assigned) listener.on_partitions_assigned(added);
    }
    return;
  }
  owned = assigned;
  emit_ownership("group.member.assigned", owned, "assigned");
  if (listener.on_partitions_assigned) listener.on_partitions_assigned(owned);
}

void State::heartbeat() {
  if (session_expired()) {
    lose("session-timeout", Identity::keep);
    return;
  }
  proto::HeartbeatRequest req;
  req.group_id = config.group_id;
  req.generation_id = generation;
  req.member_id = member_id;
  const sim::Instant sent = env.now();
  // Never wait past the session: the member must notice before the coordinator evicts it.
  const sim::Duration left = last_heartbeat_sent_ok + config.session_timeout - sent;
  auto [node, port] = *coordinator;
  auto r = call<proto::HeartbeatResponse>(node, port, req, 3, std::max(sim::Duration::ms(1), std::min(left, config.request_timeout)));
  if (stopped || paused || closing) return;
  if (!r.ok() || coordinator_error(r->error_code)) {
    coordinator_moved();
    return;
  }
  switch (r->error_code) {
    case ErrorCode::none:
      last_heartbeat_sent_ok = sent;
      break;
    case ErrorCode::rebalance_in_progress:
      last_heartbeat_sent_ok = sent;
      need_rejoin = true;
      break;
    case ErrorCode::unknown_member_id:
    case ErrorCode::illegal_generation:
      lose("heartbeat-fenced");
      break;
    default:
      break;
  }
}

// The leader rejoins when a subscribed topic grew (or appeared) since it assigned.
void State::maybe_watch_metadata() {
  if (!leader || env.now() < next_metadata_check) return;
  next_metadata_check = env.now() + config.metadata_refresh;
  auto counts = partition_counts(config.topics);
  if (!counts) return;
  for (const auto& [topic, n] : *counts) {
    auto it = assigned_counts.find(topic);
    if (it == assigned_counts.end() || it->second != n) {
      env.emit("group.member.metadata_changed", {{"group", config.group_id}, {"topic", topic}, {"partitions", n}});
      need_rejoin = true;
      return;
    }
  }
}

void State::emit_ownership(std::string_view kind, const TopicPartitions& tps, std::string_view reason) {
  const std::string parts = group::to_string(tps);
  env.emit(kind, {{"group", config.group_id}, {"member", member_id}, {"generation", generation.value()},
                  {"partitions", parts}, {"reason", reason}});
}

void State::wait_for_async_commits() {
  const sim::Instant give_up = env.now() + config.request_timeout;
  while (inflight_commits > 0 && env.now() < give_up) env.sleep(sim::Duration::ms(5));
}

void State::revoke(const TopicPartitions& tps, std::string_view reason) {
  wait_for_async_commits();
  if (listener.on_partitions_revoked) listener.on_partitions_revoked(tps);
  emit_ownership("group.member.revoked", tps, reason);
  owned = group::difference(owned, tps);
}

// Membership is gone (fenced, or the session ran out): nothing can be committed any more. After
// a session ran out on our side the coordinator may still know the member (it restarted and loaded
// the group, or it was only slow): like Kafka's consumer, keep the member id and join with it, so
// a coordinator that remembers us need not wait out our old session before it can rebalance. One
// that forgot us answers UNKNOWN_MEMBER_ID and the id is dropped then.
void State::lose(std::string_view reason, Identity identity) {
  env.emit("group.member.lost", {{"group", config.group_id}, {"member", member_id}, {"generation", generation.value()},
                                 {"reason", reason}});
  if (!owned.empty()) {
    if (listener.on_partitions_lost) listener.on_partitions_lost(owned);
    else if (listener.on_partitions_revoked) listener.on_partitions_revoked(owned);
    emit_ownership("group.member.revoked", owned, reason);
    owned.clear();
  }
  if (identity == Identity::forget) member_id.clear();
  generation = proto::GenerationId{-1};
  leader = false;
  need_rejoin = true;
}

// ---- offsets -------------------------------------------------------------------------------------

namespace {
PositionMap without_epochs(const OffsetMap& offsets) {
  PositionMap out;
  for (const auto& [tp, offset] : offsets) out.emplace(tp, Position{offset, std::nullopt});
  return out;
}
}  // namespace

bool State::still_owns(const proto::OffsetCommitRequest& req, const std::vector<TopicPartition>& keys) const {
  if (generation != req.generation_id || member_id != req.member_id) return false;
  if (req.member_id.empty()) return true;  // a simple consumer's commit: no group membership to lose
  return std::all_of(keys.begin(), keys.end(), [&](const TopicPartition& tp) {
    auto it = owned.find(tp.topic);
    return it != owned.end() && std::find(it->second.begin(), it->second.end(), tp.partition) != it->second.end();
  });
}

CommitResult State::commit(const PositionMap& offsets) {
  proto::OffsetCommitRequest req;
  req.group_id = config.group_id;
  req.generation_id = generation;
  req.member_id = member_id;
  for (const auto& [tp, at] : offsets) {
    if (req.topics.empty() || req.topics.back().name != tp.topic) req.topics.push_back({tp.topic, {}});
    req.topics.back().partitions.push_back({tp.partition, at.offset, at.epoch.value_or(proto::LeaderEpoch{-1}), std::nullopt});
  }
  std::vector<TopicPartition> keys;
  for (const auto& [tp, offset] : offsets) keys.push_back(tp);
  const std::string parts = group::to_string(group::group_by_topic(keys));
  env.emit("group.commit.sent", {{"group", config.group_id}, {"member", member_id}, {"generation", generation.value()},
                                 {"partitions", parts}});
  const sim::Instant give_up = env.now() + config.request_timeout;
  CommitResult result{ErrorCode::none, true};
  for (int attempt = 0; env.now() < give_up; ++attempt) {
    // A retry (the coordinator moved, or did not answer) goes out only while the member still owns
    // what it commits in the generation it committed for: once it lost them (a session timeout, a
    // fence, a revocation), another member may own them, and a late commit would move its offset.
    if (attempt > 0 && !still_owns(req, keys)) {
      result = CommitResult{ErrorCode::illegal_generation, false};
      break;
    }
    if (!ensure_coordinator()) {
      env.sleep(config.retry_backoff);
      continue;
    }
    auto [node, port] = *coordinator;
    auto r = call<proto::OffsetCommitResponse>(node, port, req, 7, config.request_timeout);
    ErrorCode e = ErrorCode::none;
    if (r.ok()) {
      for (const auto& t : r->topics) {
        for (const auto& p : t.partitions) {
          if (p.error_code != ErrorCode::none) e = p.error_code;
        }
      }
    }
    if (!r.ok() || coordinator_error(e)) {
      coordinator_moved();
      env.sleep(config.retry_backoff);
      continue;
    }
    result = CommitResult{e, false};
    break;
  }
  env.emit("group.commit.result", {{"group", config.group_id}, {"member", req.member_id},
                                   {"error", result.rpc_failed ? std::string_view("NO_ANSWER") : proto::to_string(result.error)}});
  return result;
}

// ---- the public face ------------------------------------------------------------------------------

GroupMember::GroupMember(sim::Env& env, GroupMemberConfig config, RebalanceListener listener)
    : s_(std::make_shared<State>(env, std::move(config), std::move(listener))) {
  SL_ASSERT_MSG(!s_->config.bootstrap.empty(), "a group member needs a broker to talk to");
  SL_ASSERT_MSG(!s_->config.group_id.empty(), "a group member needs a group id");
  SL_ASSERT(s_->config.heartbeat_interval < s_->config.session_timeout);
}

GroupMember::~GroupMember() { s_->stopped = true; }

void GroupMember::start() {
  std::shared_ptr<State> s = s_;
  s->env.spawn(fmt::format("group-member-{}", s->config.client_id), [s] { s->run(); });
}

void GroupMember::close() {
  if (s_->stopped || s_->closing) return;
  s_->closing = true;
  if (!s_->owned.empty()) s_->revoke(s_->owned, "close");
  if (!s_->member_id.empty() && s_->ensure_coordinator()) {
    proto::LeaveGroupRequest req;
    req.group_id = s_->config.group_id;
    req.member_id = s_->member_id;
    auto [node, port] = *s_->coordinator;
    (void)s_->call<proto::LeaveGroupResponse>(node, port, req, 1, s_->config.request_timeout);
  }
  s_->stopped = true;
}

void GroupMember::subscribe(std::vector<std::string> topics) {
  std::sort(topics.begin(), topics.end());
  if (topics == s_->config.topics) return;
  s_->config.topics = std::move(topics);
  s_->need_rejoin = true;
}

bool GroupMember::stable() const { return !s_->need_rejoin && s_->generation.value() >= 0 && !s_->stopped; }
const TopicPartitions& GroupMember::assignment() const { return s_->owned; }
proto::GenerationId GroupMember::generation() const { return s_->generation; }
const std::string& GroupMember::member_id() const { return s_->member_id; }
void GroupMember::pause(bool paused) { s_->paused = paused; }

CommitResult GroupMember::commit_sync(const OffsetMap& offsets) { return s_->commit(without_epochs(offsets)); }
CommitResult GroupMember::commit_positions(const PositionMap& positions) { return s_->commit(positions); }

void GroupMember::commit_async(const OffsetMap& offsets, std::function<void(const CommitResult&)> done) {
  commit_positions_async(without_epochs(offsets), std::move(done));
}

void GroupMember::commit_positions_async(const PositionMap& offsets, std::function<void(const CommitResult&)> done) {
  std::shared_ptr<State> s = s_;
  ++s->inflight_commits;
  s->env.spawn("group-commit-async", [s, offsets, done = std::move(done)] {
    const CommitResult r = s->commit(offsets);
    --s->inflight_commits;
    if (done) done(r);
  });
}

std::optional<PositionMap> State::fetch_committed(const std::vector<TopicPartition>& partitions) {
  proto::OffsetFetchRequest req;
  req.group_id = config.group_id;
  req.topics.emplace();
  for (const TopicPartition& tp : partitions) {
    if (req.topics->empty() || req.topics->back().name != tp.topic) req.topics->push_back({tp.topic, {}});
    req.topics->back().partition_indexes.push_back(tp.partition);
  }
  const sim::Instant give_up = env.now() + config.request_timeout;
  while (env.now() < give_up) {
    if (!ensure_coordinator()) {
      env.sleep(config.retry_backoff);
      continue;
    }
    auto [node, port] = *coordinator;
    auto r = call<proto::OffsetFetchResponse>(node, port, req, 5, config.request_timeout);
    if (!r.ok() || coordinator_error(r->error_code)) {
      coordinator_moved();
      env.sleep(config.retry_backoff);
      continue;
    }
    if (r->error_code != ErrorCode::none) return std::nullopt;
    PositionMap out;
    for (const auto& t : r->topics) {
      for (const auto& p : t.partitions) {
        const std::optional<proto::LeaderEpoch> epoch =
            p.committed_leader_epoch.value() >= 0 ? std::optional(p.committed_leader_epoch) : std::nullopt;
        out[{t.name, p.partition_index}] = Position{p.committed_offset, epoch};
      }
    }
    return out;
  }
  return std::nullopt;
}

std::optional<OffsetMap> GroupMember::committed(const std::vector<TopicPartition>& partitions) {
  auto got = s_->fetch_committed(partitions);
  if (!got) return std::nullopt;
  OffsetMap out;
  for (const auto& [tp, at] : *got) out[tp] = at.offset;
  return out;
}

std::optional<PositionMap> GroupMember::committed_positions(const std::vector<TopicPartition>& partitions) {
  auto got = s_->fetch_committed(partitions);
  if (got) std::erase_if(*got, [](const auto& kv) { return kv.second.offset.value() < 0; });
  return got;
}

}  // namespace seedlog::broker::client
