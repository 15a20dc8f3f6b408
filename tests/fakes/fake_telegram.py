#!/usr/bin/env python3
"""A fake Telegram Bot API server for tests (stdlib only, 127.0.0.1).

Start: fake_telegram.py --port 0 [--token T] [--username NAME] [--bot-id N]
First stdout line: "PORT <n>".

Bot API (wire format as Telegram: {"ok":true,"result":...} or
{"ok":false,"error_code":N,"description":"...","parameters":{...}}), at
/bot<token>/<method>; parameters from the query string, a form body or a JSON
body. Wrong token -> 401 "Unauthorized"; unknown method -> 404 "Not Found".
  getMe, getUpdates (long poll: timeout, offset confirms, limit; a NEWER
  overlapping getUpdates ends the older one with the real 409 "Conflict:
  terminated by other getUpdates request; ..."; a negative offset keeps only
  the last -offset updates), sendMessage (1..4096 UTF-16 units after entity
  parsing, else 400; parse_mode HTML / MarkdownV2 / Markdown checked like
  Telegram: a bare "<" or "&" in HTML or an unescaped reserved character in
  MarkdownV2 is 400 "Bad Request: can't parse entities: ..."), setMyCommands
  (at most 100), setWebhook / deleteWebhook / getWebhookInfo (below),
  allowed_updates is accepted
  but not applied: every queued update is delivered, so the bot must cope
  with kinds it did not ask for. While a
  webhook is set, getUpdates answers 409 "Conflict: can't use getUpdates
  method while webhook is active; use deleteWebhook to delete the webhook first".

Control API (JSON in and out; stable, other tests rely on it):
  POST /control/message   {"chat_id", "text", "user_id"?, "chat_type"?="private",
                           "username"?, "first_name"?, "reply_to_bot"?, "edited"?,
                           "message_thread_id"?, "is_topic_message"?, "is_forum"?}
                          -> {"update_id": n}   (the last three are copied into the
                          message / chat as given: a forum topic message has all three)
  POST /control/messages  {"messages": [ {...as above...}, ... ]} -> {"update_ids": [...]}
  POST /control/update    {"update": {...any update object...}} (update_id assigned
                          when missing) -> {"update_id": n}
  POST /control/update_raw?update_id=N   body = raw bytes of one update (may be
                          invalid UTF-8 or invalid JSON) -> {"update_id": N}
  POST /control/gap       {"skip": n}: the next update ids jump by n
  POST /control/renumber  {"next_update_id": n}: the next update ids start at n, lower
                          than before as Telegram may choose after a week without
                          updates. Like the Bot API server's update queue, a getUpdates
                          offset more than 10 past the next id to assign is "in the
                          future": it confirms nothing and the queue is served from its head
  POST /control/stream    {"messages": [...as /control/messages...], "rate": r}: queues
                          them r per second from a thread (returns at once); counters
                          "stream_left" says how many are still to come
  POST /control/clear_faults  forget the faults not yet applied
  POST /control/fault     {"method": "getUpdates"|"sendMessage"|..., "kind": K,
                           "count": n=1, "retry_after": s=1, "delay": s=1,
                           "migrate_to_chat_id": id}
        K: "429" "500" "502" "malformed" "truncated" "slow" "401" "403" "409"
           "409_webhook" "400" "400_migrate" "huge" "drop"; applies to the next n calls.
           "drop" closes the connection without an answer (a network failure).
           "huge" is a 200 answer of "size" bytes (default 80 MiB), with a
           Content-Length or, with "chunked": true, without one.
           "502" is nginx's HTML page, as Telegram's front end sends it; "403"
           is "Forbidden: bot was blocked by the user".
  POST /control/chat_member {"chat_id", "user_id", "status"}: what getChatMember says of
                          that user in that chat: "creator", "administrator", "member",
                          "restricted", "left", "kicked" (default: "member" in a group or
                          supergroup chat id (< 0), "creator" for the user of a private
                          chat); answered as Telegram's ChatMember objects
  GET  /control/chat_member_calls -> {"calls": [{"chat_id", "user_id", "time"}]}
  POST /control/webhook   {"url": "https://..."} sets a webhook ("" clears)
  POST /control/webhook_route {"public": "https://bot.example", "to": ["http://127.0.0.1:P", ...]}
                          plays the TLS reverse proxy in front of the bot: a webhook URL
                          starting with "public" is delivered to the same path under each
                          "to" in turn (round robin); without a route nothing is delivered
  GET  /control/deliveries -> {"deliveries": [{"update_id", "status", "target", "time"}]}:
                          every webhook POST the fake made ("status" 0: no answer)

Webhook (as Telegram): setWebhook(url, secret_token, max_connections, allowed_updates,
  drop_pending_updates) wants an https:// URL on port 443, 80, 88 or 8443 and a
  secret_token of 1-256 A-Z a-z 0-9 _ -, else 400 "Bad Request: bad webhook: ...";
  "" removes it. While set, queued updates are POSTed (JSON, one Update per request,
  X-Telegram-Bot-Api-Secret-Token when a secret is set) with up to max_connections
  (default 40) in flight; an update leaves the queue only on a 2XX answer, any other
  answer (or none) is retried after --webhook-retry-s and kept in getWebhookInfo's
  last_error_date / last_error_message.
  POST /control/migrate   {"from": old_chat_id, "to": new_chat_id}: sendMessage
                          to old answers 400 with parameters.migrate_to_chat_id
  POST /control/delete_topic {"chat_id", "message_thread_id"}: sendMessage into that
                          topic answers 400 "Bad Request: message thread not found"
  GET  /control/sent[?chat_id=N]  -> {"messages": [{"chat_id","text","message_id","time",
                              "message_thread_id" (null when the call had none),
                              "first_text" (sendMessage: the text as sent; "text" is
                              the current one, after any edit)}]}
  GET  /control/refused   -> {"messages": [{"chat_id","text","message_thread_id",
                              "description"}]}: sendMessage calls refused by the rules above
  GET  /control/counters  -> {"polls", "overlaps", "conflicts_sent", "calls": {method: n},
                              "pending_updates", "confirmed_offset", "active_polls",
                              "last_update_id", "sent", "delivered" (update ids handed
                              out by getUpdates), "redelivered" (hand-outs of an update
                              already handed out before), "stream_left"}
  GET  /control/queued    -> {"updates": [{"update_id", "chat_id", "time"}]}: when each
                              message update was queued (time.time(), as "sent" uses)
  GET  /control/polls     -> {"polls": [{"peer_port","start","end","offset","limit",
                              "timeout","result"}]}  (result: "ok <n>", "409", "fault <k>",
                              "client closed", "webhook")
  GET  /control/commands  -> {"commands": [...]} from the last setMyCommands
  GET  /control/webhook   -> {"url", "secret_token", "max_connections", "allowed_updates"}
  POST /control/reset     forget everything (updates, sent, faults, counters)
"""
import argparse
import bisect
import base64
import email.parser
import email.policy
import html
import json
import re
import select
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONFLICT_POLLER = ("Conflict: terminated by other getUpdates request; "
                   "make sure that only one bot instance is running")
