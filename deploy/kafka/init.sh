#!/usr/bin/env bash
# kafka-init (compose's one-shot container; also run by tests/integration/test_kafka_acls.py on a
# local broker): the topics, kept forever, and each service's principal with its ACLs.
#
# Environment: HUIYIN_TOPIC_PREFIX, HUIYIN_PARTITIONS, HUIYIN_REPLICATION_FACTOR,
# HUIYIN_MIN_INSYNC_REPLICAS, KAFKA_SERVER (kafka:9092), KAFKA_BIN (/opt/kafka/bin),
# HUIYIN_KAFKA_ADMIN_PASSWORD (the broker's `admin`, PLAIN), and one
# HUIYIN_KAFKA_PASSWORD_<SERVICE> per service (its SCRAM-SHA-512 password).
#
# Who may do what (an event type's owner is checked again by every consumer):
#   every service     reads the facts topic and its own retry topic, in its own group;
#                     writes the dead-letter topic; describes the platform's topics
#   intake, routing, supervision   also write the facts topic (they produce events)
#   reporting, notify, console     write no fact
set -euo pipefail

prefix="${HUIYIN_TOPIC_PREFIX:-}"
server="${KAFKA_SERVER:-kafka:9092}"
bin="${KAFKA_BIN:-/opt/kafka/bin}"
partitions="${HUIYIN_PARTITIONS:-12}"
replicas="${HUIYIN_REPLICATION_FACTOR:-1}"
min_isr="${HUIYIN_MIN_INSYNC_REPLICAS:-1}"
consumers=(intake routing supervision reporting notify)
producers=(intake routing supervision)
facts="${prefix}huiyin.issues.v1"
dead_letters="${prefix}huiyin.issues.dlq.v1"

admin="$(mktemp)"
trap 'rm -f "$admin"' EXIT
printf '%s\n' "security.protocol=SASL_PLAINTEXT" "sasl.mechanism=PLAIN" \
  "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"${HUIYIN_KAFKA_ADMIN_PASSWORD:?}\";" \
  >"$admin"
as_admin=(--bootstrap-server "$server" --command-config "$admin")

# the facts, dead-letter and per-service retry topics, kept forever; an existing topic with a
# finite retention is corrected (the services check the same at start)
kept="retention.ms=-1,retention.bytes=-1,min.insync.replicas=$min_isr"
topics=("$facts" "$dead_letters")
for service in "${consumers[@]}"; do topics+=("${prefix}huiyin.issues.retry.$service.v1"); done
for topic in "${topics[@]}"; do
  "$bin/kafka-topics.sh" "${as_admin[@]}" --create --if-not-exists --topic "$topic" \
    --partitions "$partitions" --replication-factor "$replicas" \
    --config retention.ms=-1 --config retention.bytes=-1 --config min.insync.replicas="$min_isr"
  "$bin/kafka-configs.sh" "${as_admin[@]}" --alter --entity-type topics --entity-name "$topic" \
    --add-config "$kept" >/dev/null
done

acl() { "$bin/kafka-acls.sh" "${as_admin[@]}" --add --allow-principal "User:$1" "${@:2}" >/dev/null; }

for service in "${consumers[@]}"; do
  var="HUIYIN_KAFKA_PASSWORD_${service^^}"
  password="${!var:?set $var}"
  "$bin/kafka-configs.sh" "${as_admin[@]}" --alter --entity-type users --entity-name "$service" \
    --add-config "SCRAM-SHA-512=[password=$password]" >/dev/null
  acl "$service" --operation Describe --operation DescribeConfigs \
    --topic "${prefix}huiyin.issues." --resource-pattern-type prefixed
  acl "$service" --operation Read --topic "$facts"
  acl "$service" --operation Read --topic "${prefix}huiyin.issues.retry.$service.v1"
  acl "$service" --operation Write --topic "$dead_letters"
  acl "$service" --operation Read --group "${prefix}huiyin-$service"
  acl "$service" --operation IdempotentWrite --cluster
  echo "kafka-init: principal $service, its topics and group"
done
for service in "${producers[@]}"; do
  acl "$service" --operation Write --topic "$facts"
  echo "kafka-init: $service may write $facts"
done
