"""An in-process gRPC proxy backend for interop tests of the broker's grpc:// proxies.

It serves Centrifugo's proxy service (package centrifugal.centrifugo.proxy, service
CentrifugoProxy) as declared in Sources/ProxyGRPC/Proto/proxy.proto. The Python modules
proxy_pb2 / proxy_pb2_grpc are compiled from that file with grpc_tools.protoc into a temp
dir on first use; nothing generated is committed.

    backend = GRPCProxyBackend().start()
    backend.responses["Connect"] = {"result": {"user": "42"}}
    ... point the broker's proxy at backend.endpoint ("grpc://127.0.0.1:PORT") ...
    backend.requests  # [("Connect", {"client": ..., "_metadata": {...}}), ...]
    backend.stop()

Answers, by method name ("Connect", "Refresh", "Subscribe", "Publish", "RPC", "SubRefresh"),
from backend.responses[name]:
  - unset: an empty response ({});
  - a dict: parsed into the response message (json_format.ParseDict, proto field names);
  - a callable(request_dict) -> dict;
  - ("sleep", seconds, answer): waits, then answers with `answer` (a dict or a callable);
  - ("status", "CODE", "details"): fails the call with that gRPC status (e.g. "UNAVAILABLE").

Subscribe streams ("SubscribeUnidirectional", "SubscribeBidirectional"): the first message answers with
responses[name] (a SubscribeResponse dict, default {}); each call then gets a `SubscribeStream` in
backend.streams, through which the test sends publications (`publish(data, tags)`), ends the stream (`close()`,
or `fail()` with a gRPC error), sees what the client published (`received`, bidirectional) and whether the
broker cancelled it (`cancelled`).

Needs grpcio and grpcio-tools (which brings protobuf).
"""

from __future__ import annotations

import importlib
import json
import queue
import sys
import tempfile
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import grpc
from google.protobuf import json_format

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_PATH = REPO_ROOT / "Sources" / "ProxyGRPC" / "Proto" / "proxy.proto"
SERVICE = "centrifugal.centrifugo.proxy.CentrifugoProxy"
LOOPBACK = "127.0.0.1"

# Method name -> (request message name, response message name).
UNARY_METHODS: Dict[str, Tuple[str, str]] = {
    "Connect": ("ConnectRequest", "ConnectResponse"),
    "Refresh": ("RefreshRequest", "RefreshResponse"),
    "Subscribe": ("SubscribeRequest", "SubscribeResponse"),
    "Publish": ("PublishRequest", "PublishResponse"),
    "RPC": ("RPCRequest", "RPCResponse"),
    "SubRefresh": ("SubRefreshRequest", "SubRefreshResponse"),
}

_modules_lock = threading.Lock()
_modules: Optional[Tuple[Any, Any]] = None


def proxy_modules() -> Tuple[Any, Any]:
    """(proxy_pb2, proxy_pb2_grpc), compiled from proxy.proto into a temp dir once per process."""
    global _modules
    with _modules_lock:
        if _modules is None:
            from grpc_tools import protoc

            out = tempfile.mkdtemp(prefix="proxy-grpc-py-")
            include = str(Path(protoc.__file__).resolve().parent / "_proto")  # well-known types
            rc = protoc.main(
                [
                    "grpc_tools.protoc",
                    f"--proto_path={PROTO_PATH.parent}",
                    f"--proto_path={include}",
                    f"--python_out={out}",
                    f"--grpc_python_out={out}",
                    str(PROTO_PATH),
                ]
            )
            if rc != 0:
                raise RuntimeError(f"grpc_tools.protoc failed ({rc}) on {PROTO_PATH}")
            sys.path.insert(0, out)
            _modules = (importlib.import_module("proxy_pb2"), importlib.import_module("proxy_pb2_grpc"))
        return _modules


class SubscribeStream:
    """One open subscribe stream, driven by the test."""

    def __init__(self, request: Dict[str, Any]) -> None:
        self.request = request
        self.received: List[Any] = []
        self.cancelled = threading.Event()
        self._outbox: "queue.Queue[Tuple[str, Any]]" = queue.Queue()
        self._cond = threading.Condition()

    def publish(self, data: Any, tags: Optional[Dict[str, str]] = None) -> None:
        self._outbox.put(("pub", (data, tags or {})))

    def close(self) -> None:
        self._outbox.put(("close", None))

    def fail(self) -> None:
        self._outbox.put(("fail", None))

    def wait_received(self, count: int = 1, timeout: float = 5.0) -> List[Any]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.received) >= count, timeout), f"received {self.received}"
            return list(self.received)

    def _receive(self, data: Any) -> None:
        with self._cond:
            self.received.append(data)
            self._cond.notify_all()


