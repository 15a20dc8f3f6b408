#!/usr/bin/env python3
"""A fake xAI server for tests (stdlib only, 127.0.0.1).

POST <any prefix>/responses answers in xAI's Responses API shape: output
items (one custom_tool_call per X search, then the assistant message whose
output_text carries the answer and url_citation annotations), top-level
citations, and usage with the server-side tool counts
(num_server_side_tools_used, server_side_tool_usage_details.x_search_calls).
Its request must have model, input, tools (x_search with an optional
YYYY-MM-DD from_date) and text.format json_schema; "search_parameters" (the
removed Live Search) is 410 here and on chat completions.
POST <any prefix>/chat/completions answers in the OpenAI-compatible shape xAI
uses. Like xAI: no "Authorization: Bearer" header is 401; a wrong key is 400
{"code": "Client specified an invalid argument", "error": "Incorrect API key
provided: xa***ey. ..."}; a body that is not sent as application/json is 415,
one that is not JSON 400, and one that does not fit the request schema (model,
messages with role and content, temperature 0..2, max_tokens, response_format)
422 "Failed to deserialize the JSON body into the target type: ...". Behaviour is set per
token symbol (found as "$SYM" in the user message; "*" is the default) through
the control endpoints:

  POST /control/mode   JSON {"symbol": "SOL", "mode": "good", "score": 0.4,
                       "confidence": 0.8, "summary": "...", "delay_ms": 0,
                       "retry_after": 30}  (GET with the same query keys works too)
  GET  /control/calls  {"SOL": 2, "_narrate": 1, "_total": 3}
  GET  /control/usage  what was billed: {"calls", "answered", "searches",
                       "input_tokens", "output_tokens", "max_in_flight"}
  GET  /control/requests  the request bodies and auth-header presence received
  POST /control/reset  back to the defaults, counters to zero
  POST /control/release  answers the calls held by "hold": true (a mode setting:
                       the answer waits for this, as long as a test needs it)

Modes: good, fenced (good JSON inside ```json fences), prose (JSON inside a
sentence), non_json, out_of_range, missing_field, wrong_type, empty_choices,
null_content, error_string (400, {"code","error": "..."}), error_object
(400, {"error": {"message","type","code"}}), error_in_200, gone (410 as for Live Search), auth_400 (400,
incorrect key text), rate_limit (429 tokens-per-minute text), credits (429 out
of credits text), server_error (500), html_502 (502 with an HTML body),
not_json_body (200, text body), multiline (good, summary with newlines),
slow (good after delay_ms; delay_ms applies to every mode). Responses API
modes also: no_search (an answer with no X search and no citations),
no_citations (searches but no post cited), web_only (web citations only);
"searches" and "posts" (default 3 and 5) set how many a good answer has.

Usage: fake_xai.py --port 0 [--key KEY]   (prints "PORT <n>" first)
"""
import argparse
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_MODE = {"mode": "good", "score": 0.25, "confidence": 0.5,
                "summary": "Mixed chatter about the token.", "delay_ms": 0, "retry_after": None,
                "searches": 3, "posts": 5}
EMPTY_USAGE = {"calls": 0, "answered": 0, "searches": 0, "input_tokens": 0,
               "output_tokens": 0, "max_in_flight": 0}

SYMBOL_PATTERN = re.compile(r"\$([A-Za-z0-9]{1,15})\b")


