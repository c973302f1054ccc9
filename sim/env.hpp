// Env: everything broker code may touch of the world, for one node.
//
// Code under test gets its node's Env explicitly (FoundationDB's INetwork, LevelDB's Env): time,
// timers, tasks, connections, files, randomness, buggify, trace. There is no other way in: no
// globals, no wall clock, no real IO. An Env lives as long as its node; its process state (the
// objects the boot function keeps) dies with every kill.
#pragma once

#include <any>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include "sim/ids.hpp"
#include "sim/network.hpp"
#include "sim/random.hpp"
#include "sim/result.hpp"
#include "sim/time.hpp"
#include "sim/trace.hpp"

namespace seedlog::sim {

class Buggify;
class Disk;
class Scheduler;
struct TaskGroup;

class Env {
 public:
  Env(Scheduler& scheduler, Network& network, Trace& trace, Buggify& buggify, Disk& disk,
      TaskGroup& group, NodeId id, std::string name, Rng rng);
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  NodeId id() const { return id_; }
  const std::string& name() const { return name_; }
  uint64_t incarnation() const { return incarnation_; }

  // The node's monotonic clock (drift included): for measuring elapsed time and timeouts.
  Instant now() const;
  // The node's wall clock (skew included), e.g. for record timestamps.
  int64_t wall_clock_ms() const;
  // Suspends the calling task for `d` of the node's time.
  void sleep(Duration d);
  void yield();
  // The global instant when `d` of this node's time has passed: for deadlines of sync primitives.
  Instant deadline_after(Duration d) const;

  TaskId spawn(std::string name, std::function<void()> body);

  Result<Listener> listen(Port port);
  Result<Connection> connect(NodeId to, Port port, Duration timeout);
  Result<DatagramSocket> bind_datagram(Port port);

  Disk& disk() { return disk_; }
  Rng& rng() { return rng_; }
  bool buggify(std::string_view site);
  Scheduler& scheduler() { return scheduler_; }

  void emit(std::string_view kind, std::initializer_list<TraceField> fields);
  void emit(std::string_view kind, std::span<const TraceField> fields);
  bool tracing() const;

  // The process exits on its own (exit(), or Kafka's Runtime.halt after a log-directory failure).
  // From this instant no other task of the process runs; at the next event the world stops the
  // process as a kill does (tasks unwound, process state released, sockets closed by the OS, the
  // disk and its page cache untouched) and tells its exit observers (World::on_exit), e.g. a
  // supervisor that restarts it. Call it from one of the node's own tasks: it does not return, the
  // calling task waits until the kill unwinds it.
  [[noreturn]] void exit(std::string_view reason);

  // Keeps `object` alive until the process dies (kill, power loss, restart), then destroys it
  // after every task of the process has been unwound.
  template <class T>
  std::shared_ptr<T> keep(std::shared_ptr<T> object) {
    process_.push_back({&typeid(T), object});
    return object;
  }
  // The first kept object of type T, or nullptr: how tests and scenarios look into a process.
  template <class T>
  T* find() const {
    for (const auto& [type, object] : process_) {
      if (*type == typeid(T)) return static_cast<T*>(object.get());
    }
    return nullptr;
  }

 private:
  friend class World;
  void release_process();

  Scheduler& scheduler_;
  Network& network_;
  Trace& trace_;
  Buggify& buggify_;
  Disk& disk_;
  TaskGroup& group_;
  NodeId id_;
  std::string name_;
  Rng rng_;
  uint64_t incarnation_ = 0;
  std::function<void(std::string_view)> on_exit_;  // set by the World: requests the stop
  std::vector<std::pair<const std::type_info*, std::shared_ptr<void>>> process_;
};

}  // namespace seedlog::sim
