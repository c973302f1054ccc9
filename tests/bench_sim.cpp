// bench_sim: the cost of the simulated world's machinery.
//
//   RawFiberRoundTrip      a Boost.Context fiber switched into and back out of: the floor
//   RawHeapPushPop         push + pop on a 1000-entry binary heap of 40-byte events: the other floor
//   SchedulerYield         a task yielding through the scheduler: one event, two switches
//   TimerHeavy             1000 self-rescheduling timers: heap-bound callback dispatch
//   ReplicateThenAck       3 servers, 4 clients on 1 ms links; every 1 ms each client sends a
//                          100-byte request to the servers in turn; the server copies it to the
//                          other two, which ack with 16 bytes; after both acks it replies 16 bytes;
//                          60 simulated seconds (about 1.44 M delivered messages), lossless and with
//                          1% segment loss (TCP-style retransmission after 200 ms)
// Run: build/default/tests/bench_sim [--benchmark_filter=...]. Figures go to docs/simulation.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include <boost/context/fiber.hpp>

#include "sim/disk.hpp"
#include "sim/scheduler.hpp"
#include "sim/trace.hpp"
#include "sim/world.hpp"

namespace {

using namespace seedlog::sim;
using namespace seedlog::sim::literals;

void RawFiberRoundTrip(benchmark::State& state) {
  namespace ctx = boost::context;
  bool done = false;
  ctx::fiber f{[&done](ctx::fiber&& caller) {
    while (!done) caller = std::move(caller).resume();
    return std::move(caller);
  }};
  for (auto _ : state) f = std::move(f).resume();
  done = true;
  f = std::move(f).resume();
}
BENCHMARK(RawFiberRoundTrip);

void RawHeapPushPop(benchmark::State& state) {
  struct Ev {
    int64_t at;
    uint64_t tie, seq;
    uint32_t index;
    uint8_t kind;
    uint64_t arg;
  };
  auto later = [](const Ev& a, const Ev& b) { return a.at != b.at ? a.at > b.at : a.tie > b.tie; };
  Rng rng(1);
  std::vector<Ev> heap;
  for (int i = 0; i < 1000; ++i) {
    heap.push_back(Ev{static_cast<int64_t>(rng.uniform(1000000)), rng.next_u64(), 0, 0, 0, 0});
    std::push_heap(heap.begin(), heap.end(), later);
  }
  for (auto _ : state) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Ev e = heap.back();
    heap.pop_back();
    e.at += static_cast<int64_t>(rng.uniform(1000000));
    e.tie = rng.next_u64();
    heap.push_back(e);
    std::push_heap(heap.begin(), heap.end(), later);
    benchmark::DoNotOptimize(heap.data());
  }
}
BENCHMARK(RawHeapPushPop);

