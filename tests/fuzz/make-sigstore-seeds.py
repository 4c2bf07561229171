#!/usr/bin/env python3
"""Regenerates the trust material and seeds of fuzz_sigstore and fuzz_rekor.

Writes keys/ (public material only: a root CA, a Rekor key, a signing key; the private keys
are thrown away) and corpus/sigstore/gen-*, corpus/rekor/gen-*: signature blobs that pass
every check of their scope in fuzz_sigstore.cpp, so that mutations start deep in the code.
Needs python3-cryptography (a dev tool only; its outputs are committed). Rerunning replaces
the keys, which invalidates the old gen-* seeds: they are rewritten together.
"""
import base64
import datetime
import hashlib
import json
import pathlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

HERE = pathlib.Path(__file__).resolve().parent
MANIFEST = HERE / "corpus" / "manifest" / "cosign-valid.json"
ISSUER = "https://oidc.fuzz.example"
EMAIL = "signer@fuzz.example"
LOG_TIME = 1700000000
LOG_ID = "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def public_pem(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def when(unix):
    return datetime.datetime.fromtimestamp(unix, datetime.timezone.utc)


def cert(name, key, issuer_cert, issuer_key, ca, emails=(), fulcio_issuer=None, short=False):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer_cert.subject if issuer_cert else subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               # Fulcio leaves live minutes (checked at the Rekor time); others until 2100.
               .not_valid_before(when(LOG_TIME - 3600 if short else 0))
               .not_valid_after(when(LOG_TIME + 3600 if short else 4102444800))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), True)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(e) for e in emails]), True)
    if fulcio_issuer:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.1"),
                                       fulcio_issuer.encode()), False)
        utf8 = fulcio_issuer.encode()
        builder = builder.add_extension(
            x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.8"),
                                       bytes([0x0c, len(utf8)]) + utf8), False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM)


def payload(identity, manifest):
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    return json.dumps({"critical": {"identity": {"docker-reference": identity},
                                    "image": {"docker-manifest-digest": digest},
                                    "type": "cosign container image signature"},
                       "optional": None}, separators=(",", ":")).encode()


def bundle(rekor_key, logged_pem, signature, signed_payload):
    body = json.dumps({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256",
                          "value": hashlib.sha256(signed_payload).hexdigest()}},
        "signature": {"content": b64(signature), "publicKey": {"content": b64(logged_pem)}}}},
        separators=(",", ":"))
    set_payload = {"body": b64(body), "integratedTime": LOG_TIME, "logID": LOG_ID,
                   "logIndex": 42}
    canonical = json.dumps(set_payload, sort_keys=True, separators=(",", ":")).encode()
    set_signature = rekor_key.sign(canonical, ec.ECDSA(hashes.SHA256()))
    return json.dumps({"SignedEntryTimestamp": b64(set_signature), "Payload": set_payload})


def blob(signed_payload, signature, annotations):
    annotations = {"dev.cosignproject.cosign/signature": b64(signature), **annotations}
    document = {"mimeType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "payload": b64(signed_payload), "annotations": annotations}
    return b"\x00sigstore-json\n" + json.dumps(document).encode()


def main():
    manifest = MANIFEST.read_bytes()
    new_key = lambda: ec.generate_private_key(ec.SECP256R1())
    root_key, intermediate_key = ec.generate_private_key(ec.SECP384R1()), new_key()
    rekor_key, signer_key, leaf_key = new_key(), new_key(), new_key()
    root = cert("fuzz root", root_key, None, None, True)
    intermediate = cert("fuzz intermediate", intermediate_key, root, root_key, True)
    fulcio_leaf = cert("fuzz fulcio leaf", leaf_key, root, root_key, False, [EMAIL], ISSUER, True)
    pki_leaf = cert("fuzz pki leaf", leaf_key, intermediate, intermediate_key, False, [EMAIL])

    keys = HERE / "keys"
    (keys / "fuzz-ca.pem").write_bytes(pem(root))
    (keys / "fuzz-rekor.pub").write_bytes(public_pem(rekor_key))
    (keys / "fuzz-signer.pub").write_bytes(public_pem(signer_key))

    sign = lambda key, data: key.sign(data, ec.ECDSA(hashes.SHA256()))
    seeds = HERE / "corpus" / "sigstore"
    rekor_seeds = HERE / "corpus" / "rekor"
    seeds.mkdir(parents=True, exist_ok=True)
    rekor_seeds.mkdir(parents=True, exist_ok=True)

    keyed = payload("fuzz.example/keyed:latest", manifest)
    keyed_sig = sign(signer_key, keyed)
    keyed_bundle = bundle(rekor_key, public_pem(signer_key), keyed_sig, keyed)
    (seeds / "gen-keyed-rekor").write_bytes(
        blob(keyed, keyed_sig, {"dev.sigstore.cosign/bundle": keyed_bundle}))
    (rekor_seeds / "gen-keyed-bundle.json").write_text(keyed_bundle)

    fulcio = payload("fuzz.example/fulcio:latest", manifest)
    fulcio_sig = sign(leaf_key, fulcio)
    fulcio_bundle = bundle(rekor_key, pem(fulcio_leaf), fulcio_sig, fulcio)
    (seeds / "gen-fulcio").write_bytes(blob(fulcio, fulcio_sig, {
        "dev.sigstore.cosign/certificate": pem(fulcio_leaf).decode(),
        "dev.sigstore.cosign/chain": pem(root).decode(),
        "dev.sigstore.cosign/bundle": fulcio_bundle}))
    (rekor_seeds / "gen-fulcio-bundle.json").write_text(fulcio_bundle)

    pki = payload("fuzz.example/pki:latest", manifest)
    pki_sig = sign(leaf_key, pki)
    (seeds / "gen-pki").write_bytes(blob(pki, pki_sig, {
        "dev.sigstore.cosign/certificate": pem(pki_leaf).decode(),
        "dev.sigstore.cosign/chain": (pem(intermediate) + pem(root)).decode()}))


if __name__ == "__main__":
    main()
