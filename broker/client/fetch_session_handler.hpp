// The client side of an incremental fetch session (KIP-227) with one broker: which partitions a
// fetch names, which it forgets, and how the answer moves the session on. Consumers keep one per
// broker they fetch from, and each follower's replica fetcher one with its leader, as Kafka's
// consumer and ReplicaFetcherThread share FetchSessionHandler (the broker side is
// broker/replication/fetch_session.hpp).
//
// The session holds exactly the partitions of the last request (Kafka's FetchSessionHandler does
// the same): one the consumer does not fetch this time (its records are still buffered, it is
// paused, it moved to another broker) is forgotten, because the broker would otherwise go on
// serving it from its cached position. A partition whose fields did not change since the broker
// last took them is omitted; the broker then answers it only when it has something new.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "broker/group/consumer_protocol.hpp"
#include "broker/protocol/messages_client.hpp"

namespace seedlog::broker::client {

class FetchSessionHandler {
 public:
  using Fields = protocol::FetchRequest::Partition;
  struct Wanted {
    group::TopicPartition partition;
    Fields fields;
  };

  // Fills session_id, session_epoch, topics and forgotten_topics_data of `req` for the partitions
  // wanted (any order, each partition once). With `enabled` false every fetch is full and
  // sessionless.
  void build(std::vector<Wanted> wanted, bool enabled, protocol::FetchRequest& req);
  // The answer to the last built request. False when it is a session error: it carries no
  // partitions, and the next fetch is full (and opens a new session).
  bool on_answer(const protocol::FetchResponse& resp);
  // The last built request got no answer: the broker may or may not have moved the session on.
  void on_failure();
  // The next fetch is full (and opens a new session, closing the current one): for a fetcher that
  // wants every partition answered once more, such as a follower handed a partition.
  void request_full() { full_next(); }
  // Forgets the session without closing it: for a fetcher whose client id changed, as the broker
  // lets only the client that opened a session use or close it.
  void drop_session() {
    id_ = 0;
    full_next();
  }
  // For a closing client: fills `req` as the request that closes the open session (its id, epoch
  // -1, no partitions; the broker answers it as an empty sessionless fetch) and forgets the
  // session. False, leaving `req` alone, when no session is open.
  bool build_close(protocol::FetchRequest& req);

  int32_t session_id() const { return id_; }
  int32_t next_epoch() const { return epoch_; }
  // Sessions this handler opened and session errors it met (for tests and stats).
  uint64_t sessions_opened() const { return opened_; }
  uint64_t session_errors() const { return errors_; }

 private:
  void full_next();

  int32_t id_ = 0;     // 0: no session
  int32_t epoch_ = 0;  // the next request's epoch; 0: full, opening a new session
  // What the broker's session holds once it accepted the last request, and that request's version;
  // sorted by partition. A follower builds a request every round, so these are vectors (moved in
  // from the caller, swapped on an answer) rather than maps rebuilt node by node.
  static const Fields* find(const std::vector<Wanted>& entries, const group::TopicPartition& tp);
  std::vector<Wanted> session_;
  std::vector<Wanted> pending_;  // the last built request's partitions, until its answer
  bool pending_full_ = true;
  bool pending_enabled_ = false;
  uint64_t opened_ = 0;
  uint64_t errors_ = 0;
};

}  // namespace seedlog::broker::client
