// Tests of the simulated disk (sim/disk.hpp): the file API, which names and contents survive a
// power loss in every PowerLossMode (checked against a reference model), each fault of the fault
// model, latency, option validation, and the disk as part of a node of the World.
#include "sim/disk.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "sim/world.hpp"

namespace seedlog::sim {
namespace {

using namespace literals;

// --- helpers -------------------------------------------------------------------------------------

// n bytes that differ from their neighbours and from zero fill at most positions.
Bytes pattern(size_t n, uint8_t first) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(first + i);
  return b;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

DiskOptions small_sectors() {
  DiskOptions o;
  o.sector_size_bytes = 64;
  return o;
}

File open_file(Disk& disk, std::string_view path, OpenFlags flags = {.create = true}) {
  Result<File> r = disk.open(path, flags);
  if (!r.ok()) {
    ADD_FAILURE() << "open " << path << ": " << to_string(r.error());
    return File();
  }
  return r.value();
}

Bytes read_all(const File& f) {
  Result<Bytes> r = f.read(0, f.size() + 16);
  EXPECT_TRUE(r.ok()) << to_string(r.error());
  return r.ok() ? r.value() : Bytes();
}

Bytes contents(Disk& disk, std::string_view path) { return read_all(open_file(disk, path, {})); }

size_t differing_bits(const Bytes& a, const Bytes& b) {
  EXPECT_EQ(a.size(), b.size());
  size_t bits = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) bits += std::popcount(static_cast<uint8_t>(a[i] ^ b[i]));
  return bits;
}

// --- files -----------------------------------------------------------------------------------------

TEST(Disk, OpenWithoutCreateOfMissingFileFailsNotFound) {
  Disk disk(nullptr, Rng(1), {});
  Result<File> f = disk.open("missing");
  EXPECT_EQ(f.error(), Errc::not_found);
  EXPECT_FALSE(disk.exists("missing"));
}

TEST(Disk, OpenWithCreateMakesEmptyFileThatExists) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "a");
  EXPECT_TRUE(f.valid());
  EXPECT_EQ(f.size(), 0u);
  EXPECT_TRUE(disk.exists("a"));
  EXPECT_EQ(disk.file_size("a").value(), 0u);
}

TEST(Disk, ExclusiveCreateOfExistingFileFailsAlreadyExistsAndKeepsContents) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.append(to_bytes("keep")).ok());
  Result<File> again = disk.open("a", {.create = true, .exclusive = true});
  EXPECT_EQ(again.error(), Errc::already_exists);
  EXPECT_EQ(as_string(contents(disk, "a")), "keep");
  // Without exclusive, create opens the existing file.
  EXPECT_EQ(as_string(read_all(open_file(disk, "a", {.create = true}))), "keep");
}

TEST(Disk, OpenWithTruncateEmptiesExistingFile) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.append(to_bytes("old contents")).ok());
  File g = open_file(disk, "a", {.truncate = true});
  EXPECT_EQ(g.size(), 0u);
  EXPECT_EQ(f.size(), 0u);  // the same inode
  EXPECT_EQ(disk.used_bytes(), 0u);
}

TEST(Disk, OpenOfEmptyPathOrDirectoryPathIsInvalid) {
  Disk disk(nullptr, Rng(1), {});
  EXPECT_EQ(disk.open("", {.create = true}).error(), Errc::invalid_argument);
  EXPECT_EQ(disk.open("dir/", {.create = true}).error(), Errc::invalid_argument);
}

TEST(Disk, WriteThenReadReturnsTheBytesAndReadIsShortAtEndOfFile) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.write(0, to_bytes("hello world")).ok());
  EXPECT_EQ(as_string(f.read(6, 5).value()), "world");
  EXPECT_EQ(as_string(f.read(6, 100).value()), "world");
  EXPECT_TRUE(f.read(11, 10).value().empty());
  EXPECT_EQ(f.size(), 11u);
}

TEST(Disk, AppendAddsAtTheEnd) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.append(to_bytes("abc")).ok());
  ASSERT_TRUE(f.append(to_bytes("def")).ok());
  EXPECT_EQ(as_string(read_all(f)), "abcdef");
}

TEST(Disk, OverwriteInTheMiddleChangesOnlyThoseBytes) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.write(0, to_bytes("aaaaaaaa")).ok());
  ASSERT_TRUE(f.write(2, to_bytes("XY")).ok());
  EXPECT_EQ(as_string(read_all(f)), "aaXYaaaa");
}

TEST(Disk, WriteBeyondEndZeroFillsTheGap) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.write(0, to_bytes("ab")).ok());
  ASSERT_TRUE(f.write(6, to_bytes("cd")).ok());
  EXPECT_EQ(read_all(f), (Bytes{'a', 'b', 0, 0, 0, 0, 'c', 'd'}));
  EXPECT_EQ(disk.used_bytes(), 8u);
}

TEST(Disk, EmptyWriteBeyondEndDoesNotExtendTheFile) {
  // POSIX: a zero-byte write changes nothing. The cached size must also stay equal to what an
  // fsync makes durable, or a synced file would shrink on power loss.
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.write(0, to_bytes("ab")).ok());
  ASSERT_TRUE(f.write(100, Bytes()).ok());
  EXPECT_EQ(f.size(), 2u);
  ASSERT_TRUE(f.sync().ok());
  ASSERT_TRUE(disk.sync_dir("").ok());
  disk.power_loss(PowerLossMode::lose_unsynced);
  EXPECT_EQ(as_string(contents(disk, "a")), "ab");
}

TEST(Disk, WriteWhoseEndWouldPassTwoToTheSixtyFourIsInvalid) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "a");
  EXPECT_EQ(f.write(UINT64_MAX - 1, to_bytes("abc")).code(), Errc::invalid_argument);
  EXPECT_EQ(f.size(), 0u);
  EXPECT_EQ(disk.unsynced_bytes(), 0u);
}

TEST(Disk, TruncateShrinksAndExtendsWithZeros) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.append(to_bytes("abcdef")).ok());
  ASSERT_TRUE(f.truncate(2).ok());
  EXPECT_EQ(as_string(read_all(f)), "ab");
  ASSERT_TRUE(f.truncate(5).ok());
  EXPECT_EQ(read_all(f), (Bytes{'a', 'b', 0, 0, 0}));
  EXPECT_EQ(disk.used_bytes(), 5u);
}

TEST(Disk, ReadBeyondEndOfFileIsInvalidArgument) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.append(to_bytes("ab")).ok());
  EXPECT_EQ(f.read(3, 1).error(), Errc::invalid_argument);
}

TEST(Disk, OperationsOnADefaultFileHandleAreInvalid) {
  File f;
  EXPECT_FALSE(f.valid());
  EXPECT_EQ(f.read(0, 1).error(), Errc::invalid_argument);
  EXPECT_EQ(f.write(0, to_bytes("x")).code(), Errc::invalid_argument);
  EXPECT_EQ(f.append(to_bytes("x")).code(), Errc::invalid_argument);
  EXPECT_EQ(f.truncate(0).code(), Errc::invalid_argument);
  EXPECT_EQ(f.sync().code(), Errc::invalid_argument);
}

// --- names -----------------------------------------------------------------------------------------

