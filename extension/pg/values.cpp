// Datum <-> C++ value conversions (see values.hpp).
#include "pg/values.hpp"

#include <cstring>

#include "pg/guard.hpp"

extern "C" {
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/numeric.h"
}

static_assert(convo::pg::kUuidBytes == UUID_LEN);
static_assert(convo::pg::kPostgresEpochUnixMicros ==
              (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);

namespace convo::pg {

Micros to_unix_micros(std::int64_t ts) {
    if (TIMESTAMP_NOT_FINITE(ts))
        throw Error("22008", "convo: infinite timestamps are not supported here",
                    "use a finite time, e.g. now()");
    return ts + kPostgresEpochUnixMicros;
}

std::string uuid_to_string(const Uuid& id) {
    static const char* hex = "0123456789abcdef";
    std::string s;
    s.reserve(36);
    for (size_t i = 0; i < id.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
        s.push_back(hex[id[i] >> 4]);
        s.push_back(hex[id[i] & 0xF]);
    }
    return s;
}

bool arg_is_null(FunctionCallInfo fcinfo, int n) { return PG_ARGISNULL(n); }

Datum arg_datum(FunctionCallInfo fcinfo, int n) { return PG_GETARG_DATUM(n); }

Datum null_result(FunctionCallInfo fcinfo) { PG_RETURN_NULL(); }

std::optional<std::string> arg_text(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    const char* data = nullptr;
    int len = 0;
    guarded([&]() noexcept {
        text* t = PG_GETARG_TEXT_PP(n);
        data = VARDATA_ANY(t);
        len = VARSIZE_ANY_EXHDR(t);
    });
    return std::string(data, len);
}

std::optional<std::string> arg_jsonb_text(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    char* out = nullptr;
    guarded([&]() noexcept {
        Jsonb* jb = PG_GETARG_JSONB_P(n);
        out = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
    });
    std::string s(out);
    guarded([&]() noexcept { pfree(out); });
    return s;
}

std::optional<Uuid> arg_uuid(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    Uuid id;
    std::memcpy(id.data(), DatumGetUUIDP(PG_GETARG_DATUM(n))->data, kUuidBytes);
    return id;
}

std::optional<Micros> arg_timestamptz(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    return to_unix_micros(PG_GETARG_TIMESTAMPTZ(n));
}

std::optional<int> arg_int4(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    return PG_GETARG_INT32(n);
}

std::optional<IntervalParts> arg_interval(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    const Interval* i = PG_GETARG_INTERVAL_P(n);  // fixed length: never toasted
    return IntervalParts{i->time, i->day, i->month};
}

Datum text_datum(std::string_view s) {
    Datum d;
    guarded([&]() noexcept { d = PointerGetDatum(cstring_to_text_with_len(s.data(), s.size())); });
    return d;
}

Datum uuid_datum(const Uuid& id) {
    Datum d;
    guarded([&]() noexcept {
        pg_uuid_t* u = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
        std::memcpy(u->data, id.data(), UUID_LEN);
        d = UUIDPGetDatum(u);
    });
    return d;
}

Datum jsonb_datum(const std::string& json_text) {
    Datum d;
    const char* c = json_text.c_str();
    guarded([&]() noexcept { d = DirectFunctionCall1(jsonb_in, CStringGetDatum(c)); });
    return d;
}

Datum timestamptz_datum(Micros us) { return TimestampTzGetDatum(from_unix_micros(us)); }

Datum bool_datum(bool b) { return BoolGetDatum(b); }

Datum int4_datum(std::int32_t v) { return Int32GetDatum(v); }

Datum int8_datum(std::int64_t v) { return Int64GetDatum(v); }

std::vector<char> varlena_copy(Datum d) {
    const char* bytes = nullptr;
    std::size_t size = 0;
    struct varlena* detoasted = nullptr;
    guarded([&]() noexcept {
        detoasted = PG_DETOAST_DATUM(d);
        bytes = reinterpret_cast<const char*>(detoasted);
        size = VARSIZE(detoasted);
    });
    std::vector<char> copy(bytes, bytes + size);
    if (reinterpret_cast<char*>(detoasted) != DatumGetPointer(d)) guarded([&]() noexcept { pfree(detoasted); });
    return copy;
}

Datum varlena_datum(const std::vector<char>& bytes) { return PointerGetDatum(bytes.data()); }

Micros transaction_now() { return to_unix_micros(GetCurrentTransactionStartTimestamp()); }

Micros clock_now() { return to_unix_micros(GetCurrentTimestamp()); }

bool transaction_read_only() { return XactReadOnly; }

// Opening a container checks for a cancel: a long document is written between SPI calls.
void JsonbWriter::begin_object() {
    guarded([&]() noexcept {
        CHECK_FOR_INTERRUPTS();
        pushJsonbValue(&state_, WJB_BEGIN_OBJECT, nullptr);
    });
    in_array_[++depth_] = false;
}

void JsonbWriter::end_object() {
    guarded([&]() noexcept { result_ = pushJsonbValue(&state_, WJB_END_OBJECT, nullptr); });
    --depth_;
}

void JsonbWriter::begin_array() {
    guarded([&]() noexcept {
        CHECK_FOR_INTERRUPTS();
        pushJsonbValue(&state_, WJB_BEGIN_ARRAY, nullptr);
    });
    in_array_[++depth_] = true;
}

void JsonbWriter::end_array() {
    guarded([&]() noexcept { result_ = pushJsonbValue(&state_, WJB_END_ARRAY, nullptr); });
    --depth_;
}

void JsonbWriter::key(std::string_view k) {
    JsonbValue v;
    v.type = jbvString;
    v.val.string.len = static_cast<int>(k.size());
    guarded([&]() noexcept {
        v.val.string.val = pnstrdup(k.data(), k.size());
        pushJsonbValue(&state_, WJB_KEY, &v);
    });
}

void JsonbWriter::push_scalar(JsonbValue& v) {
    JsonbIteratorToken token = in_array_[depth_] ? WJB_ELEM : WJB_VALUE;
    guarded([&]() noexcept { pushJsonbValue(&state_, token, &v); });
}

void JsonbWriter::string(std::string_view s) {
    JsonbValue v;
    v.type = jbvString;
    v.val.string.len = static_cast<int>(s.size());
    guarded([&]() noexcept { v.val.string.val = pnstrdup(s.data(), s.size()); });
    push_scalar(v);
}

void JsonbWriter::null() {
    JsonbValue v;
    v.type = jbvNull;
    push_scalar(v);
}

void JsonbWriter::boolean(bool b) {
    JsonbValue v;
    v.type = jbvBool;
    v.val.boolean = b;
    push_scalar(v);
}

void JsonbWriter::int64(std::int64_t i) {
    JsonbValue v;
    v.type = jbvNumeric;
    guarded([&]() noexcept { v.val.numeric = int64_to_numeric(i); });
    push_scalar(v);
}

void JsonbWriter::timestamptz(Micros us) {
    char buf[MAXDATELEN + 1];
    TimestampTz ts = from_unix_micros(us);
    guarded([&]() noexcept { JsonEncodeDateTime(buf, TimestampTzGetDatum(ts), TIMESTAMPTZOID, nullptr); });
    string(buf);
}

void JsonbWriter::jsonb(Datum doc) {
    JsonbValue v;
    v.type = jbvBinary;
    guarded([&]() noexcept {
        Jsonb* jb = DatumGetJsonbP(doc);
        v.val.binary.data = &jb->root;
        v.val.binary.len = static_cast<int>(VARSIZE(jb) - VARHDRSZ);
    });
    push_scalar(v);  // pushJsonbValue unpacks a binary value into its parts
}

Datum JsonbWriter::finish() {
    Datum d;
    guarded([&]() noexcept { d = JsonbPGetDatum(JsonbValueToJsonb(result_)); });
    return d;
}

}  // namespace convo::pg
