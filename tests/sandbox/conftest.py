"""Local-account tests run under moto: dummy credentials, never a real account."""

import os

os.environ.update(
    {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}
)
os.environ.pop("AWS_ENDPOINT_URL", None)
