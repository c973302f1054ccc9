#include "broker/controller/controller.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "broker/controller/placement.hpp"

namespace seedlog::broker::controller {

namespace proto = seedlog::protocol;
using metadata::BrokerId;
using metadata::Record;

struct Controller::Op {
  std::function<void()> work;
};

namespace {

uint64_t incarnation_of(const proto::Uuid& id) {
  uint64_t x = 0;
  for (size_t i = 0; i < 8; ++i) x = (x << 8) | id.bytes[i];
  return x ^ (uint64_t{id.bytes[8]} << 1);
}


bool is_controller_api(proto::ApiKey key) {
  switch (key) {
    case proto::ApiKey::broker_registration:
    case proto::ApiKey::broker_heartbeat:
    case proto::ApiKey::create_topics:
    case proto::ApiKey::create_partitions:
    case proto::ApiKey::alter_partition:
    case proto::ApiKey::init_producer_id:
      return true;
    default:
      return false;
  }
}

}  // namespace

Controller::Controller(sim::Env& env, raft::Raft& raft, MetadataStateMachine& metadata, ControllerConfig config)
    : env_(env), raft_(raft), metadata_(metadata), config_(config),
      ops_(std::make_unique<sim::Channel<std::shared_ptr<Op>>>(env.scheduler(), 4096)) {
  metadata_.add_leader_listener([this](std::optional<raft::BrokerId> leader, raft::Epoch epoch) {
    const bool self = leader.has_value() && leader->value() == static_cast<int32_t>(env_.id().value());
    if (!self) {
      active_ = false;
      return;
    }
    // Activation runs on the controller task, after whatever operation is in progress.
    (void)ops_->try_send(std::make_shared<Op>(Op{[this, epoch] { activate(epoch); }}));
  });
}

Controller::~Controller() { ops_->close(); }

void Controller::start() {
  env_.spawn("controller", [this] { loop(); });
  env_.spawn("controller-fencing", [this] { fence_checker(); });
}

void Controller::loop() {
  while (true) {
    auto op = ops_->recv();
    if (!op.ok()) return;
    op.value()->work();
  }
}

void Controller::activate(raft::Epoch epoch) {
  if (raft_.role() != raft::Role::leader || raft_.epoch() != epoch) return;  // already superseded
  if (active_ && active_epoch_ == epoch) return;  // a second request for the same leadership
  // Committing a record of our own epoch commits everything before it, so the image is complete.
  if (!propose({metadata::NoOpRecord{}})) return;
  active_ = true;
  active_epoch_ = epoch;
  last_heartbeat_.clear();
  heard_since_activation_.clear();
  shutting_down_.clear();
  for (const auto& [id, b] : metadata_.image().brokers()) last_heartbeat_[id] = env_.now();
  env_.emit("controller.active", {{"epoch", epoch.value()}, {"brokers", metadata_.image().brokers().size()}});
}

bool Controller::propose(std::vector<Record> records) {
  if (records.empty()) return true;
  std::vector<raft::Bytes> encoded;
  encoded.reserve(records.size());
  for (const Record& r : records) encoded.push_back(metadata::encode(r));
  const raft::ProposeResult result = raft_.propose(std::move(encoded), config_.operation_timeout);
  if (!result.ok()) {
    env_.emit("controller.propose_failed", {{"error", raft::to_string(result.error)}});
    active_ = false;  // whatever happened, this node must re-activate before acting again
    // Still the Raft leader (the write only timed out, say while this node was paused): no change of
    // leadership will come to re-activate it, and the followers keep following it, so without this
    // the cluster would have no controller for as long as the leadership lasts.
    if (raft_.role() == raft::Role::leader && !reactivation_queued_) {
      reactivation_queued_ = true;
      const raft::Epoch epoch = raft_.epoch();
      (void)ops_->try_send(std::make_shared<Op>(Op{[this, epoch] {
        reactivation_queued_ = false;
        activate(epoch);
      }}));
    }
    return false;
  }
  return true;
}

std::optional<proto::Response> Controller::handle(const proto::Request& request, const Peer&) {
  if (!is_controller_api(request.header.api_key)) return std::nullopt;
  if (!active_) return respond(request, not_controller(request.header.api_key));
  sim::Promise<proto::Response> done(env_.scheduler());
  auto future = done.future();
  auto shared_done = std::make_shared<sim::Promise<proto::Response>>(std::move(done));
  auto op = std::make_shared<Op>(Op{[this, request, shared_done] { shared_done->set(run(request)); }});
  if (!ops_->try_send(op)) return respond(request, not_controller(request.header.api_key));
  auto result = future.get(config_.operation_timeout);
  if (!result.ok()) return respond(request, not_controller(request.header.api_key));
  return result.value();
}

proto::Response Controller::run(const proto::Request& request) {
  // Re-checked on the controller task: leadership may have moved while the operation queued.
  if (!active_ || raft_.role() != raft::Role::leader || raft_.epoch() != active_epoch_) {
    return respond(request, not_controller(request.header.api_key));
  }
  const int16_t v = request.header.api_version;
  return respond(request, std::visit(
      [&](const auto& body) -> proto::ResponseBody {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, proto::BrokerRegistrationRequest>) return register_broker(body);
        else if constexpr (std::is_same_v<T, proto::BrokerHeartbeatRequest>) return heartbeat(body);
        else if constexpr (std::is_same_v<T, proto::CreateTopicsRequest>) return create_topics(body);
        else if constexpr (std::is_same_v<T, proto::CreatePartitionsRequest>) return create_partitions(body);
        else if constexpr (std::is_same_v<T, proto::AlterPartitionRequest>) return alter_partition(body, v);
        else if constexpr (std::is_same_v<T, proto::InitProducerIdRequest>) return init_producer_id(body);
        else return not_controller(request.header.api_key);
      },
      request.body));
}

