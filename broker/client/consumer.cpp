#include "broker/client/consumer.hpp"

#include <algorithm>
#include <deque>
#include <set>

#include <fmt/format.h>

#include "broker/client/fetch_session_handler.hpp"
#include "model/history.hpp"

namespace seedlog::broker::client {

namespace proto = seedlog::protocol;
using Kind = ConsumerError::Kind;

namespace {

constexpr int16_t kFetchVersion = 11;
constexpr int16_t kListOffsetsVersion = 2;
constexpr int16_t kOffsetForLeaderEpochVersion = 3;
constexpr int16_t kMetadataVersion = 7;  // the first with each partition's leader epoch

bool needs_new_leader(proto::ErrorCode e) {
  return e == proto::ErrorCode::not_leader_or_follower || e == proto::ErrorCode::fenced_leader_epoch ||
         e == proto::ErrorCode::unknown_leader_epoch;
}

}  // namespace

std::string_view to_string(OffsetReset r) {
  switch (r) {
    case OffsetReset::earliest: return "earliest";
    case OffsetReset::latest: return "latest";
    case OffsetReset::none: return "none";
  }
  return "?";
}

std::string_view to_string(ConsumerError::Kind k) {
  switch (k) {
    case Kind::invalid_argument: return "invalid_argument";
    case Kind::not_assigned: return "not_assigned";
    case Kind::unknown_partition: return "unknown_partition";
    case Kind::no_offset: return "no_offset";
    case Kind::offset_out_of_range: return "offset_out_of_range";
    case Kind::log_truncation: return "log_truncation";
    case Kind::broker_error: return "broker_error";
    case Kind::no_group: return "no_group";
    case Kind::illegal_state: return "illegal_state";
  }
  return "?";
}

std::string ConsumerError::to_string() const {
  const std::string where = partition.topic.empty() ? std::string() : " on " + partition.to_string();
  return fmt::format("{}{}: {}{}", client::to_string(kind), where, detail,
                     code == proto::ErrorCode::none ? "" : fmt::format(" ({})", proto::to_string(code)));
}

void ConsumerConfig::validate() const {
  if (bootstrap.empty()) throw ConfigError("consumer.bootstrap: no broker to talk to");
  if (fetch_max_bytes < 1) throw ConfigError("consumer.fetch_max_bytes must be positive");
  if (max_partition_fetch_bytes < 1) throw ConfigError("consumer.max_partition_fetch_bytes must be positive");
  if (fetch_min_bytes < 0) throw ConfigError("consumer.fetch_min_bytes must not be negative");
  if (fetch_max_wait < sim::Duration::zero()) throw ConfigError("consumer.fetch_max_wait must not be negative");
  if (max_poll_records < 1) throw ConfigError("consumer.max_poll_records must be at least 1");
  if (request_timeout <= fetch_max_wait)
    throw ConfigError("consumer.request_timeout must exceed fetch_max_wait (a long poll would time out)");
  validate_group();
}

// The group settings are checked even without a group_id, so a typo fails before anyone subscribes.
void ConsumerConfig::validate_group() const {
  if (session_timeout <= sim::Duration::zero()) throw ConfigError("consumer.session_timeout must be positive");
  if (rebalance_timeout <= sim::Duration::zero()) throw ConfigError("consumer.rebalance_timeout must be positive");
  if (heartbeat_interval <= sim::Duration::zero()) throw ConfigError("consumer.heartbeat_interval must be positive");
  if (heartbeat_interval >= session_timeout)
    throw ConfigError("consumer.heartbeat_interval must be below session_timeout (the member would be evicted between beats)");
  if (enable_auto_commit && auto_commit_interval <= sim::Duration::zero())
    throw ConfigError("consumer.auto_commit_interval must be positive with enable_auto_commit");
  if (assignor_overlap_defect && group_id.empty())
    throw ConfigError("consumer.assignor_overlap_defect needs a group_id (the defect lives in the group's assignor)");
}

// What the consumer must do next for a partition before it can fetch.
enum class Stage : uint8_t {
  committed, // newly assigned by the group: its committed offset is not known yet (OffsetFetch)
  reset,     // no position: ListOffsets per the reset strategy
  validate,  // the leader changed: check the position with OffsetForLeaderEpoch
  fetch,
  failed,    // stopped until the user seeks (the error is reported on every poll)
};

struct PartState {
  Stage stage = Stage::reset;
  std::optional<OffsetReset> reset_to;  // an explicit seek_to_*; else the configured policy
  std::optional<Position> position;
  int32_t leader = -1;
  std::optional<proto::LeaderEpoch> leader_epoch;  // the leader's current epoch, learned from it
  bool unknown = false;                            // the metadata has no such partition
  bool paused = false;
  bool in_flight = false;
  bool seeked = false;  // since the last poll: the history's rebalance log excuses the jump
  bool revoking = false;  // the group is taking it away: poll() returns nothing more from it
  std::optional<ConsumerError> error;  // Stage::failed
  std::deque<ConsumerRecord> buffer;   // fetched, not yet returned
  proto::Offset buffer_end{-1};        // the offset after the fetched batches
  proto::LeaderEpoch buffer_end_epoch{-1};
};

struct CompletedFetch {
  int32_t broker = -1;
  std::vector<std::pair<TopicPartition, proto::Offset>> asked;
  std::optional<proto::FetchResponse> response;  // none: the request failed, or a session error
  std::string failure;
  bool session_error = false;
};

struct Consumer::Impl {
  Impl(sim::Env& e, ConsumerConfig c)
      : env(e), cfg(std::move(c)), rpc(e, RpcClientOptions{.client_id = cfg.client_id}), fetched(e.scheduler()) {}

  sim::Env& env;
  ConsumerConfig cfg;
  RpcClient rpc;
  sim::Event fetched;
  bool closed = false;
  std::map<TopicPartition, PartState> parts;
  std::deque<CompletedFetch> completed;
  std::set<int32_t> fetching_from;         // brokers with a fetch in flight
  std::map<int32_t, FetchSessionHandler> fetch_sessions;  // per broker, kept across requests
  std::map<int32_t, sim::Instant> broker_backoff;
  bool metadata_stale = true;
  sim::Instant metadata_at;
  sim::Instant metadata_tried;
  bool metadata_ever = false;
  size_t bootstrap_next = 0;
  uint64_t unrecordable = 0;
  std::optional<TopicPartition> drained_last;
  ConsumerStats stats;
  // Errors and truncations found since the last poll returned.
  std::vector<ConsumerError> errors;
  std::vector<LogTruncation> truncations;

