// Where configuration values come from: the environment, over an optional file of KEY=VALUE
// lines named by CONVO_SIDECAR_CONFIG_FILE (the environment wins).
#pragma once

#include <map>
#include <optional>
#include <string>

namespace convo::sidecar {

class ConfigSource {
public:
    explicit ConfigSource(const std::map<std::string, std::string>& env);

    // The value of `name`; unset and empty are the same.
    std::optional<std::string> get(const std::string& name) const;

private:
    std::map<std::string, std::string> values_;
};

// The whole content of the file at `path`; `variable` names the setting in the error message.
std::string read_config_file(const std::string& path, const std::string& variable);

}  // namespace convo::sidecar
