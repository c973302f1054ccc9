#include "scenarios/nemesis.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/world.hpp"

namespace seedlog::scenarios {

using sim::Duration;

namespace {

constexpr std::pair<FaultKind, std::string_view> kNames[] = {
    {FaultKind::kill, "kill"},         {FaultKind::power_loss, "power-loss"}, {FaultKind::start, "start"},
    {FaultKind::pause, "pause"},       {FaultKind::resume, "resume"},         {FaultKind::partition, "partition"},
    {FaultKind::heal, "heal"},         {FaultKind::clog, "clog"},             {FaultKind::clock_skew, "clock-skew"},
    {FaultKind::clock_drift, "clock-drift"},   {FaultKind::consumer_pause, "consumer-pause"},
};

struct Active {
  Duration until;
  uint32_t node;
  FaultKind kind;
};

// Builds the schedule fault by fault, keeping the budget.
class Generator {
 public:
  Generator(const NemesisProfile& p, const std::vector<uint32_t>& nodes, const std::vector<uint32_t>& clients, Duration phase,
            sim::Rng& rng)
      : p_(p), nodes_(nodes), clients_(clients), phase_(phase), rng_(rng) {}

  FaultSchedule run() {
    Duration t = rng_.exponential(Duration::zero(), p_.mean_interval);
    while (t + p_.min_fault < phase_) {
      add_one(t);
      t += rng_.exponential(p_.mean_interval / 4, p_.mean_interval);
    }
    out_.events.push_back(FaultEvent{phase_, FaultKind::heal, {}, {}, {}, 0, 0, "end of the fault phase"});
    std::stable_sort(out_.events.begin(), out_.events.end(), [](const FaultEvent& a, const FaultEvent& b) { return a.at < b.at; });
    out_.heal_at = phase_;
    return out_;
  }

 private:
  Duration length(Duration t) { return std::min(rng_.range(p_.min_fault, p_.max_fault), phase_ - t); }

  size_t active(Duration t, std::initializer_list<FaultKind> kinds) const {
    size_t n = 0;
    for (const Active& a : active_) {
      if (a.until > t && std::find(kinds.begin(), kinds.end(), a.kind) != kinds.end()) ++n;
    }
    return n;
  }
  // The taint rule (header comment): whether a node other than `node` is tainted at t.
  bool other_tainted(Duration t, uint32_t node) const {
    return std::any_of(tainted_until_.begin(), tainted_until_.end(), [&](const auto& e) { return e.first != node && e.second > t; });
  }
  // Whether a node other than `node` is down, or restarted less than taint_recovery ago.
  bool other_recovering(Duration t, uint32_t node) const {
    const bool down = std::any_of(active_.begin(), active_.end(), [&](const Active& a) {
      return a.until > t && a.node != node && (a.kind == FaultKind::kill || a.kind == FaultKind::power_loss || a.kind == FaultKind::pause);
    });
    return down || std::any_of(restarted_until_.begin(), restarted_until_.end(), [&](const auto& e) { return e.first != node && e.second > t; });
  }
  bool busy(Duration t, uint32_t node) const {
    return std::any_of(active_.begin(), active_.end(), [&](const Active& a) { return a.until > t && a.node == node; });
  }
  std::optional<uint32_t> pick_idle(Duration t) {
    std::vector<uint32_t> idle;
    for (uint32_t n : nodes_) {
      if (!busy(t, n)) idle.push_back(n);
    }
    if (idle.empty()) return std::nullopt;
    return idle[rng_.uniform(idle.size())];
  }
  void pair(Duration t, Duration d, FaultEvent begin, FaultKind end_kind) {
    const uint32_t id = ++pairs_;
    begin.at = t;
    begin.pair = id;
    FaultEvent end{t + d, end_kind, begin.nodes, {}, {}, 0, id, "end of " + begin.why};
    out_.events.push_back(std::move(begin));
    out_.events.push_back(std::move(end));
  }

