#include "broker/client/producer.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "broker/client/partitioner.hpp"

namespace seedlog::broker::client {

namespace proto = seedlog::protocol;
using Outcome = SendResult::Outcome;

// How many batches per producer id and partition the broker keeps to recognise a retry (Kafka's
// five; broker/replication/producer_state.hpp).
constexpr size_t kBrokerKeptBatches = 5;

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::ok: return "ok";
    case Outcome::failed: return "failed";
    case Outcome::unknown: return "unknown";
  }
  return "?";
}

void ProducerConfig::validate() const {
  if (bootstrap.empty()) throw ConfigError("producer.bootstrap: no broker to talk to");
  if (acks != 0 && acks != 1 && acks != -1) throw ConfigError(fmt::format("producer.acks: {} is not 0, 1 or -1 (all)", acks));
  if (batch_size_bytes == 0) throw ConfigError("producer.batch_size_bytes must be positive");
  if (max_in_flight < 1) throw ConfigError("producer.max_in_flight must be at least 1");
  if (enable_idempotence && (acks != -1 || max_in_flight > 5))
    throw ConfigError("producer.enable_idempotence needs acks=all and max_in_flight <= 5 (as Kafka requires)");
  if (delivery_timeout < request_timeout + linger)
    throw ConfigError("producer.delivery_timeout must be at least request_timeout + linger");
}

struct Producer::Batch {
  std::string topic;
  int32_t partition = 0;
  std::vector<proto::NewRecord> records;
  // One per record, in order: a future's promise, or a callback.
  std::vector<std::variant<sim::Promise<SendResult>, Producer::SendCallback>> completions;
  size_t bytes = 0;
  sim::Instant created;
  sim::Instant deadline;
  sim::Instant retry_at;
  bool closed = false;         // takes no more records
  bool in_flight = false;
  bool maybe_written = false;  // some attempt may have reached the log
  int attempts = 0;
  std::optional<int32_t> base_sequence;
  proto::ProducerId producer_id{-1};
  proto::ProducerEpoch producer_epoch{-1};
  proto::ErrorCode last_error = proto::ErrorCode::none;
  std::string last_detail;
};

struct Producer::Partition {
  std::deque<std::shared_ptr<Batch>> queue;  // in send order; only the back may be open
  int32_t next_sequence = 0;
  int in_flight = 0;
  // After a retriable error, only the oldest batch goes out until it succeeds: later batches would
  // overtake it (reordering) or, with idempotence, be refused for the sequence gap.
  bool retrying = false;
  // Idempotence: the batches given a sequence under the current producer id, oldest first, from
  // the oldest one still unresolved (true once resolved). The broker answers a retry with the
  // original offsets only while the batch is among the last five it wrote for us, so no new
  // sequence is given out while five are here: a batch in doubt cannot be pushed out of the
  // broker's memory by later ones, whatever order the requests reach it in or are answered.
  struct Sequenced {
    int64_t producer_id;
    int32_t base_sequence;
    bool resolved;
  };
  std::deque<Sequenced> window;
};

struct Producer::Impl {
  Impl(sim::Env& e, ProducerConfig c)
      : env(e), cfg(std::move(c)), rpc(e, RpcClientOptions{.client_id = cfg.client_id}), wake(e.scheduler()),
        drained(e.scheduler()) {}

