// The simulated world: one seed, one scheduler, the network, and the nodes with their disks.
//
// A test or scenario builds a World, adds nodes with boot functions, schedules faults and runs it.
// Node lifecycle (the fault model of processes and machines):
//   start       runs the boot function as the node's first task, with a new incarnation number;
//   kill        the process dies: its tasks are destroyed (stacks unwound), its process state is
//               released, its sockets are closed by the OS (peers see FIN after buffered data);
//               the disk, page cache included, is untouched;
//   power_loss  the machine loses power: as kill, but its sockets die silently and its disk loses
//               unsynced data (see sim/disk.hpp for the modes);
//   restart     kill if running, then start;
//   pause       stop-the-world (a long GC or SIGSTOP): no task of the node runs, timers and
//               messages wait, until resume;
//   wipe_disk   the disk is replaced by an empty one;
//   clock       per-node wall-clock offset (skew) and drift of the monotonic clock.
//   exit        the process ends itself (Env::exit: a crash-stop such as Kafka's halt after a
//               storage failure): no other task of it runs from that instant, and at the next
//               event it is stopped as a kill stops it; exit observers (on_exit) are told, e.g. a
//               supervisor that restarts it later.
// Kill, power loss and restart requested from one of the node's own tasks take effect at the next
// event, so a task never unwinds itself.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/buggify.hpp"
#include "sim/disk.hpp"
#include "sim/env.hpp"
#include "sim/network.hpp"
#include "sim/random.hpp"
#include "sim/scheduler.hpp"
#include "sim/trace.hpp"

namespace seedlog::sim {

#if defined(SEEDLOG_SANITIZE)
inline constexpr size_t kDefaultStackBytes = 512 * 1024;  // sanitizers need more stack
#else
inline constexpr size_t kDefaultStackBytes = 128 * 1024;
#endif

struct WorldOptions {
  uint64_t seed = 0;
  NetworkOptions network;
  DiskOptions disk;  // for every node unless NodeOptions says otherwise
  BuggifyOptions buggify;
  size_t stack_bytes = kDefaultStackBytes;
};

struct NodeOptions {
  std::optional<DiskOptions> disk;
  Duration clock_offset = Duration::zero();
  int64_t clock_drift_ppm = 0;
};

using BootFn = std::function<void(Env&)>;

enum class NodeState : uint8_t { created, running, killed, powered_off };
std::string_view to_string(NodeState s);

class World {
 public:
  explicit World(WorldOptions options);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  uint64_t seed() const { return options_.seed; }
  const Seed& streams() const { return streams_; }

  // --- nodes ----------------------------------------------------------------------------------
  NodeId add_node(std::string name, BootFn boot, NodeOptions options = {});
  size_t node_count() const { return nodes_.size(); }
  std::vector<NodeId> node_ids() const;
  const std::string& node_name(NodeId id) const;
  NodeState node_state(NodeId id) const;
  bool is_up(NodeId id) const { return node_state(id) == NodeState::running; }
  bool is_paused(NodeId id) const;
  uint64_t incarnation(NodeId id) const;
  Env& env(NodeId id);
  Disk& disk(NodeId id);

  void start(NodeId id);
  void kill(NodeId id);
  void power_loss(NodeId id, std::optional<PowerLossMode> mode = std::nullopt);
  void restart(NodeId id);
  void pause(NodeId id);
  void resume(NodeId id);
  void wipe_disk(NodeId id);
  void set_clock_offset(NodeId id, Duration offset);
  void set_clock_drift(NodeId id, int64_t ppm);
  // Called after a node's process exited on its own (Env::exit), once it is stopped, with the reason
  // it gave; observers may start it again (at once or later).
  using ExitObserver = std::function<void(NodeId, const std::string& reason)>;
  void on_exit(ExitObserver observer) { exit_observers_.push_back(std::move(observer)); }

  // --- tasks and time -------------------------------------------------------------------------
  // A task owned by no node (test drivers, workload controllers): never killed by faults.
  TaskId spawn(std::string name, std::function<void()> body);
  TimerId at(Instant when, std::function<void()> fn);
  TimerId after(Duration delay, std::function<void()> fn) { return at(now() + delay, std::move(fn)); }
  void cancel(TimerId id) { scheduler_->cancel(id); }
  // From a system task: sleep in global time.
  void sleep(Duration d);
  Instant now() const { return scheduler_->now(); }

  RunResult run(RunLimits limits = {});
  RunResult run_for(Duration d) { return run(RunLimits{now() + d, UINT64_MAX}); }
  void stop(std::string reason) { scheduler_->request_stop(std::move(reason)); }

  // --- parts ----------------------------------------------------------------------------------
  Scheduler& scheduler() { return *scheduler_; }
  Network& network() { return *network_; }
  Trace& trace() { return trace_; }
  Buggify& buggify() { return buggify_; }

  // A structured event from the world itself (faults, lifecycle).
  void emit(std::string_view kind, std::initializer_list<TraceField> fields);
  // Every option of the world, for printing with the seed at the start of a run.
  std::vector<std::pair<std::string, std::string>> describe_options() const;
  // "crash in task 'x' on n2 at 1.5s (seed 42): message"
  std::string describe(const RunResult& r) const;

 private:
  struct Node;
  Node& node(NodeId id);
  const Node& node(NodeId id) const;
  bool called_from(NodeId id) const;
  void stop_process(Node& n, bool graceful);
  void exit_requested(NodeId id, std::string_view reason);

  WorldOptions options_;
  Seed streams_;
  Trace trace_;  // before the scheduler, which refers to it
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<Network> network_;
  Buggify buggify_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<ExitObserver> exit_observers_;
};

}  // namespace seedlog::sim
