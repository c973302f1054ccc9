#include "broker/replication/partition.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "broker/protocol/record_batch.hpp"

namespace seedlog::broker::replication {

namespace proto = seedlog::protocol;

std::string_view to_string(Role r) {
  switch (r) {
    case Role::none: return "none";
    case Role::leader: return "leader";
    case Role::follower: return "follower";
  }
  return "?";
}

std::string PartitionKey::to_string() const { return fmt::format("{}-{}", topic, partition); }

std::optional<std::vector<ProducerBatchHeader>> producer_headers(proto::ByteView records) {
  auto split = proto::split_batches(records);
  if (!split.ok()) return std::nullopt;
  std::vector<ProducerBatchHeader> out;
  out.reserve(split->batches.size());
  for (const proto::RecordBatchView& b : split->batches) {
    out.push_back(ProducerBatchHeader{b.producer_id(), b.producer_epoch(), b.base_sequence(), b.last_sequence()});
  }
  return out;
}

namespace {

// "1,2,3": the trace's form of a replica list (emitted on every HW move, so no format string).
template <class Id>
std::string list_text(const std::vector<Id>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(ids[i].value());
  }
  return out;
}

std::string ids_text(const std::vector<BrokerId>& ids) { return list_text(ids); }
std::string epochs_text(const std::vector<BrokerEpoch>& epochs) { return list_text(epochs); }

proto::ErrorCode produce_error(storage::LogErrc e) {
  switch (e) {
    case storage::LogErrc::invalid_batch: return proto::ErrorCode::corrupt_message;
    case storage::LogErrc::batch_too_large: return proto::ErrorCode::message_too_large;
    case storage::LogErrc::epoch_regression: return proto::ErrorCode::not_leader_or_follower;
    default: return proto::ErrorCode::kafka_storage_error;
  }
}

}  // namespace

Partition::Partition(sim::Env& env, PartitionKey key, const ReplicationConfig& config, BrokerId self, Signal& roles_changed,
                     const StorageFailed& storage_failed)
    : env_(env), key_(std::move(key)), config_(config), self_(self), roles_changed_(roles_changed), storage_failed_(storage_failed),
      dir_(fmt::format("{}/{}", config.data_dir, key_.to_string())), min_insync_(config.min_insync_for(key_.topic)),
      producers_(config.producer_batches_kept), append_lock_(env.scheduler()) {}

Partition::~Partition() = default;

void Partition::unwatch(const FetchWaiter& waiter) {
  std::erase_if(watchers_, [&](const auto& w) { return w.first == &waiter; });
}

void Partition::notify_changed() {
  notify_roles_if_moved();
  for (const auto& [waiter, slot] : watchers_) waiter->mark(slot);
}

void Partition::notify_roles_if_moved() {
  if (generation_ == roles_notified_generation_ && is_open() == roles_notified_open_) return;
  roles_notified_generation_ = generation_;
  roles_notified_open_ = is_open();
  roles_changed_.notify();
}

PartitionWatch::PartitionWatch(sim::Scheduler& scheduler, std::vector<Partition*> partitions)
    : waiter_(scheduler, partitions.size()), partitions_(std::move(partitions)) {
  for (size_t i = 0; i < partitions_.size(); ++i) {
    if (partitions_[i] != nullptr) partitions_[i]->watch(waiter_, i);
  }
}

PartitionWatch::~PartitionWatch() {
  for (Partition* p : partitions_) {
    if (p != nullptr) p->unwatch(waiter_);
  }
}

Offset Partition::log_end() const { return log_ ? log_->log_end_offset() : Offset{-1}; }
Offset Partition::high_watermark() const { return log_ ? log_->high_watermark() : Offset{-1}; }
Offset Partition::log_start() const { return log_ ? log_->log_start_offset() : Offset{-1}; }