  sim::Env& env;
  ProducerConfig cfg;
  size_t pending = 0;
  RpcClient rpc;
  sim::Event wake;
  sim::Event drained;
  bool closed = false;
  bool flushing = false;
  std::map<std::pair<std::string, int32_t>, Partition> parts;
  std::map<std::string, std::vector<int32_t>> leaders;  // topic -> leader broker per partition (-1 none)
  std::set<std::string> wanted;
  bool metadata_stale = true;
  sim::Instant metadata_at;
  std::map<std::string, int32_t> sticky;
  std::map<int32_t, int> broker_in_flight;
  // Requests to one broker go on the wire in the order the sender prepared them: per-partition
  // sequence order rests on it (tasks started at one instant run in an order the seed picks, so a
  // task per request would let a later batch overtake an earlier one). One task per broker sends
  // them one after the other without waiting for the answers; a task per request awaits its answer.
  // One broker's requests: one task sends them in order and awaits their answers in the same
  // order (no task per request). Kafka answers the requests of a connection in the order it received
  // them, and each request's timeout runs from when it was sent, so the oldest one is always the
  // next to be answered or to time out.
  struct Sent {
    std::shared_ptr<RpcClient::Started> started;
    std::vector<std::shared_ptr<Batch>> batches;
    sim::Instant deadline;  // on the node's clock: the request timeout, from when it was sent
  };
  struct Lane {
    explicit Lane(sim::Scheduler& s) : wake(s) {}
    std::deque<std::pair<proto::ProduceRequest, std::vector<std::shared_ptr<Batch>>>> queue;  // to send
    sim::Event wake;
    std::deque<Sent> sent;  // awaiting their answers, oldest first
  };
  std::map<int32_t, std::shared_ptr<Lane>> lanes;
  std::optional<proto::ProducerId> producer_id;
  proto::ProducerEpoch producer_epoch{0};
  size_t bootstrap_next = 0;

  sim::NodeId any_broker() { return cfg.bootstrap[bootstrap_next++ % cfg.bootstrap.size()]; }

  // --- metadata ---
  bool refresh_metadata() {
    proto::MetadataRequest req;
    req.topics.emplace();
    for (const auto& t : wanted) req.topics->push_back({t});
    auto r = rpc.call_as<proto::MetadataResponse>(any_broker(), cfg.port, req, 2, cfg.request_timeout);
    if (!r.ok()) return false;
    for (const auto& t : r->topics) {
      if (t.error_code != proto::ErrorCode::none && t.partitions.empty()) {
        leaders.erase(t.name);
        continue;
      }
      std::vector<int32_t> l(t.partitions.size(), -1);
      for (const auto& p : t.partitions) {
        if (p.partition_index >= 0 && static_cast<size_t>(p.partition_index) < l.size()) {
          l[static_cast<size_t>(p.partition_index)] = p.leader_id.value();
        }
      }
      leaders[t.name] = std::move(l);
    }
    metadata_stale = false;
    metadata_at = env.now();
    return true;
  }

  // Blocks the calling task until the topic's partition count is known, or the deadline.
  std::optional<int32_t> partitions_of(const std::string& topic, sim::Instant deadline) {
    wanted.insert(topic);
    while (true) {
      auto it = leaders.find(topic);
      if (it != leaders.end() && !it->second.empty()) return static_cast<int32_t>(it->second.size());
      if (env.now() >= deadline || closed) return std::nullopt;
      if (!refresh_metadata() || leaders.find(topic) == leaders.end()) env.sleep(cfg.retry_backoff);
    }
  }

  int32_t choose_partition(const std::string& topic, const std::optional<proto::Bytes>& key, int32_t n) {
    if (cfg.partitioner) return std::clamp(cfg.partitioner(topic, key, n), 0, n - 1);
    if (key) return partition_for_key(*key, n);
    auto it = sticky.find(topic);
    if (it == sticky.end() || it->second >= n) it = sticky.insert_or_assign(topic, static_cast<int32_t>(env.rng().uniform(static_cast<uint64_t>(n)))).first;
    return it->second;
  }

