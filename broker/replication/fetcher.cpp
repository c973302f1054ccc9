#include "broker/replication/fetcher.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "broker/client/fetch_session_handler.hpp"
#include "broker/protocol/record_batch.hpp"

namespace seedlog::broker::replication {

namespace proto = seedlog::protocol;

namespace {

// One partition of a fetch in flight.
struct FetchSent {
  uint64_t generation;
  Offset offset;
};

}  // namespace

// One task per source broker. Its partitions change under it (the metadata task adds and removes
// them) while it waits for an answer, so every answer is matched by key and role generation.
class Fetcher {
 public:
  Fetcher(sim::Env& env, ReplicaManager& manager, const ReplicaManagerHooks& hooks, BrokerId source)
      : env_(env), manager_(manager), hooks_(hooks), source_(source), wake_(env.scheduler()) {}

  void start(std::shared_ptr<Fetcher> self) {
    env_.spawn(fmt::format("replica-fetcher-{}", source_), [self] { self->run(); });
  }
  void add(Partition& p) {
    FollowedPartition f;
    f.partition = &p;
    f.generation = p.role_generation();
    f.leader_epoch = p.leader_epoch();
    // The defect truncated already, to the local HW; otherwise find the divergence point first.
    f.truncating = !manager_.config().defects.follower_truncates_to_hw;
    f.query_epoch = p.log() ? p.log()->latest_epoch().value_or(LeaderEpoch{-1}) : LeaderEpoch{-1};
    parts_.insert_or_assign(p.key(), f);
    session_.request_full();  // the leader answers a handed-over partition in full once (its new HW, its errors)
    wake_.notify();
  }
  // The leader's session may still hold a removed partition: the next incremental fetch forgets it.
  bool remove(const PartitionKey& key) { return parts_.erase(key) > 0; }

 private:
  void run();
  bool ensure_client();
  std::vector<PartitionKey> ready(bool truncating) const;
  void truncation_round(const std::vector<PartitionKey>& keys);
  void on_epoch_end(const PartitionKey& key, const proto::OffsetForLeaderEpochResponse::Partition& answer);
  void fetch_round(const std::vector<PartitionKey>& keys);
  void on_fetched(const PartitionKey& key, Offset sent_offset, const proto::FetchResponse::Partition& answer);
  FollowedPartition* current(const PartitionKey& key, uint64_t generation);
  void back_off(const PartitionKey& key);
  sim::Instant next_retry() const;
  void build_fetch(const std::vector<PartitionKey>& keys, proto::FetchRequest& req, std::map<PartitionKey, FetchSent>& sent);

