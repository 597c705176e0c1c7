// Converting between PostgreSQL datums and C++ values, every PostgreSQL call guarded. Needs no
// PostgreSQL header.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "pg/declarations.hpp"

namespace convo::pg {

inline constexpr std::size_t kUuidBytes = 16;  // UUID_LEN
using Uuid = std::array<unsigned char, kUuidBytes>;

std::string uuid_to_string(const Uuid& id);

// PostgreSQL timestamps count from 2000-01-01; the core counts from 1970-01-01.
inline constexpr Micros kPostgresEpochUnixMicros = 946'684'800'000'000;
// Infinite timestamps have no place in window arithmetic: they raise 22008.
Micros to_unix_micros(std::int64_t timestamptz);
inline std::int64_t from_unix_micros(Micros us) { return us - kPostgresEpochUnixMicros; }

// An interval's fields as PostgreSQL stores them.
struct IntervalParts {
    std::int64_t micros;
    std::int32_t days;
    std::int32_t months;
};

// Function arguments; nullopt for SQL NULL.
bool arg_is_null(FunctionCallInfo fcinfo, int n);
Datum arg_datum(FunctionCallInfo fcinfo, int n);  // as passed, not detoasted
std::optional<std::string> arg_text(FunctionCallInfo fcinfo, int n);
std::optional<std::string> arg_jsonb_text(FunctionCallInfo fcinfo, int n);
std::optional<Uuid> arg_uuid(FunctionCallInfo fcinfo, int n);
std::optional<Micros> arg_timestamptz(FunctionCallInfo fcinfo, int n);
std::optional<int> arg_int4(FunctionCallInfo fcinfo, int n);
std::optional<IntervalParts> arg_interval(FunctionCallInfo fcinfo, int n);

// The function's result is SQL NULL: `return pg::null_result(fcinfo);`
Datum null_result(FunctionCallInfo fcinfo);

// New datums; by-reference ones are palloc'd in the current memory context.
Datum text_datum(std::string_view s);
Datum uuid_datum(const Uuid& id);
Datum jsonb_datum(const std::string& json_text);  // parses; raises 22P02 on bad JSON
Datum timestamptz_datum(Micros us);
Datum bool_datum(bool b);
Datum int4_datum(std::int32_t v);
Datum int8_datum(std::int64_t v);

// A varlena datum (text, jsonb...) detoasted and copied into C++ memory, header included, so
// it outlives the memory context it came from; varlena_datum points a datum at such a copy
// (valid while the bytes are).
std::vector<char> varlena_copy(Datum d);
Datum varlena_datum(const std::vector<char>& bytes);

// The current transaction's start time, as now() sees it.
Micros transaction_now();
// The wall clock (clock_timestamp()).
Micros clock_now();

// Whether the transaction is READ ONLY (PostgREST runs GET requests so): caches are not written.
bool transaction_read_only();

// Builds a jsonb value with pushJsonbValue (no text round trip).
class JsonbWriter {
public:
    void begin_object();
    void end_object();
    void begin_array();
    void end_array();
    void key(std::string_view k);
    void string(std::string_view s);
    void null();
    void boolean(bool b);
    void int64(std::int64_t v);
    void timestamptz(Micros us);  // as to_jsonb(timestamptz) writes it, in the session time zone
    // A jsonb datum as the value, copied in (it must stay alive until finish).
    void jsonb(Datum doc);
    void optional_timestamptz(const std::optional<Micros>& us) {
        us ? timestamptz(*us) : null();
    }
    Datum finish();  // the document; call after the outermost end_*

private:
    void push_scalar(JsonbValue& v);
    JsonbParseState* state_ = nullptr;
    JsonbValue* result_ = nullptr;
    int depth_ = 0;
    bool in_array_[32] = {};
};

}  // namespace convo::pg