  // Group mode. The member's task changes the assignment through the hooks below; poll() applies
  // what was assigned.
  enum class Mode : uint8_t { none, assigned, subscribed };
  Mode mode = Mode::none;
  std::shared_ptr<GroupMember> member;  // subscribe mode; or, in assign mode, an unstarted committer
  bool member_started = false;
  RebalanceListener listener;                 // the user's
  std::set<TopicPartition> pending_assigned;  // assigned by the group, not yet applied by poll()
  std::set<TopicPartition> to_announce;       // applied; on_partitions_assigned has not run yet
  std::set<TopicPartition> rebalanced;        // joined or left since the last poll completed
  std::vector<std::string> subscribed_topics;
  sim::Instant last_auto_commit;
  bool auto_commit_in_flight = false;

  sim::NodeId any_broker() { return cfg.bootstrap[bootstrap_next++ % cfg.bootstrap.size()]; }
  static sim::NodeId node_of(int32_t broker) { return sim::NodeId{static_cast<uint32_t>(broker)}; }

  PartState* find(const TopicPartition& tp) {
    auto it = parts.find(tp);
    return it == parts.end() ? nullptr : &it->second;
  }

  bool backing_off(int32_t broker) const {
    auto it = broker_backoff.find(broker);
    return it != broker_backoff.end() && env.now() < it->second;
  }
  void broker_failed(int32_t broker) {
    broker_backoff[broker] = env.now() + cfg.retry_backoff;
    metadata_stale = true;
  }

  void fail(const TopicPartition& tp, PartState& s, Kind kind, proto::ErrorCode code, std::string detail) {
    s.stage = Stage::failed;
    clear_buffer(s);
    s.error = ConsumerError{kind, tp, code, std::move(detail)};
    env.emit("consumer.error", {{"client", cfg.client_id}, {"topic", tp.topic}, {"partition", tp.partition},
                                {"kind", to_string(kind)}, {"detail", s.error->detail}});
  }

  // The leader (or its epoch) may have changed: learn its epoch again, and validate the position
  // before fetching from it.
  void leader_moved(PartState& s) {
    s.leader_epoch.reset();
    if (s.stage == Stage::fetch) s.stage = Stage::validate;
  }

  // Before the position moves elsewhere: what was fetched for the old one is dropped.
  static void clear_buffer(PartState& s) {
    s.buffer.clear();
    s.buffer_end = proto::Offset{-1};
  }

  // --- metadata ---
  void maybe_refresh_metadata() {
    bool wanted = metadata_stale || env.now() >= metadata_at + cfg.metadata_max_age;
    for (const auto& [tp, s] : parts) wanted |= s.leader < 0 || !s.leader_epoch;
    if (!wanted || parts.empty() || env.now() < metadata_tried + cfg.retry_backoff) return;
    metadata_tried = env.now();
    proto::MetadataRequest req;
    req.allow_auto_topic_creation = false;
    req.topics.emplace();
    std::set<std::string> topics;
    for (const auto& [tp, s] : parts) topics.insert(tp.topic);
    for (const auto& t : topics) req.topics->push_back({t});
    auto r = rpc.call_as<proto::MetadataResponse>(any_broker(), cfg.port, req, kMetadataVersion, cfg.request_timeout);
    if (!r.ok()) return;
    apply_metadata(r.value());
  }

  void apply_metadata(const proto::MetadataResponse& m) {
    std::map<std::string, const proto::MetadataResponse::Topic*> by_name;
    for (const auto& t : m.topics) by_name[t.name] = &t;
    for (auto& [tp, s] : parts) {
      auto t = by_name.find(tp.topic);
      const proto::MetadataResponse::Partition* found = nullptr;
      if (t != by_name.end()) {
        for (const auto& p : t->second->partitions) {
          if (p.partition_index == tp.partition) found = &p;
        }
      }
      s.unknown = found == nullptr;
      const int32_t leader = found ? found->leader_id.value() : -1;
      const std::optional<proto::LeaderEpoch> epoch =
          found && leader >= 0 && found->leader_epoch.value() >= 0 ? std::optional(found->leader_epoch) : std::nullopt;
      if (leader == s.leader && epoch == s.leader_epoch) continue;
      if (s.leader >= 0 && leader != s.leader) {
        ++stats.leader_changes;
        env.emit("consumer.leader_changed", {{"client", cfg.client_id}, {"topic", tp.topic}, {"partition", tp.partition},
                                             {"from", s.leader}, {"to", leader}, {"leader_epoch", epoch ? epoch->value() : -1}});
      }
      s.leader = leader;
      leader_moved(s);
      s.leader_epoch = epoch;
    }
    metadata_stale = false;
    metadata_at = env.now();
    metadata_ever = true;
  }

  // Partitions of one broker that `pick` selects, grouped by topic for a request.
  template <class Pick>
  std::map<int32_t, std::vector<TopicPartition>> by_leader(Pick pick) {
    std::map<int32_t, std::vector<TopicPartition>> out;
    for (auto& [tp, s] : parts) {
      if (s.leader >= 0 && s.leader_epoch && !s.unknown && !backing_off(s.leader) && pick(s)) out[s.leader].push_back(tp);
    }
    return out;
  }

  // --- leader epochs and validation (KIP-320) ---
  using EpochAnswers = std::map<TopicPartition, proto::OffsetForLeaderEpochResponse::Partition>;

