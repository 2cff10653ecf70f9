#!/usr/bin/env bash
# compose's health check of the broker: it answers an authenticated client (as `admin`).
set -euo pipefail
admin="$(mktemp)"
trap 'rm -f "$admin"' EXIT
printf '%s\n' "security.protocol=SASL_PLAINTEXT" "sasl.mechanism=PLAIN" \
  "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"${HUIYIN_KAFKA_ADMIN_PASSWORD:?}\";" \
  >"$admin"
"${KAFKA_BIN:-/opt/kafka/bin}/kafka-broker-api-versions.sh" --bootstrap-server "${KAFKA_SERVER:-kafka:9092}" \
  --command-config "$admin" >/dev/null