storage::Status Partition::open() {
  if (log_) return {};
  auto opened = storage::Log::open(storage::node_context(env_), dir_, config_.log);
  if (!opened.ok()) {
    on_log_error(opened.error(), "open");
    return opened.error();
  }
  log_ = std::shared_ptr<storage::Log>(std::move(opened.value()));
  const storage::RecoveryReport& r = log_->recovery();
  env_.emit("replica.open", {{"topic", key_.topic}, {"partition", key_.partition}, {"log_start", r.log_start_offset.value()},
                             {"log_end", r.log_end_offset.value()}, {"hw", r.high_watermark.value()},
                             {"recovery_point", r.recovery_point.value()}, {"truncated", r.truncated}});
  storage::Status rebuilt = rebuild_producer_state();
  if (!rebuilt.ok()) on_log_error(rebuilt.error(), "rebuild producer state");
  return rebuilt;
}

void Partition::close(std::string_view why) {
  become_none(why);
  log_.reset();
  producers_.clear();
  notify_roles_if_moved();
}

void Partition::on_log_error(const storage::LogError& error, std::string_view during) {
  env_.emit("replica.log_error", {{"topic", key_.topic}, {"partition", key_.partition}, {"during", during},
                                  {"error", error.to_string()}});
  // A disk that failed an operation (EIO, a failed fsync) leaves the page cache in a state nobody
  // knows: Kafka's log-directory failure handler stops the broker rather than serve from it.
  if (storage_failed_ && (error.code == storage::LogErrc::io_error || error.code == storage::LogErrc::offline)) {
    storage_failed_(fmt::format("{} of {}: {}", during, key_.to_string(), error.to_string()));  // does not return
  }
  // An offline log answers nothing until reopened: the metadata task reopens it and re-applies the
  // role (recovery runs again), as Kafka does when a log directory comes back.
  if (log_ && log_->offline()) {
    env_.emit("replica.offline", {{"topic", key_.topic}, {"partition", key_.partition}});
    close("log offline");
  }
}

storage::Status Partition::rebuild_producer_state() {
  SL_ASSERT(log_ != nullptr);
  std::shared_ptr<storage::Log> log = log_;
  ProducerStateTable table(config_.producer_batches_kept);
  Offset at = log->log_start_offset();
  // Bounded: every round moves `at` forward by at least one batch, up to the log end.
  while (at < log->log_end_offset()) {
    auto read = log->read(at, storage::ReadOptions{.max_bytes = 1 << 20});
    if (!read.ok()) return read.error();
    if (read->batches.empty()) break;
    auto headers = producer_headers(read->records);
    SL_ASSERT_MSG(headers && headers->size() == read->batches.size(), "the log returned batches that do not split");
    for (size_t i = 0; i < headers->size(); ++i) {
      table.record((*headers)[i], read->batches[i].base_offset, read->batches[i].last_offset);
    }
    SL_ASSERT(read->next_offset > at);
    at = read->next_offset;
  }
  producers_ = std::move(table);
  return {};
}

// ---- roles ----------------------------------------------------------------------------------

void Partition::set_role(Role role, const metadata::PartitionInfo& info) {
  role_ = role;
  leader_ = info.leader;
  leader_epoch_ = info.leader_epoch;
  ++generation_;
  hw_announced_ = false;
  emit_role();
  notify_changed();
}

void Partition::emit_role() {
  env_.emit("replica.role", {{"topic", key_.topic}, {"partition", key_.partition}, {"role", to_string(role_)},
                             {"leader", leader_.value()}, {"leader_epoch", leader_epoch_.value()},
                             {"log_end", log_end().value()}, {"hw", high_watermark().value()}});
}

void Partition::become_none(std::string_view why) {
  if (role_ == Role::none && !leader_state_) return;
  leader_state_.reset();
  role_ = Role::none;
  ++generation_;
  env_.emit("replica.role", {{"topic", key_.topic}, {"partition", key_.partition}, {"role", "none"},
                             {"leader", leader_.value()}, {"leader_epoch", leader_epoch_.value()},
                             {"log_end", log_end().value()}, {"hw", high_watermark().value()}, {"why", why}});
  notify_changed();
}