  // --- completion ---
  void complete(Batch& b, Outcome outcome, proto::Offset base, proto::ErrorCode error, std::string detail) {
    // Futures are woken at once (they run later, as tasks); callbacks run last, once the batch is
    // resolved, so that one which sends again finds the producer in a settled state.
    std::vector<std::pair<SendCallback, SendResult>> callbacks;
    for (size_t i = 0; i < b.completions.size(); ++i) {
      SendResult r{outcome, b.topic, b.partition,
                   outcome == Outcome::ok && base.value() >= 0 ? proto::Offset{base.value() + static_cast<int64_t>(i)} : proto::Offset{-1},
                   error, detail};
      if (auto* promise = std::get_if<sim::Promise<SendResult>>(&b.completions[i])) {
        promise->set(std::move(r));
      } else {
        callbacks.emplace_back(std::move(std::get<SendCallback>(b.completions[i])), std::move(r));
      }
    }
    pending -= b.completions.size();
    b.completions.clear();
    Partition& p = parts[{b.topic, b.partition}];
    resolve(p, b);
    std::erase_if(p.queue, [&](const std::shared_ptr<Batch>& x) { return x.get() == &b; });  // `b` may be gone
    if (pending == 0) drained.set();
    // A slot in flight freed up: a batch held back by the in-flight limits may go now. With none
    // waiting there is nothing to do (a new batch wakes the sender itself), and no wake-up.
    if (any_batch_waiting()) wake.set();
    for (auto& [callback, result] : callbacks) callback(result);
  }

  // `b` will not be sent again: it no longer needs to stay within the broker's last five batches.
  static void resolve(Partition& p, const Batch& b) {
    if (!b.base_sequence) return;
    for (Partition::Sequenced& s : p.window) {
      if (s.producer_id == b.producer_id.value() && s.base_sequence == *b.base_sequence) s.resolved = true;
    }
    while (!p.window.empty() && p.window.front().resolved) p.window.pop_front();
  }

  // Whether sending `b` gives it a new sequence (its first attempt, or one after a producer id reset).
  bool needs_sequence(const Batch& b) const {
    return cfg.enable_idempotence && producer_id && (!b.base_sequence || b.producer_id != *producer_id);
  }

  void expire(Batch& b) {
    const Outcome o = b.maybe_written ? Outcome::unknown : Outcome::failed;
    complete(b, o, proto::Offset{-1}, b.last_error == proto::ErrorCode::none ? proto::ErrorCode::request_timed_out : b.last_error,
             fmt::format("delivery timeout after {} attempts{}", b.attempts, b.last_detail.empty() ? "" : ": " + b.last_detail));
  }

  // --- sending ---
  bool ready(const Batch& b, sim::Instant now) const {
    if (b.in_flight || b.retry_at > now) return false;
    return b.closed || b.bytes >= cfg.batch_size_bytes || now >= b.created + cfg.linger || flushing;
  }

  proto::Bytes encode(Batch& b, Partition& p) {
    proto::BatchOptions o;
    o.compression = cfg.compression;
    if (cfg.enable_idempotence && producer_id) {
      if (!b.base_sequence || b.producer_id != *producer_id) {
        // A batch that may be in a log under an old id is never resent under a new one (drain).
        SL_ASSERT_MSG(!(b.base_sequence && b.maybe_written), "a batch that may be in a log must keep its id and sequence");
        SL_ASSERT(p.window.size() < kBrokerKeptBatches);
        b.base_sequence = p.next_sequence;  // kept across retries: the broker recognises them
        p.next_sequence += static_cast<int32_t>(b.records.size());
        b.producer_id = *producer_id;
        b.producer_epoch = producer_epoch;
        p.window.push_back(Partition::Sequenced{b.producer_id.value(), *b.base_sequence, false});
      }
      o.producer_id = b.producer_id;
      o.producer_epoch = b.producer_epoch;
      o.base_sequence = proto::Sequence{*b.base_sequence};
    }
    return proto::build_record_batch(o, b.records);
  }

