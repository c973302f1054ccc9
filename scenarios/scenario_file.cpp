#include "scenarios/scenario_file.hpp"

#include <algorithm>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "scenarios/cluster_scenarios.hpp"
#include "scenarios/defects.hpp"

namespace seedlog::scenarios {
namespace {

// Thrown while reading a file; carries the line of the offending key.
struct FileError {
  std::string message;
  uint32_t line = 0;
};

uint32_t line_of(const toml::node* node) { return node ? node->source().begin.line : 0; }

// Reads one table, refusing keys it does not know, and typed values naming the key on error.
class TableReader {
 public:
  TableReader(const toml::table* table, std::string prefix) : table_(table), prefix_(std::move(prefix)) {}

  bool present() const { return table_ != nullptr; }

  int64_t integer(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
    const toml::node* n = get(key);
    if (n == nullptr) return fallback;
    auto v = n->value<int64_t>();
    if (!v || !n->is_integer()) throw FileError{fmt::format("key '{}': expected an integer", full(key)), line_of(n)};
    if (*v < min || *v > max) throw FileError{fmt::format("key '{}': {} is not in {}..{}", full(key), *v, min, max), line_of(n)};
    return *v;
  }

  std::string string(std::string_view key, std::string fallback, std::initializer_list<std::string_view> allowed = {}) {
    const toml::node* n = get(key);
    if (n == nullptr) return fallback;
    if (!n->is_string()) throw FileError{fmt::format("key '{}': expected a string", full(key)), line_of(n)};
    std::string v = *n->value<std::string>();
    if (allowed.size() > 0 && std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string names;
      for (auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      throw FileError{fmt::format("key '{}': '{}' is not one of {}", full(key), v, names), line_of(n)};
    }
    return v;
  }

  bool boolean(std::string_view key, bool fallback) {
    const toml::node* n = get(key);
    if (n == nullptr) return fallback;
    if (!n->is_boolean()) throw FileError{fmt::format("key '{}': expected true or false", full(key)), line_of(n)};
    return *n->value<bool>();
  }

  std::vector<std::string> strings(std::string_view key) {
    const toml::node* n = get(key);
    if (n == nullptr) return {};
    const toml::array* a = n->as_array();
    if (a == nullptr) throw FileError{fmt::format("key '{}': expected an array of strings", full(key)), line_of(n)};
    std::vector<std::string> out;
    for (const toml::node& e : *a) {
      if (!e.is_string()) throw FileError{fmt::format("key '{}': expected an array of strings", full(key)), line_of(&e)};
      out.push_back(*e.value<std::string>());
    }
    return out;
  }

  // Every key of the table must have been asked for: the rest are typos or unsupported settings.
  void refuse_unknown_keys() const {
    if (table_ == nullptr) return;
    for (const auto& [key, node] : *table_) {
      if (!asked_.count(std::string(key.str()))) {
        throw FileError{fmt::format("unknown key '{}'", full(key.str())), line_of(&node)};
      }
    }
  }

  void allow(std::string_view key) { asked_.insert(std::string(key)); }

 private:
  const toml::node* get(std::string_view key) {
    asked_.insert(std::string(key));
    return table_ ? table_->get(key) : nullptr;
  }
  std::string full(std::string_view key) const { return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key); }

