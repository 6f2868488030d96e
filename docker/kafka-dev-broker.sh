#!/usr/bin/env bash
# The `kafka` service of docker-compose.offline.yml: Samenplan's Kafka dev broker (librdkafka's
# mock cluster, every topic of the suite) in place of Apache Kafka, run from the samenplan image.
#
# The mock cluster listens on 127.0.0.1 only, on ports it picks, and advertises 127.0.0.1 in its
# metadata. So the services run in this container's network namespace (network_mode
# "service:kafka"), and a small forwarder listens on port 9092 of every address of the namespace
# and passes each connection on to the broker: a client's KAFKA_BOOTSTRAP_SERVERS=kafka:9092
# works as against the real broker, and the metadata then points it at 127.0.0.1:<port>, which
# it reaches because it shares the namespace.
# SIGTERM (compose stop) stops both and exits 0.
set -euo pipefail
partitions="${KAFKA_DEV_PARTITIONS:-12}"
listen="${KAFKA_DEV_LISTEN:-0.0.0.0:9092}"
file="$(mktemp -u /tmp/kafka-bootstrap.XXXXXX)"

kafka-dev-broker --partitions "$partitions" --bootstrap-file "$file" &
broker=$!
forwarder=""
stop() {
  trap - TERM INT
  [ -n "$forwarder" ] && kill -TERM "$forwarder" 2>/dev/null
  kill -TERM "$broker" 2>/dev/null
  wait "$broker" 2>/dev/null
  exit 0
}
trap stop TERM INT

for _ in $(seq 1 300); do [ -s "$file" ] && break; kill -0 "$broker" 2>/dev/null || exit 1; sleep 0.1; done
bootstrap="$(head -n 1 "$file")"
echo "kafka-dev-broker: ${listen} forwards to the mock cluster at ${bootstrap}" >&2

# A TCP forwarder in Perl (perl-base is in every Debian image): one process per connection.
perl -e '
  use strict; use warnings; use IO::Socket::INET; use IO::Select;
  my ($listen, $target) = @ARGV;
  $SIG{CHLD} = "IGNORE";
  $SIG{TERM} = sub { exit 0 };
  my $server = IO::Socket::INET->new(LocalAddr => $listen, Listen => 128, ReuseAddr => 1)
    or die "cannot listen on $listen: $!\n";
  while (1) {
    my $client = $server->accept or next;
    my $pid = fork;
    if (defined $pid && $pid == 0) {
      close $server;
      my $upstream = IO::Socket::INET->new(PeerAddr => $target) or exit 1;
      my %other = ($client => $upstream, $upstream => $client);
      my $select = IO::Select->new($client, $upstream);
      while (1) {
        for my $from ($select->can_read) {
          my $read = sysread($from, my $buffer, 65536);
          exit 0 unless $read;
          my $offset = 0;
          while ($offset < $read) {
            my $written = syswrite($other{$from}, $buffer, $read - $offset, $offset);
            exit 0 unless defined $written;
            $offset += $written;
          }
        }
      }
    }
    close $client;
  }
' "$listen" "$bootstrap" &
forwarder=$!

# Whichever ends first ends the container (the restart policy starts both again).
set +e
wait -n "$broker" "$forwarder"
status=$?
kill -TERM "$broker" "$forwarder" 2>/dev/null
exit "$status"