TEST(Disk, RenameReplacesTheTargetAtomically) {
  Disk disk(nullptr, Rng(1), {});
  File old_target = open_file(disk, "dir/target");
  ASSERT_TRUE(old_target.append(to_bytes("old")).ok());
  File source = open_file(disk, "dir/tmp");
  ASSERT_TRUE(source.append(to_bytes("new")).ok());
  ASSERT_TRUE(disk.rename("dir/tmp", "dir/target").ok());
  EXPECT_FALSE(disk.exists("dir/tmp"));
  EXPECT_EQ(as_string(contents(disk, "dir/target")), "new");
  EXPECT_EQ(disk.list("dir"), std::vector<std::string>{"target"});
  // The handle follows its inode to the new name.
  ASSERT_TRUE(source.append(to_bytes("er")).ok());
  EXPECT_EQ(as_string(contents(disk, "dir/target")), "newer");
  EXPECT_EQ(disk.used_bytes(), 8u);  // "newer" plus "old", whose name is gone but not yet durably
}

TEST(Disk, RenameOfMissingFileFailsNotFound) {
  Disk disk(nullptr, Rng(1), {});
  EXPECT_EQ(disk.rename("nope", "x").code(), Errc::not_found);
  EXPECT_FALSE(disk.exists("x"));
}

TEST(Disk, RenameToItselfChangesNothing) {
  Disk disk(nullptr, Rng(1), {});
  ASSERT_TRUE(open_file(disk, "a").append(to_bytes("x")).ok());
  EXPECT_TRUE(disk.rename("a", "a").ok());
  EXPECT_EQ(as_string(contents(disk, "a")), "x");
}

TEST(Disk, RemoveDeletesTheNameAndASecondRemoveFailsNotFound) {
  Disk disk(nullptr, Rng(1), {});
  ASSERT_TRUE(open_file(disk, "a").append(to_bytes("x")).ok());
  ASSERT_TRUE(disk.remove("a").ok());
  EXPECT_FALSE(disk.exists("a"));
  EXPECT_EQ(disk.open("a").error(), Errc::not_found);
  EXPECT_EQ(disk.file_size("a").error(), Errc::not_found);
  EXPECT_EQ(disk.remove("a").code(), Errc::not_found);
}

TEST(Disk, HandleOfARemovedFileFailsNotFoundOnceNoNameRefersToIt) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.append(to_bytes("x")).ok());
  ASSERT_TRUE(disk.remove("a").ok());
  ASSERT_TRUE(disk.sync_dir("").ok());  // neither the cached nor the durable namespace names it
  EXPECT_EQ(f.append(to_bytes("y")).code(), Errc::not_found);
  EXPECT_EQ(f.read(0, 1).error(), Errc::not_found);
  EXPECT_EQ(disk.used_bytes(), 0u);
}

TEST(Disk, ListReturnsSortedNamesDirectlyInTheDirectory) {
  Disk disk(nullptr, Rng(1), {});
  for (const char* path : {"top2", "top1", "d/zeta", "d/alpha", "d/sub/deep", "dx/other", "d/mid"}) {
    open_file(disk, path);
  }
  EXPECT_EQ(disk.list("d"), (std::vector<std::string>{"alpha", "mid", "zeta"}));
  EXPECT_EQ(disk.list(""), (std::vector<std::string>{"top1", "top2"}));
  EXPECT_EQ(disk.list("d/sub"), std::vector<std::string>{"deep"});
  EXPECT_TRUE(disk.list("nothing").empty());
}

// --- durability of names and contents ------------------------------------------------------------

TEST(Disk, FsyncedFileWhoseDirectoryWasNotSyncedVanishesOnPowerLoss) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "d/new");
  ASSERT_TRUE(f.append(to_bytes("data")).ok());
  ASSERT_TRUE(f.sync().ok());
  disk.power_loss(PowerLossMode::lose_unsynced);
  EXPECT_FALSE(disk.exists("d/new"));
  EXPECT_TRUE(disk.list("d").empty());
  EXPECT_EQ(f.read(0, 4).error(), Errc::not_found);
}

TEST(Disk, SyncDirMakesTheNameDurableAndFsyncTheContents) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "d/new");
  ASSERT_TRUE(f.append(to_bytes("data")).ok());
  ASSERT_TRUE(disk.sync_dir("d").ok());
  EXPECT_EQ(disk.durable_contents("d/new"), std::optional<Bytes>(Bytes()));
  ASSERT_TRUE(f.sync().ok());
  EXPECT_EQ(disk.durable_contents("d/new"), std::optional<Bytes>(to_bytes("data")));
  ASSERT_TRUE(f.append(to_bytes("more")).ok());
  disk.power_loss(PowerLossMode::lose_unsynced);
  EXPECT_EQ(as_string(contents(disk, "d/new")), "data");
}

TEST(Disk, SyncOfAnotherDirectoryDoesNotCommitLaterNames) {
  Disk disk(nullptr, Rng(1), {});
  open_file(disk, "a/one");
  open_file(disk, "b/two");
  open_file(disk, "a/three");
  // Ordered journal: syncing "b" commits everything up to its last entry, so a/one too.
  ASSERT_TRUE(disk.sync_dir("b").ok());
  disk.power_loss(PowerLossMode::lose_unsynced);
  EXPECT_EQ(disk.list("a"), std::vector<std::string>{"one"});
  EXPECT_EQ(disk.list("b"), std::vector<std::string>{"two"});
}

TEST(Disk, UnsyncedRenameIsUndoneByPowerLossAndSyncedRenameIsKept) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "d/tmp");
  ASSERT_TRUE(f.append(to_bytes("v1")).ok());
  ASSERT_TRUE(f.sync().ok());
  ASSERT_TRUE(disk.sync_dir("d").ok());
  ASSERT_TRUE(disk.rename("d/tmp", "d/final").ok());
  disk.power_loss(PowerLossMode::lose_unsynced);
  EXPECT_EQ(disk.list("d"), std::vector<std::string>{"tmp"});
  ASSERT_TRUE(disk.rename("d/tmp", "d/final").ok());
  ASSERT_TRUE(disk.sync_dir("d").ok());
  disk.power_loss(PowerLossMode::lose_unsynced);
  EXPECT_EQ(disk.list("d"), std::vector<std::string>{"final"});
  EXPECT_EQ(as_string(contents(disk, "d/final")), "v1");
}

TEST(Disk, RenameAcrossDirectoriesIsOneTransactionForPowerLoss) {
  // Whatever prefix of the journal survives, the file is under exactly one of its two names.
  for (uint64_t seed = 0; seed < 64; ++seed) {
    Disk disk(nullptr, Rng(seed), {});
    ASSERT_TRUE(open_file(disk, "a/f").append(to_bytes("x")).ok());
    ASSERT_TRUE(open_file(disk, "a/f").sync().ok());
    ASSERT_TRUE(disk.sync_dir("a").ok());
    ASSERT_TRUE(disk.rename("a/f", "b/f").ok());
    disk.power_loss(PowerLossMode::keep_prefix);
    EXPECT_NE(disk.exists("a/f"), disk.exists("b/f")) << "seed " << seed;
  }
}

TEST(Disk, FsyncErrorDropsTheWritesFromThePlatterButReadsStillSeeThem) {
  DiskOptions options;
  options.fsync_error = Ratio::one();
  Disk disk(nullptr, Rng(1), options);
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.append(to_bytes("durable")).ok());
  options.fsync_error = Ratio::zero();
  disk.set_options(options);
  ASSERT_TRUE(f.sync().ok());
  ASSERT_TRUE(disk.sync_dir("").ok());

  options.fsync_error = Ratio::one();
  disk.set_options(options);
  ASSERT_TRUE(f.append(to_bytes("-dropped")).ok());
  EXPECT_EQ(f.sync().code(), Errc::io_error);
  EXPECT_EQ(as_string(read_all(f)), "durable-dropped");
  EXPECT_EQ(disk.unsynced_bytes(), 0u);

  // The next fsync succeeds but cannot bring the dropped pages back to the platter.
  options.fsync_error = Ratio::zero();
  disk.set_options(options);
  EXPECT_TRUE(f.sync().ok());
  EXPECT_EQ(disk.durable_contents("a"), std::optional<Bytes>(to_bytes("durable")));
  EXPECT_EQ(as_string(read_all(f)), "durable-dropped");
  disk.power_loss(PowerLossMode::keep_prefix);
  EXPECT_EQ(as_string(contents(disk, "a")), "durable");
}

