#!/usr/bin/python3
"""Independent check of busline's webhook signatures: the standard library for
v1 (HMAC-SHA256), Debian's python3-cryptography for v1a (ed25519).

  standard_webhooks_verify.py v1 SECRET MSG_ID TIMESTAMP SIGNATURE_HEADER BODY_FILE
      prints "ok" when one space-separated v1 entry of the header is the
      Standard Webhooks HMAC-SHA256 of "MSG_ID.TIMESTAMP.BODY" under the
      base64-decoded key of SECRET ("whsec_..."), else "mismatch".
  standard_webhooks_verify.py legacy SECRET BODY_FILE
      prints "sha256=<hex HMAC-SHA256 of BODY>" under the same key.
  standard_webhooks_verify.py text-keyed SECRET BODY_FILE
      prints "sha256=<hex HMAC-SHA256 of BODY>" keyed with the text of SECRET
      itself, as the Powalyze document's receivers compute it
      (crypto.createHmac('sha256', webhookSecret)).
  standard_webhooks_verify.py v1a PUBLIC_KEY MSG_ID TIMESTAMP SIGNATURE_HEADER BODY_FILE
      prints "ok" when one space-separated v1a entry of the header is a valid
      ed25519 signature of "MSG_ID.TIMESTAMP.BODY" under PUBLIC_KEY
      ("whpk_<base64 of 32 bytes>"), else "mismatch".
  standard_webhooks_verify.py v1a-sign SIGNING_KEY MSG_ID TIMESTAMP BODY_FILE
      prints "v1a,<base64 ed25519 signature>" of the same content under
      SIGNING_KEY ("whsk_<base64 of the 32-byte private key>"), then
      "whpk_<base64>" of its public key.
"""
import base64
import hashlib
import hmac
import sys


def key_of(secret):
    if not secret.startswith("whsec_"):
        sys.exit("secret must start with whsec_")
    return base64.b64decode(secret[len("whsec_"):], validate=True)


def ed25519_key(text, prefix):
    if not text.startswith(prefix):
        sys.exit("key must start with " + prefix)
    return base64.b64decode(text[len(prefix):], validate=True)


def signed_content(msg_id, timestamp, body_file):
    with open(body_file, "rb") as f:
        body = f.read()
    return msg_id.encode() + b"." + timestamp.encode() + b"." + body


def main(argv):
    if len(argv) == 7 and argv[1] == "v1a":
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        _, _, public, msg_id, timestamp, header, body_file = argv
        key = Ed25519PublicKey.from_public_bytes(ed25519_key(public, "whpk_"))
        signed = signed_content(msg_id, timestamp, body_file)
        for entry in header.split(" "):
            version, _, sig = entry.partition(",")
            if version != "v1a":
                continue
            try:
                key.verify(base64.b64decode(sig, validate=True), signed)
            except (InvalidSignature, ValueError):
                continue
            print("ok")
            return 0
        print("mismatch")
        return 0
    if len(argv) == 6 and argv[1] == "v1a-sign":
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        _, _, secret, msg_id, timestamp, body_file = argv
        key = Ed25519PrivateKey.from_private_bytes(ed25519_key(secret, "whsk_"))
        sig = key.sign(signed_content(msg_id, timestamp, body_file))
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        print("v1a," + base64.b64encode(sig).decode())
        print("whpk_" + base64.b64encode(public).decode())
        return 0
    if len(argv) == 7 and argv[1] == "v1":
        _, _, secret, msg_id, timestamp, header, body_file = argv
        with open(body_file, "rb") as f:
            body = f.read()
        signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
        expected = base64.b64encode(hmac.new(key_of(secret), signed, hashlib.sha256).digest())
        for entry in header.split(" "):
            version, _, sig = entry.partition(",")
            if version == "v1" and hmac.compare_digest(sig.encode(), expected):
                print("ok")
                return 0
        print("mismatch")
        return 0
    if len(argv) == 4 and argv[1] == "legacy":
        with open(argv[3], "rb") as f:
            body = f.read()
        print("sha256=" + hmac.new(key_of(argv[2]), body, hashlib.sha256).hexdigest())
        return 0
    if len(argv) == 4 and argv[1] == "text-keyed":
        with open(argv[3], "rb") as f:
            body = f.read()
        print("sha256=" + hmac.new(argv[2].encode(), body, hashlib.sha256).hexdigest())
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
