"""Fixtures for the Python client test: stubs from gen/, channels to running Herald services.

The services' addresses come from HERALD_PUBLISHER, HERALD_REGISTRY and HERALD_DISPATCHER
(host:port each). `make python-client` generates the stubs into gen/.

Against services that serve TLS: HERALD_TLS_CA (PEM file of their CA; HERALD_TLS=true alone trusts the
system's CAs), HERALD_TLS_CLIENT_CERT and HERALD_TLS_CLIENT_KEY for services that require a client
certificate, and HERALD_TOKEN, a bearer token sent with every call (over TLS only).
"""

import os
import secrets
import sys
import time
from pathlib import Path

import grpc
import pytest

GEN_DIR = Path(__file__).parent / "gen"
if not (GEN_DIR / "herald" / "v1" / "dispatcher_pb2_grpc.py").exists():
    raise pytest.UsageError(f"no stubs in {GEN_DIR}: run `make python-client` from the repository root")
sys.path.insert(0, str(GEN_DIR))

from herald.v1 import (  # noqa: E402  (importable only once gen/ is on the path)
    dispatcher_pb2_grpc,
    publisher_pb2_grpc,
    subscriber_registry_pb2_grpc,
)

ADDRESS_VARIABLES = ("HERALD_PUBLISHER", "HERALD_REGISTRY", "HERALD_DISPATCHER")

# How long a new channel may take to connect before the test gives up.
CONNECT_TIMEOUT_SECONDS = 15


def _address(variable: str) -> str:
    address = os.environ.get(variable)
    if not address:
        missing = [name for name in ADDRESS_VARIABLES if not os.environ.get(name)]
        pytest.fail(f"set {', '.join(missing)} to the host:port of running Herald services", pytrace=False)
    return address


def _read(variable: str):
    path = os.environ.get(variable)
    return Path(path).read_bytes() if path else None


def _credentials():
    """TLS channel credentials (and the token) from the environment; None for plaintext."""
    ca, cert, key = _read("HERALD_TLS_CA"), _read("HERALD_TLS_CLIENT_CERT"), _read("HERALD_TLS_CLIENT_KEY")
    token = os.environ.get("HERALD_TOKEN")
    tls = ca is not None or cert is not None or os.environ.get("HERALD_TLS", "").lower() in ("1", "true", "yes")
    if not tls:
        if token:
            pytest.fail("HERALD_TOKEN needs TLS (HERALD_TLS_CA or HERALD_TLS=true): a token is never sent in plaintext")
        return None
    channel = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
    if token:
        # Sends "authorization: Bearer <token>" with every call.
        return grpc.composite_channel_credentials(channel, grpc.access_token_call_credentials(token))
    return channel


def _channel(variable: str):
    credentials = _credentials()
    address = _address(variable)
    channel = grpc.secure_channel(address, credentials) if credentials else grpc.insecure_channel(address)
    try:
        grpc.channel_ready_future(channel).result(timeout=CONNECT_TIMEOUT_SECONDS)
    except grpc.FutureTimeoutError:
        channel.close()
        pytest.fail(f"{variable}={os.environ[variable]} did not accept a connection in {CONNECT_TIMEOUT_SECONDS} s")
    return channel


@pytest.fixture(scope="session")
def publisher():
    channel = _channel("HERALD_PUBLISHER")
    yield publisher_pb2_grpc.PublisherServiceStub(channel)
    channel.close()


@pytest.fixture(scope="session")
def registry():
    channel = _channel("HERALD_REGISTRY")
    yield subscriber_registry_pb2_grpc.SubscriberRegistryServiceStub(channel)
    channel.close()


@pytest.fixture(scope="session")
def dispatcher():
    channel = _channel("HERALD_DISPATCHER")
    yield dispatcher_pb2_grpc.DispatcherServiceStub(channel)
    channel.close()


@pytest.fixture
def unique_name():
    """Makes names no other run uses: `<prefix>-<time>-<random>`, valid topic and subscription names."""

    def make(prefix: str) -> str:
        return f"{prefix}-{int(time.time() * 1000):x}-{secrets.token_hex(3)}"

    return make