proto::ResponseBody Controller::not_controller(proto::ApiKey key) const {
  switch (key) {
    case proto::ApiKey::broker_registration: {
      proto::BrokerRegistrationResponse r;
      r.error_code = proto::ErrorCode::not_controller;
      return r;
    }
    case proto::ApiKey::broker_heartbeat: {
      proto::BrokerHeartbeatResponse r;
      r.error_code = proto::ErrorCode::not_controller;
      return r;
    }
    case proto::ApiKey::alter_partition: {
      proto::AlterPartitionResponse r;
      r.error_code = proto::ErrorCode::not_controller;
      return r;
    }
    case proto::ApiKey::init_producer_id: {
      proto::InitProducerIdResponse r;
      r.error_code = proto::ErrorCode::not_controller;
      return r;
    }
    case proto::ApiKey::create_partitions: {
      proto::CreatePartitionsResponse r;
      r.results.push_back({"", proto::ErrorCode::not_controller, std::string("not the active controller")});
      return r;
    }
    default: {
      proto::CreateTopicsResponse r;
      r.topics.push_back({"", proto::ErrorCode::not_controller, std::string("not the active controller")});
      return r;
    }
  }
}

bool Controller::alive(BrokerId b) const {
  const metadata::BrokerInfo* info = metadata_.image().broker(b);
  if (info == nullptr || info->fenced) return false;
  auto it = shutting_down_.find(b.value());
  return it == shutting_down_.end() || !it->second;
}

// --- brokers -------------------------------------------------------------------------------------

