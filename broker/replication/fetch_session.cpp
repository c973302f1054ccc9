#include "broker/replication/fetch_session.hpp"

#include <limits>
#include <tuple>

#include "sim/assert.hpp"

namespace seedlog::broker::replication {

namespace proto = seedlog::protocol;

namespace {

constexpr int32_t kFinalEpoch = -1;
constexpr int32_t kInitialEpoch = 0;

int32_t next_epoch(int32_t epoch) { return epoch == std::numeric_limits<int32_t>::max() ? 1 : epoch + 1; }

void forget(const proto::FetchRequest& req, SessionPartitions& from) {
  for (const auto& t : req.forgotten_topics_data) {
    for (int32_t partition : t.partitions) {
      auto it = from.find(PartitionKeyLess::Ref{t.topic, partition});
      if (it != from.end()) from.erase(it);
    }
  }
}

}  // namespace

void merge_request_partitions(const proto::FetchRequest& req, SessionPartitions& into) {
  for (const auto& t : req.topics) {
    for (const auto& part : t.partitions) {
      auto it = into.find(PartitionKeyLess::Ref{t.topic, part.partition});
      if (it == into.end()) it = into.emplace(PartitionKey{t.topic, part.partition}, SessionPartition{}).first;
      it->second.request = part;
    }
  }
}

FetchContext FetchSessionCache::open(const proto::FetchRequest& req, const std::string& owner, bool privileged,
                                     sim::Instant now) {
  FetchContext ctx;
  // Out-of-range fields are refused before anything changes: no session is closed by them.
  if (req.session_id < 0) {
    ctx.error = proto::ErrorCode::fetch_session_id_not_found;
    return ctx;
  }
  if (req.session_epoch < kFinalEpoch) {
    ctx.error = proto::ErrorCode::invalid_fetch_session_epoch;
    return ctx;
  }
  if (req.session_epoch == kFinalEpoch || req.session_epoch == kInitialEpoch) {
    // A full fetch: it closes the session it names (only its owner may).
    auto named = sessions_.find(req.session_id);
    if (named != sessions_.end() && named->second->owner == owner) sessions_.erase(named);
    if (req.session_epoch == kInitialEpoch) ctx.session = create(req, owner, privileged, now);
    if (ctx.session) {
      ctx.response_session_id = ctx.session->id;
    } else {
      merge_request_partitions(req, ctx.sessionless);
    }
    return ctx;
  }
  auto it = sessions_.find(req.session_id);
  if (it == sessions_.end() || it->second->owner != owner) {
    ctx.error = proto::ErrorCode::fetch_session_id_not_found;
    return ctx;
  }
  FetchSession& session = *it->second;
  if (req.session_epoch != session.next_epoch || session.readers > 0) {
    ctx.error = proto::ErrorCode::invalid_fetch_session_epoch;
    return ctx;
  }
  forget(req, session.partitions);
  merge_request_partitions(req, session.partitions);
  session.next_epoch = next_epoch(session.next_epoch);
  session.last_used = now;
  ctx.session = it->second;
  ctx.incremental = true;
  ctx.response_session_id = session.id;
  return ctx;
}

bool FetchSessionCache::must_respond(SessionPartition& cached, const proto::FetchResponse::Partition& answer) {
  bool respond = answer.records.has_value() && !answer.records->empty();
  if (answer.error_code != proto::ErrorCode::none) {
    // Forget what was sent: the answer after the error is included again in full.
    cached.high_watermark = Offset{-1};
    return true;
  }
  if (cached.high_watermark != answer.high_watermark) {
    cached.high_watermark = answer.high_watermark;
    respond = true;
  }
  if (cached.last_stable_offset != answer.last_stable_offset) {
    cached.last_stable_offset = answer.last_stable_offset;
    respond = true;
  }
  if (cached.log_start_offset != answer.log_start_offset) {
    cached.log_start_offset = answer.log_start_offset;
    respond = true;
  }
  return respond || answer.diverging_epoch.has_value();
}

size_t FetchSessionCache::owned_by(std::string_view owner) const {
  size_t n = 0;
  for (const auto& [id, session] : sessions_) n += session->owner == owner ? 1 : 0;
  return n;
}

const FetchSession* FetchSessionCache::find(int32_t id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

std::shared_ptr<FetchSession> FetchSessionCache::create(const proto::FetchRequest& req, const std::string& owner,
                                                        bool privileged, sim::Instant now) {
  SessionPartitions partitions;
  merge_request_partitions(req, partitions);
  // An empty full fetch has nothing worth caching (Kafka opens no session for it either).
  if (partitions.empty() || !make_room(privileged, partitions.size(), now)) return nullptr;
  auto session = std::make_shared<FetchSession>();
  session->id = fresh_id();
  session->privileged = privileged;
  session->owner = owner;
  session->created = now;
  session->last_used = now;
  session->partitions = std::move(partitions);
  sessions_.emplace(session->id, session);
  SL_ASSERT(sessions_.size() <= config_.max_sessions);
  return session;
}

bool FetchSessionCache::make_room(bool privileged, size_t partitions, sim::Instant now) {
  if (sessions_.size() < config_.max_sessions) return true;
  if (config_.max_sessions == 0) return false;
  // The least recently used session, if it sat idle for longer than the eviction time.
  auto lru = sessions_.end();
  // The smallest consumer session: fewest partitions, then least recently used, then id.
  auto smallest = sessions_.end();
  auto key = [](const FetchSession& s) { return std::tuple(s.partitions.size(), s.last_used, s.id); };
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    const FetchSession& s = *it->second;
    if (lru == sessions_.end() || std::pair(s.last_used, s.id) < std::pair(lru->second->last_used, lru->second->id)) lru = it;
    if (!s.privileged && (smallest == sessions_.end() || key(s) < key(*smallest->second))) smallest = it;
  }
  if (lru != sessions_.end() && now - lru->second->last_used > config_.eviction_idle) {
    sessions_.erase(lru);
    return true;
  }
  if (smallest == sessions_.end()) return false;
  if (privileged || smallest->second->partitions.size() < partitions) {
    sessions_.erase(smallest);
    return true;
  }
  return false;
}

int32_t FetchSessionCache::fresh_id() {
  // Bounded: the cache holds far fewer sessions than there are ids.
  for (int tries = 0; tries < 1000; ++tries) {
    const auto id = static_cast<int32_t>(1 + rng_.uniform(static_cast<uint64_t>(std::numeric_limits<int32_t>::max())));
    if (id > 0 && !sessions_.count(id)) return id;
  }
  SL_ASSERT_MSG(false, "no free fetch session id");
  return 0;
}

}  // namespace seedlog::broker::replication