TEST(Disk, FsyncWithNothingToSyncNeverFails) {
  DiskOptions options;
  options.fsync_error = Ratio::one();
  Disk disk(nullptr, Rng(1), options);
  File f = open_file(disk, "a");
  EXPECT_TRUE(f.sync().ok());
  EXPECT_EQ(disk.fsyncs(), 1u);
}

TEST(Disk, WipeForgetsEverything) {
  Disk disk(nullptr, Rng(1), {});
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.append(to_bytes("x")).ok());
  ASSERT_TRUE(f.sync().ok());
  ASSERT_TRUE(disk.sync_dir("").ok());
  disk.wipe();
  EXPECT_FALSE(disk.exists("a"));
  EXPECT_EQ(disk.used_bytes(), 0u);
  EXPECT_EQ(f.append(to_bytes("y")).code(), Errc::not_found);
}

// --- power loss modes, one by one ------------------------------------------------------------------

// A durable "base" file then two unsynced writes of three 64-byte sectors each, at offsets 0 and 64.
struct TwoWrites {
  static constexpr uint64_t kSs = 64;
  Bytes base = pattern(4 * kSs, 1);
  Bytes w1 = Bytes(3 * kSs, 0xAA);
  Bytes w2 = Bytes(3 * kSs, 0xBB);
  Bytes prefix(int writes) const {
    Bytes out = base;
    if (writes >= 1) std::copy(w1.begin(), w1.end(), out.begin());
    if (writes >= 2) std::copy(w2.begin(), w2.end(), out.begin() + kSs);
    return out;
  }
  Bytes run(uint64_t seed, PowerLossMode mode) const {
    Disk disk(nullptr, Rng(seed), small_sectors());
    File f = open_file(disk, "f");
    EXPECT_TRUE(f.write(0, base).ok());
    EXPECT_TRUE(f.sync().ok());
    EXPECT_TRUE(disk.sync_dir("").ok());
    EXPECT_TRUE(f.write(0, w1).ok());
    EXPECT_TRUE(f.write(kSs, w2).ok());
    disk.power_loss(mode);
    return contents(disk, "f");
  }
};

TEST(Disk, LoseUnsyncedKeepsExactlyTheDurableImage) {
  TwoWrites t;
  for (uint64_t seed = 0; seed < 20; ++seed) EXPECT_EQ(t.run(seed, PowerLossMode::lose_unsynced), t.prefix(0));
}

TEST(Disk, KeepPrefixKeepsSomeWholePrefixOfTheWritesAndEachPrefixHappens) {
  TwoWrites t;
  std::set<int> seen;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    const Bytes got = t.run(seed, PowerLossMode::keep_prefix);
    int which = -1;
    for (int k = 0; k <= 2; ++k) {
      if (got == t.prefix(k)) which = k;
    }
    ASSERT_NE(which, -1) << "seed " << seed;
    seen.insert(which);
  }
  EXPECT_EQ(seen, (std::set<int>{0, 1, 2}));
}

TEST(Disk, TornKeepsAPrefixPlusLeadingSectorsOfTheNextWriteAndTearsSometimes) {
  TwoWrites t;
  bool torn_seen = false;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    const Bytes got = t.run(seed, PowerLossMode::torn);
    bool allowed = false;
    for (int k = 0; k <= 2 && !allowed; ++k) {
      if (got == t.prefix(k)) allowed = true;
      if (k == 2) break;
      // The next write torn after 1 or 2 of its 3 sectors.
      const Bytes& w = k == 0 ? t.w1 : t.w2;
      const uint64_t at = k == 0 ? 0 : TwoWrites::kSs;
      for (uint64_t sectors = 1; sectors < 3; ++sectors) {
        Bytes torn = t.prefix(k);
        std::copy(w.begin(), w.begin() + static_cast<ptrdiff_t>(sectors * TwoWrites::kSs),
                  torn.begin() + static_cast<ptrdiff_t>(at));
        if (got == torn) allowed = torn_seen = true;
      }
    }
    EXPECT_TRUE(allowed) << "seed " << seed;
  }
  EXPECT_TRUE(torn_seen);
}

TEST(Disk, ReorderPersistsEachDirtySectorIndependentlyAndOutOfOrder) {
  TwoWrites t;
  constexpr uint64_t kSs = TwoWrites::kSs;
  bool out_of_order = false;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    const Bytes got = t.run(seed, PowerLossMode::reorder);
    ASSERT_EQ(got.size(), t.base.size());
    std::vector<Bytes> sectors;
    for (uint64_t s = 0; s < 4; ++s) {
      const Bytes sector(got.begin() + static_cast<ptrdiff_t>(s * kSs),
                         got.begin() + static_cast<ptrdiff_t>((s + 1) * kSs));
      const Bytes base(t.base.begin() + static_cast<ptrdiff_t>(s * kSs),
                       t.base.begin() + static_cast<ptrdiff_t>((s + 1) * kSs));
      const bool allowed = sector == base || (s <= 2 && sector == Bytes(kSs, 0xAA)) ||
                           (s >= 1 && sector == Bytes(kSs, 0xBB));
      EXPECT_TRUE(allowed) << "seed " << seed << " sector " << s;
      sectors.push_back(sector);
    }
    // The second write reached the platter somewhere while the first write's sector 0 did not.
    const bool second_seen = sectors[1][0] == 0xBB || sectors[2][0] == 0xBB || sectors[3][0] == 0xBB;
    if (sectors[0][0] != 0xAA && second_seen) out_of_order = true;
  }
  EXPECT_TRUE(out_of_order);
}

// --- the reference model -----------------------------------------------------------------------------

// A simple model of the disk's specification: cached and durable images, each inode's list of
// unsynced operations, the cached and durable namespaces and the journal of name changes.
struct Model {
  struct Op {
    uint64_t offset = 0;
    Bytes data;
    bool is_truncate = false;
  };
  struct Inode {
    Bytes cached;
    Bytes durable;
    std::vector<Op> pending;
  };
  struct NameOp {
    bool link = true;
    std::string path;
    size_t inode = 0;
    bool continues = false;
  };
  std::vector<Inode> inodes;
  std::map<std::string, size_t> names;
  std::map<std::string, size_t> durable_names;
  std::vector<NameOp> journal;

  static std::string parent(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
  }
  static void apply(Bytes& image, const Op& op) {
    if (op.is_truncate) {
      image.resize(op.offset);
      return;
    }
    if (image.size() < op.offset + op.data.size()) image.resize(op.offset + op.data.size());
    std::copy(op.data.begin(), op.data.end(), image.begin() + static_cast<ptrdiff_t>(op.offset));
  }