  // One OffsetForLeaderEpoch request for the epochs of the positions; nullopt without an answer.
  std::optional<EpochAnswers> ask_epochs(int32_t broker, const std::vector<TopicPartition>& tps) {
    proto::OffsetForLeaderEpochRequest req;
    req.replica_id = proto::BrokerId{-1};
    for (const auto& tp : tps) {
      const PartState& s = parts.at(tp);  // the caller checked it is still there, in this stage
      if (req.topics.empty() || req.topics.back().topic != tp.topic) req.topics.push_back({tp.topic, {}, {}});
      proto::OffsetForLeaderEpochRequest::Partition p;
      p.partition = tp.partition;
      p.current_leader_epoch = *s.leader_epoch;
      p.leader_epoch = *s.position->epoch;
      req.topics.back().partitions.push_back(p);
    }
    auto r = rpc.call_as<proto::OffsetForLeaderEpochResponse>(node_of(broker), cfg.port, req, kOffsetForLeaderEpochVersion,
                                                               cfg.request_timeout);
    if (!r.ok()) {
      broker_failed(broker);
      return std::nullopt;
    }
    EpochAnswers out;
    for (const auto& t : r->topics) {
      for (const auto& p : t.partitions) out[TopicPartition{t.topic, p.partition}] = p;
    }
    return out;
  }

  void validate_positions() {
    for (auto& [tp, s] : parts) {
      if (s.stage == Stage::validate && s.position && !s.position->epoch) s.stage = Stage::fetch;  // nothing to check
    }
    auto groups = by_leader([](const PartState& s) { return s.stage == Stage::validate && s.leader_epoch && s.position; });
    for (auto& [broker, tps] : groups) {
      // An earlier request suspended this task: the group may have taken partitions away.
      std::erase_if(tps, [&](const TopicPartition& tp) {
        const PartState* s = find(tp);
        return s == nullptr || s->stage != Stage::validate || !s->leader_epoch || !s->position || !s->position->epoch;
      });
      if (tps.empty()) continue;
      auto answers = ask_epochs(broker, tps);
      if (!answers) continue;
      for (const auto& tp : tps) {
        PartState* s = find(tp);
        auto a = answers->find(tp);
        if (s == nullptr || s->stage != Stage::validate || s->leader != broker || !s->position || !s->position->epoch) continue;
        if (a == answers->end()) continue;
        on_validation(tp, *s, a->second);
      }
    }
  }

  void on_validation(const TopicPartition& tp, PartState& s, const proto::OffsetForLeaderEpochResponse::Partition& a) {
    if (a.error_code != proto::ErrorCode::none) {
      if (needs_new_leader(a.error_code) || proto::is_retriable(a.error_code)) {
        s.leader_epoch.reset();
        metadata_stale = true;
      } else {
        errors.push_back({Kind::broker_error, tp, a.error_code, "validating the position"});
      }
      return;
    }
    const Position at = *s.position;
    const bool undefined = a.end_offset.value() < 0 || a.leader_epoch.value() < 0;
    if (!undefined && a.end_offset >= at.offset) {
      s.stage = Stage::fetch;
      ++stats.validations;
      env.emit("consumer.position_validated", {{"client", cfg.client_id}, {"topic", tp.topic}, {"partition", tp.partition},
                                               {"offset", at.offset.value()}, {"epoch", at.epoch->value()},
                                               {"leader_epoch", s.leader_epoch->value()}, {"epoch_end", a.end_offset.value()}});
      return;
    }
    on_truncation(tp, s, at, undefined ? std::nullopt : std::optional(a.end_offset),
                  undefined ? std::nullopt : std::optional(a.leader_epoch));
  }

  // The log lost records below our position. Reported always; then moved to the divergent offset
  // (or reset by policy when the leader does not know our epoch at all), unless the policy is none.
  void on_truncation(const TopicPartition& tp, PartState& s, Position at, std::optional<proto::Offset> divergent,
                     std::optional<proto::LeaderEpoch> divergent_epoch) {
    LogTruncation t{tp, at, divergent, divergent_epoch, cfg.auto_offset_reset != OffsetReset::none};
    env.emit("consumer.truncation", {{"client", cfg.client_id}, {"topic", tp.topic}, {"partition", tp.partition},
                                     {"position", at.offset.value()}, {"position_epoch", at.epoch ? at.epoch->value() : -1},
                                     {"divergent_offset", divergent ? divergent->value() : -1L},
                                     {"action", t.reset ? "reset" : "stop"}});
    truncations.push_back(t);
    ++stats.truncations;
    if (!t.reset) {
      return fail(tp, s, Kind::log_truncation, proto::ErrorCode::none,
                  fmt::format("the log was truncated below the position {} (epoch {}); it diverges at {}", at.offset,
                              at.epoch ? at.epoch->value() : -1, divergent ? divergent->value() : -1L));
    }
    clear_buffer(s);
    if (divergent) {
      s.position = Position{*divergent, divergent_epoch};
      s.stage = Stage::fetch;
    } else {
      s.position.reset();
      s.stage = Stage::reset;
    }
  }

  // --- resets (ListOffsets) ---
  void reset_positions() {
    for (auto& [tp, s] : parts) {
      if (s.stage != Stage::reset || s.reset_to || cfg.auto_offset_reset != OffsetReset::none) continue;
      fail(tp, s, Kind::no_offset, proto::ErrorCode::none, "no position, and auto_offset_reset is none: seek first");
    }
    auto groups = by_leader([](const PartState& s) { return s.stage == Stage::reset; });
    for (auto& [broker, tps] : groups) {
      std::erase_if(tps, [&](const TopicPartition& tp) {  // see validate_positions
        const PartState* s = find(tp);
        return s == nullptr || s->stage != Stage::reset;
      });
      if (tps.empty()) continue;
      proto::ListOffsetsRequest req;
      for (const auto& tp : tps) {
        const PartState& s = parts.at(tp);
        const OffsetReset how = s.reset_to.value_or(cfg.auto_offset_reset);
        if (req.topics.empty() || req.topics.back().name != tp.topic) req.topics.push_back({tp.topic, {}});
        req.topics.back().partitions.push_back({tp.partition, how == OffsetReset::earliest ? -2 : -1});
      }
      auto r = rpc.call_as<proto::ListOffsetsResponse>(node_of(broker), cfg.port, req, kListOffsetsVersion, cfg.request_timeout);
      if (!r.ok()) {
        broker_failed(broker);
        continue;
      }
      for (const auto& t : r->topics) {
        for (const auto& p : t.partitions) on_list_offsets(TopicPartition{t.name, p.partition_index}, broker, p);
      }
    }
  }