class State:
    def __init__(self, key):
        self.key = key
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.modes = {"*": dict(DEFAULT_MODE)}
            self.calls = {}
            self.requests = []
            self.usage = dict(EMPTY_USAGE)
            self.in_flight = 0
            if hasattr(self, "released"):
                self.released.set()  # nothing stays held across a reset
            self.released = threading.Event()

    def mode_for(self, symbol):
        with self.lock:
            return dict(self.modes.get(symbol) or self.modes["*"])

    def set_mode(self, settings):
        symbol = str(settings.pop("symbol", "*")).upper() or "*"
        with self.lock:
            mode = dict(self.modes.get(symbol) or DEFAULT_MODE)
            mode.update(settings)
            self.modes[symbol] = mode
            return symbol, mode

    def bill(self, body):
        """Adds a 2xx answer's usage block to the billed totals."""
        usage = body.get("usage") if isinstance(body, dict) else None
        if not usage:
            return
        with self.lock:
            self.usage["answered"] += 1
            self.usage["searches"] += usage.get("num_server_side_tools_used", 0)
            self.usage["input_tokens"] += usage.get("input_tokens", usage.get("prompt_tokens", 0))
            self.usage["output_tokens"] += usage.get("output_tokens",
                                                     usage.get("completion_tokens", 0))

    def enter(self):
        with self.lock:
            self.in_flight += 1
            self.usage["max_in_flight"] = max(self.usage["max_in_flight"], self.in_flight)

    def leave(self):
        with self.lock:
            self.in_flight -= 1

    def count(self, symbol, request_record):
        with self.lock:
            self.calls[symbol] = self.calls.get(symbol, 0) + 1
            self.calls["_total"] = self.calls.get("_total", 0) + 1
            self.usage["calls"] += 1
            self.requests.append(request_record)


ROLES = ("system", "user", "assistant", "tool", "developer")
FORMAT_TYPES = ("text", "json_object", "json_schema")
TOOL_TYPES = ("x_search", "web_search", "code_interpreter", "code_execution", "file_search",
              "collections_search", "mcp")
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
GONE = {"code": "Some requested entity was not found",
        "error": "Live search is deprecated. Please switch to the Agent Tools API: "
                 "https://docs.x.ai/docs/guides/tools/overview"}


def request_shape_error(request):
    """None when request fits the chat-completions schema, else the reason."""
    if not isinstance(request, dict):
        return "expected a JSON object"
    if not isinstance(request.get("model"), str) or not request["model"]:
        return "missing field `model`"
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: expected a non-empty sequence"
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return f"messages[{index}].role: unknown variant"
        if not isinstance(message.get("content"), (str, list)):
            return f"messages[{index}].content: invalid type"
    temperature = request.get("temperature", 1)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not 0 <= temperature <= 2:
        return "temperature: expected a number in 0..2"
    max_tokens = request.get("max_tokens", 1)
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        return "max_tokens: expected a positive integer"
    if not isinstance(request.get("stream", False), bool):
        return "stream: expected a boolean"
    response_format = request.get("response_format")
    if response_format is not None:
        if not isinstance(response_format, dict) or response_format.get("type") not in FORMAT_TYPES:
            return "response_format.type: unknown variant"
        if response_format["type"] == "json_schema":
            schema = response_format.get("json_schema")
            if not isinstance(schema, dict) or not isinstance(schema.get("schema"), dict):
                return "response_format.json_schema: missing field `schema`"
    return None


def responses_shape_error(request):
    """None when request fits the Responses API rating request, else why."""
    if not isinstance(request, dict):
        return "expected a JSON object"
    if not isinstance(request.get("model"), str) or not request["model"]:
        return "missing field `model`"
    items = request.get("input")
    if isinstance(items, list):
        for index, item in enumerate(items):
            if not isinstance(item, dict) or item.get("role") not in ROLES:
                return f"input[{index}].role: unknown variant"
            if not isinstance(item.get("content"), (str, list)):
                return f"input[{index}].content: invalid type"
    elif not isinstance(items, str):
        return "missing field `input`"
    tools = request.get("tools", [])
    if not isinstance(tools, list):
        return "tools: expected a sequence"
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") not in TOOL_TYPES:
            return f"tools[{index}].type: unknown variant"
        for field in ("from_date", "to_date"):
            if field in tool and not DATE_PATTERN.fullmatch(str(tool[field])):
                return f"tools[{index}].{field}: expected YYYY-MM-DD"
    text = request.get("text")
    if text is not None:
        form = text.get("format") if isinstance(text, dict) else None
        if not isinstance(form, dict) or form.get("type") not in FORMAT_TYPES:
            return "text.format.type: unknown variant"
        if form["type"] == "json_schema" and not isinstance(form.get("schema"), dict):
            return "text.format: missing field `schema`"
    for field in ("temperature", "max_output_tokens"):
        value = request.get(field, 1)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            return f"{field}: expected a number"
    return None