  size_t create(const std::string& path) {
    inodes.emplace_back();
    names[path] = inodes.size() - 1;
    journal.push_back(NameOp{true, path, inodes.size() - 1, false});
    return inodes.size() - 1;
  }
  void change(size_t id, Op op) {
    apply(inodes[id].cached, op);
    inodes[id].pending.push_back(std::move(op));
  }
  void fsync(size_t id, bool failed) {
    Inode& n = inodes[id];
    if (!failed) {
      for (const Op& op : n.pending) apply(n.durable, op);
    }
    n.pending.clear();
  }
  void sync_dir(const std::string& dir) {
    size_t end = 0;
    for (size_t i = 0; i < journal.size(); ++i) {
      if (parent(journal[i].path) == dir) end = i + 1;
    }
    while (end > 0 && end < journal.size() && journal[end - 1].continues) ++end;
    durable_names = names_after(end);
    journal.erase(journal.begin(), journal.begin() + static_cast<ptrdiff_t>(end));
  }
  void rename(const std::string& from, const std::string& to) {
    const size_t id = names.at(from);
    names.erase(from);
    names[to] = id;
    journal.push_back(NameOp{true, to, id, true});
    journal.push_back(NameOp{false, from, id, false});
  }
  void remove(const std::string& path) {
    const size_t id = names.at(path);
    names.erase(path);
    journal.push_back(NameOp{false, path, id, false});
  }
  // The durable namespace with the first k journal entries applied.
  std::map<std::string, size_t> names_after(size_t k) const {
    std::map<std::string, size_t> out = durable_names;
    for (size_t i = 0; i < k; ++i) {
      const NameOp& op = journal[i];
      if (op.link) {
        out[op.path] = op.inode;
      } else if (auto it = out.find(op.path); it != out.end() && it->second == op.inode) {
        out.erase(it);
      }
    }
    return out;
  }
  // Inodes the disk must still keep: named in either namespace or by the journal.
  std::set<size_t> live() const {
    std::set<size_t> out;
    for (const auto& [path, id] : names) out.insert(id);
    for (const auto& [path, id] : durable_names) out.insert(id);
    for (const auto& op : journal) out.insert(op.inode);
    return out;
  }
};

// The sector pieces [from, to) of a write: split at sector boundaries.
std::vector<std::pair<uint64_t, uint64_t>> pieces(const Model::Op& w, uint64_t ss) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  const uint64_t end = w.offset + w.data.size();
  for (uint64_t from = w.offset; from < end;) {
    const uint64_t to = std::min(end, (from / ss + 1) * ss);
    out.emplace_back(from, to);
    from = to;
  }
  return out;
}

void apply_piece(Bytes& image, const Model::Op& w, uint64_t from, uint64_t to) {
  if (image.size() < to) image.resize(to);
  std::copy(w.data.begin() + static_cast<ptrdiff_t>(from - w.offset),
            w.data.begin() + static_cast<ptrdiff_t>(to - w.offset), image.begin() + static_cast<ptrdiff_t>(from));
}

Bytes with_prefix(const Model::Inode& n, size_t k) {
  Bytes image = n.durable;
  for (size_t i = 0; i < k; ++i) Model::apply(image, n.pending[i]);
  return image;
}

bool keep_prefix_allows(const Model::Inode& n, const Bytes& got) {
  for (size_t k = 0; k <= n.pending.size(); ++k) {
    if (with_prefix(n, k) == got) return true;
  }
  return false;
}

bool torn_allows(const Model::Inode& n, const Bytes& got, uint64_t ss) {
  if (keep_prefix_allows(n, got)) return true;
  for (size_t k = 0; k < n.pending.size(); ++k) {
    const Model::Op& w = n.pending[k];
    if (w.is_truncate) continue;
    const auto ps = pieces(w, ss);
    Bytes image = with_prefix(n, k);
    for (size_t t = 1; t < ps.size(); ++t) {  // strictly fewer sectors than the whole write
      apply_piece(image, w, ps[t - 1].first, ps[t - 1].second);
      if (image == got) return true;
    }
  }
  return false;
}

// Reorder: truncations apply in order, and each sector piece of each write is independently kept
// or lost. Checked sector by sector: the set of contents sector s can have after each operation.
// A kept piece in a later sector extends the file, so it may zero-fill this one; the correlation
// between sectors is not tracked, which makes the check a little more permissive than the disk.
bool reorder_allows(const Model::Inode& n, const Bytes& got, uint64_t ss) {
  uint64_t extent = std::max(n.durable.size(), got.size());
  for (const auto& op : n.pending) extent = std::max<uint64_t>(extent, op.offset + op.data.size());
  auto slice = [ss](const Bytes& image, uint64_t s) {
    const uint64_t begin = std::min<uint64_t>(s * ss, image.size());
    const uint64_t end = std::min<uint64_t>(begin + ss, image.size());
    return Bytes(image.begin() + static_cast<ptrdiff_t>(begin), image.begin() + static_cast<ptrdiff_t>(end));
  };
  for (uint64_t s = 0; s * ss < extent; ++s) {
    std::set<Bytes> states{slice(n.durable, s)};
    for (const auto& op : n.pending) {
      if (op.is_truncate) {
        const uint64_t len = op.offset <= s * ss ? 0 : std::min(ss, op.offset - s * ss);
        std::set<Bytes> next;
        for (Bytes b : states) {
          b.resize(len);
          next.insert(std::move(b));
        }
        states = std::move(next);
        continue;
      }
      for (auto [from, to] : pieces(op, ss)) {
        const uint64_t ps = from / ss;
        if (ps < s) continue;
        std::set<Bytes> next = states;  // the piece lost
        for (Bytes b : states) {        // the piece kept
          if (ps == s) {
            if (b.size() < to - s * ss) b.resize(to - s * ss);
            std::copy(op.data.begin() + static_cast<ptrdiff_t>(from - op.offset),
                      op.data.begin() + static_cast<ptrdiff_t>(to - op.offset),
                      b.begin() + static_cast<ptrdiff_t>(from - s * ss));
          } else if (b.size() < ss) {
            b.resize(ss);  // a later sector was written: this one is now inside the file
          }
          next.insert(std::move(b));
        }
        states = std::move(next);
        if (states.size() > 100000) return true;  // a bound on the work; these programs reach a few dozen
      }
    }
    if (!states.count(slice(got, s))) return false;
  }
  return true;
}

bool power_loss_allows(PowerLossMode mode, const Model::Inode& n, const Bytes& got, uint64_t ss) {
  switch (mode) {
    case PowerLossMode::lose_unsynced: return got == n.durable;
    case PowerLossMode::keep_prefix: return keep_prefix_allows(n, got);
    case PowerLossMode::torn: return torn_allows(n, got, ss);
    case PowerLossMode::reorder: return reorder_allows(n, got, ss);
  }
  return false;
}

TEST(Disk, ReferenceModelReorderCheckRejectsABrokenSector) {
  // The checker itself must be able to fail: half of a sector piece is not an allowed outcome.
  Model::Inode n;
  n.durable = Bytes(128, 1);
  n.pending.push_back(Model::Op{0, Bytes(128, 2), false});
  Bytes whole = n.durable;
  std::fill(whole.begin(), whole.begin() + 64, 2);
  EXPECT_TRUE(reorder_allows(n, whole, 64));
  EXPECT_TRUE(reorder_allows(n, Bytes(128, 2), 64));
  Bytes half = n.durable;
  std::fill(half.begin(), half.begin() + 32, 2);
  EXPECT_FALSE(reorder_allows(n, half, 64));
  EXPECT_FALSE(reorder_allows(n, Bytes(64, 1), 64));  // too short
  EXPECT_FALSE(torn_allows(n, half, 64));
  EXPECT_TRUE(torn_allows(n, whole, 64));
  EXPECT_FALSE(keep_prefix_allows(n, whole));
}

struct ProgramOp {
  enum Kind : uint8_t {
    create, create_exclusive, open_truncate, write, append, truncate, fsync, sync_dir, rename, remove,
    power_loss,
  };
  Kind kind = create;
  uint8_t path = 0;
  uint8_t path2 = 0;
  uint16_t offset = 0;
  uint16_t length = 0;
  uint8_t fill = 0;
  PowerLossMode mode = PowerLossMode::lose_unsynced;
};