CONFLICT_WEBHOOK = ("Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first")


NGINX_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
             b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>"
             b"\r\n</body>\r\n</html>\r\n")

# Telegram marks "/command" and "/command@bot" wherever they start a word;
# the command part is Latin letters, digits and "_" only.
BOT_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")

HTML_TAG = re.compile(r"</?(b|strong|i|em|u|ins|s|strike|del|span|tg-spoiler|a|code|pre|"
                      r"blockquote|tg-emoji)(\s[^<>]*)?>")
HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
MARKDOWN_V2_RESERVED = "_*[]()~`>#+-=|{}.!"


def utf16_length(text):
    return len(text.encode("utf-16-le")) // 2


HTML_START = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")
HTML_END = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
HTML_NAMES = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
              "a", "code", "pre", "blockquote", "tg-emoji"}


def parse_html(text):
    """Telegram's parse_mode HTML: known tags that nest and close, entities;
    -> (shown text, None) or (None, Telegram's error description)."""
    if "<" not in text and "&" not in text:
        return text, None  # nothing to parse: shown as sent
    shown, stack, position = [], [], 0
    prefix = "Bad Request: can't parse entities: "
    while position < len(text):
        char = text[position]
        if char == "<":
            offset = len(text[:position].encode())  # for an error's "byte offset"
            end = HTML_END.match(text, position)
            if end is not None:
                name = end.group(1).lower()
                if not stack:
                    return None, prefix + f"Unexpected end tag at byte offset {offset}"
                if stack[-1] != name:
                    return None, (prefix + f"Unmatched end tag at byte offset {offset}, "
                                  f"expected \"</{stack[-1]}>\", found \"</{name}>\"")
                stack.pop()
                position = end.end()
                continue
            start = HTML_START.match(text, position)
            if start is None or start.group(1).lower() not in HTML_NAMES:
                name = start.group(1) if start is not None else ""
                return None, prefix + f"Unsupported start tag \"{name}\" at byte offset {offset}"
            stack.append(start.group(1).lower())
            position = start.end()
            continue
        if char == "&":
            entity = HTML_ENTITY.match(text, position)
            if entity is None:
                shown.append("&")  # Telegram shows a lone "&" that names no entity
                position += 1
                continue
            shown.append(html.unescape(entity.group(0)))
            position = entity.end()
            continue
        if char == ">":
            shown.append(">")
            position += 1
            continue
        shown.append(char)
        position += 1
    if stack:
        return None, prefix + f"Can't find end tag corresponding to start tag \"{stack[-1]}\""
    return "".join(shown), None