  void on_list_offsets(const TopicPartition& tp, int32_t broker, const proto::ListOffsetsResponse::Partition& p) {
    PartState* s = find(tp);
    if (s == nullptr || s->stage != Stage::reset || s->leader != broker) return;
    if (p.error_code != proto::ErrorCode::none || p.offset.value() < 0) {
      metadata_stale = true;
      s->leader_epoch.reset();
      return;
    }
    const OffsetReset how = s->reset_to.value_or(cfg.auto_offset_reset);
    s->position = Position{p.offset, std::nullopt};
    s->reset_to.reset();
    s->stage = Stage::fetch;
    ++stats.resets;
    env.emit("consumer.reset", {{"client", cfg.client_id}, {"topic", tp.topic}, {"partition", tp.partition},
                                {"strategy", to_string(how)}, {"offset", p.offset.value()}});
  }

  // --- fetching ---
  bool fetchable(const PartState& s) const {
    return s.stage == Stage::fetch && !s.paused && !s.revoking && !s.in_flight && s.buffer.empty() && s.position && s.leader >= 0 &&
           s.leader_epoch && !s.unknown;
  }

  void send_fetches(const std::shared_ptr<Impl>& self) {
    std::map<int32_t, std::vector<TopicPartition>> groups;
    for (auto& [tp, s] : parts) {
      if (fetchable(s) && !fetching_from.contains(s.leader) && !backing_off(s.leader)) groups[s.leader].push_back(tp);
    }
    for (const auto& [broker, tps] : groups) {
      proto::FetchRequest req;
      req.replica_id = proto::BrokerId{-1};
      req.max_wait_ms = static_cast<int32_t>(cfg.fetch_max_wait.count_ms());
      req.min_bytes = cfg.fetch_min_bytes;
      req.max_bytes = cfg.fetch_max_bytes;
      CompletedFetch done;
      done.broker = broker;
      std::vector<FetchSessionHandler::Wanted> wanted;
      wanted.reserve(tps.size());
      for (const auto& tp : tps) {
        PartState& s = parts.at(tp);
        wanted.push_back({tp, {tp.partition, *s.leader_epoch, s.position->offset, proto::LeaderEpoch{-1}, proto::Offset{-1},
                               cfg.max_partition_fetch_bytes, {}}});
        s.in_flight = true;
        done.asked.emplace_back(tp, s.position->offset);
      }
      fetch_sessions[broker].build(std::move(wanted), cfg.fetch_sessions, req);
      fetching_from.insert(broker);
      ++stats.fetches;
      env.spawn(fmt::format("{}-fetch-{}", cfg.client_id, broker), [self, req = std::move(req), done = std::move(done)]() mutable {
        auto r = self->rpc.call_as<proto::FetchResponse>(node_of(done.broker), self->cfg.port, req, kFetchVersion,
                                                         self->cfg.request_timeout);
        FetchSessionHandler& session = self->fetch_sessions[done.broker];
        if (r.ok()) {
          // A session error carries no partitions: nothing to apply, and the broker is fine (the
          // next fetch, full, opens a new session).
          if (session.on_answer(r.value())) done.response = std::move(r.value());
          else done.session_error = true;
        } else {
          session.on_failure();
          done.failure = r.error().to_string();
        }
        self->fetching_from.erase(done.broker);
        self->completed.push_back(std::move(done));
        self->fetched.set();
      });
    }
  }

  // KIP-227: a closing consumer tells each broker it holds a session with to drop it, rather than
  // leave it taking a cache slot until it is evicted as idle. Nothing waits for the answers.
  void close_fetch_sessions(const std::shared_ptr<Impl>& self) {
    for (auto& [broker, session] : fetch_sessions) {
      proto::FetchRequest req;
      req.replica_id = proto::BrokerId{-1};
      req.max_wait_ms = 0;
      if (!session.build_close(req)) continue;
      env.spawn(fmt::format("{}-close-session-{}", cfg.client_id, broker), [self, req = std::move(req), broker] {
        (void)self->rpc.call_as<proto::FetchResponse>(node_of(broker), self->cfg.port, req, kFetchVersion,
                                                      self->cfg.request_timeout);
      });
    }
  }

  void on_fetch(CompletedFetch& f) {
    if (!f.response && !f.session_error) broker_failed(f.broker);
    for (const auto& [tp, offset] : f.asked) {
      PartState* s = find(tp);
      if (s == nullptr) continue;  // unassigned meanwhile
      s->in_flight = false;
      if (s->stage != Stage::fetch || !s->position || s->position->offset != offset) continue;  // a seek or reset came first
      if (!f.response) continue;
      const proto::FetchResponse::Partition* answer = nullptr;
      for (const auto& t : f.response->responses) {
        if (t.topic != tp.topic) continue;
        for (const auto& p : t.partitions) {
          if (p.partition_index == tp.partition) answer = &p;
        }
      }
      if (answer == nullptr) continue;
      on_partition_data(tp, *s, *answer);
    }
  }

  void on_partition_data(const TopicPartition& tp, PartState& s, const proto::FetchResponse::Partition& a) {
    switch (a.error_code) {
      case proto::ErrorCode::none:
        return buffer_records(tp, s, a);
      case proto::ErrorCode::offset_out_of_range:
        env.emit("consumer.out_of_range", {{"client", cfg.client_id}, {"topic", tp.topic}, {"partition", tp.partition},
                                           {"position", s.position->offset.value()}, {"log_start", a.log_start_offset.value()},
                                           {"hw", a.high_watermark.value()}});
        if (cfg.auto_offset_reset == OffsetReset::none) {
          return fail(tp, s, Kind::offset_out_of_range, a.error_code,
                      fmt::format("position {} is outside the log [{}, {}), and auto_offset_reset is none",
                                  s.position->offset, a.log_start_offset, a.high_watermark));
        }
        s.position.reset();
        clear_buffer(s);
        s.stage = Stage::reset;
        return;
      default:
        break;
    }
    if (needs_new_leader(a.error_code)) {
      metadata_stale = true;
      return leader_moved(s);
    }
    if (proto::is_retriable(a.error_code) || a.error_code == proto::ErrorCode::unknown_topic_or_partition) {
      metadata_stale = true;
      s.leader_epoch.reset();
      return;
    }
    errors.push_back({Kind::broker_error, tp, a.error_code, "fetch"});
  }

