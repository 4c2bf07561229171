// Parsing of policy requirements (containers-policy.json(5), containers/image
// signature/policy_config*.go): exact key sets, and every cross-field rule checked up front.
#include <algorithm>
#include <array>

#include "common/encoding.hpp"
#include "common/error.hpp"
#include "trust/policy/policy_data.hpp"

namespace vmd::trust {

namespace {

// Reads the fields of one JSON object, remembering which optional ones were present.
class Fields {
  public:
    Fields(json::Element element, std::string what, std::initializer_list<std::string_view> allowed)
        : what_(std::move(what)), object_(json::expect_object(element, ctx(), allowed)) {}

    json::Context ctx() const { return {Errc::PolicyInvalid, what_}; }
    const std::string& what() const { return what_; }
    bool has(std::string_view key) const { return json::find(object_, key).has_value(); }
    json::Element get(std::string_view key) const { return json::require(object_, key, ctx()); }

    std::string string(std::string_view key) const {
        std::string value(json::expect_string(get(key), ctx()));
        if (value.empty()) {
            fail(Errc::PolicyInvalid, "{}: expected a non-empty \"{}\", found \"\"", what_, key);
        }
        return value;
    }
    KeySource path(std::string_view key) const {
        auto value = string(key);
        return {KeySource::Kind::Path, value,
                fmt::format("{} {} {}", what_, key, json::shown(value))};
    }
    KeySource data(std::string_view key) const {
        return decode(json::expect_string(get(key), ctx()), std::string(key));
    }
    std::vector<KeySource> paths(std::string_view key) const {
        std::vector<KeySource> out;
        for (auto item : non_empty_array(key)) {
            std::string value(json::expect_string(item, ctx()));
            if (value.empty()) {
                fail(Errc::PolicyInvalid, "{}: expected non-empty paths in \"{}\", found \"\"",
                     what_, key);
            }
            out.push_back(
                {KeySource::Kind::Path, value,
                 fmt::format("{} {}[{}] {}", what_, key, out.size(), json::shown(value))});
        }
        return out;
    }
    std::vector<KeySource> datas(std::string_view key) const {
        std::vector<KeySource> out;
        for (auto item : non_empty_array(key)) {
            out.push_back(
                decode(json::expect_string(item, ctx()), fmt::format("{}[{}]", key, out.size())));
        }
        return out;
    }
    // The key source among `keys` that is present; exactly one must be, unless `optional`.
    std::optional<std::string_view> one_of(std::initializer_list<std::string_view> keys,
                                           bool optional) const {
        std::optional<std::string_view> found;
        for (auto key : keys) {
            if (!has(key)) {
                continue;
            }
            if (found) {
                fail(Errc::PolicyInvalid, "{}: expected {} of {}, found both \"{}\" and \"{}\"",
                     what_, optional ? "at most one" : "exactly one", join(keys), *found, key);
            }
            found = key;
        }
        if (!found && !optional) {
            fail(Errc::PolicyInvalid, "{}: expected exactly one of {}, found none", what_,
                 join(keys));
        }
        return found;
    }

  private:
    json::Array non_empty_array(std::string_view key) const {
        auto array = json::expect_array(get(key), ctx());
        if (array.size() == 0) {
            fail(Errc::PolicyInvalid, "{}: expected a non-empty \"{}\", found []", what_, key);
        }
        return array;
    }
    KeySource decode(std::string_view base64, std::string name) const {
        auto bytes = base64_decode(base64);
        if (!bytes || bytes->empty()) {
            fail(Errc::PolicyInvalid, "{}: expected non-empty standard base64 in \"{}\", found {}",
                 what_, name, bytes ? "an empty value" : "invalid base64");
        }
        return {KeySource::Kind::Data, std::move(*bytes), fmt::format("{} {}", what_, name)};
    }
    static std::string join(std::initializer_list<std::string_view> keys) {
        std::string out;
        for (auto key : keys) {
            out += (out.empty() ? "" : ", ") + std::string(key);
        }
        return out;
    }