proto::ResponseBody Controller::register_broker(const proto::BrokerRegistrationRequest& r) {
  proto::BrokerRegistrationResponse resp;
  const metadata::Image& img = metadata_.image();
  const uint64_t incarnation = incarnation_of(r.incarnation_id);
  const metadata::BrokerInfo* existing = img.broker(r.broker_id);
  if (existing != nullptr && existing->incarnation == incarnation) {
    resp.broker_epoch = existing->epoch;  // a retry of a registration that already succeeded
    return resp;
  }
  // A new incarnation is refused while the old one may live: only if this controller has actually
  // heard from the old one within the session. The activation-time default is no evidence of life:
  // refusing on it made a restarted broker wait a whole session after every controller change, so
  // under frequent failovers it never got back in (leader-failover seed 53). An old process that
  // does live on is fenced by the new broker epoch all the same.
  if (existing != nullptr && !existing->fenced && heard_since_activation_.count(r.broker_id.value())) {
    auto seen = last_heartbeat_.find(r.broker_id.value());
    if (seen != last_heartbeat_.end() && env_.now() - seen->second < config_.session_timeout) {
      resp.error_code = proto::ErrorCode::duplicate_broker_registration;  // the old process may live on
      return resp;
    }
  }
  if (r.listeners.empty()) {
    resp.error_code = proto::ErrorCode::invalid_request;
    return resp;
  }
  uint32_t node = 0;
  try {
    node = static_cast<uint32_t>(std::stoul(r.listeners.front().host));
  } catch (const std::exception&) {
    resp.error_code = proto::ErrorCode::invalid_request;
    return resp;
  }
  const proto::BrokerEpoch epoch{raft_.log_end_offset().value()};
  std::vector<Record> records{metadata::RegisterBrokerRecord{r.broker_id, epoch, incarnation, node,
                                                            r.listeners.front().port, r.rack.value_or("")}};
  // A restarted broker comes back fenced: it leaves ISRs and leadership until it has caught up.
  if (existing != nullptr) {
    auto moves = move_leadership_away(r.broker_id, true);
    records.insert(records.end(), moves.begin(), moves.end());
  }
  if (!propose(std::move(records))) {
    resp.error_code = proto::ErrorCode::not_controller;
    return resp;
  }
  last_heartbeat_[r.broker_id.value()] = env_.now();
  heard_since_activation_.insert(r.broker_id.value());
  shutting_down_.erase(r.broker_id.value());
  resp.broker_epoch = epoch;
  return resp;
}

proto::ResponseBody Controller::heartbeat(const proto::BrokerHeartbeatRequest& r) {
  proto::BrokerHeartbeatResponse resp;
  const metadata::BrokerInfo* b = metadata_.image().broker(r.broker_id);
  if (b == nullptr || b->epoch != r.broker_epoch) {
    resp.error_code = proto::ErrorCode::stale_broker_epoch;
    return resp;
  }
  last_heartbeat_[r.broker_id.value()] = env_.now();
  heard_since_activation_.insert(r.broker_id.value());
  std::vector<Record> records;
  if (r.want_shut_down) {
    shutting_down_[r.broker_id.value()] = true;
    records = move_leadership_away(r.broker_id, true);
  } else if (b->fenced && !r.want_fence && r.current_metadata_offset.value() >= b->epoch.value()) {
    records.push_back(metadata::UnfenceBrokerRecord{r.broker_id, b->epoch});
  } else if (!b->fenced && r.want_fence) {
    records = fence(r.broker_id);
  }
  if (!propose(std::move(records))) {
    resp.error_code = proto::ErrorCode::not_controller;
    return resp;
  }
  // An unfenced broker may bring offline partitions back.
  if (!r.want_shut_down && !propose(elect_leaderless())) {
    resp.error_code = proto::ErrorCode::not_controller;
    return resp;
  }
  const metadata::BrokerInfo* after = metadata_.image().broker(r.broker_id);
  resp.is_fenced = after == nullptr || after->fenced;
  resp.is_caught_up = r.current_metadata_offset.value() >= b->epoch.value();
  bool leads_something = false;
  for (const auto& [name, t] : metadata_.image().topics()) {
    for (const auto& p : t.partitions) leads_something |= p.leader == r.broker_id;
  }
  resp.should_shut_down = r.want_shut_down && !leads_something;
  return resp;
}