  void add_one(Duration t) {
    // consumer-pause is last: with its weight zero the draw is the one of a profile without it.
    const uint64_t weights[] = {p_.kill, p_.power_loss, p_.pause,       p_.partition,
                                p_.clog, p_.clock_skew, p_.clock_drift, clients_.empty() ? 0 : p_.consumer_pause};
    const size_t choice = rng_.weighted(weights);
    const Duration d = length(t);
    switch (choice) {
      case 0: case 1: case 2: {
        const FaultKind kind = choice == 0 ? FaultKind::kill : choice == 1 ? FaultKind::power_loss : FaultKind::pause;
        if (active(t, {FaultKind::kill, FaultKind::power_loss, FaultKind::pause}) >= p_.max_down) return;
        if (kind == FaultKind::power_loss && active(t, {FaultKind::power_loss}) >= p_.max_power_loss_at_once) return;
        auto victim = pick_idle(t);
        if (!victim) return;
        if (p_.taint_recovery) {
          if (other_tainted(t, *victim)) return;
          if (kind == FaultKind::power_loss && other_recovering(t, *victim)) return;
          if (kind == FaultKind::power_loss) tainted_until_[*victim] = t + d + *p_.taint_recovery;
          if (kind != FaultKind::pause) restarted_until_[*victim] = t + d + *p_.taint_recovery;
        }
        active_.push_back(Active{t + d, *victim, kind});
        pair(t, d, FaultEvent{t, kind, {*victim}, {}, {}, 0, 0, fmt::format("{} n{}", to_string(kind), *victim)},
             kind == FaultKind::pause ? FaultKind::resume : FaultKind::start);
        return;
      }
      case 3: {
        if (partition_until_ > t) return;  // one partition at a time: a heal ends all of them
        partition_until_ = t + d;
        FaultEvent e{t, FaultKind::partition, {}, {}, {}, 0, 0, ""};
        std::vector<sim::NodeId> ids;
        for (uint32_t n : nodes_) ids.emplace_back(n);
        const uint64_t shapes[] = {3, 2, 1, 1, 1};
        switch (rng_.weighted(shapes)) {
          case 0: {
            const uint32_t n = nodes_[rng_.uniform(nodes_.size())];
            e.links = sim::partitions::isolate(sim::NodeId{n}, ids);
            e.why = fmt::format("isolate n{}", n);
            break;
          }
          case 1: e.links = sim::partitions::halves(ids, rng_); e.why = "random halves"; break;
          case 2: e.links = sim::partitions::majorities_ring(ids, rng_); e.why = "majorities ring"; break;
          case 3: e.links = sim::partitions::bridge(ids, rng_); e.why = "bridge"; break;
          default: {
            const uint32_t a = nodes_[rng_.uniform(nodes_.size())];
            uint32_t b = nodes_[rng_.uniform(nodes_.size())];
            if (a == b) b = nodes_[(std::find(nodes_.begin(), nodes_.end(), a) - nodes_.begin() + 1) % nodes_.size()];
            e.links = sim::partitions::one_way(sim::NodeId{a}, sim::NodeId{b});
            e.why = fmt::format("one way n{} -> n{}", a, b);
          }
        }
        pair(t, d, std::move(e), FaultKind::heal);
        return;
      }
      case 4: {
        const uint32_t n = nodes_[rng_.uniform(nodes_.size())];
        out_.events.push_back(FaultEvent{t, FaultKind::clog, {n}, {}, d, 0, ++pairs_, fmt::format("clog n{}", n)});
        return;
      }
      case 5: case 6: {
        const uint32_t n = nodes_[rng_.uniform(nodes_.size())];
        const bool skew = choice == 5;
        const int64_t v = skew ? rng_.range(-p_.max_skew_ms, p_.max_skew_ms) * 1000000 : rng_.range(-p_.max_drift_ppm, p_.max_drift_ppm);
        const FaultKind k = skew ? FaultKind::clock_skew : FaultKind::clock_drift;
        const uint32_t id = ++pairs_;
        out_.events.push_back(FaultEvent{t, k, {n}, {}, {}, v, id, fmt::format("{} n{} {}", to_string(k), n, v)});
        out_.events.push_back(FaultEvent{t + d, k, {n}, {}, {}, 0, id, fmt::format("reset {} n{}", to_string(k), n)});
        return;
      }
      case 7: {
        std::vector<uint32_t> awake;  // a client node paused now is not paused again
        for (uint32_t c : clients_) {
          if (!busy(t, c)) awake.push_back(c);
        }
        if (awake.empty()) return;
        const uint32_t n = awake[rng_.uniform(awake.size())];
        const Duration len = std::min(rng_.range(p_.min_consumer_pause, p_.max_consumer_pause), phase_ - t);
        active_.push_back(Active{t + len, n, FaultKind::consumer_pause});
        pair(t, len, FaultEvent{t, FaultKind::consumer_pause, {n}, {}, {}, 0, 0, fmt::format("consumer-pause n{}", n)},
             FaultKind::resume);
        return;
      }
      default:
        return;
    }
  }

