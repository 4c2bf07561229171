#include "trust/policy/grammar.hpp"

#include <algorithm>

namespace vmd::trust::grammar {

namespace {

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool is_word(char c) {
    return is_alnum(c) || c == '_';
}
bool is_hex_lower(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_domain_component(std::string_view text) {
    if (text.empty() || !is_alnum(text.front()) || !is_alnum(text.back())) {
        return false;
    }
    return std::all_of(text.begin(), text.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

bool is_ipv6_literal(std::string_view text) {
    if (text.size() < 3 || text.front() != '[' || text.back() != ']') {
        return false;
    }
    auto inner = text.substr(1, text.size() - 2);
    return std::all_of(inner.begin(), inner.end(), [](char c) {
        return c == ':' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
               (c >= 'A' && c <= 'F');
    });
}

}  // namespace

bool is_domain_name(std::string_view text) {
    while (true) {
        auto dot = text.find('.');
        if (!is_domain_component(text.substr(0, dot))) {
            return false;
        }
        if (dot == std::string_view::npos) {
            return true;
        }
        text.remove_prefix(dot + 1);
    }
}

bool is_domain(std::string_view text) {
    std::string_view host = text;
    // A port follows the last ':' unless that ':' is inside an IPv6 literal.
    auto colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(']', colon) == std::string_view::npos) {
        auto port = text.substr(colon + 1);
        if (port.empty() ||
            !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return false;
        }
        host = text.substr(0, colon);
    }
    return is_domain_name(host) || is_ipv6_literal(host);
}

bool is_path_component(std::string_view text) {
    size_t i = 0;
    auto alnum_run = [&] {
        size_t start = i;
        while (i < text.size() && is_lower_alnum(text[i])) {
            ++i;
        }
        return i > start;
    };
    if (!alnum_run()) {
        return false;
    }
    while (i < text.size()) {
        if (text[i] == '.') {
            ++i;
        } else if (text[i] == '_') {
            i += text.substr(i, 2) == "__" ? 2 : 1;
        } else if (text[i] == '-') {
            while (i < text.size() && text[i] == '-') {
                ++i;
            }
        } else {
            return false;
        }
        if (!alnum_run()) {
            return false;
        }
    }
    return true;
}

bool is_tag(std::string_view text) {
    if (text.empty() || text.size() > kTagLengthMax || !is_word(text.front())) {
        return false;
    }
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

bool is_digest(std::string_view text) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        return false;
    }
    auto algorithm = text.substr(0, colon);
    auto hex = text.substr(colon + 1);
    size_t want = algorithm == "sha256"   ? 64
                  : algorithm == "sha384" ? 96
                  : algorithm == "sha512" ? 128
                                          : 0;
    return want != 0 && hex.size() == want && std::all_of(hex.begin(), hex.end(), is_hex_lower);
}

bool is_name(std::string_view text) {
    if (text.empty() || text.size() > kNameTotalLengthMax) {
        return false;
    }
    auto slash = text.find('/');
    auto first = text.substr(0, slash);
    if (!is_domain(first) && !is_path_component(first)) {
        return false;
    }
    while (slash != std::string_view::npos) {
        text.remove_prefix(slash + 1);
        slash = text.find('/');
        if (!is_path_component(text.substr(0, slash))) {
            return false;
        }
    }
    return true;
}

bool is_hex64(std::string_view text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(), is_hex_lower);
}

}  // namespace vmd::trust::grammar
