// echo-fifo: the demonstration scenario of the simulated world, until the broker lands.
//
// Three echo servers and three clients. Each client keeps one connection to a server, sends
// numbered messages with a checksum at random intervals and checks every echo: the right number
// (per-connection FIFO, nothing lost or duplicated while connected) and the right bytes (no
// corruption). On a broken connection it moves to the next server and starts numbering afresh.
// The nemesis (a swarm profile: the fault mix and rates drawn from the seed) kills, restarts, powers
// off, pauses, partitions, clogs servers and skews their clocks; at 20 s everything heals and every
// client must get echoes again.
//   Safety property  connection-fifo: every echo is the next number with intact bytes.
//   Liveness         echoes-resume: after the heal, every client receives echoes within 8 s.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "scenarios/scenario.hpp"
#include "sim/random.hpp"

namespace seedlog::scenarios {
namespace {

using namespace sim::literals;
using sim::Duration;
using sim::Env;
using sim::Instant;
using sim::NodeId;

constexpr sim::Port kEchoPort = 7;
constexpr int kServers = 3;
constexpr int kClients = 3;
constexpr Duration kFaultPhase = Duration::s(20);
constexpr Duration kHealPhase = Duration::s(10);

struct Observations {
  std::string violation;  // the first safety violation
  std::vector<Instant> first_after_heal;  // per client: the first echo after the heal
  std::vector<uint64_t> echoes;
  std::optional<Instant> healed_at;
};

sim::Bytes make_message(uint64_t seq, uint64_t salt) {
  sim::Bytes b(32);
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(seq >> (8 * i));
  uint64_t x = sim::mix64(seq ^ salt);
  for (size_t i = 8; i < b.size(); ++i) {
    b[i] = static_cast<uint8_t>(x);
    x = sim::mix64(x);
  }
  return b;
}

std::string describe_mismatch(int client, NodeId server, Env& env, uint64_t seq, const sim::Bytes& sent,
                              const sim::Bytes& got) {
  size_t at = 0;
  while (at < sent.size() && at < got.size() && sent[at] == got[at]) ++at;
  const std::string what = at < sent.size() && at < got.size()
                               ? fmt::format("differs at byte {} (sent 0x{:02x}, got 0x{:02x})", at, sent[at], got[at])
                               : fmt::format("has {} bytes instead of {}", got.size(), sent.size());
  return fmt::format("client c{} (connection to node {}) at {}: the echo of message {} {}", client, server,
                     env.scheduler().now(), seq, what);
}

void serve(Env& env) {
  auto listener = env.listen(kEchoPort);
  if (!listener.ok()) return;
  while (true) {
    auto conn = listener->accept();
    if (!conn.ok()) return;
    auto shared = std::make_shared<sim::Connection>(std::move(conn.value()));
    env.spawn("echo", [shared] {
      while (true) {
        auto m = shared->recv();
        if (!m.ok() || !shared->send(std::move(m.value())).ok()) return;
      }
    });
  }
}

void client(Env& env, int index, const std::vector<NodeId>& servers, Observations& obs) {
  uint64_t salt = env.rng().next_u64();
  for (size_t attempt = static_cast<size_t>(index);; ++attempt) {
    const NodeId server = servers[attempt % servers.size()];
    auto conn = env.connect(server, kEchoPort, 2_s);
    if (!conn.ok()) {
      env.sleep(100_ms);
      continue;
    }
    for (uint64_t seq = 0;; ++seq) {
      env.sleep(env.rng().exponential(100_us, 2_ms));
      const sim::Bytes sent = make_message(seq, salt);
      if (!conn->send(sent).ok()) break;
      auto echo = conn->recv(3_s);
      if (!echo.ok()) break;  // reset, closed or a silent peer: try the next server
      if (echo.value() != sent && obs.violation.empty()) obs.violation = describe_mismatch(index, server, env, seq, sent, *echo);
      Instant& first = obs.first_after_heal[static_cast<size_t>(index)];
      if (obs.healed_at && first == Instant::never()) first = env.scheduler().now();
      ++obs.echoes[static_cast<size_t>(index)];
    }
    salt = env.rng().next_u64();
  }
}

class EchoFifo final : public ScenarioRun {
 public:
  explicit EchoFifo(bool corrupt_segments) : corrupt_segments_(corrupt_segments) {}

