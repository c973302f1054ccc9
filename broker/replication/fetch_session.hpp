// Incremental fetch sessions (KIP-227): the leader's cache of what each fetcher last asked for, so
// a fetcher names only the partitions whose fetch position changed and the leader answers only
// the partitions with something new.
//
// The request's (session_id, session_epoch) say what it is:
//   - (0, -1): a full fetch without a session; (X, -1) also closes session X.
//   - (0 or X, 0): a full fetch that opens a new session (closing X); the answer names the new id,
//     or 0 when the cache has no slot for it (the fetcher stays sessionless and tries again).
//   - (X, N > 0): an incremental fetch in session X. The request's partitions are added or update
//     the cached ones, forgotten_topics_data removes some; the leader serves every partition of the
//     session (an omitted one from its cached position) and answers only those with new records,
//     a high watermark, last stable offset or log start that differs from the last answer, or an
//     error. An unknown X (or one opened by another client) is FETCH_SESSION_ID_NOT_FOUND, an N
//     that is not the session's next epoch INVALID_FETCH_SESSION_EPOCH; both are top-level errors
//     that change nothing (also for an incremental request that arrives while the session still
//     serves the previous one), and the fetcher falls back to a full fetch that opens a new session.
// Epochs count 1, 2, ... and wrap from INT32_MAX to 1. Session ids are random, from a stream of
// the node and its incarnation, so a restarted broker (whose cache, process memory, is gone) does
// not hand out the ids of its previous incarnation again.
//
// The cache holds at most max_sessions sessions (max.incremental.fetch.session.cache.slots). A new
// session takes a free slot, else evicts, as Kafka's FetchSessionCache does: first the least
// recently used session idle for longer than `eviction_idle`; else, for a follower's (privileged)
// session, the smallest consumer session (fewest partitions, then least recently used); else, for
// a consumer's session, the smallest consumer session if it has fewer partitions than the new one.
// A follower's session is only ever evicted once idle. Without a slot the fetch is sessionless.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/protocol/messages_client.hpp"
#include "broker/replication/partition.hpp"
#include "sim/random.hpp"
#include "sim/time.hpp"

namespace seedlog::broker::replication {

struct FetchSessionConfig {
  size_t max_sessions = 1000;                            // max.incremental.fetch.session.cache.slots
  sim::Duration eviction_idle = sim::Duration::s(120);   // Kafka's eviction time of an idle session
};

// One partition of a session: the request fields (reused while the fetcher omits the partition)
// and what the last answer that included it said.
struct SessionPartition {
  protocol::FetchRequest::Partition request;
  Offset high_watermark{-1};
  Offset last_stable_offset{-1};
  Offset log_start_offset{-1};
};

using SessionPartitions = std::map<PartitionKey, SessionPartition, PartitionKeyLess>;

struct FetchSession {
  int32_t id = 0;
  int32_t next_epoch = 1;
  bool privileged = false;  // a follower's
  std::string owner;        // the client id that opened it; nobody else may use it
  sim::Instant created;
  sim::Instant last_used;
  SessionPartitions partitions;
  // Requests of this session being served (a long poll may wait). While one is, an incremental
  // request must not change the partitions under it: a fetcher sends its next epoch only after the
  // answer, so one that arrives early is INVALID_FETCH_SESSION_EPOCH.
  int readers = 0;
};

// What one Fetch request reads, after the session rules.
struct FetchContext {
  protocol::ErrorCode error = protocol::ErrorCode::none;  // a top-level session error: read nothing
  int32_t response_session_id = 0;
  // Set for new and incremental sessions. Shared: a long poll keeps it while another request may
  // close or evict it from the cache (the answer then updates a detached session, as in Kafka).
  std::shared_ptr<FetchSession> session;
  bool incremental = false;         // answer only the partitions with something new
  // Every partition to read with its request fields, in key order; for a session, its own map.
  SessionPartitions sessionless;
  SessionPartitions& partitions() { return session ? session->partitions : sessionless; }
};

class FetchSessionCache {
 public:
  // `rng` draws the session ids; a stream of its own, so that sessions do not shift the draws of
  // the node's other random choices.
  FetchSessionCache(FetchSessionConfig config, sim::Rng rng) : config_(config), rng_(rng) {}

  // Applies the session rules to a request from `owner` (its client id).
  FetchContext open(const protocol::FetchRequest& req, const std::string& owner, bool privileged, sim::Instant now);
  // Whether an incremental answer must include this partition; records what it says as sent.
  static bool must_respond(SessionPartition& cached, const protocol::FetchResponse::Partition& answer);

  size_t size() const { return sessions_.size(); }
  // How many cached sessions `owner` (a client id) opened.
  size_t owned_by(std::string_view owner) const;
  const FetchSession* find(int32_t id) const;

 private:
  std::shared_ptr<FetchSession> create(const protocol::FetchRequest& req, const std::string& owner, bool privileged, sim::Instant now);
  bool make_room(bool privileged, size_t partitions, sim::Instant now);
  int32_t fresh_id();

  FetchSessionConfig config_;
  sim::Rng rng_;
  std::map<int32_t, std::shared_ptr<FetchSession>> sessions_;
};

// Adds the request's partitions to `into`, overwriting the request fields of known ones.
void merge_request_partitions(const protocol::FetchRequest& req, SessionPartitions& into);

}  // namespace seedlog::broker::replication
