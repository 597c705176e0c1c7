// Running SQL from C++ through SPI with plans prepared once per backend (SPI_keepplan).
// SPI honours the caller's permissions and row-level security, which is why API functions
// read through it rather than scanning heaps directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pg/values.hpp"

namespace convo::pg {

inline constexpr int kMaxPlanArgs = 16;

// A statement prepared on first use and kept for the life of the backend. Declare them as
// static aggregates: KeptPlan p{"SELECT ... $1", 1, {pg::oid::uuid}};
struct KeptPlan {
    const char* sql;
    int nargs;
    Oid argtypes[kMaxPlanArgs];
    SPIPlanPtr plan = nullptr;
};

// Arguments for one execution of a KeptPlan, in order.
class Params {
public:
    Params& text(std::string_view s) { return add(text_datum(s)); }
    Params& opt_text(const std::optional<std::string>& s) { return s ? text(*s) : null(); }
    Params& uuid(const Uuid& id) { return add(uuid_datum(id)); }
    Params& timestamptz(Micros us) { return add(timestamptz_datum(us)); }
    Params& opt_timestamptz(const std::optional<Micros>& us) { return us ? timestamptz(*us) : null(); }
    Params& jsonb(const std::string& json_text) { return add(jsonb_datum(json_text)); }
    Params& int4(int v) { return add(int4_datum(v)); }
    Params& int8(std::int64_t v) { return add(int8_datum(v)); }
    Params& opt_int4(const std::optional<int>& v) { return v ? int4(*v) : null(); }
    Params& boolean(bool v) { return add(bool_datum(v)); }
    // A datum of the plan's argument type, passed as it is (e.g. a jsonb argument of the caller).
    Params& datum(Datum d) { return add(d); }
    Params& null();

    int size() const { return n_; }
    Datum* values() { return values_; }
    const char* nulls() const { return nulls_; }

private:
    Params& add(Datum d);
    Datum values_[kMaxPlanArgs] = {};
    char nulls_[kMaxPlanArgs + 1] = {};
    int n_ = 0;
};

// The rows an execute returned; valid until the next execute or Spi::finish.
class Rows {
public:
    Rows(SPITupleTable* table, std::uint64_t count) : table_(table), count_(count) {}
    std::uint64_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    std::optional<std::string> str(std::uint64_t row, int col) const;
    std::optional<Uuid> uuid(std::uint64_t row, int col) const;
    std::optional<std::int64_t> int8(std::uint64_t row, int col) const;
    std::optional<int> int4(std::uint64_t row, int col) const;
    std::optional<bool> boolean(std::uint64_t row, int col) const;
    std::optional<Micros> timestamptz(std::uint64_t row, int col) const;
    // A copy of a by-reference value that outlives Spi::finish (in the caller's context).
    Datum transfer(std::uint64_t row, int col, bool by_value, int type_length) const;

private:
    std::optional<Datum> datum(std::uint64_t row, int col) const;
    SPITupleTable* table_;
    std::uint64_t count_;
};

// One SPI connection for the duration of a function call. Call finish() on the success path;
// on an error the transaction abort cleans SPI up (and the error is re-raised anyway).
class Spi {
public:
    Spi();
    Spi(const Spi&) = delete;
    Spi& operator=(const Spi&) = delete;

    // Executes a kept plan; read_only for functions that only read (no new snapshot).
    Rows execute(KeptPlan& plan, Params& params, bool read_only, long max_rows = 0);
    Rows execute(KeptPlan& plan, bool read_only, long max_rows = 0) {
        Params none;
        return execute(plan, none, read_only, max_rows);
    }
    void finish();

private:
    bool connected_ = false;
};

}  // namespace convo::pg
