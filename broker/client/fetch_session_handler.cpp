#include "broker/client/fetch_session_handler.hpp"

#include <algorithm>
#include <limits>

#include "sim/assert.hpp"

namespace seedlog::broker::client {

namespace proto = seedlog::protocol;

const FetchSessionHandler::Fields* FetchSessionHandler::find(const std::vector<Wanted>& entries, const group::TopicPartition& tp) {
  auto it = std::lower_bound(entries.begin(), entries.end(), tp,
                             [](const Wanted& e, const group::TopicPartition& k) { return e.partition < k; });
  return it != entries.end() && it->partition == tp ? &it->fields : nullptr;
}

void FetchSessionHandler::build(std::vector<Wanted> wanted, bool enabled, proto::FetchRequest& req) {
  pending_ = std::move(wanted);
  auto by_partition = [](const Wanted& a, const Wanted& b) { return a.partition < b.partition; };
  // Callers usually list partitions in order already (from ordered maps): sort only when not.
  if (!std::is_sorted(pending_.begin(), pending_.end(), by_partition)) {
    std::stable_sort(pending_.begin(), pending_.end(), by_partition);
  }
  SL_ASSERT_MSG(std::adjacent_find(pending_.begin(), pending_.end(),
                                   [](const Wanted& a, const Wanted& b) { return a.partition == b.partition; }) ==
                    pending_.end(),
                "a partition wanted twice in one fetch");
  pending_enabled_ = enabled;
  if (!enabled) {
    id_ = 0;
    full_next();
  }
  const bool full = epoch_ == 0;
  pending_full_ = full;
  req.session_id = id_;  // a full fetch naming a session closes it; 0 when sessions are off
  req.session_epoch = enabled ? epoch_ : -1;
  req.topics.clear();
  req.forgotten_topics_data.clear();
  // In key order, so that each topic's partitions are adjacent.
  for (const auto& [tp, fields] : pending_) {
    if (!full) {
      const Fields* held = find(session_, tp);
      if (held != nullptr && *held == fields) continue;
    }
    if (req.topics.empty() || req.topics.back().topic != tp.topic) req.topics.push_back({tp.topic, {}, {}, {}});
    req.topics.back().partitions.push_back(fields);
  }
  if (full) return;
  for (const auto& [tp, fields] : session_) {
    if (find(pending_, tp) != nullptr) continue;
    if (req.forgotten_topics_data.empty() || req.forgotten_topics_data.back().topic != tp.topic) {
      req.forgotten_topics_data.push_back({tp.topic, {}, {}, {}});
    }
    req.forgotten_topics_data.back().partitions.push_back(tp.partition);
  }
}

bool FetchSessionHandler::on_answer(const proto::FetchResponse& resp) {
  if (!pending_enabled_) return true;
  if (resp.error_code != proto::ErrorCode::none) {
    // FETCH_SESSION_ID_NOT_FOUND: the broker forgot the session (a restart, an eviction); any
    // other top-level error: the session's state is in doubt. Either way, start a new one.
    if (resp.error_code == proto::ErrorCode::fetch_session_id_not_found) id_ = 0;
    ++errors_;
    full_next();
    return false;
  }
  if (pending_full_) {
    id_ = resp.session_id;  // 0: the broker had no slot; the next fetch tries again
    epoch_ = id_ != 0 ? 1 : 0;
    if (id_ != 0) ++opened_;
  } else if (resp.session_id != id_) {
    full_next();  // not the session we asked about: its answer still fits our request
    return true;
  } else {
    epoch_ = epoch_ == std::numeric_limits<int32_t>::max() ? 1 : epoch_ + 1;
  }
  if (id_ != 0) session_.swap(pending_);  // pending_ is refilled by the next build
  return true;
}

void FetchSessionHandler::on_failure() {
  if (pending_enabled_) full_next();
}

bool FetchSessionHandler::build_close(proto::FetchRequest& req) {
  if (id_ == 0) return false;
  req.session_id = id_;
  req.session_epoch = -1;
  req.topics.clear();
  req.forgotten_topics_data.clear();
  id_ = 0;
  full_next();
  return true;
}

void FetchSessionHandler::full_next() {
  epoch_ = 0;
  session_.clear();
}

}  // namespace seedlog::broker::client
