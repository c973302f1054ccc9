// The leader's read side: Fetch v11 (consumers and followers), ListOffsets v2 and
// OffsetForLeaderEpoch v3/v4.
//
// Fetch sessions (KIP-227, fetch_session.hpp): the request first goes through the session cache,
// which says which partitions to read (a session's all, the omitted ones from their cached
// position) and whether the answer is incremental (only partitions with something new).
// Fetch: only the leader serves (no fetch-from-follower). current_leader_epoch, when given, must be
// the leader's epoch: older is FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH (this leader has not
// caught up with the metadata yet). Consumers read only batches below the HW; followers read up to
// the LEO, and their fetch offset is their LEO, which the leader records once per request (the HW and
// the ISR move from it). An offset below the log start or above the LEO is OFFSET_OUT_OF_RANGE.
// Long poll: with nothing to return, the request waits up to max_wait_ms for new data: for a
// follower an append, for a consumer a HW that passes its offset. It watches only its own
// partitions (Partition::watch): a change elsewhere does not wake it, and a wake-up re-reads only
// the partitions that changed. A HW move alone does not
// complete a follower's fetch (Kafka's DelayedFetch counts bytes), so a follower learns a new HW
// one fetch later: the window KIP-101's first scenario lives in.
#include <fmt/format.h>

#include "broker/replication/replica_manager.hpp"

namespace seedlog::broker::replication {

namespace proto = seedlog::protocol;

namespace {


// FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH for a request epoch that is not the leader's (-1: none given).
proto::ErrorCode check_epoch(const Partition& p, LeaderEpoch requested) {
  if (requested.value() < 0 || requested == p.leader_epoch()) return proto::ErrorCode::none;
  return requested < p.leader_epoch() ? proto::ErrorCode::fenced_leader_epoch : proto::ErrorCode::unknown_leader_epoch;
}

struct FetchSlot {
  const PartitionKey* key = nullptr;
  SessionPartition* cached = nullptr;  // the request fields, and what the session last answered
  Partition* replica = nullptr;
  proto::FetchResponse::Partition answer;
  bool done = false;  // an error, or data
};

// Reads one slot (not done yet) into its answer; returns the bytes read.
size_t read_slot(FetchSlot& s, bool follower, uint64_t& budget) {
  Partition& p = *s.replica;
  const proto::FetchRequest::Partition& request = s.cached->request;
  s.answer = proto::FetchResponse::Partition{};
  s.answer.partition_index = request.partition;
  if (p.role() != Role::leader || check_epoch(p, request.current_leader_epoch) != proto::ErrorCode::none) {
    s.answer.error_code = proto::ErrorCode::not_leader_or_follower;  // the role changed while waiting
    s.done = true;
    return 0;
  }
  size_t bytes = 0;
  std::shared_ptr<storage::Log> log = p.log();
  storage::ReadOptions options{.max_bytes = std::min<uint64_t>(static_cast<uint64_t>(std::max(request.partition_max_bytes, 1)), budget)};
  if (!follower) options.max_offset = p.high_watermark();
  auto read = log ? log->read(request.fetch_offset, options) : storage::Result<storage::ReadResult>(storage::LogError{storage::LogErrc::offline, sim::Errc::ok, "closed"});
  if (!read.ok()) {
    s.answer.error_code = read.code() == storage::LogErrc::offset_out_of_range ? proto::ErrorCode::offset_out_of_range
                                                                              : proto::ErrorCode::kafka_storage_error;
    s.done = true;
  } else if (!read->records.empty()) {
    bytes = read->records.size();
    budget -= std::min<uint64_t>(budget, bytes);
    s.answer.records = std::move(read->records);
    s.done = true;
  }
  s.answer.high_watermark = p.high_watermark();
  s.answer.last_stable_offset = p.high_watermark();
  s.answer.log_start_offset = p.log_start();
  return bytes;
}

// A session's count of requests in service, for the length of one request.
class ReaderGuard {
 public:
  explicit ReaderGuard(std::shared_ptr<FetchSession> session) : session_(std::move(session)) {
    if (session_) ++session_->readers;
  }
  ~ReaderGuard() {
    if (session_) --session_->readers;
  }
  ReaderGuard(const ReaderGuard&) = delete;
  ReaderGuard& operator=(const ReaderGuard&) = delete;

