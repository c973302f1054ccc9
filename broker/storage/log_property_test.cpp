// The log against a model, under the disk's fault model (RapidCheck, operation sequences generated
// as values so failures shrink to a short sequence).
//
// Operations: leader and follower appends (random record counts, sizes and codecs), flushes, a
// flush whose fsync fails, truncations, rolls, new leader epochs, time passing, start-offset moves,
// process restarts (the page cache survives) and power losses in every PowerLossMode. After each
// reopen the recovered log is checked against the model:
//   - it is a prefix of what was appended and not truncated (byte for byte), offsets contiguous;
//   - it holds every offset below the recovery point the log had persisted (flushed data survives);
//   - a restart without power loss loses nothing at all;
//   - every batch read back has a valid CRC and the appended content (reads never expose garbage);
//   - the leader-epoch cache is consistent with it: ordered, no entry at or past the log end, and
//     each batch's epoch is the cache's epoch for its base offset.
// The same runner, with the recovery-point-without-flush defect switched on, must find a violation
// for some generated case, and never without it. A last test turns on read corruption and
// misdirected writes: recovery must cut or report, never crash or return a wrong batch.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "broker/storage/log.hpp"
#include "broker/storage/testing.hpp"

namespace seedlog::storage {
namespace {

using namespace sim::literals;

enum class OpKind : uint8_t {
  append,
  append_follower,
  flush,
  flush_fails,
  truncate,
  roll,
  new_epoch,
  advance_time,
  advance_start,
  reopen,
  power_loss,
};

std::string_view name(OpKind k) {
  switch (k) {
    case OpKind::append: return "append";
    case OpKind::append_follower: return "append_follower";
    case OpKind::flush: return "flush";
    case OpKind::flush_fails: return "flush_fails";
    case OpKind::truncate: return "truncate";
    case OpKind::roll: return "roll";
    case OpKind::new_epoch: return "new_epoch";
    case OpKind::advance_time: return "advance_time";
    case OpKind::advance_start: return "advance_start";
    case OpKind::reopen: return "reopen";
    case OpKind::power_loss: return "power_loss";
  }
  return "?";
}

struct Op {
  OpKind kind = OpKind::append;
  uint8_t records = 1;       // append: 1-5
  uint16_t value_bytes = 0;  // append: 0-299
  uint8_t codec = 0;         // append: Compression
  uint8_t param = 0;         // truncate/advance_start: where; advance_time: how long
  sim::PowerLossMode mode = sim::PowerLossMode::lose_unsynced;
};

void showValue(const Op& op, std::ostream& os) {
  os << name(op.kind);
  if (op.kind == OpKind::append || op.kind == OpKind::append_follower) {
    os << fmt::format("({} x {}B codec {})", op.records, op.value_bytes, op.codec);
  } else if (op.kind == OpKind::power_loss) {
    os << "(" << to_string(op.mode) << ")";
  } else {
    os << "(" << int{op.param} << ")";
  }
}

struct Case {
  uint32_t segment_bytes = 2000;
  uint32_t index_interval_bytes = 300;
  uint8_t flush_messages = 0;  // 0: off
  uint64_t disk_seed = 1;
  std::vector<Op> ops;
};

void showValue(const Case& c, std::ostream& os) {
  os << fmt::format("segment_bytes={} index_interval_bytes={} flush_messages={} disk_seed={} ops=[",
                    c.segment_bytes, c.index_interval_bytes, c.flush_messages, c.disk_seed);
  for (const Op& op : c.ops) {
    showValue(op, os);
    os << " ";
  }
  os << "]";
}

struct Expected {
  BatchInfo info;
  Bytes bytes;
};

// Runs one case against a model; returns the first violation, or nullopt.
class Harness {
 public:
  Harness(const Case& c, bool defect, sim::DiskOptions disk_options = {})
      : f_(config_of(c, defect), disk_options, c.disk_seed), case_(c), strict_(disk_options.read_corruption.is_zero() &&
                                                                             disk_options.misdirected_write.is_zero()) {}

  std::optional<std::string> run() {
    if (auto v = reopen(false)) return v;
    for (size_t i = 0; i < case_.ops.size(); ++i) {
      std::optional<std::string> v = step(case_.ops[i]);
      if (v) return fmt::format("op {} ({}): {}", i, name(case_.ops[i].kind), *v);
    }
    return check_contents(false);
  }

  bool recovered_truncation_seen() const { return truncations_seen_; }

