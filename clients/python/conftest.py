"""Fixtures for the Python client test: stubs from gen/, channels to running Herald services.

The services' addresses come from HERALD_PUBLISHER, HERALD_REGISTRY and HERALD_DISPATCHER
(host:port each). `make python-client` generates the stubs into gen/.
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


def _channel(variable: str):
    channel = grpc.insecure_channel(_address(variable))
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