  // Whole batches from the fetch offset on; the first may start before it (records below the
  // position are dropped), the last may be cut by the byte limits (dropped, fetched again).
  void buffer_records(const TopicPartition& tp, PartState& s, const proto::FetchResponse::Partition& a) {
    if (!a.records || a.records->empty()) return;
    auto split = proto::split_batches(*a.records, true);
    if (!split.ok()) {
      errors.push_back({Kind::broker_error, tp, proto::ErrorCode::corrupt_message, "fetched records do not parse"});
      return;
    }
    const proto::Offset from = s.position->offset;
    for (const auto& batch : split->batches) {
      if (batch.last_offset() < from) continue;
      if (!batch.is_control()) {
        auto decoded = batch.decode();
        if (!decoded.ok()) {
          errors.push_back({Kind::broker_error, tp, proto::ErrorCode::corrupt_message,
                            fmt::format("batch at {} does not decode", batch.base_offset())});
          return;  // what came before it stays; the next fetch starts at the bad batch again
        }
        for (auto& r : decoded->records) {
          const proto::Offset o{batch.base_offset().value() + r.offset_delta};
          if (o < from) continue;
          s.buffer.push_back(ConsumerRecord{tp.topic, tp.partition, o, batch.partition_leader_epoch(),
                                            batch.base_timestamp() + r.timestamp_delta, std::move(r.key), std::move(r.value)});
        }
      }
      s.buffer_end = proto::Offset{batch.last_offset().value() + 1};
      s.buffer_end_epoch = batch.partition_leader_epoch();
    }
    if (s.buffer.empty()) advance_past_buffer(s);  // only control batches, or records compacted away
  }

  // Once the buffer is returned, the position moves past the batches it came from (their last
  // records may have been control records or compacted away).
  void advance_past_buffer(PartState& s) {
    if (s.position && s.buffer_end > s.position->offset) s.position = Position{s.buffer_end, s.buffer_end_epoch};
    s.buffer_end = proto::Offset{-1};
  }

  // Moves up to max_poll_records buffered records into `out`, advancing positions. Starts after
  // the partition the last poll took records from, so a partition that refills quickly cannot
  // starve the others when max_poll_records is small.
  void drain(std::vector<ConsumerRecord>& out) {
    auto it = drained_last ? parts.upper_bound(*drained_last) : parts.begin();
    for (size_t n = 0; n < parts.size(); ++n, ++it) {
      if (it == parts.end()) it = parts.begin();
      auto& [tp, s] = *it;
      if (s.paused || s.revoking) continue;
      if (!s.buffer.empty() && out.size() < cfg.max_poll_records) drained_last = tp;
      while (!s.buffer.empty() && out.size() < cfg.max_poll_records) {
        ConsumerRecord& r = s.buffer.front();
        s.position = Position{proto::Offset{r.offset.value() + 1}, r.leader_epoch};
        out.push_back(std::move(r));
        s.buffer.pop_front();
      }
      if (s.buffer.empty()) advance_past_buffer(s);
    }
  }

  std::vector<ConsumerError> standing_errors() const {
    std::vector<ConsumerError> out;
    for (const auto& [tp, s] : parts) {
      if (s.stage == Stage::failed && s.error) out.push_back(*s.error);
      else if (s.unknown && metadata_ever)
        out.push_back({Kind::unknown_partition, tp, proto::ErrorCode::unknown_topic_or_partition,
                       "the cluster's metadata has no such topic or partition"});
    }
    return out;
  }

  // --- the group (subscribe mode) ---
  void emit_group(std::string_view kind, const std::vector<TopicPartition>& tps) {
    env.emit(kind, {{"client", cfg.client_id}, {"group", cfg.group_id},
                    {"partitions", group::to_string(group::group_by_topic(tps))}});
  }

  // The member's task: new partitions. poll() applies them (it may be waiting: wake it).
  void on_group_assigned(const TopicPartitions& tps) {
    for (const TopicPartition& tp : group::flatten(tps)) pending_assigned.insert(tp);
    fetched.set();
  }

  // The member's task, while the protocol gives partitions up: commit (unless lost), tell the
  // user, then drop them. Runs to completion before the member rejoins or answers SyncGroup.
  void on_group_revoked(const TopicPartitions& tps, bool lost) {
    std::vector<TopicPartition> held;
    for (const TopicPartition& tp : group::flatten(tps)) {
      pending_assigned.erase(tp);  // never applied: the user never saw it
      if (PartState* s = find(tp)) {
        s->revoking = true;
        held.push_back(tp);
      }
    }
    if (held.empty()) return;
    if (!lost && cfg.enable_auto_commit) {
      PositionMap at;
      for (const TopicPartition& tp : held) {
        const PartState& s = parts.at(tp);
        if (s.position && s.stage != Stage::failed) at.emplace(tp, *s.position);
      }
      std::shared_ptr<GroupMember> m = member;  // the consumer may be destroyed while this waits
      if (m && !at.empty()) (void)m->commit_positions(at);
    }
    std::erase_if(held, [&](const TopicPartition& tp) { return find(tp) == nullptr; });  // close() raced us
    const TopicPartitions grouped = group::group_by_topic(held);
    if (lost && listener.on_partitions_lost) listener.on_partitions_lost(grouped);
    else if (listener.on_partitions_revoked) listener.on_partitions_revoked(grouped);
    for (const TopicPartition& tp : held) {
      parts.erase(tp);
      to_announce.erase(tp);
      rebalanced.insert(tp);
    }
    ++stats.rebalances;
    emit_group(lost ? "consumer.partitions_lost" : "consumer.partitions_revoked", held);
  }

  // poll(): what the group assigned joins the assignment; each new partition waits for its
  // committed offset before anything else (auto_offset_reset must not run first).
  void apply_group_assignment() {
    if (pending_assigned.empty() || closed) return;
    std::vector<TopicPartition> added(pending_assigned.begin(), pending_assigned.end());
    pending_assigned.clear();
    for (const TopicPartition& tp : added) {
      PartState& s = parts.try_emplace(tp).first->second;
      s = PartState{};
      s.stage = Stage::committed;
      to_announce.insert(tp);
      rebalanced.insert(tp);
    }
    metadata_stale = true;
    ++stats.rebalances;
    emit_group("consumer.partitions_assigned", added);
  }