def as_json(value):
    """A form field holds JSON text; a JSON body the value itself."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def check_markup(markup):
    """-> None, or the 400 Telegram gives for the keyboard."""
    if markup is None:
        return None
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        return "Bad Request: can't parse reply keyboard markup JSON object"
    for row in rows:
        for button in row:
            data = button.get("callback_data")
            if not button.get("text"):
                return "Bad Request: BUTTON_TEXT_EMPTY"
            if data is not None and not (1 <= len(data.encode()) <= 64):
                return "Bad Request: BUTTON_DATA_INVALID"
            if data is None and not button.get("url"):
                return "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
    return None


def parsed_text(text, parse_mode):
    """-> (the text Telegram would show, None) or (None, error description)."""
    if parse_mode in (None, ""):
        return text, None
    if parse_mode == "HTML":
        return parse_html(text)
    if parse_mode == "MarkdownV2":
        shown, position = [], 0
        while position < len(text):
            char = text[position]
            if char == "\\" and position + 1 < len(text):
                shown.append(text[position + 1])
                position += 2
                continue
            if char in "_*~|`[]()":  # formatting marks are not shown
                position += 1
                continue
            if char in MARKDOWN_V2_RESERVED:
                return None, (f"Bad Request: can't parse entities: Character '{char}' is reserved "
                              "and must be escaped with the preceding '\\'")
            shown.append(char)
            position += 1
        return "".join(shown), None
    if parse_mode == "Markdown":
        return re.sub(r"[*_`\[\]]", "", text), None
    return None, "Bad Request: unsupported parse_mode"


class State:
    def __init__(self, token, username, bot_id):
        self.token = token
        self.username = username
        self.bot_id = bot_id
        self.lock = threading.Condition()
        self.reset()

    def reset(self):
        self.updates = []          # [(update_id, bytes)] sorted by id
        self.next_update_id = 100001
        self.confirmed_offset = 0
        self.next_message_id = 1
        self.sent = []
        self.faults = {}           # method -> [fault dicts]
        self.calls = {}
        self.polls = []
        self.active_polls = {}     # poll number -> record
        self.poll_number = 0
        self.overlaps = 0
        self.conflicts_sent = 0
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_max_connections = 40
        self.webhook_allowed_updates = None
        self.webhook_last_error = None   # (unix time, message)
        self.webhook_in_flight = set()
        self.webhook_next_attempt = {}   # update_id -> monotonic time of the next try
        self.deliveries = []
        self.webhook_routes = getattr(self, "webhook_routes", {})  # public prefix -> targets
        self.route_turn = 0
        self.commands = []
        self.migrations = {}
        self.deleted_topics = set()  # (chat_id, message_thread_id)
        self.chat_members = {}     # (chat_id, user_id) -> status
        self.chat_member_calls = []
        self.refused = []
        self.handed_out = {}       # update_id -> times getUpdates returned it
        self.redelivered = 0
        self.queued = []           # [{"update_id", "chat_id", "time"}]
        self.stream_left = 0
        self.stream_generation = getattr(self, "stream_generation", 0) + 1
        self.edits = []
        self.answers = []
        self.actions = []
        self.queries = {}          # callback_query id -> {"answered": bool}
        self.next_query_id = 900001

    def add_update(self, update_id, payload):
        if self.updates and self.updates[-1][0] > update_id:
            bisect.insort(self.updates, (update_id, payload))
        else:
            self.updates.append((update_id, payload))
        self.next_update_id = max(self.next_update_id, update_id + 1)
        self.lock.notify_all()


def build_message_update(state, spec):
    update_id = state.next_update_id
    chat_id = int(spec["chat_id"])
    user_id = int(spec.get("user_id", chat_id if chat_id > 0 else 4242))
    sender = {"id": user_id, "is_bot": False, "first_name": spec.get("first_name", "Tester")}
    if spec.get("username"):
        sender["username"] = spec["username"]
    message = {
        "message_id": state.next_message_id,
        "from": sender,
        "chat": {"id": chat_id, "type": spec.get("chat_type", "private")},
        "date": int(time.time()),
    }
    if "caption" in spec:  # a photo with a caption instead of a text
        message["photo"] = [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90,
                             "height": 90, "file_size": 1000}]
        message["caption"] = spec["caption"]
    else:
        message["text"] = spec["text"]
    if spec.get("language_code"):
        sender["language_code"] = spec["language_code"]
    state.next_message_id += 1
    if "message_thread_id" in spec:
        message["message_thread_id"] = int(spec["message_thread_id"])
    if "is_topic_message" in spec:
        message["is_topic_message"] = bool(spec["is_topic_message"])
    if "is_forum" in spec:
        message["chat"]["is_forum"] = bool(spec["is_forum"])
    text = spec.get("text") or spec.get("caption", "")
    entities = [{"offset": utf16_length(text[:match.start()]),
                 "length": utf16_length(match.group(0)), "type": "bot_command"}
                for match in BOT_COMMAND.finditer(text)]
    if entities:
        message["caption_entities" if "caption" in spec else "entities"] = entities
    if spec.get("reply_to_text"):
        message["reply_to_message"] = {
            "message_id": 1, "date": int(time.time()), "text": spec["reply_to_text"],
            "chat": message["chat"], "from": {"id": 5, "is_bot": False, "first_name": "Other"}}
    if spec.get("reply_to_bot"):
        message["reply_to_message"] = {
            "message_id": 1, "date": int(time.time()), "text": "earlier",
            "chat": message["chat"],
            "from": {"id": state.bot_id, "is_bot": True, "first_name": "Jarvis",
                     "username": state.username}}
    if "message_id" in spec:  # an edit names the message it changes
        message["message_id"] = int(spec["message_id"])
    if spec.get("edited"):
        message["edit_date"] = int(time.time())
    kind = "edited_message" if spec.get("edited") else "message"
    state.queued.append({"update_id": update_id, "chat_id": chat_id, "time": time.time()})
    update = {"update_id": update_id, kind: message}
    state.add_update(update_id, json.dumps(update, ensure_ascii=False).encode("utf-8"))
    return update_id


def chat_member(user_id, status):
    """A ChatMember object as getChatMember returns it: the fields of
    ChatMemberOwner, ChatMemberAdministrator, ChatMemberMember,
    ChatMemberRestricted, ChatMemberLeft or ChatMemberBanned."""
    member = {"user": {"id": user_id, "is_bot": False, "first_name": "Member"},
              "status": status}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update({"can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
                       "can_delete_messages": True, "can_manage_video_chats": True,
                       "can_restrict_members": True, "can_promote_members": False,
                       "can_change_info": True, "can_invite_users": True,
                       "can_post_stories": False, "can_edit_stories": False,
                       "can_delete_stories": False, "can_pin_messages": True})
    elif status == "restricted":
        member.update({"is_member": True, "can_send_messages": False, "until_date": 0})
    elif status == "kicked":
        member["until_date"] = 0
    return member


def stream_messages(state, specs, rate, generation):
    """Queues specs at rate per second, on a schedule (a late one does not
    shift the rest); stops when the fake is reset."""
    started = time.monotonic()
    for index, spec in enumerate(specs):
        delay = started + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        with state.lock:
            if state.stream_generation != generation:
                return
            build_message_update(state, spec)
            state.stream_left -= 1


WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_PORTS = (443, 80, 88, 8443)


def webhook_problem(url, secret):
    """-> None, or the 400 description Telegram gives for setWebhook."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "https" or not parsed.hostname:
        return "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
    try:
        port = parsed.port or 443
    except ValueError:
        return "Bad Request: bad webhook: Failed to resolve host: Name or service not known"
    if port not in WEBHOOK_PORTS:
        return "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
    if secret and not WEBHOOK_SECRET.fullmatch(secret):
        return "Bad Request: secret token contains unallowed characters"
    return None


def route_for(state, url):
    """The plain http target the "proxy" sends url to, or None (state locked)."""
    for public, targets in state.webhook_routes.items():
        if url.startswith(public) and targets:
            target = targets[state.route_turn % len(targets)]
            state.route_turn += 1
            return target.rstrip("/") + url[len(public):]
    return None


