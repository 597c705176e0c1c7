// For API files not yet converted to the PostgreSQL-free interface of extension/pg: the whole
// boundary (CONVO_FUNCTION, guarded) with PostgreSQL's headers. Converted files include
// pg/entry.hpp and the wrappers they need instead, and pg/api_only.hpp last. Goes away with
// the last file that includes it.
#pragma once

#define CONVO_UNCONVERTED_API_FILE
#include "pg/entry.hpp"
#include "pg/guard.hpp"