void Controller::fence_checker() {
  while (true) {
    env_.sleep(config_.fence_check_interval);
    if (!active_) continue;
    std::vector<BrokerId> stale;
    for (const auto& [id, b] : metadata_.image().brokers()) {
      auto seen = last_heartbeat_.find(id);
      const bool expired = seen == last_heartbeat_.end() || env_.now() - seen->second >= config_.session_timeout;
      if (!b.fenced && expired) stale.push_back(b.id);
    }
    for (BrokerId b : stale) {
      (void)ops_->try_send(std::make_shared<Op>(Op{[this, b] {
        if (!active_) return;
        const metadata::BrokerInfo* info = metadata_.image().broker(b);
        auto seen = last_heartbeat_.find(b.value());
        const bool still_expired = seen == last_heartbeat_.end() || env_.now() - seen->second >= config_.session_timeout;
        if (info == nullptr || info->fenced || !still_expired) return;  // it came back meanwhile
        env_.emit("controller.fence", {{"broker", b.value()}, {"reason", "session timeout"}});
        (void)propose(fence(b));
      }}));
    }
  }
}

std::vector<Record> Controller::fence(BrokerId broker) {
  const metadata::BrokerInfo* info = metadata_.image().broker(broker);
  if (info == nullptr || info->fenced) return {};
  std::vector<Record> records{metadata::FenceBrokerRecord{broker, info->epoch}};
  auto moves = move_leadership_away(broker, true);
  records.insert(records.end(), moves.begin(), moves.end());
  return records;
}

// Partition changes taking `broker` out: a new leader where it led, and (remove_from_isr) out of
// every ISR unless it is the last member.
std::vector<Record> Controller::move_leadership_away(BrokerId broker, bool remove_from_isr) {
  std::vector<Record> out;
  auto usable = [&](BrokerId b) { return b != broker && alive(b); };
  for (const auto& [name, t] : metadata_.image().topics()) {
    for (const metadata::PartitionInfo& p : t.partitions) {
      if (!p.is_replica(broker)) continue;
      if (!remove_from_isr && p.leader != broker) continue;
      Election e = elect(p, usable, config_.unclean_leader_election);
      if (e.leader == p.leader && e.isr == p.isr) continue;
      const bool new_leader = e.leader != p.leader;
      out.push_back(metadata::PartitionChangeRecord{
          p.topic_id, p.partition, e.isr, e.leader,
          raft::Epoch{p.leader_epoch.value() + (new_leader ? 1 : 0)}, proto::PartitionEpoch{p.partition_epoch.value() + 1},
          e.unclean});
    }
  }
  return out;
}

std::vector<Record> Controller::elect_leaderless() {
  std::vector<Record> out;
  auto usable = [&](BrokerId b) { return alive(b); };
  for (const auto& [name, t] : metadata_.image().topics()) {
    for (const metadata::PartitionInfo& p : t.partitions) {
      if (p.leader != metadata::kNoLeader) continue;
      Election e = elect(p, usable, config_.unclean_leader_election);
      if (e.leader == metadata::kNoLeader) continue;
      out.push_back(metadata::PartitionChangeRecord{p.topic_id, p.partition, e.isr, e.leader,
                                                    raft::Epoch{p.leader_epoch.value() + 1},
                                                    proto::PartitionEpoch{p.partition_epoch.value() + 1}, e.unclean});
    }
  }
  return out;
}

// --- topics --------------------------------------------------------------------------------------

