// Response construction and target splitting (see message.hpp).
#include "http/message.hpp"

namespace convo::sidecar::http {

Response make_response(bhttp::status status, std::string_view content_type, std::string body) {
    Response response{status, 11};
    response.set(bhttp::field::server, "convo-sidecar");
    if (!content_type.empty()) response.set(bhttp::field::content_type, content_type);
    response.body() = std::move(body);
    return response;
}

std::string_view target_path(std::string_view target) {
    return target.substr(0, target.find('?'));
}

std::string_view target_query(std::string_view target) {
    auto question = target.find('?');
    return question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
}

}  // namespace convo::sidecar::http
