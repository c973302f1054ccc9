#include "sim/network.hpp"

#include <algorithm>

#include "sim/hot.hpp"
#include "sim/task.hpp"

namespace seedlog::sim {

namespace {
constexpr uint8_t kFin = 1;
constexpr uint8_t kRst = 2;

void check_ratio(const char* name, Ratio r) {
  if (!r.valid()) throw ConfigError(fmt::format("network.{}: {} is not a probability", name, to_string(r)));
}
}  // namespace

void NetworkOptions::validate() const {
  if (latency.min < Duration::zero()) throw ConfigError("network.latency.min must not be negative");
  if (latency.mean < latency.min)
    throw ConfigError(fmt::format("network.latency.mean ({}) must be at least latency.min ({})",
                                  latency.mean, latency.min));
  if (partition_reset_after <= Duration::zero())
    throw ConfigError("network.partition_reset_after must be positive");
  if (retransmit_timeout <= Duration::zero()) throw ConfigError("network.retransmit_timeout must be positive");
  if (syn_retry_interval <= Duration::zero()) throw ConfigError("network.syn_retry_interval must be positive");
  if (datagram_reorder_delay_max < Duration::zero())
    throw ConfigError("network.datagram_reorder_delay_max must not be negative");
  check_ratio("segment_loss", segment_loss);
  check_ratio("segment_corruption", segment_corruption);
  check_ratio("datagram_drop", datagram_drop);
  check_ratio("datagram_duplicate", datagram_duplicate);
  check_ratio("datagram_reorder", datagram_reorder);
  check_ratio("datagram_corruption", datagram_corruption);
  if (segment_loss == Ratio::one()) throw ConfigError("network.segment_loss of 1 would never deliver anything");
}

std::vector<std::pair<std::string, std::string>> NetworkOptions::describe() const {
  return {
      {"network.latency.min", to_string(latency.min)},
      {"network.latency.mean", to_string(latency.mean)},
      {"network.partition_reset_after", to_string(partition_reset_after)},
      {"network.retransmit_timeout", to_string(retransmit_timeout)},
      // Every option is printed with the seed, so a run can be reproduced from its header.
      {"network.syn_retry_interval", to_string(syn_retry_interval)},
      {"network.segment_loss", to_string(segment_loss)},
      {"network.segment_corruption", to_string(segment_corruption)},
      {"network.datagram_drop", to_string(datagram_drop)},
      {"network.datagram_duplicate", to_string(datagram_duplicate)},
      {"network.datagram_reorder", to_string(datagram_reorder)},
      {"network.datagram_corruption", to_string(datagram_corruption)},
      {"network.datagram_reorder_delay_max", to_string(datagram_reorder_delay_max)},
  };
}

// --- handles -------------------------------------------------------------------------------------

Connection::Connection(Connection&& o) noexcept
    : net_(std::exchange(o.net_, nullptr)), slot_(o.slot_), generation_(o.generation_), side_(o.side_) {}

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    close();
    net_ = std::exchange(o.net_, nullptr);
    slot_ = o.slot_;
    generation_ = o.generation_;
    side_ = o.side_;
  }
  return *this;
}

Connection::~Connection() { close(); }

void Connection::close() {
  if (net_ == nullptr) return;
  if (net_->conn(slot_, generation_) != nullptr) net_->close_end(slot_, side_, false);
  net_ = nullptr;
}

void Connection::abort() {
  if (net_ == nullptr) return;
  if (net_->conn(slot_, generation_) != nullptr) net_->close_end(slot_, side_, true);
  net_ = nullptr;
}

bool Connection::is_open() const {
  if (net_ == nullptr) return false;
  const auto* c = net_->conn(slot_, generation_);
  return c != nullptr && !c->half[1 - side_].reset && !c->ends[side_].closed;
}

uint64_t Connection::id() const {
  const auto* c = net_ ? net_->conn(slot_, generation_) : nullptr;
  return c ? c->id : 0;
}

NodeId Connection::local_node() const {
  const auto* c = net_ ? net_->conn(slot_, generation_) : nullptr;
  return c ? c->ends[side_].node : kNoNode;
}

NodeId Connection::peer_node() const {
  const auto* c = net_ ? net_->conn(slot_, generation_) : nullptr;
  return c ? c->ends[1 - side_].node : kNoNode;
}

