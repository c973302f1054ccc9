// Tests of the simulated network (sim/network.hpp): connections and their FIFO guarantee, each
// fault of the fault model (loss, corruption, partitions, clogs, kill, power loss), datagrams, the
// partition shapes, option validation and determinism. Scenarios run in a sim::World; blocking calls
// happen inside node tasks, and the tests assert on what the tasks recorded once the run is over.
#include "sim/network.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <bit>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/world.hpp"

namespace seedlog::sim {
namespace {

using namespace literals;

constexpr Port kPort = 9000;

NetworkOptions constant_latency(Duration d) {
  NetworkOptions o;
  o.latency = LatencyModel{d, d};
  return o;
}

void expect_clean(World& world, const RunResult& r) {
  EXPECT_FALSE(r.crash.has_value()) << world.describe(r);
}

std::string str(const Bytes& b) { return std::string(as_string(b)); }

// "timeout at 3s": an outcome and its time, readable in failure messages.
std::string at(Errc e, Instant t) { return fmt::format("{} at {}", to_string(e), t); }
std::string at(Errc e, Duration since_start) { return at(e, Instant() + since_start); }

// Accepts one connection on kPort; fails the test (returning an invalid handle) otherwise.
Connection accept_one(Env& env) {
  Result<Listener> l = env.listen(kPort);
  if (!l.ok()) {
    ADD_FAILURE() << "listen: " << to_string(l.error());
    return Connection();
  }
  Result<Connection> c = l->accept();
  if (!c.ok()) {
    ADD_FAILURE() << "accept: " << to_string(c.error());
    return Connection();
  }
  return std::move(c).value();
}

Connection connect_to(Env& env, NodeId to, Duration timeout = 5_s) {
  Result<Connection> c = env.connect(to, kPort, timeout);
  if (!c.ok()) {
    ADD_FAILURE() << "connect: " << to_string(c.error());
    return Connection();
  }
  return std::move(c).value();
}

// What a reader saw: the segments and when they arrived, then the error that ended the reading
// (Errc::ok while it is still reading) and when.
struct Reading {
  std::vector<std::string> messages;
  std::vector<Instant> arrivals;
  Errc end = Errc::ok;
  Instant end_time;
};

// Node clocks in these tests do not drift, so env.now() is the world's time.
void read_until_error(Env& env, Connection& c, Reading& out, Duration timeout = Duration::max()) {
  while (true) {
    Result<Bytes> r = c.recv(timeout);
    if (!r.ok()) {
      out.end = r.error();
      out.end_time = env.now();
      return;
    }
    out.messages.push_back(str(r.value()));
    out.arrivals.push_back(env.now());
  }
}

std::vector<std::string> numbered(int n, const std::string& prefix = "m") {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

// Two nodes with one connection between them: the server (node 0) accepts, the client (node 1)
// connects, and each end reads until an error into a Reading. Sending never blocks, so the test
// body sends, closes and injects faults between runs, reading like a script.
struct Pair {
  static constexpr NodeId kServer{0};
  static constexpr NodeId kClient{1};
  World world;
  std::weak_ptr<Connection> server_end;
  std::weak_ptr<Connection> client_end;
  Reading server_read;
  Reading client_read;

  explicit Pair(WorldOptions options) : world(std::move(options)) {
    world.add_node("server", [this](Env& env) {
      auto c = env.keep(std::make_shared<Connection>(accept_one(env)));
      server_end = c;
      connected_check();
      read_until_error(env, *c, server_read);
    });
    world.add_node("client", [this](Env& env) {
      if (env.incarnation() > 1) return;  // a restarted client stays quiet
      env.sleep(1_ms);                      // the server listens first, even with zero latency
      auto c = env.keep(std::make_shared<Connection>(connect_to(env, kServer, 60_s)));
      client_end = c;
      connected_check();
      read_until_error(env, *c, client_read);
    });
    world.start(kServer);
    world.start(kClient);
  }
  void connected_check() {
    if (!server_end.expired() && !client_end.expired()) world.stop("connected");
  }
  // Runs until both ends exist.
  void connect() {
    const RunResult r = world.run_for(60_s);
    ASSERT_EQ(r.reason, StopReason::stopped) << world.describe(r);
  }
  void run(Duration d) { expect_clean(world, world.run_for(d)); }
  Connection& server() { return end(server_end); }
  Connection& client() { return end(client_end); }
  Network& net() { return world.network(); }
  Instant now() const { return world.now(); }

 private:
  static Connection& end(const std::weak_ptr<Connection>& w) {
    auto p = w.lock();
    SL_ASSERT_MSG(p != nullptr, "that end is gone");
    return *p;  // owned by the node's process state
  }
};

// --- connections ---------------------------------------------------------------------------------

TEST(Network, ConnectAcceptSendRecvRoundTrip) {
  World world(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  const NodeId server{0};
  const NodeId client{1};
  std::string server_got;
  std::string client_got;
  Port client_port = 0;
  Port server_saw_port = 0;
  Instant connected;
  Instant replied;
  world.add_node("server", [&](Env& env) {
    Connection c = accept_one(env);
    EXPECT_EQ(c.local_node(), server);
    EXPECT_EQ(c.peer_node(), client);
    EXPECT_EQ(c.local_port(), kPort);
    server_saw_port = c.peer_port();
    server_got = str(c.recv().value());
    EXPECT_TRUE(c.send(to_bytes("pong")).ok());
    env.sleep(1_s);
  });
  world.add_node("client", [&](Env& env) {
    Connection c = connect_to(env, server);
    connected = env.now();
    EXPECT_TRUE(c.is_open());
    EXPECT_EQ(c.local_node(), client);
    EXPECT_EQ(c.peer_node(), server);
    EXPECT_EQ(c.peer_port(), kPort);
    client_port = c.local_port();
    EXPECT_TRUE(c.send(to_bytes("ping")).ok());
    client_got = str(c.recv().value());
    replied = env.now();
  });
  world.start(server);
  world.start(client);
  expect_clean(world, world.run_for(10_s));
  EXPECT_EQ(server_got, "ping");
  EXPECT_EQ(client_got, "pong");
  EXPECT_EQ(server_saw_port, client_port);
  EXPECT_NE(client_port, kPort);
  EXPECT_EQ(connected, Instant() + 2_ms);  // SYN and SYN-ACK
  EXPECT_EQ(replied, Instant() + 4_ms);    // ping and pong
  EXPECT_EQ(world.network().open_connections(), 0u);
}

// recv_view: each segment once, in order; a view stays intact while later segments arrive, until
// the next read; the buffers read go to the spares that buffer() hands out for sending.
TEST(Network, RecvViewReadsInOrderAndRecyclesItsBuffersForSending) {
  World world(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  const NodeId server{0};
  std::vector<std::string> got;
  std::string first_after_more_arrived;
  size_t spare_capacity = 0;
  size_t spare_size = 1;
  Errc end = Errc::ok;
  world.add_node("server", [&](Env& env) {
    Connection c = accept_one(env);
    Result<ByteView> first = c.recv_view();
    ASSERT_TRUE(first.ok());
    got.emplace_back(as_string(first.value()));
    env.sleep(10_ms);  // "two" and "three" arrive meanwhile
    first_after_more_arrived = std::string(as_string(first.value()));
    while (true) {
      Result<ByteView> r = c.recv_view();
      if (!r.ok()) {
        end = r.error();
        break;
      }
      got.emplace_back(as_string(r.value()));
    }
    Bytes spare = c.buffer();  // a buffer of a segment read above
    spare_capacity = spare.capacity();
    spare_size = spare.size();
  });
  world.add_node("client", [&](Env& env) {
    Connection c = connect_to(env, server);
    for (const char* m : {"one", "two", "three"}) {
      Bytes b = c.buffer();
      b.assign(m, m + std::string_view(m).size());
      EXPECT_TRUE(c.send(std::move(b)).ok());
    }
    c.close();
  });
  world.start(server);
  world.start(NodeId{1});
  expect_clean(world, world.run_for(10_s));
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(first_after_more_arrived, "one");
  EXPECT_EQ(end, Errc::closed);
  EXPECT_GT(spare_capacity, 0u);
  EXPECT_EQ(spare_size, 0u);
}

// Segments of one connection that arrive at the same instant are delivered in one event: when the
// reader wakes for the first, the others are already there (a read without waiting gets them). The
// FIN behind them keeps its own event, so it is not there yet, but comes at the same instant.
TEST(Network, SegmentsArrivingAtTheSameInstantAreDeliveredTogetherAndTheFinAfterThem) {
  World world(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  const NodeId server{0};
  std::vector<std::string> together;
  Errc after_them = Errc::ok;
  Instant first_at;
  std::string end_at;
  world.add_node("server", [&](Env& env) {
    Connection c = accept_one(env);
    Result<Bytes> first = c.recv();
    ASSERT_TRUE(first.ok());
    first_at = env.now();
    together.push_back(str(first.value()));
    while (true) {
      Result<Bytes> r = c.recv(Duration::zero());
      if (!r.ok()) {
        after_them = r.error();
        break;
      }
      together.push_back(str(r.value()));
    }
    Result<Bytes> fin = c.recv();
    end_at = fin.ok() ? "data" : at(fin.error(), env.now());
  });
  world.add_node("client", [&](Env& env) {
    Connection c = connect_to(env, server);
    for (const auto& m : numbered(3)) EXPECT_TRUE(c.send(to_bytes(m)).ok());
    c.close();
  });
  world.start(server);
  world.start(NodeId{1});
  expect_clean(world, world.run_for(10_s));
  EXPECT_EQ(together, numbered(3));
  EXPECT_EQ(after_them, Errc::timeout);
  EXPECT_EQ(end_at, at(Errc::closed, first_at));
}

TEST(Network, ConnectWithNobodyListeningIsRefused) {
  World world(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  std::string got;
  const NodeId server = world.add_node("server", [](Env& env) { env.sleep(10_s); });
  const NodeId client = world.add_node("client", [&](Env& env) {
    const Errc e = env.connect(server, kPort, 5_s).error();
    got = at(e, env.now());
  });
  world.start(server);
  world.start(client);
  expect_clean(world, world.run_for(10_s));
  EXPECT_EQ(got, at(Errc::connection_refused, 2_ms));  // SYN there, RST back
}

TEST(Network, ListenTwiceOnAPortFailsAlreadyExists) {
  World world(WorldOptions{.seed = 1});
  Errc second = Errc::ok;
  const NodeId n = world.add_node("n", [&](Env& env) {
    Listener l = env.listen(kPort).value();
    second = env.listen(kPort).error();
  });
  world.start(n);
  expect_clean(world, world.run_for(1_s));
  EXPECT_EQ(second, Errc::already_exists);
}

void listening_server(World& world) {
  world.add_node("server", [](Env& env) {
    Listener l = env.listen(kPort).value();
    Result<Connection> c = l.accept();
    env.sleep(100_s);
  });
}

// A server (node 0) listening on kPort, and a client (node 1) that connects to it at time 0 with
// a timeout, recording the outcome and its time.
struct Handshake {
  static constexpr NodeId kServer{0};
  static constexpr NodeId kClient{1};
  World world;
  std::pair<Errc, Instant> outcome{Errc::ok, Instant()};

  Handshake(NetworkOptions net, Duration timeout) : world(WorldOptions{.seed = 1, .network = net}) {
    listening_server(world);
    world.add_node("client", [this, timeout](Env& env) {
      Result<Connection> c = env.connect(kServer, kPort, timeout);
      outcome = {c.error(), env.now()};
    });
    world.start(kServer);
  }
  // "timeout at 3s": the outcome and when it came.
  std::string run() {
    world.start(kClient);
    expect_clean(world, world.run_for(60_s));
    return at(outcome.first, outcome.second);
  }
};

TEST(Network, ConnectToAPoweredOffNodeTimesOut) {
  Handshake h(NetworkOptions{}, 3_s);
  h.world.power_loss(Handshake::kServer);
  EXPECT_EQ(h.run(), at(Errc::timeout, 3_s));
}

TEST(Network, ConnectToAKilledNodeTimesOut) {
  Handshake h(NetworkOptions{}, 3_s);
  h.world.kill(Handshake::kServer);
  EXPECT_EQ(h.run(), at(Errc::timeout, 3_s));
}

TEST(Network, ConnectToANodeThatNeverStartedTimesOut) {
  World world(WorldOptions{.seed = 1});
  std::string got;
  const NodeId off = world.add_node("off", [](Env&) {});
  const NodeId client = world.add_node("client", [&](Env& env) {
    const Errc e = env.connect(off, kPort, 1_s).error();
    got = at(e, env.now());
  });
  world.start(client);
  expect_clean(world, world.run_for(10_s));
  EXPECT_EQ(got, at(Errc::timeout, 1_s));
}

TEST(Network, ConnectAcrossAPartitionTimesOut) {
  Handshake h(NetworkOptions{}, 2500_ms);
  h.world.network().block_both(Handshake::kServer, Handshake::kClient);
  EXPECT_EQ(h.run(), at(Errc::timeout, 2500_ms));
}

TEST(Network, ConnectTimesOutWhenOnlyTheReplyDirectionIsBlocked) {
  Handshake h(NetworkOptions{}, 2500_ms);
  h.world.network().block(Handshake::kServer, Handshake::kClient);
  EXPECT_EQ(h.run(), at(Errc::timeout, 2500_ms));
}

TEST(Network, ConnectSucceedsAfterHealWithinTheTimeoutBySynRetry) {
  Handshake h(constant_latency(1_ms), 5_s);
  h.world.network().block_both(Handshake::kServer, Handshake::kClient);
  h.world.at(Instant() + 1500_ms, [&] { h.world.network().heal(); });
  // SYNs at 0 s and 1 s go unanswered; the retry at 2 s gets through and is answered 2 ms later.
  EXPECT_EQ(h.run(), at(Errc::ok, 2_s + 2_ms));
}

TEST(Network, ConnectTimesOutWhenTheHealComesAfterTheDeadline) {
  Handshake h(constant_latency(1_ms), 3_s);
  h.world.network().block_both(Handshake::kServer, Handshake::kClient);
  h.world.at(Instant() + 3500_ms, [&] { h.world.network().heal(); });
  EXPECT_EQ(h.run(), at(Errc::timeout, 3_s));
}

TEST(Network, ConnectTimesOutWhenTheTargetLosesPowerDuringTheHandshake) {
  // The SYN is on its way when the target dies: nobody answers, which is a timeout, not a refusal.
  Handshake h(constant_latency(10_ms), 2_s);
  h.world.at(Instant() + 5_ms, [&] { h.world.power_loss(Handshake::kServer); });
  EXPECT_EQ(h.run(), at(Errc::timeout, 2_s));
}

TEST(Network, RecvTimesOutInTheCallersTime) {
  Pair p(WorldOptions{.seed = 1});
  p.connect();
  Errc got = Errc::ok;
  Duration waited;
  p.world.env(Pair::kServer).spawn("timed reader", [&] {
    const Instant t0 = p.world.now();
    got = p.server().recv(250_ms).error();
    waited = p.world.now() - t0;
  });
  p.run(1_s);
  EXPECT_EQ(got, Errc::timeout);
  EXPECT_EQ(waited, 250_ms);
}

// Delays of `n` segments sent one second apart (so no segment waits behind another).
std::vector<Duration> spaced_delays(WorldOptions options, int n, bool busy_node_rng = false) {
  Pair p(std::move(options));
  p.connect();
  if (busy_node_rng) {
    p.world.env(Pair::kClient).spawn("dice", [&p] {
      Env& env = p.world.env(Pair::kClient);
      for (int i = 0; i < 1000; ++i) {
        (void)env.rng().next_u64();
        env.sleep(10_ms);
      }
    });
  }
  std::vector<Instant> sent;
  p.world.spawn("sender", [&] {
    for (int i = 0; i < n; ++i) {
      sent.push_back(p.world.now());
      EXPECT_TRUE(p.client().send(to_bytes("x")).ok());
      p.world.sleep(1_s);
    }
  });
  p.run(Duration::s(n + 10));
  std::vector<Duration> out;
  EXPECT_EQ(p.server_read.arrivals.size(), sent.size());
  for (size_t i = 0; i < std::min(sent.size(), p.server_read.arrivals.size()); ++i) {
    out.push_back(p.server_read.arrivals[i] - sent[i]);
  }
  return out;
}

TEST(Network, LatencyIsAtLeastTheMinimumAndAveragesTheMean) {
  NetworkOptions net;
  net.latency = LatencyModel{1_ms, 3_ms};
  const auto delays = spaced_delays(WorldOptions{.seed = 8, .network = net}, 400);
  ASSERT_EQ(delays.size(), 400u);
  Duration total = Duration::zero();
  for (Duration d : delays) {
    EXPECT_GE(d, 1_ms);
    EXPECT_LE(d, 1_ms + (3_ms - 1_ms) * 40) << "the exponential part is bounded";
    total += d;
  }
  // The exponential part has mean 2 ms and standard deviation 2 ms: 400 draws average within
  // 0.5 ms of 3 ms with overwhelming probability.
  EXPECT_GT(total / 400, 2500_us);
  EXPECT_LT(total / 400, 3500_us);
}

TEST(Network, NodeRandomnessDoesNotShiftNetworkDelays) {
  const auto calm = spaced_delays(WorldOptions{.seed = 8}, 20);
  const auto busy = spaced_delays(WorldOptions{.seed = 8}, 20, true);
  EXPECT_EQ(calm, busy);
}

// --- FIFO ------------------------------------------------------------------------------------------

// The client sends `messages`, one every gaps[i % gaps.size()] (all at once with no gaps), then
// closes. Returns what the server read, then "<end:...>" with the error that ended its reading.
std::vector<std::string> stream_through(uint64_t seed, NetworkOptions net, const std::vector<std::string>& messages,
                                        const std::vector<Duration>& gaps, std::vector<Duration>* delays = nullptr) {
  Pair p(WorldOptions{.seed = seed, .network = net});
  p.connect();
  std::vector<std::string> out;
  const Instant start = p.now();
  // One driver task sends in order: separate timers at one instant would run in tie-break order.
  p.world.spawn("sender", [&] {
    for (size_t i = 0; i < messages.size(); ++i) {
      if (!p.client().send(to_bytes(messages[i])).ok()) out.push_back("<send failed>");
      const Duration gap = gaps.empty() ? Duration::zero() : gaps[i % gaps.size()];
      if (gap > Duration::zero()) p.world.sleep(gap);
    }
    p.client().close();
  });
  p.run(3600_s);
  out.insert(out.end(), p.server_read.messages.begin(), p.server_read.messages.end());
  out.push_back(std::string("<end:") + std::string(to_string(p.server_read.end)) + ">");
  if (delays != nullptr) {
    for (Instant t : p.server_read.arrivals) delays->push_back(t - start);
  }
  return out;
}

RC_GTEST_PROP(Network, ConnectionDeliversEverySegmentOnceInOrderUnmodified, ()) {
  const auto sizes = *rc::gen::container<std::vector<uint16_t>>(rc::gen::inRange<uint16_t>(0, 3000));
  const auto gaps_us = *rc::gen::container<std::vector<uint16_t>>(rc::gen::inRange<uint16_t>(0, 3000));
  const int64_t min_us = *rc::gen::inRange<int64_t>(0, 5000);
  const int64_t extra_us = *rc::gen::inRange<int64_t>(0, 50000);
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  NetworkOptions net;
  net.latency = LatencyModel{Duration::us(min_us), Duration::us(min_us + extra_us)};
  std::vector<std::string> messages;
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::string m = std::to_string(i) + ":";
    for (size_t j = 0; m.size() < sizes[i]; ++j) m.push_back(static_cast<char>('a' + (i + j) % 26));
    messages.push_back(m);
  }
  std::vector<Duration> gaps;
  for (uint16_t g : gaps_us) gaps.push_back(Duration::us(g));
  std::vector<std::string> expected = messages;
  expected.push_back("<end:closed>");
  RC_ASSERT(stream_through(seed, net, messages, gaps) == expected);
}

RC_GTEST_PROP(Network, LossyConnectionStillDeliversEverySegmentOnceInOrder, ()) {
  const int count = *rc::gen::inRange(0, 60);
  const uint64_t loss_percent = *rc::gen::inRange<uint64_t>(1, 60);
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  NetworkOptions net;
  net.segment_loss = Ratio::percent(loss_percent);
  std::vector<std::string> expected = numbered(count);
  const auto got = stream_through(seed, net, expected, {Duration::us(300)});
  expected.push_back("<end:closed>");
  RC_ASSERT(got == expected);
}

TEST(Network, LostSegmentIsRetransmittedAfterTheTimeoutAndHoldsBackLaterOnes) {
  NetworkOptions net = constant_latency(1_ms);
  net.segment_loss = Ratio::percent(50);
  std::vector<Duration> delays;
  std::vector<std::string> expected = numbered(40);
  const auto got = stream_through(3, net, expected, {}, &delays);
  expected.push_back("<end:closed>");
  EXPECT_EQ(got, expected);
  ASSERT_EQ(delays.size(), 40u);
  EXPECT_TRUE(std::is_sorted(delays.begin(), delays.end()));
  // All were sent at one instant: a segment that was not lost arrives 1 ms later, a lost one whole
  // retransmission timeouts after that, and everything behind a lost one waits for it.
  const int64_t rto_ns = net.retransmit_timeout.count_ns();
  int retransmitted = 0;
  for (Duration d : delays) {
    EXPECT_EQ((d - 1_ms).count_ns() % rto_ns, 0) << to_string(d);
    if (d > 1_ms) ++retransmitted;
  }
  EXPECT_GT(retransmitted, 30);
}

TEST(Network, SegmentCorruptionFlipsExactlyOneBitOfEachDeliveredSegment) {
  NetworkOptions net;
  net.segment_corruption = Ratio::one();
  std::vector<std::string> sent;
  for (int i = 0; i < 50; ++i) sent.push_back(std::string(static_cast<size_t>(1 + i * 3), static_cast<char>('A' + i % 20)));
  sent.push_back("");
  const auto got = stream_through(5, net, sent, {});
  ASSERT_EQ(got.size(), sent.size() + 1);
  for (size_t i = 0; i < sent.size(); ++i) {
    ASSERT_EQ(got[i].size(), sent[i].size());
    int bits = 0;
    for (size_t j = 0; j < sent[i].size(); ++j) bits += std::popcount(static_cast<uint8_t>(got[i][j] ^ sent[i][j]));
    EXPECT_EQ(bits, sent[i].empty() ? 0 : 1) << "segment " << i;
  }
  EXPECT_EQ(got.back(), "<end:closed>");
}

// --- partitions and clogs ----------------------------------------------------------------------------

TEST(Network, PartitionHoldsSegmentsAndDeliversThemInOrderAfterHeal) {
  Pair p(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  p.connect();
  p.net().block_both(Pair::kServer, Pair::kClient);
  for (const auto& m : numbered(5)) ASSERT_TRUE(p.client().send(to_bytes(m)).ok());
  p.run(10_s);  // shorter than partition_reset_after (15 s)
  EXPECT_TRUE(p.server_read.messages.empty());
  p.net().heal();
  const Instant healed = p.now();
  p.run(1_s);
  EXPECT_EQ(p.server_read.messages, numbered(5));
  EXPECT_EQ(p.server_read.arrivals, std::vector<Instant>(5, healed));
  EXPECT_TRUE(p.client().is_open());
  EXPECT_EQ(p.server_read.end, Errc::ok) << "still reading";
}

TEST(Network, PartitionLongerThanResetAfterResetsTheConnectionOnBothEnds) {
  NetworkOptions net = constant_latency(1_ms);
  net.partition_reset_after = 2_s;
  Pair p(WorldOptions{.seed = 1, .network = net});
  p.connect();
  p.net().block_both(Pair::kServer, Pair::kClient);
  const Instant sent = p.now();
  ASSERT_TRUE(p.client().send(to_bytes("into the void")).ok());
  p.run(10_s);
  // The segment found the link cut when it arrived (1 ms); TCP gave up 2 s later.
  EXPECT_EQ(at(p.server_read.end, p.server_read.end_time), at(Errc::connection_reset, sent + 1_ms + 2_s));
  EXPECT_EQ(at(p.client_read.end, p.client_read.end_time), at(Errc::connection_reset, sent + 1_ms + 2_s));
  EXPECT_TRUE(p.server_read.messages.empty());
  EXPECT_FALSE(p.client().is_open());
  EXPECT_FALSE(p.server().is_open());
  EXPECT_EQ(p.client().send(to_bytes("again")).code(), Errc::connection_reset);
  EXPECT_EQ(p.server().send(to_bytes("again")).code(), Errc::connection_reset);
  p.net().heal();
  p.run(1_s);
  EXPECT_TRUE(p.server_read.messages.empty()) << "a reset connection delivers nothing after a heal";
}

TEST(Network, PartitionResetIsNotPostponedByHealingOtherLinks) {
  NetworkOptions net = constant_latency(1_ms);
  net.partition_reset_after = 2_s;
  Pair p(WorldOptions{.seed = 1, .network = net});
  const NodeId c = p.world.add_node("c", [](Env&) {});
  const NodeId d = p.world.add_node("d", [](Env&) {});
  p.connect();
  p.net().block_both(Pair::kServer, Pair::kClient);
  const Instant sent = p.now();
  ASSERT_TRUE(p.client().send(to_bytes("x")).ok());
  // A nemesis flaps an unrelated link every 100 ms.
  for (int i = 1; i <= 50; ++i) {
    p.world.at(sent + 100_ms * i, [&p, c, d, i] {
      if (i % 2 == 1) {
        p.net().block(c, d);
      } else {
        p.net().unblock(c, d);
      }
    });
  }
  p.run(10_s);
  EXPECT_EQ(at(p.server_read.end, p.server_read.end_time), at(Errc::connection_reset, sent + 1_ms + 2_s));
}

TEST(Network, OneWayBlockHoldsOnlyThatDirection) {
  Pair p(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  p.connect();
  p.net().block(Pair::kClient, Pair::kServer);
  EXPECT_TRUE(p.net().blocked(Pair::kClient, Pair::kServer));
  EXPECT_FALSE(p.net().blocked(Pair::kServer, Pair::kClient));
  const Instant sent = p.now();
  ASSERT_TRUE(p.client().send(to_bytes("up")).ok());
  ASSERT_TRUE(p.server().send(to_bytes("down")).ok());
  p.run(5_s);
  EXPECT_EQ(p.client_read.messages, std::vector<std::string>{"down"});
  EXPECT_EQ(p.client_read.arrivals, std::vector<Instant>{sent + 1_ms});
  EXPECT_TRUE(p.server_read.messages.empty());
  p.net().unblock(Pair::kClient, Pair::kServer);
  p.run(1_s);
  EXPECT_EQ(p.server_read.messages, std::vector<std::string>{"up"});
}

TEST(Network, ClogLinkDelaysDeliveryUntilTheClogEnds) {
  Pair p(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  p.connect();
  const Instant t = p.now();
  p.net().clog_link(Pair::kClient, Pair::kServer, t + 2_s);
  ASSERT_TRUE(p.client().send(to_bytes("slow")).ok());
  ASSERT_TRUE(p.server().send(to_bytes("fast")).ok());
  p.run(1_s);
  EXPECT_TRUE(p.server_read.messages.empty());
  p.run(5_s);
  EXPECT_EQ(p.server_read.messages, std::vector<std::string>{"slow"});
  EXPECT_EQ(p.server_read.arrivals, std::vector<Instant>{t + 2_s});
  EXPECT_EQ(p.client_read.arrivals, std::vector<Instant>{t + 1_ms});
}

TEST(Network, ClogLongerThanPartitionResetAfterDoesNotBreakTheConnection) {
  NetworkOptions net = constant_latency(1_ms);
  net.partition_reset_after = 1_s;
  Pair p(WorldOptions{.seed = 1, .network = net});
  p.connect();
  const Instant t = p.now();
  p.net().clog_link(Pair::kClient, Pair::kServer, t + 5_s);
  ASSERT_TRUE(p.client().send(to_bytes("late but whole")).ok());
  p.run(10_s);
  EXPECT_EQ(p.server_read.messages, std::vector<std::string>{"late but whole"});
  EXPECT_EQ(p.server_read.arrivals, std::vector<Instant>{t + 5_s});
  EXPECT_EQ(p.server_read.end, Errc::ok);
  EXPECT_TRUE(p.client().is_open());
}

TEST(Network, ClogNodeDelaysEveryLinkOfTheNodeAndUnclogReleasesEarly) {
  Pair p(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  p.connect();
  const Instant t = p.now();
  p.net().clog_node(Pair::kServer, t + 10_s);
  ASSERT_TRUE(p.client().send(to_bytes("to server")).ok());
  ASSERT_TRUE(p.server().send(to_bytes("from server")).ok());
  p.world.at(t + 500_ms, [&] { p.net().unclog_node(Pair::kServer); });
  p.run(400_ms);
  EXPECT_TRUE(p.server_read.messages.empty());
  EXPECT_TRUE(p.client_read.messages.empty());
  p.run(1_s);
  EXPECT_EQ(p.server_read.arrivals, std::vector<Instant>{t + 500_ms});
  EXPECT_EQ(p.client_read.arrivals, std::vector<Instant>{t + 500_ms});
}

TEST(Network, HealEndsClogsAtOnce) {
  Pair p(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  p.connect();
  const Instant t = p.now();
  p.net().clog_link(Pair::kClient, Pair::kServer, t + 10_s);
  ASSERT_TRUE(p.client().send(to_bytes("x")).ok());
  p.world.at(t + 1_s, [&] { p.net().heal(); });
  p.run(20_s);
  EXPECT_EQ(p.server_read.arrivals, std::vector<Instant>{t + 1_s});
}

TEST(Network, SetLatencyOverridesOneDirectedLink) {
  Pair p(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  p.connect();
  p.net().set_latency(Pair::kClient, Pair::kServer, LatencyModel{30_ms, 30_ms});
  const Instant t = p.now();
  ASSERT_TRUE(p.client().send(to_bytes("a")).ok());
  ASSERT_TRUE(p.server().send(to_bytes("b")).ok());
  p.run(1_s);
  EXPECT_EQ(p.server_read.arrivals, std::vector<Instant>{t + 30_ms});
  EXPECT_EQ(p.client_read.arrivals, std::vector<Instant>{t + 1_ms});
  EXPECT_THROW(p.net().set_latency(Pair::kClient, Pair::kServer, LatencyModel{2_ms, 1_ms}), ConfigError);
}

// --- process and machine faults ------------------------------------------------------------------

TEST(Network, KilledPeersDataSentBeforeTheKillArrivesThenClosed) {
  Pair p(WorldOptions{.seed = 1, .network = constant_latency(50_ms)});
  p.connect();
  for (const auto& m : numbered(10)) ASSERT_TRUE(p.client().send(to_bytes(m)).ok());
  p.world.kill(Pair::kClient);  // the ten segments are still on the wire
  p.run(1_s);
  EXPECT_EQ(p.server_read.messages, numbered(10));
  EXPECT_EQ(p.server_read.end, Errc::closed);
  EXPECT_EQ(p.server().recv(Duration::zero()).error(), Errc::closed) << "closed stays closed";
}

TEST(Network, SegmentToAKilledAndRestartedNodeResetsTheOldConnection) {
  Pair p(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  p.connect();
  p.world.kill(Pair::kClient);
  p.run(1_s);
  EXPECT_EQ(p.server_read.end, Errc::closed);
  EXPECT_TRUE(p.server().send(to_bytes("while it is down")).ok());  // nobody there: vanishes
  p.run(1_s);
  EXPECT_EQ(p.server().recv(Duration::zero()).error(), Errc::closed);
  p.world.start(Pair::kClient);
  p.run(1_s);
  EXPECT_TRUE(p.server().send(to_bytes("after the restart")).ok());
  p.run(1_s);
  EXPECT_EQ(p.server().recv(Duration::zero()).error(), Errc::connection_reset);
}

TEST(Network, PowerLossIsSilentAndTheRestartedNodeResetsTheOldConnection) {
  Pair p(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  p.connect();
  p.world.power_loss(Pair::kClient);
  p.run(5_s);
  EXPECT_EQ(p.server_read.end, Errc::ok) << "no FIN, no reset: still waiting";
  EXPECT_TRUE(p.server().is_open());
  EXPECT_TRUE(p.server().send(to_bytes("anyone there?")).ok());  // vanishes
  p.run(5_s);
  EXPECT_EQ(p.server_read.end, Errc::ok);
  p.world.start(Pair::kClient);
  p.run(1_s);
  const Instant sent = p.now();
  EXPECT_TRUE(p.server().send(to_bytes("hello again")).ok());
  p.run(1_s);
  EXPECT_EQ(at(p.server_read.end, p.server_read.end_time), at(Errc::connection_reset, sent + 1_ms));
  EXPECT_TRUE(p.server_read.messages.empty());
  EXPECT_FALSE(p.server().is_open());
  EXPECT_EQ(p.server().send(to_bytes("x")).code(), Errc::connection_reset);
}

TEST(Network, CloseDeliversTheDataThenClosedToThePeer) {
  Pair p(WorldOptions{.seed = 1});
  p.connect();
  for (const auto& m : numbered(3)) ASSERT_TRUE(p.client().send(to_bytes(m)).ok());
  p.client().close();
  EXPECT_FALSE(p.client().valid());
  EXPECT_EQ(p.client().send(to_bytes("late")).code(), Errc::invalid_argument);
  p.run(1_s);
  EXPECT_EQ(p.server_read.messages, numbered(3));
  EXPECT_EQ(p.server_read.end, Errc::closed);
  EXPECT_EQ(p.server().recv(Duration::zero()).error(), Errc::closed);
}

TEST(Network, ClosingBothEndsFreesTheConnection) {
  Pair p(WorldOptions{.seed = 1});
  p.connect();
  EXPECT_EQ(p.net().open_connections(), 1u);
  p.client().close();
  p.run(1_s);
  p.server().close();
  EXPECT_EQ(p.net().open_connections(), 0u);
}

TEST(Network, AbortGivesThePeerAReset) {
  Pair p(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  p.connect();
  const Instant t = p.now();
  p.client().abort();
  EXPECT_FALSE(p.client().valid());
  p.run(1_s);
  EXPECT_EQ(at(p.server_read.end, p.server_read.end_time), at(Errc::connection_reset, t + 1_ms));
  EXPECT_TRUE(p.server_read.messages.empty());
  EXPECT_EQ(p.server().send(to_bytes("x")).code(), Errc::connection_reset);
}

TEST(Network, CloseFromAnotherTaskEndsARecvBlockedOnTheSameConnection) {
  Pair p(WorldOptions{.seed = 1});
  p.connect();
  const Instant t = p.now();
  p.client().close();  // the client's own reader task is blocked in recv on this connection
  p.run(1_s);
  EXPECT_NE(p.client_read.end, Errc::ok) << "the blocked reader was woken";
  EXPECT_EQ(p.client_read.end_time, t);
}

TEST(Network, ClosingAListenerResetsConnectionsItNeverAccepted) {
  World world(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  Errc first = Errc::ok;
  Instant first_time;
  Errc second = Errc::ok;
  const NodeId server = world.add_node("server", [](Env& env) {
    Listener l = env.listen(kPort).value();
    env.sleep(50_ms);
    l.close();
    env.sleep(10_s);
  });
  const NodeId client = world.add_node("client", [&](Env& env) {
    Connection c = connect_to(env, server);  // established, waiting in the backlog
    first = c.recv().error();
    first_time = env.now();
    second = env.connect(server, kPort, 1_s).error();
  });
  world.start(server);
  world.start(client);
  expect_clean(world, world.run_for(20_s));
  EXPECT_EQ(at(first, first_time), at(Errc::connection_reset, 51_ms));
  EXPECT_EQ(second, Errc::connection_refused);
}

TEST(Network, ListenerClosedByAnotherTaskEndsAPendingAcceptWithClosed) {
  World world(WorldOptions{.seed = 1});
  std::string got;
  const NodeId server = world.add_node("server", [&](Env& env) {
    auto l = env.keep(std::make_shared<Listener>(env.listen(kPort).value()));
    env.spawn("closer", [&env, l] {
      env.sleep(10_ms);
      l->close();
    });
    const Errc e = l->accept().error();
    got = at(e, env.now());
  });
  world.start(server);
  expect_clean(world, world.run_for(1_s));
  EXPECT_EQ(got, at(Errc::closed, 10_ms));
}

TEST(Network, AcceptTimesOutWhenNobodyConnects) {
  World world(WorldOptions{.seed = 1});
  std::string got;
  const NodeId server = world.add_node("server", [&](Env& env) {
    Listener l = env.listen(kPort).value();
    const Errc e = l.accept(300_ms).error();
    got = at(e, env.now());
  });
  world.start(server);
  expect_clean(world, world.run_for(1_s));
  EXPECT_EQ(got, at(Errc::timeout, 300_ms));
}

// --- datagrams -------------------------------------------------------------------------------------

struct Received {
  Instant time;
  NodeId from;
  Port from_port = 0;
  std::string data;
};

// Node 0 binds port 7000 and runs `sender`; node 1 binds 7001 and records every datagram.
std::vector<Received> exchange_datagrams(WorldOptions options, std::function<void(Env&, DatagramSocket&)> sender,
                                         std::function<void(World&)> faults = {}) {
  World world(std::move(options));
  std::vector<Received> got;
  const NodeId a = world.add_node("a", [&](Env& env) {
    DatagramSocket s = env.bind_datagram(7000).value();
    env.sleep(1_ms);  // the receiver binds first
    sender(env, s);
    env.sleep(100_s);
  });
  const NodeId b = world.add_node("b", [&](Env& env) {
    DatagramSocket s = env.bind_datagram(7001).value();
    while (true) {
      Result<Datagram> d = s.recv_from();
      if (!d.ok()) return;
      got.push_back(Received{env.now(), d->from, d->from_port, str(d->data)});
    }
  });
  world.start(a);
  world.start(b);
  if (faults) faults(world);
  expect_clean(world, world.run_for(200_s));
  return got;
}

std::vector<std::string> payloads(const std::vector<Received>& got) {
  std::vector<std::string> out;
  for (const auto& r : got) out.push_back(r.data);
  return out;
}

void send_numbered(DatagramSocket& s, int n, Env* pace = nullptr) {
  for (int i = 0; i < n; ++i) {
    s.send_to(NodeId{1}, 7001, to_bytes("d" + std::to_string(i)));
    if (pace != nullptr) pace->sleep(1_ms);
  }
}

TEST(Network, DatagramArrivesWithItsSenderAfterTheLatency) {
  const auto got = exchange_datagrams(WorldOptions{.seed = 1, .network = constant_latency(2_ms)},
                                      [](Env&, DatagramSocket& s) { s.send_to(NodeId{1}, 7001, to_bytes("hi")); });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, "hi");
  EXPECT_EQ(got[0].from, NodeId{0});
  EXPECT_EQ(got[0].from_port, 7000);
  EXPECT_EQ(got[0].time, Instant() + 3_ms);
}

TEST(Network, DatagramToAnUnboundPortVanishes) {
  const auto got = exchange_datagrams(WorldOptions{.seed = 1}, [](Env&, DatagramSocket& s) {
    s.send_to(NodeId{1}, 7999, to_bytes("nobody"));
    s.send_to(NodeId{1}, 7001, to_bytes("somebody"));
  });
  EXPECT_EQ(payloads(got), std::vector<std::string>{"somebody"});
}

TEST(Network, BindingABoundPortFailsAlreadyExists) {
  World world(WorldOptions{.seed = 1});
  Errc second = Errc::ok;
  const NodeId n = world.add_node("n", [&](Env& env) {
    DatagramSocket s = env.bind_datagram(7000).value();
    second = env.bind_datagram(7000).error();
  });
  world.start(n);
  expect_clean(world, world.run_for(1_s));
  EXPECT_EQ(second, Errc::already_exists);
}

std::vector<std::string> dropped_run(uint64_t seed) {
  NetworkOptions net;
  net.datagram_drop = Ratio::percent(30);
  return payloads(exchange_datagrams(WorldOptions{.seed = seed, .network = net},
                                     [](Env&, DatagramSocket& s) { send_numbered(s, 1000); }));
}

TEST(Network, DatagramDropLosesAPlausibleShareDeterministically) {
  const auto got = dropped_run(21);
  // Binomial(1000, 0.7): mean 700, standard deviation 14.5; 5 deviations either side.
  EXPECT_GT(got.size(), 627u);
  EXPECT_LT(got.size(), 773u);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size()) << "no duplicates";
  EXPECT_EQ(dropped_run(21), got) << "the same seed drops the same datagrams";
  EXPECT_NE(dropped_run(22), got);
}

TEST(Network, DatagramDuplicateDeliversEachDatagramTwice) {
  NetworkOptions net;
  net.datagram_duplicate = Ratio::one();
  const auto got = payloads(exchange_datagrams(WorldOptions{.seed = 1, .network = net},
                                               [](Env&, DatagramSocket& s) { send_numbered(s, 100); }));
  std::map<std::string, int> count;
  for (const auto& g : got) ++count[g];
  EXPECT_EQ(got.size(), 200u);
  EXPECT_EQ(count.size(), 100u);
  for (const auto& [data, n] : count) EXPECT_EQ(n, 2) << data;
}

int inversions(const std::vector<Received>& got) {
  int n = 0;
  for (size_t i = 1; i < got.size(); ++i) {
    if (std::stoi(got[i].data.substr(1)) < std::stoi(got[i - 1].data.substr(1))) ++n;
  }
  return n;
}

TEST(Network, DatagramReorderDelaysSomeDatagramsPastLaterOnes) {
  NetworkOptions net = constant_latency(1_ms);
  const auto in_order = exchange_datagrams(WorldOptions{.seed = 4, .network = net},
                                           [](Env& env, DatagramSocket& s) { send_numbered(s, 200, &env); });
  EXPECT_EQ(in_order.size(), 200u);
  EXPECT_EQ(inversions(in_order), 0);
  net.datagram_reorder = Ratio::percent(50);
  const auto reordered = exchange_datagrams(WorldOptions{.seed = 4, .network = net},
                                            [](Env& env, DatagramSocket& s) { send_numbered(s, 200, &env); });
  EXPECT_EQ(reordered.size(), 200u);
  EXPECT_GT(inversions(reordered), 10);
  for (size_t i = 0; i < reordered.size(); ++i) {
    // Sent at 1 ms + i ms, arriving 1 ms later plus at most the reorder delay.
    const Instant sent = Instant() + 1_ms + 1_ms * std::stoi(reordered[i].data.substr(1));
    EXPECT_GE(reordered[i].time, sent + 1_ms);
    EXPECT_LE(reordered[i].time, sent + 1_ms + net.datagram_reorder_delay_max);
  }
}

TEST(Network, DatagramCorruptionFlipsExactlyOneBit) {
  NetworkOptions net;
  net.datagram_corruption = Ratio::one();
  const auto got = exchange_datagrams(WorldOptions{.seed = 1, .network = net}, [](Env&, DatagramSocket& s) {
    for (int i = 0; i < 50; ++i) s.send_to(NodeId{1}, 7001, to_bytes(std::string(static_cast<size_t>(i + 1), 'Q')));
  });
  ASSERT_EQ(got.size(), 50u);
  for (const auto& r : got) {
    int bits = 0;
    for (char ch : r.data) bits += std::popcount(static_cast<uint8_t>(ch ^ 'Q'));
    EXPECT_EQ(bits, 1) << r.data;
  }
}

TEST(Network, PartitionDropsDatagramsSentOrArrivingWhileBlocked) {
  const auto got = exchange_datagrams(
      WorldOptions{.seed = 1, .network = constant_latency(10_ms)},
      [](Env& env, DatagramSocket& s) {
        s.send_to(NodeId{1}, 7001, to_bytes("blocked at send"));  // t = 1 ms
        env.sleep(20_ms);
        s.send_to(NodeId{1}, 7001, to_bytes("through"));  // t = 21 ms, arrives 31 ms
        env.sleep(20_ms);
        s.send_to(NodeId{1}, 7001, to_bytes("blocked on arrival"));  // t = 41 ms, blocked at 45 ms
      },
      [](World& world) {
        world.network().block(NodeId{0}, NodeId{1});
        world.at(Instant() + 10_ms, [&world] { world.network().heal(); });
        world.at(Instant() + 45_ms, [&world] { world.network().block(NodeId{0}, NodeId{1}); });
      });
  EXPECT_EQ(payloads(got), std::vector<std::string>{"through"});
}

TEST(Network, ClosingADatagramSocketFromAnotherTaskEndsItsRecv) {
  World world(WorldOptions{.seed = 1});
  std::string got;
  const NodeId n = world.add_node("n", [&](Env& env) {
    auto s = env.keep(std::make_shared<DatagramSocket>(env.bind_datagram(7000).value()));
    env.spawn("closer", [&env, s] {
      env.sleep(10_ms);
      s->close();
    });
    const Errc e = s->recv_from().error();
    got = at(e, env.now());
  });
  world.start(n);
  expect_clean(world, world.run_for(1_s));
  EXPECT_EQ(got, at(Errc::closed, 10_ms));
}

// --- options -------------------------------------------------------------------------------------

void expect_network_config_error(const NetworkOptions& o, const std::string& field) {
  try {
    o.validate();
    ADD_FAILURE() << "validate accepted a bad " << field;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(Network, DefaultOptionsAreValidAndFaultFree) {
  NetworkOptions o;
  EXPECT_NO_THROW(o.validate());
  for (Ratio r : {o.segment_loss, o.segment_corruption, o.datagram_drop, o.datagram_duplicate, o.datagram_reorder,
                  o.datagram_corruption}) {
    EXPECT_TRUE(r.is_zero());
  }
}

TEST(Network, ValidateRejectsBadValuesNamingTheField) {
  auto with = [](auto change) {
    NetworkOptions o;
    change(o);
    return o;
  };
  expect_network_config_error(with([](NetworkOptions& o) { o.latency.min = Duration::ms(-1); }), "latency.min");
  expect_network_config_error(with([](NetworkOptions& o) { o.latency = {5_ms, 1_ms}; }), "latency.mean");
  expect_network_config_error(with([](NetworkOptions& o) { o.partition_reset_after = Duration::zero(); }),
                              "partition_reset_after");
  expect_network_config_error(with([](NetworkOptions& o) { o.retransmit_timeout = Duration::zero(); }),
                              "retransmit_timeout");
  expect_network_config_error(with([](NetworkOptions& o) { o.syn_retry_interval = Duration::ms(-5); }),
                              "syn_retry_interval");
  expect_network_config_error(with([](NetworkOptions& o) { o.datagram_reorder_delay_max = Duration::ms(-1); }),
                              "datagram_reorder_delay_max");
  expect_network_config_error(with([](NetworkOptions& o) { o.segment_loss = Ratio{3, 2}; }), "segment_loss");
  expect_network_config_error(with([](NetworkOptions& o) { o.segment_loss = Ratio::one(); }), "segment_loss");
  expect_network_config_error(with([](NetworkOptions& o) { o.segment_corruption = Ratio{1, 0}; }),
                              "segment_corruption");
  expect_network_config_error(with([](NetworkOptions& o) { o.datagram_drop = Ratio{2, 1}; }), "datagram_drop");
  expect_network_config_error(with([](NetworkOptions& o) { o.datagram_duplicate = Ratio{2, 1}; }),
                              "datagram_duplicate");
  expect_network_config_error(with([](NetworkOptions& o) { o.datagram_reorder = Ratio{2, 1}; }), "datagram_reorder");
  expect_network_config_error(with([](NetworkOptions& o) { o.datagram_corruption = Ratio{2, 1}; }),
                              "datagram_corruption");
}

TEST(Network, BadOptionsAreRejectedByTheWorldAndBySetOptions) {
  NetworkOptions bad;
  bad.retransmit_timeout = Duration::zero();
  EXPECT_THROW(World(WorldOptions{.seed = 1, .network = bad}), ConfigError);
  World world(WorldOptions{.seed = 1, .network = constant_latency(3_ms)});
  EXPECT_THROW(world.network().set_options(bad), ConfigError);
  EXPECT_EQ(world.network().options().latency, (LatencyModel{3_ms, 3_ms})) << "a rejected set_options changes nothing";
}

TEST(Network, DescribeListsEveryOption) {
  const auto described = NetworkOptions{}.describe();
  for (const char* field : {"latency.min", "latency.mean", "partition_reset_after", "retransmit_timeout",
                            "syn_retry_interval", "segment_loss", "segment_corruption", "datagram_drop",
                            "datagram_duplicate", "datagram_reorder", "datagram_corruption",
                            "datagram_reorder_delay_max"}) {
    const bool found = std::any_of(described.begin(), described.end(),
                                   [&](const auto& kv) { return kv.first == std::string("network.") + field; });
    EXPECT_TRUE(found) << field;
  }
}

// --- determinism ---------------------------------------------------------------------------------

struct Chatter {
  uint64_t hash = 0;
  std::vector<std::string> deliveries;  // "time node<-from message", in delivery order
};

// Three nodes talk to each other over connections and datagrams with every kind of randomness on.
Chatter chatter(uint64_t seed) {
  NetworkOptions net;
  net.latency = LatencyModel{100_us, 2_ms};
  net.segment_loss = Ratio::percent(5);
  net.datagram_drop = Ratio::percent(10);
  net.datagram_duplicate = Ratio::percent(10);
  net.datagram_reorder = Ratio::percent(20);
  World world(WorldOptions{.seed = seed, .network = net});
  Chatter out;
  auto log = [&](Env& env, NodeId from, const std::string& m) {
    out.deliveries.push_back(fmt::format("{} {}<-{} {}", env.now(), env.id(), from, m));
  };
  for (int i = 0; i < 3; ++i) {
    world.add_node(fmt::format("n{}", i), [&, i](Env& env) {
      auto listener = env.keep(std::make_shared<Listener>(env.listen(kPort).value()));
      auto socket = env.keep(std::make_shared<DatagramSocket>(env.bind_datagram(7000).value()));
      env.spawn("acceptor", [&, listener] {
        while (true) {
          Result<Connection> c = listener->accept();
          if (!c.ok()) return;
          auto conn = env.keep(std::make_shared<Connection>(std::move(c).value()));
          env.spawn("reader", [&, conn] {
            while (true) {
              Result<Bytes> m = conn->recv();
              if (!m.ok()) return;
              log(env, conn->peer_node(), str(m.value()));
            }
          });
        }
      });
      env.spawn("datagrams", [&, socket] {
        while (true) {
          Result<Datagram> d = socket->recv_from();
          if (!d.ok()) return;
          log(env, d->from, str(d->data));
        }
      });
      env.sleep(1_ms);
      for (int peer = 0; peer < 3; ++peer) {
        if (peer == i) continue;
        env.spawn(fmt::format("talk to n{}", peer), [&env, peer, i] {
          Result<Connection> c = env.connect(NodeId{static_cast<uint32_t>(peer)}, kPort, 5_s);
          if (!c.ok()) return;
          for (int k = 0; k < 20; ++k) {
            if (!c->send(to_bytes(fmt::format("c{}.{}", i, k))).ok()) return;
            env.sleep(Duration::us(static_cast<int64_t>(env.rng().uniform(3000))));
          }
          env.sleep(1_s);
        });
      }
      for (int k = 0; k < 20; ++k) {
        socket->send_to(NodeId{static_cast<uint32_t>((i + 1) % 3)}, 7000, to_bytes(fmt::format("d{}.{}", i, k)));
        env.sleep(500_us);
      }
      env.sleep(10_s);
    });
  }
  for (NodeId id : world.node_ids()) world.start(id);
  expect_clean(world, world.run_for(30_s));
  out.hash = world.trace().hash();
  return out;
}

TEST(Network, SameSeedGivesTheSameTraceHashAndDeliveryOrder) {
  const Chatter a = chatter(42);
  const Chatter b = chatter(42);
  EXPECT_GT(a.deliveries.size(), 100u);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.deliveries, b.deliveries);
}

TEST(Network, DifferentSeedsGiveDifferentTraceHashesAndDeliveryOrders) {
  const Chatter a = chatter(42);
  const Chatter b = chatter(43);
  EXPECT_NE(a.hash, b.hash);
  EXPECT_NE(a.deliveries, b.deliveries);
}

// --- partition shapes ------------------------------------------------------------------------------

std::vector<NodeId> nodes(size_t n) {
  std::vector<NodeId> out;
  for (uint32_t i = 0; i < n; ++i) out.push_back(NodeId{i});
  return out;
}

using Links = std::set<std::pair<uint32_t, uint32_t>>;

Links as_set(const LinkSet& links) {
  Links out;
  for (auto [from, to] : links) out.emplace(from.value(), to.value());
  return out;
}

// The nodes `listener` can hear, itself included.
std::set<uint32_t> heard_by(const Links& blocked, uint32_t listener, size_t n) {
  std::set<uint32_t> out;
  for (uint32_t speaker = 0; speaker < n; ++speaker) {
    if (!blocked.count({speaker, listener})) out.insert(speaker);
  }
  return out;
}

// Every link is between two distinct nodes of the set.
bool well_formed(const LinkSet& links, size_t n) {
  return std::all_of(links.begin(), links.end(), [n](const auto& l) {
    return l.first != l.second && l.first.value() < n && l.second.value() < n;
  });
}

// Splits nodes into groups that can talk both ways; nullopt if talking is not an equivalence with
// cross-group links blocked both ways.
std::optional<std::vector<std::set<uint32_t>>> groups_of(const Links& blocked, const std::vector<uint32_t>& members) {
  std::vector<std::set<uint32_t>> groups;
  for (uint32_t x : members) {
    bool placed = false;
    for (auto& g : groups) {
      const uint32_t y = *g.begin();
      const bool xy = !blocked.count({x, y});
      const bool yx = !blocked.count({y, x});
      if (xy != yx) return std::nullopt;
      if (xy) {
        g.insert(x);
        placed = true;
        break;
      }
    }
    if (!placed) groups.push_back({x});
  }
  for (const auto& g : groups) {
    for (uint32_t x : g) {
      for (const auto& h : groups) {
        for (uint32_t y : h) {
          const bool same = &g == &h;
          if (x == y) continue;
          if (blocked.count({x, y}) == (same ? 1u : 0u)) return std::nullopt;
        }
      }
    }
  }
  return groups;
}

TEST(Partition, IsolateBlocksExactlyTheNodesLinksBothWays) {
  const auto all = nodes(5);
  const Links got = as_set(partitions::isolate(NodeId{2}, all));
  Links expected;
  for (uint32_t other : {0u, 1u, 3u, 4u}) {
    expected.emplace(2, other);
    expected.emplace(other, 2);
  }
  EXPECT_EQ(got, expected);
}

TEST(Partition, OneWayBlocksOnlyThatDirection) {
  EXPECT_EQ(as_set(partitions::one_way(NodeId{3}, NodeId{1})), (Links{{3, 1}}));
}

TEST(Partition, DescribeNamesEachDirectedPair) {
  EXPECT_EQ(partitions::describe({}), "none");
  EXPECT_EQ(partitions::describe(partitions::one_way(NodeId{0}, NodeId{2})), "0->2");
  EXPECT_EQ(partitions::describe(partitions::isolate(NodeId{0}, nodes(2))), "0->1 1->0");
}

RC_GTEST_PROP(Partition, HalvesSplitsTheNodesIntoTwoGroupsOfFloorAndCeilSize, ()) {
  const size_t n = *rc::gen::inRange<size_t>(2, 13);
  Rng rng(*rc::gen::arbitrary<uint64_t>());
  const LinkSet links = partitions::halves(nodes(n), rng);
  RC_ASSERT(well_formed(links, n));
  std::vector<uint32_t> members;
  for (uint32_t i = 0; i < n; ++i) members.push_back(i);
  const auto groups = groups_of(as_set(links), members);
  RC_ASSERT(groups.has_value());
  RC_ASSERT(groups->size() == 2u);
  const size_t a = (*groups)[0].size();
  const size_t b = (*groups)[1].size();
  RC_ASSERT(std::min(a, b) == n / 2);
  RC_ASSERT(std::max(a, b) == n - n / 2);
}

RC_GTEST_PROP(Partition, MajoritiesRingLetsEveryNodeHearADistinctStrictMajority, ()) {
  const size_t n = *rc::gen::inRange<size_t>(1, 13);
  Rng rng(*rc::gen::arbitrary<uint64_t>());
  const LinkSet links = partitions::majorities_ring(nodes(n), rng);
  RC_ASSERT(well_formed(links, n));
  const Links blocked = as_set(links);
  std::set<std::set<uint32_t>> distinct;
  for (uint32_t i = 0; i < n; ++i) {
    const auto heard = heard_by(blocked, i, n);
    RC_ASSERT(heard.count(i) == 1u);
    RC_ASSERT(2 * heard.size() > n);
    distinct.insert(heard);
  }
  if (n >= 5) {
    RC_ASSERT(distinct.size() == n);
    RC_ASSERT(!blocked.empty());
  }
}

RC_GTEST_PROP(Partition, BridgeTalksToBothSidesWhichCannotTalkToEachOther, ()) {
  const size_t n = *rc::gen::inRange<size_t>(3, 13);
  Rng rng(*rc::gen::arbitrary<uint64_t>());
  const LinkSet links = partitions::bridge(nodes(n), rng);
  RC_ASSERT(well_formed(links, n));
  const Links blocked = as_set(links);
  std::vector<uint32_t> bridges;
  std::vector<uint32_t> others;
  for (uint32_t i = 0; i < n; ++i) {
    const bool touched = std::any_of(blocked.begin(), blocked.end(),
                                     [i](const auto& l) { return l.first == i || l.second == i; });
    (touched ? others : bridges).push_back(i);
  }
  RC_ASSERT(bridges.size() == 1u);
  const auto groups = groups_of(blocked, others);
  RC_ASSERT(groups.has_value());
  RC_ASSERT(groups->size() == 2u);
  const size_t a = (*groups)[0].size();
  const size_t b = (*groups)[1].size();
  RC_ASSERT(std::max(a, b) - std::min(a, b) <= 1u);
}

TEST(Partition, AppliedShapeBlocksExactlyItsLinksUntilHeal) {
  World world(WorldOptions{.seed = 1});
  for (int i = 0; i < 7; ++i) world.add_node(fmt::format("n{}", i), [](Env&) {});
  Rng rng(5);
  const LinkSet links = partitions::majorities_ring(world.node_ids(), rng);
  world.network().apply(links);
  const Links expected = as_set(links);
  for (uint32_t x = 0; x < 7; ++x) {
    for (uint32_t y = 0; y < 7; ++y) {
      EXPECT_EQ(world.network().blocked(NodeId{x}, NodeId{y}), expected.count({x, y}) == 1) << x << "->" << y;
    }
  }
  world.network().heal();
  for (uint32_t x = 0; x < 7; ++x) {
    for (uint32_t y = 0; y < 7; ++y) EXPECT_FALSE(world.network().blocked(NodeId{x}, NodeId{y}));
  }
}

TEST(Partition, IsolatedNodeCannotConnectWhileOthersCan) {
  World world(WorldOptions{.seed = 1, .network = constant_latency(1_ms)});
  std::map<uint32_t, Errc> outcome;
  listening_server(world);
  for (int i = 1; i <= 3; ++i) {
    world.add_node(fmt::format("c{}", i), [&](Env& env) {
      outcome[env.id().value()] = env.connect(NodeId{0}, kPort, 2_s).error();
    });
  }
  world.network().apply(partitions::isolate(NodeId{2}, world.node_ids()));
  for (NodeId id : world.node_ids()) world.start(id);
  expect_clean(world, world.run_for(10_s));
  EXPECT_EQ(outcome, (std::map<uint32_t, Errc>{{1, Errc::ok}, {2, Errc::timeout}, {3, Errc::ok}}));
}

}  // namespace
}  // namespace seedlog::sim
