// The constants of declarations.hpp, checked against PostgreSQL's own headers.
#include "pg/declarations.hpp"

#include "pg/postgres.hpp"

namespace convo::pg::oid {
static_assert(boolean == BOOLOID);
static_assert(int8 == INT8OID);
static_assert(int4 == INT4OID);
static_assert(text == TEXTOID);
static_assert(float8 == FLOAT8OID);
static_assert(text_array == TEXTARRAYOID);
static_assert(timestamptz == TIMESTAMPTZOID);
static_assert(interval == INTERVALOID);
static_assert(numeric == NUMERICOID);
static_assert(uuid == UUIDOID);
static_assert(uuid_array == UUIDARRAYOID);
static_assert(jsonb == JSONBOID);
}  // namespace convo::pg::oid