  // poll(): positions from the committed offsets (with their epochs: validated against the leader
  // before fetching); partitions without one follow auto_offset_reset. No answer: tried next round.
  void fetch_committed_offsets() {
    std::vector<TopicPartition> want;
    for (const auto& [tp, s] : parts) {
      if (s.stage == Stage::committed) want.push_back(tp);
    }
    std::shared_ptr<GroupMember> m = member;
    if (want.empty() || !m) return;
    const std::optional<PositionMap> got = m->committed_positions(want);
    if (!got) return;
    for (const TopicPartition& tp : want) {
      PartState* s = find(tp);
      if (s == nullptr || s->stage != Stage::committed) continue;  // revoked while we asked
      auto c = got->find(tp);
      if (c == got->end()) {
        s->stage = Stage::reset;
        continue;
      }
      s->position = c->second;
      s->stage = c->second.epoch ? Stage::validate : Stage::fetch;
      env.emit("consumer.committed_position", {{"client", cfg.client_id}, {"topic", tp.topic}, {"partition", tp.partition},
                                               {"offset", c->second.offset.value()},
                                               {"epoch", c->second.epoch ? c->second.epoch->value() : -1}});
    }
  }

  // poll(): on_partitions_assigned once every newly assigned partition has a position (or failed).
  void maybe_announce_assigned() {
    if (to_announce.empty()) return;
    std::vector<TopicPartition> ready;
    for (const TopicPartition& tp : to_announce) {
      const PartState* s = find(tp);
      if (s == nullptr) continue;
      if (!s->position && s->stage != Stage::failed) return;
      ready.push_back(tp);
    }
    to_announce.clear();
    if (!ready.empty() && listener.on_partitions_assigned) listener.on_partitions_assigned(group::group_by_topic(ready));
  }

  // poll(): Kafka's auto-commit. The positions cover what earlier polls returned, never more. One
  // at a time: while the coordinator is unreachable, commits would otherwise pile up retrying.
  void maybe_auto_commit(const std::shared_ptr<Impl>& self) {
    if (mode != Mode::subscribed || !cfg.enable_auto_commit || !member || closed || auto_commit_in_flight) return;
    if (env.now() < last_auto_commit + cfg.auto_commit_interval || member->generation().value() < 0) return;
    last_auto_commit = env.now();
    PositionMap at;
    for (const auto& [tp, s] : parts) {
      if (s.position && s.stage != Stage::failed && !s.revoking) at.emplace(tp, *s.position);
    }
    if (at.empty()) return;
    ++stats.auto_commits;
    auto_commit_in_flight = true;
    std::weak_ptr<Impl> weak = self;
    member->commit_positions_async(at, [weak](const CommitResult&) {
      if (auto im = weak.lock()) im->auto_commit_in_flight = false;
    });
  }

  void group_round() {
    if (mode != Mode::subscribed) return;
    apply_group_assignment();
    fetch_committed_offsets();
  }

