#include "scenarios/testing/property.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <ostream>
#include <sstream>

#include <fmt/format.h>

#include "sim/network.hpp"

namespace seedlog::scenarios {
namespace {

std::vector<uint32_t> targets_of(const ClusterSpec& spec) {
  if (!spec.faults) return {};
  const int n = spec.faults_on_controllers_only ? spec.controllers : spec.brokers;
  std::vector<uint32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(static_cast<uint32_t>(i));
  return out;
}

bool takes_node_down(FaultKind k) { return k == FaultKind::kill || k == FaultKind::power_loss || k == FaultKind::pause; }

FaultKind end_of(FaultKind k) {
  switch (k) {
    case FaultKind::kill:
    case FaultKind::power_loss: return FaultKind::start;
    case FaultKind::pause: return FaultKind::resume;
    default: return FaultKind::heal;
  }
}

// How many accepted faults of a kind class overlap [start, end]. Closed intervals: a fault that
// starts in the instant another ends would race it (same-time events run in the scheduler's order).
size_t overlapping(const std::vector<FaultValue>& accepted, const FaultValue& f, bool (*counts)(FaultKind)) {
  size_t n = 0;
  for (const FaultValue& a : accepted) {
    if (counts(a.kind) && a.start_ms <= f.start_ms + f.length_ms && f.start_ms <= a.start_ms + a.length_ms) ++n;
  }
  return n;
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const FaultValue& f) {
  os << to_string(f.kind) << " target " << f.node << " at " << f.start_ms << " ms for " << f.length_ms << " ms";
  if (f.kind == FaultKind::clock_skew) os << " (skew " << f.skew_ms << " ms)";
  return os;
}

rc::Gen<std::vector<FaultValue>> gen_faults(const ClusterSpec& spec, size_t max_faults) {
  const auto targets = static_cast<uint32_t>(std::max<size_t>(1, targets_of(spec).size()));
  const int64_t phase_ms = spec.fault_phase.count_ms();
  const int64_t max_len = std::max<int64_t>(1, std::min(spec.max_fault.count_ms(), phase_ms));
  auto one = rc::gen::build<FaultValue>(
      rc::gen::set(&FaultValue::kind, rc::gen::element(FaultKind::kill, FaultKind::power_loss, FaultKind::pause,
                                                       FaultKind::partition, FaultKind::clog, FaultKind::clock_skew)),
      rc::gen::set(&FaultValue::node, rc::gen::inRange<uint32_t>(0, targets)),
      rc::gen::set(&FaultValue::start_ms, rc::gen::inRange<int64_t>(0, std::max<int64_t>(1, phase_ms))),
      rc::gen::set(&FaultValue::length_ms, rc::gen::inRange<int64_t>(1, max_len + 1)),
      rc::gen::set(&FaultValue::skew_ms, rc::gen::inRange<int64_t>(-5000, 5001)));
  return rc::gen::resize(static_cast<int>(max_faults), rc::gen::container<std::vector<FaultValue>>(one));
}

FaultSchedule to_schedule(const std::vector<FaultValue>& faults, const ClusterSpec& spec) {
  const std::vector<uint32_t> targets = targets_of(spec);
  FaultSchedule s;
  s.heal_at = spec.fault_phase;
  if (targets.empty()) return s;
  std::vector<sim::NodeId> ids;
  for (uint32_t t : targets) ids.push_back(sim::NodeId{t});
  std::vector<FaultValue> accepted;
  uint32_t pair = 0;
  for (FaultValue f : faults) {
    f.node %= static_cast<uint32_t>(targets.size());
    f.start_ms = std::clamp<int64_t>(f.start_ms, 0, spec.fault_phase.count_ms());
    f.length_ms = std::clamp<int64_t>(f.length_ms, 1, std::max<int64_t>(1, spec.fault_phase.count_ms() - f.start_ms));
    if (takes_node_down(f.kind) && overlapping(accepted, f, takes_node_down) >= spec.max_down) continue;
    if (f.kind == FaultKind::power_loss &&
        overlapping(accepted, f, [](FaultKind k) { return k == FaultKind::power_loss; }) >= spec.max_power_loss_at_once) {
      continue;
    }
    accepted.push_back(f);
    const uint32_t node = targets[f.node];
    FaultEvent begin{sim::Duration::ms(f.start_ms), f.kind, {node}, {}, {}, 0, ++pair,
                     fmt::format("{} n{} (generated)", to_string(f.kind), node)};
    if (f.kind == FaultKind::partition) {
      begin.nodes.clear();
      begin.links = sim::partitions::isolate(sim::NodeId{node}, ids);
    }
    if (f.kind == FaultKind::clog) begin.duration = sim::Duration::ms(f.length_ms);
    if (f.kind == FaultKind::clock_skew) begin.value = sim::Duration::ms(f.skew_ms).count_ns();
    FaultEvent end = begin;
    end.at = sim::Duration::ms(f.start_ms + f.length_ms);
    end.kind = end_of(f.kind);
    end.links.clear();
    end.value = 0;
    end.duration = sim::Duration();
    end.why = "end of " + begin.why;
    if (f.kind == FaultKind::partition) end.nodes.clear();
    if (f.kind == FaultKind::clock_skew) end.kind = FaultKind::clock_skew;  // back to no skew
    s.events.push_back(std::move(begin));
    if (f.kind != FaultKind::clog) s.events.push_back(std::move(end));
  }
  s.events.push_back(FaultEvent{spec.fault_phase, FaultKind::heal, {}, {}, {}, 0, 0, "end of the fault phase"});
  std::stable_sort(s.events.begin(), s.events.end(), [](const FaultEvent& a, const FaultEvent& b) { return a.at < b.at; });
  return s;
}

RunReport run_with_faults(const ClusterSpec& spec, uint64_t seed, const std::vector<FaultValue>& faults) {
  const ScenarioInfo info{"property", "a property test's cluster", [spec] { return make_cluster_scenario(spec); }};
  RunSettings settings;
  settings.schedule = to_schedule(faults, spec);
  return run_scenario(info, seed, settings);
}

testing::AssertionResult check_cluster_property(const ClusterSpec& spec, const PropertyOptions& options) {
  spec.validate();
  auto property = [spec, max_faults = options.max_faults] {
    // The seed does not shrink (a different seed is a different run altogether); the faults do.
    const uint64_t seed = *rc::gen::noShrink(rc::gen::arbitrary<uint64_t>());
    const std::vector<FaultValue> faults = *gen_faults(spec, max_faults);
    const RunReport r = run_with_faults(spec, seed, faults);
    RC_LOG() << "seed " << seed << ", fault schedule:\n" << r.schedule.describe();
    if (r.judgement.verdict != Verdict::pass) {
      RC_FAIL(fmt::format("{} ({}): {}", to_string(r.judgement.verdict), r.judgement.property, r.judgement.detail));
    }
  };
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = std::min(params.maxSuccess, options.cases);
  const char* env = std::getenv("RC_PARAMS");  // test code, outside the simulation
  if (env == nullptr || std::string_view(env).find("seed=") == std::string_view::npos) params.seed = options.rc_seed;
  rc::detail::TestMetadata metadata;
  const auto* test = testing::UnitTest::GetInstance()->current_test_info();
  if (test != nullptr) metadata.id = std::string(test->test_suite_name()) + "/" + test->name();
  const rc::detail::TestResult result = rc::detail::checkProperty(rc::detail::toProperty(property), metadata, params);
  if (result.is<rc::detail::SuccessResult>()) return testing::AssertionSuccess();
  std::ostringstream message;
  rc::detail::printResultMessage(result, message);
  return testing::AssertionFailure() << message.str();
}

}  // namespace seedlog::scenarios