Port Connection::local_port() const {
  const auto* c = net_ ? net_->conn(slot_, generation_) : nullptr;
  return c ? c->ends[side_].port : 0;
}

Port Connection::peer_port() const {
  const auto* c = net_ ? net_->conn(slot_, generation_) : nullptr;
  return c ? c->ends[1 - side_].port : 0;
}

Listener::Listener(Listener&& o) noexcept
    : net_(std::exchange(o.net_, nullptr)), node_(o.node_), port_(o.port_), generation_(o.generation_) {}

Listener& Listener::operator=(Listener&& o) noexcept {
  if (this != &o) {
    close();
    net_ = std::exchange(o.net_, nullptr);
    node_ = o.node_;
    port_ = o.port_;
    generation_ = o.generation_;
  }
  return *this;
}

Listener::~Listener() { close(); }

void Listener::close() {
  if (net_ == nullptr) return;
  auto it = net_->listeners_.find({node_.value(), port_});
  if (it != net_->listeners_.end() && it->second.generation == generation_) {
    // Established but never accepted connections are reset, as the kernel does.
    for (auto [slot, gen] : it->second.backlog) {
      if (net_->conn(slot, gen) != nullptr) net_->close_end(slot, 1, true);
    }
    net_->sched_.wake(it->second.acceptor);
    net_->listeners_.erase(it);
  }
  net_ = nullptr;
}

Result<Connection> Listener::accept(Duration timeout) {
  if (net_ == nullptr) return Errc::invalid_argument;
  Scheduler& sched = net_->sched_;
  const Instant deadline = sched.deadline_after(timeout);
  while (true) {
    // Another task may have closed this listener while we waited: net_ is gone then.
    if (net_ == nullptr) return Errc::closed;
    auto it = net_->listeners_.find({node_.value(), port_});
    if (it == net_->listeners_.end() || it->second.generation != generation_) return Errc::closed;
    auto& ls = it->second;
    while (!ls.backlog.empty()) {
      auto [slot, gen] = ls.backlog.front();
      ls.backlog.pop_front();
      if (net_->conn(slot, gen) != nullptr) return Connection(net_, slot, gen, 1);
    }
    if (sched.now() >= deadline) return Errc::timeout;
    ls.acceptor = sched.prepare_wait();
    sched.wait(deadline);
  }
}

DatagramSocket::DatagramSocket(DatagramSocket&& o) noexcept
    : net_(std::exchange(o.net_, nullptr)), node_(o.node_), port_(o.port_), generation_(o.generation_) {}

DatagramSocket& DatagramSocket::operator=(DatagramSocket&& o) noexcept {
  if (this != &o) {
    close();
    net_ = std::exchange(o.net_, nullptr);
    node_ = o.node_;
    port_ = o.port_;
    generation_ = o.generation_;
  }
  return *this;
}

DatagramSocket::~DatagramSocket() { close(); }

void DatagramSocket::close() {
  if (net_ == nullptr) return;
  auto it = net_->sockets_.find({node_.value(), port_});
  if (it != net_->sockets_.end() && it->second.generation == generation_) {
    net_->sched_.wake(it->second.reader);
    net_->sockets_.erase(it);
  }
  net_ = nullptr;
}

void DatagramSocket::send_to(NodeId to, Port port, Bytes data) {
  if (net_ == nullptr) return;
  Network& n = *net_;
  if (n.blocked(node_, to) || n.rng_.chance(n.options_.datagram_drop)) return;
  const int copies = n.rng_.chance(n.options_.datagram_duplicate) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    Duration delay = n.draw_latency(node_, to);
    if (n.rng_.chance(n.options_.datagram_reorder)) {
      delay += n.rng_.range(Duration::zero(), n.options_.datagram_reorder_delay_max);
    }
    Bytes copy = (i + 1 == copies) ? std::move(data) : data;
    if (!copy.empty() && n.rng_.chance(n.options_.datagram_corruption)) {
      const uint64_t bit = n.rng_.uniform(copy.size() * 8);
      copy[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    }
    n.sched_.call_at(n.sched_.now() + delay,
                     [net = net_, from = node_, from_port = port_, to, port, d = std::move(copy)]() mutable {
                       net->deliver_datagram(from, from_port, to, port, std::move(d));
                     });
  }
}

