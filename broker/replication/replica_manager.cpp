#include "broker/replication/replica_manager.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "broker/replication/fetcher.hpp"

namespace seedlog::broker::replication {

namespace proto = seedlog::protocol;

std::string replica_client_id(BrokerId broker, BrokerEpoch epoch) {
  return fmt::format("replica-{}-epoch-{}", broker, epoch);
}

std::optional<BrokerEpoch> parse_replica_client_id(const std::optional<std::string>& client_id, BrokerId broker) {
  if (!client_id) return std::nullopt;
  const std::string prefix = fmt::format("replica-{}-epoch-", broker);
  if (client_id->size() <= prefix.size() || client_id->compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  int64_t epoch = 0;
  const char* begin = client_id->data() + prefix.size();
  const char* end = client_id->data() + client_id->size();
  auto [p, ec] = std::from_chars(begin, end, epoch);
  if (ec != std::errc() || p != end) return std::nullopt;
  return BrokerEpoch{epoch};
}

ReplicaManager::ReplicaManager(sim::Env& env, controller::MetadataStateMachine& metadata, ReplicaManagerHooks hooks,
                               ReplicationConfig config)
    : env_(env), metadata_(metadata), hooks_(std::move(hooks)), config_(std::move(config)),
      self_(static_cast<int32_t>(env.id().value())), roles_changed_(env.scheduler()), metadata_signal_(env.scheduler()),
      isr_wakeup_(env.scheduler()),
      sessions_(FetchSessionConfig{.max_sessions = config_.fetch_session_cache_slots,
                                   .eviction_idle = config_.fetch_session_eviction_idle},
                sim::Rng(sim::mix64(sim::fnv1a64("fetch-session-ids") ^ (uint64_t{env.id().value()} << 32) ^ env.incarnation()))) {
  config_.validate();
  SL_ASSERT(hooks_.broker_epoch && hooks_.active_controller);
  fetchers_ = std::make_unique<FetcherManager>(env_, *this, hooks_);
  controller_rpc_ = std::make_unique<RpcClient>(
      env_, RpcClientOptions{.client_id = fmt::format("broker-{}-alter-partition", self_), .connect_timeout = config_.request_timeout});
  // Called on the Raft's apply task after each committed record: only note it, the metadata task
  // does the work (it may wait for the disk, which the apply task must not).
  metadata_.add_listener([this](const metadata::Record&, const metadata::Image&, const metadata::Image&) {
    metadata_dirty_ = true;
    metadata_signal_.notify();
  });
}

ReplicaManager::~ReplicaManager() = default;

void ReplicaManager::start() {
  env_.spawn("replica-metadata", [this] { metadata_loop(); });
  env_.spawn("replica-isr", [this] { isr_loop(); });
  env_.spawn("replica-hw-checkpoint", [this] { checkpoint_loop(); });
  env_.spawn("replica-flush", [this] { flush_loop(); });
}

bool ReplicaManager::ready() const {
  const auto epoch = hooks_.broker_epoch();
  if (!epoch) return false;
  const metadata::BrokerInfo* me = image().broker(self_);
  return me != nullptr && me->epoch == *epoch;
}

Partition* ReplicaManager::partition(std::string_view topic, int32_t partition) {
  auto it = partitions_.find(PartitionKeyLess::Ref{topic, partition});
  return it == partitions_.end() ? nullptr : it->second.get();
}

std::vector<PartitionKey> ReplicaManager::partitions() const {
  std::vector<PartitionKey> out;
  for (const auto& [key, p] : partitions_) out.push_back(key);
  return out;
}

void ReplicaManager::flush_all() {
  for (auto& [key, p] : partitions_) (void)p->flush();
}

bool ReplicaManager::live(BrokerId broker, BrokerEpoch epoch) const {
  const metadata::BrokerInfo* b = image().broker(broker);
  return b != nullptr && !b->fenced && b->epoch == epoch;
}

proto::ErrorCode ReplicaManager::check_replica(BrokerId replica, const std::optional<std::string>& client_id,
                                               BrokerEpoch* epoch) const {
  const auto claimed = parse_replica_client_id(client_id, replica);
  if (!claimed || !live(replica, *claimed)) return proto::ErrorCode::stale_broker_epoch;
  *epoch = *claimed;
  return proto::ErrorCode::none;
}

std::optional<proto::Response> ReplicaManager::handle(const proto::Request& request, const Peer&) {
  switch (request.header.api_key) {
    case proto::ApiKey::produce: return produce(request);
    case proto::ApiKey::fetch: return fetch(request);
    case proto::ApiKey::list_offsets: return list_offsets(request);
    case proto::ApiKey::offset_for_leader_epoch: return offset_for_leader_epoch(request);
    default: return std::nullopt;
  }
}

// ---- roles from the metadata ---------------------------------------------------------------

void ReplicaManager::metadata_loop() {
  while (true) {
    if (!ready()) {
      // Registration and metadata catch-up are announced by the metadata listener; poll as well,
      // since the lifecycle's registration answer is not a metadata record.
      metadata_signal_.wait_until(env_.deadline_after(sim::Duration::ms(50)));
      continue;
    }
    metadata_dirty_ = false;
    reconcile();
    // Offline logs are retried on a timer even without metadata changes.
    if (!metadata_dirty_) metadata_signal_.wait_until(env_.deadline_after(sim::Duration::s(1)));
  }
}

void ReplicaManager::reconcile() {
  std::vector<std::pair<std::string, int32_t>> mine;
  for (const auto& [name, topic] : image().topics()) {
    for (const metadata::PartitionInfo& p : topic.partitions) {
      if (p.is_replica(self_)) mine.emplace_back(name, p.partition);
    }
  }
  for (const auto& [topic, index] : mine) {
    // Read afresh each time: the previous partition's transition may have suspended.
    const metadata::PartitionInfo* info = image().partition(topic, index);
    if (info == nullptr || !info->is_replica(self_)) continue;
    reconcile_partition(metadata::PartitionInfo(*info));
  }
  retire_missing();
}

void ReplicaManager::reconcile_partition(const metadata::PartitionInfo& info) {
  PartitionKey key{info.topic, info.partition};
  auto& slot = partitions_[key];
  if (!slot) slot = std::make_unique<Partition>(env_, key, config_, self_, roles_changed_, hooks_.storage_failed);
  Partition& p = *slot;
  if (!p.is_open()) {
    storage::Status st = p.open();
    if (!st.ok()) {
      env_.emit("replica.open_failed", {{"topic", key.topic}, {"partition", key.partition}, {"error", st.error().to_string()}});
      return;
    }
  }
  if (info.leader == self_) {
    if (p.role() == Role::leader && p.leader_epoch() == info.leader_epoch) {
      p.update_isr(info);
      return;
    }
    fetchers_->remove(key);
    (void)p.become_leader(info);
    return;
  }
  if (p.role() == Role::follower && p.leader_epoch() == info.leader_epoch && p.leader() == info.leader) return;
  fetchers_->remove(key);
  if (p.become_follower(info).ok() && info.leader != metadata::kNoLeader && p.role() == Role::follower) {
    fetchers_->add(p, info.leader);
  }
}

void ReplicaManager::retire_missing() {
  for (auto& [key, p] : partitions_) {
    const metadata::PartitionInfo* info = image().partition(key.topic, key.partition);
    if (info != nullptr && info->is_replica(self_)) continue;
    if (p->role() == Role::none) continue;
    fetchers_->remove(key);
    p->become_none("no longer a replica");
  }
}

// ---- ISR changes ----------------------------------------------------------------------------

void ReplicaManager::isr_loop() {
  while (true) {
    isr_wakeup_.wait_until(env_.deadline_after(config_.isr_check_interval));
    if (ready()) send_isr_proposals();
  }
}

void ReplicaManager::send_isr_proposals() {
  struct Sent {
    Partition* partition;
    uint64_t generation;
    LeaderEpoch leader_epoch;
  };
  const auto my_epoch = hooks_.broker_epoch();
  const auto controller = hooks_.active_controller();
  if (!my_epoch || !controller) return;
  proto::AlterPartitionRequest req;
  req.broker_id = self_;
  req.broker_epoch = *my_epoch;
  std::vector<Sent> sent;
  for (auto& [key, p] : partitions_) {
    const metadata::PartitionInfo* info = image().partition(key.topic, key.partition);
    const metadata::TopicInfo* topic = image().topic(key.topic);
    if (info == nullptr || topic == nullptr || p->role() != Role::leader) continue;
    auto proposal = p->take_isr_proposal(info->replicas, [this](BrokerId b, BrokerEpoch e) { return live(b, e); });
    if (!proposal) continue;
    proto::AlterPartitionRequest::Partition part;
    part.partition_index = key.partition;
    part.leader_epoch = p->leader_epoch();
    part.partition_epoch = p->leader_state()->pending()->against;
    for (BrokerId m : *proposal) {
      const FollowerState* f = p->leader_state()->follower(m);
      const metadata::BrokerInfo* b = image().broker(m);
      const BrokerEpoch e = m == self_ ? *my_epoch : (f && f->fetched) ? f->broker_epoch : b ? b->epoch : BrokerEpoch{-1};
      part.new_isr_with_epochs.push_back({m, e, {}});
    }
    auto it = std::find_if(req.topics.begin(), req.topics.end(), [&](const auto& t) { return t.topic_id == topic->id; });
    if (it == req.topics.end()) {
      req.topics.push_back({key.topic, topic->id, {}, {}});
      it = req.topics.end() - 1;
    }
    it->partitions.push_back(std::move(part));
    sent.push_back({p.get(), p->role_generation(), p->leader_epoch()});
  }
  if (sent.empty()) return;
  env_.emit("replica.alter_partition", {{"partitions", sent.size()}, {"controller", controller->value()}});
  auto resp = controller_rpc_->call_as<proto::AlterPartitionResponse>(*controller, hooks_.controller_port, req, 3,
                                                                    config_.request_timeout);
  // Answers are matched to what is still the same leadership; anything else is stale.
  for (size_t i = 0, t = 0; t < req.topics.size(); ++t) {
    for (size_t k = 0; k < req.topics[t].partitions.size(); ++k, ++i) {
      Sent& s = sent[i];
      if (s.partition->role_generation() != s.generation) continue;
      const proto::AlterPartitionResponse::Partition* answer = nullptr;
      if (resp.ok() && resp->error_code == proto::ErrorCode::none && t < resp->topics.size() &&
          k < resp->topics[t].partitions.size()) {
        answer = &resp->topics[t].partitions[k];
      }
      if (answer != nullptr && answer->error_code == proto::ErrorCode::none && answer->leader_epoch == s.leader_epoch) {
        s.partition->on_alter_partition_answer(answer->isr, answer->partition_epoch);
      } else {
        s.partition->on_alter_partition_failed();
      }
    }
  }
}

// ---- background -----------------------------------------------------------------------------

void ReplicaManager::checkpoint_loop() {
  while (true) {
    env_.sleep(config_.hw_checkpoint_interval);
    for (auto& [key, p] : partitions_) (void)p->checkpoint_hw();
  }
}

void ReplicaManager::flush_loop() {
  if (!config_.log.flush_ms) return;  // the message-count policy runs on append
  while (true) {
    env_.sleep(config_.flush_check_interval);
    for (auto& [key, p] : partitions_) (void)p->maybe_flush();  // a failure halts the broker
  }
}

}  // namespace seedlog::broker::replication
