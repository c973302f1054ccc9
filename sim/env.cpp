#include "sim/env.hpp"

#include <fmt/format.h>

#include "sim/buggify.hpp"
#include "sim/disk.hpp"
#include "sim/scheduler.hpp"

namespace seedlog::sim {

Env::Env(Scheduler& scheduler, Network& network, Trace& trace, Buggify& buggify, Disk& disk,
         TaskGroup& group, NodeId id, std::string name, Rng rng)
    : scheduler_(scheduler), network_(network), trace_(trace), buggify_(buggify), disk_(disk),
      group_(group), id_(id), name_(std::move(name)), rng_(rng) {}

Instant Env::now() const { return group_.clock.local(scheduler_.now()); }

int64_t Env::wall_clock_ms() const { return group_.clock.wall_ns(scheduler_.now()) / 1000000; }

Instant Env::deadline_after(Duration d) const { return group_.clock.deadline(scheduler_.now(), d); }

void Env::sleep(Duration d) {
  SL_ASSERT_MSG(scheduler_.current_group() == &group_, "sleep from a task of another node");
  scheduler_.sleep_until(deadline_after(d));
}

void Env::yield() { scheduler_.yield(); }

TaskId Env::spawn(std::string name, std::function<void()> body) {
  return scheduler_.spawn(&group_, std::move(name), std::move(body));
}

Result<Listener> Env::listen(Port port) { return network_.listen(id_, port); }

Result<Connection> Env::connect(NodeId to, Port port, Duration timeout) {
  return network_.connect(id_, to, port, timeout);
}

Result<DatagramSocket> Env::bind_datagram(Port port) { return network_.bind_datagram(id_, port); }

bool Env::buggify(std::string_view site) { return buggify_(site); }

void Env::emit(std::string_view kind, std::initializer_list<TraceField> fields) {
  emit(kind, std::span<const TraceField>(fields.begin(), fields.size()));
}

void Env::emit(std::string_view kind, std::span<const TraceField> fields) {
  trace_.emit(scheduler_.now(), id_, name_, scheduler_.current_task_name(), kind, fields);
}

bool Env::tracing() const { return trace_.has_listeners(); }

void Env::exit(std::string_view reason) {
  SL_ASSERT_MSG(scheduler_.current_group() == &group_, "exit from outside the node's own tasks");
  SL_ASSERT(on_exit_ != nullptr);
  on_exit_(reason);
  // The world has paused the group and kills it at the next event, which unwinds this task from
  // the wait below. Nothing holds the wait's reference, so it returns only when this task is
  // already being unwound (exit called from a destructor during a kill): a programmer error.
  (void)scheduler_.prepare_wait();
  (void)scheduler_.wait();
  SL_UNREACHABLE(fmt::format("{} resumed a task after exiting", name_));
}

void Env::release_process() {
  // Destroy in reverse order of keep(): later objects may refer to earlier ones.
  while (!process_.empty()) process_.pop_back();
}

}  // namespace seedlog::sim