 private:
  std::shared_ptr<FetchSession> session_;
};

// Validates every slot and records the followers' positions (once per request, for every
// partition of a session, the omitted ones at their cached position).
void validate_fetch(ReplicaManager& manager, std::vector<FetchSlot>& slots, BrokerId replica, BrokerEpoch follower_epoch) {
  const bool follower = replica.value() >= 0;
  const metadata::Image& image = manager.image();
  for (FetchSlot& s : slots) {
    const proto::FetchRequest::Partition& request = s.cached->request;
    s.answer.partition_index = request.partition;
    Partition* p = s.replica;
    if (p == nullptr || p->role() != Role::leader || !p->is_open()) {
      s.answer.error_code = image.partition(s.key->topic, request.partition) ? proto::ErrorCode::not_leader_or_follower
                                                                              : proto::ErrorCode::unknown_topic_or_partition;
    } else if (proto::ErrorCode e = check_epoch(*p, request.current_leader_epoch); e != proto::ErrorCode::none) {
      s.answer.error_code = e;
    } else if (follower) {
      const metadata::PartitionInfo* info = image.partition(s.key->topic, request.partition);
      if (info == nullptr || !info->is_replica(replica)) {
        s.answer.error_code = proto::ErrorCode::not_leader_or_follower;
      } else if (!p->on_follower_fetch(replica, request.fetch_offset, follower_epoch)) {
        s.answer.error_code = proto::ErrorCode::offset_out_of_range;
      } else if (!info->in_isr(replica)) {
        manager.wake_isr_task();  // it may be ready to join
      }
    }
    s.done = s.answer.error_code != proto::ErrorCode::none;
  }
}

}  // namespace

proto::Response ReplicaManager::fetch(const proto::Request& request) {
  const auto& req = std::get<proto::FetchRequest>(request.body);
  const bool follower = req.replica_id.value() >= 0;
  proto::FetchResponse resp;
  BrokerEpoch follower_epoch{-1};
  if (follower) {
    resp.error_code = check_replica(req.replica_id, request.header.client_id, &follower_epoch);
    if (resp.error_code != proto::ErrorCode::none) return respond(request, std::move(resp));
  }
  FetchContext ctx = sessions_.open(req, request.header.client_id.value_or(std::string()), follower, env_.scheduler().now());
  if (ctx.error != proto::ErrorCode::none) {
    resp.error_code = ctx.error;
    return respond(request, std::move(resp));
  }
  resp.session_id = ctx.response_session_id;
  if (ctx.session && !ctx.incremental) {
    // Rare (a follower's first fetch, or its fall back after a session error), and what a reader
    // of the trace needs to see session churn after restarts and evictions.
    env_.emit("fetch.session_opened", {{"session", ctx.response_session_id},
                                       {"client", request.header.client_id.value_or(std::string())},
                                       {"partitions", static_cast<int64_t>(ctx.partitions().size())},
                                       {"cached", static_cast<int64_t>(sessions_.size())}});
  }
  const ReaderGuard reading(ctx.session);
  std::vector<FetchSlot> slots;
  slots.reserve(ctx.partitions().size());
  for (auto& [key, cached] : ctx.partitions()) slots.push_back(FetchSlot{&key, &cached, partition(key.topic, key.partition), {}, false});
  validate_fetch(*this, slots, req.replica_id, follower_epoch);
  const sim::Instant deadline = env_.deadline_after(sim::Duration::ms(std::max(req.max_wait_ms, 0)));
  uint64_t budget = static_cast<uint64_t>(std::max(req.max_bytes, 1));
  std::vector<Partition*> watched;  // the partitions still to answer, for the length of the request
  watched.reserve(slots.size());
  for (const FetchSlot& s : slots) watched.push_back(s.done ? nullptr : s.replica);
  PartitionWatch waiter(env_.scheduler(), std::move(watched));
  // Bounded by the deadline: each round reads the partitions that changed, then waits for a change
  // of one of them. A HW move alone does not complete the fetch (it carries no bytes).
  bool any_done = false;
  for (const FetchSlot& s : slots) any_done = any_done || s.done;
  std::vector<size_t> to_read;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!slots[i].done) to_read.push_back(i);
  }
  while (true) {
    for (size_t i : to_read) {
      if (slots[i].done) continue;
      (void)read_slot(slots[i], follower, budget);
      any_done = any_done || slots[i].done;
    }
    if (any_done || req.min_bytes <= 0) break;
    if (!waiter.any_changed() && !waiter.wait_until(deadline)) break;
    to_read = waiter.take();
  }
  // Partitions that changed after their last read answer what they hold now.
  for (size_t i : waiter.take()) {
    if (!slots[i].done) (void)read_slot(slots[i], follower, budget);
  }
  for (FetchSlot& s : slots) {
    const bool include = ctx.session ? FetchSessionCache::must_respond(*s.cached, s.answer) || !ctx.incremental : true;
    if (!include) continue;
    if (resp.responses.empty() || resp.responses.back().topic != s.key->topic) resp.responses.push_back({s.key->topic, {}, {}, {}});
    if (!s.answer.records && s.answer.error_code == proto::ErrorCode::none) s.answer.records = proto::Bytes{};
    resp.responses.back().partitions.push_back(std::move(s.answer));
  }
  return respond(request, std::move(resp));
}