storage::Status Partition::become_leader(const metadata::PartitionInfo& info) {
  SL_ASSERT(log_ != nullptr);
  SL_ASSERT(info.leader == self_);
  FiberLock guard(append_lock_);
  // Nothing is served while the epoch is being recorded: handlers see role none.
  leader_state_.reset();
  role_ = Role::none;
  ++generation_;
  // KIP-101: the epoch enters the cache at the LEO before anything is written in it, so a follower
  // asking where our previous epoch ended gets the LEO we had when we took over.
  auto assigned = log_->assign_leader_epoch(info.leader_epoch);
  if (!assigned.ok()) {
    on_log_error(assigned.error(), "become leader");
    return assigned.error();
  }
  if (storage::Status st = rebuild_producer_state(); !st.ok()) {
    on_log_error(st.error(), "rebuild producer state");
    return st;
  }
  min_insync_ = config_.min_insync_for(key_.topic);
  leader_state_.emplace(self_, info.leader_epoch, log_end(), info.isr, info.partition_epoch, env_.now());
  set_role(Role::leader, info);
  emit_isr();
  maybe_advance_hw();
  return {};
}

storage::Status Partition::become_follower(const metadata::PartitionInfo& info) {
  SL_ASSERT(log_ != nullptr);
  SL_ASSERT(info.leader != self_);
  FiberLock guard(append_lock_);
  leader_state_.reset();
  set_role(Role::follower, info);
  if (config_.defects.follower_truncates_to_hw) {
    // The defect (pre-KIP-101 Kafka): the local HW stands in for the divergence point.
    return truncate_locked(log_->high_watermark(), "high watermark (defect follower-truncates-to-hw)");
  }
  return {};
}

void Partition::update_isr(const metadata::PartitionInfo& info) {
  if (role_ != Role::leader || !leader_state_ || info.leader_epoch != leader_epoch_) return;
  if (leader_state_->apply_committed(info.isr, info.partition_epoch)) {
    emit_isr();
    maybe_advance_hw();
    notify_changed();
  }
}

// ---- leader ---------------------------------------------------------------------------------

LeaderAppend Partition::append_as_leader(proto::ByteView records) {
  FiberLock guard(append_lock_);
  LeaderAppend out;
  out.generation = generation_;
  if (role_ != Role::leader || !log_) {
    out.error = proto::ErrorCode::not_leader_or_follower;
    return out;
  }
  auto headers = producer_headers(records);
  if (!headers || headers->empty()) {
    out.error = proto::ErrorCode::corrupt_message;
    return out;
  }
  // Sequences are checked against the table as it will be after the earlier batches of this request:
  // a copy, made only when a request carries several batches (a producer sends one per partition).
  std::optional<ProducerStateTable> scratch;
  for (size_t i = 0; i < headers->size(); ++i) {
    const SequenceCheck check = (scratch ? *scratch : producers_).check((*headers)[i]);
    if (check.verdict == SequenceVerdict::duplicate && !config_.defects.no_producer_dedup && i == 0) {
      out.duplicate = true;
      out.first_offset = check.original->first_offset;
      out.last_offset = check.original->last_offset;
      return out;
    }
    if (check.verdict == SequenceVerdict::duplicate) {
      out.error = proto::ErrorCode::out_of_order_sequence_number;  // the defect, or a duplicate mid-request
      return out;
    }
    if (check.error() != proto::ErrorCode::none) {
      out.error = check.error();
      return out;
    }
    if (i + 1 < headers->size()) {
      if (!scratch) scratch = producers_;
      scratch->record((*headers)[i], Offset{0}, Offset{0});
    }
  }
  auto appended = log_->append_as_leader(records, leader_epoch_);
  if (!appended.ok()) {
    out.error = produce_error(appended.code());
    on_log_error(appended.error(), "leader append");
    return out;
  }
  SL_ASSERT(appended->batches.size() == headers->size());
  // The batches are in the log, but the flush policy's fsync failed: not an error of this append,
  // an error of the disk under it.
  if (appended->flush_error) on_log_error(*appended->flush_error, "flush after leader append");
  for (size_t i = 0; i < headers->size(); ++i) {
    producers_.record((*headers)[i], appended->batches[i].base_offset, appended->batches[i].last_offset);
  }
  emit_appended(appended->batches, *headers);
  out.first_offset = appended->first_offset;
  out.last_offset = appended->last_offset;
  maybe_advance_hw();
  notify_changed();
  return out;
}