constexpr std::array<const char*, 5> kPaths{"a", "b", "d/c", "d/e", "f/g"};
constexpr std::array<const char*, 3> kDirs{"", "d", "f"};

void showValue(const ProgramOp& op, std::ostream& os) {
  static constexpr std::array<const char*, 11> kNames{
      "create", "create_exclusive", "open_truncate", "write", "append", "truncate",
      "fsync",  "sync_dir",         "rename",        "remove", "power_loss"};
  os << kNames[op.kind] << "(";
  if (op.kind == ProgramOp::sync_dir) {
    os << "'" << kDirs[op.path % kDirs.size()] << "'";
  } else if (op.kind == ProgramOp::power_loss) {
    os << to_string(op.mode);
  } else {
    os << kPaths[op.path % kPaths.size()];
  }
  if (op.kind == ProgramOp::rename) os << " -> " << kPaths[op.path2 % kPaths.size()];
  if (op.kind == ProgramOp::write || op.kind == ProgramOp::truncate) os << " @" << op.offset;
  if (op.kind == ProgramOp::write || op.kind == ProgramOp::append) os << " len " << op.length;
  os << ")";
}

rc::Gen<ProgramOp> program_op() {
  using K = ProgramOp::Kind;
  return rc::gen::build<ProgramOp>(
      rc::gen::set(&ProgramOp::kind,
                   rc::gen::weightedElement<K>({{4, K::create},
                                                {1, K::create_exclusive},
                                                {1, K::open_truncate},
                                                {8, K::write},
                                                {4, K::append},
                                                {2, K::truncate},
                                                {4, K::fsync},
                                                {3, K::sync_dir},
                                                {2, K::rename},
                                                {1, K::remove},
                                                {2, K::power_loss}})),
      rc::gen::set(&ProgramOp::path, rc::gen::inRange<uint8_t>(0, kPaths.size())),
      rc::gen::set(&ProgramOp::path2, rc::gen::inRange<uint8_t>(0, kPaths.size())),
      rc::gen::set(&ProgramOp::offset, rc::gen::inRange<uint16_t>(0, 400)),
      rc::gen::set(&ProgramOp::length, rc::gen::inRange<uint16_t>(0, 200)),
      rc::gen::set(&ProgramOp::fill, rc::gen::arbitrary<uint8_t>()),
      rc::gen::set(&ProgramOp::mode, rc::gen::element(PowerLossMode::lose_unsynced, PowerLossMode::keep_prefix,
                                                      PowerLossMode::torn, PowerLossMode::reorder)));
}

// Everything observable about the disk equals the model: namespaces, contents, durable images,
// space accounting.
void check_against_model(Disk& disk, const Model& m) {
  for (const char* dir : kDirs) {
    std::vector<std::string> expected;
    for (const auto& [path, id] : m.names) {
      if (Model::parent(path) == dir) expected.push_back(std::string(dir).empty() ? path : path.substr(std::string(dir).size() + 1));
    }
    RC_ASSERT(disk.list(dir) == expected);
  }
  uint64_t used = 0;
  uint64_t unsynced = 0;
  for (size_t id : m.live()) {
    used += m.inodes[id].cached.size();
    for (const auto& op : m.inodes[id].pending) unsynced += op.data.size();
  }
  RC_ASSERT(disk.used_bytes() == used);
  RC_ASSERT(disk.unsynced_bytes() == unsynced);
  RC_ASSERT(disk.inode_count() == m.live().size());  // nothing freed early, nothing kept late
  for (const char* path : kPaths) {
    auto it = m.names.find(path);
    RC_ASSERT(disk.exists(path) == (it != m.names.end()));
    if (it != m.names.end()) {
      Result<File> f = disk.open(path);
      RC_ASSERT(f.ok());
      const Bytes& want = m.inodes[it->second].cached;
      RC_ASSERT(f->size() == want.size());
      Result<Bytes> got = f->read(0, want.size() + 10);
      RC_ASSERT(got.ok());
      RC_ASSERT(got.value() == want);
    }
    auto d = m.durable_names.find(path);
    const std::optional<Bytes> durable = disk.durable_contents(path);
    RC_ASSERT(durable.has_value() == (d != m.durable_names.end()));
    if (durable) RC_ASSERT(*durable == m.inodes[d->second].durable);
  }
}

// After a power loss: some allowed prefix of the journal survived and every surviving file holds
// an allowed image. Returns the model of the disk after the loss.
Model check_power_loss(Disk& disk, const Model& m, PowerLossMode mode, uint64_t ss) {
  std::map<std::string, Bytes> observed;
  for (const char* dir : kDirs) {
    for (const std::string& name : disk.list(dir)) {
      const std::string path = std::string(dir).empty() ? name : std::string(dir) + "/" + name;
      observed[path] = contents(disk, path);
    }
  }
  std::vector<size_t> prefixes{0};
  if (mode != PowerLossMode::lose_unsynced) {
    for (size_t i = 0; i < m.journal.size(); ++i) {
      if (!m.journal[i].continues) prefixes.push_back(i + 1);
    }
  }
  for (size_t k : prefixes) {
    const auto names = m.names_after(k);
    bool ok = names.size() == observed.size();
    for (auto it = names.begin(); ok && it != names.end(); ++it) {
      auto o = observed.find(it->first);
      ok = o != observed.end() && power_loss_allows(mode, m.inodes[it->second], o->second, ss);
    }
    if (!ok) continue;
    Model after;
    for (const auto& [path, data] : observed) {
      after.inodes.push_back(Model::Inode{data, data, {}});
      after.names[path] = after.inodes.size() - 1;
    }
    after.durable_names = after.names;
    return after;
  }
  std::string seen;
  for (const auto& [path, data] : observed) seen += " " + path + "(" + std::to_string(data.size()) + " bytes)";
  RC_FAIL("after the power loss the disk holds" + (seen.empty() ? std::string(" nothing") : seen) +
          ", which matches no allowed outcome");
}

