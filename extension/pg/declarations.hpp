// The few PostgreSQL types C++ code outside extension/pg names, declared without PostgreSQL's
// headers. Each declaration is the one PostgreSQL itself makes (repeating an identical typedef
// is allowed), so a file may see both; pg/declarations.cpp checks the constants against the
// real headers.
#pragma once

#include <cstdint>

extern "C" {
typedef std::uintptr_t Datum;
typedef unsigned int Oid;
typedef std::uint32_t SubTransactionId;
typedef struct FunctionCallInfoBaseData* FunctionCallInfo;
typedef struct MemoryContextData* MemoryContext;
typedef struct _SPI_plan* SPIPlanPtr;
struct SPITupleTable;
struct JsonbParseState;
struct JsonbValue;
}

// Symbols PostgreSQL looks up by name stay visible although we build with -fvisibility=hidden
// (PG15 leaves PGDLLEXPORT empty on Linux).
#define CONVO_EXPORT __attribute__((visibility("default")))

namespace convo::pg {

// Type OIDs (catalog/pg_type.h), for KeptPlan argument types.
namespace oid {
inline constexpr Oid boolean = 16;
inline constexpr Oid int8 = 20;
inline constexpr Oid int4 = 23;
inline constexpr Oid text = 25;
inline constexpr Oid float8 = 701;
inline constexpr Oid text_array = 1009;
inline constexpr Oid timestamptz = 1184;
inline constexpr Oid interval = 1186;
inline constexpr Oid numeric = 1700;
inline constexpr Oid uuid = 2950;
inline constexpr Oid uuid_array = 2951;
inline constexpr Oid jsonb = 3802;
}  // namespace oid

}  // namespace convo::pg