 private:
  static LogConfig config_of(const Case& c, bool defect) {
    LogConfig config{.segment_bytes = c.segment_bytes, .segment_ms = 2_s, .index_interval_bytes = c.index_interval_bytes};
    if (c.flush_messages > 0) config.flush_messages = c.flush_messages;
    config.defects.recovery_point_without_flush = defect;
    return config;
  }

  Log& log() { return *f_.log; }

  std::optional<std::string> step(const Op& op) {
    switch (op.kind) {
      case OpKind::append:
      case OpKind::append_follower: return append(op);
      case OpKind::flush: return flush(false);
      case OpKind::flush_fails: return flush(true);
      case OpKind::truncate: return truncate(op.param);
      case OpKind::roll: return roll();
      case OpKind::new_epoch: return new_epoch(op.param);
      case OpKind::advance_time: return advance_time(op.param);
      case OpKind::advance_start: return advance_start(op.param);
      case OpKind::reopen: return reopen(false);
      case OpKind::power_loss: {
        f_.log.reset();
        f_.disk.power_loss(op.mode);
        return reopen(true);
      }
    }
    return std::nullopt;
  }

  // The log must claim at least what the model expects flushed; from then on its claim is what
  // the durability check holds it to. Under corruption faults the model follows the log instead.
  std::optional<std::string> adopt_recovery_point(Offset expected) {
    if (!strict_) {
      start_ = log().log_start_offset();
      end_ = log().log_end_offset();
      durable_ = log().recovery_point();
      return std::nullopt;
    }
    if (log().recovery_point() < expected) {
      return fmt::format("recovery point {} below the flushed {}", log().recovery_point(), expected);
    }
    durable_ = std::max(durable_, log().recovery_point());
    if (log().log_end_offset() != end_) return fmt::format("log end {} != model {}", log().log_end_offset(), end_);
    if (log().log_start_offset() != start_) {
      return fmt::format("log start {} != model {}", log().log_start_offset(), start_);
    }
    return std::nullopt;
  }

  std::optional<std::string> append(const Op& op) {
    const auto codec = static_cast<protocol::Compression>(op.codec % 5);
    Bytes batch = testing::make_batch(op.records, op.value_bytes, ++tag_, codec);
    Bytes expected = batch;
    protocol::set_base_offset(expected, end_);
    protocol::set_partition_leader_epoch(expected, LeaderEpoch(epoch_));
    Result<AppendResult> r = op.kind == OpKind::append ? log().append_as_leader(batch, LeaderEpoch(epoch_))
                                                       : log().append_as_follower(expected);
    if (!r.ok()) return strict_ ? std::optional(r.error().to_string()) : recover_from_error();
    if (r->flush_error && strict_) return r->flush_error->to_string();
    const BatchInfo& info = r->batches.at(0);
    if (info.base_offset != end_ || info.epoch != LeaderEpoch(epoch_) || r->batches.size() != 1) {
      return fmt::format("append assigned [{}, {}] epoch {}", info.base_offset, info.last_offset, info.epoch);
    }
    all_appended_.insert({info.base_offset.value(), expected});
    model_.push_back(Expected{info, std::move(expected)});
    end_ = offset_plus(info.last_offset, 1);
    Offset flushed(0);
    if (r->rolled) flushed = std::max(flushed, info.base_offset);  // the roll flushed what came before
    if (r->flushed) flushed = end_;
    return adopt_recovery_point(flushed);
  }

  std::optional<std::string> flush(bool fsync_fails) {
    if (fsync_fails) f_.disk.set_options(sim::DiskOptions{.fsync_error = sim::Ratio::one()});
    Result<FlushResult> r = log().flush();
    if (fsync_fails) f_.disk.set_options(disk_options_after_fault());
    if (!r.ok()) {
      if (!fsync_fails && strict_) return r.error().to_string();
      // A failed flush changes nothing: the data stays, dirty again, the recovery point stays.
      if (log().offline()) return strict_ ? std::optional<std::string>("a failed flush took the log offline")
                                          : recover_from_error();
      return adopt_recovery_point(Offset(0));
    }
    // A flush may succeed even with failing fsyncs when nothing was dirty (data that survived a
    // power loss is already on the platter).
    return adopt_recovery_point(end_);
  }

  sim::DiskOptions disk_options_after_fault() const {
    sim::DiskOptions o = f_.disk.options();
    o.fsync_error = sim::Ratio::zero();
    return o;
  }

  // The log now ends at `new_end` (a batch boundary, or a start offset inside the batch it cut).
  void cut_model(Offset new_end) {
    while (!model_.empty() && model_.back().info.last_offset >= new_end) model_.pop_back();
    end_ = new_end;
    start_ = std::min(start_, end_);
    durable_ = std::min(durable_, end_);
  }

