#include "broker/server/lifecycle.hpp"

#include <string>

namespace seedlog::broker::server {

namespace proto = seedlog::protocol;

BrokerLifecycle::BrokerLifecycle(sim::Env& env, raft::Raft& raft, controller::MetadataStateMachine& metadata,
                                 RpcClient& rpc, LifecycleConfig config)
    : env_(env), raft_(raft), metadata_(metadata), rpc_(rpc), config_(std::move(config)) {
  // A new incarnation for every process start: how the controller tells a restart from a retry.
  for (size_t i = 0; i < incarnation_.bytes.size(); i += 8) {
    const uint64_t x = env_.rng().next_u64();
    for (size_t k = 0; k < 8; ++k) incarnation_.bytes[i + k] = static_cast<uint8_t>(x >> (8 * k));
  }
}

void BrokerLifecycle::start() {
  env_.spawn("broker-lifecycle", [this] { run(); });
}

std::optional<sim::NodeId> BrokerLifecycle::controller() const {
  auto leader = raft_.leader();
  if (!leader) return std::nullopt;
  return sim::NodeId{static_cast<uint32_t>(leader->value())};  // broker ids are node ids
}

void BrokerLifecycle::run() {
  while (true) {
    if (!epoch_) {
      if (!register_once()) {
        env_.sleep(config_.retry_backoff);
        continue;
      }
    }
    if (!heartbeat_once()) {
      env_.sleep(config_.retry_backoff);
      continue;
    }
    env_.sleep(config_.heartbeat_interval);
  }
}

bool BrokerLifecycle::register_once() {
  auto node = controller();
  if (!node) return false;
  proto::BrokerRegistrationRequest req;
  req.broker_id = proto::BrokerId{static_cast<int32_t>(env_.id().value())};
  req.cluster_id = "seedlog";
  req.incarnation_id = incarnation_;
  req.listeners.push_back({"PLAINTEXT", std::to_string(env_.id().value()), config_.kafka_port, 0, {}});
  if (!config_.rack.empty()) req.rack = config_.rack;
  auto resp = rpc_.call_as<proto::BrokerRegistrationResponse>(*node, config_.controller_port, req, 0,
                                                             config_.request_timeout);
  if (!resp.ok() || resp->error_code != proto::ErrorCode::none) return false;
  epoch_ = resp->broker_epoch;
  fenced_ = true;
  env_.emit("broker.registered", {{"broker_epoch", epoch_->value()}});
  return true;
}

bool BrokerLifecycle::heartbeat_once() {
  auto node = controller();
  if (!node || !epoch_) return false;
  proto::BrokerHeartbeatRequest req;
  req.broker_id = proto::BrokerId{static_cast<int32_t>(env_.id().value())};
  req.broker_epoch = *epoch_;
  req.current_metadata_offset = proto::Offset{metadata_.image().last_offset()};
  req.want_fence = false;
  req.want_shut_down = want_shutdown_;
  auto resp = rpc_.call_as<proto::BrokerHeartbeatResponse>(*node, config_.controller_port, req, 0,
                                                          config_.request_timeout);
  if (!resp.ok()) return false;
  if (resp->error_code == proto::ErrorCode::stale_broker_epoch) {
    epoch_.reset();  // the controller lost this registration: register again
    return false;
  }
  if (resp->error_code != proto::ErrorCode::none) return false;
  if (resp->is_fenced != fenced_) env_.emit("broker.fenced_state", {{"fenced", resp->is_fenced}});
  fenced_ = resp->is_fenced;
  shutdown_allowed_ = resp->should_shut_down;
  return true;
}

}  // namespace seedlog::broker::server
