// Converting between PostgreSQL datums and C++ values, every PostgreSQL call guarded.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"
#include "pg/guard.hpp"

namespace convo::pg {

using Uuid = std::array<unsigned char, UUID_LEN>;

std::string uuid_to_string(const Uuid& id);

// PostgreSQL timestamps count from 2000-01-01; the core counts from 1970-01-01.
// Infinite timestamps have no place in window arithmetic: they raise 22008.
Micros to_unix_micros(TimestampTz ts);
inline TimestampTz from_unix_micros(Micros us) {
    return us - (Micros{POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE} * USECS_PER_DAY);
}

// Function arguments; nullopt for SQL NULL.
std::optional<std::string> arg_text(FunctionCallInfo fcinfo, int n);
std::optional<std::string> arg_jsonb_text(FunctionCallInfo fcinfo, int n);
std::optional<Uuid> arg_uuid(FunctionCallInfo fcinfo, int n);
std::optional<Micros> arg_timestamptz(FunctionCallInfo fcinfo, int n);
std::optional<int> arg_int4(FunctionCallInfo fcinfo, int n);

// New datums, palloc'd in the current memory context.
Datum text_datum(std::string_view s);
Datum uuid_datum(const Uuid& id);
Datum jsonb_datum(const std::string& json_text);  // parses; raises 22P02 on bad JSON
Datum timestamptz_datum(Micros us);

// The current transaction's start time, as now() sees it.
Micros transaction_now();

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
