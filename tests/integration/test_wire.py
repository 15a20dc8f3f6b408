"""Wire habits of real servers that tests/fakes do not show, met by the real
./jarvis: a Telegram server that answers with chunked transfer encoding and
"application/json; charset=utf-8", closes its keep-alive connection after
every poll without saying so, adds unknown fields everywhere, uses ids
beyond 32 bits, words its errors differently and disagrees between HTTP
status and error_code; and a CoinGecko server with integer prices, null
fields and a three-point history. Both servers live in this file."""
import json
import pathlib
import signal
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import REPO, JarvisProcess, built_plugin_dir, run_console, wait_for, write_config

TOKEN = "987654321:AAwireCANARYwireCANARYwireCANARY98765"
BOT_ID = 7123456789            # current bot ids need more than 32 bits
BOT_NAME = "QuirkyWireBot"
USER_ID = 6234567890
GROUP = -1001987654321
SAMPLE = REPO / "plugins" / "dexter_finance" / "sample_market.json"

pytestmark = pytest.mark.skipif(
    not all(pathlib.Path(built_plugin_dir(), name + ".so").exists()
            for name in ("hello", "dexter_finance")),
    reason="hello and dexter_finance are not built")


def send_chunked(handler, status, payload, close=False):
    body = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("X-Unknown-Header", "1")
    handler.end_headers()
    middle = len(body) // 2
    for piece in (body[:middle], body[middle:]):
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()
    if close:
        handler.close_connection = True  # no "Connection: close": a silent hang-up


class QuirkyTelegramState:
    def __init__(self):
        self.lock = threading.Condition()
        self.updates = []
        self.next_update_id = 500000000
        self.sent = []
        self.send_calls = {}
        self.faults = {}   # chat_id -> list of (status, payload) answered before success
        self.polls = 0

    def add(self, kind, body):
        with self.lock:
            self.updates.append({"update_id": self.next_update_id, kind: body,
                                 "future_top_level": {"v": 2}})
            self.next_update_id += 1
            self.lock.notify_all()
            return self.next_update_id - 1