  PollResult poll(const std::shared_ptr<Impl>& self, sim::Duration timeout);
  void record_poll(model::OpIndex invocation, const std::vector<ConsumerRecord>& records);
  std::optional<ConsumerError> set_position(const TopicPartition& tp, Position p, bool validate);
};

PollResult Consumer::Impl::poll(const std::shared_ptr<Impl>& self, sim::Duration timeout) {
  const sim::Instant deadline = env.now() + std::max(timeout, sim::Duration::zero());
  std::optional<model::OpIndex> invocation;
  if (cfg.recorder != nullptr) {
    model::OpData op;
    op.type = model::OpType::invoke;
    op.f = model::Fn::poll;
    op.process = model::ProcessId{cfg.process};
    op.time = env.now();
    if (mode == Mode::subscribed) op.group = cfg.group_id;
    op.mops.push_back(model::MopData::poll());
    invocation = cfg.recorder->invoke(std::move(op));
  }
  maybe_auto_commit(self);
  PollResult out;
  // Bounded by the deadline: every round either returns or waits.
  while (true) {
    group_round();
    maybe_refresh_metadata();
    reset_positions();
    validate_positions();
    if (mode == Mode::subscribed) maybe_announce_assigned();
    while (!completed.empty()) {
      CompletedFetch f = std::move(completed.front());
      completed.pop_front();
      on_fetch(f);
    }
    drain(out.records);
    send_fetches(self);  // pipelining: the next fetch goes out while the user handles these records
    const bool news = !out.records.empty() || !errors.empty() || !truncations.empty();
    if (news || env.now() >= deadline || closed) break;
    fetched.reset();
    (void)fetched.wait_for(std::min(deadline - env.now(), cfg.retry_backoff));
  }
  out.errors = standing_errors();
  out.errors.insert(out.errors.end(), errors.begin(), errors.end());
  out.truncations = std::move(truncations);
  errors.clear();
  truncations.clear();
  ++stats.polls;
  stats.records += out.records.size();
  if (!out.records.empty()) {
    env.emit("consumer.poll", {{"client", cfg.client_id}, {"records", out.records.size()},
                               {"first_offset", out.records.front().offset.value()}});
  }
  if (invocation) {
    record_poll(*invocation, out.records);
  } else {
    rebalanced.clear();
    for (auto& [tp, s] : parts) s.seeked = false;
  }
  return out;
}

void Consumer::Impl::record_poll(model::OpIndex invocation, const std::vector<ConsumerRecord>& records) {
  std::vector<model::PolledKey> polled;
  std::map<TopicPartition, size_t> slot;
  for (const auto& r : records) {
    const TopicPartition tp{r.topic, r.partition};
    auto [it, fresh] = slot.try_emplace(tp, polled.size());
    if (fresh) polled.push_back({model::Key::topic_partition(r.topic, r.partition), {}});
    const std::string text = r.value ? std::string(r.value->begin(), r.value->end()) : std::string();
    const auto v = model::parse_canonical_int(text);
    if (!v) {
      ++unrecordable;
      continue;
    }
    polled[it->second].records.push_back({model::Offset{r.offset.value()}, model::Value{*v}});
  }
  model::OpData done;
  done.type = model::OpType::ok;
  done.time = env.now();
  done.mops.push_back(model::MopData::polled_keys(std::move(polled)));
  std::set<TopicPartition> moved = std::move(rebalanced);
  rebalanced.clear();
  for (auto& [tp, s] : parts) {
    if (s.seeked) moved.insert(tp);
    s.seeked = false;
  }
  for (const TopicPartition& tp : moved) done.rebalanced.push_back(model::Key::topic_partition(tp.topic, tp.partition));
  cfg.recorder->complete(invocation, std::move(done));
}

std::optional<ConsumerError> Consumer::Impl::set_position(const TopicPartition& tp, Position p, bool validate) {
  PartState* s = find(tp);
  if (s == nullptr) return ConsumerError{Kind::not_assigned, tp, proto::ErrorCode::none, "seek on a partition not assigned"};
  if (p.offset.value() < 0)
    return ConsumerError{Kind::invalid_argument, tp, proto::ErrorCode::none, fmt::format("negative offset {}", p.offset)};
  s->position = p;
  Impl::clear_buffer(*s);
  s->error.reset();
  s->reset_to.reset();
  s->seeked = true;
  s->stage = validate && p.epoch ? Stage::validate : Stage::fetch;
  return std::nullopt;
}

Consumer::Consumer(sim::Env& env, ConsumerConfig config) {
  config.validate();
  impl_ = std::make_shared<Impl>(env, std::move(config));
}

Consumer::~Consumer() {
  impl_->closed = true;
  impl_->fetched.set();
  impl_->member.reset();  // stops its task (no LeaveGroup: that is close()'s job)
}

std::optional<ConsumerError> Consumer::assign(const std::vector<TopicPartition>& partitions) {
  Impl& im = *impl_;
  if (im.closed) return ConsumerError{Kind::illegal_state, {}, proto::ErrorCode::none, "assign after close()"};
  if (im.mode == Impl::Mode::subscribed)
    return ConsumerError{Kind::illegal_state, {}, proto::ErrorCode::none, "assign() while subscribed: the group assigns"};
  std::set<TopicPartition> wanted;
  for (const auto& tp : partitions) {
    if (tp.topic.empty() || tp.partition < 0)
      return ConsumerError{Kind::invalid_argument, tp, proto::ErrorCode::none, "an empty topic or a negative partition"};
    if (!wanted.insert(tp).second) return ConsumerError{Kind::invalid_argument, tp, proto::ErrorCode::none, "assigned twice"};
  }
  std::erase_if(im.parts, [&](const auto& kv) { return !wanted.contains(kv.first); });
  for (const auto& tp : wanted) {
    if (im.parts.try_emplace(tp).second) im.metadata_stale = true;
  }
  if (im.cfg.recorder != nullptr) {
    model::OpData op;
    op.type = model::OpType::invoke;
    op.f = model::Fn::assign;
    op.process = model::ProcessId{im.cfg.process};
    op.time = im.env.now();
    for (const auto& tp : wanted) op.keys.push_back(model::Key::topic_partition(tp.topic, tp.partition));
    const model::OpIndex inv = im.cfg.recorder->invoke(op);
    op.type = model::OpType::ok;
    im.cfg.recorder->complete(inv, std::move(op));
  }
  im.mode = wanted.empty() ? Impl::Mode::none : Impl::Mode::assigned;
  im.env.emit("consumer.assign", {{"client", im.cfg.client_id}, {"partitions", wanted.size()}});
  return std::nullopt;
}

namespace {

GroupMemberConfig member_config(const ConsumerConfig& c, std::vector<std::string> topics) {
  return GroupMemberConfig{.bootstrap = c.bootstrap,
                           .port = c.port,
                           .group_id = c.group_id,
                           .client_id = c.client_id,
                           .topics = std::move(topics),
                           .assignor = c.assignor,
                           .session_timeout = c.session_timeout,
                           .rebalance_timeout = c.rebalance_timeout,
                           .heartbeat_interval = c.heartbeat_interval,
                           .request_timeout = c.request_timeout,
                           .retry_backoff = c.retry_backoff,
                           .assignor_overlap_defect = c.assignor_overlap_defect};
}

// The member calls back into the consumer from its own task; the consumer may be gone by then.
RebalanceListener hooks(const std::weak_ptr<Consumer::Impl>& weak) {
  RebalanceListener l;
  l.on_partitions_assigned = [weak](const TopicPartitions& tps) {
    if (auto im = weak.lock()) im->on_group_assigned(tps);
  };
  l.on_partitions_revoked = [weak](const TopicPartitions& tps) {
    if (auto im = weak.lock()) im->on_group_revoked(tps, false);
  };
  l.on_partitions_lost = [weak](const TopicPartitions& tps) {
    if (auto im = weak.lock()) im->on_group_revoked(tps, true);
  };
  return l;
}

void record_subscribe(Consumer::Impl& im, const std::vector<std::string>& topics) {
  if (im.cfg.recorder == nullptr) return;
  model::OpData op;
  op.type = model::OpType::invoke;
  op.f = model::Fn::subscribe;
  op.process = model::ProcessId{im.cfg.process};
  op.time = im.env.now();
  op.group = im.cfg.group_id;
  for (const std::string& t : topics) op.keys.push_back(model::Key::from_text(t));
  const model::OpIndex inv = im.cfg.recorder->invoke(op);
  op.type = model::OpType::ok;
  im.cfg.recorder->complete(inv, std::move(op));
}

}  // namespace

std::optional<ConsumerError> Consumer::subscribe(std::vector<std::string> topics, RebalanceListener listener) {
  Impl& im = *impl_;
  const auto refuse = [](Kind k, std::string why) { return ConsumerError{k, {}, proto::ErrorCode::none, std::move(why)}; };
  if (im.cfg.group_id.empty()) return refuse(Kind::no_group, "subscribe() needs ConsumerConfig::group_id");
  if (im.closed) return refuse(Kind::illegal_state, "subscribe after close()");
  if (im.mode == Impl::Mode::assigned)
    return refuse(Kind::illegal_state, "subscribe() while partitions are assigned: assign({}) first");
  if (topics.empty()) return refuse(Kind::invalid_argument, "subscribe() to no topic");
  if (std::any_of(topics.begin(), topics.end(), [](const std::string& t) { return t.empty(); }))
    return refuse(Kind::invalid_argument, "subscribe() to a topic with an empty name");
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  im.listener = std::move(listener);
  im.subscribed_topics = topics;
  record_subscribe(im, topics);
  im.env.emit("consumer.subscribe", {{"client", im.cfg.client_id}, {"group", im.cfg.group_id}, {"topics", fmt::format("{}", fmt::join(topics, ","))}});
  if (im.member_started) {
    im.member->subscribe(std::move(topics));
    return std::nullopt;
  }
  im.member = std::make_shared<GroupMember>(im.env, member_config(im.cfg, std::move(topics)), hooks(impl_));
  im.member->start();
  im.member_started = true;
  im.mode = Impl::Mode::subscribed;
  im.last_auto_commit = im.env.now();
  return std::nullopt;
}

std::vector<std::string> Consumer::subscription() const {
  return impl_->mode == Impl::Mode::subscribed ? impl_->subscribed_topics : std::vector<std::string>{};
}

proto::GenerationId Consumer::generation() const {
  return impl_->member_started ? impl_->member->generation() : proto::GenerationId{-1};
}

std::string Consumer::member_id() const { return impl_->member_started ? impl_->member->member_id() : std::string(); }

namespace {
// The member that commits: the group's in subscribe mode; in assign mode an unstarted one, whose
// commits carry no generation and no member id (Kafka's commits outside group management).
GroupMember* committer(Consumer::Impl& im) {
  if (im.cfg.group_id.empty()) return nullptr;
  if (!im.member) im.member = std::make_shared<GroupMember>(im.env, member_config(im.cfg, {}), RebalanceListener{});
  return im.member.get();
}
}  // namespace

CommitResult Consumer::commit_sync() { return commit_sync(positions()); }

CommitResult Consumer::commit_sync(const PositionMap& offsets) {
  if (committer(*impl_) == nullptr) return CommitResult{proto::ErrorCode::invalid_group_id, false};
  if (offsets.empty()) return CommitResult{};
  std::shared_ptr<GroupMember> m = impl_->member;  // alive until the commit returns
  return m->commit_positions(offsets);
}

void Consumer::commit_async(std::function<void(const CommitResult&)> done) { commit_async(positions(), std::move(done)); }

void Consumer::commit_async(const PositionMap& offsets, std::function<void(const CommitResult&)> done) {
  GroupMember* m = committer(*impl_);
  if (m == nullptr || offsets.empty()) {
    if (done) done(m == nullptr ? CommitResult{proto::ErrorCode::invalid_group_id, false} : CommitResult{});
    return;
  }
  m->commit_positions_async(offsets, std::move(done));
}

std::optional<PositionMap> Consumer::committed(const std::vector<TopicPartition>& partitions) {
  if (committer(*impl_) == nullptr) return std::nullopt;
  std::shared_ptr<GroupMember> m = impl_->member;
  return m->committed_positions(partitions);
}

void Consumer::close() {
  Impl& im = *impl_;
  if (im.closed) return;
  if (im.mode == Impl::Mode::subscribed) {
    std::shared_ptr<GroupMember> m = im.member;
    m->close();  // revokes through the hooks (auto-commit, the listener), then LeaveGroup
  }
  im.closed = true;
  im.close_fetch_sessions(impl_);
  im.parts.clear();
  im.pending_assigned.clear();
  im.to_announce.clear();
  im.fetched.set();
  im.env.emit("consumer.closed", {{"client", im.cfg.client_id}, {"group", im.cfg.group_id}});
}

std::vector<TopicPartition> Consumer::assignment() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, s] : impl_->parts) out.push_back(tp);
  return out;
}

