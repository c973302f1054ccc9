// Benchmarks of the history checkers on reference-log histories of 1 to 10 million events
// (invocations, completions and group events), to show that checking time grows linearly.
//
//   cmake --build build/model --target bench_model && build/model/model/bench_model
//
// Histories come from the reference log driven by a fixed seed: 16 producers, 8 consumers in one
// group, 64 partitions, 1% rebalances, then the final reads. Each size is built once, outside the
// timed loop. Figures are recorded in docs/properties.md.

#include <benchmark/benchmark.h>

#include <map>
#include <memory>

#include "model/checker.hpp"
#include "model/history_io.hpp"
#include "model/reference.hpp"
#include "sim/random.hpp"

namespace seedlog::model {
namespace {

std::vector<ReferenceStep> random_steps(size_t count, uint64_t seed) {
  sim::Rng rng(seed);
  std::vector<ReferenceStep> steps(count);
  for (ReferenceStep& s : steps) {
    const uint64_t kind = rng.uniform(100);
    s.kind = kind < 50   ? ReferenceStep::Kind::send
             : kind < 99 ? ReferenceStep::Kind::poll
                         : ReferenceStep::Kind::rebalance;
    s.actor = static_cast<uint8_t>(rng.uniform(256));
    s.key = static_cast<uint8_t>(rng.uniform(256));
    s.amount = static_cast<uint8_t>(rng.uniform(256));
  }
  return steps;
}

const ReferenceOptions kOptions{.producers = 16, .consumers = 8, .partitions = 64};

// A history of about `events` events, built once per size.
const History& history_of(int64_t events) {
  static std::map<int64_t, std::unique_ptr<History>> cache;
  auto [it, fresh] = cache.try_emplace(events);
  if (fresh) {
    // Calibrate events per step on a small run, then generate enough steps for the target.
    const std::vector<ReferenceStep> probe = random_steps(100000, 1);
    size_t probe_events = 0;
    run_reference(kOptions, probe, [&](Event&&) { ++probe_events; });
    const auto steps = static_cast<size_t>(events) * probe.size() / probe_events;
    auto h = std::make_unique<History>();
    run_reference(kOptions, random_steps(steps, 42), [&](Event&& e) { h->add(e); });
    it->second = std::move(h);
  }
  return *it->second;
}

void BM_CheckHistory(benchmark::State& state) {
  const History& h = history_of(state.range(0));
  for (auto _ : state) {
    const CheckResult r = check_history(h);
    if (!r.valid) state.SkipWithError("the reference history should be valid");
    benchmark::DoNotOptimize(r.stats.records_read);
  }
  const auto events = static_cast<int64_t>(h.event_count());
  state.counters["events"] = static_cast<double>(events);
  state.SetItemsProcessed(events * static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_CheckHistory)
    ->Arg(1'000'000)
    ->Arg(2'000'000)
    ->Arg(5'000'000)
    ->Arg(10'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

void BM_ParseJsonLines(benchmark::State& state) {
  const std::string text = to_jsonl(history_of(state.range(0)));
  for (auto _ : state) {
    Result<History> h = parse_history(text, HistoryFormat::jsonl);
    if (!h.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(h.ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(text.size()) *
                          static_cast<int64_t>(state.iterations()));
  state.SetItemsProcessed(state.range(0) * static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseJsonLines)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
}  // namespace seedlog::model

BENCHMARK_MAIN();
