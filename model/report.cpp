// Check results for people (text) and for tools (JSON).

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "model/checker.hpp"

namespace seedlog::model {

namespace {

template <class T>
std::string join(const std::vector<T>& items) {
  std::string s;
  for (const T& x : items) s += (s.empty() ? "" : " ") + std::to_string(x.value());
  return s;
}

std::string join_times(const std::vector<sim::Instant>& times) {
  std::string s;
  for (const sim::Instant& t : times) s += (s.empty() ? "" : " ") + std::to_string(t.ns());
  return s;
}

nlohmann::json key_json(const Key& k) {
  if (const std::optional<int64_t> i = k.as_integer()) return *i;
  return k.text();
}

template <class T>
nlohmann::json numbers(const std::vector<T>& items) {
  nlohmann::json a = nlohmann::json::array();
  for (const T& x : items) a.push_back(x.value());
  return a;
}

}  // namespace

std::string to_text(const Anomaly& a) {
  std::string s = fmt::format("{} [{}]", to_string(a.kind), to_string(a.status));
  if (!a.partition.empty()) s += fmt::format(" partition {}", a.partition);
  if (!a.group.empty()) s += fmt::format(" group {}", a.group);
  s += fmt::format(" offsets [{}] values [{}] processes [{}] ops [{}] times-ns [{}]",
                   join(a.offsets), join(a.values), join(a.processes), join(a.ops),
                   join_times(a.times));
  if (a.count != 1) s += fmt::format(" count {}", a.count);
  return s + ": " + a.explanation;
}

std::string to_text(const CheckResult& r) {
  int64_t by_status[3] = {0, 0, 0};
  for (const Anomaly& a : r.anomalies) ++by_status[static_cast<size_t>(a.status)];
  int64_t total = 0;
  for (int64_t c : r.counts) total += c;
  std::string s = fmt::format(
      "{}: {} anomalies ({} listed: {} violations, {} allowed by the contract, {} not errors)\n",
      r.valid ? "VALID" : "INVALID", total, r.anomalies.size(), by_status[0], by_status[1],
      by_status[2]);
  s += fmt::format("contract: {}\n", r.contract);
  s += fmt::format(
      "history: {} ops, {} group events, {} partitions, {} sends acknowledged, {} failed, {} "
      "unknown, {} records read\n",
      r.stats.ops, r.stats.group_events, r.stats.partitions, r.stats.sends_acknowledged,
      r.stats.sends_failed, r.stats.sends_unknown, r.stats.records_read);
  std::array<int64_t, kAnomalyKindCount> listed{};
  for (const Anomaly& a : r.anomalies) {
    ++listed[static_cast<size_t>(a.kind)];
    s += to_text(a) + "\n";
  }
  for (size_t k = 0; k < kAnomalyKindCount; ++k) {
    if (r.counts[k] > listed[k]) {
      s += fmt::format("... {} more {} anomalies not listed\n", r.counts[k] - listed[k],
                       to_string(static_cast<AnomalyKind>(k)));
    }
  }
  return s;
}

std::string to_json(const CheckResult& r) {
  nlohmann::json j;
  j["valid"] = r.valid;
  j["contract"] = r.contract;
  j["stats"] = {{"ops", r.stats.ops},
                {"group-events", r.stats.group_events},
                {"partitions", r.stats.partitions},
                {"sends-acknowledged", r.stats.sends_acknowledged},
                {"sends-failed", r.stats.sends_failed},
                {"sends-unknown", r.stats.sends_unknown},
                {"records-read", r.stats.records_read}};
  nlohmann::json counts = nlohmann::json::object();
  for (size_t k = 0; k < kAnomalyKindCount; ++k) {
    if (r.counts[k] > 0) counts[std::string(to_string(static_cast<AnomalyKind>(k)))] = r.counts[k];
  }
  j["counts"] = counts;
  nlohmann::json list = nlohmann::json::array();
  for (const Anomaly& a : r.anomalies) {
    nlohmann::json x;
    x["kind"] = to_string(a.kind);
    x["status"] = to_string(a.status);
    if (!a.partition.empty()) x["partition"] = key_json(a.partition);
    if (!a.group.empty()) x["group"] = a.group;
    x["offsets"] = numbers(a.offsets);
    x["values"] = numbers(a.values);
    x["processes"] = numbers(a.processes);
    x["ops"] = numbers(a.ops);
    nlohmann::json times = nlohmann::json::array();
    for (const sim::Instant& t : a.times) times.push_back(t.ns());
    x["times-ns"] = times;
    x["count"] = a.count;
    x["explanation"] = a.explanation;
    list.push_back(std::move(x));
  }
  j["anomalies"] = std::move(list);
  return j.dump();
}

}  // namespace seedlog::model
