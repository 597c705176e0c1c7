// Prometheus text format (see registry.hpp).
#include "metrics/registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <mutex>
#include <stdexcept>

namespace convo::sidecar::metrics {

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
    for (std::size_t i = 0; i <= bounds.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
    // Stored per bucket (not cumulative): one increment per observation.
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative() const {
    std::vector<std::uint64_t> out(bounds_.size() + 1);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        running += buckets_[i].load(std::memory_order_relaxed);
        out[i] = running;
    }
    return out;
}

template <typename Child>
Child& Family<Child>::with(std::initializer_list<std::string_view> values) {
    if (values.size() != label_names_.size()) throw std::logic_error(name_ + ": wrong number of label values");
    thread_local std::string key;
    key.clear();
    for (auto value : values) {
        key.append(value);
        key.push_back('\xff');  // never in UTF-8 text, so keys cannot collide
    }
    {
        std::shared_lock lock(mutex_);
        auto it = children_.find(std::string_view(key));
        if (it != children_.end()) return *it->second.child;
    }
    std::unique_lock lock(mutex_);
    auto [it, inserted] = children_.try_emplace(key);
    if (inserted) {
        it->second.values.assign(values.begin(), values.end());
        it->second.child = make();
    }
    return *it->second.child;
}

template <typename Child>
void Family<Child>::each(const std::function<void(const std::vector<std::string>&, const Child&)>& visit) const {
    std::shared_lock lock(mutex_);
    for (const auto& [key, entry] : children_) visit(entry.values, *entry.child);
}

template class Family<Counter>;
template class Family<Histogram>;

void CounterFamily::render(std::string& out) const {
    write_header(out, name_, help_, "counter");
    each([&](const std::vector<std::string>& values, const Counter& counter) {
        write_sample(out, name_, label_names_, values, std::to_string(counter.value()));
    });
}

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                                 std::vector<double> bounds)
    : Family(std::move(name), std::move(help), std::move(label_names)), bounds_(std::move(bounds)) {
    std::sort(bounds_.begin(), bounds_.end());
}

void HistogramFamily::render(std::string& out) const {
    write_header(out, name_, help_, "histogram");
    std::vector<std::string> names = label_names_;
    names.push_back("le");
    const std::string bucket = name_ + "_bucket";
    each([&](const std::vector<std::string>& values, const Histogram& histogram) {
        auto counts = histogram.cumulative();
        std::vector<std::string> with_le = values;
        with_le.emplace_back();
        for (std::size_t i = 0; i < counts.size(); ++i) {
            with_le.back() = i < bounds_.size() ? format_value(bounds_[i]) : "+Inf";
            write_sample(out, bucket, names, with_le, std::to_string(counts[i]));
        }
        write_sample(out, name_ + "_sum", label_names_, values, format_value(histogram.sum()));
        write_sample(out, name_ + "_count", label_names_, values, std::to_string(counts.back()));
    });
}

CounterFamily& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
    counters_.push_back(std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(label_names)));
    return *counters_.back();
}

HistogramFamily& Registry::histogram(std::string name, std::string help, std::vector<std::string> label_names,
                                     std::vector<double> bounds) {
    histograms_.push_back(std::make_unique<HistogramFamily>(std::move(name), std::move(help),
                                                            std::move(label_names), std::move(bounds)));
    return *histograms_.back();
}

void Registry::add_collector(std::function<void(std::string&)> collect) {
    collectors_.push_back(std::move(collect));
}

std::string Registry::render() const {
    std::string out;
    out.reserve(8192);
    for (const auto& family : counters_) family->render(out);
    for (const auto& family : histograms_) family->render(out);
    for (const auto& collect : collectors_) collect(out);
    return out;
}

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out.push_back(c);
    }
    return out;
}

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char buffer[32];
    // General format (0.0005, not 5e-04), shortest text that reads back as the same double.
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general);
    return std::string(buffer, end);
}

void write_header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
    out.append("# HELP ").append(name).push_back(' ');
    for (char c : help) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out.push_back(c);
    }
    out.append("\n# TYPE ").append(name).append(" ").append(type).push_back('\n');
}

void write_sample(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, std::string_view value) {
    out.append(name);
    if (!label_names.empty()) {
        out.push_back('{');
        for (std::size_t i = 0; i < label_names.size(); ++i) {
            if (i) out.push_back(',');
            out.append(label_names[i]).append("=\"").append(escape_label_value(label_values[i])).push_back('"');
        }
        out.push_back('}');
    }
    out.append(" ").append(value).push_back('\n');
}

}  // namespace convo::sidecar::metrics
