"""Service versions through the real host: a consumer built against the old
service headers (tests/plugins/service_v1_user.c, compiled with the frozen
copies in tests/fixtures/svc-1/) still gets answers from today's sentiment
and grok_weighting through the version 1 members, and they agree with what
the new members give the plugins moved to them (/sentiment)."""
import os
import pathlib
import re
import shutil

import pytest

from conftest import REPO, built_plugin_dir, run_console, write_config
import conftest

LEXICON = REPO / "plugins" / "sentiment" / "lexicon.txt"
V1_USER = pathlib.Path(conftest.test_plugin_dir()) / "service_v1_user.so"
PROVIDERS = ("sentiment", "grok_weighting")

pytestmark = pytest.mark.skipif(
    not V1_USER.exists() or not all(
        (pathlib.Path(built_plugin_dir()) / f"{name}.so").exists() for name in PROVIDERS),
    reason="the providers or the version 1 consumer are not built")


def plugin_dir(workdir, names):
    directory = pathlib.Path(workdir) / "plugins"
    directory.mkdir(mode=0o700)
    for name in names:
        source = V1_USER if name == "service_v1_user" else \
            pathlib.Path(built_plugin_dir()) / f"{name}.so"
        shutil.copy(source, directory / f"{name}.so")
        os.chmod(directory / f"{name}.so", 0o700)
    return directory


def run(workdir, names, lines):
    path = write_config(workdir, {
        "plugins": {"dir": str(plugin_dir(workdir, names)), "enable": ", ".join(names)},
        "sentiment": {"lexicon": str(LEXICON)}})
    result = run_console(path, "".join(line + "\n" for line in lines))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_version_1_consumer_is_answered_by_todays_providers(workdir):
    stdout = run(workdir, ("sentiment", "grok_weighting", "service_v1_user"), [
        "$SOL to the moon",
        "/sentiment SOL is going to the moon 🚀",
        "/v1_score SOL is going to the moon 🚀",
        "/v1_snapshot SOL",
        "/v1_snapshot ZZQX",
        "/v1_combine",
        "/v1_grok SOL",
    ])
    new_score = re.search(r"Sentiment: ([+-]\d\.\d{3})", stdout)
    old_score = re.search(r"v1 score_text: ok ([+-]\d\.\d{3})", stdout)
    assert new_score and old_score, stdout
    assert old_score.group(1) == new_score.group(1)
    assert float(old_score.group(1)) > 0.5
    assert "v1 token_snapshot SOL: ok samples=1 window_s=86400" in stdout
    assert "v1 token_snapshot ZZQX: not found samples=0 window_s=0" in stdout
    # all the weight on the one present component, and the version 2 label fields filled
    assert "v1 combine: ok composite=+0.500 weight=1.00/0.00 label=bullish used=1" in stdout
    assert ("v1 grok_rate SOL: not found available=0 "
            "reason=no API key configured (set XAI_API_KEY)") in stdout


def test_without_providers_the_version_1_consumer_gets_no_service(workdir):
    stdout = run(workdir, ("service_v1_user",), ["/v1_score good", "/v1_combine"])
    assert "v1 score_text: no service" in stdout
    assert "v1 combine: no service" in stdout