PollResult Consumer::poll(sim::Duration timeout) { return impl_->poll(impl_, timeout); }

std::optional<ConsumerError> Consumer::seek(const TopicPartition& tp, proto::Offset offset) {
  return impl_->set_position(tp, Position{offset, std::nullopt}, false);
}

std::optional<ConsumerError> Consumer::seek(const TopicPartition& tp, Position position) {
  return impl_->set_position(tp, position, true);
}

namespace {
std::optional<ConsumerError> seek_to(Consumer::Impl& im, const TopicPartition& tp, OffsetReset how) {
  auto* s = im.find(tp);
  if (s == nullptr) return ConsumerError{Kind::not_assigned, tp, proto::ErrorCode::none, "seek on a partition not assigned"};
  s->position.reset();
  Consumer::Impl::clear_buffer(*s);
  s->error.reset();
  s->reset_to = how;
  s->seeked = true;
  s->stage = Stage::reset;
  return std::nullopt;
}
}  // namespace

std::optional<ConsumerError> Consumer::seek_to_beginning(const TopicPartition& tp) { return seek_to(*impl_, tp, OffsetReset::earliest); }
std::optional<ConsumerError> Consumer::seek_to_end(const TopicPartition& tp) { return seek_to(*impl_, tp, OffsetReset::latest); }

ConsumerResult<Position> Consumer::position(const TopicPartition& tp) const {
  const auto* s = impl_->find(tp);
  if (s == nullptr) return ConsumerError{Kind::not_assigned, tp, proto::ErrorCode::none, "position of a partition not assigned"};
  if (s->stage == Stage::failed && s->error) return *s->error;
  if (!s->position) return ConsumerError{Kind::no_offset, tp, proto::ErrorCode::none, "no position yet: poll first, or seek"};
  return *s->position;
}

PositionMap Consumer::positions() const {
  PositionMap out;
  for (const auto& [tp, s] : impl_->parts) {
    if (s.position && s.stage != Stage::failed) out.emplace(tp, *s.position);
  }
  return out;
}

std::optional<ConsumerError> Consumer::pause(const TopicPartition& tp) {
  auto* s = impl_->find(tp);
  if (s == nullptr) return ConsumerError{Kind::not_assigned, tp, proto::ErrorCode::none, "pause of a partition not assigned"};
  s->paused = true;
  return std::nullopt;
}

std::optional<ConsumerError> Consumer::resume(const TopicPartition& tp) {
  auto* s = impl_->find(tp);
  if (s == nullptr) return ConsumerError{Kind::not_assigned, tp, proto::ErrorCode::none, "resume of a partition not assigned"};
  s->paused = false;
  return std::nullopt;
}

uint64_t Consumer::unrecordable() const { return impl_->unrecordable; }
ConsumerStats Consumer::stats() const {
  ConsumerStats s = impl_->stats;
  for (const auto& [broker, session] : impl_->fetch_sessions) {
    s.fetch_sessions_opened += session.sessions_opened();
    s.fetch_session_errors += session.session_errors();
  }
  return s;
}

}  // namespace seedlog::broker::client
