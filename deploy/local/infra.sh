#!/usr/bin/env bash
# Real Kafka (one KRaft broker+controller) and a real MongoDB-wire server (FerretDB v1,
# SQLite storage) on loopback, without Docker. Everything lives under $HUIYIN_LOCAL_DIR
# (default: <repo>/.local). Idempotent: a second `start` is a no-op, downloads are cached.
#
#   deploy/local/infra.sh start|stop [kafka|ferretdb]   (one of the two, or both)
#   deploy/local/infra.sh status|env|clean|build        (build: fetch and build only)
#
# Ports (loopback only), configurable by environment:
#   HUIYIN_KAFKA_PORT (19092)  HUIYIN_KAFKA_CONTROLLER_PORT (19093)  HUIYIN_MONGO_PORT (27018)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
local_dir="${HUIYIN_LOCAL_DIR:-$repo/.local}"
kafka_port="${HUIYIN_KAFKA_PORT:-19092}"
controller_port="${HUIYIN_KAFKA_CONTROLLER_PORT:-19093}"
mongo_port="${HUIYIN_MONGO_PORT:-27018}"
kafka_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka-pom.xml")"
ferretdb_version="v1.24.0"

kafka_home="$local_dir/kafka-$kafka_version"
kafka_data="$local_dir/kafka-data"
ferret_home="$local_dir/ferretdb-$ferretdb_version-huiyin15"  # -huiyin15: built with the patches below
ferret_data="$local_dir/ferretdb-data"
run_dir="$local_dir/run"

