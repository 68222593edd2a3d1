#!/usr/bin/python3
"""Independent check of busline's webhook signatures, standard library only.

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
"""
import base64
import hashlib
import hmac
import sys


def key_of(secret):
    if not secret.startswith("whsec_"):
        sys.exit("secret must start with whsec_")
    return base64.b64decode(secret[len("whsec_"):], validate=True)


def main(argv):
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
