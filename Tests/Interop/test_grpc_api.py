"""The gRPC server API (`grpc_api`): Centrifugo's CentrifugoApi service, called by a grpcio client whose stubs are
generated at test time from Sources/APIGRPC/Proto/api.proto.

The same table of cases runs over HTTP (`POST /api/<method>`) and over gRPC: both transports go through one
implementation of each method, so each case must give the same answer on both. gRPC answers are brought to the HTTP
API's JSON shape first (bytes payloads are JSON text, 64-bit integers are strings in protobuf's JSON mapping).
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Dict, Optional

import grpc
import pytest
import requests
from google.protobuf import json_format

from conftest import (
    API_KEY,
    BROKER_BIN,
    Broker,
    base_config,
    deep_merge,
    free_port,
    http_session,
    make_token,
    new_sub,
    run,
    sdk_clients,
    uid,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_PATH = REPO_ROOT / "Sources" / "APIGRPC" / "Proto" / "api.proto"

_modules_lock = threading.Lock()
_modules = None


# google.rpc.Status, the detail gRPC's transport error mode attaches (written here: grpcio does not ship it).
STATUS_PROTO = """syntax = "proto3";
package google.rpc;
import "google/protobuf/any.proto";
message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
"""


def api_modules():
    """(api_pb2, api_pb2_grpc, status_pb2), compiled from api.proto (and STATUS_PROTO) into a temp dir once per process."""
    global _modules
    with _modules_lock:
        if _modules is None:
            from grpc_tools import protoc

            out = tempfile.mkdtemp(prefix="api-grpc-py-")
            (Path(out) / "status.proto").write_text(STATUS_PROTO)
            include = str(Path(protoc.__file__).resolve().parent / "_proto")  # well-known types
            for proto_path, proto in ((PROTO_PATH.parent, PROTO_PATH), (Path(out), Path(out) / "status.proto")):
                rc = protoc.main(
                    ["grpc_tools.protoc", f"--proto_path={proto_path}", f"--proto_path={include}", f"--python_out={out}",
                     f"--grpc_python_out={out}", str(proto)]
                )
                if rc != 0:
                    raise RuntimeError(f"grpc_tools.protoc failed ({rc}) on {proto}")
            sys.path.insert(0, out)
            _modules = tuple(importlib.import_module(m) for m in ("api_pb2", "api_pb2_grpc", "status_pb2"))
        return _modules


# Method -> (stub method, request message); the response message is the stub's.
METHODS = {
    "publish": ("Publish", "PublishRequest"),
    "broadcast": ("Broadcast", "BroadcastRequest"),
    "subscribe": ("Subscribe", "SubscribeRequest"),
    "unsubscribe": ("Unsubscribe", "UnsubscribeRequest"),
    "disconnect": ("Disconnect", "DisconnectRequest"),
    "refresh": ("Refresh", "RefreshRequest"),
    "presence": ("Presence", "PresenceRequest"),
    "presence_stats": ("PresenceStats", "PresenceStatsRequest"),
    "history": ("History", "HistoryRequest"),
    "history_remove": ("HistoryRemove", "HistoryRemoveRequest"),
    "channels": ("Channels", "ChannelsRequest"),
    "info": ("Info", "InfoRequest"),
    "connections": ("Connections", "ConnectionsRequest"),
    "rpc": ("RPC", "RPCRequest"),
    "batch": ("Batch", "BatchRequest"),
}

# Bytes fields that carry JSON over HTTP.
JSON_BYTES = {"data", "info", "conn_info", "chan_info", "params", "meta"}
# 64-bit integer fields (strings in protobuf's JSON mapping).
INT64 = {"offset", "expire_at", "rss", "connected_at_ms", "ping_pong_latency_ms"}


def to_proto_dict(value: Any) -> Any:
    """An HTTP API request as json_format input: JSON payloads become base64 bytes."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "commands":  # a batch: {method: request} each
                out[k] = [{m: to_proto_dict(r) for m, r in c.items()} for c in v]
            elif k in JSON_BYTES:
                out[k] = base64.b64encode(json.dumps(v).encode()).decode()
            else:
                out[k] = to_proto_dict(v)
        return out
    if isinstance(value, list):
        return [to_proto_dict(v) for v in value]
    return value


