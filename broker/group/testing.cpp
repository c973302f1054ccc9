#include "broker/group/testing.hpp"

#include <fmt/format.h>

#include "broker/group/config.hpp"
#include "broker/group/coordinator.hpp"

namespace seedlog::broker::group::testing {

namespace {
constexpr std::string_view kGroup = "g";
}

GroupCluster::GroupCluster(ClusterOptions options) : cluster_(std::move(options)) {
  cluster_.world().trace().subscribe([this](const sim::TraceEvent& e) {
    inv_.observe(e);
    if (e.kind == "group.member.assigned" || e.kind == "group.member.revoked") {
      changes_.push_back(Change{std::string(e.get_str("member")), e.kind == "group.member.assigned" ? "assigned" : "revoked",
                                std::string(e.get_str("partitions")), e.get_i64("generation")});
    }
  });
}

GroupCluster::~GroupCluster() = default;

GroupCluster& GroupCluster::start() {
  cluster_.start_all();
  SL_ASSERT_MSG(cluster_.run_until_stable(), "the cluster did not settle");
  return *this;
}

GroupCluster& GroupCluster::create_topic(const std::string& name, int32_t partitions, int16_t rf) {
  const client::AdminResult r = cluster_.create_topic(name, partitions, rf);
  SL_ASSERT_MSG(r.ok(), fmt::format("create_topic {}: {}", name, r.message));
  return *this;
}

GroupCluster& GroupCluster::run_for(sim::Duration d) {
  cluster_.run_for(d);
  return *this;
}

client::GroupMemberConfig GroupCluster::member_config(std::vector<std::string> topics) const {
  std::vector<sim::NodeId> bootstrap;
  for (int i = 0; i < cluster_.size(); ++i) bootstrap.push_back(cluster_.node(i));
  return client::GroupMemberConfig{.bootstrap = std::move(bootstrap),
                                   .group_id = std::string(kGroup),
                                   .topics = std::move(topics),
                                   .session_timeout = sim::Duration::s(3),
                                   .rebalance_timeout = sim::Duration::s(3),
                                   .heartbeat_interval = sim::Duration::ms(300),
                                   .request_timeout = sim::Duration::s(3),
                                   .metadata_refresh = sim::Duration::ms(500)};
}

GroupCluster& GroupCluster::add_member(const std::string& name, client::GroupMemberConfig config,
                                       client::RebalanceListener listener) {
  config.client_id = name;
  auto it = members_.find(name);
  if (it == members_.end()) {
    Slot slot;
    slot.config = config;
    slot.listener = listener;
    const std::string node_name = fmt::format("member-{}", name);
    slot.node = cluster_.world().add_node(node_name, [this, name](sim::Env& env) {
      Slot& s = members_.at(name);
      auto m = env.keep(std::make_shared<client::GroupMember>(env, s.config, s.listener));
      s.member = m;
      m->start();
    });
    it = members_.emplace(name, std::move(slot)).first;
  } else {
    it->second.config = config;
    it->second.listener = listener;
  }
  if (!cluster_.world().is_up(it->second.node)) cluster_.world().start(it->second.node);
  return *this;
}

client::GroupMember* GroupCluster::member(const std::string& name) {
  auto it = members_.find(name);
  if (it == members_.end() || !cluster_.world().is_up(it->second.node)) return nullptr;
  return it->second.member.lock().get();
}

sim::Env& GroupCluster::env(const std::string& name) { return cluster_.world().env(members_.at(name).node); }

GroupCluster& GroupCluster::kill_member(const std::string& name) {
  cluster_.world().kill(members_.at(name).node);
  return *this;
}

GroupCluster& GroupCluster::close_member(const std::string& name) {
  on_member<bool>(name, [this, name] {
    member(name)->close();
    return true;
  });
  return *this;
}

bool GroupCluster::run_until_balanced(const std::vector<std::string>& names, const std::string& topic, int32_t partitions,
                                      sim::Duration limit) {
  return cluster_.run_until(
      [&] {
        std::optional<protocol::GenerationId> generation;
        std::vector<int> owners(static_cast<size_t>(partitions), 0);
        for (const std::string& n : names) {
          client::GroupMember* m = member(n);
          if (m == nullptr || !m->stable()) return false;
          if (generation && *generation != m->generation()) return false;
          generation = m->generation();
        }
        for (const auto& [n, slot] : members_) {
          client::GroupMember* m = member(n);
          if (m == nullptr) continue;
          auto it = m->assignment().find(topic);
          if (it == m->assignment().end()) continue;
          if (std::find(names.begin(), names.end(), n) == names.end()) return false;
          for (int32_t p : it->second) {
            if (p >= partitions) return false;
            ++owners[static_cast<size_t>(p)];
          }
        }
        return std::all_of(owners.begin(), owners.end(), [](int c) { return c == 1; });
      },
      limit, sim::Duration::ms(50));
}

TopicPartitions GroupCluster::assignment(const std::string& name) {
  client::GroupMember* m = member(name);
  return m ? m->assignment() : TopicPartitions{};
}

client::CommitResult GroupCluster::commit(const std::string& name, const client::OffsetMap& offsets) {
  return on_member<client::CommitResult>(name, [this, name, offsets] { return member(name)->commit_sync(offsets); });
}

std::optional<client::OffsetMap> GroupCluster::committed(const std::string& name, const std::vector<TopicPartition>& partitions) {
  return on_member<std::optional<client::OffsetMap>>(name, [this, name, partitions] { return member(name)->committed(partitions); });
}

int GroupCluster::coordinator_of(const std::string& group) {
  auto c = cluster_.active_controller();
  SL_ASSERT(c.has_value());
  const metadata::TopicInfo* t = cluster_.image(*c)->topic(kOffsetsTopic);
  SL_ASSERT_MSG(t != nullptr, "no offsets topic yet");
  return cluster_.leader_of(kOffsetsTopic, offsets_partition_for(group, static_cast<int32_t>(t->partitions.size())));
}

}  // namespace seedlog::broker::group::testing