  void on_partition_answer(const std::shared_ptr<Batch>& b, const proto::ProduceResponse::Partition& r) {
    b->in_flight = false;
    Partition& p = parts[{b->topic, b->partition}];
    --p.in_flight;
    switch (r.error_code) {
      case proto::ErrorCode::none:
      case proto::ErrorCode::duplicate_sequence_number:  // a retry of a batch the log already holds
        if (!p.queue.empty() && p.queue.front() == b) p.retrying = false;
        return complete(*b, Outcome::ok, r.base_offset, proto::ErrorCode::none, "");
      case proto::ErrorCode::out_of_order_sequence_number:
        if (cfg.enable_idempotence) {
          // Expected when an earlier batch of the partition failed and is being retried: just retry
          // in order. Otherwise the broker lost our sequence state: take a new producer id.
          const bool earlier_outstanding = !p.queue.empty() && p.queue.front() != b;
          if (!earlier_outstanding) reset_producer_id(b.get());
          p.retrying = true;
          return retry(*b, r.error_code, earlier_outstanding ? "out of order behind a retry" : "out of order sequence: new producer id", false);
        }
        break;
      case proto::ErrorCode::not_enough_replicas_after_append:
      case proto::ErrorCode::request_timed_out:
        p.retrying = true;
        return retry(*b, r.error_code, std::string(proto::to_string(r.error_code)), true);
      default:
        break;
    }
    if (proto::is_retriable(r.error_code)) {
      metadata_stale = true;
      p.retrying = true;
      return retry(*b, r.error_code, std::string(proto::to_string(r.error_code)), false);
    }
    complete(*b, b->maybe_written ? Outcome::unknown : Outcome::failed, proto::Offset{-1}, r.error_code,
             std::string(proto::to_string(r.error_code)));
  }

  bool any_batch_waiting() const {
    for (const auto& [key, p] : parts) {
      for (const auto& b : p.queue) {
        if (!b->in_flight) return true;
      }
    }
    return false;
  }

  void retry(Batch& b, proto::ErrorCode error, std::string detail, bool maybe_written) {
    b.maybe_written |= maybe_written;
    b.last_error = error;
    b.last_detail = std::move(detail);
    b.retry_at = env.now() + cfg.retry_backoff;
    wake.set();
  }

  // `cause` is the batch the broker answered out of order: its sequence is not in the log (were it
  // there, it would be among the broker's last five: Partition::window), so it is sent again under
  // the new id.
  void reset_producer_id(const Batch* cause) {
    producer_id.reset();
    std::vector<std::shared_ptr<Batch>> in_doubt;
    for (auto& [key, p] : parts) {
      p.next_sequence = 0;
      p.window.clear();  // sequences start over under the new id
      for (auto& b : p.queue) {
        if (b->in_flight) continue;
        if (b->maybe_written && b.get() != cause) in_doubt.push_back(b);
        else b->base_sequence.reset();
      }
    }
    // A batch an earlier attempt of which may be in a log must not be sent under the new id: the
    // broker could not tell it from a new batch and would store it twice. Its outcome stays unknown.
    for (auto& b : in_doubt) {
      parts[{b->topic, b->partition}].retrying = false;
      complete(*b, Outcome::unknown, proto::Offset{-1}, b->last_error, "may be written under the previous producer id");
    }
  }

  // Builds the request for `batches` and marks them in flight, synchronously: the sender must not
  // pick them again before the request's task runs.
  proto::ProduceRequest prepare(std::vector<std::shared_ptr<Batch>>& batches) {
    proto::ProduceRequest req;
    req.acks = cfg.acks;
    req.timeout_ms = static_cast<int32_t>(cfg.request_timeout.count_ms());
    std::map<std::string, size_t> topic_index;
    for (auto& b : batches) {
      Partition& p = parts[{b->topic, b->partition}];
      auto [it, fresh] = topic_index.try_emplace(b->topic, req.topics.size());
      if (fresh) req.topics.push_back({b->topic, {}});
      req.topics[it->second].partitions.push_back({b->partition, encode(*b, p)});
      b->in_flight = true;
      ++b->attempts;
      ++p.in_flight;
    }
    return req;
  }

  void enqueue(const std::shared_ptr<Impl>& self, int32_t broker, proto::ProduceRequest req,
               std::vector<std::shared_ptr<Batch>> batches) {
    auto& lane = lanes[broker];
    if (!lane) {
      lane = std::make_shared<Lane>(env.scheduler());
      env.spawn(fmt::format("produce-to-{}", broker), [self, broker, lane = lane] { self->run_lane(broker, *lane); });
    }
    lane->queue.emplace_back(std::move(req), std::move(batches));
    lane->wake.set();
  }