bool Partition::on_follower_fetch(BrokerId follower, Offset fetch_offset, BrokerEpoch broker_epoch) {
  if (role_ != Role::leader || !leader_state_ || !log_) return false;
  if (fetch_offset > log_end() || fetch_offset < log_start()) return false;
  leader_state_->on_fetch(follower, fetch_offset, broker_epoch, log_end(), env_.now());
  maybe_advance_hw();
  return true;
}

bool Partition::maybe_advance_hw() {
  if (role_ != Role::leader || !leader_state_ || !log_) return false;
  const HwCandidate c = leader_state_->hw_candidate(log_end(), min_insync_, config_.defects.unclean_isr_of_one);
  if (!c.hw || *c.hw <= log_->high_watermark()) return false;
  const Offset before = log_->high_watermark();
  log_->update_high_watermark(*c.hw);
  SL_ASSERT_MSG(log_->high_watermark() > before, "the leader's HW never goes down");
  SL_ASSERT(log_->high_watermark() <= log_end());
  emit_hw(&c);
  notify_changed();
  return true;
}

size_t Partition::isr_size_for_min_insync() const {
  return leader_state_ ? leader_state_->isr_size_for_min_insync() : 0;
}

std::optional<std::vector<BrokerId>> Partition::take_isr_proposal(const std::vector<BrokerId>& replicas,
                                                                   const std::function<bool(BrokerId, BrokerEpoch)>& live) {
  if (role_ != Role::leader || !leader_state_) return std::nullopt;
  auto proposal = leader_state_->isr_proposal(replicas, high_watermark(), env_.now(), config_.replica_lag_time_max, live);
  if (!proposal) return std::nullopt;
  leader_state_->set_pending(*proposal);
  emit_isr();
  notify_changed();
  return proposal;
}

void Partition::on_alter_partition_answer(const std::vector<BrokerId>& isr, PartitionEpoch partition_epoch) {
  if (role_ != Role::leader || !leader_state_) return;
  if (leader_state_->apply_committed(isr, partition_epoch)) {
    emit_isr();
    maybe_advance_hw();
    notify_changed();
  }
}

void Partition::on_alter_partition_failed() {
  if (role_ != Role::leader || !leader_state_ || !leader_state_->pending()) return;
  leader_state_->clear_pending();
  emit_isr();
  maybe_advance_hw();
  notify_changed();
}

// ---- follower -------------------------------------------------------------------------------

Partition::Step Partition::append_as_follower(uint64_t generation, proto::ByteView records, Offset leader_hw) {
  FiberLock guard(append_lock_);
  if (generation != generation_ || role_ != Role::follower || !log_) return Step{true, {}};
  if (!records.empty()) {
    auto headers = producer_headers(records);
    auto appended = log_->append_as_follower(records);
    if (!appended.ok()) {
      on_log_error(appended.error(), "follower append");
      return Step{false, appended.error()};
    }
    SL_ASSERT(headers && headers->size() == appended->batches.size());
    if (appended->flush_error) on_log_error(*appended->flush_error, "flush after follower append");
    for (size_t i = 0; i < headers->size(); ++i) {
      producers_.record((*headers)[i], appended->batches[i].base_offset, appended->batches[i].last_offset);
    }
    emit_appended(appended->batches, *headers);
  }
  apply_hw_locked(leader_hw);
  return {};
}

void Partition::apply_hw_locked(Offset leader_hw) {
  const Offset target = std::min(leader_hw, log_end());
  if (target.value() < 0 || (target == log_->high_watermark() && hw_announced_)) return;
  // The first HW a follower applies in its role is announced even when it equals the recovered one:
  // from here on this replica claims the prefix below it as committed, and checkers compare it.
  hw_announced_ = true;
  log_->update_high_watermark(target);
  emit_hw(nullptr);
  notify_changed();
}

Partition::Step Partition::truncate_to(uint64_t generation, Offset offset, std::string_view reason) {
  FiberLock guard(append_lock_);
  if (generation != generation_ || role_ != Role::follower || !log_) return Step{true, {}};
  return Step{false, truncate_locked(offset, reason)};
}