  std::optional<std::string> truncate(uint8_t param) {
    const int64_t span = offset_distance(start_, end_) + 1;
    const Offset target = offset_plus(start_, param % span);
    Result<TruncateResult> r = log().truncate_to(target);
    if (!r.ok()) return strict_ ? std::optional(r.error().to_string()) : recover_from_error();
    if (target < end_) {
      // The whole batch holding the target goes; the end is that batch's base.
      Offset new_end = target;
      for (const Expected& e : model_) {
        if (e.info.base_offset <= target && target <= e.info.last_offset) new_end = e.info.base_offset;
      }
      cut_model(new_end);
    }
    return adopt_recovery_point(Offset(0));
  }

  std::optional<std::string> roll() {
    if (Status st = log().roll(); !st.ok()) return strict_ ? std::optional(st.error().to_string()) : recover_from_error();
    return adopt_recovery_point(end_);
  }

  std::optional<std::string> new_epoch(uint8_t param) {
    epoch_ += 1 + param % 2;
    Result<bool> r = log().assign_leader_epoch(LeaderEpoch(epoch_));
    if (!r.ok()) return strict_ ? std::optional(r.error().to_string()) : recover_from_error();
    return std::nullopt;
  }

  std::optional<std::string> advance_time(uint8_t param) {
    f_.clock.now += sim::Duration::ms(500) * (param % 8);
    return std::nullopt;
  }

  std::optional<std::string> advance_start(uint8_t param) {
    const int64_t span = offset_distance(start_, end_) + 1;
    const Offset target = offset_plus(start_, param % span);
    Result<RetentionResult> r = log().advance_log_start_offset(target);
    if (!r.ok()) return strict_ ? std::optional(r.error().to_string()) : recover_from_error();
    start_ = std::max(start_, target);
    while (!model_.empty() && model_.front().info.last_offset < start_) model_.erase(model_.begin());
    return adopt_recovery_point(Offset(0));
  }

  // Under corruption faults an operation may fail (a corrupt read during a truncation...): the
  // owner reopens the log, and the model adopts what was recovered.
  std::optional<std::string> recover_from_error() { return reopen(true); }

  std::optional<std::string> reopen(bool power_lost) {
    f_.log.reset();
    Result<std::unique_ptr<Log>> opened = f_.try_open();
    if (!opened.ok()) return fmt::format("open failed: {}", opened.error().to_string());
    f_.log = std::move(*opened);
    if (log().recovery().truncated) truncations_seen_ = true;
    return check_contents(power_lost);
  }

  std::optional<std::string> check_epochs(const std::vector<BatchInfo>& batches) {
    const LeaderEpochCache& cache = log().leader_epochs();
    if (!LeaderEpochCache::well_ordered(cache.entries())) return std::string("epoch cache out of order");
    if (cache.latest() && cache.latest()->start_offset > log().log_end_offset()) {
      return fmt::format("epoch entry at {} past the log end {}", cache.latest()->start_offset, log().log_end_offset());
    }
    for (const BatchInfo& b : batches) {
      // The first batch may start below the log start, where the cache begins.
      const Offset at = std::max(b.base_offset, log().log_start_offset());
      if (cache.epoch_for(at) != b.epoch) {
        return fmt::format("batch at {} has epoch {}, the cache says {}", b.base_offset, b.epoch,
                           cache.epoch_for(at).value_or(kNoEpoch));
      }
    }
    return std::nullopt;
  }

