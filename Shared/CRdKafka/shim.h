// Debian's librdkafka-dev ships no pkg-config cflags: include the headers by path.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
