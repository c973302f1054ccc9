#include "broker/protocol/api.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "sim/assert.hpp"

namespace seedlog::protocol {
namespace {

// Kept in api-key order; docs/protocol.md explains each choice. The last column is the first
// flexible version of the API in Kafka's schema (it may lie outside our range: then none of our
// versions is flexible).
constexpr std::array kSupported = {
    ApiSupport{ApiKey::produce, 7, 7, 9},
    ApiSupport{ApiKey::fetch, 11, 15, 12},
    ApiSupport{ApiKey::list_offsets, 2, 2, 6},
    ApiSupport{ApiKey::metadata, 2, 7, 9},
    ApiSupport{ApiKey::offset_commit, 7, 7, 8},
    ApiSupport{ApiKey::offset_fetch, 5, 5, 6},
    ApiSupport{ApiKey::find_coordinator, 2, 2, 3},
    ApiSupport{ApiKey::join_group, 5, 5, 6},
    ApiSupport{ApiKey::heartbeat, 3, 3, 4},
    ApiSupport{ApiKey::leave_group, 1, 1, 4},
    ApiSupport{ApiKey::sync_group, 3, 3, 4},
    ApiSupport{ApiKey::api_versions, 0, 3, 3},
    ApiSupport{ApiKey::create_topics, 4, 4, 5},
    ApiSupport{ApiKey::init_producer_id, 3, 4, 2},
    ApiSupport{ApiKey::offset_for_leader_epoch, 3, 4, 4},
    ApiSupport{ApiKey::create_partitions, 1, 1, 2},
    ApiSupport{ApiKey::vote, 0, 0, 0},
    ApiSupport{ApiKey::begin_quorum_epoch, 0, 0, 1},
    ApiSupport{ApiKey::end_quorum_epoch, 0, 0, 1},
    ApiSupport{ApiKey::alter_partition, 0, 3, 0},
    ApiSupport{ApiKey::fetch_snapshot, 0, 0, 0},
    ApiSupport{ApiKey::broker_registration, 0, 0, 0},
    ApiSupport{ApiKey::broker_heartbeat, 0, 0, 0},
};

}  // namespace

std::string_view api_name(ApiKey key) {
  switch (key) {
#define SEEDLOG_X(number, ident, name) \
  case ApiKey::ident:                  \
    return name;
    SEEDLOG_KAFKA_API_KEYS(SEEDLOG_X)
#undef SEEDLOG_X
  }
  return {};
}

std::string to_string(ApiKey key) {
  std::string_view name = api_name(key);
  if (!name.empty()) return std::string(name);
  return fmt::format("ApiKey({})", static_cast<int16_t>(key));
}

std::span<const ApiSupport> supported_apis() { return kSupported; }

std::optional<ApiSupport> find_api(ApiKey key) {
  auto it = std::find_if(kSupported.begin(), kSupported.end(),
                         [key](const ApiSupport& s) { return s.api_key == key; });
  if (it == kSupported.end()) return std::nullopt;
  return *it;
}

bool is_supported(ApiKey key, int16_t version) {
  auto api = find_api(key);
  return api && version >= api->min_version && version <= api->max_version;
}

bool is_flexible(ApiKey key, int16_t version) {
  auto api = find_api(key);
  SL_ASSERT_MSG(api.has_value(), to_string(key));
  return version >= api->first_flexible_version;
}

int16_t request_header_version(ApiKey key, int16_t version) {
  return is_flexible(key, version) ? 2 : 1;
}

int16_t response_header_version(ApiKey key, int16_t version) {
  if (key == ApiKey::api_versions) return 0;
  return is_flexible(key, version) ? 1 : 0;
}

}  // namespace seedlog::protocol