  const NemesisProfile& p_;
  const std::vector<uint32_t>& nodes_;
  const std::vector<uint32_t>& clients_;
  Duration phase_;
  sim::Rng& rng_;
  FaultSchedule out_;
  std::vector<Active> active_;
  std::map<uint32_t, Duration> tainted_until_;    // power-lost nodes: back up + taint_recovery
  std::map<uint32_t, Duration> restarted_until_;  // killed or power-lost nodes: back up + taint_recovery
  Duration partition_until_;
  uint32_t pairs_ = 0;
};

}  // namespace

std::string_view to_string(FaultKind k) {
  for (auto [kind, name] : kNames) {
    if (kind == k) return name;
  }
  return "?";
}

std::optional<FaultKind> parse_fault_kind(std::string_view text) {
  for (auto [kind, name] : kNames) {
    if (name == text) return kind;
  }
  return std::nullopt;
}

void NemesisProfile::validate() const {
  if (mean_interval <= Duration::zero()) throw ConfigError("nemesis.mean_interval must be positive");
  if (min_fault < Duration::zero() || max_fault < min_fault)
    throw ConfigError("nemesis.max_fault must be at least nemesis.min_fault, and min_fault not negative");
  if (taint_recovery && *taint_recovery < Duration::zero()) throw ConfigError("nemesis.taint_recovery must not be negative");
  if (min_consumer_pause < Duration::zero() || max_consumer_pause < min_consumer_pause)
    throw ConfigError("nemesis.max_consumer_pause must be at least nemesis.min_consumer_pause, and min_consumer_pause not negative");
  if (max_skew_ms < 0 || max_drift_ppm < 0 || max_drift_ppm > sim::LocalClock::kMaxDriftPpm)
    throw ConfigError(fmt::format("nemesis.max_drift_ppm must be within 0..{}", sim::LocalClock::kMaxDriftPpm));
}

NemesisProfile swarm_profile(sim::Rng& rng, size_t nodes, bool clients) {
  // Each kind is on with probability 1/2 (at least one is), with a weight of 1..4; rates vary 8x.
  NemesisProfile p;
  uint64_t* kinds[] = {&p.kill, &p.power_loss, &p.pause, &p.partition, &p.clog, &p.clock_skew, &p.clock_drift};
  for (uint64_t* k : kinds) *k = rng.chance(sim::Ratio{1, 2}) ? 1 + rng.uniform(4) : 0;
  if (!p.any()) p.kill = 1;
  p.mean_interval = Duration::ms(rng.range(200, 1600));
  p.max_fault = Duration::ms(rng.range(500, 8000));
  p.max_down = nodes > 2 ? (nodes - 1) / 2 : 1;
  if (clients) p.consumer_pause = rng.chance(sim::Ratio{1, 2}) ? 1 + rng.uniform(2) : 0;
  return p;
}

FaultSchedule generate_schedule(const NemesisProfile& profile, const std::vector<uint32_t>& nodes, Duration fault_phase,
                                sim::Rng& rng, const std::vector<uint32_t>& clients) {
  profile.validate();
  SL_ASSERT(!nodes.empty());
  const bool only_consumer_pauses = profile.kill + profile.power_loss + profile.pause + profile.partition + profile.clog +
                                        profile.clock_skew + profile.clock_drift == 0;
  if (!profile.any() || (only_consumer_pauses && clients.empty()))
    return FaultSchedule{{FaultEvent{fault_phase, FaultKind::heal, {}, {}, {}, 0, 0, "end of the fault phase"}}, fault_phase};
  return Generator(profile, nodes, clients, fault_phase, rng).run();
}

std::vector<std::string> budget_violations(const FaultSchedule& schedule, const NemesisProfile& profile) {
  std::vector<std::string> out;
  std::map<uint32_t, FaultKind> down;           // node -> the fault that took it down
  std::map<uint32_t, Duration> tainted_until;    // power-lost nodes (until known once they start)
  std::map<uint32_t, Duration> restarted_until;  // killed or power-lost nodes, once they start
  std::set<uint32_t> power_lost_down;            // power-lost nodes not started yet
  auto tainted_other = [&](Duration t, uint32_t node) {
    if (!profile.taint_recovery) return false;
    for (uint32_t n : power_lost_down) {
      if (n != node) return true;
    }
    return std::any_of(tainted_until.begin(), tainted_until.end(), [&](const auto& e) { return e.first != node && e.second > t; });
  };
  for (const FaultEvent& e : schedule.events) {
    const bool goes_down = e.kind == FaultKind::kill || e.kind == FaultKind::power_loss || e.kind == FaultKind::pause;
    for (uint32_t n : e.nodes) {
      const std::string at = sim::to_string(sim::Instant() + e.at);
      if (goes_down) {
        if (down.count(n)) continue;  // already down: the event changes nothing
        if (tainted_other(e.at, n)) out.push_back(fmt::format("{}: {} n{} while another node is tainted by a power loss", at, to_string(e.kind), n));
        if (e.kind == FaultKind::power_loss && profile.taint_recovery &&
            (std::any_of(down.begin(), down.end(), [&](const auto& d) { return d.first != n; }) ||
             std::any_of(restarted_until.begin(), restarted_until.end(), [&](const auto& r) { return r.first != n && r.second > e.at; }))) {
          out.push_back(fmt::format("{}: power-loss n{} while another node is down or recovering from a restart", at, n));
        }
        down[n] = e.kind;
        if (e.kind == FaultKind::power_loss) power_lost_down.insert(n);
        const auto count = [&](std::initializer_list<FaultKind> kinds) {
          return static_cast<size_t>(std::count_if(down.begin(), down.end(), [&](const auto& d) {
            return std::find(kinds.begin(), kinds.end(), d.second) != kinds.end();
          }));
        };
        if (count({FaultKind::kill, FaultKind::power_loss, FaultKind::pause}) > profile.max_down)
          out.push_back(fmt::format("{}: more than max_down = {} nodes down", at, profile.max_down));
        if (count({FaultKind::power_loss}) > profile.max_power_loss_at_once)
          out.push_back(fmt::format("{}: more than max_power_loss_at_once = {} nodes powered off", at, profile.max_power_loss_at_once));
      } else if (e.kind == FaultKind::start || e.kind == FaultKind::resume) {
        auto it = down.find(n);
        if (it == down.end()) continue;
        if (it->second == FaultKind::power_loss && profile.taint_recovery) tainted_until[n] = e.at + *profile.taint_recovery;
        if (it->second != FaultKind::pause && profile.taint_recovery) restarted_until[n] = e.at + *profile.taint_recovery;
        power_lost_down.erase(n);
        down.erase(it);
      }
    }
  }
  return out;
}

namespace {

// The disks' own faults (failing fsyncs, latent sector errors, misdirected writes) are drawn per
// operation, not scheduled: the heal switches them off on every node, so that after it no fault is
// in force (latency, capacity and the power-loss mode stay: they are the hardware, not faults).
void heal_disks(sim::World& world) {
  for (sim::NodeId n : world.node_ids()) {
    sim::DiskOptions o = world.disk(n).options();
    if (o.fsync_error.is_zero() && o.read_corruption.is_zero() && o.misdirected_write.is_zero()) continue;
    o.fsync_error = o.read_corruption = o.misdirected_write = sim::Ratio::zero();
    world.disk(n).set_options(o);
    world.emit("disk.faults_off", {{"node", world.node_name(n)}});
  }
}

}  // namespace

void apply_schedule(sim::World& world, const FaultSchedule& schedule) {
  for (const FaultEvent& e : schedule.events) {
    world.at(sim::Instant() + e.at, [&world, e] {
      world.emit("nemesis", {{"fault", to_string(e.kind)}, {"what", e.why}, {"pair", e.pair}});
      for (uint32_t raw : e.nodes) {
        const sim::NodeId n{raw};
        if (raw >= world.node_count()) continue;
        switch (e.kind) {
          case FaultKind::kill: world.kill(n); break;
          case FaultKind::power_loss: world.power_loss(n); break;
          case FaultKind::start:
            if (!world.is_up(n)) world.start(n);
            break;
          case FaultKind::pause:
          case FaultKind::consumer_pause:
            if (world.is_up(n) && !world.is_paused(n)) world.pause(n);
            break;
          case FaultKind::resume: if (world.is_paused(n)) world.resume(n); break;
          case FaultKind::clog: world.network().clog_node(n, world.now() + e.duration); break;
          case FaultKind::clock_skew: world.set_clock_offset(n, Duration::ns(e.value)); break;
          case FaultKind::clock_drift: world.set_clock_drift(n, e.value); break;
          default: break;
        }
      }
      if (e.kind == FaultKind::partition) world.network().apply(e.links);
      if (e.kind == FaultKind::heal) {
        world.network().heal();
        heal_disks(world);
      }
    });
  }
}

// --- the schedule as data -----------------------------------------------------------------------

std::string FaultSchedule::to_json() const {
  nlohmann::json j;
  j["heal_at_ns"] = heal_at.count_ns();
  j["events"] = nlohmann::json::array();
  for (const FaultEvent& e : events) {
    nlohmann::json x{{"at_ns", e.at.count_ns()}, {"kind", to_string(e.kind)}, {"pair", e.pair}, {"why", e.why}};
    if (!e.nodes.empty()) x["nodes"] = e.nodes;
    if (!e.links.empty()) {
      nlohmann::json links = nlohmann::json::array();
      for (auto [from, to] : e.links) links.push_back({from.value(), to.value()});
      x["links"] = links;
    }
    if (e.duration != Duration::zero()) x["duration_ns"] = e.duration.count_ns();
    if (e.value != 0) x["value"] = e.value;
    j["events"].push_back(x);
  }
  return j.dump();
}

std::optional<FaultSchedule> FaultSchedule::from_json(const std::string& text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<FaultSchedule> {
    if (error) *error = why;
    return std::nullopt;
  };
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("the fault schedule is not a JSON object");
  if (!j.contains("events") || !j["events"].is_array()) return fail("the fault schedule has no 'events' array");
  FaultSchedule s;
  try {
    s.heal_at = Duration::ns(j.value("heal_at_ns", int64_t{0}));
    size_t i = 0;
    for (const auto& x : j["events"]) {
      FaultEvent e;
      e.at = Duration::ns(x.at("at_ns").get<int64_t>());
      auto kind = parse_fault_kind(x.at("kind").get<std::string>());
      if (!kind) return fail(fmt::format("event {}: unknown fault kind '{}'", i, x.at("kind").get<std::string>()));
      e.kind = *kind;
      e.pair = x.value("pair", 0u);
      e.why = x.value("why", std::string());
      if (x.contains("nodes")) e.nodes = x["nodes"].get<std::vector<uint32_t>>();
      if (x.contains("links")) {
        for (const auto& l : x["links"]) e.links.emplace_back(sim::NodeId{l.at(0).get<uint32_t>()}, sim::NodeId{l.at(1).get<uint32_t>()});
      }
      e.duration = Duration::ns(x.value("duration_ns", int64_t{0}));
      e.value = x.value("value", int64_t{0});
      if (e.at < Duration::zero()) return fail(fmt::format("event {}: negative time", i));
      s.events.push_back(std::move(e));
      ++i;
    }
  } catch (const nlohmann::json::exception& ex) {
    return fail(std::string("malformed fault event: ") + ex.what());
  }
  std::stable_sort(s.events.begin(), s.events.end(), [](const FaultEvent& a, const FaultEvent& b) { return a.at < b.at; });
  return s;
}

std::string FaultSchedule::describe() const {
  std::string out;
  for (const FaultEvent& e : events) {
    out += fmt::format("{:>12} {:<12} {}\n", sim::to_string(sim::Instant() + e.at), to_string(e.kind), e.why);
  }
  return out;
}

std::vector<uint32_t> FaultSchedule::pairs() const {
  std::set<uint32_t> ids;
  for (const FaultEvent& e : events) {
    if (e.pair != 0) ids.insert(e.pair);
  }
  return std::vector<uint32_t>(ids.begin(), ids.end());
}

FaultSchedule FaultSchedule::without_pairs(const std::vector<uint32_t>& drop) const {
  const std::set<uint32_t> gone(drop.begin(), drop.end());
  FaultSchedule s;
  s.heal_at = heal_at;
  for (const FaultEvent& e : events) {
    if (e.pair == 0 || !gone.count(e.pair)) s.events.push_back(e);
  }
  return s;
}

}  // namespace seedlog::scenarios