Result<Datagram> DatagramSocket::recv_from(Duration timeout) {
  if (net_ == nullptr) return Errc::invalid_argument;
  Scheduler& sched = net_->sched_;
  const Instant deadline = sched.deadline_after(timeout);
  while (true) {
    // Another task may have closed this socket while we waited: net_ is gone then.
    if (net_ == nullptr) return Errc::closed;
    auto it = net_->sockets_.find({node_.value(), port_});
    if (it == net_->sockets_.end() || it->second.generation != generation_) return Errc::closed;
    if (!it->second.queue.empty()) {
      Datagram d = std::move(it->second.queue.front());
      it->second.queue.pop_front();
      return d;
    }
    if (sched.now() >= deadline) return Errc::timeout;
    it->second.reader = sched.prepare_wait();
    sched.wait(deadline);
  }
}

// --- the network ---------------------------------------------------------------------------------

Network::Network(Scheduler& scheduler, Rng rng, NetworkOptions options)
    : sched_(scheduler), rng_(rng), options_(options) {
  options_.validate();
  kind_ = sched_.register_handler(this);
}

Network::~Network() = default;

void Network::set_options(const NetworkOptions& options) {
  options.validate();
  options_ = options;
}

void Network::add_node(NodeId id) {
  const size_t n = id.value() + 1;
  SL_ASSERT_MSG(n == nodes_.size() + 1, "nodes are added in id order");
  nodes_.emplace_back();
  for (auto& row : blocked_) row.resize(n, 0);
  blocked_.emplace_back(n, 0);
  for (auto& row : clogged_) row.resize(n, Instant());
  clogged_.emplace_back(n, Instant());
}

bool Network::node_up(NodeId id) const { return id.value() < nodes_.size() && nodes_[id.value()].up; }

void Network::node_started(NodeId id, uint64_t incarnation) {
  SL_ASSERT(id.value() < nodes_.size());
  nodes_[id.value()].up = true;
  nodes_[id.value()].incarnation = incarnation;
}

void Network::node_stopped(NodeId id, bool graceful) {
  SL_ASSERT(id.value() < nodes_.size());
  nodes_[id.value()].up = false;
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    it = it->first.first == id.value() ? listeners_.erase(it) : std::next(it);
  }
  for (auto it = sockets_.begin(); it != sockets_.end();) {
    it = it->first.first == id.value() ? sockets_.erase(it) : std::next(it);
  }
  for (uint32_t slot = 0; slot < conns_.size(); ++slot) {
    Conn* c = conns_[slot].get();
    if (c == nullptr || !c->live) continue;
    for (uint8_t side = 0; side < 2; ++side) {
      if (c->ends[side].node != id || c->ends[side].closed) continue;
      if (graceful) {
        close_end(slot, side, false);  // the OS closes the socket: FIN after buffered data
      } else {
        c->ends[side].closed = true;   // the machine is gone: silence
        c->half[1 - side].inbound.clear();
        maybe_free(slot);
      }
      break;
    }
  }
}

Network::Conn* Network::conn(uint32_t slot, uint32_t generation) {
  if (slot >= conns_.size()) return nullptr;
  Conn* c = conns_[slot].get();
  return (c != nullptr && c->live && c->generation == generation) ? c : nullptr;
}

const Network::Conn* Network::conn(uint32_t slot, uint32_t generation) const {
  return const_cast<Network*>(this)->conn(slot, generation);
}

uint32_t Network::new_conn(NodeId a, Port ap, NodeId b, Port bp) {
  uint32_t slot;
  if (!free_conns_.empty()) {
    slot = free_conns_.back();
    free_conns_.pop_back();
  } else {
    slot = static_cast<uint32_t>(conns_.size());
    conns_.push_back(std::make_unique<Conn>());
  }
  Conn& c = *conns_[slot];
  const uint32_t generation = c.generation + 1;
  c = Conn();
  c.generation = generation;
  c.live = true;
  c.id = next_conn_id_++;
  c.ends[0] = End{a, ap, nodes_[a.value()].incarnation, false};
  c.ends[1] = End{b, bp, nodes_[b.value()].incarnation, false};
  ++open_conns_;
  return slot;
}