  // Checks the log against the model; after a power loss the log may have lost an unflushed tail.
  std::optional<std::string> check_contents(bool power_lost) {
    testing::ReadAll all = testing::read_all(log(), 700);
    if (!strict_) return check_against_history(all);
    if (all.error) return fmt::format("read failed: {}", all.error->to_string());
    if (log().log_start_offset() != start_) {
      return fmt::format("log start {} != model {}", log().log_start_offset(), start_);
    }
    if (all.batches.size() > model_.size()) return fmt::format("{} batches, model {}", all.batches.size(), model_.size());
    uint64_t at = 0;
    for (size_t i = 0; i < all.batches.size(); ++i) {
      const BatchInfo& got = all.batches[i];
      if (!(got == model_[i].info)) {
        return fmt::format("batch {}: [{}, {}] epoch {} crc {:08x}, model [{}, {}] crc {:08x}", i, got.base_offset,
                           got.last_offset, got.epoch, got.crc, model_[i].info.base_offset, model_[i].info.last_offset,
                           model_[i].info.crc);
      }
      if (!std::equal(model_[i].bytes.begin(), model_[i].bytes.end(), all.records.begin() + static_cast<ptrdiff_t>(at))) {
        return fmt::format("batch {} at offset {}: bytes differ", i, got.base_offset);
      }
      at += got.size_bytes;
    }
    const Offset recovered_end = all.batches.empty() ? start_ : offset_plus(all.batches.back().last_offset, 1);
    if (log().log_end_offset() != recovered_end) {
      return fmt::format("log end {} but batches end at {}", log().log_end_offset(), recovered_end);
    }
    if (!power_lost && all.batches.size() != model_.size()) {
      return fmt::format("a restart lost data: {} of {} batches", all.batches.size(), model_.size());
    }
    if (recovered_end < durable_) {
      return fmt::format("lost offsets below the recovery point: recovered up to {}, recovery point was {}",
                         recovered_end, durable_);
    }
    if (auto v = check_epochs(all.batches)) return v;
    model_.resize(all.batches.size());
    end_ = recovered_end;
    // The recovered recovery point may be below the one the log had in memory (a checkpoint write
    // that failed after the fsync succeeded): what was flushed stays durable all the same.
    durable_ = std::max(std::min(durable_, end_), log().recovery_point());
    return std::nullopt;
  }

  // Under corruption faults: whatever is returned must be a batch that was appended at that offset.
  std::optional<std::string> check_against_history(const testing::ReadAll& all) {
    uint64_t at = 0;
    for (const BatchInfo& b : all.batches) {
      const Bytes bytes(all.records.begin() + static_cast<ptrdiff_t>(at),
                        all.records.begin() + static_cast<ptrdiff_t>(at + b.size_bytes));
      if (!all_appended_.contains({b.base_offset.value(), bytes})) {
        std::string known;
        for (const auto& [base, appended] : all_appended_) {
          if (base == b.base_offset.value()) known += fmt::format(" {}B:{}", appended.size(), protocol::to_hex(appended));
        }
        return fmt::format("read returned a batch at {} that was never appended there: {}B:{}; appended:{}",
                           b.base_offset, bytes.size(), protocol::to_hex(bytes), known);
      }
      at += b.size_bytes;
    }
    // Adopt what the log says: its contents are no longer predictable.
    model_.clear();
    start_ = log().log_start_offset();
    end_ = log().log_end_offset();
    durable_ = log().recovery_point();
    epoch_ = std::max(epoch_, log().latest_epoch().value_or(LeaderEpoch(0)).value());
    return std::nullopt;
  }

  testing::LogFixture f_;
  Case case_;
  bool strict_;
  std::vector<Expected> model_;
  std::set<std::pair<int64_t, Bytes>> all_appended_;
  Offset start_{0};
  Offset end_{0};
  Offset durable_{0};
  int32_t epoch_ = 0;
  uint64_t tag_ = 0;
  bool truncations_seen_ = false;
};

// --- generators --------------------------------------------------------------------------------------

rc::Gen<Op> gen_op() {
  using rc::gen::inRange;
  return rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::weightedElement<OpKind>({{30, OpKind::append},
                                                                {8, OpKind::append_follower},
                                                                {10, OpKind::flush},
                                                                {3, OpKind::flush_fails},
                                                                {6, OpKind::truncate},
                                                                {5, OpKind::roll},
                                                                {5, OpKind::new_epoch},
                                                                {5, OpKind::advance_time},
                                                                {4, OpKind::advance_start},
                                                                {4, OpKind::reopen},
                                                                {10, OpKind::power_loss}})),
      rc::gen::set(&Op::records, inRange<uint8_t>(1, 6)),
      rc::gen::set(&Op::value_bytes, inRange<uint16_t>(0, 300)),
      rc::gen::set(&Op::codec, rc::gen::weightedElement<uint8_t>({{6, 0}, {1, 1}, {1, 2}, {1, 3}, {1, 4}})),
      rc::gen::set(&Op::param, rc::gen::arbitrary<uint8_t>()),
      rc::gen::set(&Op::mode, rc::gen::element(sim::PowerLossMode::lose_unsynced, sim::PowerLossMode::keep_prefix,
                                               sim::PowerLossMode::torn, sim::PowerLossMode::reorder)));
}

