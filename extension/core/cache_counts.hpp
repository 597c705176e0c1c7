// Per-backend hit and miss counters of the cache, flushed to a table now and then.
//
// A hit must not become a write to a shared row: each backend counts in its own memory and
// hands its counts over (take) when due: after kFlushCalls calls or kFlushMicros since the
// last hand-over. The caller writes them inside its transaction; if that transaction aborts,
// restore() puts them back (it allocates nothing, so it may run in an abort callback).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/time.hpp"

namespace convo {

class CacheCounts {
public:
    static constexpr std::int64_t kFlushCalls = 1000;
    static constexpr Micros kFlushMicros = 1'000'000;

    struct Delta {
        const std::string* ns;
        std::int64_t hits;
        std::int64_t misses;
        std::uint32_t owner;  // the (sub)transaction that wrote it
    };

    void record(const std::string& ns, bool hit) {
        auto it = counts_.find(ns);
        if (it == counts_.end()) it = counts_.emplace(ns, Counts{}).first;
        ++(hit ? it->second.hits : it->second.misses);
        ++unflushed_;
    }

    // Whether the counts should be written now (there are some, and enough or old enough).
    bool due(Micros now) const {
        return unflushed_ > 0 && (unflushed_ >= kFlushCalls || now - last_flush_ >= kFlushMicros);
    }
    std::int64_t unflushed() const { return unflushed_; }

    // The non-zero counts, zeroed here and remembered as written by owner until the
    // transaction ends. Returns the deltas to write (the last ones of in_flight()).
    std::vector<Delta> take(Micros now, std::uint32_t owner) {
        std::vector<Delta> out;
        for (auto& [ns, c] : counts_) {
            if (c.hits == 0 && c.misses == 0) continue;
            out.push_back(Delta{&ns, c.hits, c.misses, owner});
        }
        in_flight_.reserve(in_flight_.size() + out.size());
        for (const Delta& d : out) {
            in_flight_.push_back(d);
            counts_.find(*d.ns)->second = Counts{};
        }
        unflushed_ = 0;
        last_flush_ = now;
        return out;
    }

    // A subtransaction committed into its parent: what it wrote now lives or dies with the parent.
    void subcommit(std::uint32_t owner, std::uint32_t parent) noexcept {
        for (Delta& d : in_flight_)
            if (d.owner == owner) d.owner = parent;
    }

    // A subtransaction rolled back: what it wrote comes back.
    void subabort(std::uint32_t owner) noexcept {
        std::size_t kept = 0;
        for (std::size_t i = 0; i < in_flight_.size(); ++i) {
            if (in_flight_[i].owner == owner)
                give_back(in_flight_[i]);
            else
                in_flight_[kept++] = in_flight_[i];
        }
        in_flight_.resize(kept);  // shrinking never allocates
    }

    // The transaction committed: the written counts are stored.
    void commit() noexcept { in_flight_.clear(); }

    // It aborted: every written count comes back. No allocation (entries are never erased).
    void restore() noexcept {
        for (const Delta& d : in_flight_) give_back(d);
        in_flight_.clear();
    }

private:
    struct Counts {
        std::int64_t hits = 0;
        std::int64_t misses = 0;
    };
    std::unordered_map<std::string, Counts> counts_;
    std::vector<Delta> in_flight_;
    void give_back(const Delta& d) noexcept {
        auto it = counts_.find(*d.ns);
        if (it == counts_.end()) return;
        it->second.hits += d.hits;
        it->second.misses += d.misses;
        unflushed_ += d.hits + d.misses;
    }

    std::int64_t unflushed_ = 0;
    Micros last_flush_ = 0;
};

}  // namespace convo
