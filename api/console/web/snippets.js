// Ready-to-paste examples: calling the API with a key, and checking a
// webhook's Standard Webhooks signature (HMAC-SHA256 over
// "webhook-id.webhook-timestamp.body", key = base64 after "whsec_").

export function keyExamples(base) {
  return {
    curl: `# List your webhooks
curl -s ${base}/v1/webhooks \\
  -H "Authorization: Bearer $BUSLINE_API_KEY"

# Report a risk (a command onto the bus; answered 202 Accepted)
curl -s -X POST ${base}/v1/risks \\
  -H "Authorization: Bearer $BUSLINE_API_KEY" \\
  -H "Content-Type: application/json" \\
  -H "Idempotency-Key: $(uuidgen)" \\
  -d '{"project_id": "p-1", "title": "Supplier late", "description": "Parts slip two weeks",
       "severity": "HIGH", "probability": 60, "impact": 70}'`,
    JavaScript: `const base = '${base}';
const res = await fetch(\`\${base}/v1/webhooks\`, {
  headers: { Authorization: \`Bearer \${process.env.BUSLINE_API_KEY}\` },
});
if (!res.ok) {
  const { error } = await res.json();
  throw new Error(\`\${error.code}: \${error.message} (request \${error.request_id})\`);
}
const { data } = await res.json();
console.log(data.map((w) => w.url));`,
    Python: `import os
import requests

base = "${base}"
res = requests.get(
    f"{base}/v1/webhooks",
    headers={"Authorization": f"Bearer {os.environ['BUSLINE_API_KEY']}"},
    timeout=10,
)
if not res.ok:
    err = res.json()["error"]
    raise RuntimeError(f"{err['code']}: {err['message']} (request {err['request_id']})")
for hook in res.json()["data"]:
    print(hook["url"])`,
  };
}

export function examplePayload(type = 'risk.escalated', orgId = 'org_…') {
  return JSON.stringify({
    event: type,
    timestamp: new Date(Date.UTC(2026, 10, 25, 8, 16, 0, 123)).toISOString(),
    organization_id: orgId,
    data: { risk_id: 'r-42', project_id: 'p-1', title: 'Supplier late', severity: 'HIGH', probability: 60, impact: 70 },
  }, null, 2);
}

export const exampleHeaders = `webhook-id: 3f1c9e0a-…
webhook-timestamp: 1795594560
webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=
content-type: application/json`;

export const verifySnippets = {
  Node: `import crypto from 'node:crypto';

// secret: the endpoint's "whsec_..." secret; body: the raw request body (string)
export function verifyBusline(secret, headers, body, toleranceSeconds = 300) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = (headers['webhook-signature'] || '').split(' ');
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = crypto.createHmac('sha256', key)
    .update(\`\${id}.\${timestamp}.\${body}\`).digest();
  return signatures.some((s) => {
    const [version, sig] = s.split(',');
    const got = Buffer.from(sig || '', 'base64');
    return version === 'v1' && got.length === expected.length
      && crypto.timingSafeEqual(got, expected);
  });
}`,
  Python: `import base64, hashlib, hmac, time

def verify_busline(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> bool:
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in headers.get("webhook-signature", "").split(" "):
        version, _, sig = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return True
    return False`,
  'Python (v1a)': `# v1a (ed25519): verify with the endpoint's public key, no secret needed.
# pip install cryptography (Debian: python3-cryptography)
import base64, binascii, time
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

def verify_busline_v1a(public_key: str, headers: dict, body: bytes, tolerance: int = 300) -> bool:
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key.removeprefix("whpk_")))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    for candidate in headers.get("webhook-signature", "").split(" "):
        version, _, sig = candidate.partition(",")
        if version != "v1a":
            continue
        try:
            key.verify(base64.b64decode(sig, validate=True), signed)
            return True
        except (InvalidSignature, ValueError, binascii.Error):
            continue
    return False`,
  Go: `package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// VerifyBusline checks the Standard Webhooks signature of a busline delivery.
func VerifyBusline(secret string, h http.Header, body []byte) bool {
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || math.Abs(float64(time.Now().Unix()-sec)) > 300 {
		return false
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	expected := mac.Sum(nil)
	for _, s := range strings.Fields(h.Get("webhook-signature")) {
		version, sig, _ := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if version == "v1" && err == nil && hmac.Equal(got, expected) {
			return true
		}
	}
	return false
}`,
};
