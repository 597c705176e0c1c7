// Must not compile: an API file that sees PostgreSQL's headers (here through pg/guard.hpp).
#include "pg/entry.hpp"
#include "pg/guard.hpp"

#include "pg/api_only.hpp"
