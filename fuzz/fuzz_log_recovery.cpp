// Fuzz target: arbitrary bytes as the files of a partition log directory on a fresh simulated disk
// (segments, indexes, checkpoints, temp and unknown files), then open + recover + read everything,
// then a few operations (append, flush, truncate, power loss, reopen, read again). Recovery must
// never crash, hang, over-read or allocate without bound; whatever a read returns must be whole
// batches with valid CRCs and contiguous offsets.
//
// Input: one config byte, then records until the input ends:
//   kind   u8       mod 8: 0 <base>.log, 1 <base>.index, 2 recovery-point, 3 high-watermark,
//                   4 log-start, 5 leader-epoch checkpoint, 6 a .tmp leftover, 7 an unknown file
//   base   u64 BE   only for kinds 0 and 1: the segment's base offset (masked to be >= 0)
//   length u16 BE   then that many bytes of content (fewer if the input ends)
// (at most 24 records; the rest of the input is ignored)
//
// Built with -DSEEDLOG_LOG_RECOVERY_SEEDS=1 (target log_recovery_seed_corpus, every configuration)
// the same file is a program that writes seed inputs made from real logs into a folder:
//   log_recovery_seed_corpus OUT_DIR
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "broker/storage/log.hpp"
#include "broker/storage/testing.hpp"

using namespace seedlog;
using namespace seedlog::storage;

namespace {

const std::string kDir = "p";
constexpr const char* kCheckpointNames[] = {"recovery-point-offset-checkpoint", "replication-offset-checkpoint",
                                            "log-start-offset-checkpoint", "leader-epoch-checkpoint"};

LogConfig config_for(uint8_t selector) {
  constexpr uint64_t kSegmentBytes[] = {300, 1000, 4096, 1 << 20};
  constexpr uint32_t kIndexInterval[] = {1, 64, 4096, 100000};
  return LogConfig{.segment_bytes = kSegmentBytes[selector % 4], .index_interval_bytes = kIndexInterval[(selector / 4) % 4]};
}

}  // namespace

#if !defined(SEEDLOG_LOG_RECOVERY_SEEDS)

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return at_ >= size_; }
  uint64_t take(size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | (at_ < size_ ? data_[at_++] : 0);
    return v;
  }
  sim::Bytes bytes(size_t n) {
    const size_t k = std::min(n, size_ - std::min(at_, size_));
    sim::Bytes out(data_ + at_, data_ + at_ + k);
    at_ += k;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

// At most kMaxFiles records are read: more files add nothing recovery has not seen, and the
// simulated disk's bookkeeping grows with the square of the file count.
constexpr int kMaxFiles = 24;

void write_files(sim::Disk& disk, Input& in) {
  for (int files = 0; files < kMaxFiles && !in.done(); ++files) {
    const auto kind = static_cast<uint8_t>(in.take(1) % 8);
    std::string name;
    if (kind <= 1) {
      const auto base = Offset(static_cast<int64_t>(in.take(8) & 0x7fffffffffffffffULL));
      name = segment_file_name(base, kind == 0 ? kLogSuffix : kIndexSuffix);
    } else if (kind <= 5) {
      name = kCheckpointNames[kind - 2];
    } else {
      name = kind == 6 ? "leader-epoch-checkpoint.tmp" : "stray-file";
    }
    const sim::Bytes content = in.bytes(static_cast<size_t>(in.take(2)));
    auto file = disk.open(kDir + "/" + name, {.create = true, .truncate = true});
    check(file.ok());
    check(file->append(content).ok());
  }
}

// Reads the whole log; every batch returned must be intact and continue the previous one.
void read_everything(Log& log) {
  testing::ReadAll all = testing::read_all(log, 1000);
  size_t at = 0;
  for (size_t i = 0; i < all.batches.size(); ++i) {
    const BatchInfo& b = all.batches[i];
    auto view = protocol::RecordBatchView::parse(protocol::ByteView(all.records).subspan(at, b.size_bytes));
    check(view.ok());
    check(view->crc_valid());
    check(view->base_offset() == b.base_offset);
    if (i > 0) check(b.base_offset == offset_plus(all.batches[i - 1].last_offset, 1));
    at += b.size_bytes;
  }
  check(at == all.records.size());
}

void exercise(Log& log) {
  read_everything(log);
  const LeaderEpoch epoch(log.latest_epoch().value_or(LeaderEpoch(0)).value());
  auto appended = log.append_as_leader(testing::make_batch(2, 20, 1), epoch);
  if (appended.ok()) check(appended->log_end_offset == log.log_end_offset());
  (void)log.flush();
  const int64_t span = offset_distance(log.log_start_offset(), log.log_end_offset());
  (void)log.truncate_to(offset_plus(log.log_start_offset(), span / 2));
  (void)log.end_offset_for_epoch(epoch);
  read_everything(log);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const LogConfig config = config_for(static_cast<uint8_t>(in.take(1)));
  sim::Disk disk(nullptr, sim::Rng(1), sim::DiskOptions{});
  write_files(disk, in);
  for (int round = 0; round < 2; ++round) {
    auto opened = Log::open(LogContext{&disk, [] { return sim::Instant(); }}, kDir, config);
    if (!opened.ok()) return 0;
    Log& log = **opened;
    check(log.log_start_offset() <= log.log_end_offset());
    check(log.recovery_point() <= log.log_end_offset());
    if (!log.offline()) exercise(log);
    opened->reset();
    disk.power_loss(sim::PowerLossMode::lose_unsynced);
  }
  return 0;
}

#else  // the seed writer

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace {

void put(sim::Bytes& out, uint64_t v, size_t n) {
  for (size_t i = n; i > 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * (i - 1))));
}

