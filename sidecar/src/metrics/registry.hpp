// A small Prometheus registry: counter and histogram families with labels, rendered in the
// text exposition format (version 0.0.4). Hand-written: no Debian package of prometheus-cpp.
//
// Hot path: with() finds a child under a shared lock (a key built in a thread-local buffer, so
// no allocation once the child exists); updates are relaxed atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace convo::sidecar::metrics {

class Counter {
public:
    void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

class Histogram {
public:
    explicit Histogram(const std::vector<double>& bounds);
    void observe(double value);
    // Cumulative counts per bound (the last is +Inf = count), the sum and the count.
    std::vector<std::uint64_t> cumulative() const;
    double sum() const { return sum_.load(std::memory_order_relaxed); }

private:
    const std::vector<double>& bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // per bound, plus one for +Inf
    std::atomic<double> sum_{0};
};

// Children keyed by their label values, in the order of the family's label names.
template <typename Child>
class Family {
public:
    Family(std::string name, std::string help, std::vector<std::string> label_names)
        : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
    virtual ~Family() = default;

    Child& with(std::initializer_list<std::string_view> values);
    const std::string& name() const { return name_; }
    virtual void render(std::string& out) const = 0;

protected:
    virtual std::unique_ptr<Child> make() const = 0;
    // Calls `visit(label_values, child)` in label order.
    void each(const std::function<void(const std::vector<std::string>&, const Child&)>& visit) const;

    std::string name_, help_;
    std::vector<std::string> label_names_;

private:
    struct Entry {
        std::vector<std::string> values;
        std::unique_ptr<Child> child;
    };
    mutable std::shared_mutex mutex_;
    std::map<std::string, Entry, std::less<>> children_;
};

class CounterFamily final : public Family<Counter> {
public:
    using Family::Family;
    void render(std::string& out) const override;

private:
    std::unique_ptr<Counter> make() const override { return std::make_unique<Counter>(); }
};

class HistogramFamily final : public Family<Histogram> {
public:
    HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                    std::vector<double> bounds);
    void render(std::string& out) const override;

private:
    std::unique_ptr<Histogram> make() const override { return std::make_unique<Histogram>(bounds_); }
    std::vector<double> bounds_;
};

class Registry {
public:
    CounterFamily& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
    HistogramFamily& histogram(std::string name, std::string help, std::vector<std::string> label_names,
                               std::vector<double> bounds);
    // Appends metrics computed at scrape time (values read from elsewhere).
    void add_collector(std::function<void(std::string&)> collect);
    std::string render() const;

private:
    std::vector<std::unique_ptr<CounterFamily>> counters_;
    std::vector<std::unique_ptr<HistogramFamily>> histograms_;
    std::vector<std::function<void(std::string&)>> collectors_;
};

// Text-format pieces, for collectors.
std::string escape_label_value(std::string_view value);
std::string format_value(double value);
void write_header(std::string& out, std::string_view name, std::string_view help, std::string_view type);
// `name{label="value",...} value\n`; names and values are parallel.
void write_sample(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, std::string_view value);

}  // namespace convo::sidecar::metrics
