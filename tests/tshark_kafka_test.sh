#!/usr/bin/env bash
# tshark must decode every frame of a simulated run on port 9092 as Kafka, with no malformed packet.
# Usage: tshark_kafka_test.sh KAFKA_PCAP_TOOL WORKDIR [--planted]
# With --planted the tool fills messages with edge values and random bytes where batches belong,
# and the test passes only if tshark's complaints are caught (the check can fail).
set -uo pipefail
tool=$1
work=$2
planted=${3:-}
mkdir -p "$work"
pcap="$work/kafka${planted:+-planted}.pcap"
summary=$("$tool" "$pcap" $planted) || { echo "kafka_pcap failed: $summary"; exit 1; }
echo "$summary"
expected=$(sed -nE 's/.*: ([0-9]+) exchanges on 9092.*/\1/p' <<< "$summary")
if ! command -v tshark >/dev/null; then echo "tshark is not installed (tools/setup.sh installs it)"; exit 1; fi
decode=(tshark -r "$pcap" -o tcp.desegment_tcp_streams:TRUE -d tcp.port==9092,kafka)
# Wireshark 4.0 misreads every SyncGroup v3 message ("Member Assignment: <MISSING>"); it does the
# same on librdkafka's real traffic in ../shared/conformance, so that one warning is its own bug.
known='!(kafka.api_key == 14 && _ws.expert.message == "Dissected message does not end at the pdu length offset")'
malformed=$("${decode[@]}" -Y "tcp.port == 9092 && (_ws.malformed || _ws.expert.severity >= \"warning\" || (tcp.len > 0 && !kafka)) && $known" 2>/dev/null | grep -v '^$')
if [ -n "$planted" ]; then
  if [ -n "$malformed" ]; then echo "planted malformed frames were caught:"; echo "$malformed" | head -5; exit 0; fi
  echo "planted malformed frames went unnoticed"; exit 1
fi
if [ -n "$malformed" ]; then
  echo "tshark reports malformed or erroneous packets on the Kafka listener:"; echo "$malformed" | head -20; exit 1
fi
requests=$("${decode[@]}" -Y 'kafka.request_frame == 0 || (kafka && tcp.dstport == 9092)' -T fields -e kafka.api_key 2>/dev/null | grep -c .)
responses=$("${decode[@]}" -Y 'kafka && tcp.srcport == 9092' -T fields -e kafka.api_key 2>/dev/null | grep -c .)
echo "tshark decoded $requests Kafka requests and $responses responses on port 9092, none malformed"
[ "$requests" -eq "$expected" ] && [ "$responses" -eq "$expected" ] || {
  echo "expected $expected requests and responses decoded as Kafka"; exit 1; }