def user_text_of(request):
    items = request.get("input") if "input" in request else request.get("messages")
    if isinstance(items, str):
        return items
    return " ".join(str(item.get("content")) for item in items if item.get("role") == "user")


def post_url(number):
    return f"https://x.com/i/status/{1950000000000000000 + number}"


def response_object(mode, model, text, searches, posts, web=0):
    output = [{"type": "custom_tool_call", "call_id": f"xs_{index}", "id": f"ctc_{index}",
               "name": "x_keyword_search" if index % 2 == 0 else "x_semantic_search",
               "input": json.dumps({"query": "crypto sentiment", "limit": 10}),
               "status": "completed"} for index in range(searches)]
    urls = [post_url(index) for index in range(posts)]
    urls += [f"https://example.com/news/{index}" for index in range(web)]
    annotations = [{"type": "url_citation", "url": url, "start_index": 0, "end_index": 0,
                    "title": str(index + 1)} for index, url in enumerate(urls)]
    output.append({"type": "message", "id": "msg_fake", "role": "assistant",
                   "status": "completed",
                   "content": [{"type": "output_text", "text": text, "logprobs": [],
                                "annotations": annotations}]})
    tools = searches + (1 if web else 0)
    return {
        "id": "resp_fake_" + str(int(time.time() * 1000)), "object": "response",
        "created_at": int(time.time()), "model": model, "status": "completed",
        "output": output, "citations": urls,
        "usage": {"input_tokens": 1200 + 300 * searches,
                  "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens": 80, "output_tokens_details": {"reasoning_tokens": 0},
                  "total_tokens": 1280 + 300 * searches, "num_sources_used": 0,
                  "num_server_side_tools_used": tools,
                  "server_side_tool_usage_details": {
                      "web_search_calls": 1 if web else 0, "x_search_calls": searches,
                      "code_interpreter_calls": 0, "file_search_calls": 0, "mcp_calls": 0,
                      "document_search_calls": 0}},
    }


def responses_answer(mode, model):
    """-> (status, body, headers) for the Responses API."""
    name = mode["mode"]
    searches, posts = int(mode.get("searches", 3)), int(mode.get("posts", 5))
    good = rating_json(mode)
    grounded = {
        "good": lambda: response_object(mode, model, good, searches, posts),
        "slow": lambda: response_object(mode, model, good, searches, posts),
        "no_search": lambda: response_object(mode, model, good, 0, 0),
        "no_citations": lambda: response_object(mode, model, good, searches, 0),
        "web_only": lambda: response_object(mode, model, good, 0, 0, web=3),
        "non_json": lambda: response_object(mode, model, "Quite bullish today.", searches, posts),
        "out_of_range": lambda: response_object(mode, model, rating_json(mode, score=1.7),
                                                searches, posts),
        "empty_output": lambda: dict(response_object(mode, model, good, 0, 0), output=[]),
    }
    if name in grounded:
        return 200, grounded[name](), {}
    return answer(mode, model, False)


def masked(key):
    """xAI quotes the first and last two characters of a wrong key."""
    return key[:2] + "***" + key[-2:] if len(key) > 4 else "***"


def completion(content, model):
    return {
        "id": "fake-" + str(int(time.time() * 1000)),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                             "refusal": None},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160},
        "system_fingerprint": "fp_fake",
    }


def rating_json(mode, **overrides):
    value = {"score": mode["score"], "confidence": mode["confidence"],
             "summary": mode["summary"]}
    value.update(overrides)
    return json.dumps(value)