void Network::maybe_free(uint32_t slot) {
  Conn& c = *conns_[slot];
  if (!c.ends[0].closed || !c.ends[1].closed) return;
  // Both handles are gone: nobody can observe the connection any more. Pending deliveries carry
  // the old generation and will be ignored.
  c.live = false;
  c.half[0] = Half();
  c.half[1] = Half();
  ++c.generation;
  free_conns_.push_back(slot);
  --open_conns_;
}

Duration Network::draw_latency(NodeId from, NodeId to) {
  const LatencyModel* m = &options_.latency;
  if (!latency_overrides_.empty()) {
    auto it = latency_overrides_.find({from.value(), to.value()});
    if (it != latency_overrides_.end()) m = &it->second;
  }
  // A constant latency draws nothing (as exponential() would not): skip the call on the send path.
  if (m->min == m->mean) return m->min;
  return rng_.exponential(m->min, m->mean);
}

void Network::set_latency(NodeId from, NodeId to, LatencyModel model) {
  if (model.min < Duration::zero() || model.mean < model.min)
    throw ConfigError("link latency: mean must be at least min, and min not negative");
  latency_overrides_[{from.value(), to.value()}] = model;
}

// A bounded pool of modest buffers: enough for the segments in flight of a busy workload, without
// hoarding the memory of a burst of large ones.
SL_FLATTEN void Network::keep_spare(Bytes&& b) {
  constexpr size_t kMaxSpares = 1024;
  constexpr size_t kMaxSpareBytes = 64 * 1024;
  if (b.capacity() == 0 || b.capacity() > kMaxSpareBytes || spares_.size() >= kMaxSpares) return;
  spares_.push_back(std::move(b));
}

// A delivery event's arg: the half's schedule epoch (31 bits), the connection's generation (32
// bits) and the direction (1 bit). Rescheduling bumps the epoch, so an event superseded by a later
// one (after an unclog, say) is recognised as stale and ignored.
SL_FLATTEN void Network::schedule_delivery(Conn& c, uint32_t slot, uint8_t dir, Instant at) {
  Half& h = c.half[dir];
  h.scheduled = true;
  h.epoch = (h.epoch + 1) & 0x7fffffffU;
  const uint64_t arg = (static_cast<uint64_t>(h.epoch) << 33) |
                       (static_cast<uint64_t>(c.generation) << 1) | dir;
  sched_.schedule(std::max(at, sched_.now()), kind_, slot, arg);
}

SL_FLATTEN Status Network::send_on(uint32_t slot, uint8_t side, Bytes&& data, uint8_t flags) {
  Conn& c = *conns_[slot];
  if (c.ends[side].closed) return Errc::invalid_argument;
  if (c.half[1 - side].reset) return Errc::connection_reset;
  push_segment(c, slot, side, Segment{std::move(data), Instant(), flags});
  return Status();
}

SL_FLATTEN void Network::push_segment(Conn& c, uint32_t slot, uint8_t dir, Segment&& seg) {
  Half& h = c.half[dir];
  Duration latency = draw_latency(c.ends[dir].node, c.ends[1 - dir].node);
  // A lost segment is retransmitted after the RTO. Losses are decided when the segment is sent,
  // so losses within one window overlap in time as they do in TCP (the receiver buffers what
  // arrives out of order); later segments are delivered behind it, never before.
  if (rng_.chance(options_.segment_loss)) latency += options_.retransmit_timeout;
  const Instant arrive = std::max(sched_.now() + latency, h.last_arrival);
  seg.arrive_at = arrive;
  h.last_arrival = arrive;
  h.in_flight.push_back(std::move(seg));
  if (!h.scheduled && !h.parked) schedule_delivery(c, slot, dir, arrive);
}

