// OpenPGP verification of GPG simple-signing messages (DESIGN §6a), over OpenSSL 3, zlib and
// libbz2. Knows nothing of policy.json: the policy code imports the trusted key files into a
// Keyring and asks verify() about one message at the time of the request.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vmd::openpgp {

/// Bounds on untrusted and trusted input; anything larger is refused, never truncated.
/// One key file (binary or armored) as read from disk.
inline constexpr std::size_t kMaxKeyFileBytes = std::size_t{1024} * 1024;
/// One signature message (the blob without its `\0simple-signing\n` prefix).
inline constexpr std::size_t kMaxMessageBytes = std::size_t{1024} * 1024;
/// The decompressed content of a compressed packet, and so the signed literal data.
inline constexpr std::size_t kMaxDecompressedBytes = std::size_t{1024} * 1024;
/// Packets in one key file, and in one message (after decompression).
inline constexpr std::size_t kMaxKeyFilePackets = 10000;
inline constexpr std::size_t kMaxMessagePackets = 16;
/// Public keys (primary keys and subkeys) kept from one key file.
inline constexpr std::size_t kMaxKeysPerFile = 1000;
/// Largest RSA or DSA modulus, in bits (gpg's limit).
inline constexpr std::size_t kMaxModulusBits = 16384;

namespace detail {
struct PrimaryKey;
}  // namespace detail

/// Public keys imported from trusted key files. Import checks structure and self-signature
/// cryptography (time-independent; a subkey's binding signatures only once it makes a
/// signature); validity at a moment (expiry, revocation, flags, back-signatures, newest
/// self-signature) is judged by verify() at its `now`.
class Keyring {
  public:
    Keyring();
    ~Keyring();
    Keyring(Keyring&&) noexcept;
    Keyring& operator=(Keyring&&) noexcept;
    Keyring(const Keyring&) = delete;
    Keyring& operator=(const Keyring&) = delete;

    /// Imports every transferable public key of one key file, binary or ASCII-armored (several
    /// keys or armor blocks are fine, trust packets skipped). A file with an invalid packet
    /// imports nothing; a key with no valid self-signed user ID is dropped. Returns how many
    /// primary keys the file added. Never throws for bad file content.
    std::size_t import_file(std::string_view bytes);
    /// Number of primary keys held.
    std::size_t size() const;
    /// Primary key fingerprints held (40 uppercase hex each), in import order.
    std::vector<std::string> fingerprints() const;

    /// Why the last import_file() added no key ("" when it added one), for refusal messages.
    const std::string& last_import_error() const { return last_import_error_; }

    /// The imported keys, for verify().
    const std::vector<detail::PrimaryKey>& keys() const { return keys_; }

  private:
    std::vector<detail::PrimaryKey> keys_;
    std::string last_import_error_;
};

/// What a verified message says and who signed it.
struct VerifiedMessage {
    std::string literal_data;        // the signed content (the simple-signing payload), exactly
    std::string signer_fingerprint;  // primary key fingerprint, 40 uppercase hex
    std::string signing_key_fingerprint;  // the key or subkey that made the signature
};

/// Verifies one simple-signing message (DESIGN §6a "Message" and "Key validity") at `now`.
/// Any refusal: vmd::Error(Errc::SignatureInvalid) saying what was expected and what was found.
VerifiedMessage verify(std::string_view message, const Keyring& keyring,
                       std::chrono::system_clock::time_point now);

}  // namespace vmd::openpgp
