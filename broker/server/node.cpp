#include "broker/server/node.hpp"

#include <fmt/format.h>

namespace seedlog::broker::server {

namespace proto = seedlog::protocol;

BrokerNode::BrokerNode(sim::Env& env, NodeConfig config) : env_(env), config_(std::move(config)) {
  const raft::BrokerId self{static_cast<int32_t>(env_.id().value())};
  config_.raft.self = self;
  config_.raft.voters = config_.voters;
  config_.raft.port = config_.lifecycle.controller_port;
  config_.raft.on_halt = [this](const std::string& why) { halt(why); };
  if (config_.replication.defects.unclean_isr_of_one) config_.controller.unclean_leader_election = true;
  metadata_ = std::make_unique<controller::MetadataStateMachine>(env_);
  raft_ = std::make_unique<raft::Raft>(env_, config_.raft, *metadata_);
  rpc_ = std::make_unique<RpcClient>(env_, RpcClientOptions{.client_id = fmt::format("broker-{}", self)});
  for (const raft::Voter& v : config_.voters) {
    if (v.id == self) controller_ = std::make_unique<controller::Controller>(env_, *raft_, *metadata_, config_.controller);
  }
  lifecycle_ = std::make_unique<BrokerLifecycle>(env_, *raft_, *metadata_, *rpc_, config_.lifecycle);
  replicas_ = std::make_unique<replication::ReplicaManager>(
      env_, *metadata_,
      replication::ReplicaManagerHooks{
          .broker_epoch = [this] { return lifecycle_->broker_epoch(); },
          .active_controller = [this]() -> std::optional<sim::NodeId> {
            auto leader = raft_->leader();
            if (!leader) return std::nullopt;
            return sim::NodeId{static_cast<uint32_t>(leader->value())};  // broker ids are node ids
          },
          .kafka_port = config_.lifecycle.kafka_port,
          .controller_port = config_.lifecycle.controller_port,
          .storage_failed = [this](const std::string& why) { halt(why); }},
      config_.replication);
  groups_ = std::make_unique<group::GroupCoordinator>(
      env_, *replicas_, config_.group,
      group::CoordinatorHooks{.create_offsets_topic = [this](int32_t partitions, int16_t rf) {
        create_offsets_topic(partitions, rf);
      }});
}

BrokerNode::~BrokerNode() = default;

sim::Status BrokerNode::start() {
  if (sim::Status st = raft_->start(); !st.ok()) return st;
  if (controller_) controller_->start();
  controller_listener_ = std::make_unique<RpcServer>(
      env_, config_.lifecycle.controller_port,
      [this](const proto::Request& r, const Peer& p) { return on_controller_listener(r, p); });
  kafka_listener_ = std::make_unique<RpcServer>(
      env_, config_.lifecycle.kafka_port, [this](const proto::Request& r, const Peer& p) { return on_kafka_listener(r, p); });
  lifecycle_->start();
  replicas_->start();
  groups_->start();
  env_.emit("broker.started", {{"voter", is_voter()}});
  return sim::Status();
}

std::shared_ptr<BrokerNode> BrokerNode::boot(sim::Env& env, const NodeConfig& config) {
  auto node = env.keep(std::make_shared<BrokerNode>(env, config));
  const sim::Status st = node->start();
  // A broker that cannot open its own disk cannot serve; Kafka's process exits, and so does ours
  // (a supervisor, or the scenario's nemesis, decides when it starts again).
  if (!st.ok()) node->halt(fmt::format("start failed: {}", sim::to_string(st.code())));
  return node;
}

// Kafka's LogDirFailureChannel with a single log directory: after a disk failure the broker stops
// at once (Runtime.halt), because after a failed write or fsync the page cache holds bytes of
// unknown durability and nothing of this process may go on acting on them. The node dies as a
// kill leaves it (page cache kept); recovery on the next start decides what the disk holds.
void BrokerNode::halt(const std::string& why) {
  env_.emit("broker.halted", {{"reason", why}});
  env_.exit("broker halted: " + why);
}

std::optional<proto::Response> BrokerNode::on_controller_listener(const proto::Request& request, const Peer& peer) {
  if (auto r = raft_->handle(request, peer)) return r;
  if (controller_) {
    if (auto r = controller_->handle(request, peer)) return r;
  }
  return std::nullopt;
}

std::optional<proto::Response> BrokerNode::on_kafka_listener(const proto::Request& request, const Peer& peer) {
  if (auto r = replicas_->handle(request, peer)) return r;  // the data path: Produce, Fetch, ...
  if (auto r = groups_->handle(request, peer)) return r;    // consumer groups and their offsets
  switch (request.header.api_key) {
    case proto::ApiKey::api_versions: {
      proto::Response r;
      r.api_version = request.header.api_version;
      r.body = proto::supported_api_versions_response();
      return r;
    }
    case proto::ApiKey::metadata:
      return metadata_response(request);
    case proto::ApiKey::create_topics:
    case proto::ApiKey::create_partitions:
    case proto::ApiKey::init_producer_id:
      return forward_to_controller(request);
    default:
      return std::nullopt;  // not offered on this listener (yet): Kafka closes the connection
  }
}

proto::Response BrokerNode::metadata_response(const proto::Request& request) const {
  const auto& req = std::get<proto::MetadataRequest>(request.body);
  const metadata::Image& img = metadata_->image();
  proto::MetadataResponse resp;
  resp.cluster_id = "seedlog";
  resp.controller_id = raft_->leader().value_or(proto::BrokerId{-1});
  for (const auto& [id, b] : img.brokers()) {
    if (b.fenced) continue;  // clients only see brokers that serve
    resp.brokers.push_back({b.id, std::to_string(b.node), b.port, b.rack.empty() ? std::nullopt : std::optional(b.rack)});
  }
  auto add_topic = [&](const metadata::TopicInfo& t) {
    proto::MetadataResponse::Topic out;
    out.name = t.name;
    for (const metadata::PartitionInfo& p : t.partitions) {
      proto::MetadataResponse::Partition part;
      part.partition_index = p.partition;
      part.leader_id = p.leader;
      part.leader_epoch = p.leader_epoch;
      part.replica_nodes = p.replicas;
      part.isr_nodes = p.isr;
      if (p.leader == metadata::kNoLeader) part.error_code = proto::ErrorCode::leader_not_available;
      out.partitions.push_back(std::move(part));
    }
    resp.topics.push_back(std::move(out));
  };
  if (!req.topics) {
    for (const auto& [name, t] : img.topics()) add_topic(t);
  } else {
    for (const auto& want : *req.topics) {
      if (const metadata::TopicInfo* t = img.topic(want.name)) {
        add_topic(*t);
      } else {
        proto::MetadataResponse::Topic missing;
        missing.name = want.name;
        missing.error_code = proto::ErrorCode::unknown_topic_or_partition;
        resp.topics.push_back(std::move(missing));
      }
    }
  }
  proto::Response r;
  r.api_version = request.header.api_version;
  r.body = std::move(resp);
  return r;
}

// KRaft brokers forward admin requests to the active controller and relay its answer.
std::optional<proto::Response> BrokerNode::forward_to_controller(const proto::Request& request) {
  auto leader = raft_->leader();
  if (leader) {
    auto r = rpc_->call(sim::NodeId{static_cast<uint32_t>(leader->value())}, config_.lifecycle.controller_port,
                        request.body, request.header.api_version, config_.forward_timeout);
    if (r.ok()) return std::move(r.value());
  }
  // No controller reachable: answer with the API's own "retry elsewhere" error.
  proto::Response out;
  out.api_version = request.header.api_version;
  if (request.header.api_key == proto::ApiKey::init_producer_id) {
    proto::InitProducerIdResponse body;
    body.error_code = proto::ErrorCode::not_controller;
    out.body = body;
  } else if (request.header.api_key == proto::ApiKey::create_partitions) {
    proto::CreatePartitionsResponse body;
    for (const auto& t : std::get<proto::CreatePartitionsRequest>(request.body).topics)
      body.results.push_back({t.name, proto::ErrorCode::not_controller, std::nullopt});
    out.body = body;
  } else {
    proto::CreateTopicsResponse body;
    for (const auto& t : std::get<proto::CreateTopicsRequest>(request.body).topics)
      body.topics.push_back({t.name, proto::ErrorCode::not_controller, std::nullopt});
    out.body = body;
  }
  return out;
}

// Kafka creates the offsets topic on the first FindCoordinator; the controller places it like any
// topic. The answer does not matter: the client asks again and finds it (or not yet).
void BrokerNode::create_offsets_topic(int32_t partitions, int16_t replication_factor) {
  proto::CreateTopicsRequest req;
  proto::CreateTopicsRequest::Topic topic;
  topic.name = group::kOffsetsTopic;
  topic.num_partitions = partitions;
  topic.replication_factor = replication_factor;
  req.topics.push_back(std::move(topic));
  req.timeout_ms = static_cast<int32_t>(config_.forward_timeout.count_ms());
  proto::Request request;
  request.header.api_key = proto::ApiKey::create_topics;
  request.header.api_version = 4;
  request.body = std::move(req);
  (void)forward_to_controller(request);
}

}  // namespace seedlog::broker::server