rc::Gen<Case> gen_case() {
  using rc::gen::inRange;
  return rc::gen::build<Case>(rc::gen::set(&Case::segment_bytes, inRange<uint32_t>(200, 5000)),
                              rc::gen::set(&Case::index_interval_bytes, inRange<uint32_t>(64, 1500)),
                              rc::gen::set(&Case::flush_messages, rc::gen::weightedElement<uint8_t>(
                                                                      {{4, 0}, {1, 1}, {1, 5}, {1, 20}})),
                              rc::gen::set(&Case::disk_seed, inRange<uint64_t>(1, 1000000)),
                              rc::gen::set(&Case::ops, rc::gen::container<std::vector<Op>>(gen_op())));
}

RC_GTEST_PROP(LogProperty, RecoveredLogIsAFlushedPrefixOfWhatWasAppended, ()) {
  const Case c = *gen_case();
  Harness h(c, false);
  const std::optional<std::string> violation = h.run();
  if (violation) RC_FAIL(*violation);
}

// A case drawn from a plain seed (no shrinking needed: the search only has to find one).
Case seeded_case(uint64_t seed) {
  sim::Rng rng(seed);
  Case c{.segment_bytes = static_cast<uint32_t>(rng.range(300, 3000)),
         .index_interval_bytes = 256,
         .disk_seed = seed};
  const OpKind kinds[] = {OpKind::append, OpKind::append, OpKind::append, OpKind::flush, OpKind::roll,
                          OpKind::truncate, OpKind::new_epoch, OpKind::power_loss, OpKind::reopen};
  const sim::PowerLossMode modes[] = {sim::PowerLossMode::lose_unsynced, sim::PowerLossMode::keep_prefix,
                                      sim::PowerLossMode::torn, sim::PowerLossMode::reorder};
  const auto count = static_cast<size_t>(rng.range(5, 40));
  for (size_t i = 0; i < count; ++i) {
    Op op;
    op.kind = kinds[rng.uniform(std::size(kinds))];
    op.records = static_cast<uint8_t>(rng.range(1, 5));
    op.value_bytes = static_cast<uint16_t>(rng.range(0, 299));
    op.param = static_cast<uint8_t>(rng.uniform(256));
    op.mode = modes[rng.uniform(std::size(modes))];
    c.ops.push_back(op);
  }
  return c;
}

TEST(LogDefect, RecoveryPointWithoutFlushLosesFlushedDataOnPowerLoss) {
  // By hand: three batches flushed, then the power fails before the page cache is written back.
  Case c;
  for (int i = 0; i < 3; ++i) c.ops.push_back(Op{.kind = OpKind::append, .records = 2, .value_bytes = 40});
  c.ops.push_back(Op{.kind = OpKind::flush});
  c.ops.push_back(Op{.kind = OpKind::power_loss, .mode = sim::PowerLossMode::lose_unsynced});
  EXPECT_FALSE(Harness(c, false).run().has_value());
  const std::optional<std::string> found = Harness(c, true).run();
  ASSERT_TRUE(found.has_value());
  EXPECT_NE(found->find("lost offsets below the recovery point"), std::string::npos) << *found;
}

TEST(LogDefect, SeedSearchFindsTheDefectAndNothingWithoutIt) {
  int found_with = 0;
  int found_without = 0;
  std::string example;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    const Case c = seeded_case(seed);
    if (auto v = Harness(c, false).run()) {
      ++found_without;
      ADD_FAILURE() << "seed " << seed << " without the defect: " << *v;
    }
    if (auto v = Harness(c, true).run()) {
      if (found_with++ == 0) example = fmt::format("seed {}: {}", seed, *v);
    }
  }
  EXPECT_EQ(found_without, 0);
  EXPECT_GT(found_with, 10) << "the recovery-point-without-flush defect went unnoticed";
  RecordProperty("found_with_defect", found_with);
  RecordProperty("example", example);
}

TEST(LogFaults, CorruptionFaultsAreCutOrReportedNeverReturnedOrCrashing) {
  int truncations = 0;
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    const Case c = seeded_case(seed);
    sim::DiskOptions faults{.sector_size_bytes = 64,
                            .read_corruption = sim::Ratio{1, 40},
                            .misdirected_write = sim::Ratio{1, 40}};
    Harness h(c, false, faults);
    const std::optional<std::string> v = h.run();
    EXPECT_FALSE(v.has_value()) << "seed " << seed << ": " << *v;
    if (h.recovered_truncation_seen()) ++truncations;
  }
  EXPECT_GT(truncations, 0) << "the faults never reached recovery: the test would not notice a broken scan";
}

}  // namespace
}  // namespace seedlog::storage