proto::Response ReplicaManager::list_offsets(const proto::Request& request) {
  const auto& req = std::get<proto::ListOffsetsRequest>(request.body);
  proto::ListOffsetsResponse resp;
  for (const auto& t : req.topics) {
    proto::ListOffsetsResponse::Topic out{t.name, {}};
    for (const auto& part : t.partitions) {
      proto::ListOffsetsResponse::Partition a;
      a.partition_index = part.partition_index;
      Partition* p = partition(t.name, part.partition_index);
      if (p == nullptr || p->role() != Role::leader || !p->is_open()) {
        a.error_code = image().partition(t.name, part.partition_index) ? proto::ErrorCode::not_leader_or_follower
                                                                      : proto::ErrorCode::unknown_topic_or_partition;
      } else if (part.timestamp == -2) {
        a.offset = p->log_start();
      } else if (part.timestamp == -1) {
        a.offset = p->high_watermark();  // the latest a read-uncommitted consumer may read up to
      }
      // Any other timestamp needs a time index, which the log does not have: "no such offset" (-1).
      out.partitions.push_back(a);
    }
    resp.topics.push_back(std::move(out));
  }
  return respond(request, std::move(resp));
}

proto::Response ReplicaManager::offset_for_leader_epoch(const proto::Request& request) {
  const auto& req = std::get<proto::OffsetForLeaderEpochRequest>(request.body);
  proto::OffsetForLeaderEpochResponse resp;
  proto::ErrorCode replica_error = proto::ErrorCode::none;
  if (req.replica_id.value() >= 0) {
    BrokerEpoch ignored{-1};
    replica_error = check_replica(req.replica_id, request.header.client_id, &ignored);
  }
  for (const auto& t : req.topics) {
    proto::OffsetForLeaderEpochResponse::Topic out{t.topic, {}, {}};
    for (const auto& part : t.partitions) {
      proto::OffsetForLeaderEpochResponse::Partition a;
      a.partition = part.partition;
      Partition* p = partition(t.topic, part.partition);
      if (replica_error != proto::ErrorCode::none) {
        a.error_code = replica_error;
      } else if (p == nullptr || p->role() != Role::leader || !p->is_open()) {
        a.error_code = image().partition(t.topic, part.partition) ? proto::ErrorCode::not_leader_or_follower
                                                                 : proto::ErrorCode::unknown_topic_or_partition;
      } else if (proto::ErrorCode e = check_epoch(*p, part.current_leader_epoch); e != proto::ErrorCode::none) {
        a.error_code = e;
      } else {
        const storage::EpochEndOffset end = p->log()->end_offset_for_epoch(part.leader_epoch);
        a.leader_epoch = end.epoch;
        a.end_offset = end.end_offset;
      }
      out.partitions.push_back(a);
    }
    resp.topics.push_back(std::move(out));
  }
  return respond(request, std::move(resp));
}

}  // namespace seedlog::broker::replication
