#!/usr/bin/env bash
# Regenerates the gen-* seeds of the OpenPGP fuzz targets (corpus/openpgp_*/) with gpg in a
# throw-away GNUPGHOME: key files (armored and binary), signed messages with every
# compression, and the bodies of their compressed packets. The containers/image seeds
# (ci-*) are copies of tests/data/containers-image-gpg/ files.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=$here/../data/containers-image-gpg
corpus=$here/corpus
home=$(mktemp -d "${TMPDIR:-/tmp}/vmd-openpgp-seeds.XXXXXX")
trap 'gpgconf --homedir "$home" --kill all 2>/dev/null || true; rm -rf "$home"' EXIT
chmod 700 "$home"
gpg() { command gpg --homedir "$home" --batch --quiet --pinentry-mode loopback --passphrase '' "$@"; }

mkdir -p "$corpus"/openpgp_{packets,armor,decompress,keyring,verify}
for algo in ed25519 nistp256 rsa2048 dsa2048; do
  gpg --quick-gen-key "seed-$algo <$algo@example.com>" "$algo" sign never
done
gpg --quick-gen-key "seed-subkey <subkey@example.com>" ed25519 cert never
primary=$(gpg --with-colons --list-keys '=seed-subkey <subkey@example.com>' | awk -F: '/^fpr/ {print $10; exit}')
gpg --quick-add-key "$primary" ed25519 sign never

for algo in ed25519 nistp256 dsa2048; do
  gpg --armor --export "$algo@example.com" >"$corpus/openpgp_armor/gen-$algo.asc"
  gpg --export "$algo@example.com" >"$corpus/openpgp_keyring/gen-$algo.gpg"
done
gpg --armor --export "subkey@example.com" >"$corpus/openpgp_keyring/gen-subkey.asc"
gpg --export "subkey@example.com" "ed25519@example.com" >"$corpus/openpgp_packets/gen-two-keys.gpg"

payload='{"critical":{"identity":{"docker-reference":"quay.io/example/demo:latest"},"image":{"docker-manifest-digest":"sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55"},"type":"atomic container signature"},"optional":{}}'
sign() { printf '%s' "$payload" | gpg "$@" --sign; }
sign -u ed25519@example.com -z 0 >"$corpus/openpgp_packets/gen-uncompressed.sig"
sign -u nistp256@example.com --textmode -z 0 >"$corpus/openpgp_verify/gen-text-uncompressed.sig"
# bzip2 level 1 (100k blocks): the decoder's arrays grow with the level the stream names, and
# under ASan each large allocation is an mmap; mutations still reach the other levels.
for compress in zip zlib bzip2; do
  sign -u rsa2048@example.com --compress-algo "$compress" --bzip2-compress-level 1 \
    >"$corpus/openpgp_verify/gen-$compress.sig"
  # The compressed packet's body: strip gpg's old-format header (1 octet + 0, 1, 2 or 4).
  python3 - "$corpus/openpgp_verify/gen-$compress.sig" "$corpus/openpgp_decompress/gen-$compress" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
header = 1 + {0: 1, 1: 2, 2: 4, 3: 0}[data[0] & 3]
open(sys.argv[2], 'wb').write(data[header:])
PY
done

for file in image.signature subkey.signature-v3 unsigned-literal.signature; do
  cp "$data/$file" "$corpus/openpgp_packets/ci-$file"
done
for file in public-key.gpg public-key-with-subkey.gpg pubring.gpg; do
  cp "$data/$file" "$corpus/openpgp_keyring/ci-$file"
done
for file in "$data"/*.signature "$data"/*.signature-v3; do
  cp "$file" "$corpus/openpgp_verify/ci-$(basename "$file")"
done
echo "seeds written under $corpus/openpgp_*"