  sim::WorldOptions world_options(uint64_t seed) override {
    sim::WorldOptions o{.seed = seed};
    // The planted fault of echo-fifo-corrupt: a link that flips bits past TCP's checksum.
    if (corrupt_segments_) o.network.segment_corruption = sim::Ratio{1, 1000};
    sim::Rng swarm = sim::Seed(seed).stream("swarm");
    // Swarm: the link quality itself comes from the seed.
    o.network.latency = sim::LatencyModel{Duration::us(swarm.range(50, 500)), Duration::us(swarm.range(500, 3000))};
    if (swarm.chance(sim::Ratio{1, 2})) o.network.segment_loss = sim::Ratio{swarm.uniform(50) + 1, 1000};
    o.network.partition_reset_after = Duration::s(swarm.range(2, 10));
    return o;
  }

  void setup(sim::World& w) override {
    obs_.first_after_heal.assign(kClients, Instant::never());
    obs_.echoes.assign(kClients, 0);
    for (int s = 0; s < kServers; ++s) servers_.push_back(w.add_node(fmt::format("s{}", s), serve));
    for (int c = 0; c < kClients; ++c) {
      const NodeId id = w.add_node(fmt::format("c{}", c), [this, c](Env& env) { client(env, c, servers_, obs_); });
      clients_.push_back(id);
    }
    for (NodeId n : servers_) w.start(n);
    for (NodeId n : clients_) w.start(n);
    // The nemesis ends everything at kFaultPhase; clients count echoes from there on.
    w.at(Instant() + kFaultPhase, [this, &w] { obs_.healed_at = w.now(); });
  }

  std::vector<uint32_t> fault_targets() const override {
    std::vector<uint32_t> out;
    for (NodeId n : servers_) out.push_back(n.value());
    return out;
  }
  // Every fault kind, with the mix and the rates drawn from the seed; one server down at a time.
  NemesisProfile nemesis(sim::Rng& swarm) const override {
    NemesisProfile p = swarm_profile(swarm, servers_.size());
    p.max_down = 1;
    p.max_fault = std::min(p.max_fault, Duration::s(12));
    return p;
  }
  Duration fault_phase() const override { return kFaultPhase; }
  Duration duration() const override { return kFaultPhase + kHealPhase; }

  Judgement judge(sim::World&, const sim::RunResult&) override {
    if (!obs_.violation.empty()) return Judgement{Verdict::safety, "connection-fifo", obs_.violation};
    if (!obs_.healed_at) return Judgement{Verdict::liveness, "echoes-resume", "the nemesis never healed"};
    for (int c = 0; c < kClients; ++c) {
      const Instant first = obs_.first_after_heal[static_cast<size_t>(c)];
      if (first > *obs_.healed_at + 8_s) {
        return Judgement{Verdict::liveness, "echoes-resume",
                         fmt::format("client c{} received no echo within 8s of the heal at {} ({} echoes before)", c,
                                     *obs_.healed_at, obs_.echoes[static_cast<size_t>(c)])};
      }
    }
    return Judgement{};
  }

 private:
  bool corrupt_segments_;
  std::vector<NodeId> servers_;
  std::vector<NodeId> clients_;
  Observations obs_;
};

}  // namespace

std::vector<ScenarioInfo> echo_scenarios() {
  return {
      {"echo-fifo",
       "echo servers and clients under kills, power loss, pauses, partitions, clogs and clock skew; "
       "checks per-connection FIFO and that echoes resume after the heal (the simulated world's own demo)",
       [] { return std::make_unique<EchoFifo>(false); }},
      {"echo-fifo-corrupt",
       "echo-fifo on links that corrupt 1 segment in 1000: expected to fail connection-fifo, showing the "
       "checker catches corrupt bytes",
       [] { return std::make_unique<EchoFifo>(true); }},
  };
}

}  // namespace seedlog::scenarios