def from_proto_dict(value: Any, key: str = "") -> Any:
    """A gRPC answer in the HTTP API's JSON shape."""
    if isinstance(value, dict):
        return {k: from_proto_dict(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [from_proto_dict(v, key) for v in value]
    if key in JSON_BYTES and isinstance(value, str):
        raw = base64.b64decode(value)
        try:
            return json.loads(raw)
        except ValueError:
            return {"binary": base64.b64encode(raw).decode()}
    if key in INT64 and isinstance(value, str):
        return int(value)
    return value


class HTTPTransport:
    name = "http"

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def call(self, method: str, request: Dict[str, Any]) -> Dict[str, Any]:
        r = http_session().post(
            f"{self.broker.api_url}/{method}", data=json.dumps(request), headers={"X-API-Key": self.broker.api_key}, timeout=5
        )
        assert r.status_code == 200, r.text
        return r.json()


class GRPCTransport:
    name = "grpc"

    def __init__(self, target: str, key: str = API_KEY, credentials: Optional[grpc.ChannelCredentials] = None) -> None:
        pb2, pb2_grpc, status_pb2 = api_modules()
        self.pb2 = pb2
        self.status_pb2 = status_pb2
        if credentials is not None:
            self.channel = grpc.secure_channel(target, credentials)
        else:
            self.channel = grpc.insecure_channel(target)
        self.stub = pb2_grpc.CentrifugoApiStub(self.channel)
        self.metadata = [("authorization", f"apikey {key}")]

    def raw(self, method: str, request: Dict[str, Any], metadata=None, timeout: float = 5):
        stub_method, message = METHODS[method]
        proto = json_format.ParseDict(to_proto_dict(request), getattr(self.pb2, message)())
        return getattr(self.stub, stub_method)(proto, metadata=self.metadata if metadata is None else metadata, timeout=timeout)

    def call(self, method: str, request: Dict[str, Any]) -> Dict[str, Any]:
        answer = json_format.MessageToDict(self.raw(method, request), preserving_proto_field_name=True)
        return from_proto_dict(answer)

    def close(self) -> None:
        self.channel.close()


def grpc_config(port: int, **grpc_api: Any) -> Dict[str, Any]:
    return deep_merge(
        base_config(),
        {"grpc_api": {"enabled": True, "address": "127.0.0.1", "port": port, "key": API_KEY, **grpc_api}},
    )


@pytest.fixture(scope="module")
def gbroker():
    port = free_port()
    b = Broker(grpc_config(port), name="grpc-api").start()
    b.grpc_port = port
    yield b
    b.stop()


@pytest.fixture(scope="module")
def grpc_transport(gbroker):
    t = GRPCTransport(f"127.0.0.1:{gbroker.grpc_port}")
    yield t
    t.close()


@pytest.fixture(params=["http", "grpc"])
def transport(request, gbroker, grpc_transport):
    return HTTPTransport(gbroker) if request.param == "http" else grpc_transport


def result(answer: Dict[str, Any]) -> Dict[str, Any]:
    assert "error" not in answer, answer
    return answer.get("result", {})


def error_code(answer: Dict[str, Any]) -> int:
    assert "error" in answer, answer
    return answer["error"]["code"]


# ---------------------------------------------------------------------------
# The table: each case on both transports
# ---------------------------------------------------------------------------


def test_publish_and_history(transport):
    ch = "chat:g-" + uid()
    first = result(transport.call("publish", {"channel": ch, "data": {"n": 1}, "tags": {"k": "v"}}))
    assert first["offset"] == 1 and first["epoch"]
    result(transport.call("publish", {"channel": ch, "data": {"n": 2}}))
    history = result(transport.call("history", {"channel": ch, "limit": 10}))
    assert [p["data"] for p in history["publications"]] == [{"n": 1}, {"n": 2}]
    assert history["publications"][0]["tags"] == {"k": "v"}
    assert history["offset"] == 2 and history["epoch"] == first["epoch"]
    latest = result(transport.call("history", {"channel": ch, "limit": 1, "reverse": True}))
    assert [p["data"] for p in latest["publications"]] == [{"n": 2}]
    since = result(transport.call("history", {"channel": ch, "since": {"offset": 1, "epoch": first["epoch"]}, "limit": 10}))
    assert [p["offset"] for p in since["publications"]] == [2]
    result(transport.call("history_remove", {"channel": ch}))
    assert result(transport.call("history", {"channel": ch, "limit": 10})).get("publications", []) == []


@pytest.mark.parametrize(
    "method,request_body,code",
    [
        ("publish", {"channel": "nope:x", "data": {}}, 102),  # unknown namespace
        ("publish", {"data": {"a": 1}}, 107),  # no channel
        ("publish", {"channel": "chat:x"}, 107),  # no data
        ("presence", {"channel": "nohist:x"}, 108),  # presence off in the namespace
        ("history", {"channel": "nohist:x"}, 108),  # history off
        ("history_remove", {"channel": "nohist:x"}, 108),
        ("presence_stats", {"channel": ""}, 107),
        ("subscribe", {"user": "u", "channel": "nope:x"}, 102),
        ("rpc", {"method": "anything", "params": {"a": 1}}, 104),  # server-side RPC extensions: none here
    ],
)
def test_errors_are_the_same_on_both_transports(transport, method, request_body, code):
    assert error_code(transport.call(method, request_body)) == code


def test_binary_data_round_trips(transport, gbroker):
    ch = "chat:bin-" + uid()
    raw = b"\x00\xffbinary"
    if transport.name == "http":
        result(transport.call("publish", {"channel": ch, "b64data": base64.b64encode(raw).decode()}))
    else:
        pb2 = transport.pb2
        transport.stub.Publish(pb2.PublishRequest(channel=ch, data=raw), metadata=transport.metadata, timeout=5)
        answer = transport.stub.History(pb2.HistoryRequest(channel=ch, limit=5), metadata=transport.metadata, timeout=5)
        assert [p.data for p in answer.result.publications] == [raw]
    # Over HTTP, history shows binary data as b64data whichever transport published it.
    history = gbroker.api("history", {"channel": ch, "limit": 5})["result"]
    assert [base64.b64decode(p["b64data"]) for p in history["publications"]] == [raw]


def test_broadcast(transport):
    channels = ["chat:b1-" + uid(), "chat:b2-" + uid(), "nope:x"]
    responses = result(transport.call("broadcast", {"channels": channels, "data": {"all": True}}))["responses"]
    assert [r.get("result", {}).get("offset") for r in responses[:2]] == [1, 1]
    assert responses[2]["error"]["code"] == 102


def test_batch(transport):
    ch = "chat:batch-" + uid()
    replies = result({"result": transport.call("batch", {"commands": [
        {"publish": {"channel": ch, "data": {"x": 1}}},
        {"publish": {"channel": "nope:x", "data": {}}},
        {"history": {"channel": ch, "limit": 5}},
        {"info": {}},
    ]})})["replies"]
    assert replies[0]["publish"]["offset"] == 1
    assert replies[1]["error"]["code"] == 102
    assert [p["data"] for p in replies[2]["history"]["publications"]] == [{"x": 1}]
    assert replies[3]["info"]["nodes"][0]["uid"]


def test_info_and_channels(transport):
    nodes = result(transport.call("info", {}))["nodes"]
    assert len(nodes) == 1 and nodes[0]["uid"] and nodes[0]["name"]
    assert result(transport.call("channels", {"pattern": "nothing-here-*"})).get("channels", {}) == {}


def test_connection_actions_presence_and_connections(transport, gbroker):
    """subscribe, presence, presence_stats, channels, connections, unsubscribe, refresh, disconnect on a live client."""

    async def main():
        user = "g-" + uid()
        ch = "chat:act-" + uid()
        async with sdk_clients() as make:
            client, rec = make(gbroker.ws_url, token=make_token(user, secret=gbroker.secret, info={"name": "Ann"}))
            await client.connect()
            await rec.wait("connected")

            call = lambda method, body: asyncio.to_thread(transport.call, method, body)
            result(await call("subscribe", {"user": user, "channel": ch, "data": {"hello": 1}}))
            sub = await rec.wait("server_subscribed")
            assert sub.channel == ch and sub.data == {"hello": 1}

            presence = result(await call("presence", {"channel": ch}))["presence"]
            assert [(p["user"], p["conn_info"]) for p in presence.values()] == [(user, {"name": "Ann"})]
            stats = result(await call("presence_stats", {"channel": ch}))
            assert (stats["num_clients"], stats["num_users"]) == (1, 1)
            assert result(await call("channels", {"pattern": ch}))["channels"][ch]["num_clients"] == 1
            connections = result(await call("connections", {"user": user}))["connections"]
            assert [c["user"] for c in connections.values()] == [user]
            assert list(next(iter(connections.values()))["state"]["channels"]) == [ch]

            result(await call("unsubscribe", {"user": user, "channel": ch}))
            assert (await rec.wait("server_unsubscribed")).channel == ch
            result(await call("refresh", {"user": user, "expire_at": 4102444800}))
            result(await call("disconnect", {"user": user, "disconnect": {"code": 4500, "reason": "bye"}}))
            disconnected = await rec.wait("disconnected")
            assert (disconnected.code, disconnected.reason) == (4500, "bye")

    run(main())


# ---------------------------------------------------------------------------
# gRPC only
# ---------------------------------------------------------------------------


def test_publication_over_grpc_reaches_a_subscriber(gbroker, grpc_transport):
    async def main():
        ch = "chat:sub-" + uid()
        async with sdk_clients() as make:
            client, rec = make(gbroker.ws_url, token=make_token("s-" + uid(), secret=gbroker.secret))
            await client.connect()
            await rec.wait("connected")
            sub, srec = new_sub(client, ch)
            await sub.subscribe()
            await srec.wait("subscribed")
            await asyncio.to_thread(grpc_transport.call, "publish", {"channel": ch, "data": {"via": "grpc"}})
            pub = await srec.wait("publication")
            assert pub.pub.data == {"via": "grpc"}

    run(main())


@pytest.mark.parametrize("metadata", [[("authorization", "apikey wrong")], [], [("authorization", API_KEY)]])
def test_wrong_or_missing_key_is_unauthenticated(grpc_transport, metadata):
    with pytest.raises(grpc.RpcError) as e:
        grpc_transport.raw("info", {}, metadata=metadata)
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_transport_error_mode_by_metadata(grpc_transport):
    metadata = grpc_transport.metadata + [("x-centrifugo-error-mode", "transport")]
    with pytest.raises(grpc.RpcError) as e:
        grpc_transport.raw("publish", {"channel": "nope:x", "data": {}}, metadata=metadata)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND and e.value.details() == "unknown channel"
    # The google.rpc.Status trailer carries Centrifugo's Error as its detail.
    status = dict(e.value.trailing_metadata()).get("grpc-status-details-bin")
    detail = grpc_transport.status_pb2.Status.FromString(status).details[0]
    err = grpc_transport.pb2.Error()
    assert detail.Unpack(err) and (err.code, err.message) == (102, "unknown channel")
    with pytest.raises(grpc.RpcError) as e:
        grpc_transport.raw("publish", {"channel": "chat:x"}, metadata=metadata)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_config_error_mode_and_max_receive_message_size(tmp_path):
    port = free_port()
    b = Broker(grpc_config(port, error_mode="transport", max_receive_message_size=1024), name="grpc-limits").start()
    t = GRPCTransport(f"127.0.0.1:{port}")
    try:
        with pytest.raises(grpc.RpcError) as e:
            t.raw("history", {"channel": "nohist:x"})
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # grpc-swift resets the stream of a request over the limit (grpc-go answers RESOURCE_EXHAUSTED); either
        # way the call fails and nothing is published.
        with pytest.raises(grpc.RpcError) as e:
            t.raw("publish", {"channel": "chat:big", "data": {"x": "y" * 2000}})
        assert e.value.code() in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.CANCELLED)
        assert b.api("history", {"channel": "chat:big", "limit": 5})["result"].get("publications", []) == []
        assert t.call("publish", {"channel": "chat:small", "data": {"x": 1}})["result"]["offset"] == 1
    finally:
        t.close()
        b.stop()


def test_grpc_over_tls_with_reload(tmp_path):
    from test_tls import peer_serial, server_pair
    from test_redis_tls import _openssl as openssl

    d = tmp_path
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-subj", "/CN=grpc test CA",
            "-days", "2", "-out", "ca.pem", cwd=d)
    server_pair(d, "first", "1001")
    server_pair(d, "second", "2002")
    (d / "served.pem").write_bytes((d / "first.pem").read_bytes())
    (d / "served.key").write_bytes((d / "first.key").read_bytes())
    port = free_port()
    b = Broker(grpc_config(port, tls={"enabled": True, "cert_pem": str(d / "served.pem"), "key_pem": str(d / "served.key")}),
               name="grpc-tls").start()
    creds = grpc.ssl_channel_credentials(root_certificates=(d / "ca.pem").read_bytes())
    t = GRPCTransport(f"127.0.0.1:{port}", credentials=creds)
    try:
        assert t.call("publish", {"channel": "chat:tls", "data": {"a": 1}})["result"]["offset"] == 1
        assert peer_serial(port, d / "ca.pem") == 1001
        (d / "served.pem").write_bytes((d / "second.pem").read_bytes())
        (d / "served.key").write_bytes((d / "second.key").read_bytes())
        before = b.log_size()
        b.proc.send_signal(signal.SIGHUP)
        for _ in range(100):
            if b.log_text(before).count("TLS certificate reloaded") >= 1:
                break
            run(asyncio.sleep(0.05))
        assert "grpc_api.tls" in b.log_text(before), b.log_text(before)
        assert peer_serial(port, d / "ca.pem") == 2002
        # The channel opened before the rotation still works.
        assert t.call("publish", {"channel": "chat:tls", "data": {"a": 2}})["result"]["offset"] == 2
        # Plaintext gRPC to the TLS port fails.
        plain = GRPCTransport(f"127.0.0.1:{port}")
        with pytest.raises(grpc.RpcError):
            plain.raw("info", {}, timeout=2)
        plain.close()
    finally:
        t.close()
        b.stop()


