#include "trust/sigstore/verify.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "common/json.hpp"
#include "common/trusted_file_cache.hpp"
#include "trust/sigstore/certs.hpp"
#include "trust/sigstore/rekor.hpp"

namespace vmd::trust {

namespace {

std::vector<PublicKey> load_keys(const std::vector<KeySource>& sources) {
    std::vector<PublicKey> keys;
    keys.reserve(sources.size());
    for (const auto& source : sources) {
        keys.push_back(PublicKey::from_pem(load_key_source(source), source.origin));
    }
    return keys;
}

std::string_view annotation(const SigstoreBlob& blob, std::string_view key) {
    auto it = blob.annotations.find(key);
    if (it == blob.annotations.end()) {
        fail(Errc::SignatureInvalid, "expected annotation {}, found none", key);
    }
    return it->second;
}

// The chain annotation's certificates except the last (its root, which is never trusted from
// the signature), appended to `out`.
void add_chain_intermediates(const SigstoreBlob& blob, std::vector<X509Ptr>& out) {
    auto it = blob.annotations.find(kChainAnnotation);
    if (it == blob.annotations.end() || it->second.empty()) {
        return;
    }
    auto chain =
        load_certificates(it->second, Errc::SignatureInvalid, "certificate chain annotation");
    chain.pop_back();
    for (auto& cert : chain) {
        out.push_back(std::move(cert));
    }
}

std::vector<X509*> borrow(const std::vector<X509Ptr>& a, const std::vector<X509Ptr>& b = {}) {
    std::vector<X509*> out;
    for (const auto* list : {&a, &b}) {
        for (const auto& cert : *list) {
            out.push_back(cert.get());
        }
    }
    return out;
}

void require_chain(X509* leaf, const ChainTrust& trust) {
    if (auto failure = verify_chain(leaf, trust); !failure.empty()) {
        fail(Errc::SignatureInvalid, "{}", failure);
    }
}

void require_email(X509* cert, std::string_view email) {
    auto emails = san_emails(cert);
    if (std::find(emails.begin(), emails.end(), email) == emails.end()) {
        std::string found;
        for (const auto& e : emails) {
            found += (found.empty() ? "" : ", ") + json::quote(e);
        }
        fail(Errc::SignatureInvalid, "certificate: expected e-mail {}, found [{}]",
             json::quote(email), found);
    }
}

void require_signed_by(const PublicKey& key, std::string_view payload, std::string_view signature,
                       std::string_view whose) {
    if (!key.verify(payload, signature)) {
        fail(Errc::SignatureInvalid, "{} verification failed with the {} key",
             key_family(key.algorithm()), whose);
    }
}

void verify_fulcio(const FulcioTrust& fulcio, const LoadedTrust& trust, const SigstoreBlob& blob,
                   std::string_view signature) {
    auto leaf = load_leaf_certificate(annotation(blob, kCertificateAnnotation));
    auto time = verify_rekor_set(trust.rekor_keys, annotation(blob, kBundleAnnotation),
                                 {certificate_der(leaf.get()), signature, blob.payload});
    std::vector<X509Ptr> intermediates;
    add_chain_intermediates(blob, intermediates);
    require_chain(leaf.get(), {trust.ca_roots, borrow(intermediates), time});
    auto issuer = fulcio_issuer(leaf.get());
    if (issuer != fulcio.oidc_issuer) {
        fail(Errc::SignatureInvalid, "certificate: expected OIDC issuer {}, found {}",
             json::quote(fulcio.oidc_issuer), json::quote(issuer));
    }
    require_email(leaf.get(), fulcio.subject_email);
    require_signed_by(certificate_key(leaf.get()), blob.payload, signature, "certificate's");
}

void verify_pki(const PkiTrust& pki, const LoadedTrust& trust, const SigstoreBlob& blob,
                std::string_view signature) {
    auto leaf = load_leaf_certificate(annotation(blob, kCertificateAnnotation));
    std::vector<X509Ptr> intermediates;
    add_chain_intermediates(blob, intermediates);
    require_chain(leaf.get(),
                  {trust.ca_roots, borrow(trust.ca_intermediates, intermediates), std::nullopt});
    if (!pki.subject_email.empty()) {
        require_email(leaf.get(), pki.subject_email);
    }
    if (!pki.subject_hostname.empty() && !matches_hostname(leaf.get(), pki.subject_hostname)) {
        fail(Errc::SignatureInvalid,
             "certificate: expected to be valid for host {}, found it is not",
             json::quote(pki.subject_hostname));
    }
    require_signed_by(certificate_key(leaf.get()), blob.payload, signature, "certificate's");
}

void verify_with_keys(const LoadedTrust& trust, const SigstoreBlob& blob,
                      std::string_view signature) {
    std::string reasons;
    for (std::size_t i = 0; i < trust.keys.size(); ++i) {
        const auto& key = trust.keys[i];
        if (key.verify(blob.payload, signature)) {
            if (!trust.rekor_keys.empty()) {
                verify_rekor_set(trust.rekor_keys, annotation(blob, kBundleAnnotation),
                                 {key.spki_der(), signature, blob.payload});
            }
            return;
        }
        reasons +=
            fmt::format("{}{} verification failed with key {} of {}", reasons.empty() ? "" : ", ",
                        key_family(key.algorithm()), i + 1, trust.keys.size());
    }
    fail(Errc::SignatureInvalid, "{}", reasons);
}

}  // namespace

LoadedTrust load_trust(const SigstoreSigned& requirement) {
    LoadedTrust trust;
    trust.keys = load_keys(requirement.keys);
    trust.rekor_keys = load_keys(requirement.rekor_keys);
    for (std::size_t i = 0; i < trust.rekor_keys.size(); ++i) {
        if (key_family(trust.rekor_keys[i].algorithm()) != "ECDSA") {
            fail(Errc::PolicyInvalid, "{}: expected an ECDSA Rekor key, found {}",
                 requirement.rekor_keys[i].origin, key_family(trust.rekor_keys[i].algorithm()));
        }
    }
    auto load_certs = [](const KeySource& source) {
        return load_certificates(load_key_source(source), Errc::PolicyInvalid, source.origin);
    };
    if (requirement.fulcio) {
        trust.ca_roots = load_certs(requirement.fulcio->ca);
    }
    if (requirement.pki) {
        trust.ca_roots = load_certs(requirement.pki->ca_roots);
        if (requirement.pki->ca_intermediates) {
            trust.ca_intermediates = load_certs(*requirement.pki->ca_intermediates);
        }
    }
    return trust;
}

std::shared_ptr<const LoadedTrust> cached_trust(const SigstoreSigned& requirement) {
    // The cache key names every source load_trust reads; the files are the paths among them.
    KeySourceSet sources;
    for (const auto* group : {&requirement.keys, &requirement.rekor_keys}) {
        sources.next_group();
        for (const auto& source : *group) {
            sources.add(source);
        }
    }
    sources.next_group();
    if (requirement.fulcio) {
        sources.add(requirement.fulcio->ca);
    }
    sources.next_group();
    if (requirement.pki) {
        sources.add(requirement.pki->ca_roots);
        sources.next_group();
        if (requirement.pki->ca_intermediates) {
            sources.add(*requirement.pki->ca_intermediates);
        }
    }
    static TrustedFileCache<LoadedTrust> cache;
    return cache.get(sources.cache_key, sources.files, [&] { return load_trust(requirement); });
}

void verify_blob_signature(const SigstoreSigned& requirement, const LoadedTrust& trust,
                           const SigstoreBlob& blob, std::string_view signature) {
    if (requirement.fulcio) {
        verify_fulcio(*requirement.fulcio, trust, blob, signature);
    } else if (requirement.pki) {
        verify_pki(*requirement.pki, trust, blob, signature);
    } else {
        verify_with_keys(trust, blob, signature);
    }
}

}  // namespace vmd::trust