RC_GTEST_PROP(Disk, MatchesTheReferenceModelAndPowerLossKeepsOnlyWhatTheModeAllows, ()) {
  const auto program = *rc::gen::container<std::vector<ProgramOp>>(program_op());
  const bool fsync_errors = *rc::gen::arbitrary<bool>();
  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  DiskOptions options = small_sectors();
  if (fsync_errors) options.fsync_error = Ratio{1, 4};
  const uint64_t ss = options.sector_size_bytes;
  Disk disk(nullptr, Rng(seed), options);
  Model m;
  for (const ProgramOp& op : program) {
    const std::string path = kPaths[op.path % kPaths.size()];
    const auto named = m.names.find(path);
    const bool exists = named != m.names.end();
    switch (op.kind) {
      case ProgramOp::create:
      case ProgramOp::create_exclusive: {
        const bool exclusive = op.kind == ProgramOp::create_exclusive;
        Result<File> f = disk.open(path, {.create = true, .exclusive = exclusive});
        RC_ASSERT(f.ok() == !(exists && exclusive));
        if (!exists) m.create(path);
        break;
      }
      case ProgramOp::open_truncate: {
        RC_ASSERT(disk.open(path, {.create = true, .truncate = true}).ok());
        if (exists) {
          m.change(named->second, Model::Op{0, {}, true});
        } else {
          m.create(path);
        }
        break;
      }
      case ProgramOp::write:
      case ProgramOp::append: {
        Result<File> f = disk.open(path);
        RC_ASSERT(f.ok() == exists);
        if (!exists) break;
        const Bytes data = pattern(op.length, op.fill);
        const uint64_t offset = op.kind == ProgramOp::append ? m.inodes[named->second].cached.size() : op.offset;
        RC_ASSERT((op.kind == ProgramOp::append ? f->append(data) : f->write(offset, data)).ok());
        if (!data.empty()) m.change(named->second, Model::Op{offset, data, false});
        break;
      }
      case ProgramOp::truncate: {
        Result<File> f = disk.open(path);
        RC_ASSERT(f.ok() == exists);
        if (!exists) break;
        RC_ASSERT(f->truncate(op.offset).ok());
        m.change(named->second, Model::Op{op.offset, {}, true});
        break;
      }
      case ProgramOp::fsync: {
        Result<File> f = disk.open(path);
        RC_ASSERT(f.ok() == exists);
        if (!exists) break;
        const Status st = f->sync();
        const bool had_pending = !m.inodes[named->second].pending.empty();
        RC_ASSERT(st.ok() || (st.code() == Errc::io_error && fsync_errors && had_pending));
        m.fsync(named->second, !st.ok());
        break;
      }
      case ProgramOp::sync_dir: {
        const std::string dir = kDirs[op.path % kDirs.size()];
        RC_ASSERT(disk.sync_dir(dir).ok());
        m.sync_dir(dir);
        break;
      }
      case ProgramOp::rename: {
        const std::string to = kPaths[op.path2 % kPaths.size()];
        const Status st = disk.rename(path, to);
        RC_ASSERT(st.code() == (exists ? Errc::ok : Errc::not_found));
        if (exists && path != to) m.rename(path, to);
        break;
      }
      case ProgramOp::remove: {
        RC_ASSERT(disk.remove(path).code() == (exists ? Errc::ok : Errc::not_found));
        if (exists) m.remove(path);
        break;
      }
      case ProgramOp::power_loss: {
        disk.power_loss(op.mode);
        m = check_power_loss(disk, m, op.mode, ss);
        break;
      }
    }
    check_against_model(disk, m);
  }
}

// --- capacity ------------------------------------------------------------------------------------

TEST(Disk, WriteThatWouldExceedCapacityFailsNoSpaceAndChangesNothing) {
  DiskOptions options;
  options.capacity_bytes = 100;
  Disk disk(nullptr, Rng(1), options);
  File a = open_file(disk, "a");
  File b = open_file(disk, "b");
  ASSERT_TRUE(a.write(0, pattern(60, 1)).ok());
  ASSERT_TRUE(b.write(0, pattern(30, 2)).ok());
  const uint64_t unsynced = disk.unsynced_bytes();
  EXPECT_EQ(b.append(pattern(11, 3)).code(), Errc::no_space);
  EXPECT_EQ(b.write(50, pattern(1, 3)).code(), Errc::no_space);  // the hole counts too
  EXPECT_EQ(b.truncate(41).code(), Errc::no_space);
  EXPECT_EQ(read_all(b), pattern(30, 2));
  EXPECT_EQ(disk.used_bytes(), 90u);
  EXPECT_EQ(disk.unsynced_bytes(), unsynced);
  // Overwrites need no space; exactly filling the disk works.
  EXPECT_TRUE(a.write(0, pattern(60, 9)).ok());
  EXPECT_TRUE(b.append(pattern(10, 3)).ok());
  EXPECT_EQ(disk.used_bytes(), 100u);
  EXPECT_EQ(open_file(disk, "c").append(pattern(1, 1)).code(), Errc::no_space);
}

TEST(Disk, TruncatingAFileFreesSpace) {
  DiskOptions options;
  options.capacity_bytes = 100;
  Disk disk(nullptr, Rng(1), options);
  File a = open_file(disk, "a");
  ASSERT_TRUE(a.write(0, pattern(100, 1)).ok());
  ASSERT_TRUE(a.truncate(10).ok());
  EXPECT_TRUE(open_file(disk, "b").append(pattern(90, 2)).ok());
}

// --- latent sector errors ------------------------------------------------------------------------

TEST(Disk, ReadCorruptionFlipsOneBitThatStaysUntilHealOrRewrite) {
  DiskOptions options = small_sectors();
  options.read_corruption = Ratio::one();
  Disk disk(nullptr, Rng(7), options);
  File f = open_file(disk, "a");
  const Bytes data = pattern(64 * 4, 5);
  ASSERT_TRUE(f.write(0, data).ok());

  const Bytes first = f.read(64, 64).value();  // sector 1 only
  EXPECT_EQ(differing_bits(first, Bytes(data.begin() + 64, data.begin() + 128)), 1u);
  options.read_corruption = Ratio::zero();
  disk.set_options(options);
  EXPECT_EQ(f.read(64, 64).value(), first) << "a latent sector error stays";
  const Bytes whole = read_all(f);
  EXPECT_EQ(differing_bits(whole, data), 1u) << "only sector 1 is corrupt";
  EXPECT_EQ(Bytes(whole.begin(), whole.begin() + 64), Bytes(data.begin(), data.begin() + 64));

  disk.heal();
  EXPECT_EQ(read_all(f), data);

  // Corrupt it again, then rewrite part of the sector: the write clears the error.
  options.read_corruption = Ratio::one();
  disk.set_options(options);
  EXPECT_EQ(differing_bits(f.read(64, 64).value(), Bytes(data.begin() + 64, data.begin() + 128)), 1u);
  options.read_corruption = Ratio::zero();
  disk.set_options(options);
  ASSERT_TRUE(f.write(70, to_bytes("z")).ok());
  Bytes expected = data;
  expected[70] = 'z';
  EXPECT_EQ(read_all(f), expected);
}

TEST(Disk, CorruptSectorCutByTruncateDoesNotResurfaceWhenTheFileGrowsAgain) {
  DiskOptions options = small_sectors();
  options.read_corruption = Ratio::one();
  Disk disk(nullptr, Rng(3), options);
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.write(0, Bytes(64, 0xFF)).ok());
  (void)f.read(0, 64);  // sector 0 is now corrupt
  options.read_corruption = Ratio::zero();
  disk.set_options(options);
  ASSERT_TRUE(f.truncate(10).ok());
  ASSERT_TRUE(f.truncate(64).ok());
  const Bytes got = read_all(f);
  ASSERT_EQ(got.size(), 64u);
  // The truncated-away bytes read as zeros, not as the old 0xFF.
  EXPECT_EQ(Bytes(got.begin() + 10, got.end()), Bytes(54, 0));
}

TEST(Disk, CorruptSectorPastTheEndAfterPowerLossDoesNotResurfaceWhenTheFileGrowsAgain) {
  DiskOptions options = small_sectors();
  Disk disk(nullptr, Rng(3), options);
  File f = open_file(disk, "a");
  ASSERT_TRUE(f.write(0, Bytes(10, 0x11)).ok());
  ASSERT_TRUE(f.sync().ok());
  ASSERT_TRUE(disk.sync_dir("").ok());
  ASSERT_TRUE(f.write(10, Bytes(118, 0xFF)).ok());  // unsynced, up to the end of sector 1
  options.read_corruption = Ratio::one();
  disk.set_options(options);
  (void)f.read(64, 64);  // sector 1 is now corrupt
  options.read_corruption = Ratio::zero();
  disk.set_options(options);
  disk.power_loss(PowerLossMode::lose_unsynced);
  ASSERT_EQ(f.size(), 10u);
  ASSERT_TRUE(f.truncate(128).ok());
  EXPECT_EQ(read_all(f), concat(Bytes(10, 0x11), Bytes(118, 0)));
}