SL_FLATTEN void Network::deliver(uint32_t slot, uint8_t dir) {
  Conn& c = *conns_[slot];
  Half& h = c.half[dir];
  h.scheduled = false;
  if (h.in_flight.empty() || h.reset) return;
  const Instant now = sched_.now();
  Segment& seg = h.in_flight.front();
  if (seg.arrive_at > now) return schedule_delivery(c, slot, dir, seg.arrive_at);
  const NodeId src = c.ends[dir].node;
  const End& rx = c.ends[1 - dir];
  if (any_blocked_ && blocked(src, rx.node)) return park(c, slot, dir);
  if (any_clogged_) {
    if (const Instant until = clogged_until(src, rx.node); until > now) {
      return schedule_delivery(c, slot, dir, until);
    }
  }
  if (!node_up(rx.node)) {
    h.in_flight.pop_front();  // nobody there: the segment vanishes
  } else if (nodes_[rx.node.value()].incarnation != rx.incarnation) {
    return reset_conn(slot, "peer restarted");  // a new incarnation answers an old connection with RST
  } else {
    Segment s = std::move(seg);
    h.in_flight.pop_front();
    if (s.flags & kRst) return reset_conn(slot, "peer aborted");
    ++delivered_;
    if (s.flags & kFin) {
      h.eof = true;
      tap(WireEvent::Kind::fin, c, dir, {});
    } else if (!rx.closed) {
      accept(c, dir, std::move(s.data));
      // Data segments that have arrived by now come in the same event, and the reader is woken once
      // for all of them, as one TCP read returns everything received. A FIN or RST keeps its own
      // event.
      while (!h.in_flight.empty() && h.in_flight.front().arrive_at <= now &&
             h.in_flight.front().flags == 0) {
        ++delivered_;
        accept(c, dir, std::move(h.in_flight.front().data));
        h.in_flight.pop_front();
      }
    }
    if (!h.in_flight.empty()) schedule_delivery(c, slot, dir, h.in_flight.front().arrive_at);
    // Last: the reader runs as soon as this returns, and may change this connection.
    sched_.wake_last(h.reader);
    return;
  }
  if (!h.in_flight.empty()) schedule_delivery(c, slot, dir, h.in_flight.front().arrive_at);
}

