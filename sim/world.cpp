#include "sim/world.hpp"

namespace seedlog::sim {

std::string_view to_string(NodeState s) {
  switch (s) {
    case NodeState::created: return "created";
    case NodeState::running: return "running";
    case NodeState::killed: return "killed";
    case NodeState::powered_off: return "powered off";
  }
  return "?";
}

struct World::Node {
  NodeId id;
  BootFn boot;
  TaskGroup group;
  std::unique_ptr<Disk> disk;
  std::unique_ptr<Env> env;
  NodeState state = NodeState::created;
  uint64_t incarnation = 0;
  bool exiting = false;  // the process asked to exit (Env::exit) and waits for its stop
};

World::World(WorldOptions options)
    : options_(std::move(options)), streams_(options_.seed), buggify_(streams_, options_.buggify) {
  scheduler_ = std::make_unique<Scheduler>(streams_.stream("scheduler"), trace_, options_.stack_bytes);
  network_ = std::make_unique<Network>(*scheduler_, streams_.stream("network"), options_.network);
  options_.disk.validate();
  buggify_.on_first_reach([this](std::string_view site, bool enabled) {
    emit("buggify.site", {{"site", site}, {"enabled", enabled}});
  });
}

World::~World() {
  // Tasks first (their unwinding may touch process state, the network and disks), then the rest.
  for (auto& n : nodes_) scheduler_->kill_group(n->group);
  for (auto& n : nodes_) n->env->release_process();
  scheduler_.reset();
}

NodeId World::add_node(std::string name, BootFn boot, NodeOptions options) {
  const NodeId id{static_cast<uint32_t>(nodes_.size())};
  auto n = std::make_unique<Node>();
  n->id = id;
  n->boot = std::move(boot);
  n->group.node = id;
  n->group.name = name;
  n->group.clock.set_wall_offset(options.clock_offset);
  n->group.clock.set_drift_ppm(now(), options.clock_drift_ppm);
  DiskOptions disk_options = options.disk.value_or(options_.disk);
  n->disk = std::make_unique<Disk>(scheduler_.get(), streams_.stream("disk", id.value()), disk_options);
  n->env = std::make_unique<Env>(*scheduler_, *network_, trace_, buggify_, *n->disk, n->group, id,
                                 std::move(name), streams_.stream("node", id.value()));
  n->env->on_exit_ = [this, id](std::string_view reason) { exit_requested(id, reason); };
  network_->add_node(id);
  nodes_.push_back(std::move(n));
  return id;
}

World::Node& World::node(NodeId id) {
  SL_ASSERT_MSG(id.value() < nodes_.size(), fmt::format("no node {}", id));
  return *nodes_[id.value()];
}

const World::Node& World::node(NodeId id) const {
  SL_ASSERT_MSG(id.value() < nodes_.size(), fmt::format("no node {}", id));
  return *nodes_[id.value()];
}

std::vector<NodeId> World::node_ids() const {
  std::vector<NodeId> ids;
  for (const auto& n : nodes_) ids.push_back(n->id);
  return ids;
}

const std::string& World::node_name(NodeId id) const { return node(id).group.name; }
NodeState World::node_state(NodeId id) const { return node(id).state; }
bool World::is_paused(NodeId id) const { return node(id).group.paused; }
uint64_t World::incarnation(NodeId id) const { return node(id).incarnation; }
Env& World::env(NodeId id) { return *node(id).env; }
Disk& World::disk(NodeId id) { return *node(id).disk; }

bool World::called_from(NodeId id) const {
  const TaskGroup* g = scheduler_->current_group();
  return g != nullptr && g == &node(id).group;
}

void World::start(NodeId id) {
  Node& n = node(id);
  SL_ASSERT_MSG(n.state != NodeState::running, fmt::format("{} is already running", n.group.name));
  n.state = NodeState::running;
  n.exiting = false;
  n.incarnation += 1;
  n.env->incarnation_ = n.incarnation;
  network_->node_started(id, n.incarnation);
  emit("node.start", {{"node", n.group.name}, {"incarnation", n.incarnation}});
  scheduler_->spawn(&n.group, "boot", [env = n.env.get(), boot = n.boot] { boot(*env); });
}

void World::stop_process(Node& n, bool graceful) {
  if (!graceful) network_->node_stopped(n.id, false);  // silence first: destructors must not send FINs
  scheduler_->kill_group(n.group);
  n.env->release_process();
  if (graceful) network_->node_stopped(n.id, true);
  n.group.paused = false;
  n.group.held.clear();
}

void World::kill(NodeId id) {
  if (called_from(id)) {
    at(now(), [this, id] { kill(id); });
    return;
  }
  Node& n = node(id);
  if (n.state != NodeState::running) return;
  emit("node.kill", {{"node", n.group.name}});
  stop_process(n, true);
  n.state = NodeState::killed;
}

void World::exit_requested(NodeId id, std::string_view reason) {
  Node& n = node(id);
  SL_ASSERT(n.state == NodeState::running);
  SL_ASSERT(called_from(id));
  // Nothing of the process may run after it decided to exit: hold its other tasks until the stop
  // (a resume from the nemesis meanwhile does not release them).
  n.exiting = true;
  scheduler_->pause_group(n.group);
  at(now(), [this, id, incarnation = n.incarnation, why = std::string(reason)] {
    Node& m = node(id);
    if (m.state != NodeState::running || m.incarnation != incarnation) return;  // a fault came first
    emit("node.exit", {{"node", m.group.name}, {"reason", why}});
    stop_process(m, true);
    m.state = NodeState::killed;
    for (const ExitObserver& observer : exit_observers_) observer(id, why);
  });
}

void World::power_loss(NodeId id, std::optional<PowerLossMode> mode) {
  if (called_from(id)) {
    at(now(), [this, id, mode] { power_loss(id, mode); });
    return;
  }
  Node& n = node(id);
  const PowerLossMode m = mode.value_or(n.disk->options().power_loss_mode);
  emit("node.power_loss", {{"node", n.group.name}, {"mode", to_string(m)},
                           {"unsynced_bytes", n.disk->unsynced_bytes()}});
  if (n.state == NodeState::running) stop_process(n, false);
  n.disk->power_loss(m);
  n.state = NodeState::powered_off;
}

void World::restart(NodeId id) {
  if (called_from(id)) {
    at(now(), [this, id] { restart(id); });
    return;
  }
  if (node(id).state == NodeState::running) kill(id);
  start(id);
}

void World::pause(NodeId id) {
  Node& n = node(id);
  emit("node.pause", {{"node", n.group.name}});
  scheduler_->pause_group(n.group);
}

void World::resume(NodeId id) {
  Node& n = node(id);
  if (n.exiting) return;
  emit("node.resume", {{"node", n.group.name}});
  scheduler_->resume_group(n.group);
}

void World::wipe_disk(NodeId id) {
  Node& n = node(id);
  emit("node.wipe_disk", {{"node", n.group.name}});
  n.disk->wipe();
}

void World::set_clock_offset(NodeId id, Duration offset) {
  Node& n = node(id);
  emit("node.clock_offset", {{"node", n.group.name}, {"offset_ns", offset}});
  n.group.clock.set_wall_offset(offset);
}

void World::set_clock_drift(NodeId id, int64_t ppm) {
  Node& n = node(id);
  if (ppm < -LocalClock::kMaxDriftPpm || ppm > LocalClock::kMaxDriftPpm)
    throw ConfigError(fmt::format("clock drift {} ppm is outside +-{}", ppm, LocalClock::kMaxDriftPpm));
  emit("node.clock_drift", {{"node", n.group.name}, {"ppm", ppm}});
  n.group.clock.set_drift_ppm(now(), ppm);
}

TaskId World::spawn(std::string name, std::function<void()> body) {
  return scheduler_->spawn(nullptr, std::move(name), std::move(body));
}

TimerId World::at(Instant when, std::function<void()> fn) {
  return scheduler_->call_at(std::max(when, now()), std::move(fn));
}

void World::sleep(Duration d) { scheduler_->sleep_until(now() + d); }

RunResult World::run(RunLimits limits) { return scheduler_->run(limits); }

void World::emit(std::string_view kind, std::initializer_list<TraceField> fields) {
  trace_.emit(now(), kNoNode, "-", scheduler_->current_task_name(), kind, fields);
}

std::vector<std::pair<std::string, std::string>> World::describe_options() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("seed", std::to_string(options_.seed));
  for (auto& kv : options_.network.describe()) out.push_back(std::move(kv));
  for (auto& kv : options_.disk.describe()) out.push_back(std::move(kv));
  for (auto& kv : options_.buggify.describe()) out.push_back(std::move(kv));
  out.emplace_back("stack_bytes", std::to_string(options_.stack_bytes));
  return out;
}

std::string World::describe(const RunResult& r) const {
  if (r.crash) {
    return fmt::format("crash in task '{}' on {} at {} (seed {}): {}", r.crash->task, r.crash->node,
                       r.crash->time, options_.seed, r.crash->message);
  }
  return fmt::format("{} at {} after {} events (seed {}){}", to_string(r.reason), r.end_time, r.events,
                     options_.seed, r.detail.empty() ? std::string() : ": " + r.detail);
}

}  // namespace seedlog::sim