storage::Status Partition::truncate_locked(Offset offset, std::string_view reason) {
  const Offset from = log_end();
  if (offset >= from) return {};
  auto cut = log_->truncate_to(offset);
  if (!cut.ok()) {
    on_log_error(cut.error(), "truncate");
    return cut.error();
  }
  (void)rebuild_producer_state();
  env_.emit("replica.truncate", {{"topic", key_.topic}, {"partition", key_.partition}, {"from", from.value()},
                                 {"to", log_end().value()}, {"reason", reason}, {"hw", high_watermark().value()}});
  notify_changed();
  return {};
}

Partition::Step Partition::truncate_fully_and_start_at(uint64_t generation, Offset offset, std::string_view reason) {
  FiberLock guard(append_lock_);
  if (generation != generation_ || role_ != Role::follower || !log_) return Step{true, {}};
  const Offset from = log_end();
  auto cut = log_->truncate_fully_and_start_at(offset);
  if (!cut.ok()) {
    on_log_error(cut.error(), "truncate fully");
    return Step{false, cut.error()};
  }
  producers_.clear();
  env_.emit("replica.truncate", {{"topic", key_.topic}, {"partition", key_.partition}, {"from", from.value()},
                                 {"to", log_end().value()}, {"reason", reason}, {"hw", high_watermark().value()},
                                 {"restart_at", offset.value()}});
  notify_changed();
  return {};
}

// ---- both -----------------------------------------------------------------------------------

storage::Status Partition::checkpoint_hw() {
  if (!log_) return {};
  storage::Status st = log_->checkpoint_high_watermark();
  if (!st.ok()) on_log_error(st.error(), "checkpoint high watermark");
  return st;
}

storage::Status Partition::flush() {
  if (!log_) return {};
  std::shared_ptr<storage::Log> log = log_;
  auto flushed = log->flush();
  if (!flushed.ok()) {
    on_log_error(flushed.error(), "flush");
    return flushed.error();
  }
  return checkpoint_hw();
}

storage::Status Partition::maybe_flush() {
  if (!log_) return {};
  std::shared_ptr<storage::Log> log = log_;
  auto flushed = log->maybe_flush();
  if (!flushed.ok()) {
    on_log_error(flushed.error(), "flush");
    return flushed.error();
  }
  return {};
}

// ---- events ---------------------------------------------------------------------------------

void Partition::emit_appended(const std::vector<storage::BatchInfo>& batches, const std::vector<ProducerBatchHeader>& producers) {
  for (size_t i = 0; i < batches.size(); ++i) {
    const storage::BatchInfo& b = batches[i];
    env_.emit("replica.append", {{"topic", key_.topic}, {"partition", key_.partition}, {"first_offset", b.base_offset.value()},
                                 {"last_offset", b.last_offset.value()}, {"leader_epoch", b.epoch.value()}, {"crc", b.crc},
                                 {"role", to_string(role_)}, {"producer_id", producers[i].producer_id.value()},
                                 {"base_sequence", producers[i].first_sequence.value()}});
  }
}

void Partition::emit_hw(const HwCandidate* counted) {
  env_.emit("replica.hw", {{"topic", key_.topic}, {"partition", key_.partition}, {"hw", high_watermark().value()},
                           {"log_end", log_end().value()}, {"role", to_string(role_)}, {"leader_epoch", leader_epoch_.value()},
                           {"isr", counted ? ids_text(counted->counted) : std::string()},
                           {"isr_epochs", counted ? epochs_text(counted->counted_epochs) : std::string()}});
}

void Partition::emit_isr() {
  if (!leader_state_) return;
  const auto& pending = leader_state_->pending();
  env_.emit("replica.isr", {{"topic", key_.topic}, {"partition", key_.partition}, {"isr", ids_text(leader_state_->isr())},
                            {"pending", pending ? ids_text(pending->proposed) : std::string()},
                            {"partition_epoch", leader_state_->partition_epoch().value()},
                            {"leader_epoch", leader_epoch_.value()}});
}

}  // namespace seedlog::broker::replication
