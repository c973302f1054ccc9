// The nemesis: faults as an explicit schedule.
//
// A schedule is a list of timed fault events, decided up front from the "faults" stream of the
// seed (or read from a repro file, or edited by hand, or cut down by the shrinker). Every fault that
// ends comes with its end as a separate event carrying the same `pair` number, so removing a fault
// removes both halves and the shrinker never leaves a node down forever by accident. Applying a
// schedule to a world just schedules the events; the world does the rest.
//
// Budget: the generator keeps faults inside a contract when the scenario asks for one, e.g. at most
// `max_down` nodes dead, powered off or paused at once (so a quorum or an ISR can survive), at
// most `max_power_loss_at_once` nodes losing unsynced data at once.
//
// Taint (`taint_recovery`, for systems whose durability rests on replication, not on fsync: Kafka's
// partitions; docs/replication.md): a node that lost power lost its unsynced tail, so until it has
// caught up again it may be the only "in-sync" replica of a record it no longer has. It is tainted
// from the power loss until it has been back up for `taint_recovery`; while one node is tainted no
// other node is killed, powered off or paused (the tainted node itself may be hit again). And a
// power loss is only scheduled when every other node is up and has been up for `taint_recovery`
// since its last kill or power loss: a restarted node re-registers and leaves the ISR until it has
// caught up, which could leave the power-lost node as the last in-sync replica (the hole Kafka's
// KIP-966 closes; docs/replication.md has the seeds that showed it). Removing faults never breaks these
// rules (they only forbid combinations), so a shrunk schedule keeps the budget of the schedule it
// came from; budget_violations() checks a schedule from anywhere (a repro file, a hand edit).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/network.hpp"
#include "sim/random.hpp"
#include "sim/time.hpp"

namespace seedlog::sim {
class World;
}

namespace seedlog::scenarios {

enum class FaultKind : uint8_t {
  kill,         // process dies; ends with `start`
  power_loss,   // machine loses power; ends with `start`
  start,        // (re)start a node
  pause,        // stop-the-world; ends with `resume`
  resume,
  partition,    // block `links`; ends with `heal`
  heal,         // remove every partition and clog; switch the disks' fault rates off
  clog,         // delay everything to and from the nodes until `at + duration`
  clock_skew,   // set the nodes' wall-clock offset to `value` ns
  clock_drift,  // set the nodes' monotonic drift to `value` ppm
  // Stop-the-world on a consumer's client node (a long GC pause); ends with `resume`. Drawn over
  // the scenario's client targets, outside the brokers' budget: a frozen consumer outlives its
  // session and comes back as a zombie that still believes it owns its partitions.
  consumer_pause,
};
std::string_view to_string(FaultKind k);
std::optional<FaultKind> parse_fault_kind(std::string_view text);

struct FaultEvent {
  sim::Duration at;                    // from the start of the run
  FaultKind kind = FaultKind::kill;
  std::vector<uint32_t> nodes;         // node ids the event acts on
  sim::LinkSet links;                  // partition: the blocked directed links
  sim::Duration duration;              // clog: how long
  int64_t value = 0;                   // clock_skew ns, clock_drift ppm
  uint32_t pair = 0;                   // fault and its end share a pair number (0: none)
  std::string why;                     // the shape, for people: "isolate n2", "majorities ring"
  bool operator==(const FaultEvent&) const = default;
};

struct FaultSchedule {
  std::vector<FaultEvent> events;  // ordered by `at`
  sim::Duration heal_at;           // after this, no fault is in force (everything started, healed)

  std::string to_json() const;
  static std::optional<FaultSchedule> from_json(const std::string& text, std::string* error);
  std::string describe() const;  // one line per event
  // The schedule without the faults whose pair numbers are listed (both halves go).
  FaultSchedule without_pairs(const std::vector<uint32_t>& pairs) const;
  std::vector<uint32_t> pairs() const;
};

struct NemesisProfile {
  // Relative weights of fault kinds; zero switches a kind off.
  uint64_t kill = 3, power_loss = 1, pause = 1, partition = 3, clog = 1, clock_skew = 1, clock_drift = 0;
  // consumer-pause draws its victims from the client targets, not the brokers; a scenario without
  // client targets never schedules one. Its own length range: to make a zombie, a pause must
  // outlast the consumer's session timeout (6 s in the produce-consume workload).
  uint64_t consumer_pause = 0;
  sim::Duration min_consumer_pause = sim::Duration::s(2);
  sim::Duration max_consumer_pause = sim::Duration::s(15);
  sim::Duration mean_interval = sim::Duration::ms(800);  // between the starts of faults
  sim::Duration min_fault = sim::Duration::ms(50);
  sim::Duration max_fault = sim::Duration::s(5);
  size_t max_down = 1;                // nodes killed, powered off or paused at once
  size_t max_power_loss_at_once = 1;  // nodes that may lose unsynced data at once
  // How long a node stays tainted after it is back up from a power loss; nullopt: no taint rule
  // (what is acknowledged is fsynced, as in the Raft quorum). See the header comment.
  std::optional<sim::Duration> taint_recovery;
  int64_t max_skew_ms = 5000;
  int64_t max_drift_ppm = 1000;
  bool any() const { return kill + power_loss + pause + partition + clog + clock_skew + clock_drift + consumer_pause > 0; }
  void validate() const;
};

// A swarm profile: which faults are on and how often, drawn from the seed itself (swarm testing).
// With `clients` (the scenario runs consumers) consumer-pause is one of the kinds; its draw comes
// last, so the other kinds' draws are those of a profile without clients.
NemesisProfile swarm_profile(sim::Rng& rng, size_t nodes, bool clients = false);

// Faults over `nodes` from time zero until `fault_phase`, then a heal at fault_phase.
// consumer-pause faults (when the profile weighs them) freeze nodes of `clients`.
FaultSchedule generate_schedule(const NemesisProfile& profile, const std::vector<uint32_t>& nodes,
                                sim::Duration fault_phase, sim::Rng& rng, const std::vector<uint32_t>& clients = {});

// Where `schedule` leaves the budget of `profile` (max_down, max_power_loss_at_once and the taint
// rule), one line each; empty when it keeps it.
std::vector<std::string> budget_violations(const FaultSchedule& schedule, const NemesisProfile& profile);

// Schedules every event of `schedule` in `world` (from the world's time zero).
void apply_schedule(sim::World& world, const FaultSchedule& schedule);

}  // namespace seedlog::scenarios