// A delivered data segment joins the receiver's inbound queue, after the corruption fault.
SL_FLATTEN void Network::accept(Conn& c, uint8_t dir, Bytes&& data) {
  if (!data.empty() && rng_.chance(options_.segment_corruption)) {
    const uint64_t bit = rng_.uniform(data.size() * 8);
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
  if (tap_) tap(WireEvent::Kind::data, c, dir, data);
  c.half[dir].inbound.push_back(std::move(data));
}

void Network::on_event(uint32_t index, uint64_t arg) {
  Conn* c = conn(index, static_cast<uint32_t>(arg >> 1));
  const uint8_t dir = arg & 1;
  if (c == nullptr || c->half[dir].epoch != (arg >> 33)) return;
  deliver(index, dir);
}

std::string Network::describe_event(uint32_t index, uint64_t arg) const {
  const Conn* c = conn(index, static_cast<uint32_t>(arg >> 1));
  if (c == nullptr) return fmt::format("delivery on a closed connection (slot {})", index);
  const uint8_t d = arg & 1;
  return fmt::format("deliver on connection {} from node {} to node {}", c->id, c->ends[d].node,
                     c->ends[1 - d].node);
}

Instant Network::clogged_until(NodeId from, NodeId to) const {
  return clogged_[from.value()][to.value()];
}

void Network::park(Conn& c, uint32_t slot, uint8_t dir) {
  Half& h = c.half[dir];
  if (h.parked) return;
  h.parked = true;
  h.parked_since = sched_.now();
  parked_.emplace_back(slot, dir);
  // TCP gives up on a link that stays dead: both ends see a reset.
  const uint32_t generation = c.generation;
  const Instant since = h.parked_since;
  sched_.call_at(since + options_.partition_reset_after, [this, slot, generation, dir, since] {
    Conn* cc = conn(slot, generation);
    if (cc != nullptr && cc->half[dir].parked && cc->half[dir].parked_since == since) {
      reset_conn(slot, "partition outlasted the retransmission limit");
    }
  });
}

void Network::unpark_all() {
  auto parked = std::move(parked_);
  parked_.clear();
  for (auto [slot, dir] : parked) {
    Conn* c = conns_[slot].get();
    if (c == nullptr || !c->live || !c->half[dir].parked) continue;
    // Still cut off (another link was unblocked): stay parked. Re-parking would restart the clock
    // of partition_reset_after, and a flapping unrelated link would keep the connection alive.
    if (blocked(c->ends[dir].node, c->ends[1 - dir].node)) {
      parked_.emplace_back(slot, dir);
      continue;
    }
    Half& h = c->half[dir];
    h.parked = false;
    if (!h.in_flight.empty() && !h.scheduled) schedule_delivery(*c, slot, dir, sched_.now());
  }
}

void Network::reset_conn(uint32_t slot, std::string_view /*why*/) {
  Conn& c = *conns_[slot];
  for (uint8_t d = 0; d < 2; ++d) {
    Half& h = c.half[d];
    h.in_flight.clear();
    h.reset = true;
    h.parked = false;
  }
  tap(WireEvent::Kind::reset, c, 0, {});
  // Wake readers last: they may close their ends, which can free the connection.
  const WaitRef r0 = c.half[0].reader;
  const WaitRef r1 = c.half[1].reader;
  sched_.wake(r0);
  sched_.wake(r1);
}

void Network::close_end(uint32_t slot, uint8_t side, bool abortive) {
  Conn& c = *conns_[slot];
  if (c.ends[side].closed) return;
  if (!c.half[1 - side].reset && !c.half[side].reset) {
    push_segment(c, slot, side, Segment{Bytes(), Instant(), abortive ? kRst : kFin});
  }
  c.ends[side].closed = true;
  c.half[1 - side].inbound.clear();
  keep_spare(std::move(c.half[1 - side].held));
  // A task of this node blocked in recv on this end (closed by another task) must not wait on:
  // wake it to see the closed end. Taken before maybe_free, which clears the halves.
  const WaitRef local_reader = c.half[1 - side].reader;
  maybe_free(slot);
  sched_.wake(local_reader);
}

SL_FLATTEN Errc Network::await_inbound(uint32_t slot, uint32_t generation, uint8_t side, Duration timeout,
                                       Half** readable) {
  Instant deadline = Instant::never();
  bool waited = false;  // the deadline is computed at the first wait: most reads never wait
  while (true) {
    Conn* c = conn(slot, generation);
    if (c == nullptr) return Errc::connection_reset;
    if (c->ends[side].closed) return Errc::invalid_argument;
    Half& h = c->half[1 - side];
    if (!h.inbound.empty()) {
      *readable = &h;
      return Errc::ok;
    }
    if (h.reset) return Errc::connection_reset;
    if (h.eof) return Errc::closed;
    if (!waited) {
      deadline = sched_.deadline_after(timeout);
      waited = true;
    }
    if (sched_.now() >= deadline) return Errc::timeout;
    h.reader = sched_.prepare_wait();
    sched_.wait_here(deadline);
  }
}

SL_FLATTEN Result<Bytes> Network::recv_on(uint32_t slot, uint32_t generation, uint8_t side, Duration timeout) {
  Half* h = nullptr;
  if (const Errc e = await_inbound(slot, generation, side, timeout, &h); e != Errc::ok) return e;
  keep_spare(std::move(h->held));  // the last view is over
  Bytes b = std::move(h->inbound.front());
  h->inbound.pop_front();
  return b;
}

SL_FLATTEN Result<ByteView> Network::recv_view_on(uint32_t slot, uint32_t generation, uint8_t side,
                                                  Duration timeout) {
  Half* h = nullptr;
  if (const Errc e = await_inbound(slot, generation, side, timeout, &h); e != Errc::ok) return e;
  keep_spare(std::move(h->held));
  h->held = std::move(h->inbound.front());
  h->inbound.pop_front();
  return ByteView(h->held);
}

// Defined after the functions they absorb (see sim/hot.hpp).
Status Connection::send(Bytes data) {
  if (net_ == nullptr) return Errc::invalid_argument;
  if (net_->conn(slot_, generation_) == nullptr) return Errc::connection_reset;
  return net_->send_on(slot_, side_, std::move(data), 0);
}

Result<Bytes> Connection::recv(Duration timeout) {
  if (net_ == nullptr) return Errc::invalid_argument;
  return net_->recv_on(slot_, generation_, side_, timeout);
}

Result<ByteView> Connection::recv_view(Duration timeout) {
  if (net_ == nullptr) return Errc::invalid_argument;
  return net_->recv_view_on(slot_, generation_, side_, timeout);
}

Bytes Connection::buffer() const {
  if (net_ == nullptr || net_->spares_.empty()) return Bytes();
  Bytes b = std::move(net_->spares_.back());
  net_->spares_.pop_back();
  b.clear();
  return b;
}

Result<Listener> Network::listen(NodeId node, Port port) {
  SL_ASSERT(node.value() < nodes_.size());
  auto [it, inserted] = listeners_.try_emplace({node.value(), port});
  if (!inserted) return Errc::already_exists;
  it->second.generation = next_handle_generation_++;
  return Listener(this, node, port, it->second.generation);
}

Result<DatagramSocket> Network::bind_datagram(NodeId node, Port port) {
  SL_ASSERT(node.value() < nodes_.size());
  auto [it, inserted] = sockets_.try_emplace({node.value(), port});
  if (!inserted) return Errc::already_exists;
  it->second.generation = next_handle_generation_++;
  return DatagramSocket(this, node, port, it->second.generation);
}

Result<Connection> Network::connect(NodeId from, NodeId to, Port port, Duration timeout) {
  SL_ASSERT(from.value() < nodes_.size());
  if (to.value() >= nodes_.size()) return Errc::unreachable;
  const Instant deadline = sched_.deadline_after(timeout);
  auto reachable = [&] { return !blocked(from, to) && !blocked(to, from) && node_up(to); };
  while (true) {
    // The SYN crosses the network; a partition or a dead host means no answer, and TCP retries.
    const bool sent = reachable();
    if (sent) {
      sched_.sleep_until(std::min(deadline, sched_.now() + draw_latency(from, to)));
      if (sched_.now() >= deadline) return Errc::timeout;
      if (!node_up(from)) return Errc::cancelled;
    }
    // Re-checked when the SYN lands: a host that died or a link cut while it flew does not answer
    // either (a dead host must not refuse).
    if (sent && reachable()) {
      auto it = listeners_.find({to.value(), port});
      if (it == listeners_.end()) {
        sched_.sleep_until(std::min(deadline, sched_.now() + draw_latency(to, from)));  // the RST returns
        return Errc::connection_refused;
      }
      NodeNet& local = nodes_[from.value()];
      const Port ephemeral = local.next_ephemeral;
      local.next_ephemeral = ephemeral == 65535 ? 32768 : static_cast<Port>(ephemeral + 1);
      const uint32_t slot = new_conn(from, ephemeral, to, port);
      const uint32_t generation = conns_[slot]->generation;
      it->second.backlog.emplace_back(slot, generation);
      tap(WireEvent::Kind::open, *conns_[slot], 0, {});
      sched_.wake(it->second.acceptor);
      sched_.sleep_until(sched_.now() + draw_latency(to, from));  // the SYN-ACK returns
      if (conn(slot, generation) == nullptr) return Errc::connection_reset;
      return Connection(this, slot, generation, 0);
    }
    if (sched_.now() >= deadline) return Errc::timeout;
    sched_.sleep_until(std::min(deadline, sched_.now() + options_.syn_retry_interval));
  }
}

void Network::deliver_datagram(NodeId from, Port from_port, NodeId to, Port to_port, Bytes data) {
  if (blocked(from, to) || !node_up(to)) return;
  auto it = sockets_.find({to.value(), to_port});
  if (it == sockets_.end()) return;
  ++delivered_;
  if (tap_) {
    WireEvent e{WireEvent::Kind::datagram, sched_.now(), 0, from, from_port, to, to_port, data};
    tap_(e);
  }
  it->second.queue.push_back(Datagram{from, from_port, std::move(data)});
  sched_.wake(it->second.reader);
}

void Network::tap(WireEvent::Kind kind, const Conn& c, uint8_t dir, ByteView data) {
  if (!tap_) return;
  WireEvent e{kind, sched_.now(), c.id, c.ends[dir].node, c.ends[dir].port,
              c.ends[1 - dir].node, c.ends[1 - dir].port, data};
  tap_(e);
}

// --- faults --------------------------------------------------------------------------------------

void Network::block(NodeId from, NodeId to) {
  SL_ASSERT(from.value() < nodes_.size() && to.value() < nodes_.size());
  if (from != to) {
    blocked_[from.value()][to.value()] = 1;
    any_blocked_ = true;
  }
}

void Network::unblock(NodeId from, NodeId to) {
  SL_ASSERT(from.value() < nodes_.size() && to.value() < nodes_.size());
  blocked_[from.value()][to.value()] = 0;
  unpark_all();
}

bool Network::blocked(NodeId from, NodeId to) const {
  return blocked_[from.value()][to.value()] != 0;
}

void Network::apply(const LinkSet& links) {
  for (auto [from, to] : links) block(from, to);
}

void Network::heal() {
  for (auto& row : blocked_) std::fill(row.begin(), row.end(), 0);
  for (auto& row : clogged_) std::fill(row.begin(), row.end(), Instant());
  any_blocked_ = false;
  any_clogged_ = false;
  unpark_all();
  reschedule_held(kNoNode);  // deliveries waiting for a clog's old end go now
}

void Network::clog_link(NodeId from, NodeId to, Instant until) {
  Instant& u = clogged_[from.value()][to.value()];
  u = std::max(u, until);
  any_clogged_ = true;
}

void Network::clog_node(NodeId node, Instant until) {
  for (uint32_t other = 0; other < nodes_.size(); ++other) {
    clog_link(node, NodeId{other}, until);
    clog_link(NodeId{other}, node, until);
  }
}

void Network::unclog_node(NodeId node) {
  const Instant now = sched_.now();
  for (uint32_t other = 0; other < nodes_.size(); ++other) {
    clogged_[node.value()][other] = std::min(clogged_[node.value()][other], now);
    clogged_[other][node.value()] = std::min(clogged_[other][node.value()], now);
  }
  reschedule_held(node);
}

// Deliveries waiting on a clog are already scheduled at its old end; when the clog ends early,
// reschedule them now (deliver() re-checks and waits again for whatever still holds them).
void Network::reschedule_held(NodeId node) {
  const Instant now = sched_.now();
  for (uint32_t slot = 0; slot < conns_.size(); ++slot) {
    Conn* c = conns_[slot].get();
    if (c == nullptr || !c->live) continue;
    const bool touches = node == kNoNode || c->ends[0].node == node || c->ends[1].node == node;
    for (uint8_t d = 0; d < 2; ++d) {
      Half& h = c->half[d];
      if (touches && !h.in_flight.empty() && !h.parked) schedule_delivery(*c, slot, d, now);
    }
  }
}

// --- partition shapes ----------------------------------------------------------------------------

namespace partitions {

static void block_groups(LinkSet& out, std::span<const NodeId> a, std::span<const NodeId> b) {
  for (NodeId x : a) {
    for (NodeId y : b) {
      if (x == y) continue;
      out.emplace_back(x, y);
      out.emplace_back(y, x);
    }
  }
}

LinkSet isolate(NodeId node, std::span<const NodeId> all) {
  LinkSet out;
  for (NodeId other : all) {
    if (other == node) continue;
    out.emplace_back(node, other);
    out.emplace_back(other, node);
  }
  return out;
}

LinkSet halves(std::span<const NodeId> all, Rng& rng) {
  std::vector<NodeId> nodes(all.begin(), all.end());
  rng.shuffle(nodes);
  const size_t cut = nodes.size() / 2;
  LinkSet out;
  block_groups(out, std::span(nodes).first(cut), std::span(nodes).subspan(cut));
  return out;
}

LinkSet majorities_ring(std::span<const NodeId> all, Rng& rng) {
  std::vector<NodeId> ring(all.begin(), all.end());
  rng.shuffle(ring);
  const size_t n = ring.size();
  const size_t majority = n / 2 + 1;
  const size_t left = (majority - 1) / 2;
  const size_t right = majority - 1 - left;
  LinkSet out;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      const size_t forward = (j + n - i) % n;  // ring distance from i to j, going right
      const size_t backward = (i + n - j) % n;
      const bool sees = forward <= right || backward <= left;
      if (!sees) out.emplace_back(ring[j], ring[i]);  // i cannot hear j
    }
  }
  return out;
}

LinkSet bridge(std::span<const NodeId> all, Rng& rng) {
  std::vector<NodeId> nodes(all.begin(), all.end());
  rng.shuffle(nodes);
  if (nodes.size() < 3) return halves(all, rng);
  const size_t bridge_index = nodes.size() / 2;
  std::vector<NodeId> a(nodes.begin(), nodes.begin() + static_cast<ptrdiff_t>(bridge_index));
  std::vector<NodeId> b(nodes.begin() + static_cast<ptrdiff_t>(bridge_index) + 1, nodes.end());
  LinkSet out;
  block_groups(out, a, b);
  return out;
}

LinkSet one_way(NodeId from, NodeId to) { return LinkSet{{from, to}}; }

std::string describe(const LinkSet& links) {
  std::string out;
  for (auto [from, to] : links) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{}->{}", from, to);
  }
  return out.empty() ? "none" : out;
}

}  // namespace partitions

}  // namespace seedlog::sim
