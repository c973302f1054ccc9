#include "broker/raft/testing/quorum.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <fmt/format.h>

#include "broker/net/rpc.hpp"
#include "broker/protocol/reader.hpp"
#include "broker/protocol/writer.hpp"
#include "broker/raft/events.hpp"

namespace seedlog::broker::raft::testing {

namespace proto = seedlog::protocol;
using namespace sim::literals;

// ---- RecordingStateMachine ---------------------------------------------------------------------------

void RecordingStateMachine::apply(Offset base_offset, Epoch, const std::vector<Bytes>& records) {
  // In log order, never twice: the apply task's contract.
  SL_ASSERT_MSG(base_offset.value() >= next_offset_, fmt::format("apply at {} after {}", base_offset, next_offset_));
  for (size_t i = 0; i < records.size(); ++i) records_[base_offset.value() + static_cast<int64_t>(i)] = records[i];
  next_offset_ = base_offset.value() + static_cast<int64_t>(records.size());
}

Bytes RecordingStateMachine::snapshot() {
  proto::Writer w;
  w.i64(next_offset_);
  w.i32(static_cast<int32_t>(records_.size()));
  for (const auto& [offset, value] : records_) {
    w.i64(offset);
    w.bytes(value);
  }
  return w.take();
}

sim::Status RecordingStateMachine::restore(ByteView snapshot, Offset next_offset) {
  proto::Reader r(snapshot);
  const int64_t next = r.i64();
  const int32_t count = r.i32();
  std::map<int64_t, Bytes> records;
  for (int32_t i = 0; i < count && r.ok(); ++i) {
    const int64_t offset = r.i64();
    records[offset] = r.bytes();
  }
  if (!r.ok() || !r.at_end() || next != next_offset.value()) return sim::Errc::invalid_argument;
  records_ = std::move(records);
  next_offset_ = next;
  ++restores_;
  return sim::Status();
}

void RecordingStateMachine::on_leader_change(std::optional<BrokerId> leader, Epoch epoch) {
  leader_changes_.emplace_back(leader, epoch);
}

// ---- the quorum ----------------------------------------------------------------------------------------

namespace {

std::string value_text(const sim::TraceValue& v) {
  switch (v.type) {
    case sim::TraceValue::Type::i64: return std::to_string(v.i);
    case sim::TraceValue::Type::u64: return std::to_string(v.u);
    case sim::TraceValue::Type::boolean: return v.u ? "true" : "false";
    case sim::TraceValue::Type::str: return std::string(v.s);
  }
  return "";
}

bool recorded_kind(std::string_view kind) {
  return kind == events::kRole || kind == events::kVote || kind == events::kTruncate || kind == events::kSnapshot ||
         kind == events::kRecovered || kind == events::kHalted;
}

}  // namespace

Quorum::Quorum(QuorumOptions options) : options_(std::move(options)) {
  SL_ASSERT(options_.voters >= 1);
  SL_ASSERT(options_.observers >= 0);
  world_ = std::make_unique<sim::World>(sim::WorldOptions{.seed = options_.seed, .network = options_.network, .disk = options_.disk});
  checker_.attach(world_->trace());
  world_->trace().subscribe([this](const sim::TraceEvent& e) {
    if (!recorded_kind(e.kind)) return;
    std::map<std::string, std::string> fields;
    for (const sim::TraceField& f : e.fields) fields[std::string(f.key)] = value_text(f.value);
    events_[{e.node.value(), std::string(e.kind)}].push_back(std::move(fields));
  });
  const int total = options_.voters + options_.observers;
  for (int n = 1; n <= total; ++n) {
    const sim::NodeId id = world_->add_node(fmt::format("n{}", n), [this, n](sim::Env& env) { boot(env, n); });
    slots_.push_back(Slot{id, {}, {}});
    if (n <= options_.voters) voters_.push_back(Voter{BrokerId(n), id});
  }
}

Quorum::~Quorum() {
  // The world first: its destructor unwinds every task, some of which point into this object.
  world_.reset();
}

void Quorum::boot(sim::Env& env, Node n) {
  auto sm = env.keep(std::make_shared<RecordingStateMachine>());
  RaftConfig config = options_.raft;
  config.self = BrokerId(n);
  config.voters = voters_;
  auto raft = env.keep(std::make_shared<Raft>(env, config, *sm));
  Raft* r = raft.get();
  env.keep(std::make_shared<RpcServer>(env, config.port, [r](const proto::Request& req, const Peer& peer) {
    if (auto resp = r->handle(req, peer)) return *resp;
    return proto::unsupported_api_versions_response(req.header.correlation_id);
  }));
  slots_[static_cast<size_t>(n - 1)].raft = raft;
  slots_[static_cast<size_t>(n - 1)].sm = sm;
  const sim::Status st = raft->start();
  if (!st.ok()) env.emit("test.start_failed", {{"error", to_string(st.code())}});
}

sim::NodeId Quorum::node_id(Node n) const {
  SL_ASSERT(n >= 1 && n <= size());
  return slots_[static_cast<size_t>(n - 1)].id;
}

Node Quorum::node_of(sim::NodeId id) const {
  for (int n = 1; n <= size(); ++n) {
    if (node_id(n) == id) return n;
  }
  SL_UNREACHABLE("not a node of this quorum");
}

void Quorum::start_all() {
  for (int n = 1; n <= size(); ++n) start(n);
}
void Quorum::start(Node n) { world_->start(node_id(n)); }
void Quorum::kill(Node n) { world_->kill(node_id(n)); }
void Quorum::restart(Node n) { world_->restart(node_id(n)); }
void Quorum::power_loss(Node n, sim::PowerLossMode mode) { world_->power_loss(node_id(n), mode); }
void Quorum::pause(Node n) { world_->pause(node_id(n)); }
void Quorum::resume(Node n) { world_->resume(node_id(n)); }

void Quorum::partition(std::initializer_list<Node> a, std::initializer_list<Node> b) {
  partition(std::vector<Node>(a), std::vector<Node>(b));
}

void Quorum::partition(const std::vector<Node>& a, const std::vector<Node>& b) {
  for (Node x : a) {
    for (Node y : b) world_->network().block_both(node_id(x), node_id(y));
  }
}

void Quorum::isolate(Node n) {
  std::vector<Node> others;
  for (int m = 1; m <= size(); ++m) {
    if (m != n) others.push_back(m);
  }
  partition({n}, others);
}

void Quorum::heal() { world_->network().heal(); }
void Quorum::clog(Node n, sim::Duration d) { world_->network().clog_node(node_id(n), world_->now() + d); }
void Quorum::drift(Node n, int64_t ppm) { world_->set_clock_drift(node_id(n), ppm); }

void Quorum::run_for(sim::Duration d) {
  if (crash_) return;
  const sim::RunResult r = world_->run_for(d);
  if (r.reason == sim::StopReason::crashed) {
    crash_ = world_->describe(r);
    ADD_FAILURE() << *crash_;
  }
}

bool Quorum::run_until(const std::function<bool()>& done, sim::Duration limit) {
  const sim::Instant end = world_->now() + limit;
  while (!done()) {
    if (crash_ || world_->now() >= end) return false;
    run_for(std::min(10_ms, end - world_->now()));
  }
  return true;
}

bool Quorum::is_up(Node n) const { return world_->is_up(node_id(n)); }

Raft* Quorum::raft(Node n) const {
  if (!is_up(n)) return nullptr;
  return slots_[static_cast<size_t>(n - 1)].raft.lock().get();
}

RecordingStateMachine* Quorum::sm(Node n) const {
  if (!is_up(n)) return nullptr;
  return slots_[static_cast<size_t>(n - 1)].sm.lock().get();
}

std::optional<Node> Quorum::leader() const {
  std::optional<Node> best;
  for (int n = 1; n <= size(); ++n) {
    const Raft* r = raft(n);
    if (r == nullptr || r->halted() || r->role() != Role::leader || world_->is_paused(node_id(n))) continue;
    if (!best || raft(*best)->epoch() < r->epoch()) best = n;
  }
  return best;
}

std::optional<Node> Quorum::wait_for_leader(sim::Duration limit) {
  if (!run_until([&] { return leader().has_value(); }, limit)) {
    ADD_FAILURE() << "no leader within " << sim::to_string(limit) << "\n" << describe_nodes();
    return std::nullopt;
  }
  return leader();
}

std::vector<std::map<std::string, std::string>> Quorum::events(Node n, std::string_view kind) const {
  auto it = events_.find({node_id(n).value(), std::string(kind)});
  return it == events_.end() ? std::vector<std::map<std::string, std::string>>{} : it->second;
}

std::string Quorum::describe_nodes() const {
  std::string out;
  for (int n = 1; n <= size(); ++n) {
    const Raft* r = raft(n);
    if (r == nullptr) {
      out += fmt::format("  n{}: down\n", n);
      continue;
    }
    out += fmt::format("  n{}: {} epoch {} leader {} hw {} leo {} applied {} start {}{}\n", n, to_string(r->role()),
                       r->epoch(), r->leader() ? r->leader()->value() : -1, r->high_watermark(), r->log_end_offset(),
                       r->last_applied(), r->log_start_offset(), r->halted() ? " HALTED" : "");
  }
  return out;
}

// ---- proposals ------------------------------------------------------------------------------------------

ProposeResult Quorum::propose_on(Node n, const std::string& value, sim::Duration timeout) {
  auto result = std::make_shared<std::optional<ProposeResult>>();
  if (raft(n) == nullptr) return ProposeResult{};
  std::weak_ptr<Raft> weak = slots_[static_cast<size_t>(n - 1)].raft;
  world_->env(node_id(n)).spawn("test-propose", [weak, value, timeout, result] {
    std::shared_ptr<Raft> r = weak.lock();
    if (!r) return;
    *result = r->propose({Bytes(value.begin(), value.end())}, timeout);
  });
  (void)run_until([&] { return result->has_value() || !is_up(n); }, timeout + 1_s);
  if (!result->has_value()) return ProposeResult{std::nullopt, ProposeErrc::leadership_lost, std::nullopt};
  if ((*result)->ok()) acked_.push_back(Acked{value, *(*result)->last_offset});
  return **result;
}

ProposeResult Quorum::propose(const std::string& value, sim::Duration timeout) {
  const std::optional<Node> l = leader();
  if (!l) return ProposeResult{};
  return propose_on(*l, value, timeout);
}

bool Quorum::propose_n(int count, sim::Duration limit) {
  const sim::Instant end = world_->now() + limit;
  for (int i = 0; i < count; ++i) {
    const std::string value = fmt::format("r{}", next_value_++);
    while (true) {
      if (world_->now() >= end) return false;
      if (!leader()) {
        (void)run_until([&] { return leader().has_value(); }, end - world_->now());
        continue;
      }
      if (propose(value, 3_s).ok()) break;
      run_for(100_ms);
    }
  }
  return true;
}

void Quorum::start_workload(sim::Duration interval) {
  workload_running_ = true;
  const uint64_t gen = ++workload_generation_;
  world_->spawn("test-workload", [this, interval, gen] {
    while (workload_running_ && workload_generation_ == gen) {
      if (const std::optional<Node> l = leader()) {
        const std::string value = fmt::format("w{}", next_value_++);
        std::weak_ptr<Raft> weak = slots_[static_cast<size_t>(*l - 1)].raft;
        world_->env(node_id(*l)).spawn("test-writer", [this, weak, value] {
          std::shared_ptr<Raft> r = weak.lock();
          if (!r) return;
          const ProposeResult res = r->propose({Bytes(value.begin(), value.end())}, 3_s);
          if (res.ok()) acked_.push_back(Acked{value, *res.last_offset});
        });
      }
      world_->sleep(interval);
    }
  });
}

void Quorum::stop_workload() { workload_running_ = false; }

// ---- expectations ---------------------------------------------------------------------------------------

bool Quorum::expect_single_leader() {
  const std::optional<Node> l = leader();
  if (!l) {
    ADD_FAILURE() << "no leader\n" << describe_nodes();
    return false;
  }
  const Epoch e = raft(*l)->epoch();
  int leaders = 0;
  int followers = 1;  // the leader itself
  int live_voters = 0;
  for (int n = 1; n <= size(); ++n) {
    const Raft* r = raft(n);
    if (r == nullptr) continue;
    if (is_voter(n)) ++live_voters;
    if (r->role() == Role::leader && r->epoch() == e) ++leaders;
    if (n != *l && is_voter(n) && r->epoch() == e && r->leader() == BrokerId(*l)) ++followers;
  }
  const bool ok = leaders == 1 && followers >= options_.voters / 2 + 1;
  if (!ok) ADD_FAILURE() << fmt::format("{} leaders in epoch {}, {} voters follow n{}\n", leaders, e, followers, *l) << describe_nodes();
  return ok;
}

bool Quorum::expect_no_violations() {
  if (checker_.ok()) return true;
  ADD_FAILURE() << "invariant violations:\n" << checker_.report();
  return false;
}

bool Quorum::converged(std::string* why) const {
  auto say = [&](std::string s) {
    if (why) *why = std::move(s);
    return false;
  };
  const std::optional<Node> l = leader();
  if (!l) return say("no leader");
  const Raft* lr = raft(*l);
  if (lr->high_watermark() != lr->log_end_offset()) {
    return say(fmt::format("leader n{} has committed {} of {}", *l, lr->high_watermark(), lr->log_end_offset()));
  }
  for (int n = 1; n <= size(); ++n) {
    const Raft* r = raft(n);
    if (!is_up(n) || world_->is_paused(node_id(n))) continue;
    if (r == nullptr) return say(fmt::format("n{} is booting", n));
    if (r->last_applied() < lr->high_watermark()) {
      return say(fmt::format("n{} applied {} of {}", n, r->last_applied(), lr->high_watermark()));
    }
  }
  return true;
}

bool Quorum::expect_converged(sim::Duration limit) {
  if (!run_until([&] { return converged(); }, limit)) {
    std::string why;
    (void)converged(&why);
    ADD_FAILURE() << "not converged within " << sim::to_string(limit) << ": " << why << "\n" << describe_nodes();
    return false;
  }
  return expect_applied_agree() && expect_acked_survive();
}

std::string Quorum::applied_disagreement() const {
  for (int a = 1; a <= size(); ++a) {
    const RecordingStateMachine* sa = sm(a);
    if (sa == nullptr) continue;
    for (int b = a + 1; b <= size(); ++b) {
      const RecordingStateMachine* sb = sm(b);
      if (sb == nullptr) continue;
      for (const auto& [offset, value] : sa->records()) {
        auto it = sb->records().find(offset);
        if (it != sb->records().end() && it->second != value) {
          return fmt::format("n{} and n{} applied different records at offset {}", a, b, offset);
        }
      }
    }
  }
  return "";
}

std::string Quorum::lost_acknowledged() const {
  const std::optional<Node> l = leader();
  if (!l) return "no leader to check acknowledged records against";
  const auto& records = sm(*l)->records();
  for (const Acked& a : acked_) {
    auto it = records.find(a.offset.value());
    if (it == records.end() || std::string(it->second.begin(), it->second.end()) != a.value) {
      return fmt::format("acknowledged record {} at offset {} is not on the leader n{}", a.value, a.offset, *l);
    }
  }
  return "";
}

bool Quorum::expect_applied_agree() {
  const std::string why = applied_disagreement();
  if (!why.empty()) ADD_FAILURE() << why;
  return why.empty();
}

bool Quorum::expect_acked_survive() {
  const std::string why = lost_acknowledged();
  if (!why.empty()) ADD_FAILURE() << why;
  return why.empty();
}

}  // namespace seedlog::broker::raft::testing