def run_broker(args, config: Dict[str, Any], tmp_path: Path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    command = [BROKER_BIN, *args, "-c", str(path)]
    if args[0] == "serve":
        command += ["--port", str(free_port())]
    p = subprocess.run(command, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


@pytest.mark.parametrize("command", [["checkconfig"], ["serve"]])
def test_refusals_at_start(tmp_path, command):
    # An open gRPC API (no key) on an address other machines reach.
    code, out = run_broker(command, grpc_config(free_port(), address="0.0.0.0", key=""), tmp_path)
    if command == ["serve"]:
        assert code == 1 and "grpc_api.key" in out and "CENTRIFUGO_GRPC_API_KEY" in out, out
    # An error mode Centrifugo does not have.
    code, out = run_broker(command, grpc_config(free_port(), error_mode="custom"), tmp_path)
    assert code == 1 and "grpc_api.error_mode" in out, out


def without_json_names(file):
    """A FileDescriptorProto without the json_name of its fields (protoc writes them, Python's copy leaves them out)."""
    file = type(file).FromString(file.SerializeToString())

    def strip(messages):
        for m in messages:
            for f in m.field:
                f.ClearField("json_name")
            strip(m.nested_type)

    strip(file.message_type)
    return file


def test_reflection_v1alpha_and_v1(tmp_path):
    """grpcurl's and Postman's way in: the service list and api.proto's descriptor, over both reflection versions."""
    from google.protobuf import descriptor_pb2, descriptor_pool
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

    port = free_port()
    b = Broker(grpc_config(port, reflection=True), name="grpc-reflection").start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        # v1alpha, through grpcio-reflection's own client.
        db = ProtoReflectionDescriptorDatabase(channel)
        assert list(db.get_services()) == ["centrifugal.centrifugo.api.CentrifugoApi"]
        pool = descriptor_pool.DescriptorPool(db)
        service = pool.FindServiceByName("centrifugal.centrifugo.api.CentrifugoApi")
        assert {m.name for m in service.methods} >= {"Publish", "Batch", "History", "Connections"}
        assert [f.name for f in pool.FindMessageTypeByName("centrifugal.centrifugo.api.PublishRequest").fields][:3] == [
            "channel", "data", "b64data"]
        # The descriptor served is api.proto's, as protoc compiles it.
        pb2 = api_modules()[0]
        ours = descriptor_pb2.FileDescriptorProto()
        pb2.DESCRIPTOR.CopyToProto(ours)
        served = descriptor_pb2.FileDescriptorProto()
        pool.FindFileByName("api.proto").CopyToProto(served)
        assert without_json_names(served) == without_json_names(ours)

        # v1, with stubs compiled from Sources/APIGRPC/Proto/reflection.proto.
        from grpc_tools import protoc

        out = tempfile.mkdtemp(prefix="reflection-v1-py-")
        assert protoc.main(["grpc_tools.protoc", f"--proto_path={PROTO_PATH.parent}", f"--python_out={out}",
                            f"--grpc_python_out={out}", str(PROTO_PATH.parent / "reflection.proto")]) == 0
        sys.path.insert(0, out)
        r_pb2 = importlib.import_module("reflection_pb2")
        r_grpc = importlib.import_module("reflection_pb2_grpc")
        stub = r_grpc.ServerReflectionStub(channel)
        requests_ = [
            r_pb2.ServerReflectionRequest(list_services=""),
            r_pb2.ServerReflectionRequest(file_containing_symbol="centrifugal.centrifugo.api.CentrifugoApi.Publish"),
            r_pb2.ServerReflectionRequest(file_containing_symbol="no.such.Symbol"),
        ]
        answers = list(stub.ServerReflectionInfo(iter(requests_), timeout=5))
        assert [s.name for s in answers[0].list_services_response.service] == ["centrifugal.centrifugo.api.CentrifugoApi"]
        v1_file = descriptor_pb2.FileDescriptorProto.FromString(answers[1].file_descriptor_response.file_descriptor_proto[0])
        assert without_json_names(v1_file) == without_json_names(ours)
        assert answers[2].error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
    finally:
        channel.close()
        b.stop()


def test_open_api_on_loopback_without_key(tmp_path):
    """Centrifugo checks no key when grpc_api.key is empty; the broker allows that on loopback only, with a warning.
    (`localhost` as the address, as Centrifugo configs often have it.)"""
    port = free_port()
    b = Broker(grpc_config(port, key="", address="localhost"), name="grpc-open").start()
    t = GRPCTransport(f"127.0.0.1:{port}", key="anything")
    try:
        assert t.call("info", {})["result"]["nodes"]
        assert "grpc_api.key" in b.log_text()
    finally:
        t.close()
        b.stop()
