// The module's magic block: PostgreSQL checks it when it loads convo.so.
#include "pg/postgres.hpp"

extern "C" {
PG_MODULE_MAGIC;
}
