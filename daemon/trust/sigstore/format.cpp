#include "trust/sigstore/format.hpp"

#include "common/encoding.hpp"
#include "common/error.hpp"
#include "common/json.hpp"

namespace vmd::trust {

namespace {

constexpr int kMaxDepth = 64;

// expect_object checks one level; untrusted "optional" content is checked at every depth.
void reject_duplicates(json::Element element, json::Context ctx, int depth) {
    if (depth > kMaxDepth) {
        fail(ctx.code, "{}: expected JSON nested at most {} deep, found deeper", ctx.what,
             kMaxDepth);
    }
    if (element.is_object()) {
        for (auto field : json::expect_object(element, ctx)) {
            reject_duplicates(field.value, ctx, depth + 1);
        }
    } else if (element.is_array()) {
        for (auto item : json::expect_array(element, ctx)) {
            reject_duplicates(item, ctx, depth + 1);
        }
    }
}

}  // namespace

SigstoreBlob parse_sigstore_blob(std::string_view blob) {
    constexpr json::Context ctx{Errc::SignatureInvalid, "sigstore signature JSON"};
    if (!blob.starts_with(kSigstoreBlobPrefix)) {
        fail(ctx.code, "{}: expected the prefix \\0sigstore-json\\n, found another format",
             ctx.what);
    }
    auto doc = json::Document::parse(blob.substr(kSigstoreBlobPrefix.size()), ctx.code, ctx.what);
    auto object = json::expect_object(doc.root(), ctx, {{"mimeType", "payload", "annotations"}});
    SigstoreBlob out;
    out.mime_type = json::expect_string(json::require(object, "mimeType", ctx), ctx);
    if (auto payload = json::require(object, "payload", ctx); !payload.is_null()) {
        auto decoded = base64_decode(json::expect_string(payload, ctx));
        if (!decoded) {
            fail(ctx.code, "{}: expected standard base64 in \"payload\", found invalid characters",
                 ctx.what);
        }
        out.payload = std::move(*decoded);
    }
    if (auto annotations = json::find(object, "annotations");
        annotations && !annotations->is_null()) {
        constexpr json::Context actx{Errc::SignatureInvalid, "sigstore signature annotations"};
        for (auto field : json::expect_object(*annotations, actx)) {
            out.annotations.emplace(std::string(field.key),
                                    std::string(json::expect_string(field.value, actx)));
        }
    }
    return out;
}

SigstorePayload parse_sigstore_payload(std::string_view payload) {
    constexpr json::Context ctx{Errc::SignatureInvalid, "sigstore payload"};
    auto doc = json::Document::parse(payload, ctx.code, ctx.what);
    auto root = json::expect_exact_object(doc.root(), ctx, {"critical", "optional"});
    auto optional = json::require(root, "optional", ctx);
    if (!optional.is_null()) {
        constexpr json::Context octx{Errc::SignatureInvalid, "sigstore payload \"optional\""};
        json::expect_object(optional, octx);
        reject_duplicates(optional, octx, 0);
    }
    constexpr json::Context cctx{Errc::SignatureInvalid, "sigstore payload \"critical\""};
    auto critical = json::expect_exact_object(json::require(root, "critical", ctx), cctx,
                                              {"identity", "image", "type"});
    auto type = json::expect_string(json::require(critical, "type", cctx), cctx);
    if (type != kSigstoreSignatureType) {
        fail(Errc::SignatureInvalid, "sigstore payload: expected type {}, found {}",
             json::quote(kSigstoreSignatureType), json::quote(type));
    }
    constexpr json::Context ictx{Errc::SignatureInvalid, "sigstore payload \"critical.image\""};
    auto image = json::expect_exact_object(json::require(critical, "image", cctx), ictx,
                                           {"docker-manifest-digest"});
    constexpr json::Context idctx{Errc::SignatureInvalid, "sigstore payload \"critical.identity\""};
    auto identity = json::expect_exact_object(json::require(critical, "identity", cctx), idctx,
                                              {"docker-reference"});
    SigstorePayload out;
    out.manifest_digest =
        json::expect_string(json::require(image, "docker-manifest-digest", ictx), ictx);
    out.docker_reference =
        json::expect_string(json::require(identity, "docker-reference", idctx), idctx);
    return out;
}

}  // namespace vmd::trust
