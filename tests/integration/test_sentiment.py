"""The sentiment plugin through the real host in console mode: /sentiment on
text and on a token, chat mentions recorded in the state store and counted,
subscriptions surviving a restart, the report job firing on a short
interval, and the sentiment.weight service used when grok_weighting is
loaded (and said to be unavailable when it is not). Console replies go to
chat 1 and print bare; send_message to other chats prints "[chat N] text"."""
import pathlib
import queue
import re
import threading

import pytest

from conftest import (REPO, JarvisProcess, built_plugin_dir, run_console, start_fake,
                      write_config)
from grok_warmup import warm_grok

LEXICON = REPO / "plugins" / "sentiment" / "lexicon.txt"
GROK_SO = pathlib.Path(built_plugin_dir()) / "grok_weighting.so"
FAKE_XAI = REPO / "tests" / "fakes" / "fake_xai.py"


def config(workdir, plugins="hello, sentiment", **sentiment):
    # The sanitizer build's .so lives in build/san/plugins/, away from the
    # shipped lexicon: name it explicitly.
    section = {"lexicon": str(LEXICON)}
    section.update(sentiment)
    return write_config(workdir, {"plugins": {"enable": plugins}, "sentiment": section})


def run(config_path, lines, env=None):
    result = run_console(config_path, "".join(line + "\n" for line in lines), env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


def compound(stdout):
    match = re.search(r"Sentiment: ([+-]\d\.\d{3}) \((positive|negative|neutral)\)", stdout)
    assert match, stdout
    return float(match.group(1)), match.group(2)


def test_sentiment_scores_text_and_names_the_words(workdir):
    stdout, stderr = run(config(workdir), ["/sentiment SOL is going to the moon 🚀"])
    score, label = compound(stdout)
    assert label == "positive" and score > 0.5
    assert '"to the moon" +3.00' in stdout and '"🚀" +2.60' in stdout
    assert "sentiment.so loaded" in stderr

    stdout, _ = run(config(workdir), ["/sentiment this is a rug pull, not bullish at all"])
    score, label = compound(stdout)
    assert label == "negative" and score < -0.5
    assert '"rug pull" -3.30' in stdout and '"bullish" -1.78' in stdout

    stdout, _ = run(config(workdir), ["/sentiment the meeting is at noon"])
    assert compound(stdout) == (0.0, "neutral")
    assert "No words from the lexicon were found." in stdout

    stdout, _ = run(config(workdir), ["/sentiment"])
    assert stdout.startswith("Usage: /sentiment <text>")


def test_mentions_are_recorded_and_counted(workdir):
    stdout, _ = run(config(workdir), [
        "$SOL looks great today!",
        "solana is a scam",
        "SOL to the moon 🚀",
        "el sol brilla hoy",          # Spanish "sun": not a mention
        "/sentiment SOL",
        "/sentiment btc",
    ])
    assert "SOL: chat sentiment" in stdout
    assert "from 3 messages in the last 24h." in stdout
    assert "Trend: no messages in the 24h before to compare with." in stdout
    assert "Chat score alone: weighting is unavailable." in stdout
    assert "BTC: no chat messages mentioned it in the last 24h." in stdout
    assert "No combined score: weighting is unavailable." in stdout
    # the three scores were 'great!', 'scam', 'to the moon 🚀': the mean is positive
    mean = float(re.search(r"SOL: chat sentiment ([+-]\d\.\d{2})", stdout).group(1))
    assert 0.0 < mean < 1.0


def test_custom_token_table(workdir):
    path = config(workdir, tokens="SOL:solana, JUP:jupiter", report_tokens="JUP")
    stdout, _ = run(path, ["Jupiter is bullish", "BTC is bullish", "/sentiment JUP",
                           "/sentiment BTC"])
    assert "JUP: chat sentiment" in stdout and "from 1 message in" in stdout
    # BTC is not in this table: the reply says so instead of scoring "BTC" as text
    assert "BTC is not a token I track. Tracked: SOL, JUP." in stdout
    assert "Sentiment:" not in stdout


def test_subscriptions_and_samples_survive_a_restart(workdir):
    path = config(workdir)
    stdout, _ = run(path, ["/subscribe", "/subscribe", "$SOL pumping, bullish!"])
    lines = stdout.splitlines()
    assert lines[0] == "Subscribed: this chat gets a sentiment report every 1h."
    assert lines[1] == "Tokens: SOL, BTC, ETH"
    assert "Already subscribed: this chat gets a sentiment report every 1h." in lines

    stdout, _ = run(path, ["/subscribe", "/sentiment SOL", "/unsubscribe"])
    assert "Already subscribed" in stdout
    assert "from 1 message in the last 24h." in stdout
    assert "Unsubscribed: no more sentiment reports in this chat." in stdout

    stdout, _ = run(path, ["/unsubscribe"])
    assert stdout.strip() == "This chat was not subscribed; nothing to do."


class LineReader:
    """Reads a process's stdout on a thread so the test can wait for lines."""

    def __init__(self, stream):
        self.lines = queue.Queue()
        self.seen = []
        self.thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self.thread.start()

    def _pump(self, stream):
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, predicate, timeout=20.0):
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                return None
            self.seen.append(line)
            if predicate(line):
                return line