TEST(Disk, ReadCorruptionIsDeterministicForASeed) {
  auto run = [](uint64_t seed) {
    DiskOptions options = small_sectors();
    options.read_corruption = Ratio{1, 3};
    Disk disk(nullptr, Rng(seed), options);
    File f = open_file(disk, "a");
    EXPECT_TRUE(f.write(0, pattern(640, 0)).ok());
    Bytes all;
    for (int i = 0; i < 20; ++i) all = concat(all, f.read(static_cast<uint64_t>(i) * 32, 32).value());
    return all;
  };
  EXPECT_EQ(run(11), run(11));
  EXPECT_NE(run(11), run(12));
}

TEST(Disk, ReadIntoACallersBufferSeesWhatReadSeesIncludingCorruptionAndShortEnds) {
  // Two disks on one seed, one read through read(), the other through read_into(): the same
  // bytes, the same corrupt sectors (the same random draws), the same short read at the end.
  auto disk_with_data = [](Disk& disk) {
    File f = open_file(disk, "a");
    EXPECT_TRUE(f.write(0, pattern(640, 0)).ok());
    return f;
  };
  DiskOptions options = small_sectors();
  options.read_corruption = Ratio{1, 3};
  Disk by_vector(nullptr, Rng(11), options);
  Disk by_buffer(nullptr, Rng(11), options);
  const File a = disk_with_data(by_vector);
  const File b = disk_with_data(by_buffer);
  for (uint64_t at = 0; at < 700; at += 29) {
    Result<Bytes> expected = a.read(at, 45);
    Bytes got(45, 0xaa);
    Result<uint64_t> n = b.read_into(at, got);
    ASSERT_EQ(n.ok(), expected.ok()) << "at " << at;
    if (!n.ok()) {
      EXPECT_EQ(n.error(), expected.error());
      continue;
    }
    got.resize(*n);
    EXPECT_EQ(got, *expected) << "at " << at;
  }
  std::array<uint8_t, 4> small{};
  EXPECT_EQ(File().read_into(0, small).error(), Errc::invalid_argument);
  EXPECT_EQ(b.read_into(640, small).value(), 0u);
}

// --- misdirected writes ----------------------------------------------------------------------------

TEST(Disk, MisdirectedWriteLeavesIntendedSectorsOldAndLandsElsewhereUntilHeal) {
  DiskOptions options = small_sectors();
  Disk disk(nullptr, Rng(5), options);
  File f = open_file(disk, "a");
  const Bytes old = pattern(64 * 20, 0);
  ASSERT_TRUE(f.write(0, old).ok());
  options.misdirected_write = Ratio::one();
  disk.set_options(options);
  const Bytes fresh(64, 0xEE);
  ASSERT_TRUE(f.write(10 * 64, fresh).ok());  // aimed at sector 10
  options.misdirected_write = Ratio::zero();
  disk.set_options(options);

  const Bytes got = read_all(f);
  ASSERT_EQ(got.size(), old.size());
  EXPECT_EQ(Bytes(got.begin() + 640, got.begin() + 704), Bytes(old.begin() + 640, old.begin() + 704))
      << "the intended sector keeps its old bytes";
  int hit = -1;
  for (int s = 0; s < 20; ++s) {
    const Bytes sector(got.begin() + s * 64, got.begin() + (s + 1) * 64);
    if (sector == fresh) {
      EXPECT_EQ(hit, -1) << "one sector was hit";
      hit = s;
    } else {
      EXPECT_EQ(sector, Bytes(old.begin() + s * 64, old.begin() + (s + 1) * 64)) << "sector " << s;
    }
  }
  EXPECT_NE(hit, -1) << "the new bytes landed in another sector";
  EXPECT_NE(hit, 10);

  disk.heal();
  Bytes intended = old;
  std::copy(fresh.begin(), fresh.end(), intended.begin() + 640);
  EXPECT_EQ(read_all(f), intended);
}

TEST(Disk, MisdirectedAppendReadsAsZerosWhereItWasAimed) {
  // Appending past the end: the aimed-at sectors never received the bytes, so they read as the
  // zeros of a fresh extent, and a checksum over them fails.
  DiskOptions options = small_sectors();
  Disk disk(nullptr, Rng(9), options);
  File f = open_file(disk, "log");
  ASSERT_TRUE(f.write(0, pattern(64 * 10, 0)).ok());
  options.misdirected_write = Ratio::one();
  disk.set_options(options);
  ASSERT_TRUE(f.append(Bytes(64, 0xEE)).ok());
  options.misdirected_write = Ratio::zero();
  disk.set_options(options);
  EXPECT_EQ(f.size(), 64u * 11);
  EXPECT_EQ(f.read(640, 64).value(), Bytes(64, 0));
  disk.heal();
  EXPECT_EQ(f.read(640, 64).value(), Bytes(64, 0xEE));
}

TEST(Disk, RewritingAMisdirectedSectorClearsIt) {
  DiskOptions options = small_sectors();
  options.misdirected_write = Ratio::one();
  Disk disk(nullptr, Rng(5), options);
  File f = open_file(disk, "a");
  options.misdirected_write = Ratio::zero();
  disk.set_options(options);
  ASSERT_TRUE(f.write(0, pattern(64 * 20, 0)).ok());
  options.misdirected_write = Ratio::one();
  disk.set_options(options);
  ASSERT_TRUE(f.write(640, Bytes(64, 0xEE)).ok());
  options.misdirected_write = Ratio::zero();
  disk.set_options(options);
  Bytes expected = pattern(64 * 20, 0);
  std::fill(expected.begin(), expected.end(), 0x11);
  ASSERT_TRUE(f.write(0, expected).ok());  // every sector rewritten properly
  EXPECT_EQ(read_all(f), expected);
}

// --- options -------------------------------------------------------------------------------------

