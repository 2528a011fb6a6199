"""One StreamingPull call, driven through queues so that every wait has a timeout.

grpcio runs a bidirectional stream on two iterators: it pulls requests from ours (here a
generator fed by a queue.Queue) on its own thread, and hands responses to whoever iterates
the call, with no timeout per message. A reader thread moves each received message into a
second queue, where the test waits with a timeout and can never hang.
"""

import queue
import threading
import time

import grpc

from herald.v1 import dispatcher_pb2

_END_OF_REQUESTS = object()
_END_OF_STREAM = object()


class PullStream:
    """A subscriber stream: `receive` messages, `ack` them, `close` when done."""

    def __init__(self, stub, subscription: str, *, max_outstanding_messages: int = 100, call_timeout_seconds=180):
        self._requests: queue.Queue = queue.Queue()
        self._received: queue.Queue = queue.Queue()
        self._closed = False
        # The first request names the subscription and the flow control; the rest only ack.
        self._requests.put(
            dispatcher_pb2.StreamingPullRequest(
                subscription=subscription,
                max_outstanding_messages=max_outstanding_messages,
                client_id="herald-python-client-test",
            )
        )
        # The call's own deadline ends it server-side too, whatever happens to this process.
        self._call = stub.StreamingPull(self._request_iterator(), timeout=call_timeout_seconds)
        self._reader = threading.Thread(target=self._read, name=f"pull-{subscription}", daemon=True)
        self._reader.start()

    def _request_iterator(self):
        while True:
            request = self._requests.get()
            if request is _END_OF_REQUESTS:
                return
            yield request

    def _read(self):
        try:
            for response in self._call:
                for message in response.received_messages:
                    self._received.put(message)
            self._received.put(_END_OF_STREAM)
        except grpc.RpcError as error:
            self._received.put(error)

    def next_message(self, timeout: float):
        """The next received message, or None when none came within `timeout` seconds.

        Raises the call's grpc.RpcError if the server ended the stream with an error.
        """
        try:
            item = self._received.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if isinstance(item, grpc.RpcError):
            raise item
        if item is _END_OF_STREAM:
            raise AssertionError("the server ended the StreamingPull stream")
        return item

    def receive(self, count: int, timeout: float) -> list:
        """Up to `count` messages, waiting at most `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        messages = []
        while len(messages) < count:
            message = self.next_message(deadline - time.monotonic())
            if message is None:
                break
            messages.append(message)
        return messages

    def ack(self, ack_ids) -> None:
        self._requests.put(dispatcher_pb2.StreamingPullRequest(ack_ids=list(ack_ids)))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._requests.put(_END_OF_REQUESTS)
        self._call.cancel()
        self._reader.join(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()