def start_bot(processes, path):
    bot = JarvisProcess(["-c", str(path)])
    processes.append(bot)
    return bot, LineReader(bot.process.stdout)


def stop_bot(bot):
    bot.signal()
    returncode, _, stderr = bot.wait(timeout=30)
    assert returncode == 0, stderr


def test_report_job_sends_the_report_on_a_short_interval(workdir, processes):
    bot, reader = start_bot(processes, config(workdir, report_interval_ms=200))
    bot.send_line("/subscribe")
    assert reader.wait_for(lambda line: line.startswith("Subscribed: "))
    bot.send_line("$SOL looks bullish, great team")
    assert reader.wait_for(lambda line: line == "Sentiment report (last 24h):"), reader.seen
    assert reader.wait_for(lambda line: line.startswith("SOL: chat sentiment +")), reader.seen
    bot.send_line("/unsubscribe")
    assert reader.wait_for(lambda line: line.startswith("Unsubscribed"))
    stop_bot(bot)


def test_report_with_nothing_to_say_says_so(workdir, processes):
    bot, reader = start_bot(processes, config(workdir, report_interval_ms=200))
    bot.send_line("/subscribe")
    line = reader.wait_for(lambda text: text.startswith("Sentiment report"))
    assert line == ("Sentiment report: nothing to report; no chat messages mentioned "
                    "SOL, BTC, ETH in the last 24h.")
    stop_bot(bot)


def test_bad_lexicon_line_refuses_the_plugin_naming_the_line(workdir):
    bad = workdir / "lexicon.txt"
    bad.write_text("good 1.9\nmoon lots\n")
    stdout, stderr = run(config(workdir, lexicon=str(bad)), ["/sentiment good", "/ping"])
    assert f"{bad}:2: valence is not a number: lots" in stderr
    assert "Unknown command /sentiment" in stdout
    assert "pong" in stdout.lower()  # the host and other plugins carry on


def test_bad_settings_refuse_the_plugin(workdir):
    _, stderr = run(config(workdir, window_s=0), ["/ping"])
    assert "[sentiment] window_s must be 1.." in stderr
    _, stderr = run(config(workdir, report_tokens="SOL, NOPE"), ["/ping"])
    assert "report_tokens: 'NOPE' is not in [sentiment] tokens" in stderr
    _, stderr = run(config(workdir, tokens="SOL, S-L"), ["/ping"])
    assert "bad entry 'S-L'" in stderr


def test_default_lexicon_is_found_next_to_the_plugin(workdir):
    path = write_config(workdir, {"plugins": {"enable": "sentiment"}, "sentiment": None})
    stdout, stderr = run(path, ["/sentiment great"])
    expected = pathlib.Path(built_plugin_dir()).resolve() / "sentiment" / "lexicon.txt"
    if expected.exists():  # the normal build: plugins/sentiment/lexicon.txt
        assert f"lexicon {expected}:" in stderr
        assert compound(stdout)[1] == "positive"
    else:  # the sanitizer build has no lexicon beside its .so: the built-in copy serves
        assert "lexicon built-in lexicon:" in stderr
        assert compound(stdout)[1] == "positive"


needs_grok = pytest.mark.skipif(not GROK_SO.exists(), reason="grok_weighting.so not built")