proto::ResponseBody Controller::create_topics(const proto::CreateTopicsRequest& r) {
  proto::CreateTopicsResponse resp;
  std::vector<metadata::BrokerInfo> usable;
  for (const auto& [id, b] : metadata_.image().brokers()) {
    if (alive(b.id)) usable.push_back(b);
  }
  std::vector<Record> records;
  std::set<std::string> seen;
  for (const auto& t : r.topics) {
    auto fail = [&](proto::ErrorCode code, std::string why) { resp.topics.push_back({t.name, code, std::move(why)}); };
    if (t.name.empty() || t.name.size() > 249 || t.name.find('/') != std::string::npos) {
      fail(proto::ErrorCode::invalid_topic_exception, "invalid topic name");
      continue;
    }
    if (metadata_.image().topic(t.name) != nullptr || !seen.insert(t.name).second) {
      fail(proto::ErrorCode::topic_already_exists, "topic exists");
      continue;
    }
    const int32_t partitions = t.num_partitions > 0 ? t.num_partitions : config_.default_partitions;
    const int16_t rf = t.replication_factor > 0 ? t.replication_factor : config_.default_replication_factor;
    if (partitions > 10000) {
      fail(proto::ErrorCode::invalid_partitions, "too many partitions");
      continue;
    }
    if (static_cast<size_t>(rf) > usable.size()) {
      fail(proto::ErrorCode::invalid_replication_factor,
           fmt::format("replication factor {} but {} usable brokers", rf, usable.size()));
      continue;
    }
    const proto::Uuid id = metadata::make_topic_id(t.name, raft_.log_end_offset().value() + static_cast<int64_t>(records.size()));
    records.push_back(metadata::TopicRecord{t.name, id});
    const auto assignment = assign_replicas(usable, partitions, 0, rf, env_.rng().next_u64());
    for (int32_t p = 0; p < partitions; ++p) {
      const auto& replicas = assignment[static_cast<size_t>(p)];
      records.push_back(metadata::PartitionRecord{id, p, replicas, replicas, replicas.front(), raft::Epoch{0},
                                                  proto::PartitionEpoch{0}});
    }
    resp.topics.push_back({t.name, proto::ErrorCode::none, std::nullopt});
  }
  if (!r.validate_only && !propose(std::move(records))) {
    for (auto& t : resp.topics) {
      if (t.error_code == proto::ErrorCode::none) t.error_code = proto::ErrorCode::not_controller;
    }
  }
  return resp;
}

proto::ResponseBody Controller::create_partitions(const proto::CreatePartitionsRequest& r) {
  proto::CreatePartitionsResponse resp;
  std::vector<metadata::BrokerInfo> usable;
  for (const auto& [id, b] : metadata_.image().brokers()) {
    if (alive(b.id)) usable.push_back(b);
  }
  std::vector<Record> records;
  for (const auto& t : r.topics) {
    const metadata::TopicInfo* topic = metadata_.image().topic(t.name);
    auto fail = [&](proto::ErrorCode code, std::string why) { resp.results.push_back({t.name, code, std::move(why)}); };
    if (topic == nullptr) {
      fail(proto::ErrorCode::unknown_topic_or_partition, "no such topic");
      continue;
    }
    const int32_t current = static_cast<int32_t>(topic->partitions.size());
    if (t.count <= current) {
      fail(proto::ErrorCode::invalid_partitions, fmt::format("topic has {} partitions already", current));
      continue;
    }
    const int16_t rf = static_cast<int16_t>(topic->partitions.front().replicas.size());
    if (static_cast<size_t>(rf) > usable.size()) {
      fail(proto::ErrorCode::invalid_replication_factor, "not enough usable brokers");
      continue;
    }
    const auto assignment = assign_replicas(usable, t.count - current, current, rf, env_.rng().next_u64());
    for (int32_t p = current; p < t.count; ++p) {
      const auto& replicas = assignment[static_cast<size_t>(p - current)];
      records.push_back(metadata::PartitionRecord{topic->id, p, replicas, replicas, replicas.front(), raft::Epoch{0},
                                                  proto::PartitionEpoch{0}});
    }
    resp.results.push_back({t.name, proto::ErrorCode::none, std::nullopt});
  }
  if (!r.validate_only && !propose(std::move(records))) {
    for (auto& t : resp.results) {
      if (t.error_code == proto::ErrorCode::none) t.error_code = proto::ErrorCode::not_controller;
    }
  }
  return resp;
}

// --- partitions ----------------------------------------------------------------------------------

