// SPI with kept plans (see spi.hpp).
#include "pg/spi.hpp"

#include <cstring>

#include "pg/guard.hpp"

namespace convo::pg {

Params& Params::add(Datum d) {
    if (n_ >= kMaxPlanArgs) throw Error(sqlstate::internal, "convo: too many plan arguments");
    values_[n_] = d;
    nulls_[n_] = ' ';
    ++n_;
    return *this;
}

Params& Params::null() {
    add(Datum{0});
    nulls_[n_ - 1] = 'n';
    return *this;
}

std::optional<Datum> Rows::datum(std::uint64_t row, int col) const {
    bool isnull = true;
    Datum d{0};
    guarded([&]() noexcept { d = SPI_getbinval(table_->vals[row], table_->tupdesc, col, &isnull); });
    if (isnull) return std::nullopt;
    return d;
}

std::optional<std::string> Rows::str(std::uint64_t row, int col) const {
    auto d = datum(row, col);
    if (!d) return std::nullopt;
    const char* data = nullptr;
    int len = 0;
    guarded([&]() noexcept {
        text* t = DatumGetTextPP(*d);
        data = VARDATA_ANY(t);
        len = VARSIZE_ANY_EXHDR(t);
    });
    return std::string(data, len);
}

std::optional<Uuid> Rows::uuid(std::uint64_t row, int col) const {
    auto d = datum(row, col);
    if (!d) return std::nullopt;
    Uuid id;
    std::memcpy(id.data(), DatumGetUUIDP(*d)->data, kUuidBytes);
    return id;
}

std::optional<std::int64_t> Rows::int8(std::uint64_t row, int col) const {
    auto d = datum(row, col);
    if (!d) return std::nullopt;
    return DatumGetInt64(*d);
}

std::optional<int> Rows::int4(std::uint64_t row, int col) const {
    auto d = datum(row, col);
    if (!d) return std::nullopt;
    return DatumGetInt32(*d);
}

std::optional<bool> Rows::boolean(std::uint64_t row, int col) const {
    auto d = datum(row, col);
    if (!d) return std::nullopt;
    return DatumGetBool(*d);
}

std::optional<Micros> Rows::timestamptz(std::uint64_t row, int col) const {
    auto d = datum(row, col);
    if (!d) return std::nullopt;
    return to_unix_micros(DatumGetTimestampTz(*d));
}

Datum Rows::transfer(std::uint64_t row, int col, bool by_value, int type_length) const {
    auto d = datum(row, col);
    if (!d) throw Error(sqlstate::internal, "convo: cannot transfer a NULL value out of SPI");
    Datum copy;
    guarded([&]() noexcept { copy = SPI_datumTransfer(*d, by_value, type_length); });
    return copy;
}

Spi::Spi() {
    guarded([&]() noexcept {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "convo: SPI_connect failed");
    });
    connected_ = true;
}

Rows Spi::execute(KeptPlan& plan, Params& params, bool read_only, long max_rows) {
    if (params.size() != plan.nargs)
        throw Error(sqlstate::internal, "convo: wrong number of arguments for a kept plan");
    int rc = 0;
    guarded([&]() noexcept {
        // A caller looping over statements (one per event, one per part) is cancellable at
        // each, even where the statement itself would not look.
        CHECK_FOR_INTERRUPTS();
        if (plan.plan == nullptr) {
            SPIPlanPtr p = SPI_prepare(plan.sql, plan.nargs, plan.argtypes);
            if (p == nullptr)
                elog(ERROR, "convo: SPI_prepare failed (%s): %s",
                     SPI_result_code_string(SPI_result), plan.sql);
            SPI_keepplan(p);
            plan.plan = p;
        }
        rc = SPI_execute_plan(plan.plan, params.values(), params.nulls(), read_only, max_rows);
    });
    if (rc < 0) throw Error(sqlstate::internal, std::string("convo: SPI_execute_plan failed: ") + plan.sql);
    return Rows(SPI_tuptable, SPI_processed);
}

void Spi::finish() {
    if (!connected_) return;
    connected_ = false;
    guarded([&]() noexcept { SPI_finish(); });
}

}  // namespace convo::pg