  // Requests prepared before close() still go out: their batches count as in flight.
  void run_lane(int32_t broker, Lane& lane) {
    while (!closed || !lane.queue.empty() || !lane.sent.empty()) {
      // Answers first: they free in-flight slots. The head is answered first, or times out first.
      while (!lane.sent.empty() && (answered(lane.sent.front()) || env.now() >= lane.sent.front().deadline)) {
        Sent head = std::move(lane.sent.front());
        lane.sent.pop_front();
        on_answer(broker, rpc.finish(*head.started, sim::Duration::zero()), std::move(head.batches));  // or its timeout
      }
      if (!lane.queue.empty()) {
        send_next(broker, lane);
        continue;
      }
      lane.wake.reset();
      if (lane.sent.empty()) {
        if (!closed) lane.wake.wait();
        continue;
      }
      (void)sim::wait_any(env.scheduler(), {&lane.wake, &lane.sent.front().started->future}, lane.sent.front().deadline - env.now());
    }
  }

  static bool answered(const Sent& s) { return s.started->error || s.started->future.ready(); }

  void send_next(int32_t broker, Lane& lane) {
    auto [req, batches] = std::move(lane.queue.front());
    lane.queue.pop_front();
    if (cfg.acks == 0) {
      send_oneway(broker, std::move(req), std::move(batches));
      return;
    }
    const sim::NodeId node{static_cast<uint32_t>(broker)};
    auto started = std::make_shared<RpcClient::Started>(rpc.start(node, cfg.port, std::move(req), 7));
    lane.sent.push_back(Sent{std::move(started), std::move(batches), env.now() + cfg.request_timeout});
  }

  // acks=0: nothing comes back; the records complete `unknown` once sent.
  void send_oneway(int32_t broker, proto::ProduceRequest req, std::vector<std::shared_ptr<Batch>> batches) {
    auto err = rpc.send_oneway(sim::NodeId{static_cast<uint32_t>(broker)}, cfg.port, std::move(req), 7);
    for (auto& b : batches) {
      b->in_flight = false;
      --parts[{b->topic, b->partition}].in_flight;
      if (err) retry(*b, proto::ErrorCode::network_exception, err->to_string(), false);
      else complete(*b, Outcome::unknown, proto::Offset{-1}, proto::ErrorCode::none, "acks=0: never acknowledged");
    }
    --broker_in_flight[broker];
  }

  void on_answer(int32_t broker, RpcResult<proto::Response> response, std::vector<std::shared_ptr<Batch>> batches) {
    --broker_in_flight[broker];
    RpcResult<proto::ProduceResponse> r = RpcError{RpcErrc::bad_response, "unexpected response type"};
    if (!response.ok()) {
      r = response.error();
    } else if (auto* typed = std::get_if<proto::ProduceResponse>(&response.value().body)) {
      r = std::move(*typed);
    }
    if (!r.ok()) {
      metadata_stale = true;
      for (auto& b : batches) {
        b->in_flight = false;
        Partition& p = parts[{b->topic, b->partition}];
        --p.in_flight;
        p.retrying = true;
        retry(*b, proto::ErrorCode::network_exception, r.error().to_string(), true);
      }
      return;
    }
    for (auto& b : batches) {
      const proto::ProduceResponse::Partition* answer = nullptr;
      for (const auto& t : r->responses) {
        if (t.name != b->topic) continue;
        for (const auto& p : t.partitions) {
          if (p.index == b->partition) answer = &p;
        }
      }
      if (answer == nullptr) {
        b->in_flight = false;
        --parts[{b->topic, b->partition}].in_flight;
        retry(*b, proto::ErrorCode::unknown_server_error, "no answer for the partition", true);
      } else {
        on_partition_answer(b, *answer);
      }
    }
  }

