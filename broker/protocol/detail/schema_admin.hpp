// Field-by-field schemas of the administration messages (messages_admin.hpp). INTERNAL: see
// schema_io.hpp.
#pragma once

#include "broker/protocol/detail/schema_io.hpp"
#include "broker/protocol/messages_admin.hpp"

namespace seedlog::protocol::detail {

template <class Io>
void schema_fields(Io& io, CreateTopicsRequest::Assignment& m) {
  io.field("partition_index", m.partition_index);
  io.field("broker_ids", m.broker_ids);
}

template <class Io>
void schema_fields(Io& io, CreateTopicsRequest::Config& m) {
  io.field("name", m.name);
  io.field("value", m.value);
}

template <class Io>
void schema_fields(Io& io, CreateTopicsRequest::Topic& m) {
  io.field("name", m.name);
  io.field("num_partitions", m.num_partitions);
  io.field("replication_factor", m.replication_factor);
  io.field("assignments", m.assignments);
  io.field("configs", m.configs);
}

template <class Io>
void schema_fields(Io& io, CreateTopicsRequest& m) {
  io.field("topics", m.topics);
  io.field("timeout_ms", m.timeout_ms);
  io.field("validate_only", m.validate_only);
}

template <class Io>
void schema_fields(Io& io, CreateTopicsResponse::Topic& m) {
  io.field("name", m.name);
  io.field("error_code", m.error_code);
  io.field("error_message", m.error_message);
}

template <class Io>
void schema_fields(Io& io, CreateTopicsResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("topics", m.topics);
}

template <class Io>
void schema_fields(Io& io, CreatePartitionsRequest::Assignment& m) {
  io.field("broker_ids", m.broker_ids);
}

template <class Io>
void schema_fields(Io& io, CreatePartitionsRequest::Topic& m) {
  io.field("name", m.name);
  io.field("count", m.count);
  io.field("assignments", m.assignments);
}

template <class Io>
void schema_fields(Io& io, CreatePartitionsRequest& m) {
  io.field("topics", m.topics);
  io.field("timeout_ms", m.timeout_ms);
  io.field("validate_only", m.validate_only);
}

template <class Io>
void schema_fields(Io& io, CreatePartitionsResponse::Result& m) {
  io.field("name", m.name);
  io.field("error_code", m.error_code);
  io.field("error_message", m.error_message);
}

template <class Io>
void schema_fields(Io& io, CreatePartitionsResponse& m) {
  io.field("throttle_time_ms", m.throttle_time_ms);
  io.field("results", m.results);
}

}  // namespace seedlog::protocol::detail