void SchedulerYield(benchmark::State& state) {
  Trace trace;
  Scheduler sched(Rng(1), trace, 64 * 1024);
  sched.spawn(nullptr, "yielder", [&] {
    while (true) sched.yield();
  });
  constexpr int64_t kBatch = 100000;
  while (state.KeepRunningBatch(kBatch)) (void)sched.run(RunLimits{Instant::never(), kBatch});
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(SchedulerYield);

void TimerHeavy(benchmark::State& state) {
  Trace trace;
  Scheduler sched(Rng(2), trace, 64 * 1024);
  Rng rng(3);
  std::function<void()> tick = [&] { sched.call_at(sched.now() + Duration::us(1 + static_cast<int64_t>(rng.uniform(1000))), tick); };
  for (int i = 0; i < 1000; ++i) sched.call_at(Instant() + Duration::us(static_cast<int64_t>(rng.uniform(1000))), tick);
  constexpr int64_t kBatch = 100000;
  while (state.KeepRunningBatch(kBatch)) (void)sched.run(RunLimits{Instant::never(), kBatch});
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(TimerHeavy);

// --- ReplicateThenAck ------------------------------------------------------------------------------

constexpr int kServers = 3;
constexpr int kClients = 4;
constexpr Port kPort = 9000;

struct Msg {  // the first bytes of every message
  uint32_t kind;  // 1 request, 2 replicate, 3 ack, 4 reply
  uint32_t slot;  // the origin server's pending slot (replicate, ack)
};

// Built in a spare buffer of the network's (messages are read with recv_view, which hands the
// buffers back): no allocation per message once the spares are warm.
Bytes make_msg(const Connection& via, uint32_t kind, uint32_t slot, size_t size) {
  Bytes b = via.buffer();
  b.resize(size);
  Msg m{kind, slot};
  std::memcpy(b.data(), &m, sizeof m);
  return b;
}

Msg read_msg(ByteView b) {
  Msg m{};
  std::memcpy(&m, b.data(), sizeof m);
  return m;
}

struct ServerState {
  struct Pending {
    Connection* client = nullptr;
    int acks = 0;
  };
  std::vector<Pending> pending;
  std::vector<uint32_t> free_slots;
  std::array<Connection, kServers> peers;  // outgoing replication connections
  std::vector<std::unique_ptr<Connection>> inbound;
};

void serve_connection(Env& env, ServerState& st, Connection* c, int self) {
  while (true) {
    auto r = c->recv_view();
    if (!r.ok()) return;
    const Msg m = read_msg(r.value());
    if (m.kind == 1) {
      uint32_t slot;
      if (!st.free_slots.empty()) {
        slot = st.free_slots.back();
        st.free_slots.pop_back();
      } else {
        slot = static_cast<uint32_t>(st.pending.size());
        st.pending.emplace_back();
      }
      st.pending[slot] = ServerState::Pending{c, 0};
      for (int p = 0; p < kServers; ++p) {
        if (p != self) (void)st.peers[p].send(make_msg(st.peers[p], 2, slot, 100));
      }
    } else if (m.kind == 2) {
      (void)c->send(make_msg(*c, 3, m.slot, 16));
    } else if (m.kind == 3) {
      auto& p = st.pending[m.slot];
      if (++p.acks == kServers - 1) {
        (void)p.client->send(make_msg(*p.client, 4, 0, 16));
        st.free_slots.push_back(m.slot);
      }
    }
  }
  (void)env;
}

struct Cluster {
  std::vector<NodeId> servers;
  std::vector<NodeId> clients;
  uint64_t replies = 0;
};

void build_replicate_then_ack(World& w, Cluster& cl, Duration run_time) {
  for (int s = 0; s < kServers; ++s) {
    cl.servers.push_back(w.add_node(fmt::format("s{}", s), [&cl, s](Env& env) {
      auto st = env.keep(std::make_shared<ServerState>());
      auto listener = std::make_shared<Listener>(std::move(env.listen(kPort).value()));
      env.keep(listener);
      env.spawn("accept", [&env, st, listener, s] {
        while (true) {
          auto c = listener->accept();
          if (!c.ok()) return;
          st->inbound.push_back(std::make_unique<Connection>(std::move(c.value())));
          Connection* conn = st->inbound.back().get();
          env.spawn("serve", [&env, st, conn, s] { serve_connection(env, *st, conn, s); });
        }
      });
      env.sleep(1_ms);  // let every listener come up
      for (int p = 0; p < kServers; ++p) {
        if (p == s) continue;
        st->peers[p] = std::move(env.connect(cl.servers[p], kPort, 1_s).value());
        Connection* conn = &st->peers[p];
        env.spawn("acks", [&env, st, conn, s] { serve_connection(env, *st, conn, s); });
      }
    }));
  }
  for (int c = 0; c < kClients; ++c) {
    cl.clients.push_back(w.add_node(fmt::format("c{}", c), [&cl, run_time](Env& env) {
      env.sleep(5_ms);
      auto conns = env.keep(std::make_shared<std::array<Connection, kServers>>());
      for (int s = 0; s < kServers; ++s) {
        (*conns)[s] = std::move(env.connect(cl.servers[s], kPort, 1_s).value());
        Connection* conn = &(*conns)[s];
        env.spawn("replies", [conn, &cl] {
          while (conn->recv_view().ok()) ++cl.replies;
        });
      }
      const int64_t rounds = run_time.count_ms();
      for (int64_t i = 0; i < rounds; ++i) {
        env.sleep(1_ms);
        Connection& to = (*conns)[i % kServers];
        (void)to.send(make_msg(to, 1, 0, 100));
      }
    }));
  }
  for (NodeId n : cl.servers) w.start(n);
  for (NodeId n : cl.clients) w.start(n);
}

void ReplicateThenAck(benchmark::State& state) {
  const bool lossy = state.range(0) != 0;
  const Duration run_time = 60_s;
  uint64_t delivered = 0, replies = 0;
  double sim_seconds = 0;
  for (auto _ : state) {
    WorldOptions o{.seed = 42};
    o.network.latency = LatencyModel{1_ms, 1_ms};
    if (lossy) o.network.segment_loss = Ratio::percent(1);
    World w(o);
    Cluster cl;
    build_replicate_then_ack(w, cl, run_time);
    size_t peak_events = 0;
    for (int64_t t = 0; t <= (run_time + 1_s).count_ms(); t += 100) {
      (void)w.run(RunLimits{Instant() + Duration::ms(t), UINT64_MAX});
      peak_events = std::max(peak_events, w.scheduler().pending_events());
    }
    state.counters["peak_pending_events"] = static_cast<double>(peak_events);
    state.counters["events"] = static_cast<double>(w.scheduler().events_dispatched());
    const RunResult r = w.run_for(Duration::zero());
    if (r.reason == StopReason::crashed) state.SkipWithError(w.describe(r).c_str());
    delivered += w.network().segments_delivered();
    replies += cl.replies;
    sim_seconds += static_cast<double>(r.end_time.ns()) / 1e9;
  }
  state.counters["delivered"] = benchmark::Counter(static_cast<double>(delivered), benchmark::Counter::kAvgIterations);
  state.counters["replies"] = benchmark::Counter(static_cast<double>(replies), benchmark::Counter::kAvgIterations);
  state.counters["msgs_per_wall_s"] = benchmark::Counter(static_cast<double>(delivered), benchmark::Counter::kIsRate);
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(sim_seconds, benchmark::Counter::kIsRate);
}
BENCHMARK(ReplicateThenAck)->Arg(0)->Arg(1)->ArgName("loss_percent")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// A batch-header-sized read (61 bytes, what storage reads to find a batch), into a new vector per
// read (read) and into the caller's buffer (read_into).
seedlog::sim::File bench_file(seedlog::sim::Disk& disk) {
  auto f = disk.open("seg.log", {.create = true});
  if (!f.ok()) std::abort();
  std::vector<uint8_t> data(1 << 20, 7);
  if (!f->write(0, data).ok()) std::abort();
  return *f;
}

void DiskReadHeaderVector(benchmark::State& state) {
  seedlog::sim::Disk disk(nullptr, seedlog::sim::Rng(1), {});
  const seedlog::sim::File f = bench_file(disk);
  uint64_t at = 0;
  for (auto _ : state) {
    auto r = f.read(at, 61);
    benchmark::DoNotOptimize(r);
    at = (at + 4096) & ((1 << 20) - 1);
  }
}
BENCHMARK(DiskReadHeaderVector);

void DiskReadHeaderInto(benchmark::State& state) {
  seedlog::sim::Disk disk(nullptr, seedlog::sim::Rng(1), {});
  const seedlog::sim::File f = bench_file(disk);
  std::array<uint8_t, 61> buffer{};
  uint64_t at = 0;
  for (auto _ : state) {
    auto r = f.read_into(at, buffer);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(buffer.data());
    at = (at + 4096) & ((1 << 20) - 1);
  }
}
BENCHMARK(DiskReadHeaderInto);

}  // namespace

BENCHMARK_MAIN();
