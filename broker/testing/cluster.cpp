#include "broker/testing/cluster.hpp"

#include <fmt/format.h>

namespace seedlog::broker::testing {

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)) {
  options_.world.seed = options_.seed;
  world_ = std::make_unique<sim::World>(options_.world);
  brokers_.resize(static_cast<size_t>(options_.nodes));
  std::vector<raft::Voter> voters;
  for (int i = 0; i < options_.voters; ++i) voters.push_back(raft::Voter{raft::BrokerId{i}, node(i)});
  server::NodeConfig config = options_.node;
  config.voters = voters;
  for (int i = 0; i < options_.nodes; ++i) {
    world_->add_node(fmt::format("n{}", i), [this, i, config](sim::Env& env) {
      brokers_[static_cast<size_t>(i)] = server::BrokerNode::boot(env, config);
    });
  }
  client_ = world_->add_node("client", [](sim::Env&) {});
}

Cluster::~Cluster() = default;

server::BrokerNode* Cluster::broker(int i) {
  if (!world_->is_up(node(i))) return nullptr;
  return brokers_[static_cast<size_t>(i)].lock().get();
}

const metadata::Image* Cluster::image(int i) {
  server::BrokerNode* b = broker(i);
  return b ? &b->image() : nullptr;
}

Cluster& Cluster::start_all() {
  for (int i = 0; i < options_.nodes; ++i) start(i);
  world_->start(client_);
  return *this;
}

Cluster& Cluster::start(int i) {
  if (!world_->is_up(node(i))) world_->start(node(i));
  return *this;
}

Cluster& Cluster::kill(int i) {
  world_->kill(node(i));
  return *this;
}

Cluster& Cluster::power_loss(int i) {
  world_->power_loss(node(i));
  return *this;
}

Cluster& Cluster::restart(int i) {
  world_->restart(node(i));
  return *this;
}

Cluster& Cluster::isolate(int i) {
  std::vector<sim::NodeId> all;
  for (int k = 0; k < options_.nodes; ++k) all.push_back(node(k));
  all.push_back(client_);
  world_->network().apply(sim::partitions::isolate(node(i), all));
  return *this;
}

Cluster& Cluster::heal() {
  world_->network().heal();
  return *this;
}

Cluster& Cluster::run_for(sim::Duration d) {
  const sim::RunResult r = world_->run_for(d);
  SL_ASSERT_MSG(r.reason != sim::StopReason::crashed, world_->describe(r));
  return *this;
}

bool Cluster::run_until(const std::function<bool()>& done, sim::Duration limit, sim::Duration step) {
  const sim::Instant end = world_->now() + limit;
  while (!done()) {
    if (world_->now() >= end) return false;
    run_for(step);
  }
  return true;
}

std::optional<int> Cluster::active_controller() {
  for (int i = 0; i < options_.voters; ++i) {
    server::BrokerNode* b = broker(i);
    if (b && b->controller() && b->controller()->active()) return i;
  }
  return std::nullopt;
}

bool Cluster::run_until_stable(sim::Duration limit) {
  return run_until(
      [this] {
        auto c = active_controller();
        if (!c) return false;
        const metadata::Image* img = image(*c);
        for (int i = 0; i < options_.nodes; ++i) {
          if (!world_->is_up(node(i))) continue;
          const metadata::BrokerInfo* info = img->broker(metadata::BrokerId{i});
          if (info == nullptr || info->fenced) return false;
        }
        return true;
      },
      limit);
}

int Cluster::leader_of(const std::string& topic, int32_t partition) {
  auto c = active_controller();
  SL_ASSERT_MSG(c.has_value(), "no active controller");
  const metadata::PartitionInfo* p = image(*c)->partition(topic, partition);
  SL_ASSERT_MSG(p != nullptr, fmt::format("no partition {}/{}", topic, partition));
  return p->leader.value();
}

template <class T>
T Cluster::on_client(const std::function<T()>& fn, sim::Duration limit) {
  std::optional<T> result;
  world_->env(client_).spawn("test-client", [&] { result = fn(); });
  const bool done = run_until([&] { return result.has_value(); }, limit);
  SL_ASSERT_MSG(done, "the client operation did not finish");
  return std::move(*result);
}

client::AdminResult Cluster::create_topic(const std::string& name, int32_t partitions, int16_t rf) {
  return on_client<client::AdminResult>(
      [&] {
        std::vector<sim::NodeId> bootstrap;
        for (int i = 0; i < options_.nodes; ++i) bootstrap.push_back(node(i));
        client::AdminClient admin(world_->env(client_), client::AdminConfig{.bootstrap = bootstrap});
        return admin.create_topic(name, partitions, rf);
      },
      sim::Duration::s(60));
}

client::AdminResult Cluster::add_partitions(const std::string& name, int32_t total) {
  return on_client<client::AdminResult>(
      [&] {
        std::vector<sim::NodeId> bootstrap;
        for (int i = 0; i < options_.nodes; ++i) bootstrap.push_back(node(i));
        client::AdminClient admin(world_->env(client_), client::AdminConfig{.bootstrap = bootstrap});
        return admin.add_partitions(name, total);
      },
      sim::Duration::s(60));
}

std::optional<protocol::Response> Cluster::ask_controller(int i, protocol::RequestBody body, int16_t version) {
  return on_client<std::optional<protocol::Response>>(
      [&]() -> std::optional<protocol::Response> {
        RpcClient rpc(world_->env(client_));
        auto r = rpc.call(node(i), options_.node.lifecycle.controller_port, body, version, sim::Duration::s(5));
        if (!r.ok()) return std::nullopt;
        return std::move(r.value());
      },
      sim::Duration::s(30));
}

}  // namespace seedlog::broker::testing
