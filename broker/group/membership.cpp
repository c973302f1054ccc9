// JoinGroup, SyncGroup, Heartbeat, LeaveGroup and the membership transitions of a group
// (coordinator.hpp describes the state machine).
#include <algorithm>
#include <fmt/format.h>

#include "broker/group/coordinator.hpp"
#include "broker/group/group_state.hpp"

namespace seedlog::broker::group {

namespace proto = seedlog::protocol;
using proto::ErrorCode;

namespace {

sim::Duration ms(int32_t v) { return sim::Duration::ms(v); }

// Whether every member (and the joiner) supports one protocol in common.
bool common_protocol(const Group& g, const std::vector<proto::JoinGroupRequest::Protocol>& offered) {
  for (const auto& p : offered) {
    bool all = true;
    for (const auto& [id, m] : g.members) all = all && m.metadata_for(p.name) != nullptr;
    if (all) return true;
  }
  return false;
}

// The leader's first preference that every member supports.
std::string choose_protocol(const Group& g, const Member& leader) {
  for (const auto& p : leader.protocols) {
    bool all = true;
    for (const auto& [id, m] : g.members) all = all && m.metadata_for(p.name) != nullptr;
    if (all) return p.name;
  }
  return leader.protocols.empty() ? std::string() : leader.protocols.front().name;
}

std::string member_list(const Group& g) {
  std::string out;
  for (const auto& [id, m] : g.members) out += (out.empty() ? "" : ",") + id;
  return out;
}

}  // namespace

proto::JoinGroupResponse GroupCoordinator::join(const proto::JoinGroupRequest& req, const std::string& client_id) {
  proto::JoinGroupResponse out;
  out.member_id = req.member_id;
  int32_t partition = 0;
  out.error_code = check_coordinator(req.group_id, &partition);
  if (out.error_code != ErrorCode::none) return out;
  const sim::Duration session = ms(req.session_timeout_ms);
  if (session < config_.min_session_timeout || session > config_.max_session_timeout) {
    out.error_code = ErrorCode::invalid_session_timeout;
    return out;
  }
  std::shared_ptr<Group> g = find(req.group_id);
  const bool fresh = !g || g->members.empty();
  if (req.protocol_type.empty() || req.protocols.empty() ||
      (!fresh && (g->protocol_type != req.protocol_type || !common_protocol(*g, req.protocols)))) {
    out.error_code = ErrorCode::inconsistent_group_protocol;
    return out;
  }
  const bool pending = g && g->pending_members.erase(req.member_id) > 0;
  if (!req.member_id.empty() && !pending && (!g || g->members.count(req.member_id) == 0)) {
    out.error_code = ErrorCode::unknown_member_id;
    return out;
  }
  g = get_or_create(req.group_id, partition);
  if (req.member_id.empty()) {
    // KIP-394 (JoinGroup v4+, and this broker speaks only v5): a new member first gets its id and
    // must join again with it. Unique across coordinators and their restarts: broker, incarnation,
    // counter.
    out.member_id = fmt::format("{}-{}.{}-{}", client_id.empty() ? "member" : client_id, replicas_.self(),
                                env_.incarnation(), ++next_member_);
    g->pending_members[out.member_id] = env_.now() + session;
    out.error_code = ErrorCode::member_id_required;
    return out;
  }
  g->protocol_type = req.protocol_type;
  const std::string& id = req.member_id;
  Member& m = g->members[id];
  m.id = id;
  m.client_id = client_id;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms > 0 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  m.protocols = req.protocols;
  m.awaiting_join = true;
  m.heartbeat_deadline = env_.now() + session;
  if (g->state != GroupState::preparing_rebalance) prepare_rebalance(*g, pending ? "join" : "rejoin");
  try_complete_join(*g);
  out.member_id = id;
  out.error_code = join_wait(*g, id, env_.now() + ms(m.rebalance_timeout_ms) + sim::Duration::s(5));
  if (out.error_code != ErrorCode::none) return out;
  out.generation_id = g->generation;
  out.protocol_name = g->protocol;
  out.leader = g->leader;
  if (id == g->leader) out.members = g->joined;
  return out;
}

// Waits until the member's join completes; the group may be unloaded or the member dropped meanwhile.
ErrorCode GroupCoordinator::join_wait(Group& g, const std::string& member_id, sim::Instant give_up) {
  while (true) {
    if (g.dead) return ErrorCode::not_coordinator;
    auto it = g.members.find(member_id);
    if (it == g.members.end()) return ErrorCode::unknown_member_id;
    if (!it->second.awaiting_join) return ErrorCode::none;
    if (!signal_.wait_until(give_up) && env_.now() >= give_up) return ErrorCode::rebalance_in_progress;
  }
}

proto::SyncGroupResponse GroupCoordinator::sync(const proto::SyncGroupRequest& req) {
  proto::SyncGroupResponse out;
  int32_t partition = 0;
  out.error_code = check_coordinator(req.group_id, &partition);
  if (out.error_code != ErrorCode::none) return out;
  std::shared_ptr<Group> g = find(req.group_id);
  if (!g || g->members.count(req.member_id) == 0) {
    out.error_code = ErrorCode::unknown_member_id;
    return out;
  }
  if (req.generation_id != g->generation) {
    out.error_code = ErrorCode::illegal_generation;
    return out;
  }
  if (g->state == GroupState::preparing_rebalance) {
    out.error_code = ErrorCode::rebalance_in_progress;
    return out;
  }
  g->members.at(req.member_id).heartbeat_deadline = env_.now() + ms(g->members.at(req.member_id).session_timeout_ms);
  if (g->state == GroupState::completing_rebalance && req.member_id == g->leader) {
    out.error_code = sync_as_leader(g, req);
    if (out.error_code != ErrorCode::none) return out;
  }
  const proto::GenerationId generation = g->generation;
  // Followers wait for the leader's assignment (bounded by their session: the leader's absence
  // evicts it and moves the group on).
  while (!g->dead && g->generation == generation && g->state == GroupState::completing_rebalance &&
         g->members.count(req.member_id) != 0) {
    (void)signal_.wait_until(env_.now() + sim::Duration::s(1));
  }
  if (g->dead) {
    out.error_code = ErrorCode::not_coordinator;
  } else if (g->members.count(req.member_id) == 0) {
    out.error_code = ErrorCode::unknown_member_id;
  } else if (g->generation != generation || g->state != GroupState::stable) {
    out.error_code = ErrorCode::rebalance_in_progress;
  } else {
    out.assignment = g->members.at(req.member_id).assignment;
  }
  return out;
}

// The leader's SyncGroup: record the assignment, persist the group, then it becomes Stable.
ErrorCode GroupCoordinator::sync_as_leader(const std::shared_ptr<Group>& g, const proto::SyncGroupRequest& req) {
  const proto::GenerationId generation = g->generation;
  for (auto& [id, m] : g->members) m.assignment.clear();
  for (const auto& a : req.assignments) {
    auto it = g->members.find(a.member_id);
    if (it != g->members.end()) it->second.assignment = a.assignment;
  }
  const ErrorCode written = write_group(*g);
  if (g->dead) return ErrorCode::not_coordinator;
  if (g->generation != generation || g->state != GroupState::completing_rebalance) return ErrorCode::rebalance_in_progress;
  if (written != ErrorCode::none) {
    // Kafka's answer to a failed store: the group starts over.
    prepare_rebalance(*g, "store-failed");
    signal_.notify();
    return written;
  }
  g->state = GroupState::stable;
  env_.emit("group.stable", {{"group", g->id}, {"generation", generation.value()}});
  signal_.notify();
  return ErrorCode::none;
}

proto::HeartbeatResponse GroupCoordinator::heartbeat(const proto::HeartbeatRequest& req) {
  proto::HeartbeatResponse out;
  int32_t partition = 0;
  out.error_code = check_coordinator(req.group_id, &partition);
  if (out.error_code != ErrorCode::none) return out;
  std::shared_ptr<Group> g = find(req.group_id);
  if (!g || g->members.count(req.member_id) == 0) {
    out.error_code = ErrorCode::unknown_member_id;
  } else if (req.generation_id != g->generation) {
    out.error_code = ErrorCode::illegal_generation;
  } else {
    Member& m = g->members.at(req.member_id);
    m.heartbeat_deadline = env_.now() + ms(m.session_timeout_ms);
    if (g->state == GroupState::preparing_rebalance) out.error_code = ErrorCode::rebalance_in_progress;
  }
  return out;
}

proto::LeaveGroupResponse GroupCoordinator::leave(const proto::LeaveGroupRequest& req) {
  proto::LeaveGroupResponse out;
  int32_t partition = 0;
  out.error_code = check_coordinator(req.group_id, &partition);
  if (out.error_code != ErrorCode::none) return out;
  std::shared_ptr<Group> g = find(req.group_id);
  if (!g || g->members.count(req.member_id) == 0) {
    out.error_code = ErrorCode::unknown_member_id;
    return out;
  }
  remove_member(*g, req.member_id, "leave");
  return out;
}

// ---- transitions ---------------------------------------------------------------------------------

void GroupCoordinator::prepare_rebalance(Group& g, std::string_view reason) {
  const bool was_empty = g.state == GroupState::empty;
  g.state = GroupState::preparing_rebalance;
  int32_t longest_ms = 0;
  for (const auto& [id, m] : g.members) longest_ms = std::max(longest_ms, m.rebalance_timeout_ms);
  g.rebalance_deadline = env_.now() + ms(longest_ms);
  // A group that was empty waits a little for more members, so the first generation has them all.
  g.join_not_before = env_.now() + (was_empty ? config_.initial_rebalance_delay : sim::Duration::zero());
  env_.emit("group.rebalance", {{"group", g.id}, {"reason", reason}, {"generation", g.generation.value()}});
}

void GroupCoordinator::try_complete_join(Group& g) {
  if (g.state != GroupState::preparing_rebalance || env_.now() < g.join_not_before) return;
  const bool all = std::all_of(g.members.begin(), g.members.end(), [](const auto& kv) { return kv.second.awaiting_join; });
  if (!all && env_.now() < g.rebalance_deadline) return;
  complete_join(g);
}

void GroupCoordinator::complete_join(Group& g) {
  SL_ASSERT(g.state == GroupState::preparing_rebalance);
  std::vector<std::string> late;
  for (const auto& [id, m] : g.members) {
    if (!m.awaiting_join) late.push_back(id);
  }
  for (const std::string& id : late) {
    g.members.erase(id);
    env_.emit("group.member.removed", {{"group", g.id}, {"member", id}, {"reason", "rebalance-timeout"},
                                       {"generation", g.generation.value()}});
  }
  g.generation = proto::GenerationId{g.generation.value() + 1};
  g.joined.clear();
  if (g.members.empty()) {
    g.state = GroupState::empty;
    g.protocol.clear();
    g.leader.clear();
  } else {
    if (g.members.count(g.leader) == 0) g.leader = g.members.begin()->first;
    g.protocol = choose_protocol(g, g.members.at(g.leader));
    g.state = GroupState::completing_rebalance;
    for (auto& [id, m] : g.members) {
      m.awaiting_join = false;
      m.assignment.clear();
      m.heartbeat_deadline = env_.now() + ms(m.session_timeout_ms);
      const proto::Bytes* meta = m.metadata_for(g.protocol);
      g.joined.push_back({id, std::nullopt, meta ? *meta : proto::Bytes{}});
    }
  }
  const std::string members = member_list(g);
  env_.emit("group.generation", {{"group", g.id}, {"generation", g.generation.value()}, {"protocol", g.protocol},
                                 {"leader", g.leader}, {"members", members}});
  signal_.notify();
}

void GroupCoordinator::remove_member(Group& g, const std::string& member_id, std::string_view reason) {
  if (g.members.erase(member_id) == 0) return;
  env_.emit("group.member.removed", {{"group", g.id}, {"member", member_id}, {"reason", reason},
                                     {"generation", g.generation.value()}});
  if (g.state == GroupState::stable || g.state == GroupState::completing_rebalance) prepare_rebalance(g, reason);
  if (g.state == GroupState::preparing_rebalance) try_complete_join(g);
  signal_.notify();
}

void GroupCoordinator::tick_loop() {
  while (true) {
    env_.sleep(config_.tick);
    tick();
  }
}

// Session expiry and the rebalance deadlines. Never suspends: groups_ stays as it is throughout.
// A member waiting in a join is kept alive by it, as in Kafka; any other member whose session ran
// out goes, also while a rebalance is being prepared, so the rebalance need not wait out its
// deadline for a member that is gone.
void GroupCoordinator::tick() {
  for (auto& [name, g] : groups_) {
    std::erase_if(g->pending_members, [&](const auto& kv) { return kv.second <= env_.now(); });
    std::vector<std::string> expired;
    for (const auto& [id, m] : g->members) {
      if (!m.awaiting_join && m.heartbeat_deadline <= env_.now()) expired.push_back(id);
    }
    for (const std::string& id : expired) remove_member(*g, id, "session-timeout");
    try_complete_join(*g);
  }
}

}  // namespace seedlog::broker::group
