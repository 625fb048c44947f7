"""YAML and TOML config files: `broker serve -c config.yaml` / `config.toml` start and answer /health, a bad value
in a YAML file makes `checkconfig` exit 1 naming the file's line, and `genconfig -c` writes each format."""
import subprocess

from conftest import API_KEY, BROKER_BIN, HMAC_SECRET, LOOPBACK, Broker

YAML = f"""\
log:
  level: info
http_server:
  address: "{LOOPBACK}"
client:
  token:
    hmac_secret_key: "{HMAC_SECRET}"
  allowed_origins: []
  ping_interval: 25s
http_api:
  key: "{API_KEY}"
health:
  enabled: true
channel:
  namespaces:
    - name: chat
      history_size: 10
      history_ttl: 300s
"""

TOML = f"""\
[log]
level = "info"

[http_server]
address = "{LOOPBACK}"

[client]
allowed_origins = []
ping_interval = "25s"

[client.token]
hmac_secret_key = "{HMAC_SECRET}"

[http_api]
key = "{API_KEY}"

[health]
enabled = true

[[channel.namespaces]]
name = "chat"
history_size = 10
history_ttl = "300s"
"""


class FileBroker(Broker):
    """A broker started on a config file written as given (the port comes from --port)."""

    def __init__(self, text: str, file_name: str) -> None:
        super().__init__({"http_server": {"address": LOOPBACK}}, name=file_name.replace(".", "-"))
        self.text = text
        self.config_path = self.dir / file_name

    def write_config(self) -> None:
        self.config_path.write_text(self.text)


def _run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([BROKER_BIN, *args], capture_output=True, text=True, timeout=30, cwd=cwd)


def test_yaml_and_toml_configs_serve_check_and_generate(tmp_path):
    for text, name in [(YAML, "config.yaml"), (TOML, "config.toml")]:
        broker = FileBroker(text, name).start()  # start() waits for GET /health -> 200
        try:
            assert broker.alive(), name
        finally:
            broker.stop()

    bad = tmp_path / "bad.yaml"
    bad.write_text(YAML.replace("ping_interval: 25s", "ping_interval: abc"))
    p = _run("checkconfig", "-c", str(bad))
    out = p.stdout + p.stderr
    assert p.returncode == 1, (p.returncode, out)
    assert f"client.ping_interval ({bad} line 9): " in out and '"abc" is not a duration' in out, out

    for name in ["gen.yaml", "gen.toml", "gen.json"]:
        p = _run("genconfig", "-c", name, cwd=tmp_path)
        assert p.returncode == 0, (name, p.stdout, p.stderr)
        p = _run("checkconfig", "-c", name, cwd=tmp_path)
        assert p.returncode == 0 and "config is valid" in p.stdout, (name, p.stdout, p.stderr)
