"""A completion with Python `requests`, printing the envelope's fields.

    pip install requests
    PORTAL_API_KEY=cx_live_… python3 examples/python/completion.py
"""

import os
import sys

import requests

base = os.environ.get("PORTAL_URL", "http://127.0.0.1:8080")
key = os.environ.get("PORTAL_API_KEY")
if not key:
    sys.exit("set PORTAL_API_KEY to a key (npm start prints one on first start)")

res = requests.post(
    f"{base}/v1/completions",
    headers={"Authorization": f"Bearer {key}"},
    json={
        "model": "default",
        "prompt": "Explain decentralized AI inference in one sentence.",
        "max_tokens": 32,
    },
    timeout=600,
)
envelope = res.json()
if envelope["status"] != "ok":
    error = envelope["error"]
    sys.exit(f"Portal error {error['code']} (HTTP {res.status_code}): {error['message']}")

data = envelope["data"]
print("request_id:", envelope["request_id"])
print("model:", envelope["model"], "pool:", envelope["router_pool"])
print("text:", data["choices"][0]["text"])
print("tokens:", data["usage"]["total_tokens"], "cost:", data["usage"]["cost"]["amount"], "USD")
