#include "common/levels.hpp"

#include "common/error.hpp"
#include "common/json.hpp"

namespace vmd {

std::string_view to_string(SignatureLevel level) {
    switch (level) {
        case SignatureLevel::Off:
            return "off";
        case SignatureLevel::Check:
            return "check";
        case SignatureLevel::Require:
            return "require";
    }
    return "require";
}

std::string_view to_string(VerityLevel level) {
    switch (level) {
        case VerityLevel::Off:
            return "off";
        case VerityLevel::Digest:
            return "digest";
        case VerityLevel::Enforce:
            return "enforce";
    }
    return "enforce";
}

SignatureLevel parse_signature_level(std::string_view text) {
    if (text == "off") {
        return SignatureLevel::Off;
    }
    if (text == "check") {
        return SignatureLevel::Check;
    }
    if (text == "require") {
        return SignatureLevel::Require;
    }
    fail(Errc::InvalidArgument, "signature level: expected off, check or require, found {}",
         json::shown(text));
}

VerityLevel parse_verity_level(std::string_view text) {
    if (text == "off") {
        return VerityLevel::Off;
    }
    if (text == "digest") {
        return VerityLevel::Digest;
    }
    if (text == "enforce") {
        return VerityLevel::Enforce;
    }
    fail(Errc::InvalidArgument, "verity level: expected off, digest or enforce, found {}",
         json::shown(text));
}

}  // namespace vmd