  // One pass of the sender: expire, then send what is ready, grouped by leader. Returns whether it
  // sent anything.
  bool drain(const std::shared_ptr<Impl>& self) {
    const sim::Instant now = env.now();
    std::vector<std::shared_ptr<Batch>> expired;
    std::vector<std::shared_ptr<Batch>> orphaned;
    std::map<int32_t, std::vector<std::shared_ptr<Batch>>> by_leader;
    for (auto& [key, p] : parts) {
      for (auto& b : p.queue) {
        if (b->in_flight) continue;
        if (now >= b->deadline) expired.push_back(b);
        else if (b->maybe_written && b->base_sequence && needs_sequence(*b)) orphaned.push_back(b);
      }
    }
    for (auto& b : expired) expire(*b);
    // In flight when the producer id was reset and maybe written under the old one: resending it
    // under the new id could store it twice (reset_producer_id does the same for the others).
    for (auto& b : orphaned) {
      parts[{b->topic, b->partition}].retrying = false;
      complete(*b, Outcome::unknown, proto::Offset{-1}, b->last_error, "may be written under the previous producer id");
    }
    for (auto& [key, p] : parts) {
      for (auto& b : p.queue) {
        if (b->in_flight) continue;
        const int limit = p.retrying ? 1 : cfg.max_in_flight;
        if (!ready(*b, now) || p.in_flight >= limit) break;  // keep order within a partition
        if (needs_sequence(*b) && p.window.size() >= kBrokerKeptBatches) break;  // see Partition::window
        auto l = leaders.find(b->topic);
        const int32_t leader = l == leaders.end() || static_cast<size_t>(b->partition) >= l->second.size()
                                   ? -1 : l->second[static_cast<size_t>(b->partition)];
        if (leader < 0) {
          metadata_stale = true;
          break;
        }
        b->closed = true;
        if (sticky.count(b->topic) && !b->records.empty()) sticky.erase(b->topic);  // KIP-480: move on
        by_leader[leader].push_back(b);
        break;  // one batch per partition per request
      }
    }
    bool sent = false;
    for (auto& [leader, batches] : by_leader) {
      if (broker_in_flight[leader] >= cfg.max_in_flight) continue;
      sent = true;
      ++broker_in_flight[leader];
      proto::ProduceRequest req = prepare(batches);
      enqueue(self, leader, std::move(req), batches);
    }
    return sent;
  }

  // The next instant a batch becomes ready or expires by time alone (strictly after now); batches
  // held back by in-flight limits wait for a completion, which sets `wake`.
  sim::Instant next_due() const {
    const sim::Instant now = env.now();
    sim::Instant due = now + sim::Duration::ms(100);
    auto consider = [&](sim::Instant t) {
      if (t > now) due = std::min(due, t);
    };
    for (const auto& [key, p] : parts) {
      for (const auto& b : p.queue) {
        if (b->in_flight) continue;
        consider(std::max(b->retry_at, b->created + cfg.linger));
        consider(b->deadline);
      }
    }
    return due;
  }

  void run_sender(const std::shared_ptr<Impl>& self) {
    while (!closed) {
      if (metadata_stale || env.now() >= metadata_at + cfg.metadata_max_age) {
        if (!wanted.empty() && !refresh_metadata()) env.sleep(cfg.retry_backoff);
      }
      if (cfg.enable_idempotence && !producer_id) {
        if (!init_producer_id()) {
          env.sleep(cfg.retry_backoff);
          continue;
        }
      }
      wake.reset();
      // Look again after sending: a partition gives one batch per request, so a second ready
      // batch of it goes in the next request (in-flight limits permitting).
      if (drain(self)) continue;
      (void)wake.wait_for(next_due() - env.now());
    }
  }

  bool init_producer_id() {
    proto::InitProducerIdRequest req;
    req.transaction_timeout_ms = 60000;
    auto r = rpc.call_as<proto::InitProducerIdResponse>(any_broker(), cfg.port, req, 3, cfg.request_timeout);
    if (!r.ok() || r->error_code != proto::ErrorCode::none) return false;
    producer_id = r->producer_id;
    producer_epoch = r->producer_epoch;
    env.emit("producer.id", {{"client", cfg.client_id}, {"producer_id", r->producer_id.value()}});
    return true;
  }
};

