// The one place PostgreSQL's C headers are included, with C linkage.
#pragma once

// Functions PostgreSQL looks up by name must stay visible although we build with
// -fvisibility=hidden (PG15 leaves PGDLLEXPORT empty on Linux).
#define PGDLLEXPORT __attribute__((visibility("default")))

extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}