def deliver_update(state, update_id, payload, url, secret, retry_s):
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    with state.lock:
        target = route_for(state, url)
    status, error = 0, "Connection refused"
    if target is not None:
        request = urllib.request.Request(target, data=payload, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
                response.read()
        except urllib.error.HTTPError as failure:
            status, error = failure.code, f"Wrong response from the webhook: {failure.code} {failure.reason}"
        except (OSError, ValueError) as failure:
            error = f"Connection failed: {failure}"
    with state.lock:
        state.webhook_in_flight.discard(update_id)
        state.deliveries.append({"update_id": update_id, "status": status, "target": target,
                                 "time": time.time()})
        if 200 <= status < 300:
            state.updates = [item for item in state.updates if item[0] != update_id]
            state.webhook_next_attempt.pop(update_id, None)
            times = state.handed_out.get(update_id, 0)
            state.handed_out[update_id] = times + 1
            if times > 0:
                state.redelivered += 1
        else:
            state.webhook_last_error = (int(time.time()), error)
            state.webhook_next_attempt[update_id] = time.monotonic() + retry_s
        state.lock.notify_all()


def next_for_webhook(state):
    """The first queued update free to be POSTed now, or None (state locked)."""
    now = time.monotonic()
    for update_id, payload in state.updates:
        if update_id in state.webhook_in_flight:
            continue
        if state.webhook_next_attempt.get(update_id, 0) > now:
            continue
        return update_id, payload
    return None


def webhook_deliverer(state, retry_s):
    """Telegram's side of a webhook: POSTs queued updates while one is set."""
    while True:
        with state.lock:
            while True:
                ready = None
                if state.webhook_url and len(state.webhook_in_flight) < state.webhook_max_connections:
                    ready = next_for_webhook(state)
                if ready is not None:
                    break
                state.lock.wait(0.05)
            update_id, payload = ready
            state.webhook_in_flight.add(update_id)
            arguments = (state, update_id, payload, state.webhook_url, state.webhook_secret,
                         retry_s)
        threading.Thread(target=deliver_update, args=arguments, daemon=True).start()


def envelope_ok(result):
    return 200, json.dumps({"ok": True, "result": result}).encode()


def envelope_ok_described(result, description):
    return 200, json.dumps({"ok": True, "result": result, "description": description}).encode()


def envelope_error(code, description, parameters=None):
    body = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, json.dumps(body).encode()


# A request line as jarvis and urllib write it; anything else goes through
# http.server's own checks.
PLAIN_REQUEST_LINE = re.compile(rb"([A-Z]+) (/\S*) HTTP/1\.([01])\r?\n")
MAX_HEADER_LINE = 65536  # http.client's limits
MAX_HEADERS = 100


class LeanHeaders(dict):
    """A request's header fields by lower-case name (the first of each field),
    read as http.client's HTTPMessage is (get, [] giving None when absent) but
    without its email parser, which cost more than the rest of a sendMessage
    (test_hundred_thousand_chats_flat_memory sends 100,000)."""

    def get(self, name, default=None):
        return dict.get(self, name.lower(), default)

    def __getitem__(self, name):
        return dict.get(self, name.lower())

    def items(self):
        return list(dict.items(self))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # a fault's pieces go out as written
    server_version = "nginx/1.18.0"

    def log_message(self, format, *args):  # quiet: tests read the control API
        pass

    # ---- plumbing ----
    def parse_request(self):
        """http.server's parse_request for a plain request line and header
        fields (what every client of the fake sends), with the same results
        (command, path, request_version, headers, close_connection) and the
        same 431 answers; any other request line takes http.server's path."""
        match = PLAIN_REQUEST_LINE.fullmatch(self.raw_requestline)
        if match is None:
            return super().parse_request()
        self.requestline = self.raw_requestline.decode("iso-8859-1").rstrip("\r\n")
        self.command = match.group(1).decode("ascii")
        self.path = match.group(2).decode("iso-8859-1")
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")
        self.request_version = "HTTP/1." + match.group(3).decode("ascii")
        self.close_connection = self.request_version == "HTTP/1.0"
        headers = LeanHeaders()
        name = None
        while True:
            line = self.rfile.readline(MAX_HEADER_LINE + 1)
            if len(line) > MAX_HEADER_LINE:
                self.send_error(431, "Line too long", "header line")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            if len(headers) >= MAX_HEADERS:
                self.send_error(431, "Too many headers", f"got more than {MAX_HEADERS} headers")
                return False
            text = line.decode("iso-8859-1").rstrip("\r\n")
            if text[:1] in (" ", "\t") and name is not None:  # a folded continuation
                headers[name] += " " + text.strip()
                continue
            field, colon, value = text.partition(":")
            if not colon:
                self.send_error(400, "Bad request header", text)
                return False
            name = field.strip().lower()
            headers.setdefault(name, value.strip())
        self.headers = headers
        connection = headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if (headers.get("Expect", "").lower() == "100-continue"
                and self.request_version == "HTTP/1.1"):
            return self.handle_expect_100()
        return True

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def respond(self, status, body, content_type="application/json"):
        """The status line, header fields and body in one write: two writes
        cost a second wait for the GIL each answer."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()

    def respond_json(self, value, status=200):
        self.respond(status, json.dumps(value).encode())

    def parameters(self, raw_body):
        parsed = urllib.parse.urlsplit(self.path)
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if raw_body and content_type == "application/json":
            value = json.loads(raw_body.decode("utf-8"))
            if isinstance(value, dict):
                params.update(value)
        elif raw_body and content_type == "multipart/form-data":
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + raw_body)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                if part.get_filename() is not None:
                    params[name] = {"filename": part.get_filename(), "bytes": payload}
                else:
                    params[name] = payload.decode("utf-8")
        elif raw_body and content_type == "application/x-www-form-urlencoded":
            form = urllib.parse.parse_qs(raw_body.decode("utf-8"), keep_blank_values=True)
            params.update({k: v[-1] for k, v in form.items()})
        return params

    def client_gone(self):
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    # ---- dispatch ----
    def do_GET(self):
        self.route(b"")

    def do_POST(self):
        self.route(self.read_body())

    def route(self, raw_body):
        path = urllib.parse.urlsplit(self.path).path
        state = self.server.state
        if path.startswith("/control/"):
            return self.control(path[len("/control/"):], raw_body)
        parts = path.split("/")
        if len(parts) != 3 or not parts[1].startswith("bot"):
            return self.respond(*envelope_error(404, "Not Found"))
        token, method = parts[1][3:], parts[2]
        if token != state.token:
            return self.respond(*envelope_error(401, "Unauthorized"))
        try:
            params = self.parameters(raw_body)
        except (ValueError, UnicodeDecodeError):
            return self.respond(*envelope_error(400, "Bad Request: can't parse JSON"))
        with state.lock:
            state.calls[method] = state.calls.get(method, 0) + 1
            fault = self.take_fault(state, method)
        if fault is not None and self.apply_fault(fault, method):
            return
        handler = getattr(self, "api_" + method, None)
        if handler is None:
            return self.respond(*envelope_error(404, "Not Found"))
        handler(state, params)

    def take_fault(self, state, method):
        queue = state.faults.get(method) or []
        if not queue:
            return None
        fault = queue[0]
        fault["count"] -= 1
        if fault["count"] <= 0:
            queue.pop(0)
        return fault

    def apply_fault(self, fault, method):
        """Returns True when the fault produced the answer."""
        kind = fault["kind"]
        state = self.server.state
        if method == "getUpdates":
            with state.lock:
                state.polls.append({"peer_port": self.client_address[1], "start": time.time(),
                                    "end": time.time(), "offset": None, "limit": None,
                                    "timeout": None, "result": "fault " + kind})
        if kind == "slow":
            time.sleep(float(fault.get("delay", 1)))
            return False
        if kind == "429":
            retry = int(fault.get("retry_after", 1))
            self.respond(*envelope_error(429, f"Too Many Requests: retry after {retry}",
                                         {"retry_after": retry}))
        elif kind == "500":
            self.respond(*envelope_error(500, "Internal Server Error"))
        elif kind == "502":
            self.respond(502, NGINX_502, "text/html")
        elif kind == "malformed":
            self.respond(200, b'{"ok":true,"result":[{"update_id":')
        elif kind == "truncated":
            body = json.dumps({"ok": True, "result": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) + 100))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif kind == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif kind == "huge":
            self.send_huge(int(fault.get("size", 80 * 1024 * 1024)), bool(fault.get("chunked")))
        elif kind == "401":
            self.respond(*envelope_error(401, "Unauthorized"))
        elif kind == "403":
            self.respond(*envelope_error(403, "Forbidden: bot was blocked by the user"))
        elif kind == "409":
            with state.lock:
                state.conflicts_sent += 1
            self.respond(*envelope_error(409, CONFLICT_POLLER))
        elif kind == "409_webhook":
            self.respond(*envelope_error(409, CONFLICT_WEBHOOK))
        elif kind == "400_migrate":
            self.respond(*envelope_error(
                400, "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": int(fault.get("migrate_to_chat_id", -1001234567890))}))
        else:
            self.respond(*envelope_error(400, "Bad Request: injected fault"))
        return True

    def send_huge(self, size, chunked):
        """A valid-looking 200 answer of size bytes (JSON whitespace padding),
        with Content-Length or, when chunked, without: streamed in 1 MiB
        pieces until the client hangs up."""
        head = b'{"ok":true,"result":['
        tail = b']}'
        piece = b" " * (1024 * 1024)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        self.close_connection = True
        left = size - len(head) - len(tail)
        try:
            for block in [head] + [piece] * (left // len(piece)) + [b" " * (left % len(piece)), tail]:
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if block else b"")
                else:
                    self.wfile.write(block)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client refused the rest, as it should

    # ---- Bot API methods ----
    def bot_user(self, state):
        return {"id": state.bot_id, "is_bot": True, "first_name": "Jarvis",
                "username": state.username, "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": False}

    def api_getMe(self, state, params):
        self.respond(*envelope_ok(self.bot_user(state)))

    def api_getWebhookInfo(self, state, params):
        with state.lock:
            info = {"url": state.webhook_url, "has_custom_certificate": False,
                    "pending_update_count": len(state.updates)}
            if state.webhook_url:
                info["max_connections"] = state.webhook_max_connections
                if state.webhook_allowed_updates is not None:
                    info["allowed_updates"] = state.webhook_allowed_updates
                if state.webhook_last_error is not None:
                    info["last_error_date"], info["last_error_message"] = state.webhook_last_error
        self.respond(*envelope_ok(info))

    def api_deleteWebhook(self, state, params):
        with state.lock:
            was_set = bool(state.webhook_url)
            state.webhook_url = ""
            state.webhook_secret = ""
            state.webhook_last_error = None
            if as_json(params.get("drop_pending_updates", False)) in (True, "true", "True", 1):
                state.updates = []
        self.respond(*envelope_ok_described(
            True, "Webhook was deleted" if was_set else "Webhook is already deleted"))

    def api_setWebhook(self, state, params):
        url = params.get("url")
        if not isinstance(url, str):
            return self.respond(*envelope_error(400, "Bad Request: parameter \"url\" is required"))
        if url == "":
            return self.api_deleteWebhook(state, params)
        secret = params.get("secret_token") or ""
        problem = webhook_problem(url, secret)
        if problem is not None:
            return self.respond(*envelope_error(400, problem))
        try:
            connections = int(params.get("max_connections", 40))
        except (TypeError, ValueError):
            return self.respond(*envelope_error(400, "Bad Request: wrong parameter"))
        allowed = as_json(params.get("allowed_updates"))
        with state.lock:
            same = (state.webhook_url, state.webhook_secret) == (url, secret)
            state.webhook_url, state.webhook_secret = url, secret
            state.webhook_max_connections = max(1, min(100, connections))
            if allowed is not None:
                state.webhook_allowed_updates = allowed
            if as_json(params.get("drop_pending_updates", False)) in (True, "true", "True", 1):
                state.updates = []
            state.lock.notify_all()
        self.respond(*envelope_ok_described(
            True, "Webhook is already set" if same else "Webhook was set"))

    def api_setMyCommands(self, state, params):
        commands = params.get("commands")
        if isinstance(commands, str):
            commands = json.loads(commands)
        if not isinstance(commands, list):
            return self.respond(*envelope_error(400, "Bad Request: commands must be an array"))
        if len(commands) > 100:
            return self.respond(*envelope_error(400, "Bad Request: too many commands specified"))
        for command in commands:
            name = command.get("command", "")
            description = command.get("description", "")
            if not (1 <= len(name) <= 32) or not all(c in "abcdefghijklmnopqrstuvwxyz0123456789_" for c in name):
                return self.respond(*envelope_error(400, "Bad Request: BOT_COMMAND_INVALID"))
            if not (1 <= len(description) <= 256):
                return self.respond(*envelope_error(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"))
        with state.lock:
            state.commands = commands
        self.respond(*envelope_ok(True))

    def api_sendMessage(self, state, params):
        if "chat_id" not in params:
            return self.respond(*envelope_error(400, "Bad Request: chat_id is empty"))
        text = params.get("text")
        if not isinstance(text, str):
            return self.respond(*envelope_error(400, "Bad Request: message text is empty"))
        shown, parse_error = parsed_text(text, params.get("parse_mode"))
        if parse_error:
            with state.lock:
                state.refused.append({"chat_id": params.get("chat_id"), "text": text,
                                      "message_thread_id": params.get("message_thread_id"),
                                      "description": parse_error})
            return self.respond(*envelope_error(400, parse_error))
        markup = as_json(params.get("reply_markup"))
        markup_error = check_markup(markup)
        if markup_error:
            return self.respond(*envelope_error(400, markup_error))
        if shown.strip() == "":
            return self.respond(*envelope_error(400, "Bad Request: message text is empty"))
        if utf16_length(shown) > 4096:
            return self.respond(*envelope_error(400, "Bad Request: message is too long"))
        try:
            chat_id = int(params["chat_id"])
        except ValueError:
            return self.respond(*envelope_error(400, "Bad Request: chat not found"))
        thread_id = params.get("message_thread_id")
        if thread_id is not None:
            try:
                thread_id = int(thread_id)
            except (TypeError, ValueError):
                return self.respond(*envelope_error(
                    400, "Bad Request: invalid message thread identifier specified"))
        with state.lock:
            if thread_id is not None and (chat_id, thread_id) in state.deleted_topics:
                description = "Bad Request: message thread not found"
                state.refused.append({"chat_id": chat_id, "text": text,
                                      "message_thread_id": thread_id,
                                      "description": description})
                return self.respond(*envelope_error(400, description))
            if chat_id in state.migrations:
                migrated = state.migrations[chat_id]
                return self.respond(*envelope_error(
                    400, "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": migrated}))
            message_id = state.next_message_id
            state.next_message_id += 1
            state.sent.append({"chat_id": chat_id, "text": text, "first_text": text,
                               "message_id": message_id,
                               "time": time.time(), "message_thread_id": thread_id,
                               "method": "sendMessage", "parse_mode": params.get("parse_mode"),
                               "reply_markup": markup,
                               "reply_parameters": as_json(params.get("reply_parameters")),
                               "link_preview_options":
                                   as_json(params.get("link_preview_options"))})
        result = {"message_id": message_id, "from": self.bot_user(state),
                  "chat": {"id": chat_id, "type": "private"},
                  "date": int(time.time()), "text": text}
        if thread_id is not None:
            result["message_thread_id"] = thread_id
            result["is_topic_message"] = True
        self.respond(*envelope_ok(result))

    def send_file(self, state, params, field):
        if "chat_id" not in params:
            return self.respond(*envelope_error(400, "Bad Request: chat_id is empty"))
        upload = params.get(field)
        if not isinstance(upload, dict):
            return self.respond(*envelope_error(
                400, f"Bad Request: there is no {field} in the request"))
        caption = params.get("caption", "")
        shown, parse_error = parsed_text(caption, params.get("parse_mode"))
        if parse_error:
            return self.respond(*envelope_error(400, parse_error))
        if utf16_length(shown) > 1024:
            return self.respond(*envelope_error(400, "Bad Request: message caption is too long"))
        if field == "photo" and len(upload["bytes"]) > 10 * 1024 * 1024:
            return self.respond(*envelope_error(400, "Bad Request: PHOTO_INVALID_DIMENSIONS"))
        markup = as_json(params.get("reply_markup"))
        with state.lock:
            message_id = state.next_message_id
            state.next_message_id += 1
            state.sent.append({"chat_id": int(params["chat_id"]), "text": caption,
                               "message_id": message_id, "time": time.time(),
                               "message_thread_id": params.get("message_thread_id"),
                               "method": "send" + field.capitalize(),
                               "parse_mode": params.get("parse_mode"), "reply_markup": markup,
                               "reply_parameters": as_json(params.get("reply_parameters")),
                               "file_name": upload["filename"],
                               "file": base64.b64encode(upload["bytes"]).decode()})
        self.respond(*envelope_ok({"message_id": message_id, "date": int(time.time()),
                                   "chat": {"id": int(params["chat_id"]), "type": "private"}}))

    def api_sendPhoto(self, state, params):
        self.send_file(state, params, "photo")

    def api_sendDocument(self, state, params):
        self.send_file(state, params, "document")

    def find_sent(self, state, params):
        try:
            chat_id, message_id = int(params.get("chat_id")), int(params.get("message_id"))
        except (TypeError, ValueError):
            return None
        for message in state.sent:
            if message["chat_id"] == chat_id and message["message_id"] == message_id:
                return message
        return None

    def edit(self, state, params, with_text):
        markup = as_json(params.get("reply_markup"))
        markup_error = check_markup(markup)
        if markup_error:
            return self.respond(*envelope_error(400, markup_error))
        with state.lock:
            message = self.find_sent(state, params)
            if message is None:
                return self.respond(*envelope_error(400, "Bad Request: message to edit not found"))
            text = params.get("text", message["text"]) if with_text else message["text"]
            if with_text:
                shown, parse_error = parsed_text(text, params.get("parse_mode"))
                if parse_error:
                    return self.respond(*envelope_error(400, parse_error))
            empty = {"inline_keyboard": []}
            if text == message["text"] and (markup or empty) == (message.get("reply_markup") or empty):
                return self.respond(*envelope_error(
                    400, "Bad Request: message is not modified: specified new message content "
                         "and reply markup are exactly the same as a current content and reply "
                         "markup of the message"))
            message["text"], message["reply_markup"] = text, markup
            state.edits.append({"chat_id": message["chat_id"], "message_id": message["message_id"],
                                "text": text, "reply_markup": markup, "time": time.time(),
                                "method": "editMessageText" if with_text else "editMessageReplyMarkup"})
        self.respond(*envelope_ok({"message_id": message["message_id"], "text": text,
                                   "chat": {"id": message["chat_id"], "type": "private"},
                                   "date": int(time.time())}))

    def api_editMessageText(self, state, params):
        if not params.get("text"):
            return self.respond(*envelope_error(400, "Bad Request: message text is empty"))
        self.edit(state, params, True)

    def api_editMessageReplyMarkup(self, state, params):
        self.edit(state, params, False)

    def api_answerCallbackQuery(self, state, params):
        with state.lock:
            query = state.queries.get(str(params.get("callback_query_id")))
            if query is None or query.get("answered"):
                return self.respond(*envelope_error(
                    400, "Bad Request: query is too old and response timeout expired or query "
                         "ID is invalid"))
            query["answered"] = True
            state.answers.append({"callback_query_id": params.get("callback_query_id"),
                                  "text": params.get("text", ""),
                                  "show_alert": params.get("show_alert", False),
                                  "time": time.time()})
        self.respond(*envelope_ok(True))

    def api_getChatMember(self, state, params):
        try:
            chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        except (KeyError, TypeError, ValueError):
            return self.respond(*envelope_error(400, "Bad Request: invalid user_id specified"))
        with state.lock:
            state.chat_member_calls.append({"chat_id": chat_id, "user_id": user_id,
                                            "time": time.time()})
            default = "creator" if chat_id == user_id else "member"
            status = state.chat_members.get((chat_id, user_id), default if chat_id < 0
                                            or chat_id == user_id else None)
        if status is None:
            return self.respond(*envelope_error(400, "Bad Request: chat not found"))
        self.respond(*envelope_ok(chat_member(user_id, status)))

    def api_sendChatAction(self, state, params):
        with state.lock:
            state.actions.append({"chat_id": int(params.get("chat_id", 0)),
                                  "action": params.get("action"), "time": time.time()})
        self.respond(*envelope_ok(True))

    def api_getUpdates(self, state, params):
        try:
            offset = int(params.get("offset", 0))
            limit = max(1, min(100, int(params.get("limit", 100))))
            timeout = max(0.0, float(params.get("timeout", 0)))
        except (TypeError, ValueError):
            return self.respond(*envelope_error(400, "Bad Request: wrong parameter"))
        record = {"peer_port": self.client_address[1], "start": time.time(), "end": None,
                  "offset": offset, "limit": limit, "timeout": timeout, "result": None,
                  "handler": self}
        with state.lock:
            if state.webhook_url:
                record["end"], record["result"] = time.time(), "webhook"
                state.polls.append(record)
                return self.respond(*envelope_error(409, CONFLICT_WEBHOOK))
            state.poll_number += 1
            number = state.poll_number
            for older in state.active_polls.values():
                if older.get("terminated") or older["handler"].client_gone():
                    continue  # a poll whose client already hung up is no overlap
                older["terminated"] = True
                state.overlaps += 1
            state.active_polls[number] = record
            state.polls.append(record)
            state.lock.notify_all()
            if offset > state.next_update_id + 10:
                offset = 0  # in the future (ids renumbered): served from the head
            if offset > 0 and offset > state.confirmed_offset:
                state.confirmed_offset = offset
                del state.updates[:bisect.bisect_left(state.updates, (offset,))]
            elif offset < 0:  # the last -offset updates; all earlier ones are forgotten
                state.updates = state.updates[offset:]
                offset = state.updates[0][0] if state.updates else state.next_update_id
            deadline = time.monotonic() + timeout
            result = None
            while True:
                if record.get("terminated"):
                    result = "409"
                    break
                first = bisect.bisect_left(state.updates, (offset,))
                ready = state.updates[first:first + limit]
                if ready:
                    result = ready
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    result = []
                    break
                state.lock.wait(min(left, 0.05))
                if self.client_gone():
                    result = None
                    break
            del state.active_polls[number]
            record["end"] = time.time()
            if result is None:
                record["result"] = "client closed"
                self.close_connection = True
                return
            if result == "409":
                record["result"] = "409"
                state.conflicts_sent += 1
            else:
                record["result"] = f"ok {len(result)}"
                for update_id, _ in result:
                    times = state.handed_out.get(update_id, 0)
                    state.handed_out[update_id] = times + 1
                    if times > 0:
                        state.redelivered += 1
        if result == "409":
            return self.respond(*envelope_error(409, CONFLICT_POLLER))
        body = b'{"ok":true,"result":[' + b",".join(payload for _, payload in result) + b"]}"
        self.respond(200, body)

    # ---- control ----
    def control(self, name, raw_body):
        state = self.server.state
        query = {k: v[-1] for k, v in
                 urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).items()}
        if name == "update_raw":
            with state.lock:
                update_id = int(query["update_id"])
                state.add_update(update_id, raw_body)
            return self.respond_json({"update_id": update_id})
        try:
            body = json.loads(raw_body.decode("utf-8")) if raw_body else {}
        except ValueError:
            return self.respond_json({"error": "control body is not JSON"}, 400)
        with state.lock:
            answer = self.control_locked(state, name, body, query)
        if answer is None:
            return self.respond_json({"error": "unknown control " + name}, 404)
        self.respond_json(answer)

    def control_locked(self, state, name, body, query):
        if name == "message":
            return {"update_id": build_message_update(state, body)}
        if name == "messages":
            return {"update_ids": [build_message_update(state, m) for m in body["messages"]]}
        if name == "update":
            update = dict(body["update"])
            update.setdefault("update_id", state.next_update_id)
            state.add_update(update["update_id"],
                             json.dumps(update, ensure_ascii=False).encode("utf-8"))
            return {"update_id": update["update_id"]}
        if name == "renumber":
            state.next_update_id = int(body["next_update_id"])
            return {"next_update_id": state.next_update_id}
        if name == "stream":
            specs = list(body["messages"])
            state.stream_left += len(specs)
            threading.Thread(target=stream_messages,
                             args=(state, specs, float(body.get("rate", 10)),
                                   state.stream_generation), daemon=True).start()
            return {"queued": len(specs)}
        if name == "clear_faults":
            state.faults = {}
            return {"ok": True}
        if name == "queued":
            return {"updates": list(state.queued)}
        if name == "callback":
            # a press on a button of a message the bot sent (or of any message_id)
            chat_id, message_id = int(body["chat_id"]), int(body["message_id"])
            sent = next((m for m in state.sent if m["chat_id"] == chat_id
                         and m["message_id"] == message_id), None)
            user_id = int(body.get("user_id", chat_id if chat_id > 0 else 4242))
            message = {"message_id": message_id, "date": int(time.time()),
                       "chat": {"id": chat_id, "type": body.get("chat_type", "private")},
                       "from": {"id": state.bot_id, "is_bot": True, "first_name": "Jarvis",
                                "username": state.username},
                       "text": sent["text"] if sent else body.get("text", "")}
            if sent and sent.get("reply_markup"):
                message["reply_markup"] = sent["reply_markup"]
            query_id = str(state.next_query_id)
            state.next_query_id += 1
            state.queries[query_id] = {"answered": False}
            update_id = state.next_update_id
            update = {"update_id": update_id, "callback_query": {
                "id": query_id, "chat_instance": "42", "data": body["data"], "message": message,
                "from": {"id": user_id, "is_bot": False, "first_name": "Presser",
                         "language_code": "en"}}}
            state.add_update(update_id, json.dumps(update, ensure_ascii=False).encode("utf-8"))
            return {"update_id": update_id, "callback_query_id": query_id}
        if name == "edits":
            return {"edits": list(state.edits)}
        if name == "answers":
            return {"answers": list(state.answers)}
        if name == "actions":
            return {"actions": list(state.actions)}
        if name == "gap":
            state.next_update_id += int(body.get("skip", 1))
            return {"next_update_id": state.next_update_id}
        if name == "fault":
            fault = dict(body)
            fault["count"] = int(fault.get("count", 1))
            state.faults.setdefault(fault["method"], []).append(fault)
            return {"ok": True}
        if name == "chat_member":
            key = (int(body["chat_id"]), int(body["user_id"]))
            state.chat_members[key] = body["status"]
            return {"ok": True}
        if name == "chat_member_calls":
            return {"calls": list(state.chat_member_calls)}
        if name == "webhook":
            if self.command == "POST":
                state.webhook_url = body.get("url", "")
                state.lock.notify_all()
            return {"url": state.webhook_url, "secret_token": state.webhook_secret,
                    "max_connections": state.webhook_max_connections,
                    "allowed_updates": state.webhook_allowed_updates}
        if name == "webhook_route":
            targets = body.get("to", [])
            state.webhook_routes[body["public"]] = [targets] if isinstance(targets, str) else list(targets)
            return {"routes": state.webhook_routes}
        if name == "deliveries":
            return {"deliveries": list(state.deliveries)}
        if name == "migrate":
            state.migrations[int(body["from"])] = int(body["to"])
            return {"ok": True}
        if name == "delete_topic":
            state.deleted_topics.add((int(body["chat_id"]), int(body["message_thread_id"])))
            return {"ok": True}
        if name == "refused":
            return {"messages": list(state.refused)}
        if name == "sent":
            messages = state.sent
            if "chat_id" in query:
                messages = [m for m in messages if m["chat_id"] == int(query["chat_id"])]
            return {"messages": messages}
        if name == "counters":
            return {"polls": len(state.polls), "overlaps": state.overlaps,
                    "conflicts_sent": state.conflicts_sent, "calls": dict(state.calls),
                    "pending_updates": len(state.updates),
                    "confirmed_offset": state.confirmed_offset,
                    "active_polls": len(state.active_polls),
                    "last_update_id": state.next_update_id - 1, "sent": len(state.sent),
                    "delivered": len(state.handed_out), "redelivered": state.redelivered,
                    "stream_left": state.stream_left}
        if name == "polls":
            return {"polls": [{k: v for k, v in p.items() if k not in ("terminated", "handler")}
                              for p in state.polls]}
        if name == "commands":
            return {"commands": state.commands}
        if name == "reset":
            state.reset()
            state.lock.notify_all()
            return {"ok": True}
        return None


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    parser = argparse.ArgumentParser(description="fake Telegram Bot API")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="123456789:AAcanaryCANARYcanaryCANARYcanary12345")
    parser.add_argument("--username", default="JarvisTestBot")
    parser.add_argument("--bot-id", type=int, default=777000111)
    parser.add_argument("--webhook-retry-s", type=float, default=0.3,
                        help="wait before POSTing an update again after a non-2XX answer")
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    server.state = State(args.token, args.username, args.bot_id)
    threading.Thread(target=webhook_deliverer, args=(server.state, args.webhook_retry_s),
                     daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
