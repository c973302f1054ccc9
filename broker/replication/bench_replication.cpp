// bench_replication: produce throughput through partition replication, in simulated records per
// wall-clock second.
//
//   ProduceRf3AcksAll   3 brokers (3 controller voters), one topic of 4 partitions with RF=3 and
//                       min.insync.replicas=2; 4 producers on the client node send single-record
//                       acks=all batches (one in flight each) for 10 simulated seconds after the
//                       cluster is up; a record counts when its acknowledgement arrives. The cluster
//                       set-up (Raft election, registration, topic creation) is outside the timing.
//   ProduceRf3AcksOne   the same with acks=1 (the leader's append only), for comparison.
// Run: build/default/broker/replication/bench_replication [--benchmark_filter=...].
// Figures go to docs/replication.md.
#include <benchmark/benchmark.h>

#include "broker/replication/testing.hpp"

namespace {

using namespace seedlog;
using namespace seedlog::sim::literals;
using broker::replication::testing::ProducerOptions;
using broker::replication::testing::ReplCluster;

void produce(benchmark::State& state, int16_t acks) {
  uint64_t acked = 0;
  uint64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    broker::server::NodeConfig c;
    c.replication.min_insync_replicas = 2;
    auto t = std::make_unique<ReplCluster>(broker::replication::testing::ReplClusterOptions{.nodes = 3, .seed = 1, .node = c});
    t->start().create_topic("bench", 4, 3);
    const uint64_t events_before = t->world().scheduler().events_dispatched();
    state.ResumeTiming();
    t->start_workload("bench", 4, 4, ProducerOptions{.acks = acks}, 10_s, sim::Duration::zero());
    t->run_until([&] { return t->workload_done(); }, 30_s);
    state.PauseTiming();
    for (const auto& [tp, a] : t->history().acked) acked += a.size();
    events += t->world().scheduler().events_dispatched() - events_before;
    if (!t->violations().empty()) state.SkipWithError(t->violations().front().c_str());
    t.reset();
    state.ResumeTiming();
  }
  state.counters["acked_per_run"] = benchmark::Counter(static_cast<double>(acked), benchmark::Counter::kAvgIterations);
  state.counters["records_per_wall_s"] = benchmark::Counter(static_cast<double>(acked), benchmark::Counter::kIsRate);
  state.counters["events_per_run"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kAvgIterations);
}

void ProduceRf3AcksAll(benchmark::State& state) { produce(state, -1); }
void ProduceRf3AcksOne(benchmark::State& state) { produce(state, 1); }
BENCHMARK(ProduceRf3AcksAll)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(ProduceRf3AcksOne)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
