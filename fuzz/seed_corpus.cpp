// protocol_seed_corpus: writes fuzz seed inputs produced by our own encoders (and, when given,
// the frames of a captured session) into one folder per fuzz target:
//
//   protocol_seed_corpus OUT_DIR [FRAMES_JSONL]
//
//   OUT_DIR/fuzz_request_frame/   request frames of every supported (api, version)
//   OUT_DIR/fuzz_response_frame/  int16 api key, int16 version, then a response frame
//   OUT_DIR/fuzz_record_batch/    record batches of every codec and kind
//   OUT_DIR/fuzz_decompress/      one codec byte, then compressed bytes
//
// The input formats are the ones the targets in this folder read (see README.md). Built in every
// configuration, so a normal build can refresh a corpus for a fuzz build.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "broker/protocol/codec.hpp"
#include "broker/protocol/record_batch.hpp"
#include "broker/protocol/testing/samples.hpp"

namespace fs = std::filesystem;
using namespace seedlog::protocol;

namespace {

void write_file(const fs::path& path, seedlog::protocol::ByteView bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

Bytes response_input(ApiKey key, int16_t version, ByteView frame) {
  Bytes in(4 + frame.size());
  auto k = static_cast<uint16_t>(key);
  auto v = static_cast<uint16_t>(version);
  in[0] = static_cast<uint8_t>(k >> 8);
  in[1] = static_cast<uint8_t>(k);
  in[2] = static_cast<uint8_t>(v >> 8);
  in[3] = static_cast<uint8_t>(v);
  std::copy(frame.begin(), frame.end(), in.begin() + 4);
  return in;
}

std::string slug(ApiKey key, int16_t version) {
  return fmt::format("{}_v{}", to_string(key), version);
}

int write_samples(const fs::path& out) {
  int files = 0;
  for (uint64_t seed : {1, 2, 3}) {
    for (const Request& r : samples::sample_requests(seed)) {
      write_file(out / "fuzz_request_frame" /
                     fmt::format("{}_s{}", slug(r.header.api_key, r.header.api_version), seed),
                 encode_request(r));
      ++files;
    }
    for (const Response& r : samples::sample_responses(seed)) {
      write_file(out / "fuzz_response_frame" /
                     fmt::format("{}_s{}", slug(r.api_key(), r.api_version), seed),
                 response_input(r.api_key(), r.api_version, encode_response(r)));
      ++files;
    }
    int i = 0;
    for (const Bytes& batch : samples::sample_batches(seed)) {
      write_file(out / "fuzz_record_batch" / fmt::format("batch{}_s{}", i++, seed), batch);
      ++files;
    }
  }
  Bytes plain;
  for (const NewRecord& r : samples::sample_records(20, 50, 1)) {
    plain.insert(plain.end(), r.value->begin(), r.value->end());
  }
  for (int codec = 0; codec <= 4; ++codec) {
    Bytes packed = compress(static_cast<Compression>(codec), plain);
    Bytes in(1 + packed.size(), static_cast<uint8_t>(codec));
    std::copy(packed.begin(), packed.end(), in.begin() + 1);
    write_file(out / "fuzz_decompress" / fmt::format("codec{}", codec), in);
    ++files;
  }
  return files;
}

// Frames of a real session (frames.jsonl of shared/conformance): requests as they are,
// responses with their request's api key and version in front.
int write_captured(const fs::path& out, const std::string& frames_jsonl) {
  std::ifstream in(frames_jsonl);
  if (!in) throw std::runtime_error("cannot read " + frames_jsonl);
  int files = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    Bytes frame = from_hex(j.at("hex").get<std::string>()).value_or(Bytes{});
    auto key = static_cast<ApiKey>(j.at("api_key").get<int>());
    auto version = static_cast<int16_t>(j.at("api_version").get<int>());
    std::string name = fmt::format("captured_{}_{}", files, slug(key, version));
    if (j.at("dir") == "request") {
      write_file(out / "fuzz_request_frame" / name, frame);
    } else {
      write_file(out / "fuzz_response_frame" / name, response_input(key, version, frame));
    }
    ++files;
  }
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR [FRAMES_JSONL]\n", argv[0]);
    return 2;
  }
  try {
    fs::path out = argv[1];
    for (const char* target :
         {"fuzz_request_frame", "fuzz_response_frame", "fuzz_record_batch", "fuzz_decompress"}) {
      fs::create_directories(out / target);
    }
    int files = write_samples(out);
    if (argc == 3 && fs::exists(argv[2])) files += write_captured(out, argv[2]);
    std::printf("wrote %d seed files under %s\n", files, out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "protocol_seed_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}