say() { printf 'infra: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required ($2) but was not found on PATH"; }

alive() { [ -f "$run_dir/$1.pid" ] && kill -0 "$(cat "$run_dir/$1.pid")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- Kafka -------------------------------------------------------------------------------

kafka_fetch() {
  [ -f "$kafka_home/.complete" ] && return 0
  need java "Java 17+ runs the Kafka broker"
  need mvn "Maven fetches Kafka's jars from Maven Central"
  say "fetching Apache Kafka $kafka_version jars (once; cached in $kafka_home)"
  mkdir -p "$kafka_home/libs"
  mvn -q -B -f "$here/kafka-pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$kafka_home/libs" >"$local_dir/kafka-fetch.log" 2>&1 \
    || die "maven could not fetch Kafka's jars; see $local_dir/kafka-fetch.log"
  touch "$kafka_home/.complete"
}

kafka_config() {
  mkdir -p "$kafka_data/logs" "$kafka_data/meta"
  cat >"$kafka_data/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$kafka_data/meta
num.partitions=12
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
delete.topic.enable=true
log.retention.ms=-1
log.retention.bytes=-1
EOF
}

kafka_java() {
  # $1: main class; rest: its arguments
  local main="$1"; shift
  java -Xms256m -Xmx1g -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$here/log4j2.yaml" -Dkafka.logs.dir="$kafka_data/logs" \
    -cp "$kafka_home/libs/*" "$main" "$@"
}

kafka_ready() {
  timeout 20 java -Dlog4j2.configurationFile="$here/log4j2.yaml" -Dkafka.logs.dir="$kafka_data/logs" \
    -cp "$kafka_home/libs/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "127.0.0.1:$kafka_port" --list >/dev/null 2>&1
}

kafka_start() {
  if alive kafka; then say "kafka already running on 127.0.0.1:$kafka_port"; return 0; fi
  kafka_fetch
  kafka_config
  if [ ! -f "$kafka_data/meta/meta.properties" ]; then
    say "formatting Kafka storage (first start)"
    kafka_java kafka.tools.StorageTool format --standalone -t "huiyin-local-cluster-0001" \
      -c "$kafka_data/server.properties" >"$kafka_data/logs/format.log" 2>&1 \
      || die "formatting Kafka storage failed; see $kafka_data/logs/format.log"
  fi
  if port_open "$kafka_port"; then die "port $kafka_port is taken by another process (set HUIYIN_KAFKA_PORT)"; fi
  say "starting Kafka $kafka_version on 127.0.0.1:$kafka_port (log: $kafka_data/logs/server.log)"
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$here/log4j2.yaml" -Dkafka.logs.dir="$kafka_data/logs" \
    -cp "$kafka_home/libs/*" kafka.Kafka "$kafka_data/server.properties" \
    >"$kafka_data/logs/stdout.log" 2>&1 &
  echo $! >"$run_dir/kafka.pid"
  for _ in $(seq 1 60); do
    if kafka_ready; then say "kafka ready"; return 0; fi
    alive kafka || die "kafka exited; see $kafka_data/logs/server.log and stdout.log"
    sleep 1
  done
  die "kafka did not become ready in 60 s; see $kafka_data/logs/server.log"
}

# --- FerretDB ------------------------------------------------------------------------------

ferret_build() {
  [ -x "$ferret_home/bin/ferretdb" ] && return 0
  need go "Go builds FerretDB from source"
  need patch "patch applies Huiyin's fixes to FerretDB's source"
  say "building FerretDB $ferretdb_version with go (once; cached in $ferret_home)"
  mkdir -p "$ferret_home"
  local gomod="github.com/FerretDB/FerretDB@$ferretdb_version" src
  # `go install module@version` asks the module proxy for the version list (deprecation check),
  # which some proxies refuse; download the pinned module (checked against the checksum
  # database) and `go install` its command from the module's own go.mod instead.
  src="$(go mod download -json "$gomod" 2>"$local_dir/ferretdb-build.log" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [ -n "$src" ] || die "go could not download $gomod; see $local_dir/ferretdb-build.log"
  rm -rf "$ferret_home/src" && cp -r "$src" "$ferret_home/src" && chmod -R u+w "$ferret_home/src"
  echo "$ferretdb_version" >"$ferret_home/src/build/version/version.txt"
  # Huiyin's patches (deploy/local/ferretdb/*.patch), each for a fault of v1.24.0 that a test in
  # tests/integration/test_local_engine.py reproduces:
  #  0001  the SQLite backend indexes _id as `_ferretdb_sjson->"_id"` but queries it as
  #        `_ferretdb_sjson->'$._id'`; SQLite does not match the two, so every lookup by _id
  #        scanned the whole table. Query with the indexed expression (same value).
  #  0002  `update` ran every statement of a command with its query iterator held open until the
  #        command returned: a bulk of 100 or more updates exhausted the connection pool and never
  #        answered, and the server answered nothing more. And update / findAndModify read a
  #        document and wrote it back in two backend calls, so concurrent updates of one document
  #        were lost (35 of 40). Each statement now closes its iterator, and read plus write run
  #        under the collection's write lock, atomic as on MongoDB.
  #  0003  a filter of `_id` and anything more (the guard of a conditional write) scanned the
  #        table: `_id` equality now narrows the rows through the index, the rest is filtered
  #        after, as before.
  #  0004  any other filter read and decoded every document in Go, indexed or not. Equalities
  #        (a string, boolean or ObjectID, `$eq`, `$in` of them) on any field, dotted or not, are
  #        now pushed down to SQLite as a superset that an index created for the field serves
  #        (keeping the documents where a value on the path is a non-empty array, as MongoDB
  #        matches them; `_id` is never an array); the rest is filtered after, as before. `--test-enable-nested-pushdown` lets
  #        find and aggregate pass dotted keys down too (count, update and delete always did).
  #  0005  update and findAndModify kept a statement's read open across its write, so under
  #        steady writes SQLite never completed a checkpoint: the write-ahead log grew without
  #        bound and every query slowed with it (bulk updates at 1 M documents fell from 700 to
  #        90 docs/s in 25 s). The matching documents are read and the read ended first, as
  #        delete already did; the collection's write lock (0002) still makes the pair atomic.
  #  0006  a sorted find read and decoded every document its filter selected and sorted them in
  #        Go, however small its limit: the first page of a list of 100 k issues took 41 s. An
  #        index now holds each key's order class beside its value (the sjson type when the JSON
  #        text sorts as MongoDB sorts that type), and a find whose sort follows an index (after
  #        one equality, or with none) reads the documents of one class per key in order from
  #        it, lazily, merged with the few others (other types, arrays) sorted in memory; a
  #        page's cursor (a keyset `$or`) and a range on the first sort key bound the reading.
  #  0007  every document read was decoded level by level (a map of raw messages per level, a
  #        json.Decoder per value: ~1.3 ms for a reporting fact of 15 KB of sjson) and written
  #        with a buffer and an encoding/json call per key and value (~0.3 ms). It is now read
  #        in one pass (0.14 ms) and written into one buffer (0.07 ms), byte for byte as before;
  #        what the one pass does not handle (binary, regex, timestamp, damaged text) is read
  #        the general way. A Go test in the patch checks both against the general way.
  #  0008  every SQL statement formatted its arguments (whole documents, quoted) for a debug
  #        log line even at the warn level (a sixth of the server's CPU), and every transaction
  #        and iterator was registered, with a stack walk, in a leak-tracking profile (an
  #        eighth of it on small writes). Both now happen only when debug logging is on / in
  #        debug builds.
  #  0009  every statement was parsed and planned again at each execution (modernc's SQLite
  #        driver v1.31 kept no prepared statement), and an UPDATE of a collection with
  #        expression indexes compiles every index expression: a quarter of the server's CPU
  #        under the services' writes. The driver is now modernc.org/sqlite v1.62.0 (SQLite
  #        3.54.1), which keeps a statement prepared, and FerretDB keeps each single data
  #        statement prepared by its text (at most 1,024 per database; a new one is prepared in
  #        the background while it runs unprepared once). It needs Go 1.26.
  #  0010  a range on an index's key after an equality on the key before it (a period of one
  #        office) was evaluated on every document of the equality: an office's month read its
  #        whole history. An unsorted find with such a range is now read as 0006 reads a
  #        sorted one, in the index's order, the range bounding the reading.
  #  0011  EXPLAIN QUERY PLAN does not check the schema's version, so on a pooled connection that
  #        had run nothing since an index was created, explain planned without that index (more
  #        connections stay open since 0009's background prepares: test_local_engine's explain
  #        after createIndexes failed 2 runs in 6). A read in the same transaction first loads
  #        the current schema (10 runs in 10 pass).
  #  0012  documents were stored as JSON text, which SQLite parses again in every statement
  #        that evaluates an index expression: a CREATE INDEX parsed every document of the
  #        collection once per index (a rebuild's indexing phase was 70 % JSON parsing). New
  #        collections store SQLite's JSONB (converted on the way in and out, byte for byte);
  #        older tables keep text and still work. 20,000 fact documents of 15 KB, 9 indexes:
  #        insert and index 27 s -> 8 s; reading them back 0.2 s -> 0.7 s.
  #  0013  an index read in order (0006, 0010) kept only the equality on the index's first key
  #        in SQL: the filter's other equalities were evaluated on decoded documents, so one
  #        office's month of one category decoded the office's whole month. They now go to
  #        SQLite too, as the supersets the pushdown makes (0004).
  #  0014  an update statement's write error ended the command with only that error, at index
  #        0, without n and nModified (drivers fail on such a bulk answer) and regardless of
  #        `ordered`; and an upsert whose insert met a document inserted since its read (an
  #        insert takes no lock) failed with a duplicate key, where MongoDB runs it again and
  #        it matches. Each statement's error now has its index beside the counts, an unordered
  #        update goes on, and such an upsert (update or findAndModify) runs again.
  local patch
  for patch in "$here"/ferretdb/*.patch; do
    patch -s -p1 -d "$ferret_home/src" <"$patch" >>"$local_dir/ferretdb-build.log" 2>&1 \
      || die "could not apply $(basename "$patch") to FerretDB's source; see $local_dir/ferretdb-build.log"
  done
  (cd "$ferret_home/src" && GOBIN="$ferret_home/bin" CGO_ENABLED=0 go install ./cmd/ferretdb) \
    >>"$local_dir/ferretdb-build.log" 2>&1 || die "building FerretDB failed; see $local_dir/ferretdb-build.log"
  rm -rf "$ferret_home/src"
}

ferret_start() {
  if alive ferretdb; then say "ferretdb already running on 127.0.0.1:$mongo_port"; return 0; fi
  ferret_build
  mkdir -p "$ferret_data/sqlite"
  if port_open "$mongo_port"; then die "port $mongo_port is taken by another process (set HUIYIN_MONGO_PORT)"; fi
  say "starting FerretDB $ferretdb_version on 127.0.0.1:$mongo_port (log: $ferret_data/ferretdb.log)"
  # synchronous(normal): in WAL mode a commit is written to the log without an fsync of its
  # own (a killed server loses nothing; a power cut may lose the last commits): 5-10x the
  # writes per second of the default (FULL) on this machine.
  # GOGC=400: the engine's Go heap may grow to 5x what is live before a collection (10 % less
  # of its CPU per issue under make bench: 8.4-8.5 against 9.3-9.7 ms); GOMEMLIMIT bounds that
  # heap (SQLite's page cache is outside it).
  GOGC=400 GOMEMLIMIT=2GiB nohup "$ferret_home/bin/ferretdb" --handler=sqlite \
    --sqlite-url="file:$ferret_data/sqlite/?_pragma=synchronous(normal)" \
    --listen-addr="127.0.0.1:$mongo_port" --state-dir="$ferret_data" --telemetry=disable \
    --debug-addr=- --log-level=warn --log-format=text --test-enable-nested-pushdown \
    >"$ferret_data/ferretdb.log" 2>&1 &
  echo $! >"$run_dir/ferretdb.pid"
  for _ in $(seq 1 30); do
    if port_open "$mongo_port"; then say "ferretdb ready"; return 0; fi
    alive ferretdb || die "ferretdb exited; see $ferret_data/ferretdb.log"
    sleep 0.5
  done
  die "ferretdb did not open port $mongo_port in 15 s; see $ferret_data/ferretdb.log"
}

# --- commands --------------------------------------------------------------------------------

stop_one() {
  if alive "$1"; then
    local pid; pid="$(cat "$run_dir/$1.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    say "$1 stopped"
  fi
  rm -f "$run_dir/$1.pid"
}

print_env() {
  echo "HUIYIN_KAFKA_BOOTSTRAP=127.0.0.1:$kafka_port"
  echo "HUIYIN_MONGO_URL=mongodb://127.0.0.1:$mongo_port/"
}

mkdir -p "$run_dir"
case "${1:-}" in
  start)
    case "${2:-}" in
      kafka) kafka_start ;; ferretdb) ferret_start ;; "") kafka_start; ferret_start ;;
      *) die "start what? kafka or ferretdb (or nothing: both)" ;;
    esac ;;
  build) kafka_fetch; ferret_build ;;
  stop)
    case "${2:-}" in
      kafka) stop_one kafka ;; ferretdb) stop_one ferretdb ;; "") stop_one kafka; stop_one ferretdb ;;
      *) die "stop what? kafka or ferretdb (or nothing: both)" ;;
    esac ;;
  status)
    alive kafka && say "kafka running (pid $(cat "$run_dir/kafka.pid"))" || say "kafka stopped"
    alive ferretdb && say "ferretdb running (pid $(cat "$run_dir/ferretdb.pid"))" || say "ferretdb stopped" ;;
  env) print_env ;;
  clean) stop_one kafka; stop_one ferretdb; rm -rf "$kafka_data" "$ferret_data"; say "data removed" ;;
  *) echo "usage: $0 start|stop [kafka|ferretdb] | status|env|clean|build" >&2; exit 2 ;;
esac
