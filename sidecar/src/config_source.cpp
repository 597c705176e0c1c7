// Configuration values: the environment over the optional KEY=VALUE file.
#include "config_source.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace convo::sidecar {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// KEY=VALUE lines; blank lines and lines starting with '#' are skipped; a value may be quoted.
// Errors give the line number only: the line may hold a secret.
void parse_config_file(const std::string& text, std::map<std::string, std::string>& into) {
    std::istringstream lines(text);
    std::string raw;
    for (int number = 1; std::getline(lines, raw); ++number) {
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') continue;
        auto eq = line.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            throw std::invalid_argument("CONVO_SIDECAR_CONFIG_FILE: line " + std::to_string(number) +
                                        " is not KEY=VALUE");
        }
        std::string_view value = trim(line.substr(eq + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
            value = value.substr(1, value.size() - 2);
        }
        into[std::string(trim(line.substr(0, eq)))] = std::string(value);
    }
}

}  // namespace

std::string read_config_file(const std::string& path, const std::string& variable) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::invalid_argument(variable + ": cannot read " + path + ": " + std::strerror(errno));
    }
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) throw std::invalid_argument(variable + ": cannot read " + path);
    return content.str();
}

ConfigSource::ConfigSource(const std::map<std::string, std::string>& env) {
    auto file = env.find("CONVO_SIDECAR_CONFIG_FILE");
    if (file != env.end() && !file->second.empty()) {
        parse_config_file(read_config_file(file->second, "CONVO_SIDECAR_CONFIG_FILE"), values_);
    }
    for (const auto& [name, value] : env) {
        if (!value.empty()) values_[name] = value;
    }
}

std::optional<std::string> ConfigSource::get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end() || it->second.empty()) return std::nullopt;
    return it->second;
}

}  // namespace convo::sidecar
