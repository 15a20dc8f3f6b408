"""Grok ratings come from a background refresh (issue 16), so a test that
needs a rating in its first answer rates the token first: a console jarvis
with the same plugins.ini asks /grok for each symbol, waits until each
"rating in progress" answer is edited into its outcome (the plugin stores a
rating before it tells the chat), and exits; the ratings are then in the
state dir's store."""
import json
import urllib.request

from conftest import wait_for
from test_lock import LiveJarvis


def answered(xai_base):
    with urllib.request.urlopen(xai_base.rstrip("/") + "/control/usage", timeout=10) as reply:
        return json.loads(reply.read())["answered"]


def warm_grok(config_path, xai_base, env, symbols=("SOL",)):
    """xai_base: the fake's root URL (no /v1)."""
    before = answered(xai_base)
    bot = LiveJarvis(["-c", str(config_path)], env=env)
    try:
        for symbol in symbols:
            bot.send_line("/grok " + symbol)
        # not the fake's count alone: it counts an answer before jarvis has it
        assert wait_for(lambda: all(f"(edited) Grok on {symbol}: " in bot.out()
                                    for symbol in symbols), timeout=30), bot.out() + bot.err()
        assert answered(xai_base) >= before + len(symbols)
        bot.close_stdin()
        code, _, err = bot.wait(timeout=60)  # EOF
        assert code == 0, err
    finally:
        bot.kill()