  const toml::table* table_;
  std::string prefix_;
  std::set<std::string> asked_;
};

const toml::table* subtable(const toml::table& root, std::string_view key) {
  const toml::node* n = root.get(key);
  if (n == nullptr) return nullptr;
  if (!n->is_table()) throw FileError{fmt::format("key '{}': expected a table ([{}])", key, key), line_of(n)};
  return n->as_table();
}

NemesisProfile read_profile(TableReader& t) {
  NemesisProfile p;
  auto weight = [&](std::string_view key, uint64_t fallback) {
    return static_cast<uint64_t>(t.integer(key, static_cast<int64_t>(fallback), 0, 1000));
  };
  p.kill = weight("kill", p.kill);
  p.power_loss = weight("power_loss", p.power_loss);
  p.pause = weight("pause", p.pause);
  p.partition = weight("partition", p.partition);
  p.clog = weight("clog", p.clog);
  p.clock_skew = weight("clock_skew", p.clock_skew);
  p.clock_drift = weight("clock_drift", p.clock_drift);
  p.consumer_pause = weight("consumer_pause", p.consumer_pause);
  p.min_consumer_pause = sim::Duration::ms(t.integer("min_consumer_pause_ms", p.min_consumer_pause.count_ms(), 0, 3600000));
  p.max_consumer_pause = sim::Duration::ms(t.integer("max_consumer_pause_ms", p.max_consumer_pause.count_ms(), 1, 3600000));
  p.mean_interval = sim::Duration::ms(t.integer("mean_interval_ms", p.mean_interval.count_ms(), 1, 3600000));
  p.min_fault = sim::Duration::ms(t.integer("min_fault_ms", p.min_fault.count_ms(), 1, 3600000));
  p.max_fault = sim::Duration::ms(t.integer("max_fault_ms", p.max_fault.count_ms(), 1, 3600000));
  p.max_skew_ms = t.integer("max_skew_ms", p.max_skew_ms, 0, 3600000);
  p.max_drift_ppm = t.integer("max_drift_ppm", p.max_drift_ppm, 0, 100000);
  return p;
}

void read_nemesis(const toml::table& root, ClusterSpec& spec) {
  TableReader t(subtable(root, "nemesis"), "nemesis");
  const std::string targets = t.string("targets", "all", {"all", "controllers", "none"});
  spec.faults = targets != "none";
  spec.faults_on_controllers_only = targets == "controllers";
  const std::string profile = t.string("profile", "swarm", {"swarm", "fixed"});
  if (profile == "fixed") {
    spec.nemesis = read_profile(t);
  } else {
    for (auto key : {"kill", "power_loss", "pause", "partition", "clog", "clock_skew", "clock_drift", "consumer_pause",
                     "min_consumer_pause_ms", "max_consumer_pause_ms",
                     "mean_interval_ms", "min_fault_ms", "max_fault_ms", "max_skew_ms", "max_drift_ppm"}) {
      if (root.at_path(std::string("nemesis.") + key)) {
        throw FileError{fmt::format("key 'nemesis.{}': only a fixed profile (profile = \"fixed\") takes fault rates", key),
                        line_of(root.at_path(std::string("nemesis.") + key).node())};
      }
    }
  }
  t.refuse_unknown_keys();
}

// The produce-consume workload's keys (docs/scenarios.md); other workloads refuse them as unknown.
void read_stream(TableReader& t, StreamSpec& s) {
  s.topic = t.string("topic", s.topic);
  s.partitions = static_cast<int32_t>(t.integer("partitions", s.partitions, 1, 1024));
  s.replication_factor = static_cast<int16_t>(t.integer("replication_factor", s.replication_factor, 1, 64));
  s.min_insync_replicas = static_cast<int32_t>(t.integer("min_insync_replicas", s.min_insync_replicas, 1, 64));
  s.producers = static_cast<int>(t.integer("producers", s.producers, 0, 64));
  s.rate_per_s = static_cast<int>(t.integer("rate_per_s", s.rate_per_s, 1, 1000000));
  const std::string acks = t.string("acks", "all", {"all", "1", "0"});
  s.acks = acks == "all" ? int16_t{-1} : acks == "1" ? int16_t{1} : int16_t{0};
  s.idempotence = t.boolean("idempotence", s.idempotence);
  s.linger = sim::Duration::ms(t.integer("linger_ms", s.linger.count_ms(), 0, 60000));
  s.batch_bytes = t.integer("batch_bytes", s.batch_bytes, 64, 64 << 20);
  s.groups = static_cast<int>(t.integer("groups", s.groups, 0, 16));
  s.consumers_per_group = static_cast<int>(t.integer("consumers_per_group", s.consumers_per_group, 1, 64));
  const std::string assignor = t.string("assignor", "range", {"range", "roundrobin", "cooperative-sticky"});
  s.assignor = *broker::group::parse_assignor(assignor);
  s.churn = t.boolean("churn", s.churn);
  s.node_per_consumer = t.boolean("node_per_consumer", s.node_per_consumer);
}

ClusterSpec read_cluster_spec(const toml::table& root) {
  ClusterSpec spec;
  TableReader cluster(subtable(root, "cluster"), "cluster");
  spec.brokers = static_cast<int>(cluster.integer("brokers", spec.brokers, 1, 64));
  spec.controllers = static_cast<int>(cluster.integer("controllers", spec.controllers, 1, 64));
  spec.segment_bytes = static_cast<uint64_t>(
      cluster.integer("segment_bytes", static_cast<int64_t>(spec.segment_bytes), 0, int64_t{1} << 40));
  spec.fetch_sessions = cluster.boolean("fetch_sessions", spec.fetch_sessions);
  cluster.refuse_unknown_keys();

  TableReader workload(subtable(root, "workload"), "workload");
  spec.workload = workload.string("name", spec.workload);
  if (spec.workload == "produce-consume") read_stream(workload, spec.stream);
  workload.refuse_unknown_keys();

  read_nemesis(root, spec);

  TableReader budget(subtable(root, "budget"), "budget");
  spec.max_down = static_cast<size_t>(budget.integer("max_down", static_cast<int64_t>(spec.max_down), 1, 64));
  spec.max_power_loss_at_once =
      static_cast<size_t>(budget.integer("max_power_loss_at_once", static_cast<int64_t>(spec.max_power_loss_at_once), 1, 64));
  spec.max_fault = sim::Duration::ms(budget.integer("max_fault_ms", spec.max_fault.count_ms(), 1, 3600000));
  spec.taint_recovery = sim::Duration::ms(budget.integer("taint_recovery_ms", spec.taint_recovery.count_ms(), 0, 3600000));
  budget.refuse_unknown_keys();

  TableReader phases(subtable(root, "phases"), "phases");
  spec.fault_phase = sim::Duration::s(phases.integer("faults_s", spec.fault_phase.count_ms() / 1000, 0, 86400));
  spec.converge = sim::Duration::s(phases.integer("converge_s", spec.converge.count_ms() / 1000, 1, 86400));
  phases.refuse_unknown_keys();
  return spec;
}

void read_expectation(const toml::table& root, ScenarioInfo& info) {
  TableReader t(subtable(root, "expect"), "expect");
  const std::string verdict = t.string("verdict", "pass", {"pass", "safety-violation", "liveness-failure"});
  for (Verdict v : {Verdict::pass, Verdict::safety, Verdict::liveness}) {
    if (to_string(v) == verdict) info.expected = v;
  }
  info.expected_property = t.string("property", "");
  if (info.expected == Verdict::pass && !info.expected_property.empty()) {
    throw FileError{"key 'expect.property': a passing scenario expects no failed property",
                    line_of(root.at_path("expect.property").node())};
  }
  t.refuse_unknown_keys();
}

ScenarioInfo read_scenario(const toml::table& root, const std::string& origin) {
  TableReader top(&root, "");
  for (auto table : {"cluster", "workload", "nemesis", "budget", "phases", "expect"}) top.allow(table);
  ScenarioInfo info;
  info.name = origin;
  const std::string title = top.string("name", origin);
  info.description = top.string("description", "");
  top.string("family", "cluster", {"cluster"});
  ClusterSpec spec = read_cluster_spec(root);
  spec.defects = top.strings("defects");
  for (const std::string& d : spec.defects) {
    if (find_defect(d) == nullptr) {
      throw FileError{fmt::format("key 'defects': unknown defect '{}' (known: {})", d, known_defect_names()),
                      line_of(root.get("defects"))};
    }
  }
  top.refuse_unknown_keys();
  read_expectation(root, info);
  try {
    spec.validate();
  } catch (const ConfigError& e) {
    throw FileError{e.what(), 0};
  }
  if (title != origin) info.description = fmt::format("{}: {}", title, info.description);
  info.make = [spec] { return make_cluster_scenario(spec); };
  return info;
}

}  // namespace

std::optional<ScenarioInfo> parse_scenario_file(std::string_view text, const std::string& origin, std::string* error) {
  try {
    const toml::table root = toml::parse(text, origin);
    return read_scenario(root, origin);
  } catch (const toml::parse_error& e) {
    if (error) {
      *error = fmt::format("{}:{}:{}: {}", origin, e.source().begin.line, e.source().begin.column, e.description());
    }
  } catch (const FileError& e) {
    if (error) *error = e.line > 0 ? fmt::format("{}:{}: {}", origin, e.line, e.message) : fmt::format("{}: {}", origin, e.message);
  }
  return std::nullopt;
}

std::optional<ScenarioInfo> load_scenario_file(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error) *error = fmt::format("{}: cannot read the scenario file", path);
    return std::nullopt;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_scenario_file(text, path, error);
}

}  // namespace seedlog::scenarios
