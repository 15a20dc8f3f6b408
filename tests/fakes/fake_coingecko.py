#!/usr/bin/env python3
"""A fake CoinGecko API (v3) for tests: /api/v3/simple/price and
/api/v3/coins/{id}/market_chart in the real response shapes, with series
that rise, fall or stay flat per coin, and failure modes on demand.
As the real API: simple/price adds usd_market_cap, usd_24h_vol,
usd_24h_change and last_updated_at only when include_market_cap,
include_24hr_vol, include_24hr_change, include_last_updated_at are "true";
market_chart takes days=N or days=max and interval=daily|hourly, with
automatic granularity otherwise (1 day: 5-minute points, 2-90: hourly,
more: daily).

Control (JSON over HTTP, for tests):
  GET  /control   -> {"calls": {...}, "last_headers": {...}, "settings": {...}}
  POST /control   body merges into the settings, e.g.
     {"scenario": {"solana": "falling"}}       rising | falling | flat
     {"fail": "rate_limit", "retry_after": 30}  rate_limit | rate_limit_no_header |
         server_error | malformed | not_found | error_body_200 | null
     {"fail_on": "market_chart"}                all | simple_price | market_chart
     {"delay_ms": 1500}                         answer slowly
     {"reset_counters": true}
Run: fake_coingecko.py --port 0  (prints "PORT <n>" first).
Stdlib only; binds 127.0.0.1.
"""
import argparse
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS

COINS = {  # id -> (start price 30 days before "now", circulating supply)
    "bitcoin": (60000.0, 19.7e6),
    "ethereum": (3000.0, 120.2e6),
    "solana": (150.0, 470e6),
    "bonk": (0.00002, 77e12),
    "dogecoin": (0.15, 146e9),
}
DAILY_RATE = {"rising": 0.015, "falling": -0.015, "flat": 0.0}

RATE_LIMIT_BODY = {"status": {"error_code": 429, "error_message":
                              "You've exceeded the Rate Limit. Please visit "
                              "https://www.coingecko.com/en/api/pricing to subscribe to our "
                              "API plans for higher rate limits."}}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.settings = {"scenario": {}, "fail": None, "fail_on": "all", "retry_after": 30,
                         "delay_ms": 0}
        self.calls = {"simple_price": 0, "market_chart": 0, "total": 0}
        self.last_headers = {}

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.settings))


STATE = State()


def scenario_of(settings, coin):
    return settings["scenario"].get(coin, settings["scenario"].get("*", "rising"))


def price_at(coin, scenario, time_ms, end_ms):
    """Deterministic price: exponential trend plus a small wiggle."""
    start, _ = COINS[coin]
    days_from_start = (time_ms - (end_ms - 30 * DAY_MS)) / DAY_MS
    trend = start * math.exp(DAILY_RATE.get(scenario, 0.0) * days_from_start)
    hours = time_ms / HOUR_MS
    wiggle = 0.0005 if scenario == "flat" else 0.002
    return trend * (1.0 + wiggle * math.sin(hours * 2 * math.pi / 5.0))