proto::ResponseBody Controller::alter_partition(const proto::AlterPartitionRequest& r, int16_t version) {
  proto::AlterPartitionResponse resp;
  const metadata::Image& img = metadata_.image();
  const metadata::BrokerInfo* requester = img.broker(r.broker_id);
  if (requester == nullptr || requester->epoch != r.broker_epoch || requester->fenced) {
    resp.error_code = proto::ErrorCode::stale_broker_epoch;
    return resp;
  }
  std::vector<Record> records;
  for (const auto& t : r.topics) {
    const metadata::TopicInfo* topic = version >= 2 ? img.topic_by_id(t.topic_id) : img.topic(t.topic_name);
    proto::AlterPartitionResponse::Topic out{t.topic_name, t.topic_id, {}, {}};
    for (const auto& part : t.partitions) {
      proto::AlterPartitionResponse::Partition res;
      res.partition_index = part.partition_index;
      const metadata::PartitionInfo* p =
          topic && part.partition_index >= 0 && static_cast<size_t>(part.partition_index) < topic->partitions.size()
              ? &topic->partitions[static_cast<size_t>(part.partition_index)]
              : nullptr;
      std::vector<BrokerId> isr;
      if (version >= 3) {
        for (const auto& m : part.new_isr_with_epochs) isr.push_back(m.broker_id);
      } else {
        isr = part.new_isr;
      }
      auto eligible = [&](size_t i) {
        const metadata::BrokerInfo* b = img.broker(isr[i]);
        if (b == nullptr || !p->is_replica(isr[i])) return false;
        if (isr[i] != r.broker_id && b->fenced) return false;  // only unfenced brokers join an ISR
        return version < 3 || part.new_isr_with_epochs[i].broker_epoch == b->epoch;
      };
      if (p == nullptr) {
        res.error_code = proto::ErrorCode::unknown_topic_or_partition;
      } else if (p->leader != r.broker_id) {
        res.error_code = proto::ErrorCode::not_leader_or_follower;
      } else if (part.leader_epoch != p->leader_epoch) {
        res.error_code = proto::ErrorCode::fenced_leader_epoch;
      } else if (part.partition_epoch != p->partition_epoch) {
        res.error_code = proto::ErrorCode::invalid_update_version;
      } else if (std::find(isr.begin(), isr.end(), r.broker_id) == isr.end() ||
                 std::set<BrokerId>(isr.begin(), isr.end()).size() != isr.size()) {
        res.error_code = proto::ErrorCode::invalid_request;
      } else {
        bool ok = true;
        for (size_t i = 0; i < isr.size(); ++i) ok = ok && eligible(i);
        if (!ok) {
          res.error_code = proto::ErrorCode::ineligible_replica;
        } else {
          records.push_back(metadata::PartitionChangeRecord{p->topic_id, p->partition, isr, p->leader, p->leader_epoch,
                                                            proto::PartitionEpoch{p->partition_epoch.value() + 1}, false});
          res.leader_id = p->leader;
          res.leader_epoch = p->leader_epoch;
          res.isr = isr;
          res.partition_epoch = proto::PartitionEpoch{p->partition_epoch.value() + 1};
        }
      }
      if (res.error_code != proto::ErrorCode::none && p != nullptr) {
        res.leader_id = p->leader;  // the current state, so the leader can catch up
        res.leader_epoch = p->leader_epoch;
        res.isr = p->isr;
        res.partition_epoch = p->partition_epoch;
      }
      out.partitions.push_back(std::move(res));
    }
    resp.topics.push_back(std::move(out));
  }
  if (!propose(std::move(records))) {
    resp = proto::AlterPartitionResponse{};
    resp.error_code = proto::ErrorCode::not_controller;
  }
  return resp;
}

proto::ResponseBody Controller::init_producer_id(const proto::InitProducerIdRequest&) {
  proto::InitProducerIdResponse resp;
  const int64_t id = metadata_.image().next_producer_id();
  if (!propose({metadata::ProducerIdsRecord{BrokerId{-1}, proto::BrokerEpoch{-1}, id + config_.producer_id_block}})) {
    resp.error_code = proto::ErrorCode::not_controller;
    return resp;
  }
  resp.producer_id = proto::ProducerId{id};
  resp.producer_epoch = proto::ProducerEpoch{0};
  return resp;
}

}  // namespace seedlog::broker::controller