  sim::Env& env_;
  ReplicaManager& manager_;
  const ReplicaManagerHooks& hooks_;
  BrokerId source_;
  Signal wake_;
  std::map<PartitionKey, FollowedPartition> parts_;
  std::unique_ptr<RpcClient> rpc_;
  BrokerEpoch rpc_epoch_{-1};
  // The fetch session with the leader (KIP-227), kept by the consumer's client-side rules: a
  // partition whose fields did not change is left out of an incremental fetch, and one the session
  // holds that this fetch does not want (removed, or backing off) is forgotten.
  client::FetchSessionHandler session_;
};

void Fetcher::run() {
  while (true) {
    const auto truncating = ready(true);
    const auto fetching = ready(false);
    if (truncating.empty() && fetching.empty()) {
      wake_.wait_until(std::min(next_retry(), env_.deadline_after(sim::Duration::s(1))));
      continue;
    }
    if (!ensure_client()) {
      env_.sleep(manager_.config().fetch_backoff);
      continue;
    }
    if (!truncating.empty()) {
      truncation_round(truncating);
      continue;  // settle truncation before fetching anything for those partitions
    }
    fetch_round(fetching);
  }
}

// The client id carries this broker's epoch, so a new registration needs a new client.
bool Fetcher::ensure_client() {
  const auto epoch = hooks_.broker_epoch();
  if (!epoch) return false;
  if (!rpc_ || rpc_epoch_ != *epoch) {
    rpc_ = std::make_unique<RpcClient>(env_, RpcClientOptions{.client_id = replica_client_id(manager_.self(), *epoch),
                                                             .connect_timeout = manager_.config().request_timeout});
    rpc_epoch_ = *epoch;
    // The session belongs to the old client id: the leader lets nobody else use or close it.
    session_.drop_session();
  }
  return true;
}

std::vector<PartitionKey> Fetcher::ready(bool truncating) const {
  std::vector<PartitionKey> out;
  const sim::Instant now = env_.scheduler().now();
  for (const auto& [key, f] : parts_) {
    if (f.truncating == truncating && f.retry_at <= now) out.push_back(key);
  }
  return out;
}

sim::Instant Fetcher::next_retry() const {
  sim::Instant next = sim::Instant::never();
  for (const auto& [key, f] : parts_) next = std::min(next, f.retry_at);
  return next;
}

FollowedPartition* Fetcher::current(const PartitionKey& key, uint64_t generation) {
  auto it = parts_.find(key);
  if (it == parts_.end() || it->second.generation != generation) return nullptr;
  if (it->second.partition->role_generation() != generation) return nullptr;
  return &it->second;
}

void Fetcher::back_off(const PartitionKey& key) {
  auto it = parts_.find(key);
  if (it != parts_.end()) it->second.retry_at = env_.scheduler().now() + manager_.config().fetch_backoff;
}

// ---- truncation -----------------------------------------------------------------------------

void Fetcher::truncation_round(const std::vector<PartitionKey>& keys) {
  proto::OffsetForLeaderEpochRequest req;
  req.replica_id = manager_.self();
  std::map<PartitionKey, uint64_t> sent;
  for (const PartitionKey& key : keys) {
    FollowedPartition& f = parts_.at(key);
    if (f.query_epoch.value() < 0) {
      f.truncating = false;  // an empty epoch cache: nothing of ours can diverge
      continue;
    }
    if (req.topics.empty() || req.topics.back().topic != key.topic) req.topics.push_back({key.topic, {}, {}});
    req.topics.back().partitions.push_back({key.partition, f.leader_epoch, f.query_epoch, {}});
    sent[key] = f.generation;
  }
  if (sent.empty()) return;
  auto resp = rpc_->call_as<proto::OffsetForLeaderEpochResponse>(sim::NodeId{static_cast<uint32_t>(source_.value())},
                                                                hooks_.kafka_port, req, 3, manager_.config().request_timeout);
  if (!resp.ok()) {
    for (const auto& [key, gen] : sent) back_off(key);
    return;
  }
  std::map<PartitionKey, bool> answered;
  for (const auto& t : resp->topics) {
    for (const auto& a : t.partitions) {
      const PartitionKey key{t.topic, a.partition};
      auto it = sent.find(key);
      if (it == sent.end() || current(key, it->second) == nullptr) continue;
      answered[key] = true;
      if (a.error_code != proto::ErrorCode::none) {
        back_off(key);
        continue;
      }
      on_epoch_end(key, a);
    }
  }
  for (const auto& [key, gen] : sent) {
    if (!answered.count(key)) back_off(key);
  }
}

// KIP-101/KIP-279: the leader says where its largest epoch <= ours ends; agree on an epoch, then cut.
void Fetcher::on_epoch_end(const PartitionKey& key, const proto::OffsetForLeaderEpochResponse::Partition& answer) {
  FollowedPartition& f = parts_.at(key);
  Partition& p = *f.partition;
  std::shared_ptr<storage::Log> log = p.log();
  if (!log) return;
  Offset target = p.log_end();
  bool settled = true;
  std::string reason;
  if (answer.leader_epoch.value() < 0 || answer.end_offset.value() < 0) {
    // The leader knows no epoch at or below ours (only possible if its log lost its epoch
    // history): fall back to the HW, the best we know to be committed.
    target = std::min(p.high_watermark(), target);
    reason = "leader has no epoch at or below ours: high watermark";
  } else {
    const storage::EpochEndOffset mine = log->end_offset_for_epoch(answer.leader_epoch);
    if (mine.epoch == answer.leader_epoch || mine.epoch.value() < 0) {
      target = std::min({target, answer.end_offset, mine.end_offset.value() < 0 ? target : mine.end_offset});
      reason = fmt::format("leader epoch {} ends at {}", answer.leader_epoch, answer.end_offset);
    } else {
      // We never had the leader's epoch: everything after our own largest epoch below it diverges.
      // Ask again about that epoch of ours.
      target = std::min({target, answer.end_offset, mine.end_offset});
      reason = fmt::format("leader epoch {} ends at {}, ours {} at {}", answer.leader_epoch, answer.end_offset, mine.epoch,
                           mine.end_offset);
      settled = false;
      f.query_epoch = mine.epoch;
    }
  }
  const uint64_t generation = f.generation;
  const Partition::Step step = p.truncate_to(generation, target, reason);
  FollowedPartition* still = current(key, generation);
  if (still == nullptr) return;  // the role changed while the log was cut
  if (!step.status.ok()) {
    back_off(key);
    return;
  }
  // Every round asks about a smaller epoch, so this ends; the bound only guards against a bug.
  SL_ASSERT_MSG(++still->truncation_rounds < 10000, "the divergence search does not end");
  if (settled) {
    still->truncating = false;
    env_.emit("replica.truncation_settled", {{"topic", key.topic}, {"partition", key.partition},
                                             {"log_end", p.log_end().value()}, {"leader_epoch", still->leader_epoch.value()}});
  }
}

// ---- fetching -------------------------------------------------------------------------------

// The request for `keys`; in an incremental session fetch only the partitions whose fields changed.
void Fetcher::build_fetch(const std::vector<PartitionKey>& keys, proto::FetchRequest& req, std::map<PartitionKey, FetchSent>& sent) {
  const ReplicationConfig& config = manager_.config();
  std::vector<client::FetchSessionHandler::Wanted> wanted;
  wanted.reserve(keys.size());
  for (const PartitionKey& key : keys) {
    const FollowedPartition& f = parts_.at(key);
    Partition& p = *f.partition;
    if (!p.is_open()) continue;
    proto::FetchRequest::Partition part;
    part.partition = key.partition;
    part.current_leader_epoch = f.leader_epoch;
    part.fetch_offset = p.log_end();
    part.log_start_offset = p.log_start();
    part.partition_max_bytes = config.fetch_partition_max_bytes;
    sent[key] = FetchSent{f.generation, part.fetch_offset};
    wanted.push_back({{key.topic, key.partition}, std::move(part)});
  }
  session_.build(std::move(wanted), config.fetch_sessions, req);
}

void Fetcher::fetch_round(const std::vector<PartitionKey>& keys) {
  const ReplicationConfig& config = manager_.config();
  proto::FetchRequest req;
  req.replica_id = manager_.self();
  req.max_wait_ms = static_cast<int32_t>(config.fetch_max_wait.count_ns() / 1000000);
  req.min_bytes = config.fetch_min_bytes;
  req.max_bytes = config.fetch_max_bytes;
  std::map<PartitionKey, FetchSent> sent;
  build_fetch(keys, req, sent);
  if (sent.empty()) return;
  const sim::Duration timeout = config.fetch_max_wait + config.request_timeout;
  auto resp = rpc_->call_as<proto::FetchResponse>(sim::NodeId{static_cast<uint32_t>(source_.value())}, hooks_.kafka_port,
                                                 req, 11, timeout);
  if (!resp.ok()) {
    session_.on_failure();  // the leader may or may not have moved the session's epoch
    for (const auto& [key, s] : sent) back_off(key);
    return;
  }
  const bool session_error = resp->error_code == proto::ErrorCode::fetch_session_id_not_found ||
                             resp->error_code == proto::ErrorCode::invalid_fetch_session_epoch;
  if (!session_.on_answer(resp.value())) {
    if (!session_error) {
      for (const auto& [key, s] : sent) back_off(key);
    }
    return;  // a session error: the next fetch, full, follows at once
  }
  for (const auto& t : resp->responses) {
    for (const auto& a : t.partitions) {
      const PartitionKey key{t.topic, a.partition_index};
      auto it = sent.find(key);
      if (it == sent.end() || current(key, it->second.generation) == nullptr) continue;
      on_fetched(key, it->second.offset, a);
    }
  }
}

void Fetcher::on_fetched(const PartitionKey& key, Offset sent_offset, const proto::FetchResponse::Partition& answer) {
  FollowedPartition& f = parts_.at(key);
  Partition& p = *f.partition;
  if (answer.error_code == proto::ErrorCode::offset_out_of_range) {
    if (answer.log_start_offset.value() > sent_offset.value()) {
      (void)p.truncate_fully_and_start_at(f.generation, answer.log_start_offset, "below the leader's log start");
    } else {
      f.truncating = true;  // ahead of the leader: find the divergence point again
      f.query_epoch = p.log() ? p.log()->latest_epoch().value_or(LeaderEpoch{-1}) : LeaderEpoch{-1};
    }
    return;
  }
  if (answer.error_code != proto::ErrorCode::none) {
    back_off(key);
    return;
  }
  if (p.log_end() != sent_offset) {
    session_.request_full();  // the leader believes it delivered this answer's HW: have it answered in full
    return;       // the log moved meanwhile: fetch again from the new end
  }
  const proto::ByteView records = answer.records ? proto::ByteView(*answer.records) : proto::ByteView();
  const uint64_t generation = f.generation;
  const Partition::Step step = p.append_as_follower(generation, records, answer.high_watermark);
  FollowedPartition* still = current(key, generation);
  if (still == nullptr || step.stale) return;
  if (!step.status.ok()) {
    if (step.status.code() == storage::LogErrc::non_contiguous_offsets || step.status.code() == storage::LogErrc::epoch_regression) {
      still->truncating = true;
      still->query_epoch = p.log() ? p.log()->latest_epoch().value_or(LeaderEpoch{-1}) : LeaderEpoch{-1};
    } else {
      back_off(key);
    }
  }
}

// ---- the manager ----------------------------------------------------------------------------

FetcherManager::FetcherManager(sim::Env& env, ReplicaManager& manager, const ReplicaManagerHooks& hooks)
    : env_(env), manager_(manager), hooks_(hooks) {}

FetcherManager::~FetcherManager() = default;

void FetcherManager::add(Partition& partition, BrokerId leader) {
  SL_ASSERT(leader.value() >= 0);
  SL_ASSERT(leader != manager_.self());
  remove(partition.key());
  auto& slot = fetchers_[leader.value()];
  if (!slot) {
    slot = std::make_shared<Fetcher>(env_, manager_, hooks_, leader);
    slot->start(slot);
  }
  slot->add(partition);
}

void FetcherManager::remove(const PartitionKey& key) {
  for (auto& [source, fetcher] : fetchers_) {
    if (fetcher->remove(key)) return;
  }
}

}  // namespace seedlog::broker::replication