    std::string what_;
    json::Object object_;
};

// The single key source (or list) named `key` of a requirement.
std::vector<KeySource> key_sources(const Fields& f, std::string_view key) {
    if (key == "keyPath" || key == "rekorPublicKeyPath") {
        return {f.path(key)};
    }
    if (key == "keyPaths" || key == "rekorPublicKeyPaths") {
        return f.paths(key);
    }
    if (key == "keyData" || key == "rekorPublicKeyData") {
        return {f.data(key)};
    }
    return f.datas(key);
}

SignedIdentity identity_or_default(const Fields& f) {
    if (!f.has("signedIdentity")) {
        return SignedIdentity{};
    }
    return parse_signed_identity(f.get("signedIdentity"), f.what() + ".signedIdentity");
}

SignedBy parse_signed_by(json::Element element, const std::string& where) {
    Fields f(element, where,
             {"type", "keyType", "keyPath", "keyPaths", "keyData", "signedIdentity"});
    SignedBy out;
    out.key_type = json::expect_string(f.get("keyType"), f.ctx());
    constexpr std::array<std::string_view, 4> kKeyTypes = {"GPGKeys", "signedByGPGKeys",
                                                           "X509Certificates", "signedByX509CAs"};
    if (std::find(kKeyTypes.begin(), kKeyTypes.end(), out.key_type) == kKeyTypes.end()) {
        fail(Errc::PolicyInvalid,
             "{}: expected keyType GPGKeys, signedByGPGKeys, X509Certificates or "
             "signedByX509CAs, found {}",
             where, json::quote(out.key_type));
    }
    auto source = f.one_of({"keyPath", "keyPaths", "keyData"}, false);
    out.keys = key_sources(f, *source);
    out.identity = identity_or_default(f);
    return out;
}

FulcioTrust parse_fulcio(json::Element element, const std::string& where) {
    Fields f(element, where + ".fulcio", {"caPath", "caData", "oidcIssuer", "subjectEmail"});
    FulcioTrust out;
    auto ca = f.one_of({"caPath", "caData"}, false);
    out.ca = *ca == "caPath" ? f.path("caPath") : f.data("caData");
    out.oidc_issuer = f.string("oidcIssuer");
    out.subject_email = f.string("subjectEmail");
    return out;
}

PkiTrust parse_pki(json::Element element, const std::string& where) {
    Fields f(element, where + ".pki",
             {"caRootsPath", "caRootsData", "caIntermediatesPath", "caIntermediatesData",
              "subjectEmail", "subjectHostname"});
    PkiTrust out;
    auto roots = f.one_of({"caRootsPath", "caRootsData"}, false);
    out.ca_roots = *roots == "caRootsPath" ? f.path("caRootsPath") : f.data("caRootsData");
    if (auto inter = f.one_of({"caIntermediatesPath", "caIntermediatesData"}, true)) {
        out.ca_intermediates = *inter == "caIntermediatesPath" ? f.path(*inter) : f.data(*inter);
    }
    if (!f.has("subjectEmail") && !f.has("subjectHostname")) {
        fail(Errc::PolicyInvalid, "{}: expected subjectEmail or subjectHostname, found neither",
             f.what());
    }
    if (f.has("subjectEmail")) {
        out.subject_email = f.string("subjectEmail");
    }
    if (f.has("subjectHostname")) {
        out.subject_hostname = f.string("subjectHostname");
    }
    return out;
}

SigstoreSigned parse_sigstore_signed(json::Element element, const std::string& where) {
    Fields f(element, where,
             {"type", "keyPath", "keyPaths", "keyData", "keyDatas", "fulcio", "pki",
              "rekorPublicKeyPath", "rekorPublicKeyPaths", "rekorPublicKeyData",
              "rekorPublicKeyDatas", "signedIdentity"});
    SigstoreSigned out;
    auto source = *f.one_of({"keyPath", "keyPaths", "keyData", "keyDatas", "fulcio", "pki"}, false);
    if (source == "fulcio") {
        out.fulcio = parse_fulcio(f.get("fulcio"), where);
    } else if (source == "pki") {
        out.pki = parse_pki(f.get("pki"), where);
    } else {
        out.keys = key_sources(f, source);
    }
    if (auto rekor = f.one_of({"rekorPublicKeyPath", "rekorPublicKeyPaths", "rekorPublicKeyData",
                               "rekorPublicKeyDatas"},
                              true)) {
        if (out.pki) {
            fail(Errc::PolicyInvalid, "{}: expected no Rekor key with \"pki\", found \"{}\"", where,
                 *rekor);
        }
        out.rekor_keys = key_sources(f, *rekor);
    } else if (out.fulcio) {
        fail(Errc::PolicyInvalid,
             "{}: expected a Rekor key (rekorPublicKeyPath(s)/Data(s)) with \"fulcio\", found none",
             where);
    }
    out.identity = identity_or_default(f);
    return out;
}

}  // namespace

std::string_view requirement_type(const Requirement& requirement) {
    struct Name {
        std::string_view operator()(const InsecureAcceptAnything&) {
            return "insecureAcceptAnything";
        }
        std::string_view operator()(const Reject&) { return "reject"; }
        std::string_view operator()(const SignedBy&) { return "signedBy"; }
        std::string_view operator()(const SignedBaseLayer&) { return "signedBaseLayer"; }
        std::string_view operator()(const SigstoreSigned&) { return "sigstoreSigned"; }
    };
    return std::visit(Name{}, requirement);
}

Requirement parse_requirement(json::Element element, std::string_view where_view) {
    std::string where(where_view);
    json::Context ctx{Errc::PolicyInvalid, where};
    auto object = json::expect_object(element, ctx);
    auto type = json::expect_string(json::require(object, "type", ctx), ctx);
    if (type == "insecureAcceptAnything") {
        json::expect_object(element, ctx, {{"type"}});
        return InsecureAcceptAnything{};
    }
    if (type == "reject") {
        json::expect_object(element, ctx, {{"type"}});
        return Reject{};
    }
    if (type == "signedBy") {
        return parse_signed_by(element, where);
    }
    if (type == "signedBaseLayer") {
        Fields f(element, where, {"type", "baseLayerIdentity"});
        return SignedBaseLayer{
            parse_signed_identity(f.get("baseLayerIdentity"), where + ".baseLayerIdentity")};
    }
    if (type == "sigstoreSigned") {
        return parse_sigstore_signed(element, where);
    }
    fail(Errc::PolicyInvalid,
         "{}: expected type insecureAcceptAnything, reject, signedBy, signedBaseLayer or "
         "sigstoreSigned, found {}",
         where, json::quote(type));
}

}  // namespace vmd::trust