class GRPCProxyBackend:
    """The proxy service on 127.0.0.1 and a free port; records requests, answers from `responses`."""

    def __init__(self, max_workers: int = 16) -> None:
        self.pb2, self.pb2_grpc = proxy_modules()
        self.requests: List[Tuple[str, Dict[str, Any]]] = []
        self.streams: List[SubscribeStream] = []
        self.responses: Dict[str, Any] = {}
        self.port: int = 0
        self._max_workers = max_workers
        self._server: Optional[grpc.Server] = None
        self._cond = threading.Condition()
        self._stopping = threading.Event()

    # ------------------------------------------------------------------ lifecycle

    @property
    def endpoint(self) -> str:
        return f"grpc://{LOOPBACK}:{self.port}"

    def start(self) -> "GRPCProxyBackend":
        if self._server is not None:
            raise RuntimeError("backend already started")
        self._stopping.clear()
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=self._max_workers))
        handlers = {name: self._handler(name, req, resp) for name, (req, resp) in UNARY_METHODS.items()}
        handlers["SubscribeUnidirectional"] = grpc.unary_stream_rpc_method_handler(
            self._unidirectional,
            request_deserializer=self.pb2.SubscribeRequest.FromString,
            response_serializer=self.pb2.StreamSubscribeResponse.SerializeToString,
        )
        handlers["SubscribeBidirectional"] = grpc.stream_stream_rpc_method_handler(
            self._bidirectional,
            request_deserializer=self.pb2.StreamSubscribeRequest.FromString,
            response_serializer=self.pb2.StreamSubscribeResponse.SerializeToString,
        )
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        # Reuse the previous port on a restart, so a client configured with .endpoint reconnects.
        self.port = server.add_insecure_port(f"{LOOPBACK}:{self.port}")
        if self.port == 0:
            raise RuntimeError("could not bind the gRPC proxy backend")
        server.start()
        self._server = server
        return self

    def stop(self, grace: Optional[float] = None) -> None:
        self._stopping.set()  # wakes calls waiting in a ("sleep", ...) answer
        server, self._server = self._server, None
        if server is not None:
            server.stop(grace).wait()

    def __enter__(self) -> "GRPCProxyBackend":
        return self.start() if self._server is None else self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ inspection

    def calls(self, method: str) -> List[Dict[str, Any]]:
        """The recorded request dicts of one method, oldest first."""
        with self._cond:
            return [req for name, req in self.requests if name == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> List[Dict[str, Any]]:
        """Blocks until `count` calls of `method` were recorded; returns them (raises on timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [req for name, req in self.requests if name == method]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{method}: {len(got)} of {count} calls after {timeout}s")
                self._cond.wait(left)

    def clear(self) -> None:
        with self._cond:
            self.requests.clear()

    # ------------------------------------------------------------------ serving

    def _handler(self, name: str, req_name: str, resp_name: str):
        req_type = getattr(self.pb2, req_name)
        resp_type = getattr(self.pb2, resp_name)

        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            req = json_format.MessageToDict(request, preserving_proto_field_name=True)
            req["_metadata"] = {md.key: md.value for md in context.invocation_metadata()}
            with self._cond:
                self.requests.append((name, req))
                self._cond.notify_all()
                answer = self.responses.get(name, {})
            return self._answer(answer, req, resp_type, context)

        return grpc.unary_unary_rpc_method_handler(
            handle,
            request_deserializer=req_type.FromString,
            response_serializer=resp_type.SerializeToString,
        )

    # ------------------------------------------------------------------ subscribe streams

    def wait_stream(self, count: int = 1, timeout: float = 5.0) -> SubscribeStream:
        """Blocks until `count` subscribe streams were opened; returns the last of them."""
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.streams) >= count, timeout), f"{len(self.streams)} streams"
            return self.streams[count - 1]

    def _open(self, name: str, request: Any, context: grpc.ServicerContext) -> Tuple[SubscribeStream, Any]:
        req = json_format.MessageToDict(request, preserving_proto_field_name=True)
        req["_metadata"] = {md.key: md.value for md in context.invocation_metadata()}
        stream = SubscribeStream(req)
        context.add_callback(stream.cancelled.set)
        with self._cond:
            self.requests.append((name, req))
            answer = self.responses.get(name, {})
            if callable(answer):
                answer = answer(req)
            first = self.pb2.StreamSubscribeResponse(
                subscribe_response=json_format.ParseDict(answer or {}, self.pb2.SubscribeResponse())
            )
            self.streams.append(stream)
            self._cond.notify_all()
        return stream, first

    def _pump(self, stream: SubscribeStream, context: grpc.ServicerContext):
        while context.is_active() and not self._stopping.is_set():
            try:
                kind, value = stream._outbox.get(timeout=0.05)
            except queue.Empty:
                continue
            if kind == "close":
                return
            if kind == "fail":
                context.abort(grpc.StatusCode.INTERNAL, "stream failed")
            data, tags = value
            pub = self.pb2.Publication(data=json.dumps(data, separators=(",", ":")).encode(), tags=tags)
            yield self.pb2.StreamSubscribeResponse(publication=pub)

    def _unidirectional(self, request: Any, context: grpc.ServicerContext):
        stream, first = self._open("SubscribeUnidirectional", request, context)
        yield first
        yield from self._pump(stream, context)

    def _bidirectional(self, requests: Any, context: grpc.ServicerContext):
        opening = next(requests)
        stream, first = self._open("SubscribeBidirectional", opening.subscribe_request, context)

        def read() -> None:
            try:
                for message in requests:
                    if message.HasField("publication"):
                        stream._receive(json.loads(message.publication.data))
            except Exception:  # the call ended
                pass

        threading.Thread(target=read, daemon=True).start()
        yield first
        yield from self._pump(stream, context)

    def _answer(self, answer: Any, req: Dict[str, Any], resp_type: Any, context: grpc.ServicerContext) -> Any:
        if isinstance(answer, tuple) and answer and answer[0] == "sleep":
            _, seconds, then = answer
            if self._stopping.wait(seconds):
                context.abort(grpc.StatusCode.UNAVAILABLE, "backend stopping")
            answer = then
        if isinstance(answer, tuple) and answer and answer[0] == "status":
            _, code, details = answer
            context.abort(getattr(grpc.StatusCode, code), details)
        if callable(answer):
            answer = answer(req)
        return json_format.ParseDict(answer or {}, resp_type())


if __name__ == "__main__":
    # Self-check: start the backend, call Connect through a real gRPC stub.
    backend = GRPCProxyBackend().start()
    try:
        pb2, pb2_grpc = backend.pb2, backend.pb2_grpc
        backend.responses["Connect"] = lambda req: {
            "result": {"user": "u-" + req["client"], "expire_at": "1700000000", "caps": [{"channels": ["a"]}]}
        }
        backend.responses["RPC"] = ("sleep", 2.0, {"result": {"b64data": "eA=="}})
        with grpc.insecure_channel(f"{LOOPBACK}:{backend.port}") as channel:
            stub = pb2_grpc.CentrifugoProxyStub(channel)
            reply = stub.Connect(
                pb2.ConnectRequest(client="c1", transport="websocket", data=b'{"a":1}', channels=["x"]),
                metadata=(("authorization", "Bearer t"),),
                timeout=5,
            )
            assert reply.result.user == "u-c1", reply
            assert reply.result.expire_at == 1700000000, reply
            name, req = backend.requests[0]
            assert name == "Connect", name
            assert req["client"] == "c1" and req["transport"] == "websocket", req
            assert req["channels"] == ["x"] and req["data"] == "eyJhIjoxfQ==", req
            assert req["_metadata"]["authorization"] == "Bearer t", req
            assert stub.Refresh(pb2.RefreshRequest(user="u"), timeout=5) == pb2.RefreshResponse()
            try:
                stub.RPC(pb2.RPCRequest(method="m"), timeout=0.2)
                raise AssertionError("RPC should have timed out")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, e
        print(f"ok: {backend.endpoint} answered Connect; {len(backend.requests)} calls recorded")
    finally:
        backend.stop()