// The input that recreates `dir` of `disk`, file by file.
sim::Bytes encode_dir(sim::Disk& disk, uint8_t config_selector) {
  sim::Bytes out{config_selector};
  for (const std::string& name : disk.list(kDir)) {
    const sim::Bytes content = disk.open(kDir + "/" + name)->read(0, 1 << 16).value();
    if (auto base = parse_segment_file_name(name, kLogSuffix)) {
      out.push_back(0);
      put(out, static_cast<uint64_t>(base->value()), 8);
    } else if (auto indexed = parse_segment_file_name(name, kIndexSuffix)) {
      out.push_back(1);
      put(out, static_cast<uint64_t>(indexed->value()), 8);
    } else {
      uint8_t kind = 7;
      for (uint8_t k = 0; k < 4; ++k) {
        if (name == kCheckpointNames[k]) kind = static_cast<uint8_t>(k + 2);
      }
      out.push_back(kind);
    }
    put(out, std::min<size_t>(content.size(), 0xffff), 2);
    out.insert(out.end(), content.begin(), content.begin() + static_cast<ptrdiff_t>(std::min<size_t>(content.size(), 0xffff)));
  }
  return out;
}

// A log with several segments, epochs and a flushed prefix, built through the real API.
sim::Bytes sample(uint8_t config_selector, int batches, int codec, bool tear_tail) {
  sim::Disk disk(nullptr, sim::Rng(7), sim::DiskOptions{});
  auto opened = Log::open(LogContext{&disk, [] { return sim::Instant(); }}, kDir, config_for(config_selector));
  Log& log = **opened;
  for (int i = 0; i < batches; ++i) {
    auto r = log.append_as_leader(testing::make_batch(1 + i % 3, 30, static_cast<uint64_t>(i),
                                                      static_cast<protocol::Compression>(codec)),
                                  LeaderEpoch(i / 4));
    if (!r.ok()) throw std::runtime_error(r.error().to_string());
    if (i == batches / 2) (void)log.flush();
  }
  log.update_high_watermark(log.log_end_offset());
  (void)log.checkpoint_high_watermark();
  if (tear_tail) {
    auto last = disk.open(kDir + "/" + segment_file_name(log.segments().back().base_offset, kLogSuffix));
    (void)last->truncate(last->size() > 7 ? last->size() - 7 : 0);
  }
  return encode_dir(disk, config_selector);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: log_recovery_seed_corpus OUT_DIR\n");
    return 2;
  }
  const std::filesystem::path dir = std::filesystem::path(argv[1]) / "fuzz_log_recovery";
  std::filesystem::create_directories(dir);
  int files = 0;
  for (uint8_t selector : {0, 5, 10}) {
    for (int codec : {0, 1, 4}) {
      for (bool torn : {false, true}) {
        const sim::Bytes input = sample(selector, 12, codec, torn);
        std::ofstream out(dir / fmt::format("log_c{}_z{}_{}", selector, codec, torn ? "torn" : "clean"),
                          std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
        if (!out) throw std::runtime_error("cannot write a seed");
        ++files;
      }
    }
  }
  fmt::print("{} log recovery seeds in {}\n", files, dir.string());
  return 0;
}

#endif