void expect_disk_config_error(const DiskOptions& o, const std::string& field) {
  try {
    o.validate();
    ADD_FAILURE() << "validate accepted a bad " << field;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(Disk, DefaultOptionsAreValidAndFaultFree) {
  DiskOptions o;
  EXPECT_NO_THROW(o.validate());
  EXPECT_TRUE(o.fsync_error.is_zero());
  EXPECT_TRUE(o.read_corruption.is_zero());
  EXPECT_TRUE(o.misdirected_write.is_zero());
  EXPECT_EQ(o.capacity_bytes, 0u);
  EXPECT_EQ(o.power_loss_mode, PowerLossMode::lose_unsynced);
}

TEST(Disk, ValidateRejectsBadValuesNamingTheField) {
  auto with = [](auto change) {
    DiskOptions o;
    change(o);
    return o;
  };
  expect_disk_config_error(with([](DiskOptions& o) { o.sector_size_bytes = 0; }), "sector_size_bytes");
  expect_disk_config_error(with([](DiskOptions& o) { o.sector_size_bytes = 32; }), "sector_size_bytes");
  expect_disk_config_error(with([](DiskOptions& o) { o.sector_size_bytes = 1000; }), "sector_size_bytes");
  expect_disk_config_error(with([](DiskOptions& o) { o.read_latency_min = Duration::ms(-1); }), "read_latency_min");
  expect_disk_config_error(with([](DiskOptions& o) { o.read_latency_min = 2_ms; o.read_latency_mean = 1_ms; }),
                           "read_latency_mean");
  expect_disk_config_error(with([](DiskOptions& o) { o.write_latency_min = Duration::ms(-1); }), "write_latency_min");
  expect_disk_config_error(with([](DiskOptions& o) { o.write_latency_mean = Duration::ms(-1); }), "write_latency_mean");
  expect_disk_config_error(with([](DiskOptions& o) { o.fsync_latency_min = Duration::ms(-1); }), "fsync_latency_min");
  expect_disk_config_error(with([](DiskOptions& o) { o.fsync_latency_min = 5_ms; }), "fsync_latency_mean");
  expect_disk_config_error(with([](DiskOptions& o) { o.fsync_error = Ratio{2, 1}; }), "fsync_error");
  expect_disk_config_error(with([](DiskOptions& o) { o.read_corruption = Ratio{0, 0}; }), "read_corruption");
  expect_disk_config_error(with([](DiskOptions& o) { o.misdirected_write = Ratio{5, 4}; }), "misdirected_write");
}

TEST(Disk, BadOptionsAreRejectedAtConstructionAndByDefaultOptionsOfTheWorld) {
  DiskOptions bad;
  bad.sector_size_bytes = 3;
  EXPECT_THROW(Disk(nullptr, Rng(1), bad), ConfigError);
  EXPECT_THROW(World(WorldOptions{.seed = 1, .disk = bad}), ConfigError);
  Disk disk(nullptr, Rng(1), small_sectors());
  EXPECT_THROW(disk.set_options(bad), ConfigError);
  EXPECT_EQ(disk.options().sector_size_bytes, 64u) << "a rejected set_options changes nothing";
}

TEST(Disk, PowerLossModeNamesRoundTrip) {
  for (auto m : {PowerLossMode::lose_unsynced, PowerLossMode::keep_prefix, PowerLossMode::torn,
                 PowerLossMode::reorder}) {
    EXPECT_EQ(parse_power_loss_mode(to_string(m)), m);
  }
  EXPECT_EQ(parse_power_loss_mode("sometimes"), std::nullopt);
}

TEST(Disk, DescribeListsEveryOption) {
  const auto described = DiskOptions{}.describe();
  for (const char* field : {"capacity_bytes", "sector_size_bytes", "read_latency_min", "read_latency_mean",
                            "write_latency_min", "write_latency_mean", "fsync_latency_min",
                            "fsync_latency_mean", "power_loss_mode", "fsync_error", "read_corruption",
                            "misdirected_write"}) {
    const bool found = std::any_of(described.begin(), described.end(),
                                   [&](const auto& kv) { return kv.first == std::string("disk.") + field; });
    EXPECT_TRUE(found) << field;
  }
}

// --- the disk in the world -----------------------------------------------------------------------

void expect_clean(World& world, const RunResult& r) {
  EXPECT_FALSE(r.crash.has_value()) << world.describe(r);
}

TEST(Disk, ConstantLatencySuspendsTheCallingTaskForExactlyThatLong) {
  DiskOptions options;
  options.read_latency_min = options.read_latency_mean = 3_ms;
  options.write_latency_min = options.write_latency_mean = 5_ms;
  options.fsync_latency_min = options.fsync_latency_mean = 7_ms;
  World world(WorldOptions{.seed = 1, .disk = options});
  std::vector<Duration> took;
  const NodeId n = world.add_node("n", [&](Env& env) {
    auto timed = [&](auto op) {
      const Instant t0 = env.now();
      op();
      took.push_back(env.now() - t0);
    };
    File f = env.disk().open("a", {.create = true}).value();
    timed([&] { EXPECT_TRUE(f.write(0, to_bytes("x")).ok()); });
    timed([&] { EXPECT_TRUE(f.read(0, 1).ok()); });
    timed([&] { EXPECT_TRUE(f.sync().ok()); });
    timed([&] { EXPECT_TRUE(env.disk().sync_dir("").ok()); });
  });
  world.start(n);
  expect_clean(world, world.run_for(1_s));
  EXPECT_EQ(took, (std::vector<Duration>{5_ms, 3_ms, 7_ms, 7_ms}));
}

TEST(Disk, ExponentialLatencyIsAtLeastTheMinimumAndAveragesTheMean) {
  DiskOptions options;
  options.write_latency_min = 1_ms;
  options.write_latency_mean = 4_ms;
  World world(WorldOptions{.seed = 2, .disk = options});
  std::vector<Duration> took;
  const NodeId n = world.add_node("n", [&](Env& env) {
    File f = env.disk().open("a", {.create = true}).value();
    for (int i = 0; i < 400; ++i) {
      const Instant t0 = world.now();
      EXPECT_TRUE(f.append(to_bytes("x")).ok());
      took.push_back(world.now() - t0);
    }
  });
  world.start(n);
  expect_clean(world, world.run_for(1000_s));
  ASSERT_EQ(took.size(), 400u);
  Duration total = Duration::zero();
  for (Duration d : took) {
    EXPECT_GE(d, 1_ms);
    total += d;
  }
  const Duration mean = total / 400;
  EXPECT_GT(mean, 3_ms);
  EXPECT_LT(mean, 5_ms);
  EXPECT_GT(std::set<Duration>(took.begin(), took.end()).size(), 300u);
}

TEST(Disk, OperationsOutsideATaskNeverBlock) {
  DiskOptions options;
  options.write_latency_min = options.write_latency_mean = 5_ms;
  World world(WorldOptions{.seed = 1, .disk = options});
  const NodeId n = world.add_node("n", [](Env&) {});
  File f = world.disk(n).open("a", {.create = true}).value();
  EXPECT_TRUE(f.append(to_bytes("x")).ok());
  EXPECT_EQ(world.now(), Instant());
}

TEST(Disk, KilledNodeKeepsItsPageCacheAndPowerLossDropsUnsyncedData) {
  World world(WorldOptions{.seed = 1});
  std::vector<std::string> seen;  // what each boot read before writing
  const NodeId n = world.add_node("n", [&](Env& env) {
    Disk& disk = env.disk();
    File synced = disk.open("synced", {.create = true}).value();
    File cached = disk.open("cached", {.create = true}).value();
    seen.push_back(std::string(as_string(read_all(synced))) + "|" + std::string(as_string(read_all(cached))));
    EXPECT_TRUE(synced.append(to_bytes("s")).ok());
    EXPECT_TRUE(synced.sync().ok());
    EXPECT_TRUE(disk.sync_dir("").ok());
    EXPECT_TRUE(cached.append(to_bytes("c")).ok());
    env.sleep(Duration::s(3600));
  });
  world.start(n);
  expect_clean(world, world.run_for(1_s));
  world.kill(n);
  world.start(n);
  expect_clean(world, world.run_for(1_s));
  world.power_loss(n, PowerLossMode::lose_unsynced);
  world.start(n);
  expect_clean(world, world.run_for(1_s));
  // Boot 2 saw the killed process's unsynced "c" in the page cache; after the power loss only the
  // synced bytes are left ("cached" survives by name, synced by directory, but empty).
  EXPECT_EQ(seen, (std::vector<std::string>{"|", "s|c", "ss|"}));
}

TEST(Disk, EachNodeHasItsOwnDisk) {
  World world(WorldOptions{.seed = 1});
  const NodeId a = world.add_node("a", [](Env&) {});
  const NodeId b = world.add_node("b", [](Env&) {});
  ASSERT_TRUE(world.disk(a).open("x", {.create = true}).ok());
  EXPECT_TRUE(world.disk(a).exists("x"));
  EXPECT_FALSE(world.disk(b).exists("x"));
}

TEST(Disk, NodeOptionsOverrideTheWorldsDiskOptions) {
  DiskOptions small;
  small.capacity_bytes = 4;
  World world(WorldOptions{.seed = 1});
  const NodeId a = world.add_node("a", [](Env&) {}, NodeOptions{.disk = small});
  const NodeId b = world.add_node("b", [](Env&) {});
  EXPECT_EQ(world.disk(a).open("x", {.create = true}).value().append(pattern(5, 0)).code(), Errc::no_space);
  EXPECT_TRUE(world.disk(b).open("x", {.create = true}).value().append(pattern(5, 0)).ok());
}

}  // namespace
}  // namespace seedlog::sim