def now_end_ms():
    return int(time.time() // 3600 * 3600 * 1000)


def series(coin, scenario, days, end_ms, interval=None):
    if interval == "daily":
        step = DAY_MS
    elif interval == "hourly":
        step = HOUR_MS
    elif days <= 1:
        step = 5 * 60 * 1000
    elif days <= 90:
        step = HOUR_MS
    else:
        step = DAY_MS
    count = int(days * DAY_MS // step)
    times = [end_ms - (count - i) * step for i in range(count + 1)]
    return [(t, price_at(coin, scenario, t, end_ms)) for t in times]


def simple_price_body(ids, settings, flags=()):
    """flags: the include_* parameters given as true."""
    end = now_end_ms()
    body = {}
    for coin in ids:
        if coin not in COINS:
            continue  # CoinGecko leaves unknown ids out
        scenario = scenario_of(settings, coin)
        price = price_at(coin, scenario, end, end)
        before = price_at(coin, scenario, end - DAY_MS, end)
        supply = COINS[coin][1]
        entry = {"usd": price}
        if "include_market_cap" in flags:
            entry["usd_market_cap"] = price * supply
        if "include_24hr_vol" in flags:
            entry["usd_24h_vol"] = price * supply * 0.03
        if "include_24hr_change" in flags:
            entry["usd_24h_change"] = (price - before) / before * 100.0
        if "include_last_updated_at" in flags:
            entry["last_updated_at"] = end // 1000
        body[coin] = entry
    return body


def market_chart_body(coin, days, settings, interval=None):
    end = now_end_ms()
    points = series(coin, scenario_of(settings, coin), days, end, interval)
    supply = COINS[coin][1]
    return {"prices": [[t, p] for t, p in points],
            "market_caps": [[t, p * supply] for t, p in points],
            "total_volumes": [[t, p * supply * 0.03] for t, p in points]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, payload, headers=None, raw=None):
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/control":
            with STATE.lock:
                payload = {"calls": dict(STATE.calls), "last_headers": dict(STATE.last_headers),
                           "settings": json.loads(json.dumps(STATE.settings))}
            return self.send_json(200, payload)
        query = parse_qs(url.query)
        if url.path == "/api/v3/simple/price":
            return self.api_call("simple_price", lambda s: self.simple_price(query, s))
        parts = url.path.split("/")
        if len(parts) == 6 and parts[:4] == ["", "api", "v3", "coins"] and parts[5] == "market_chart":
            return self.api_call("market_chart", lambda s: self.market_chart(parts[4], query, s))
        self.send_json(404, {"error": "Incorrect path. Please check https://www.coingecko.com/api/"})

    def do_POST(self):
        if urlparse(self.path).path != "/control":
            return self.send_json(404, {"error": "not found"})
        length = int(self.headers.get("Content-Length") or 0)
        try:
            update = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self.send_json(400, {"error": "control body is not JSON"})
        with STATE.lock:
            if update.pop("reset_counters", False):
                STATE.calls = {"simple_price": 0, "market_chart": 0, "total": 0}
                STATE.last_headers = {}
            if "scenario" in update:
                STATE.settings["scenario"].update(update.pop("scenario"))
            STATE.settings.update(update)
            settings = json.loads(json.dumps(STATE.settings))
        self.send_json(200, {"settings": settings})

    def api_call(self, endpoint, answer):
        with STATE.lock:
            STATE.calls[endpoint] += 1
            STATE.calls["total"] += 1
            STATE.last_headers = {name.lower(): value for name, value in self.headers.items()
                                  if name.lower().startswith("x-cg-")}
        settings = STATE.snapshot()
        if settings["delay_ms"]:
            time.sleep(settings["delay_ms"] / 1000.0)
        failing = settings["fail"] and settings["fail_on"] in ("all", endpoint)
        if failing:
            return self.fail(settings)
        answer(settings)

    def fail(self, settings):
        mode = settings["fail"]
        if mode == "rate_limit":
            return self.send_json(429, RATE_LIMIT_BODY,
                                  {"Retry-After": str(settings["retry_after"])})
        if mode == "rate_limit_no_header":
            return self.send_json(429, RATE_LIMIT_BODY)
        if mode == "server_error":
            return self.send_json(503, None, raw=b"<html><body>503 Service Unavailable</body></html>")
        if mode == "malformed":
            return self.send_json(200, None, raw=b'{"solana": {"usd": 187.4, "usd_market')
        if mode == "not_found":
            return self.send_json(404, {"error": "coin not found"})
        if mode == "error_body_200":
            return self.send_json(200, {"status": {"error_code": 10002,
                                                   "error_message": "API Key Missing"}})
        return self.send_json(500, {"error": f"unknown fail mode {mode}"})

    def simple_price(self, query, settings):
        ids = [i for i in ",".join(query.get("ids", [])).split(",") if i]
        if not ids or query.get("vs_currencies") != ["usd"]:
            return self.send_json(400, {"error": "Missing parameter ids or vs_currencies"})
        flags = [name for name in ("include_market_cap", "include_24hr_vol",
                                   "include_24hr_change", "include_last_updated_at")
                 if query.get(name, [""])[-1].lower() == "true"]
        self.send_json(200, simple_price_body(ids, settings, flags))

    def market_chart(self, coin, query, settings):
        if coin not in COINS:
            return self.send_json(404, {"error": "coin not found"})
        days_text = query.get("days", [""])[0]
        try:
            days = 365 * 12 if days_text == "max" else int(days_text)
        except ValueError:
            return self.send_json(400, {"error": "Missing parameter days"})
        if query.get("vs_currency") != ["usd"] or days < 1:
            return self.send_json(400, {"error": "Missing parameter vs_currency"})
        interval = query.get("interval", [None])[0]
        if interval not in (None, "daily", "hourly"):
            return self.send_json(400, {"error": "Invalid interval"})
        self.send_json(200, market_chart_body(coin, days, settings, interval))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--scenario", action="append", default=[],
                        help="coin=rising|falling|flat (repeatable; * for all)")
    args = parser.parse_args()
    for item in args.scenario:
        coin, _, scenario = item.partition("=")
        STATE.settings["scenario"][coin] = scenario
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