def message(text, chat_id=GROUP, chat_type="supergroup", sender=True, **extra):
    body = {"message_id": 77, "date": int(time.time()), "text": text,
            "chat": {"id": chat_id, "type": chat_type, "title": "Wire", "is_forum": False},
            "has_protected_content": False, "new_future_field": [1, 2]}
    if sender:
        body["from"] = {"id": USER_ID, "is_bot": False, "first_name": "Ann",
                        "is_premium": True, "language_code": "en"}
    if text.startswith("/"):
        body["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    body.update(extra)
    return body


class QuirkyTelegram(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx/1.25.3"

    def log_message(self, *args):
        pass

    def do_POST(self):
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        params = json.loads(raw or b"{}")
        path = urllib.parse.urlsplit(self.path).path
        if not path.startswith(f"/bot{TOKEN}/"):
            return send_chunked(self, 401, {"ok": False, "error_code": 401,
                                            "description": "Unauthorized"})
        method = path.rsplit("/", 1)[1]
        if method == "getMe":
            return send_chunked(self, 200, {"ok": True, "result": {
                "id": BOT_ID, "is_bot": True, "first_name": "Quirky", "username": BOT_NAME,
                "can_join_groups": True, "can_read_all_group_messages": True,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}})
        if method == "setMyCommands":
            return send_chunked(self, 200, {"ok": True, "result": True})
        if method == "getUpdates":
            return self.get_updates(state, params)
        if method == "sendMessage":
            return self.send_message(state, params)
        send_chunked(self, 404, {"ok": False, "error_code": 404, "description": "Not Found: "
                                 "method not found"})

    def get_updates(self, state, params):
        offset = int(params.get("offset", 0))
        deadline = time.monotonic() + min(float(params.get("timeout", 0)), 1.0)
        with state.lock:
            state.polls += 1
            if offset:
                state.updates = [u for u in state.updates if u["update_id"] >= offset]
            while not state.updates and time.monotonic() < deadline:
                state.lock.wait(0.05)
            result = list(state.updates[:int(params.get("limit", 100))])
        send_chunked(self, 200, {"ok": True, "result": result}, close=True)

    def send_message(self, state, params):
        chat_id = params["chat_id"]
        with state.lock:
            state.send_calls[chat_id] = state.send_calls.get(chat_id, 0) + 1
            queued = state.faults.get(chat_id) or []
            fault = queued.pop(0) if queued else None
            if fault is None:
                state.sent.append({"chat_id": chat_id, "text": params["text"]})
        if fault is not None:
            return send_chunked(self, *fault)
        send_chunked(self, 200, {"ok": True, "result": {
            "message_id": 1000, "date": int(time.time()), "text": params["text"],
            "chat": {"id": chat_id, "type": "supergroup"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Quirky",
                     "username": BOT_NAME}}})


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def quirky_telegram():
    server, base = serve(QuirkyTelegram)
    server.state = QuirkyTelegramState()
    yield server.state, base
    server.shutdown()
    server.server_close()


def texts(state, chat_id):
    with state.lock:
        return [m["text"] for m in state.sent if m["chat_id"] == chat_id]


def test_quirky_telegram_server(workdir, quirky_telegram, processes):
    state, base = quirky_telegram
    flood = (429, {"ok": False, "error_code": 429,
                   "description": "Flood control exceeded. Retry in 1 second",
                   "parameters": {"retry_after": 1}})
    refused = (200, {"ok": False, "error_code": 400,
                     "description": "Bad Request: not enough rights to send text messages"})
    state.faults = {GROUP: [flood], -42: [refused]}
    config = write_config(workdir, {
        "bot": {"token": "env:TELEGRAM_BOT_TOKEN", "api_base": base, "poll_timeout": 1,
                "log_file": str(workdir / "jarvis.log"), "log_level": "debug",
                "backoff_initial_ms": 50, "backoff_max_ms": 200},
        "plugins": {"enable": "hello, dexter_finance"},
        "dexter_finance": {"provider": "file", "data_file": str(SAMPLE)}})
    bot = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL,
                        env={"TELEGRAM_BOT_TOKEN": TOKEN})
    processes.append(bot)

    bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Quirky", "username": BOT_NAME}
    state.add("message", message(f"/echo@{BOT_NAME} first"))
    state.add("edited_message", dict(message("/echo edited"), edit_date=int(time.time())))
    state.add("channel_post", message("/echo channel", chat_id=-1005555555555,
                                      chat_type="channel", sender=False))
    state.add("callback_query", {"id": "1", "from": {"id": USER_ID, "is_bot": False,
                                                     "first_name": "Ann"},
                                 "chat_instance": "5", "data": "x"})
    state.add("my_chat_member", {"chat": {"id": GROUP, "type": "supergroup"}, "date": 1,
                                 "from": {"id": USER_ID, "is_bot": False, "first_name": "Ann"},
                                 "old_chat_member": {"status": "left", "user": bot_user},
                                 "new_chat_member": {"status": "member", "user": bot_user}})
    state.add("message", message("/echo@OtherBot not for us"))
    state.add("message", message("price of BTC?", reply_to_message={
        "message_id": 5, "date": 1, "chat": {"id": GROUP, "type": "supergroup"},
        "from": bot_user, "text": "earlier answer"}))
    state.add("message", message(f"@{BOT_NAME} price of ETH?", sender=False,
                                 sender_chat={"id": GROUP, "type": "supergroup"}))
    state.add("message", message("/echo refused", chat_id=-42, chat_type="group"))
    state.add("message", message("/echo last"))

    assert wait_for(lambda: len(texts(state, GROUP)) >= 4, timeout=20), texts(state, GROUP)
    bot.signal(signal.SIGTERM)
    code, out, err = bot.wait(timeout=30)
    log = (workdir / "jarvis.log").read_text()
    assert code == 0, err + log
    sent = texts(state, GROUP)
    assert sent[0] == "first" and sent[-1] == "last", sent
    assert sent[1].startswith("BTC (Bitcoin): $") and sent[2].startswith("ETH (Ethereum): $"), sent
    assert len(sent) == 4, sent
    assert texts(state, -1005555555555) == [] and texts(state, -42) == []
    with state.lock:
        # the flood answer was waited out once, the refusal not retried
        assert state.send_calls[GROUP] == 5 and state.send_calls[-42] == 1, state.send_calls
        assert state.updates == []  # everything confirmed at the clean stop
    assert "hit flood control; waiting 1 s" in log
    assert "refused (400 Bad Request: not enough rights" in log
    assert "skipped:" not in log, log
    for text in (out, err, log):
        assert TOKEN.split(":")[1] not in text


# ---- CoinGecko ------------------------------------------------------------------

class QuirkyCoinGecko(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        now_ms = int(time.time() // 3600 * 3600 * 1000)
        if url.path == "/api/v3/simple/price":
            return send_chunked(self, 200, {"solana": {
                "usd": 150, "usd_market_cap": 70500000000, "usd_24h_vol": None,
                "usd_24h_change": None, "last_updated_at": now_ms // 1000,
                "usd_future": 1}})
        if url.path == "/api/v3/coins/solana/market_chart":
            points = [[now_ms - (2 - i) * 3600 * 1000, 148 + i] for i in range(3)]
            return send_chunked(self, 200, {"prices": points, "market_caps": [],
                                            "total_volumes": [], "extra": None})
        send_chunked(self, 404, {"error": "coin not found"})


def test_quirky_coingecko_answers_without_inventing(workdir):
    server, base = serve(QuirkyCoinGecko)
    try:
        config = write_config(workdir, {
            "bot": {"log_file": str(workdir / "jarvis.log")},
            "plugins": {"enable": "hello, dexter_finance"},
            "dexter_finance": {"provider": "coingecko", "base_url": base + "/api/v3",
                               "timeout_ms": 5000, "narrative": "false"}})
        result = run_console(config, "Is SOL bullish right now?\nprice of SOL\n/ping\n")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr
    # the console prints the outlook's keyboard on the line after its answer
    stdout = result.stdout.replace("[1] 24h  [2] 7d  [3] 30d  [4] Chart\n", "")
    outlook, price, rest = stdout.split("Not financial advice", 2)
    # three hourly points cannot carry a 14-day RSI or a 25-day SMA: said, not invented
    assert outlook.startswith("SOL"), outlook
    assert "history" in outlook and "RSI-14" not in outlook and "SMA" not in outlook, outlook
    assert price.split("\n", 1)[1].startswith("SOL (Solana): $150.00"), price
    assert "24h +" not in price and "24h -" not in price, price  # null change not made up
    assert "market cap $70.50B" in price and "volume" not in price, price
    assert rest.rstrip().endswith("pong"), rest