Producer::Producer(sim::Env& env, ProducerConfig config) {
  config.validate();
  impl_ = std::make_shared<Impl>(env, std::move(config));
  auto impl = impl_;
  env.spawn(impl->cfg.client_id + "-sender", [impl] { impl->run_sender(impl); });
}

Producer::~Producer() {
  impl_->closed = true;
  impl_->wake.set();
  for (auto& [broker, lane] : impl_->lanes) lane->wake.set();
}

size_t Producer::pending() const { return impl_->pending; }

sim::Future<SendResult> Producer::send(const std::string& topic, std::optional<proto::Bytes> key,
                                       std::optional<proto::Bytes> value, std::vector<proto::RecordHeader> headers) {
  sim::Promise<SendResult> promise(impl_->env.scheduler());
  auto future = promise.future();
  enqueue(topic, std::move(key), std::move(value), std::move(headers), std::move(promise));
  return future;
}

void Producer::send(const std::string& topic, std::optional<proto::Bytes> key, std::optional<proto::Bytes> value,
                    SendCallback done, std::vector<proto::RecordHeader> headers) {
  SL_ASSERT_MSG(done, "send with an empty callback");
  enqueue(topic, std::move(key), std::move(value), std::move(headers), std::move(done));
}

void Producer::enqueue(const std::string& topic, std::optional<proto::Bytes> key, std::optional<proto::Bytes> value,
                       std::vector<proto::RecordHeader> headers, Completion completion) {
  Impl& im = *impl_;
  const sim::Instant deadline = im.env.now() + im.cfg.delivery_timeout;
  auto n = im.partitions_of(topic, deadline);
  if (!n) {
    SendResult failed{Outcome::failed, topic, -1, proto::Offset{-1}, proto::ErrorCode::unknown_topic_or_partition,
                      "the topic is not in the metadata"};
    if (auto* promise = std::get_if<sim::Promise<SendResult>>(&completion)) {
      promise->set(std::move(failed));
    } else {
      std::get<SendCallback>(completion)(failed);
    }
    return;
  }
  const int32_t partition = im.choose_partition(topic, key, *n);
  Partition& p = im.parts[{topic, partition}];
  const size_t size = 24 + (key ? key->size() : 0) + (value ? value->size() : 0);
  const bool new_batch = p.queue.empty() || p.queue.back()->closed || p.queue.back()->in_flight ||
                         p.queue.back()->bytes + size > im.cfg.batch_size_bytes;
  if (new_batch) {
    auto b = std::make_shared<Batch>();
    b->topic = topic;
    b->partition = partition;
    b->created = im.env.now();
    b->deadline = deadline;
    p.queue.push_back(std::move(b));
  }
  Batch& b = *p.queue.back();
  b.records.push_back(proto::NewRecord{im.env.wall_clock_ms(), std::move(key), std::move(value), std::move(headers)});
  b.completions.push_back(std::move(completion));
  b.bytes += size;
  ++im.pending;
  im.drained.reset();
  // Kafka's doSend wakes its sender for a full batch or a new one: the sender may be asleep until
  // a later deadline (up to 100 ms when it had nothing), past this batch's linger. A new batch only
  // needs the sender when its linger ends, so the wake-up is set for then (Event::set_at).
  if (b.bytes >= im.cfg.batch_size_bytes) {
    im.wake.set();
  } else if (new_batch) {
    im.wake.set_at(im.env.deadline_after(im.cfg.linger));
  }
}

bool Producer::flush(sim::Duration timeout) {
  Impl& im = *impl_;
  if (im.pending == 0) return true;
  im.flushing = true;
  im.wake.set();
  const bool done = im.drained.wait_for(timeout);
  im.flushing = false;
  return done;
}

}  // namespace seedlog::broker::client