@needs_grok
def test_with_grok_weighting_but_no_key_grok_is_unavailable(workdir):
    path = config(workdir, plugins="hello, sentiment, grok_weighting")
    stdout, _ = run(path, ["$SOL to the moon", "/sentiment SOL", "/sentiment ETH"])
    assert "weighting is unavailable" not in stdout
    # one message is too little evidence for a label, whatever its score
    assert re.search(r"Chat and Grok together: [+-]\d\.\d\d \(undecided, too little evidence: "
                     r"1 chat message \(5 needed\)\)", stdout)
    assert "Coverage: chat only, 1 of 2 sources" in stdout
    assert re.search(r"chat: [+-]\d\.\d{2} x weight 1\.00 = [+-]\d\.\d{2} \(1 message\)", stdout)
    assert "Grok: unavailable (" in stdout
    assert "ETH: no chat messages mentioned it" in stdout
    assert "Chat and Grok together: nothing to combine" in stdout


@needs_grok
@pytest.mark.skipif(not FAKE_XAI.exists(), reason="fake_xai.py missing")
def test_with_grok_weighting_and_a_rating_shows_both_contributions(workdir):
    fake, base = start_fake("fake_xai.py", "--key", "test-key-123")
    try:
        path = write_config(workdir, {
            "plugins": {"enable": "hello, sentiment, grok_weighting"},
            "sentiment": {"lexicon": str(LEXICON)},
            "grok_weighting": {"api_key": "env:XAI_API_KEY", "base_url": base + "/v1"},
        })
        import json
        import urllib.request
        request = urllib.request.Request(
            base + "/control/mode", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"symbol": "SOL", "mode": "good", "score": 0.42,
                             "confidence": 0.8, "summary": "Upbeat posts."}).encode())
        urllib.request.urlopen(request, timeout=10).read()
        warm_grok(path, base, {"XAI_API_KEY": "test-key-123"})
        stdout, _ = run(path, ["$SOL is bullish", "/sentiment SOL"],
                        env={"XAI_API_KEY": "test-key-123"})
    finally:
        fake.kill()
        fake.wait(timeout=10)
    # Grok's rating is evidence enough for a label; the chat message alone would not be
    assert re.search(r"Chat and Grok together: \+\d\.\d\d \(bullish\), confidence \d+%", stdout)
    assert "Coverage: chat, Grok, 2 of 2 sources" in stdout
    assert re.search(r"chat: \+\d\.\d{2} x weight 0\.\d\d = \+\d\.\d{2} \(1 message\)", stdout)
    assert re.search(r"Grok: \+0\.42 x weight 0\.\d\d = \+\d\.\d{2} \(confidence 80%\)", stdout)
    assert "Grok says: Upbeat posts." in stdout


def test_questions_are_not_recorded_as_chat_sentiment(workdir):
    # the console is a private chat: every message is addressed to the bot
    stdout, _ = run(config(workdir), [
        "Is SOL bullish right now?",
        "is $SOL a scam",                 # no '?', but an interrogative opening
        "SOL dumped again. Is it over? 🤔",
        "/sentiment SOL",
        "SOL looks great today!",         # an opinion
        "/sentiment SOL",
    ])
    first, second = stdout.split("SOL: ")[1:3]
    assert first.startswith("no chat messages mentioned it in the last 24h.")
    assert second.startswith("chat sentiment +") and "from 1 message in the last 24h." in second


@pytest.mark.skipif(not (pathlib.Path(built_plugin_dir()) / "dexter_finance.so").exists(),
                    reason="dexter_finance.so not built")
def test_what_dexter_answers_is_not_recorded(workdir):
    # "SOL vs ETH over 30 days" is no question by form, but dexter answers it
    # (and consumes it): the watcher runs after dexter and never sees it
    path = write_config(workdir, {"plugins": {"enable": "sentiment, dexter_finance"},
                                  "sentiment": {"lexicon": str(LEXICON)},
                                  "dexter_finance": {"provider": "file", "data_file": str(
                                      REPO / "plugins" / "dexter_finance" / "sample_market.json")}})
    stdout, _ = run(path, ["SOL vs ETH over 30 days", "price of SOL", "/sentiment SOL",
                           "SOL to the moon 🚀", "/sentiment SOL"])
    assert "Comparison over 30 days:\n- SOL: " in stdout and "SOL (Solana): $" in stdout
    assert "SOL: no chat messages mentioned it in the last 24h." in stdout
    # an opinion is not answered by dexter, and is recorded
    assert stdout.count("outlook:") == 0
    assert "SOL: chat sentiment +" in stdout and "from 1 message in the last 24h." in stdout
