"""Grok ratings come from a background refresh (issue 16), so a test that
needs a rating in its first answer rates the token first: a console jarvis
with the same plugins.ini asks /grok for each symbol, waits until the fake
xAI answered them, and exits; the ratings are then in the state dir's store."""
import json
import urllib.request

from conftest import JarvisProcess, wait_for


def answered(xai_base):
    with urllib.request.urlopen(xai_base.rstrip("/") + "/control/usage", timeout=10) as reply:
        return json.loads(reply.read())["answered"]


def warm_grok(config_path, xai_base, env, symbols=("SOL",)):
    """xai_base: the fake's root URL (no /v1)."""
    before = answered(xai_base)
    bot = JarvisProcess(["-c", str(config_path)], env=env)
    try:
        for symbol in symbols:
            bot.send_line("/grok " + symbol)
        assert wait_for(lambda: answered(xai_base) >= before + len(symbols), timeout=30)
        code, _, err = bot.wait(timeout=60)  # EOF; the rating in flight is stored first
        assert code == 0, err
    finally:
        bot.kill()