def answer(mode, model, narrate):
    """-> (status, body object or text, extra headers)"""
    name = mode["mode"]
    if narrate and name in ("good", "slow", "fenced", "multiline", "prose"):
        return 200, completion("SOL looks calm; chatter is mixed and volume is average.",
                               model), {}
    good = rating_json(mode)
    table = {
        "good": lambda: (200, completion(good, model), {}),
        "slow": lambda: (200, completion(good, model), {}),
        "fenced": lambda: (200, completion("```json\n" + good + "\n```", model), {}),
        "prose": lambda: (200, completion("Here is the rating: " + good, model), {}),
        "multiline": lambda: (200, completion(rating_json(
            mode, summary="First line\nsecond line\r\n\tthird"), model), {}),
        "non_json": lambda: (200, completion("The sentiment is quite bullish today.", model), {}),
        "out_of_range": lambda: (200, completion(rating_json(mode, score=1.7), model), {}),
        "missing_field": lambda: (200, completion(json.dumps(
            {"score": mode["score"], "summary": mode["summary"]}), model), {}),
        "wrong_type": lambda: (200, completion(rating_json(mode, score="high"), model), {}),
        "empty_choices": lambda: (200, dict(completion("", model), choices=[]), {}),
        "null_content": lambda: (200, completion(None, model), {}),
        "error_string": lambda: (400, {"code": "Client specified an invalid argument",
                                       "error": "Model not found: " + model}, {}),
        "error_object": lambda: (400, {"error": {"message": "Invalid request: bad schema",
                                                 "type": "invalid_request_error",
                                                 "code": "invalid_argument"}}, {}),
        "error_in_200": lambda: (200, {"code": "Internal", "error": "upstream overloaded"}, {}),
        "auth_400": lambda: (400, {"code": "Client specified an invalid argument",
                                   "error": "Incorrect API key provided: xa***ey. You can "
                                            "obtain an API key from https://console.x.ai."}, {}),
        "rate_limit": lambda: (429, {"code": "Some resource has been exhausted",
                                     "error": "Too many tokens for team fake-team and model "
                                              + model + ". Tokens per Minute (actual/limit): "
                                              "65605/16000"}, {}),
        "credits": lambda: (429, {"code": "Some resource has been exhausted",
                                  "error": "Your team fake-team has either used all available "
                                           "credits or reached its monthly spending limit. To "
                                           "continue making API requests, please purchase more "
                                           "credits or raise your spending limit."}, {}),
        "server_error": lambda: (500, {"code": "Internal error",
                                       "error": "Service temporarily unavailable"}, {}),
        "html_502": lambda: (502, "<html><body><h1>502 Bad Gateway</h1></body></html>", {}),
        "not_json_body": lambda: (200, "OK", {}),
        "gone": lambda: (410, GONE, {}),
    }
    status, body, headers = table.get(name, table["good"])()
    if mode.get("retry_after") is not None:
        headers = dict(headers, **{"Retry-After": str(mode["retry_after"])})
    return status, body, headers


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-xai/1"

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def send_json(self, status, body, headers=None):
        data = body if isinstance(body, str) else json.dumps(body)
        raw = data.encode()
        self.send_response(status)
        content_type = "application/json" if not isinstance(body, str) else "text/html"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def query(self):
        parsed = urllib.parse.urlparse(self.path)
        return parsed.path, {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items()}

    def do_GET(self):
        path, query = self.query()
        state = self.server.state
        if path == "/control/calls":
            with state.lock:
                return self.send_json(200, dict(state.calls))
        if path == "/control/usage":
            with state.lock:
                return self.send_json(200, dict(state.usage))
        if path == "/control/requests":
            with state.lock:
                return self.send_json(200, list(state.requests))
        if path == "/control/mode":
            return self.control_mode(query)
        if path == "/control/reset":
            state.reset()
            return self.send_json(200, {"ok": True})
        self.send_json(404, {"code": "Not found", "error": "No such route: GET " + path})

    def do_POST(self):
        path, query = self.query()
        body = self.read_body()
        state = self.server.state
        if path == "/control/reset":
            state.reset()
            return self.send_json(200, {"ok": True})
        if path == "/control/release":
            state.released.set()
            return self.send_json(200, {"ok": True})
        if path == "/control/mode":
            settings = dict(query)
            if body:
                settings.update(json.loads(body))
            return self.control_mode(settings)
        if path.endswith("/chat/completions"):
            return self.chat_completions(body)
        if path.endswith("/responses"):
            return self.responses_api(body)
        self.send_json(404, {"code": "Not found", "error": "No such route: POST " + path})

    def control_mode(self, settings):
        for number in ("score", "confidence"):
            if number in settings:
                settings[number] = float(settings[number])
        for number in ("delay_ms", "searches", "posts"):
            if number in settings:
                settings[number] = int(settings[number])
        symbol, mode = self.server.state.set_mode(dict(settings))
        self.send_json(200, {"symbol": symbol, "mode": mode})

    def read_request(self, raw_body, shape_error_of):
        """-> the request object, or None once an error answer was sent."""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self.send_json(415, {"code": "Client specified an invalid argument",
                                 "error": "Expected request with `Content-Type: "
                                          "application/json`"})
            return None
        try:
            request = json.loads(raw_body)
        except ValueError as error:
            self.send_json(400, {"code": "Client specified an invalid argument",
                                 "error": "Failed to parse the request body as JSON: "
                                          + str(error)})
            return None
        if isinstance(request, dict) and "search_parameters" in request:
            self.send_json(410, GONE)
            return None
        shape_error = shape_error_of(request)
        if shape_error:
            self.send_json(422, {"code": "Client specified an invalid argument",
                                 "error": "Failed to deserialize the JSON body into the "
                                          "target type: " + shape_error})
            return None
        return request

    def authorised(self):
        """True for the right key; otherwise xAI's 401 / 400 was sent."""
        authorization = self.headers.get("Authorization", "")
        if not authorization.startswith("Bearer "):
            self.send_json(401, {
                "code": "The caller does not have permission to execute the specified operation",
                "error": "No API key provided. Put it in the Authorization header as "
                         "'Bearer <key>'. You can obtain an API key from https://console.x.ai."})
            return False
        if authorization != "Bearer " + self.server.state.key:
            given = authorization[len("Bearer "):]
            self.send_json(400, {
                "code": "Client specified an invalid argument",
                "error": "Incorrect API key provided: " + masked(given)
                         + ". You can obtain an API key from https://console.x.ai."})
            return False
        return True

    def record(self, symbol, request):
        self.server.state.count(symbol, {
            "symbol": symbol, "body": request,
            "has_bearer": self.headers.get("Authorization", "").startswith("Bearer "),
            "content_type": self.headers.get("Content-Type", "")})

    def answer_after_delay(self, mode, make_answer):
        state = self.server.state
        delay_ms = int(mode.get("delay_ms") or 0)
        if mode["mode"] == "slow" and delay_ms == 0:
            delay_ms = 3000
        state.enter()
        try:
            if delay_ms:
                time.sleep(delay_ms / 1000.0)
            if mode.get("hold"):
                state.released.wait(timeout=300)
            status, body, headers = make_answer()
        finally:
            state.leave()
        if 200 <= status < 300:
            state.bill(body)
        try:
            self.send_json(status, body, headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def chat_completions(self, raw_body):
        request = self.read_request(raw_body, request_shape_error)
        if request is None:
            return None
        model = request["model"]
        narrate = "response_format" not in request
        match = SYMBOL_PATTERN.search(user_text_of(request))
        symbol = "_narrate" if narrate else (match.group(1).upper() if match else "_unknown")
        self.record(symbol, request)
        if not self.authorised():
            return None
        mode = self.server.state.mode_for(symbol if not narrate else "*")
        return self.answer_after_delay(mode, lambda: answer(mode, model, narrate))

    def responses_api(self, raw_body):
        request = self.read_request(raw_body, responses_shape_error)
        if request is None:
            return None
        match = SYMBOL_PATTERN.search(user_text_of(request))
        symbol = match.group(1).upper() if match else "_unknown"
        self.record(symbol, request)
        if not self.authorised():
            return None
        mode = self.server.state.mode_for(symbol)
        return self.answer_after_delay(mode, lambda: responses_answer(mode, request["model"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key", default="xai-test-key")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args.key)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
